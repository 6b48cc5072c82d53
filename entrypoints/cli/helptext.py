"""The CLI's help (`--help`) in the reader's language, from the catalogue.

No command or option carries its help in the code: a command's text is the catalogue key
`help.cmd.<path>` (`help.cmd.household.import`; the group itself `help.cmd.jingzhun`), an option's
`help.opt.<path>.<name>`, else `help.opt.<name>` for an option that means the same in every command
(`--json`), and click's own words (usage, options, commands, default…) `help.word.*`. A command's line
in its group's list is its text's first sentence. Chinese is wrapped by its width on the terminal
(a Chinese character takes two columns), breaking between characters but never inside a Latin word
such as `--skip-bad`.

Every command of the tree is of these classes (`command`, `group`; tests/test_cli_help.py checks it).
"""
from __future__ import annotations

import contextvars
import inspect
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import click

from config.catalogue import LANGUAGES, PACKAGED

READER_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("reader_lang", default="zh")
ROOT = "jingzhun"


def _path(ctx: click.Context) -> str:
    """The command's path in its keys: `household.import`, the group itself `jingzhun`."""
    return ".".join(ctx.command_path.split()[1:] or [ROOT])


def command_key(path: str, name: str | None = None) -> str:
    """The key of the command at `path`, or of its subcommand `name`."""
    if name is None:
        return f"help.cmd.{path}"
    return f"help.cmd.{name}" if path == ROOT else f"help.cmd.{path}.{name}"


def option_name(param: click.Parameter, command: click.Command | None = None) -> str:
    """An option's name in its keys: its parameter's (click names its own --help option
    `_click_default_help`), and its spelling after it where two options set one parameter
    (`--approve` and `--reject`: `decision.approve`, `decision.reject`)."""
    if param.name == "_click_default_help":
        return "help"
    if command is not None and sum(p.name == param.name for p in command.params) > 1:
        return f"{param.name}.{max(param.opts, key=len).lstrip('-')}"
    return param.name


def option_keys(path: str, name: str) -> tuple[str, str]:
    """The keys an option's help may be under: its command's own, then the shared one."""
    return f"help.opt.{path}.{name}", f"help.opt.{name}"


def _text(key: str, lang: str, **params: Any) -> str:
    template = texts(lang).get(key, key)
    return template.format(**params) if params else template


def said(key: str, **params: Any) -> str:
    """A help text in the reader's language."""
    return _text(key, READER_LANG.get(), **params)


def _known(key: str) -> bool:
    return key in texts("zh")


@cache
def texts(lang: str) -> dict[str, str]:
    """The help texts of the packaged catalogue in one language (`help_*.po`). Read here, not through
    the configuration, so that help loads neither it nor Babel (tests/test_startup.py)."""
    folder = PACKAGED / "locale" / LANGUAGES.get(lang, "zh_CN") / "LC_MESSAGES"
    found: dict[str, str] = {}
    for path in sorted(folder.glob("help_*.po")):
        found.update(read_po(path))
    return found


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(.)")


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a gettext file as Babel writes it (no plurals or contexts), the header left out."""
    found: dict[str, str] = {}
    key: str | None = None
    field, parts = "", []

    def finish() -> None:
        if field == "msgstr" and key:
            found[key] = "".join(parts)

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith('"'):
            parts.append(_unquoted(line))
            continue
        if line.startswith("msgstr "):
            key, field, parts = "".join(parts), "msgstr", [_unquoted(line[7:])]
            continue
        finish()
        field, parts = ("msgid", [_unquoted(line[6:])]) if line.startswith("msgid ") else ("", [])
    finish()
    return found


def _unquoted(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text.strip()[1:-1])


def option_help(path: str, name: str, lang: str) -> str:
    return _text(_chosen(path, name), lang)


def command_help(key: str, lang: str) -> str:
    return inspect.cleandoc(_text(key, lang))


def first_sentence(text: str, limit: int, lang: str) -> str:
    """A command's line in its group's list: its help's first sentence, cut to `limit` columns."""
    if lang != "zh":
        return click.utils.make_default_short_help(text, limit)
    line = " ".join(text.split("\n\n")[0].split())
    for end in ("。", "："):
        line = line.split(end)[0]
    if width(line) <= limit:
        return line
    kept = ""
    for ch in line:
        if width(kept + ch) > limit - 1:
            break
        kept += ch
    return kept + "…"


