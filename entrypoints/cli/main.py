"""The `jingzhun` group: global options, the data home, and how errors are shown.

Exit codes: 0 done; 1 refused by a rule (the rule is named); 2 bad usage or input.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from config.catalogue import ConfigError
from engine.adapters.collector import started, starting
from engine.domain.errors import BadInput, JingzhunError

from . import alerts, audit, backup, cases, credentials, exports, households, org, projects, serve, sheets  # noqa: F401  (sheets adds to evidence)
from . import report  # noqa: E402  (after households: its `report` group takes `report coverage` in)
from . import workflows_cmd
from .context import Ctx, cli_text, commands_from, packaged_config
from .printing import err, visible
from . import helptext
from .helptext import group

_opened: list[Ctx] = []        # the command's context, so main() can close its database connections
_argv: list[str] = []          # the command line, for client mode (--server) to send
DB_ERRORS = ("ArgumentError", "NoSuchModuleError", "OperationalError", "InterfaceError")   # of sqlalchemy.exc
MAKES_ITS_HOME = ("init", "demo")


@group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=lambda c, _p, v: _version(c, v))
@click.option("--home", envvar="JINGZHUN_HOME", show_envvar=True)
@click.option("--db", envvar="JINGZHUN_DB", show_envvar=True)
@click.option("--db-file", "db_file", envvar="JINGZHUN_DB_FILE", type=click.Path(dir_okay=False), show_envvar=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", envvar="JINGZHUN_LANG",
              show_default=True, show_envvar=True)
@click.option("--as", "as_code", envvar="JINGZHUN_AS", show_envvar=True)
@click.option("--server", envvar="JINGZHUN_SERVER", show_envvar=True)
@click.pass_context
def cli(click_ctx, home, db, db_file, lang, as_code, server):
    if isinstance(click_ctx.obj, Ctx):     # set by the server running a client's command (web/api_cli.py)
        return
    if server:
        from .remote import client_ctx
        click_ctx.obj = client_ctx(click_ctx, server, lang, as_code, _argv or sys.argv[1:])
    else:
        db = _db_url(click_ctx, db, db_file)
        if home is None and db is None and click_ctx.invoked_subcommand not in MAKES_ITS_HOME:
            home = demo_home(lang)
        click_ctx.obj = Ctx(home, db, lang, as_code)
    _opened[:] = [click_ctx.obj]


def _version(click_ctx, asked: bool) -> None:
    if asked and not click_ctx.resilient_parsing:
        from importlib.metadata import version
        click.echo(helptext.said("help.word.version", version=version("jingzhun")))
        click_ctx.exit()


def _db_url(click_ctx, db: str | None, db_file: str | None) -> str | None:
    """--db, else the URL in --db-file; a password given on the command line is refused (`ps` shows
    argv to every local user), and an option on the command line wins over the environment."""
    typed = click_ctx.get_parameter_source("db") == click.core.ParameterSource.COMMANDLINE
    if typed and db:
        from engine.adapters.db import has_password
        if has_password(db):
            raise BadInput("db.password_in_argv")
    if db_file and (db is None or not typed and
                    click_ctx.get_parameter_source("db_file") == click.core.ParameterSource.COMMANDLINE):
        from engine.adapters.db import url_from_file
        return url_from_file(db_file)
    return db


def demo_home(lang: str) -> str | None:
    """./jingzhun-demo when it is the only home here (after `jingzhun demo`); said on stderr the
    first time it is used (a mark in the demo home remembers it)."""
    found = Path("jingzhun-demo").resolve()
    if Path("jingzhun-data").exists() or not found.is_dir():
        return None
    mark = found / ".home-announced"
    if not mark.exists():
        err.print(cli_text("cli.using_demo_home", lang, home=found))
        mark.touch()
    return str(found)


for module in (org, credentials, households, cases, audit, projects, alerts, serve, exports, report, backup):
    for command in module.COMMANDS:
        cli.add_command(command)
cli.add_command(workflows_cmd.workflow)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    starting()      # the collector held back while the command imports its parts, until its application starts
    try:
        return _run(args)
    finally:
        for ctx in _opened:
            ctx.close()
        _opened.clear()
        started()


def _run(argv: list[str]) -> int:
    _argv[:] = argv
    return invoke(argv)


def invoke(argv: list[str], obj: Ctx | None = None, lang: str | None = None, labels: Any = None,
           remote: bool = False) -> int:
    """One command line run, and its exit code; an error is shown as the user should see it. The
    CLI's own path, and the server's for a client's command (`obj` its Ctx, `lang` the client's
    language, `labels` the server's catalogue, `remote` True)."""
    reading = helptext.shown_with(lang or _lang(argv))
    try:
        code = cli.main(args=argv, prog_name="jingzhun", standalone_mode=False, obj=obj)
        return code if isinstance(code, int) else 0   # a command's own Exit(n) comes back as n
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:        # a command line click could not parse: told in our words
        from .usage import usage_text
        return _report(argv, "error", "usage", usage_text(exc, lang or _lang(argv), argv, cli), 2, lang)
    except Exception as exc:
        if remote:
            exc = said_by_server(out_of_reach(exc, argv), argv)
        exc = _with_names(exc, obj or (_opened[0] if _opened else None), lang or _lang(argv))
        shown = _shown(exc, argv, lang, labels, remote)
        if shown is None:
            raise
        return _report(argv, *shown, lang)
    finally:
        helptext.READER_LANG.reset(reading)


