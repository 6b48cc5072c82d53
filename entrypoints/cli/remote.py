"""Client mode: `jingzhun --server URL [--as CODE] <command> …` runs the command on the server.

The command line is parsed here first (usage errors, dates and missing files are reported at once,
as in direct mode); then the command line, without the global options, goes to the server's
`POST /api/v1/cli/stream` with every file or folder the command reads, and the person's token. The
server runs the same click command with the token's person, and answers with the command's output,
its exit code and the files it wrote (`--html`, `--csv`, `--codes-file`), which are written here.
Files go both ways as they are, a chunk at a time (multipart), never whole in memory. This machine
needs no database, no data home and no rules of its own.
"""
from __future__ import annotations

import base64
import contextlib
import errno
import http.client
import json
import os
import secrets
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import click
from click.core import ParameterSource

from engine.adapters.private_files import open_private, replacing
from engine.domain.errors import BadInput, JingzhunError, Msg, RuleViolation, cannot_write

from .context import Ctx, cli_text, commands_from, writes
from .printing import err, piped, visible

TIMEOUT = 3600       # seconds a command may run on the server: a city's registry from XLSX takes a quarter of an hour
CALL_TIMEOUT = 120   # seconds for the quick calls (who am I, activate, password)
MAX_UPLOAD = 2 * 1024 ** 3         # bytes of all files one command sends (the server refuses more)
JSON_MAX_UPLOAD = 64 * 1024 * 1024     # the same in base64 JSON (`POST /api/v1/cli`, read whole)
CHUNK = 1024 * 1024                # bytes read, sent and written at a time
MAX_FILES = 10_000                 # files one command sends (a folder's count one each)
PREFLIGHT_FROM = 1024 * 1024       # from this many bytes to send, the token is checked first
PROGRESS_TYPE = "application/x-jingzhun-progress+json"    # a part before the answer: {text, done, total} or {}
FILES_HEADER = "X-Jingzhun-Files"  # how many files a streamed command sends or writes: with "0", no long command's slot
# Commands that build or run a server, or set one's own secret: never run for a client.
SERVER_ONLY = {("init",), ("move-database",), ("demo",), ("serve",), ("config", "install"), ("scheduler", "run"), ("activate",), ("password",),
               ("backup",), ("restore",)}
# Commands that change nothing in the record (an export or a trace is logged as read, no more): one the
# server stopped answering is simply run again. Any other command, an import aside, may have been recorded.
READS = {("accountability", "list"), ("alerts", "list"), ("audit", "head"), ("audit", "verify"), ("case", "list"),
         ("case", "next"), ("case", "show"), ("case", "find"), ("config", "check"), ("config", "show"), ("deadline", "list"),
         ("evidence", "template"), ("export",), ("funds", "report"), ("household", "exit-confirmation"), ("household", "handbook"), ("inspect", "activity"), ("inspect", "flags"),
         ("notice", "render"), ("notice", "show"), ("person", "list"), ("person", "pending"), ("project", "show"),
         ("region", "list"), ("report", "coverage"), ("sample", "sheet"), ("sample", "show"), ("scheduler", "jobs"), ("trace",),
         ("workflow", "show")}
# Commands whose answer holds a secret (a login token, a one-time enrolment code): never sent with a
# request key, nor kept by the server to be given again.
SECRET = {("person", "add"), ("person", "enrol"), ("person", "token"), ("person", "import")}


def keyed(path: tuple[str, ...]) -> bool:
    """A command sent with a request key of its own (`Idempotency-Key`): one that writes, whose answer
    holds no secret, and not an import (an import sent again is refused as imported before). The server
    keeps such a command's answer when it succeeded, and gives it again to the same key within a day."""
    return path not in READS and path not in SECRET and path[-1:] != ("import",) and \
        path not in SERVER_ONLY and path[:1] not in SERVER_ONLY


