"""Client mode: `jingzhun --server URL [--as CODE] <command> …` runs the command on the server.

The command line is parsed here first (usage errors, dates and missing files are reported at once,
as in direct mode); then the command line, without the global options, goes to the server's
`POST /api/v1/cli` with the content of every file or folder the command reads, and the person's
token. The server runs the same click command with the token's person, and answers with the
command's output, its exit code and the files it wrote (`--html`, `--codes-file`), which are
written here. This machine needs no database, no data home and no rules of its own.
"""
from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from engine.domain.errors import BadInput, JingzhunError, RuleViolation

from .context import Ctx, cli_text
from .printing import piped

GLOBAL_WITH_VALUE = ("--home", "--db", "--db-file", "--lang", "--as", "--server")
TIMEOUT = 900        # seconds: `audit verify` of a large county takes minutes
MAX_UPLOAD = 64 * 1024 * 1024      # bytes of all files one command sends (the server refuses more)
# Commands that build or run a server, or set one's own secret: never run for a client.
SERVER_ONLY = {("init",), ("demo",), ("serve",), ("config", "install"), ("scheduler", "run"), ("activate",), ("password",)}


class Refused(JingzhunError):
    """The server's refusal, already in the reader's language."""

    def __init__(self, code: str, message: str, exit_code: int):
        super().__init__(code)
        self.message, self.exit_code = message, exit_code

    def render(self, labels: Any = None, lang: str = "zh") -> str:
        return self.message


def client_ctx(click_ctx: click.Context, server: str, lang: str, as_code: str | None, argv: list[str]) -> Ctx:
    """The Ctx of client mode (`argv`: the whole command line); a data home or a database named
    here is a usage error."""
    for name, option in (("home", "--home"), ("db", "--db"), ("db_file", "--db-file")):
        if click_ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE:
            raise click.UsageError(cli_text("cli.remote.local_option", lang, option=option))
    if not server.startswith(("http://", "https://")):
        raise click.UsageError(cli_text("cli.remote.bad_url", lang, url=server))
    sent = command_argv(list(argv))
    return Ctx(None, None, lang, as_code, server=server.rstrip("/"),
               runner=lambda ctx, command_ctx: run_remote(ctx, command_ctx, sent))


def command_argv(argv: list[str]) -> list[str]:
    """The command line without the global options (they come before the command's name)."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in GLOBAL_WITH_VALUE else 1
    return argv[i:]


def run_remote(ctx: Ctx, click_ctx: click.Context, argv: list[str]):
    """Send the parsed command to the server, print its output, write its files; exit as it did."""
    refuse_server_only(command_path(click_ctx.find_root().command, argv))
    refuse_too_big(click_ctx, argv)
    argv = argv + _defaults_beside(click_ctx, argv)
    files = list(file_entries(click_ctx, argv))
    answer = post(ctx, {"argv": argv, "lang": ctx.lang, "piped": piped(), "files": [f for f, _ in files]})
    written = {f["index"]: local for f, local in files}
    for out in answer.get("files", []):
        if out.get("folder") is not None:
            save_folder(written[out["index"]], out["folder"])
        else:
            save(written[out["index"]], base64.b64decode(out["data"]))
    click.echo(answer.get("stdout", ""), nl=False)
    click.echo(answer.get("stderr", ""), nl=False, err=True)
    raise click.exceptions.Exit(int(answer.get("exit", 1)))


def _defaults_beside(click_ctx: click.Context, argv: list[str]) -> list[str]:
    """A file the command writes beside another by default (`BesideOption`) and not given: named on the
    command line as it is here, so the server writes it for the client and it comes back here."""
    from .options import BesideOption
    added: list[str] = []
    for param in click_ctx.command.params:
        value = click_ctx.params.get(param.name)
        if isinstance(param, BesideOption) and value is not None and locate(click_ctx.command, argv, param, value) is None:
            added += [max(param.opts, key=len), value]
    return added


def command_path(cli: click.Group, argv: list[str]) -> tuple[str, ...]:
    """The names of the command and its groups in `cli`: ("case", "list")."""
    command: click.Command = cli
    path: list[str] = []
    for token in argv:
        if not isinstance(command, click.Group) or token not in command.commands:
            break
        path.append(token)
        command = command.commands[token]
    return tuple(path)


def refuse_server_only(path: tuple[str, ...]) -> None:
    """A command that builds or runs a server is never run for a client: refused by the client before
    any file is read, and by the server."""
    if path in SERVER_ONLY or path[:1] in SERVER_ONLY:
        raise RuleViolation("remote.server_only", command=" ".join(path))


def refuse_too_big(click_ctx: click.Context, argv: list[str]) -> None:
    """Files too big to send are refused here, before any is read: a city's registry is imported on
    the server itself (or sent a county or township at a time)."""
    size = 0
    for param, _found, local in _given_paths(click_ctx, argv):
        if _written(param):
            continue
        if local.is_file():
            size += local.stat().st_size
        elif local.is_dir():
            size += sum(f.stat().st_size for f in local.rglob("*") if f.is_file())
    if size > MAX_UPLOAD:
        raise BadInput("remote.too_big_to_send", mb=MAX_UPLOAD // (1024 * 1024), size=-(-size // (1024 * 1024)))


def file_entries(click_ctx: click.Context, argv: list[str]):
    """(entry, local path) for every file or folder parameter given: its place in `argv`, and its
    content when it exists here (read by the command) or `output` when the command may write it."""
    for param, found, local in _given_paths(click_ctx, argv):
        yield entry_of(param, found, local), local


def _given_paths(click_ctx: click.Context, argv: list[str]):
    """(parameter, its place in `argv`, local path) of every file or folder parameter given."""
    command = click_ctx.command
    for param in command.params:
        if not isinstance(param.type, click.Path):
            continue
        values = click_ctx.params.get(param.name)
        for value in values if isinstance(values, (tuple, list)) else [values]:
            if value is None:
                continue
            found = locate(command, argv, param, str(value))
            if found is not None:
                yield param, found, Path(value)


def locate(command: click.Command, argv: list[str], param: click.Parameter, value: str) -> tuple[int, str] | None:
    """Where `value` of `param` stands in `argv`: (index, the `--opt=` prefix or "")."""
    valued = {o for p in command.params if isinstance(p, click.Option) and not p.is_flag for o in p.opts}
    for i, token in enumerate(argv):
        for opt in param.opts:
            if token == f"{opt}={value}" and isinstance(param, click.Option):
                return i, f"{opt}="
        before = argv[i - 1] if i else ""
        if token == value and (before in param.opts if isinstance(param, click.Option) else before not in valued):
            return i, ""
    return None


def entry_of(param: click.Parameter, found: tuple[int, str], local: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": found[0], "prefix": found[1], "name": local.name or "file",
                             "output": _written(param)}
    if entry["output"]:
        return entry        # what a file the command writes holds now is not sent
    if local.is_file():
        entry["data"] = base64.b64encode(local.read_bytes()).decode()
    elif local.is_dir():
        entry["folder"] = folder_files(local)
    return entry


def folder_files(folder: Path) -> list[dict[str, str]]:
    """A folder's files as sent either way: path inside it, content in base64."""
    return [{"path": str(f.relative_to(folder)), "data": base64.b64encode(f.read_bytes()).decode()}
            for f in sorted(folder.rglob("*")) if f.is_file()]