def out_of_reach(exc: Exception, argv: list[str]) -> Exception:
    """On the server, a refusal for want of jurisdiction names no region the client did not give: a
    case, person or notice out of reach must not tell where it is (the JSON API's routes answer such a
    case as missing). A region the command line named is told, as it is in direct mode."""
    if isinstance(exc, JingzhunError) and exc.code == "auth.jurisdiction" \
            and str(exc.params.get("region")) not in _regions_given(argv):
        return type(exc)("auth.out_of_reach", person=exc.params.get("person"), action=exc.params.get("action"))
    return exc


def _with_names(exc: Exception, ctx: Ctx | None, lang: str) -> Exception:
    """A refusal's region and person codes with their names (洋塘村（360730100202）), as the pages
    show them: looked up only where the command opened the database already."""
    app = getattr(ctx, "_app", None)
    if not isinstance(exc, JingzhunError) or app is None:
        return exc
    from engine.reads.queries import named_error
    try:
        return named_error(app, exc, lang)
    except Exception:           # noqa: BLE001 — the refusal is shown as it is rather than not at all
        return exc


def said_by_server(exc: Exception, argv: list[str]) -> Exception:
    """On the server, a file of its own it could not write (every file a client's command writes there is
    the server's) said as the server's, never with its path (errors.said_by_server); logged by its kind."""
    from engine.domain.errors import said_by_server as told
    said = told(exc)
    if said is not exc:
        import errno
        import logging
        from .remote import command_path
        kind = getattr(exc, "code", None) or errno.errorcode.get(getattr(exc, "errno", None) or 0, type(exc).__name__)
        logging.getLogger("jingzhun.web").error("the server cannot write a file of its own (%s) running a "
                                                "client's `%s`", kind, " ".join(command_path(cli, argv)))
    return said


REGION_OPTIONS = ("--region", "--village", "--site", "--township")


def _regions_given(argv: list[str]) -> set[str]:
    """The regions a command line names as regions (an option's value, whole): a code inside free text
    (a visit's findings holding every village's code) is not one, or any refusal would confirm it."""
    given = {value for option, value in zip(argv, argv[1:]) if option in REGION_OPTIONS}
    return given | {a.split("=", 1)[1] for a in argv if a.split("=", 1)[0] in REGION_OPTIONS and "=" in a}


def _shown(exc: Exception, argv: list[str], lang: str | None = None,
           labels: Any = None, remote: bool = False) -> tuple[str, str, str, int] | None:
    """(kind, code, message, exit code) of an error the user should see, or None for a crash; `remote`:
    run by the server for a client, who is told of a database failure without the server's URL."""
    lang = lang or _lang(argv)
    if isinstance(exc, click.exceptions.Abort):
        return "", "aborted", cli_text("cli.aborted", lang), 2
    if isinstance(exc, ConfigError):
        return "", "config", cli_text("cli.config_error", lang, problem=exc.render(lang=lang)), 2
    if _db_failed(exc):
        if remote:      # the server's database: its URL and the driver's words stay in the server's log
            import logging
            logging.getLogger(__name__).error("database unusable (%s) running a client's command", type(exc).__name__)
            return "error", "db.unusable", (labels or packaged_config()).label("web.error.database", lang), 2
        return "error", "db.unusable", _db_error(exc, argv).render(packaged_config(), lang), 2
    if isinstance(exc, JingzhunError):
        kind = "refused" if exc.exit_code == 1 else "error"
        return kind, exc.code, exc.render(labels if labels is not None else _labels(), lang), exc.exit_code
    return None


def _db_failed(exc: Exception) -> bool:
    """A database that cannot be used (sqlalchemy is imported here only once a command has used it)."""
    if isinstance(exc, ModuleNotFoundError):
        return True
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, tuple(getattr(sa_exc, name) for name in DB_ERRORS))


def _report(argv: list[str], kind: str, code: str, message: str, exit_code: int, lang: str | None = None) -> int:
    """The error on stderr: `kind [code]: message`, or one JSON object when --json was given."""
    if "--json" in argv:
        err.print(json.dumps({"error": code, "message": message, "exit": exit_code}, ensure_ascii=False))
    else:
        text = cli_text(f"cli.{kind}_line", lang or _lang(argv), code=code, message=message) if kind else message
        err.print(visible(text))        # a name in a message shows its controls as text
    return exit_code


def _db_error(exc: Exception, argv: list[str]) -> JingzhunError:
    from engine.adapters.db import hidden, without_passwords
    url = (_opened[0].db if _opened else None) or os.environ.get("JINGZHUN_DB") or \
        next((a for a in argv if "://" in a), "-")
    problem = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return JingzhunError("db.unusable", url=hidden(url), problem=without_passwords(problem.replace(url, hidden(url))))


def _lang(argv: list[str]) -> str:
    """The language asked for: the --lang option when it was parsed, else JINGZHUN_LANG, else zh."""
    if _opened:
        return _opened[0].lang
    global_part = argv[:commands_from(argv)]     # (`report --lang en` is the language of the files it writes)
    given = [global_part[i + 1] for i, a in enumerate(global_part[:-1]) if a == "--lang"] + \
        [a.partition("=")[2] for a in global_part if a.startswith("--lang=")]
    return next((v for v in given if v in ("zh", "en")), os.environ.get("JINGZHUN_LANG", "zh"))




def _labels():
    try:
        return packaged_config()
    except ConfigError:
        return None