class Refused(JingzhunError):
    """The server's refusal, already in the reader's language."""

    def __init__(self, code: str, message: str, exit_code: int, status: int | None = None):
        super().__init__(code)
        self.message, self.exit_code, self.status = message, exit_code, status

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
    return argv[commands_from(argv):]


def run_remote(ctx: Ctx, click_ctx: click.Context, argv: list[str]):
    """Send the parsed command to the server, print its output, write its files; exit as it did."""
    from engine.adapters.collector import started
    started()           # parsed: the client has started (an upload may take minutes), the collector at its pace
    path = command_path(click_ctx.find_root().command, argv)
    refuse_server_only(path)
    outcome = unfinished(path)
    size = refuse_too_big(click_ctx, argv)
    named, argv = argv, argv + _defaults_beside(click_ctx, argv)
    files = list(file_entries(click_ctx, argv))
    if size >= PREFLIGHT_FROM:
        _older_server_passes(lambda: post(ctx, None, "/api/v1/me", method="GET"))   # a wrong token said before the upload
    written = {f["index"]: local for f, local in files}
    progress = sys.stderr.isatty()           # a bar on a terminal (rich is loaded only to draw one)
    command = {"argv": argv, "lang": ctx.lang, "piped": piped(), "progress": progress, "files": [f for f, _ in files]}
    uploads = [(part_name(n, k), path) for n, (f, local) in enumerate(files) for k, path in _uploads(f, local)]
    from .interrupts import AfterCommit, terminated_as_interrupted
    from .lost_answers import Keys, tried
    reads = path in READS
    # each file the command writes begun here first (a place that cannot take it refused before anything is
    # sent); a Ctrl-C held once the server says the import commits (its note said); a SIGTERM a Ctrl-C
    with Begun(click_ctx, named, size) as begun, terminated_as_interrupted(), AfterCommit("") as guard:
        # the command's request key (when it writes): the one a run of the very same command left
        # unanswered within the day, else a new one
        keys = Keys(ctx, command, [p for _, p in uploads]) if keyed(path) else None
        key = None if keys is None else keys.key
        if keys is not None and keys.again:
            err.print(visible(cli_text("cli.lost.same_key", ctx.lang)))
        try:
            answer = _older_server_passes(lambda: tried(
                ctx, lambda: exchange(ctx, command, uploads, written, guard, outcome, begun, key), key, not reads,
                keys, FILES_HEADER))
        except _SavedThenStopped as stopped:
            _said(stopped.answer or {})
            err.print(visible(cli_text("cli.remote.interrupted_saved", ctx.lang)))
            raise click.exceptions.Exit(2) from None
        except KeyboardInterrupt:
            if uploads and path != ("household", "import"):
                # Only a registry's import is stopped by its client leaving (and told its commit); any
                # other command sent a file runs to its end on the server: all of it saved, or none.
                if path[-1:] == ("import",):
                    err.print(visible(cli_text("cli.remote.interrupted_unsure", ctx.lang)))
                else:           # a step's minutes, an evidence file: told as any command that writes
                    err.print(visible(cli_text("cli.remote.interrupted_running", ctx.lang,
                                                   outcome=cli_text(outcome.key, ctx.lang))))
                raise click.exceptions.Exit(2) from None
            raise
    if answer is None:          # a server from before streaming: the whole command in one JSON body
        if size > JSON_MAX_UPLOAD:
            raise BadInput("remote.too_big_to_send", mb=JSON_MAX_UPLOAD // (1024 * 1024), size=-(-size // (1024 * 1024)))
        answer = tried(ctx, lambda: _request(
            ctx, "/api/v1/cli", json.dumps(_with_base64(command, dict(uploads))).encode(),
            {"Content-Type": "application/json"}, lambda got: _saved_base64(json.loads(got.read().decode()), written),
            outcome=outcome), None, not reads)      # a server from before keys: a write goes once
    _said(answer)
    if answer.get(_REPLAYED):
        err.print(visible(cli_text("cli.lost.replayed", ctx.lang)))
    if answer.get(_NOT_WRITTEN):      # the command ran on the server; a file it sent back could not be kept here
        raise codes_lost(ctx, click_ctx, path, answer) or side_files_lost(click_ctx, path, answer, written) or \
            answer[_NOT_WRITTEN]
    raise click.exceptions.Exit(int(answer.get("exit", 1)))


_NOT_WRITTEN = "_not_written"
_REPLAYED = "_replayed"     # the answer the server kept of this command's first sending
_KEPT = "_kept"         # the places of the files sent back that were written here whole
# Room kept on this machine's disk for each file a command writes here, before the command is sent: this
# many bytes, and 8 times what it sends (a person list's paper codes take 4 times the list), at most
RESERVE_LEAST = 64 * 1024
RESERVE_MOST = 16 * 1024 * 1024


class Begun:
    """Each file the command line names for the command to write here (`--csv`, `--codes-file`,
    `--to-confirm`…; not one it writes by default beside its list, which it may not write at all, as in
    direct mode) begun before the command is sent: its `.NAME.part` made beside its place (one a killed
    client left is replaced) and room kept for it on its disk, where the file system can keep room. A
    place that cannot take it (a read-only folder, a full disk) is refused in words before the server does
    anything: a person import's one-time codes are not lost with the persons created. Those the answer
    never fills are removed when the block ends."""

    def __init__(self, click_ctx: click.Context, argv: list[str], sent: int):
        self.files: dict[Path, BinaryIO] = {}
        room = min(RESERVE_MOST, RESERVE_LEAST + 8 * sent)
        try:
            for param, _found, local in _given_paths(click_ctx, argv):
                if writes(param) and not param.type.dir_okay and local not in self.files:    # a file, not a folder
                    self.files[local] = _begin(local, room)
        except BaseException:
            self.release()
            raise

    def __enter__(self) -> "Begun":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def take(self, place: Path) -> BinaryIO | None:
        """The begun file of `place`, to be written (from its start) by whoever takes it; None when none
        was, or it was removed meanwhile (its folder deleted: the file is begun again where it goes)."""
        out = self.files.pop(place, None)
        if out is not None and os.fstat(out.fileno()).st_nlink == 0:
            out.close()
            return None
        return out

    def release(self) -> None:
        for place, out in self.files.items():
            with contextlib.suppress(OSError):
                out.close()
            with contextlib.suppress(OSError):
                part_of(place).unlink(missing_ok=True)
        self.files.clear()


def part_of(place: Path) -> Path:
    """Where a file sent back is written until it is whole: beside its place, hidden."""
    return place.with_name(f".{place.name}.part")


def _begin(place: Path, room: int) -> BinaryIO:
    part = part_of(place)
    try:
        out = open_private(part, "wb")
    except OSError as exc:
        raise cannot_write(str(place), exc) from None
    try:
        if hasattr(os, "posix_fallocate"):          # not on Windows or macOS: no room kept there
            os.posix_fallocate(out.fileno(), 0, room)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):     # else: no room kept, none refused
            out.close()
            part.unlink(missing_ok=True)
            raise cannot_write(str(place), exc) from None
    return out


