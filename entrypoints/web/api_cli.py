"""`POST /api/v1/cli`: a CLI command run by the server for `jingzhun --server URL …` (the client).

The same click command as in direct mode runs here, in the request's thread, with the server's App
and the person of the API token (never anybody else: the Ctx is built from the token's actor and
the command line may not carry the global options). Files the command reads come with the request
and are put in a private folder under the data home's work/ (0700, files 0600, removed after;
what a crashed server left is removed when a server starts again); every file or folder
parameter must name one of them, so a client can neither read nor write the server's own files.
Files the command writes there (`--html`, `--codes-file`) go back in the answer.

Two forms of the same call. `POST /api/v1/cli/stream` (what the client sends): the command as a JSON
part and each file as a part of its own, multipart/form-data, written to disk as it comes; the
answer is multipart/mixed: the command's progress while it runs (a terminal's bar, drawn on the
client's) and a heartbeat, then the JSON answer, then each file the command wrote, read from disk
as it goes. A client that goes away before an import's commit stops it (nothing is written); just
before the commit the client is told, and holds a Ctrl-C from then on (entrypoints/cli/interrupts.py). Neither side holds a file in memory, so a city's registry (hundreds of MB) goes up
and a city's export comes back. `POST /api/v1/cli`: all in one JSON body, files in base64, for
small calls by other programs.
"""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import secrets
import shutil
import threading
from collections import deque
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator, Literal

import click
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from engine.adapters.private_files import work_dir
from engine.domain.errors import AuthError, BadInput, JingzhunError, RuleViolation
from entrypoints.cli.context import cli_text
from engine.services import replays
from entrypoints.cli.remote import (CHUNK, FILES_HEADER, JSON_MAX_UPLOAD, MAX_FILES, MAX_UPLOAD, PROGRESS_TYPE,
                                    PartHeaders, command_path, folder_files, inside, keyed, multipart_parser,
                                    part_head, part_name, refuse_server_only)

from .api_capture import captured
from .api_common import token_reader
from .deps import Reader

router = APIRouter(prefix="/api/v1", tags=["cli"])
# A command's JSON body: its files in base64 (4 bytes for 3) and the command line, refused (413) by
# FastAPI before it is read whole. A streamed command's: its files as they are, and the parts' headers.
CLI_BODY_MAX = JSON_MAX_UPLOAD // 3 * 4 + 1024 * 1024
STREAM_BODY_MAX = MAX_UPLOAD + 64 * 1024 * 1024
COMMAND_MAX = 4 * 1024 * 1024     # bytes of the command part (a folder of 10,000 files names each)
PROGRESS_S = 0.5         # seconds between progress parts at most
CONFIRM_S = 1.0          # seconds a client has to go away after the word of a commit left, before it commits
HEARTBEAT_S = 15.0       # seconds without a part at most while a command runs
CLAIMED = "jingzhun.claimed_key"     # the request scope's replays.Claimed, when the request came with a key


class FolderFile(BaseModel):
    path: str = Field(description="Path inside the folder.")
    data: str | None = Field(None, description="Content, base64 (`/cli`); in its own part (`/cli/stream`).")
    size: int | None = Field(None, description="Bytes (`/cli/stream`'s answer: its part's length).")


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
    progress: bool = Field(False, description="`/cli/stream`: send the command's progress (a terminal's bar) "
                                              "as it runs, in parts before the answer.")
    files: list[SentFile] = []


class ReturnedFile(BaseModel):
    index: int
    data: str | None = Field(None, description="Content, base64 (a file; `/cli`).")
    size: int | None = Field(None, description="Bytes of the file (`/cli/stream`: the part after the answer's).")
    folder: list[FolderFile] | None = Field(None, description="A folder's files (a folder the command wrote).")


class CliAnswer(BaseModel):
    exit: int = Field(description="0 done; 1 refused by a rule; 2 bad usage or input.")
    stdout: str
    stderr: str
    files: list[ReturnedFile] = []