def width(text: str) -> int:
    """Columns the text takes on a terminal."""
    return sum(2 if _wide(ch) else 1 for ch in text)


def wrap(text: str, columns: int, first: str = "", rest: str = "") -> list[str]:
    """One paragraph wrapped to `columns` by width on the terminal: Chinese may break between any
    two characters, a Latin word (an option, a file name) stays whole."""
    lines, line = [], first
    for token in tokens(" ".join(text.split())):
        if token == " " and line in (first, rest):
            continue
        if width(line) + width(token) > columns and line.strip():
            lines.append(line.rstrip())
            line = rest
            if token == " ":
                continue
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


CLOSING = "，。、；：）」』》！？…)]},.;:"     # never begins a line: kept with what comes before it
OPENING = "（「『《([{"                 # never ends a line: kept with what comes after it


def tokens(text: str) -> list[str]:
    """The pieces a line may break between: a Latin word, a space, or one wide character; a closing
    mark kept with the piece before it, an opening one with the piece after it."""
    raw: list[str] = []
    for ch in text:
        if ch != " " and not _wide(ch) and raw and raw[-1] != " " and not _wide(raw[-1][-1]):
            raw[-1] += ch            # a Latin word goes on
        else:
            raw.append(ch)
    found: list[str] = []
    for piece in raw:
        if found and (piece[0] in CLOSING or found[-1][-1] in OPENING) and found[-1] != " " and piece != " ":
            found[-1] += piece
        else:
            found.append(piece)
    return found


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


class Formatter(click.HelpFormatter):
    """click's layout; Chinese wrapped by its width."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            said = _text("help.word.usage", READER_LANG.get())
            prefix = said if said.endswith("：") else said + " "
        super().write_usage(prog, args, prefix)

    def write_heading(self, heading: str) -> None:
        colon = "：" if READER_LANG.get() == "zh" else ":"
        self.write(f"{'':>{self.current_indent}}{heading}{colon}\n")

    def write_text(self, text: str) -> None:
        if READER_LANG.get() != "zh":
            return super().write_text(text)
        indent = " " * self.current_indent
        for i, paragraph in enumerate(_paragraphs(text)):
            if i:
                self.write("\n")
            self.write("".join(line + "\n" for line in _block(paragraph, self.width, indent, indent)))

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        if READER_LANG.get() != "zh":
            return super().write_dl(rows, col_max, col_spacing)
        rows = list(rows)
        first_col = min(max((click.formatting.term_len(a) for a, _ in rows), default=0), col_max) + col_spacing
        for term, text in rows:
            self.write(f"{'':>{self.current_indent}}{term}")
            if not text:
                self.write("\n")
                continue
            if click.formatting.term_len(term) <= first_col - col_spacing:
                self.write(" " * (first_col - click.formatting.term_len(term)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            indent = " " * (first_col + self.current_indent)
            columns = max(self.width - first_col - 2, 10) + len(indent)
            lines = [line for p in _paragraphs(text) for line in _block(p, columns, indent, indent)]
            self.write("\n".join(line[len(indent):] if i == 0 else line for i, line in enumerate(lines)) + "\n")


def _paragraphs(text: str) -> list[str]:
    return [p for p in inspect.cleandoc(text).split("\n\n") if p.strip()]


def _block(paragraph: str, columns: int, first: str, rest: str) -> list[str]:
    """A paragraph wrapped; one that begins with click's `\\b` keeps its own lines."""
    if paragraph.startswith("\b"):
        return [first + line for line in paragraph.split("\n")[1:]]
    return wrap(paragraph, columns, first, rest)