def codes_lost(ctx: Ctx, click_ctx: click.Context, path: tuple[str, ...], answer: dict[str, Any]) -> BadInput | None:
    """A person import the server ran whose paper codes file could not be written here after all: the
    persons are created and their one-time codes lost (the server keeps none of them), said so with how
    to give each a new one; None for anything else."""
    codes = click_ctx.params.get("codes_file")
    if path != ("person", "import") or not codes or int(answer.get("exit", 1)) != 0 or \
            Path(codes) in answer.get(_KEPT, ()):
        return None
    failed = answer[_NOT_WRITTEN]
    return BadInput("remote.codes_lost", file=codes, why=Msg(f"msg.{failed.code}", failed.params),
                    list=click_ctx.params.get("file"), server=ctx.server, person=ctx._require_person())


# The imports whose side files (the bad rows, the ID numbers to confirm) come back here after they saved
SIDE_FILES = {("household", "import"): ("skip_bad", "to_confirm"), ("evidence", "import"): ("skip_bad",)}


def side_files_lost(click_ctx: click.Context, path: tuple[str, ...], answer: dict[str, Any],
                    written: dict[int, Path]) -> BadInput | None:
    """An import the server saved whose file of bad rows or of ID numbers to confirm, sent back, could not be
    written here after all (the stick it went to pulled out): said with the import saved (its summary above)
    and how to have the file again; None for anything else."""
    from .bad_rows import saved_files_lost
    if int(answer.get("exit", 1)) != 0 or path not in SIDE_FILES:
        return None
    sent = {written[f["index"]] for f in answer.get("files", []) if f.get("index") in written}
    lost = {option for option in SIDE_FILES[path] if click_ctx.params.get(option) and
            Path(click_ctx.params[option]) in sent - set(answer.get(_KEPT, ()))}
    if not lost:
        return None
    failed = answer[_NOT_WRITTEN]
    return saved_files_lost(Msg("cli.import.saved_above"), Msg(f"msg.{failed.code}", failed.params),
                            True if "skip_bad" in lost else None, "to_confirm" in lost)