def _inline(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its nested models written in place (for a body documented by hand)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolved(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            return resolved(defs[ref.rsplit("/", 1)[1]]) if ref.startswith("#/$defs/") else \
                {k: resolved(v) for k, v in node.items()}
        return [resolved(v) for v in node] if isinstance(node, list) else node
    return resolved(schema)


@router.post("/cli", response_model=CliAnswer, summary="Run a CLI command, files in base64 (small calls)",
             max_body_size=CLI_BODY_MAX, openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": _inline(CliRequest)}}}})
async def run_cli(request: Request, reader: Reader = Depends(token_reader)) -> CliAnswer:
    # The body is read only once the token is known (a body parameter would be read, and parsed,
    # before any dependency runs: anybody could make the server hold a large JSON document).
    try:
        body = CliRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    return await run_in_threadpool(_run_json, reader, body, _taken(request))


def _run_json(reader: Reader, body: CliRequest, claimed: replays.Claimed | None = None) -> CliAnswer:
    folder = None
    try:
        folder = work_dir(reader.core.settings.home, "cli")
        argv, placed = prepare(body, folder, _from_base64, JSON_MAX_UPLOAD)
    except BaseException:
        _kept(reader, body, claimed, None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        answer, back = finish(reader, body, argv, placed, claimed=claimed)
        answer.files = [returned(i, p) for i, p in back.items()]
        return answer
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _taken(request: Request) -> replays.Claimed | None:
    """The request's key, if it came with one: from here on the route keeps or releases it."""
    claimed = request.scope.get(CLAIMED)
    if claimed is not None:
        claimed.taken = True
    return claimed


def _kept(reader: Reader, body: CliRequest, claimed: replays.Claimed | None,
          done: "tuple[CliAnswer, dict[int, Path]] | None") -> None:
    """A keyed command ended: its answer kept when it succeeded (exit 0) and holds no secret nor is an
    import (keyed), given again to the same key within a day; else the key released (a refused command
    sent again is judged again). Done before the answer leaves: a client that lost it finds it kept."""
    if claimed is None:
        return
    from entrypoints.cli.main import cli
    kept = done is not None and done[0].exit == 0 and keyed(command_path(cli, body.argv))
    try:
        if not kept:
            replays.release(reader.core, claimed.digest)
            return
        answer, back = done
        sizes = [f.stat().st_size for p in back.values() for f in ([p] if p.is_file() else p.rglob("*"))
                 if f.is_file()]
        whole = None            # files sent back too large to keep: said as done, not given again
        if sum(sizes) <= replays.BODY_KEPT_MAX * 3 // 4:
            whole = answer.model_copy(update={"files": [returned(i, p) for i, p in back.items()]}
                                      ).model_dump_json(exclude_none=True).encode()
        replays.keep(reader.core, claimed.digest, 200, [("content-type", "application/json")], whole,
                     claimed.body_sha())
    except SQLAlchemyError as exc:      # the command's answer goes all the same: the key expires on its own
        logging.getLogger("jingzhun.web").error("request key not %s (%s) for a CLI command",
                                                "kept" if kept else "released", type(exc).__name__)


_STREAM_BODY = {"multipart/form-data": {"schema": {"type": "object", "required": ["command"], "properties": {
    "command": {"type": "string", "description": "CliRequest as JSON, its files without `data`"},
    "file-N": {"type": "string", "format": "binary", "description": "the N-th file of `files` (N-K: the K-th "
                                                                      "file of its folder)"}}}}}


@router.post("/cli/stream", summary="Run a CLI command, files streamed both ways (what `jingzhun --server` sends)",
             max_body_size=STREAM_BODY_MAX, response_class=StreamingResponse,
             openapi_extra={"requestBody": {"required": True, "content": _STREAM_BODY}, "parameters": [{
                 "name": FILES_HEADER, "in": "header", "required": False, "schema": {"type": "integer"},
                 "description": "How many files the command sends or writes (its `files`): with 0 it takes none "
                                "of the slots for long commands (8 a process, 3 a person; 503 `remote.busy`, 429 "
                                "`remote.busy_person`) and may carry no file; without it, it takes one"}],
                 "responses": {"200": {
                 "description": "A CliAnswer as JSON when the command ended at once with no file to send "
                                "back; else multipart/mixed: while the command runs, parts of type "
                                f"{PROGRESS_TYPE} ({{text, done, total}} when `progress` was asked; {{}} at "
                                "least every 15 s, a heartbeat; {committing: NOTE} just before an import "
                                "commits, after which a client that leaves no longer stops it, and "
                                "{committed: true} once it has); then a CliAnswer as JSON (each file's `size`); "
                                "then each file the command wrote, in the answer's order (a folder's files in "
                                "its order)",
                 "content": {"multipart/mixed": {}}}}})
async def run_cli_streamed(request: Request) -> StreamingResponse:
    # A command naming no file (a list, a step) runs as a page does; one that sends or writes files
    # (an import, an export, an evidence sheet), or whose client does not say, takes a slot.
    long = request.headers.get(FILES_HEADER) != "0"
    try:
        reader = await run_in_threadpool(token_reader, request)
        person = reader.actor.code
        if long:
            take_slot(person)          # before the body is read
    except JingzhunError:
        await _drop_small_body(request)
        raise
    release = (lambda: give_slot(person)) if long else (lambda: None)
    try:
        folder = work_dir(reader.core.settings.home, "cli")
    except BaseException:
        release()
        raise
    try:
        received = _Received(folder / ".parts", files=long)
        await received.read(request)
        body = _command(received.command)
        if body.files and not long:
            raise BadInput("remote.files_not_declared", header=FILES_HEADER)
        argv, placed = await run_in_threadpool(prepare, body, folder, _from_parts(received.parts), MAX_UPLOAD)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        release()
        raise
    client = _Client()
    work = asyncio.ensure_future(run_in_threadpool(finish, reader, body, argv, placed,
                                                   client if body.progress else None, client, _taken(request)))
    work.add_done_callback(lambda _: release())     # the slot is the command's, the client gone or not
    await asyncio.wait({work}, timeout=PROGRESS_S)
    if work.done() and not work.exception() and not work.result()[1]:
        # done at once with no file to send back (a list, a case): a plain JSON answer, which the
        # client reads without loading a multipart parser (its start-up counts)
        shutil.rmtree(folder, ignore_errors=True)
        return JSONResponse(work.result()[0].model_dump())
    boundary = secrets.token_hex(16)
    return _Answer(_streamed(boundary, work, body, client, folder), client,
                   media_type=f"multipart/mixed; boundary={boundary}")


async def _drop_small_body(request: Request, most: int = 1 << 20, seconds: float = 2.0) -> None:
    """Before a refusal (a wrong token, no slot free): read and drop the request's body when it is
    small. A server that answers and closes with a request's bytes still unread resets the
    connection, and a client still sending then loses the answer ("broken pipe") - a command's
    refusal would read as an unreachable server. A body past `most` bytes is left unread: its
    client is told the connection was cut while it sent (and that nothing was done)."""
    async def read() -> None:
        got = 0
        async for chunk in request.stream():
            got += len(chunk)
            if got > most:
                return
    try:
        await asyncio.wait_for(read(), seconds)
    except Exception:         # the client gone, or too slow: the refusal is all it gets
        pass


# Streamed commands with files one server process runs at once: each may hold up to 2 GB on disk and a
# worker thread for the length of a city's import. One more is refused (503), before its body is read;
# and one person runs at most PER_PERSON of them (429), so nobody can take every slot from the others.
# A command without files takes none (its client says so in FILES_HEADER, and may then send none).
BUSY_AT = 8
PER_PERSON = 3
_running: dict[str, int] = {}       # person -> their streamed commands running (none: absent)
_slots_lock = threading.Lock()


def take_slot(person: str) -> None:
    """One of the server's slots for a long command (a streamed one, or an import on the web page)."""
    with _slots_lock:
        if _running.get(person, 0) >= PER_PERSON:
            raise RuleViolation("remote.busy_person", person=person, most=PER_PERSON)
        if sum(_running.values()) >= BUSY_AT:
            raise RuleViolation("remote.busy", most=BUSY_AT)
        _running[person] = _running.get(person, 0) + 1


def give_slot(person: str) -> None:
    with _slots_lock:
        left = _running.pop(person) - 1
        if left:
            _running[person] = left



class _Client:
    """A streamed command's link to its client: the latest progress the command reported (from its
    thread; sent on only when the client asked), whether the client went away (the connection closed
    before the answer was whole), and the commit of an import, told as it comes (interrupts.AfterCommit)."""

    def __init__(self):
        self.latest, self.sent = None, None
        self.left = threading.Event()
        self.news: deque[dict] = deque()     # parts to send at once, from the command's thread
        self.told = threading.Event()        # the news handed to the connection
        self._loop = asyncio.get_running_loop()
        self.nudged = asyncio.Event()

    def __call__(self, text: str, done: int, total: int | None) -> None:
        self.latest = {"text": text, "done": done, "total": total}

    def part(self, boundary: str) -> bytes:
        """A progress part: the latest if it is new, else an empty one (a heartbeat)."""
        current = self.latest          # read once: the command's thread may tell more meanwhile
        latest = current if current is not None and current is not self.sent else {}
        self.sent = current if latest else self.sent
        return _part(boundary, PROGRESS_TYPE, json.dumps(latest, ensure_ascii=False).encode())

    def gone(self) -> bool:
        return self.left.is_set()

    def committing(self, note: str) -> None:
        """Just before the command commits: a client gone already stops it (it rolls back, so the
        "aborted" the client said is true); else the client is told (it holds a Ctrl-C from then on,
        and says `note` if one comes), and one that goes away within CONFIRM_S of the word leaving
        here had gone before it could hear it: the command stops all the same."""
        if self.gone():
            raise KeyboardInterrupt
        self._tell({"committing": note})
        while not self.told.wait(0.05):
            if self.gone():
                raise KeyboardInterrupt
        if self.left.wait(CONFIRM_S):
            raise KeyboardInterrupt

    def committed(self) -> None:
        self._tell({"committed": True})

    def _tell(self, news: dict) -> None:
        self.told.clear()
        self.news.append(news)
        self._loop.call_soon_threadsafe(self.nudged.set)

    def news_parts(self, boundary: str) -> Iterator[bytes]:
        while self.news:
            yield _part(boundary, PROGRESS_TYPE, json.dumps(self.news.popleft(), ensure_ascii=False).encode())


class _Answer(StreamingResponse):
    """The streamed answer; its command told when the client goes away before the answer is whole."""

    def __init__(self, content: AsyncIterator[bytes], client: _Client, media_type: str):
        super().__init__(content, media_type=media_type, headers={"X-Accel-Buffering": "no"})   # no proxy holds it
        self.client = client

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:        # the answer is whole only once the command has ended: a command still running lost its client
            self.client.left.set()


async def _streamed(boundary: str, work: asyncio.Future, body: CliRequest, client: _Client,
                    folder: Path) -> AsyncIterator[bytes]:
    """While the command runs (`work`, in a worker thread), its progress (when asked) every half
    second and a heartbeat at least every HEARTBEAT_S (a proxy between keeps the connection), and
    an import's commit at once; then the answer, then each file it wrote, read from disk as it goes.
    The command's folder is removed after, or when the command ends if the client went away before."""
    try:
        yield client.part(boundary)     # at once: the status goes out (held by the middleware until a part does)
        quiet = 0.0                     # and the client knows the command runs
        while not work.done():
            nudged = asyncio.ensure_future(client.nudged.wait())
            await asyncio.wait({work, nudged}, timeout=PROGRESS_S)
            nudged.cancel()
            client.nudged.clear()
            quiet += PROGRESS_S
            if client.news:
                for part in client.news_parts(boundary):
                    yield part
                yield client.part(boundary)    # a part ends where the next begins: the news is whole there
                client.told.set()
            elif not work.done() and (client.latest is not client.sent or quiet >= HEARTBEAT_S):
                quiet = 0.0
                yield client.part(boundary)
        try:
            answer, back = work.result()
        except Exception as exc:          # the status was sent: said in the answer (its type logged, never its text)
            logging.getLogger("jingzhun.web").error("unexpected %s in a streamed CLI command", type(exc).__name__)
            answer, back = CliAnswer(exit=1, stdout="", stderr=cli_text("cli.remote.server_error", body.lang,
                                                                         status=500) + "\n"), {}
        files = [(i, p, sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else None) for i, p in back.items()]
        answer.files = [ReturnedFile(index=i, size=None if inner is not None else p.stat().st_size,
                                     folder=None if inner is None else
                                     [FolderFile(path=str(f.relative_to(p)), size=f.stat().st_size) for f in inner])
                        for i, p, inner in files]
        yield _part(boundary, "application/json", answer.model_dump_json(exclude_none=True).encode())
        for path in (f for _, p, inner in files for f in (inner if inner is not None else [p])):
            yield part_head(boundary, {"Content-Type": "application/octet-stream"})
            with open(path, "rb") as fh:
                while chunk := await run_in_threadpool(fh.read, CHUNK):
                    yield chunk
            yield b"\r\n"
        yield f"--{boundary}--\r\n".encode()
    finally:
        if work.done():
            shutil.rmtree(folder, ignore_errors=True)
        else:                   # the client went away: the command ends first
            work.add_done_callback(lambda _: shutil.rmtree(folder, ignore_errors=True))


def _part(boundary: str, content_type: str, data: bytes) -> bytes:
    return part_head(boundary, {"Content-Type": content_type}) + data + b"\r\n"


def _command(raw: Any) -> CliRequest:
    if not isinstance(raw, str):
        raise BadInput("remote.no_command")
    try:
        return CliRequest.model_validate_json(raw)
    except ValidationError:
        raise BadInput("remote.no_command") from None


def prepare(body: CliRequest, folder: Path, write: "Writer", limit: int) -> tuple[list[str], dict[int, Path]]:
    """Before the command runs: the command line checked and the sent files put under `folder` (by
    `write`); the command line naming them, and where each is by its place on the command line."""
    from entrypoints.cli.main import cli
    path = command_path(cli, body.argv)
    if body.argv and body.argv[0].startswith("-"):
        raise BadInput("remote.global_option", option=body.argv[0])
    refuse_server_only(path)
    argv, placed = place_files(folder, body, write, limit)
    check_paths(path, argv, set(placed.values()))
    return argv, placed


def finish(reader: Reader, body: CliRequest, argv: list[str], placed: dict[int, Path], progress=None, client=None,
           claimed: replays.Claimed | None = None) -> tuple[CliAnswer, dict[int, Path]]:
    """The command run as the token's person; its answer, and the files and folders it wrote that
    go back, by their place on the command line. `claimed`: the request's key, kept or released here."""
    done = None
    try:
        code, out, err = execute(reader, argv, body, progress, client)
        back = {i: p for i, p in placed.items() if _is_output(body, i) and p.exists()}
        local = {str(p): body.argv[i].removeprefix(_prefix(body, i)) for i, p in placed.items()}
        done = CliAnswer(exit=code, stdout=_local_paths(out, local), stderr=_local_paths(err, local)), back
    finally:
        _kept(reader, body, claimed, done)
    return done


def returned(index: int, path: Path) -> ReturnedFile:
    """A file or folder the command wrote, to go back to the client in base64."""
    if path.is_file():
        return ReturnedFile(index=index, data=base64.b64encode(path.read_bytes()).decode())
    return ReturnedFile(index=index, folder=[FolderFile(**f) for f in folder_files(path)])


# Writes a sent file's content to a new private file: (the file's place in `files`, its place in its
# folder or None, the SentFile or FolderFile, the target) -> bytes written.
Writer = Callable[[int, "int | None", Any, Path], int]


def place_files(folder: Path, body: CliRequest, write: Writer, limit: int) -> tuple[list[str], dict[int, Path]]:
    """The sent files written under `folder`; the command line naming them instead of the client's."""
    argv, placed, size = list(body.argv), {}, 0
    entries = len(body.files) + sum(len(sent.folder or ()) for sent in body.files)
    if entries > MAX_FILES:                        # before any folder is made
        raise BadInput("remote.too_many_files", count=entries, most=MAX_FILES)
    if len({sent.index for sent in body.files}) != len(body.files):
        raise BadInput("remote.bad_file", index="index")     # one file per place on the command line
    for n, sent in enumerate(body.files):
        if not 0 <= sent.index < len(argv) or not argv[sent.index].startswith(sent.prefix):
            raise BadInput("remote.bad_file", index=sent.index)
        target = folder / str(n) / (Path(sent.name).name or "file")
        target.parent.mkdir(mode=0o700)
        if sent.folder is not None:
            target.mkdir(mode=0o700)
            size += sum(write(n, k, f, inside(target, f.path)) for k, f in enumerate(sent.folder))
        elif not sent.output:
            size += write(n, None, sent, target)
        if size > limit:
            raise BadInput("remote.too_big", mb=limit // (1024 * 1024))
        argv[sent.index] = sent.prefix + str(target)
        placed[sent.index] = target
    return argv, placed


def _from_base64(_n: int, _k: int | None, sent: Any, target: Path) -> int:
    if sent.data is None:
        if isinstance(sent, FolderFile):
            raise BadInput("remote.bad_file", index=sent.path)
        return 0
    try:
        data = base64.b64decode(sent.data, validate=True)
    except ValueError:
        raise BadInput("remote.bad_file", index="base64") from None
    with _private(target) as fh:
        fh.write(data)
    return len(data)


class _Received:
    """A streamed command's request, read as it comes: its `command` part kept (at most COMMAND_MAX
    bytes), each file part written straight to a private file under `into` (the data home's disk:
    no copy in the system's temporary folder, which may be memory), at most MAX_FILES of them;
    none when `files` is false (a command that took no slot)."""

    def __init__(self, into: Path, files: bool = True):
        self.into, self.command, self.parts, self.files = into, None, {}, files
        self.name, self.out, self.text = "", None, bytearray()
        self.headers = PartHeaders()

    async def read(self, request: Request) -> None:
        from python_multipart.multipart import parse_options_header
        kind, options = parse_options_header(request.headers.get("content-type", ""))
        if kind != b"multipart/form-data" or not options.get(b"boundary"):
            raise BadInput("remote.no_command")
        self.into.mkdir(mode=0o700)
        parser = multipart_parser(options[b"boundary"], self.headers, on_headers_finished=self._headers_done,
                                  on_part_data=self._data, on_part_end=self._end)
        refused: OSError | None = None
        try:
            async for chunk in request.stream():
                if refused is not None:
                    continue        # the rest read and dropped: a client cut off while it sends hears nothing of why
                try:
                    await run_in_threadpool(parser.write, chunk)      # a file's bytes go to disk off the event loop
                except OSError as exc:      # the server's disk refused it: said once the client has sent it all
                    refused = exc
            if refused is not None:
                raise refused
            parser.finalize()
        except ValueError:          # not multipart as the client sends it
            raise BadInput("remote.no_command") from None
        finally:
            if self.out is not None:
                self.out.close()

    def _headers_done(self) -> None:
        from python_multipart.multipart import parse_options_header
        _, options = parse_options_header(self.headers.found.get(b"content-disposition", b""))
        self.name = options.get(b"name", b"").decode("latin-1")
        if self.name == "command":
            self.text = bytearray()
        elif _PART_NAME(self.name) and not self.files:
            raise BadInput("remote.files_not_declared", header=FILES_HEADER)
        elif _PART_NAME(self.name) and len(self.parts) < MAX_FILES:
            self.parts[self.name] = self.into / self.name
            self.out = _private(self.parts[self.name])
        else:
            raise BadInput("remote.bad_file", index=self.name[:40] or "-")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.out is not None:
            self.out.write(data[start:end])
        else:
            self.text += data[start:end]
            if len(self.text) > COMMAND_MAX:
                raise BadInput("remote.bad_file", index="command")

    def _end(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None
        elif self.name == "command":
            self.command = self.text.decode("utf-8", "replace")


_PART_NAME = re.compile(r"file-[0-9]{1,5}(-[0-9]{1,5})?").fullmatch


def _from_parts(parts: dict[str, Path]) -> Writer:
    def write(n: int, k: int | None, sent: Any, target: Path) -> int:
        received = parts.pop(part_name(n, k), None)
        if received is None:
            if k is not None:
                raise BadInput("remote.bad_file", index=sent.path)
            return 0          # a file parameter whose file the client does not have: the command says so
        os.replace(received, target)          # the same disk: moved, not copied
        return target.stat().st_size
    return write


def _private(path: Path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


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


def execute(reader: Reader, argv: list[str], body: CliRequest, progress=None, client=None) -> tuple[int, str, str]:
    """Run the command as the token's person; (exit code, stdout, stderr) as in direct mode.
    `progress`: told the command's progress, where it reports any (a terminal's bar in direct mode);
    `client`: the streamed command's client (gone or not, told an import's commit)."""
    from entrypoints.cli.context import Ctx
    from entrypoints.cli.main import invoke
    ctx = Ctx(None, None, body.lang, reader.actor.code, _app=reader.core, _actor=reader.actor, progress=progress,
              for_client=True, client=client)
    with captured(body.piped) as capture:
        code = invoke(argv, obj=ctx, lang=body.lang, labels=ctx.config, remote=True)
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
