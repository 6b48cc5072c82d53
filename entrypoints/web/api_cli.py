"""`POST /api/v1/cli`: a CLI command run by the server for `jingzhun --server URL …` (the client).

The same click command as in direct mode runs here, in the request's thread, with the server's App
and the person of the API token (never anybody else: the Ctx is built from the token's actor and
the command line may not carry the global options). Files the command reads come with the request
and are put in a private temporary folder (0700, files 0600, removed after); every file or folder
parameter must name one of them, so a client can neither read nor write the server's own files.
Files the command writes there (`--html`, `--codes-file`) go back in the answer.
"""
from __future__ import annotations

import base64
import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal

import click
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from engine.domain.errors import AuthError, BadInput
from entrypoints.cli.remote import MAX_UPLOAD, command_path, folder_files, inside, refuse_server_only

from .api_capture import captured
from .api_common import token_reader
from .deps import Reader

router = APIRouter(prefix="/api/v1", tags=["cli"])
# A command's body: its files in base64 (4 bytes for 3) and the command line, refused (413) by
# FastAPI before it is read whole.
CLI_BODY_MAX = MAX_UPLOAD // 3 * 4 + 1024 * 1024


class FolderFile(BaseModel):
    path: str = Field(description="Path inside the folder.")
    data: str = Field(description="Content, base64.")


class SentFile(BaseModel):
    index: int = Field(description="Position in `argv` of the file or folder parameter's value.")
    prefix: str = Field("", description="`--option=` when the value was given in that form.")
    name: str = Field(description="The file's name (evidence keeps it).")
    data: str | None = Field(None, description="The file's content, base64 (a file the command reads).")
    folder: list[FolderFile] | None = Field(None, description="A folder's files (a folder the command reads).")
    output: bool = Field(False, description="The command may write this file: it comes back in the answer.")


class CliRequest(BaseModel):
    argv: list[str] = Field(description="The command line after `jingzhun` and its global options.")
    lang: Literal["zh", "en"] = "zh"
    piped: bool = Field(False, description="The client's output goes to a file or a pipe (no closing counts).")
    files: list[SentFile] = []


class ReturnedFile(BaseModel):
    index: int
    data: str | None = Field(None, description="Content, base64 (a file).")
    folder: list[FolderFile] | None = Field(None, description="A folder's files (a folder the command wrote).")


class CliAnswer(BaseModel):
    exit: int = Field(description="0 done; 1 refused by a rule; 2 bad usage or input.")
    stdout: str
    stderr: str
    files: list[ReturnedFile] = []


@router.post("/cli", response_model=CliAnswer, summary="Run a CLI command (what `jingzhun --server` sends)",
             max_body_size=CLI_BODY_MAX)
def run_cli(body: CliRequest, request: Request, reader: Reader = Depends(token_reader)) -> CliAnswer:
    from entrypoints.cli.main import cli
    path = command_path(cli, body.argv)
    if body.argv and body.argv[0].startswith("-"):
        raise BadInput("remote.global_option", option=body.argv[0])
    refuse_server_only(path)
    folder = Path(tempfile.mkdtemp(prefix="jz-cli-"))
    try:
        argv, placed = place_files(folder, body)
        check_paths(path, argv, set(placed.values()))
        code, out, err = execute(reader, argv, body)
        back = [returned(i, p) for i, p in placed.items() if _is_output(body, i) and p.exists()]
        local = {str(p): body.argv[i].removeprefix(_prefix(body, i)) for i, p in placed.items()}
        return CliAnswer(exit=code, stdout=_local_paths(out, local), stderr=_local_paths(err, local), files=back)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def returned(index: int, path: Path) -> ReturnedFile:
    """A file or folder the command wrote, to go back to the client."""
    if path.is_file():
        return ReturnedFile(index=index, data=base64.b64encode(path.read_bytes()).decode())
    return ReturnedFile(index=index, folder=[FolderFile(**f) for f in folder_files(path)])


def place_files(folder: Path, body: CliRequest) -> tuple[list[str], dict[int, Path]]:
    """The sent files written under `folder`; the command line naming them instead of the client's."""
    argv, placed, size = list(body.argv), {}, 0
    for n, sent in enumerate(body.files):
        if not 0 <= sent.index < len(argv) or not argv[sent.index].startswith(sent.prefix):
            raise BadInput("remote.bad_file", index=sent.index)
        target = folder / str(n) / (Path(sent.name).name or "file")
        target.parent.mkdir(mode=0o700)
        size += _write(target, sent)
        if size > MAX_UPLOAD:
            raise BadInput("remote.too_big", mb=MAX_UPLOAD // (1024 * 1024))
        argv[sent.index] = sent.prefix + str(target)
        placed[sent.index] = target
    return argv, placed


def _write(target: Path, sent: SentFile) -> int:
    if sent.folder is not None:
        target.mkdir(mode=0o700)
        return sum(_private(inside(target, f.path), _decoded(f.data)) for f in sent.folder)
    return _private(target, _decoded(sent.data)) if sent.data is not None else 0


def _decoded(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except ValueError:
        raise BadInput("remote.bad_file", index="base64") from None


def _private(path: Path, data: bytes) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return len(data)


def check_paths(path: tuple[str, ...], argv: list[str], placed: set[Path]) -> None:
    """Every file or folder parameter of the command names a file sent with it (read from the
    command line as click will, before click converts anything: no server path is ever looked at)."""
    from entrypoints.cli.main import cli
    command: click.Command = cli
    for name in path:
        command = command.commands[name]     # type: ignore[attr-defined]
    if isinstance(command, click.Group):
        return
    try:
        given, _, _ = command.make_parser(click.Context(command, info_name=path[-1])).parse_args(argv[len(path):])
    except click.UsageError:
        return       # click will say what is wrong, before it looks at any value
    allowed = {str(p) for p in placed}
    for param in command.params:
        values = given.get(param.name)
        values = values if isinstance(values, (list, tuple)) else [values]
        if isinstance(param.type, click.Path) and any(v is not None and v not in allowed for v in values):
            raise AuthError("remote.path_not_sent", option=param.opts[0] if param.opts else str(param.name))


def execute(reader: Reader, argv: list[str], body: CliRequest) -> tuple[int, str, str]:
    """Run the command as the token's person; (exit code, stdout, stderr) as in direct mode."""
    from entrypoints.cli.context import Ctx
    from entrypoints.cli.main import invoke
    ctx = Ctx(None, None, body.lang, reader.actor.code, _app=reader.core, _actor=reader.actor)
    with captured(body.piped) as capture:
        code = invoke(argv, obj=ctx, lang=body.lang, labels=ctx.config)
    return code, capture.out.getvalue(), capture.err.getvalue()


def _is_output(body: CliRequest, index: int) -> bool:
    return any(f.index == index and f.output for f in body.files)


def _prefix(body: CliRequest, index: int) -> str:
    return next((f.prefix for f in body.files if f.index == index), "")


def _local_paths(text: str, local: dict[str, str]) -> str:
    """The output naming the client's files, not the server's temporary ones."""
    for server_path, client_path in sorted(local.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(server_path, client_path)
    return text