def unfinished(path: tuple[str, ...]) -> Msg:
    """What a command the server stopped answering (killed, restarted) may have done, by its kind: an
    import (not saved unless finished; a re-run tells), a read (nothing changed: run it again), or any
    other (it may or may not have been recorded: how to find out)."""
    if path[-1:] == ("import",):
        return Msg("cli.remote.unfinished.import")
    if path in READS:
        return Msg("cli.remote.unfinished.read")
    return Msg("cli.remote.unfinished.write")


def _said(answer: dict[str, Any]) -> None:
    click.echo(answer.get("stdout", ""), nl=False)
    click.echo(answer.get("stderr", ""), nl=False, err=True)


class _SavedThenStopped(Exception):
    """A second Ctrl-C once the server had saved the import: its files not waited for; the answer, if it came."""

    def __init__(self, answer: dict[str, Any] | None):
        super().__init__()
        self.answer = answer


def _older_server_passes(call):
    """`call`'s answer; None when the server is older than this client and has no such endpoint."""
    try:
        return call()
    except Refused as exc:
        if exc.code == "web.error.not_found":
            return None
        raise


def _with_base64(command: dict[str, Any], uploads: dict[str, Path]) -> dict[str, Any]:
    """The command with its files' content in base64, as `POST /api/v1/cli` takes it."""
    files = []
    for n, entry in enumerate(command["files"]):
        entry = dict(entry)
        if "folder" in entry:
            entry["folder"] = [{**f, "data": base64.b64encode(uploads[part_name(n, k)].read_bytes()).decode()}
                               for k, f in enumerate(entry["folder"])]
        elif part_name(n, None) in uploads:
            entry["data"] = base64.b64encode(uploads[part_name(n, None)].read_bytes()).decode()
        files.append(entry)
    return {**command, "files": files}


def part_name(n: int, k: int | None) -> str:
    """The multipart part of the n-th file sent (k: the k-th file of the n-th, a folder)."""
    return f"file-{n}" if k is None else f"file-{n}-{k}"


def _uploads(entry: dict[str, Any], local: Path) -> list[tuple[int | None, Path]]:
    if entry["output"]:
        return []
    if "folder" in entry:
        return [(k, local / f["path"]) for k, f in enumerate(entry["folder"])]
    return [(None, local)] if local.is_file() else []


