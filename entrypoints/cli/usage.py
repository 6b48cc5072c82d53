"""A command line click could not parse, told in the reader's language.

click says what is wrong in English ("Error: Invalid value for 'FILE': File 'x.csv' does not
exist."). Each kind of parsing error it raises is told here from the exception's own fields (the
parameter, its type, the option or command named) through our catalogue, with the command's help
to run; what no kind here covers keeps click's own words, after our "the command line is wrong".
"""
from __future__ import annotations

import os
import re

import click

from .context import cli_text

_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")     # a value as click quotes it (repr)


def usage_text(exc: click.ClickException, lang: str, argv: list[str] | None = None, root: click.Command | None = None) -> str:
    """What is wrong with the command line, and where its help is (the command's: click's parser names
    none for an option's missing value, so it is found from the command line given)."""
    said = _said(exc, lang)
    context = getattr(exc, "ctx", None)
    command = context.command_path if context is not None else _command_path(argv or [], root)
    return cli_text("cli.usage.said", lang, problem=said, command=command)


def _command_path(argv: list[str], root: click.Command | None) -> str:
    """`jingzhun export` for `jingzhun --home H export members --csv`: the commands the line names."""
    from .context import commands_from
    from .remote import command_path
    named = command_path(root, argv[commands_from(argv):]) if isinstance(root, click.Group) else ()
    return " ".join(("jingzhun", *named))


# click's parser's own words for what it raises as a plain UsageError, told through our catalogue
_PARSER_SAID = ((re.compile(r"Got unexpected extra arguments? \((.*)\)", re.S), "cli.usage.extra", "args"),
                (re.compile(r"Option '(.+)' requires (?:an argument|\d+ arguments)\."), "cli.usage.needs_value", "name"),
                (re.compile(r"Option '(.+)' does not take a value\."), "cli.usage.takes_no_value", "name"),
                (re.compile(r"Missing command\."), "cli.usage.missing_command", None))


def _said(exc: click.ClickException, lang: str) -> str:
    param = getattr(exc, "param", None)
    name = _name(param) if param is not None else ""
    if isinstance(exc, click.MissingParameter):
        kind = "option" if isinstance(param, click.Option) else "argument"
        return cli_text(f"cli.usage.missing_{kind}", lang, name=name)
    if isinstance(exc, click.NoSuchOption):
        maybe = ", ".join(exc.possibilities or ())
        return cli_text("cli.usage.no_option" + ("_maybe" if maybe else ""), lang, name=exc.option_name, maybe=maybe)
    if isinstance(exc, click.exceptions.NoSuchCommand):
        maybe = ", ".join(exc.possibilities or ())
        return cli_text("cli.usage.no_command" + ("_maybe" if maybe else ""), lang, name=exc.command_name,
                        maybe=maybe)
    if isinstance(exc, click.BadParameter) and param is not None:
        return _bad_value(exc, param, name, lang)
    message = exc.format_message()
    for pattern, key, field in _PARSER_SAID:
        if found := pattern.fullmatch(message):
            return cli_text(key, lang, **({field: found.group(1)} if field else {}))
    return cli_text("cli.usage.other", lang, problem=message)


def _bad_value(exc: click.BadParameter, param: click.Parameter, name: str, lang: str) -> str:
    kind = param.type
    value = _quoted(exc.message)
    if isinstance(kind, click.Path) and value is not None:
        if not os.path.exists(value):
            return cli_text("cli.usage.no_such_path", lang, name=name, path=value)
        if os.path.isdir(value) and not kind.dir_okay:
            return cli_text("cli.usage.is_folder", lang, name=name, path=value)
        if not os.path.isdir(value) and not kind.file_okay:
            return cli_text("cli.usage.is_file", lang, name=name, path=value)
        return cli_text("cli.usage.cannot_use_path", lang, name=name, path=value)
    if isinstance(kind, click.Choice):
        return cli_text("cli.usage.choose", lang, name=name, choices=", ".join(map(str, kind.choices)))
    if isinstance(kind, (click.IntRange, click.FloatRange)) and value is None:     # a number out of its range
        bounds = [f"{'≥' if kind.min is not None else ''}{kind.min if kind.min is not None else ''}",
                  f"{'≤' if kind.max is not None else ''}{kind.max if kind.max is not None else ''}"]
        return cli_text("cli.usage.range", lang, name=name, range=" ".join(b for b in bounds if b))
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        return cli_text("cli.usage.number", lang, name=name, value=value if value is not None else "")
    return cli_text("cli.usage.bad_value", lang, name=name, problem=exc.message)


def _name(param: click.Parameter) -> str:
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return param.human_readable_name


def _quoted(message: str) -> str | None:
    """The first value click quoted in its message (its repr), as it was given."""
    found = _QUOTED.search(message or "")
    if found is None:
        return None
    text = found.group(1) if found.group(1) is not None else found.group(2)
    return re.sub(r"\\(.)", r"\1", text)