class Context(click.Context):
    formatter_class = Formatter


class Command(click.Command):
    """A command whose help is read from the catalogue in the reader's language."""
    context_class = Context

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        text = command_help(command_key(_path(ctx)), READER_LANG.get()).partition("\f")[0]
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lang, path = READER_LANG.get(), _path(ctx)
        rows = [_option_row(param, ctx, path, lang) for param in self.get_params(ctx)
                if isinstance(param, click.Option) and not param.hidden]
        if rows:
            with formatter.section(_text("help.word.options", lang)):
                formatter.write_dl(rows)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list:
        """Completions, each with its help from the catalogue (zsh and fish show it beside the word)."""
        found = super().shell_complete(ctx, incomplete)
        lang, path = READER_LANG.get(), _path(ctx)
        said = {name: option_help(path, option_name(param, self), lang) for param in self.get_params(ctx)
                if isinstance(param, click.Option) for name in (*param.opts, *param.secondary_opts)}
        if isinstance(self, click.Group):
            said.update({name: first_sentence(command_help(command_key(path, name), lang), 45, lang)
                         for name in self.list_commands(ctx)})
        for item in found:
            item.help = said.get(item.value, item.help)
        return found

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lang, path = READER_LANG.get(), _path(ctx)
        names = [n for n in self.list_commands(ctx) if not self.get_command(ctx, n).hidden]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [(n, first_sentence(command_help(command_key(path, n), lang), limit, lang)) for n in names]
        with formatter.section(_text("help.word.commands", lang)):
            formatter.write_dl(rows)


def _option_row(param: click.Option, ctx: click.Context, path: str, lang: str) -> tuple[str, str]:
    said = option_help(path, option_name(param, ctx.command), lang)
    extra = param.get_help_extra(ctx)
    items = []
    if "envvars" in extra:
        items.append(_text("help.word.env", lang, var=", ".join(extra["envvars"])))
    if "default" in extra:
        items.append(_text("help.word.default", lang, default=extra["default"]))
    if "range" in extra:
        items.append(extra["range"])
    if "required" in extra:
        items.append(_text("help.word.required", lang))
    if items:
        joined = ("；" if lang == "zh" else "; ").join(items)
        said = f"{said}  [{joined}]" if said else f"[{joined}]"
    return param.get_help_spec(ctx), said


class Group(Command, click.Group):
    """A group of such commands: its subcommands and subgroups are of these classes too."""
    command_class = Command
    group_class = type


def command(*args: Any, **kwargs: Any):
    return click.command(*args, cls=Command, **kwargs)


def group(*args: Any, **kwargs: Any):
    return click.group(*args, cls=Group, **kwargs)


def shown_with(lang: str):
    """Set the reader's language for the help of one command line; a token to reset it."""
    return READER_LANG.set(lang)


def every_command(root: click.Group, path: tuple[str, ...] = ()):
    """(path, command) of every command in the tree, the root first."""
    yield path, root
    for name, sub in getattr(root, "commands", {}).items():
        yield from every_command(sub, path + (name,))


def texts_needed(root: click.Group) -> list[str]:
    """Every catalogue key the help of the tree reads (an option's: its own or the shared one)."""
    keys = []
    for path, cmd in every_command(root):
        dotted = ".".join(path or (ROOT,))
        keys.append(command_key(dotted))
        options = [*cmd.params, cmd.get_help_option(click.Context(cmd))]
        keys += [_chosen(dotted, option_name(p, cmd)) for p in options if isinstance(p, click.Option) and not p.hidden]
    return keys


def _chosen(path: str, name: str) -> str:
    own, shared = option_keys(path, name)
    return own if _known(own) else shared