def exchange(ctx: Ctx, command: dict[str, Any], uploads: list[tuple[str, Path]], written: dict[int, Path],
             guard: Any, outcome: Msg, begun: Begun | None = None, key: str | None = None) -> dict[str, Any]:
    """The command and its files sent (multipart/form-data, each file a chunk at a time); the answer
    read (multipart/mixed: the JSON answer, then each file the command wrote, written here as it
    comes; `guard`, an AfterCommit, told when the server commits). The answer's JSON. `outcome`:
    what the command may have done, said if the server stops answering; `begun`: the files begun here;
    `key`: the command's request key (lost_answers.py), if it goes with one."""
    # The answer's parser loaded before anything is sent, not as the answer comes: that is when a user
    # presses Ctrl-C, and one landing while Python loads a module is printed beside our word as
    # "Exception ignored in: <function _get_module_lock…>" (seen once in CI).
    import python_multipart.multipart  # noqa: F401
    boundary = secrets.token_hex(16)
    keyed_by = {} if key is None else {"Idempotency-Key": key}
    return _request(ctx, "/api/v1/cli/stream", _multipart(boundary, command, uploads),
                    {"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "multipart/mixed",
                     FILES_HEADER: str(len(command["files"])), **keyed_by},
                    lambda answer: _read_mixed(answer, written, guard, outcome, begun), outcome=outcome)