def inside(folder: Path, relative: str) -> Path:
    """Where a sent folder's file goes under `folder` (its parents made, 0700); a path that would
    leave the folder is refused."""
    target = (folder / relative).resolve()
    if folder.resolve() not in target.parents:
        raise BadInput("remote.bad_file", index=relative)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return target


def _written(param: click.Parameter) -> bool:
    """A file or folder the command writes (`--csv`, `--html`, `--skip-bad`; `report --csv DIR`, declared
    writable): one it reads must exist."""
    return not param.type.exists and (not param.type.dir_okay or param.type.writable)


def save_folder(folder: Path, files: list[dict[str, str]]) -> None:
    """A folder the command wrote on the server, file by file, here (0700, files 0600); a path that
    would leave the folder is refused."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for f in files:
        save(inside(folder, f["path"]), base64.b64decode(f["data"]))


def save(path: Path, data: bytes) -> None:
    """A file the command wrote on the server, written here readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def post(ctx: Ctx, body: dict[str, Any], path: str = "/api/v1/cli", token: bool = True) -> dict[str, Any]:
    """The server's answer; its refusal (401, 403, 404, 409, 4xx) raised in the reader's language.
    `token` False: a call made before the person has one (`activate`)."""
    code = ctx._require_person()
    headers = {"Content-Type": "application/json", "Accept-Language": ctx.lang, "X-Jingzhun-Person": code}
    if token:
        headers["Authorization"] = f"Bearer {ctx._token() or ''}"
    request = urllib.request.Request(f"{ctx.server}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return json.loads(answer.read().decode())
    except urllib.error.HTTPError as exc:
        raise refusal(ctx, exc) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise BadInput("remote.unreachable", url=ctx.server, problem=str(reason)) from None


def refusal(ctx: Ctx, exc: urllib.error.HTTPError) -> JingzhunError:
    try:
        data = json.loads(exc.read().decode())
    except (ValueError, OSError):
        data = {}
    if exc.code >= 500 or not isinstance(data, dict):
        return Refused("server.error", cli_text("cli.remote.server_error", ctx.lang, status=exc.code), 1)
    code = str(data.get("error") or exc.code)
    message = data.get("message") or ", ".join(data.get("fields") or []) or code
    return Refused(code, str(message), 2 if exc.code in (400, 413, 422) else 1)