def part_head(boundary: str, headers: dict[str, str]) -> bytes:
    """A multipart part's boundary line and headers, up to its content (both ways, both sides)."""
    return (f"--{boundary}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()


class PartHeaders:
    """The headers of the part being read, as python-multipart's parser tells them: a name or a value
    may come in several pieces, and each header ends at its own callback."""

    def __init__(self):
        self.found: dict[bytes, bytes] = {}
        self._field = self._value = b""

    def begin(self) -> None:
        self.found = {}

    def field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def end(self) -> None:
        self.found[self._field.lower()] = self._value
        self._field = self._value = b""

    def get(self, name: bytes) -> str:
        return self.found.get(name, b"").decode("latin-1").strip()


def multipart_parser(boundary: bytes, headers: PartHeaders, **callbacks):
    """python-multipart's streaming parser, telling `headers` each part's headers and `callbacks`
    (on_headers_finished, on_part_data, on_part_end, on_end) the rest."""
    from python_multipart.multipart import MultipartParser
    return MultipartParser(boundary, {"on_part_begin": headers.begin, "on_header_field": headers.field,
                                      "on_header_value": headers.value, "on_header_end": headers.end, **callbacks})


def _multipart(boundary: str, command: dict[str, Any], uploads: list[tuple[str, Path]]) -> Iterator[bytes]:
    yield part_head(boundary, {"Content-Disposition": 'form-data; name="command"',
                               "Content-Type": "application/json"}) + json.dumps(command).encode() + b"\r\n"
    for name, path in uploads:       # the file's own name goes in the command (the part's may be mangled)
        yield part_head(boundary, {"Content-Disposition": f'form-data; name="{name}"; filename="{name}"',
                                   "Content-Type": "application/octet-stream"})
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


def _read_mixed(answer, written: dict[int, Path], guard: Any, outcome: Msg, begun: Begun | None = None
                ) -> dict[str, Any]:
    """The JSON answer of a multipart/mixed answer; the files after it written to their places here.
    A Ctrl-C before the server said it commits stops the command there (it rolls back: "aborted");
    from then on `guard` holds it (a second one once it has committed stops waiting for the files)."""
    if not answer.headers.get("Content-Type", "").startswith("multipart/"):
        # JSON: a command done at once with no file back (or an older server's, files in base64), or the
        # answer kept of a keyed command done before (its answer lost then)
        done = _saved_base64(json.loads(answer.read().decode()), written)
        if answer.headers.get("Idempotent-Replayed") == "true":
            done[_REPLAYED] = True
        return done
    from python_multipart.multipart import parse_options_header
    _, options = parse_options_header(answer.headers.get("Content-Type", ""))
    if not options.get(b"boundary"):
        raise BadInput("remote.cut_short")
    reader = _Parts(written, guard, outcome, begun)
    parser = multipart_parser(options[b"boundary"], reader.headers, on_headers_finished=reader.headers_finished,
                              on_part_data=reader.data, on_part_end=reader.end, on_end=reader.finish)
    try:
        while chunk := answer.read1(CHUNK):      # what has come (read(CHUNK) waited for a whole megabyte:
            parser.write(chunk)                  # the progress, a few bytes a part, came only with the end)
        parser.finalize()
    except (http.client.HTTPException, OSError, ValueError):     # the connection dropped, or not our answer
        raise reader.cut() from None                                # (a file not kept here is said apart)
    except KeyboardInterrupt:
        if guard.saved:
            raise _SavedThenStopped(reader.json) from None
        if guard.saving:        # not held (Ctrl-C is not Python's own here): the server goes on saving
            raise reader.cut() from None
        raise
    finally:
        reader.abandon()
    if not reader.finished or reader.json is None or reader.pending:     # the last boundary never came
        raise reader.cut()
    if reader.not_written is not None:
        reader.json.update({_NOT_WRITTEN: reader.not_written, _KEPT: reader.kept})
    return reader.json


class _Parts:
    """The parts of a streamed answer: the command's progress while it runs (a bar on a terminal),
    then the JSON answer, which says which files follow and where each goes; each file written to a
    private `.part` file beside its place, renamed into it when whole."""

    def __init__(self, written: dict[int, Path], guard: Any, outcome: Msg, begun: Begun | None = None):
        self.written, self.json, self.text, self.guard, self.outcome = written, None, bytearray(), guard, outcome
        self.begun = begun
        self.kept: set[Path] = set()         # the places written whole
        self.pending: list[Path] = []        # the places of the files still to come, in order
        self.out: BinaryIO | None = None
        self.place: Path | None = None
        self.finished = False
        self.headers = PartHeaders()
        self.bar = _Bar()
        self.not_written: BadInput | None = None      # the first file that could not be written here

    @property
    def kind(self) -> str:
        return self.headers.get(b"content-type")

    def finish(self) -> None:
        self.finished = True

    def cut(self) -> BadInput:
        """The answer cut short: after the command's answer, its files may be incomplete; before it, the
        command had not ended (an import the server had not saved is not), or it was being saved."""
        if self.json is not None:
            return BadInput("remote.cut_short")
        if self.guard.saving:
            return BadInput("remote.cut_saving")
        return BadInput("remote.stopped_running", outcome=self.outcome)

    def headers_finished(self) -> None:
        if self.kind == PROGRESS_TYPE:
            self.text = bytearray()
            return
        if self.json is None:
            self.text = bytearray()
            self.bar.close()
            return
        if not self.pending:
            raise BadInput("remote.cut_short")
        self.place = self.pending.pop(0)
        self._locally(lambda: self.place.parent.mkdir(mode=0o700, parents=True, exist_ok=True))
        if self.not_written is None:
            self.out = (self.begun and self.begun.take(self.place)) or \
                self._locally(lambda: open_private(part_of(self.place), "wb"))

    def data(self, data: bytes, start: int, end: int) -> None:
        if self.out is not None:
            self._locally(lambda: self.out.write(data[start:end]))
        elif self.kind == PROGRESS_TYPE or self.json is None:
            self.text += data[start:end]

    def _locally(self, write):
        """A write here; one that fails (a full disk, a read-only folder) stops the files that follow,
        and is said after the command's own output (the command has run on the server)."""
        if self.not_written is not None:
            return None
        try:
            return write()
        except OSError as exc:
            self.not_written = cannot_write(str(self.place), exc)
            self.abandon()
            return None

    def end(self) -> None:
        if self.kind == PROGRESS_TYPE:
            told = json.loads(self.text.decode() or "{}")
            if "committing" in told:        # the import commits now: a Ctrl-C no longer stops it
                self.guard.note = str(told["committing"])
                self.guard.committing()
            elif told.get("committed"):
                self.guard.committed()
            else:
                self.bar.show(told)
        elif self.json is None:
            self.json = json.loads(self.text.decode())
            for out in self.json.get("files", []):
                local = self.written[out["index"]]
                if out.get("folder") is not None:
                    local.mkdir(mode=0o700, parents=True, exist_ok=True)
                    self.pending += [inside(local, f["path"]) for f in out["folder"]]
                else:
                    self.pending.append(local)
        elif self.out is not None:
            out = self.out          # cut to what was written (a begun file had room kept); failing: abandoned
            if self._locally(lambda: (out.truncate(), out.close(), os.replace(part_of(self.place), self.place))):
                self.kept.add(self.place)
            self.out = None

    def abandon(self) -> None:
        """A file cut off half way is not left behind; a bar still shown is cleared."""
        self.bar.close()
        if self.out is not None:
            out, self.out = self.out, None
            with contextlib.suppress(OSError):
                out.close()
            with contextlib.suppress(OSError):
                part_of(self.place).unlink(missing_ok=True)


class _Bar:
    """The server's progress of a command, as a bar on this terminal (stderr), cleared when it ends."""

    def __init__(self):
        self.progress, self.task = None, None

    def show(self, latest: dict[str, Any]) -> None:
        if not latest.get("text"):
            return            # a heartbeat
        if self.progress is None:
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                                     TimeRemainingColumn(), console=err, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(latest["text"], total=latest.get("total"))
        self.progress.update(self.task, description=latest["text"], completed=latest.get("done") or 0,
                             total=latest.get("total"))

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def _saved_base64(answer: dict[str, Any], written: dict[int, Path]) -> dict[str, Any]:
    for out in answer.get("files", []):
        if out.get("folder") is not None:
            save_folder(written[out["index"]], out["folder"])
        else:
            save(written[out["index"]], base64.b64decode(out["data"]))
    return answer


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


def refuse_too_big(click_ctx: click.Context, argv: list[str]) -> int:
    """Files too big to send are refused here, before any is read: beyond MAX_UPLOAD, a registry is
    imported on the server itself (or sent a part at a time). The bytes to send."""
    size = count = 0
    for param, _found, local in _given_paths(click_ctx, argv):
        if writes(param):
            continue
        if local.is_file():
            size, count = size + local.stat().st_size, count + 1
        elif local.is_dir():
            inner = [(local / f).stat().st_size for f in folder_to_send(local)]
            size, count = size + sum(inner), count + len(inner)
    if count > MAX_FILES:
        raise BadInput("remote.too_many_files", count=count, most=MAX_FILES)
    if size > MAX_UPLOAD:
        raise BadInput("remote.too_big_to_send", mb=MAX_UPLOAD // (1024 * 1024), size=-(-size // (1024 * 1024)))
    return size


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
                             "output": writes(param)}
    if entry["output"]:
        return entry        # what a file the command writes holds now is not sent
    if local.is_dir():      # its files go in parts of their own (a file's content: in its part)
        entry["folder"] = [{"path": f} for f in folder_to_send(local)]
    return entry


def folder_to_send(folder: Path) -> list[str]:
    """The paths inside `folder` of the files a command sends of it, read as direct mode reads them:
    a link to a file or folder inside it as what it points to, a link out of it refused before
    anything is sent (what it points to, a key or /etc/shadow named as a photo, is never read)."""
    root, found = folder.resolve(), []

    def walk(here: Path, within: tuple[Path, ...]) -> None:
        for entry in sorted(here.iterdir()):
            target = entry.resolve()
            if not target.is_relative_to(root):
                raise BadInput("sheets.link_outside", file=str(entry.relative_to(folder)))
            if target.is_dir() and target not in within:        # a link back up the folder: not again
                walk(entry, (*within, target))
            elif target.is_file():
                found.append(str(entry.relative_to(folder)))
    walk(folder, (root,))
    return found


def folder_files(folder: Path) -> list[dict[str, str]]:
    """A folder's files in base64 JSON (`POST /api/v1/cli`'s answer): path inside it, content."""
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


def save_folder(folder: Path, files: list[dict[str, str]]) -> None:
    """A folder the command wrote on the server, file by file, here (0700, files 0600); a path that
    would leave the folder is refused."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for f in files:
        save(inside(folder, f["path"]), base64.b64decode(f["data"]))


def save(path: Path, data: bytes) -> None:
    """A file the command wrote on the server, written here readable by its owner only, whole or not
    at all (beside its place, then moved into it: a full disk leaves no half file, and says so)."""
    with replacing(path) as (_out, made), open_private(made, "wb") as fh:
        fh.write(data)


def post(ctx: Ctx, body: dict[str, Any] | None, path: str = "/api/v1/cli", token: bool = True,
         method: str = "POST") -> dict[str, Any]:
    """The server's JSON answer; its refusal (401, 403, 404, 409, 4xx) raised in the reader's language.
    `token` False: a call made before the person has one (`activate`)."""
    data = json.dumps(body).encode() if body is not None else None
    return _request(ctx, path, data, {"Content-Type": "application/json"}, lambda answer: json.loads(answer.read().decode()),
                    token, method, CALL_TIMEOUT)


def _request(ctx: Ctx, path: str, data, headers: dict[str, str], read, token: bool = True, method: str = "POST",
             timeout: float = TIMEOUT, outcome: Msg | None = None):
    """`read` of the server's answer to the request (`data`: bytes, or an iterator of them sent
    chunked); a refusal raised in the reader's language. `outcome`: what the request may have done,
    said if the connection closes before an answer (by default, a GET nothing, any other maybe something)."""
    code = ctx._require_person()
    headers = {**headers, "Accept-Language": ctx.lang, "X-Jingzhun-Person": code}
    if token:
        headers["Authorization"] = f"Bearer {ctx._token() or ''}"
    request = urllib.request.Request(f"{ctx.server}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            try:
                return read(answer)
            except (ValueError, UnicodeDecodeError):         # HTML from a portal or a proxy, not our JSON
                raise BadInput("remote.not_jingzhun", url=ctx.server) from None
    except urllib.error.HTTPError as exc:
        raise refusal(ctx, exc) from None
    except urllib.error.URLError as exc:
        reason = getattr(exc, "reason", None) or exc
        if isinstance(reason, (BrokenPipeError, ConnectionResetError)):
            # cut while the request was being sent (urllib wraps only the sending's errors): the
            # server had not the whole command, so it ran nothing - it refused a large upload, or stopped
            raise BadInput("remote.send_cut", url=ctx.server) from None
        raise BadInput("remote.unreachable", url=ctx.server, problem=str(reason)) from None
    except (OSError, http.client.HTTPException):
        # the command sent, the connection closed before an answer (the driver's words are English):
        # the server stopped while it took the command in or began it
        outcome = outcome or Msg("cli.remote.unfinished.read" if method == "GET" else "cli.remote.unfinished.write")
        raise BadInput("remote.stopped_receiving", url=ctx.server, outcome=outcome) from None


def refusal(ctx: Ctx, exc: urllib.error.HTTPError) -> JingzhunError:
    try:
        data = json.loads(exc.read().decode())
    except (ValueError, OSError):
        data = {}
    if exc.code >= 500 and isinstance(data, dict) and data.get("error") == "db.unusable" and data.get("message"):
        return Refused("db.unusable", str(data["message"]), 2, exc.code)    # the server's fault, not a rule's: as in direct mode
    if exc.code in (503, 507) and isinstance(data, dict) and data.get("message"):
        return Refused(str(data.get("error") or exc.code), str(data["message"]), 1, exc.code)   # busy, or its disk full
    if exc.code >= 500 or not isinstance(data, dict):
        return Refused("server.error", cli_text("cli.remote.server_error", ctx.lang, status=exc.code), 1, exc.code)
    code = str(data.get("error") or exc.code)
    message = data.get("message") or ", ".join(data.get("fields") or []) or code
    return Refused(code, str(message), 2 if exc.code in (400, 413, 422) else 1, exc.code)
