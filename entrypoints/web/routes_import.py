"""Registries and sheets from a file, in the browser: a county's or a village's households
(`household import`), an evidence sheet with its signed files in a .zip (`evidence import`), and
for administrators people with their posts (`person import`, the paper enrolment codes back as a
file) and regions (`region import`).

The page runs the very command the CLI runs, and that `jingzhun --server` runs on this server
(entrypoints.web.api_cli: the uploaded files in a private folder under the data home's work/,
every file parameter one of them, the command as the signed-in person, in their language): the
same checks, all or none, every bad row said at once with its line, column and reason. An evidence
sheet may replace each household's current item of its type, with a reason (`--replace`). With
"skip bad rows" the good ones are imported and the bad ones, with their reasons, come back as a
CSV to download (opens in Excel); so does the list of ID numbers to confirm. Those files hold
personal data: kept 0600 for an hour for the person who imported, then removed.
"""
from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse
from starlette.datastructures import UploadFile

from engine.adapters.private_files import WORK, open_private, work_dir, write_private
from engine.domain.errors import BadInput, CannotWrite, NotFound
from engine.reads import village_lists as lists
from engine.reads.imports import imports_of
from engine.services.evidence_sheet import AT_VILLAGES_ONLY, sheet_types

from .access import downloads, needs
from .api_cli import CliRequest, SentFile, check_paths, finish, give_slot, take_slot
from .deps import Reader, form_of
from .render import page, texts
from .routes_bulk import hidden_as
from .routes_export import FORMATS, reader_ctx, table_download
from entrypoints.cli.context import cli_text
from entrypoints.cli.parsing import file_sha256
from entrypoints.cli.remote import MAX_UPLOAD, command_path
from entrypoints.cli.sheets import template_sheet

router = APIRouter(include_in_schema=False)
WHATS = ("households", "evidence", "persons", "regions")
ADMIN_WHATS = ("persons", "regions")       # offered to administrators only (the commands check again)
SHEETS = (".csv", ".xlsx", ".xls")
KEPT_S = 3600            # how long the files an import wrote wait for their download
QUICK_S = 10.0           # an import done within this is answered as a whole page (its status 200 or 400)
TICK_S = 0.5             # then: how often its progress is looked at,
PROGRESS_S = 5.0         # a new progress line at most this often,
HEARTBEAT_S = 20.0       # and a line at least this often
RUNNING_END = "<!--import-running-end-->"  # in import.html: where a running import's progress list ends
PREFIX = "import-"       # the folders of imports (work_dir's), kept for their downloads
OWNER = "owner"          # in such a folder: the person code of who imported (written when it ended)
NAMES = "names.json"     # and the names of its files out-0, out-1…


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _upload(form: dict[str, Any], name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def _plain(name: str) -> bool:
    """A file name without control characters (a NUL, a line break) and not longer than a file system takes."""
    return name.isprintable() and len(Path(name).name.encode()) <= 200


def _choices(reader: Reader) -> dict[str, Any]:
    """What the page offers the reader: the evidence types `evidence import` takes from them, by kind of
    case (a household's, a village's, a project's…: those their posts attach), each with its blank sheet."""
    whats = [w for w in WHATS if reader.admin or w not in ADMIN_WHATS]
    kinds = sheet_types(reader.core, reader.actor)
    # a township's own sheet for the cases a township may hold (a project sited at it: in no village's)
    townships = lists.my_townships(reader.core, reader.actor) if any(
        kind not in AT_VILLAGES_ONLY for kind, _ in kinds) else []
    return {"villages": lists.my_villages(reader.core, reader.actor), "whats": whats, "recent": _recent(reader),
            "kinds": kinds, "townships": townships}


@router.get("/imports")
def import_form(request: Request, reader: Reader = Depends(needs("works"))):
    _remove_old(reader.core.settings.home)
    return page(request, "import.html", **_choices(reader), chosen={}, result=None)


def _but_this(choices: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """The page's choices with the recent imports' files less this import's own (shown as its result)."""
    own = {url for _name, url in result["downloads"]}
    return {**choices, "recent": [r for r in choices["recent"] if not own & {url for _n, url in r["files"]}]}


def _recent(reader: Reader) -> list[dict[str, Any]]:
    """The files the reader's own imports of the last hour left (a page closed before the result
    came still finds them here), newest first."""
    found = []
    for owner in (Path(reader.core.settings.home) / WORK).glob(f"{PREFIX}*/{OWNER}"):
        kept = _kept(owner.parent, reader)
        if kept is not None:
            ended, names = kept
            found.append({"ended": datetime.fromtimestamp(ended, timezone.utc), "files": [
                (name, f"/imports/files/{owner.parent.name}/{n}") for n, name in enumerate(names)]})
    return sorted(found, key=lambda r: r["ended"], reverse=True)


def _kept(place: Path, reader: Reader) -> tuple[float, list[str]] | None:
    """When a finished import of the reader's ended and the names of the files it left, if they are
    still within their hour; None for anything else (another person's, a running one, gone, expired)."""
    try:
        owner = (place / OWNER).read_text(encoding="utf-8")
        ended = (place / OWNER).stat().st_mtime
        names = json.loads((place / NAMES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if owner != reader.actor.code or time.time() - ended > KEPT_S or not isinstance(names, list):
        return None
    return ended, names


class _Slot:
    """One of the server's slots for long commands, taken before the upload is read (a person past
    their share is refused before sending gigabytes); given back when the import ends, or at once
    if it never starts."""

    def __init__(self, person: str):
        self.person, self.handed = person, False

    def give_when(self, work: asyncio.Future) -> None:
        self.handed = True
        work.add_done_callback(lambda _: give_slot(self.person))    # the import's, the browser gone or not


def import_slot(reader: Reader = Depends(needs("works"))) -> Iterator[_Slot]:
    slot = _Slot(reader.actor.code)
    take_slot(slot.person)
    try:
        yield slot
    finally:
        if not slot.handed:
            give_slot(slot.person)


@router.post("/imports", max_body_size=MAX_UPLOAD + 1024 * 1024)
async def run_import(request: Request, slot: _Slot = Depends(import_slot), form: dict = Depends(form_of),
                     reader: Reader = Depends(needs("works"))):
    """The file's command run as the reader; the page says what it did, or every reason it did nothing.
    An import still running after QUICK_S seconds is answered as it goes: the page's top at once,
    then its progress now and then (a line at least every HEARTBEAT_S: a proxy between, which
    would close a connection quiet for a minute, keeps it), then its result."""
    chosen = {k: _text(form, k) for k in ("what", "type", "village", "skip_bad", "replace", "reason",
                                          "confirm_figures")}
    sheet, attachments = _upload(form, "file"), _upload(form, "files")
    try:
        argv, sent = _command(chosen, sheet, attachments)
    except BadInput as refused:         # the form again, as it was chosen, with what to change
        result = {"exit": 2, "out": [], "err": [refused.render(reader.core.config, reader.lang)], "downloads": []}
        return page(request, "import.html", status=400, **_choices(reader), chosen=chosen, result=result)
    progress = _Progress()
    # the uploads copied while the request lasts, then let go (a large one waits in a temporary file)
    files = await run_in_threadpool(_Placed, reader.core.settings.home, argv, sent, sheet, attachments)
    await request.close()
    work = asyncio.ensure_future(run_in_threadpool(_run, reader, argv, sent, files, progress, chosen["what"]))
    slot.give_when(work)
    await asyncio.wait({work}, timeout=QUICK_S)
    choices = _choices(reader)
    if work.done():
        result = work.result()
        return page(request, "import.html", status=200 if result["exit"] == 0 else 400,
                    **_but_this(choices, result), chosen=chosen, result=result)
    running = page(request, "import.html", **choices, chosen=chosen, result=None, running=True).body.decode()
    return StreamingResponse(_as_it_goes(request, reader, running, work, progress, chosen),
                             media_type="text/html; charset=utf-8")


class _Progress:
    """What the import last said of its progress (from its thread): (text, done, total)."""

    def __init__(self):
        self.latest: tuple | None = None

    def __call__(self, text: str, done: int, total: int | None) -> None:
        self.latest = (text, done, total)

    def line(self) -> str:
        if self.latest is None:
            return ""
        text, done, total = self.latest
        return f"{text} {done * 100 // total}%" if total else f"{text} {done:,}"


async def _as_it_goes(request: Request, reader: Reader, running: str, work: asyncio.Future, progress: _Progress,
                      chosen: dict) -> AsyncIterator[str]:
    yield running.partition(RUNNING_END)[0]          # the page's top, down to the running import's list
    said, quiet = None, 0.0
    while not work.done():
        await asyncio.wait({work}, timeout=TICK_S)
        quiet += TICK_S
        line = progress.line()
        if line and line != said and quiet >= PROGRESS_S or quiet >= HEARTBEAT_S:
            said, quiet = line, 0.0
            yield f"<li>{escape(line or '…')}</li>\n"
    try:
        result = work.result()
    except Exception as exc:        # the status was sent: said on the page (its type logged, never its text)
        logging.getLogger("jingzhun.web").error("unexpected %s in an import from the web", type(exc).__name__)
        result = {"exit": 1, "out": [], "err": [cli_text("cli.remote.server_error", reader.lang, status=500)],
                  "downloads": []}
    done = page(request, "import.html", **_but_this(_choices(reader), result), chosen=chosen,
                result=result, running=True).body.decode()
    ended = texts(reader.core.config, reader.lang)["t"]("web.import.ended")
    yield f"<li>{escape(ended)}</li></ul></section>" + done.partition(RUNNING_END)[2]


def _command(chosen: dict[str, str], sheet: UploadFile | None, attachments: UploadFile | None
             ) -> tuple[list[str], list[SentFile]]:
    """The command line (as the reader's own machine would name the files) and the files it takes."""
    what = chosen["what"]
    if what not in WHATS:
        raise BadInput("import.web_what", what=what[:20] or "-", known=", ".join(WHATS))
    if sheet is None or Path(sheet.filename).suffix.lower() not in SHEETS or not _plain(sheet.filename):
        raise BadInput("import.web_no_sheet", name=Path(sheet.filename).name[:80] if sheet else "-")
    name = Path(sheet.filename).name
    if what == "households":
        argv = ["household", "import", name]
        if chosen["village"]:
            argv.append(f"--village={chosen['village']}")     # one word: a value is never read as an option
        argv += ["--to-confirm", f"{Path(name).stem}.to-confirm.xlsx"]
    elif what == "persons":      # the paper enrolment codes come back as a file to print the slips from
        argv = ["person", "import", name, "--codes-file", f"{Path(name).stem}.codes.csv"]
    elif what == "regions":
        argv = ["region", "import", name]
    else:
        if not chosen["type"]:
            raise BadInput("import.web_no_type")
        argv = ["evidence", "import", f"--type={chosen['type']}", name]
        if attachments is not None:
            if Path(attachments.filename).suffix.lower() != ".zip" or not _plain(attachments.filename):
                raise BadInput("import.web_not_zip", name=Path(attachments.filename).name[:80])
            argv += ["--files", Path(attachments.filename).name]
        if chosen["replace"]:            # each household's current item replaced (a yearly re-check)
            if not chosen["reason"]:
                raise BadInput("import.web_no_reason")
            argv += ["--replace", f"--reason={chosen['reason']}"]     # one word: never read as an option
        elif chosen["reason"]:           # a reason is a replacement's: said, not dropped
            raise BadInput("import.web_reason_without_replace")
        if chosen["confirm_figures"]:    # incomes far past the poverty line are right as typed
            argv.append("--confirm-figures")
    if chosen["skip_bad"]:
        argv += ["--skip-bad", f"{Path(name).stem}.bad-rows.xlsx"]     # a workbook: ID numbers stay whole in Excel
    outputs = {i for i, arg in enumerate(argv) if i and argv[i - 1] in ("--to-confirm", "--skip-bad", "--codes-file")}
    sent = [SentFile(index=argv.index(name), name=name)]
    if "--files" in argv:
        sent.append(SentFile(index=argv.index("--files") + 1, name=argv[argv.index("--files") + 1]))
    sent += [SentFile(index=i, name=argv[i], output=True) for i in sorted(outputs)]
    return argv, sent


class _Placed:
    """The uploaded files copied to a new private folder under work/, and the command line naming them."""

    def __init__(self, home: Path, argv: list[str], sent: list[SentFile], sheet: UploadFile,
                 attachments: UploadFile | None):
        _remove_old(home)
        self.folder, self.argv, self.placed = work_dir(home, PREFIX.rstrip("-")), list(argv), {}
        try:
            uploads = {sent[0].index: sheet, **({sent[1].index: attachments} if attachments is not None else {})}
            for n, s in enumerate(sent):
                target = self.folder / str(n) / s.name
                target.parent.mkdir(mode=0o700)
                if s.index in uploads:
                    with open_private(target, "wb") as out:
                        uploads[s.index].file.seek(0)
                        shutil.copyfileobj(uploads[s.index].file, out, 1 << 20)
                self.argv[s.index], self.placed[s.index] = str(target), target
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise


def _run(reader: Reader, argv: list[str], sent: list[SentFile], files: _Placed, progress: Any = None,
         what: str = "") -> dict[str, Any]:
    """The command on the placed files; what it said, whether it wrote anything (`written`: its import's
    event on record; False for a list checked again, registered as it gives it) and the files it wrote
    kept for their download."""
    folder = files.folder
    try:
        from entrypoints.cli.main import cli
        check_paths(command_path(cli, files.argv), files.argv, set(files.placed.values()))   # as for --server
        sha256 = file_sha256(str(files.placed[sent[0].index]))
        before = imports_of(reader.core, what, sha256)
        answer, back = finish(reader, CliRequest(argv=argv, lang=reader.lang, files=sent), files.argv, files.placed,
                              progress)
        written = before is None or imports_of(reader.core, what, sha256) != before
        kept = [(i, p) for i, p in sorted(back.items()) if p.is_file() and p.stat().st_size]
        err = _lines(answer.stderr)
        try:
            for n, (_i, p) in enumerate(kept):
                p.rename(folder / f"out-{n}")
            for n in range(len(sent)):
                shutil.rmtree(folder / str(n), ignore_errors=True)     # the uploaded files are not kept
            if kept:
                write_private(folder / OWNER, reader.actor.code)
                write_private(folder / NAMES, json.dumps([p.name for _i, p in kept], ensure_ascii=False))
            else:
                shutil.rmtree(folder, ignore_errors=True)
        except (OSError, CannotWrite) as exc:      # the command has run (an import saved): its files not kept
            shutil.rmtree(folder, ignore_errors=True)
            err.append(_not_kept(reader, argv, [i for i, _p in kept], written and answer.exit == 0, exc))
            kept = []
        downloads = [(p.name, f"/imports/files/{folder.name}/{n}") for n, (_i, p) in enumerate(kept)]
        return {"exit": answer.exit, "out": _lines(answer.stdout), "err": err,
                "downloads": downloads, "written": written}
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _not_kept(reader: Reader, argv: list[str], outputs: list[int], saved: bool, exc: OSError | CannotWrite) -> str:
    """The files an import wrote that the server could not keep for their download (its disk full, its
    work folder unwritable), said as the server's (no path of its); when the import was `saved`, with that
    and how to have each again (errors.said_by_server; bad_rows.saved_files_lost)."""
    from engine.domain.errors import Msg, cannot_write, said_by_server
    from entrypoints.cli.bad_rows import saved_files_lost
    said = said_by_server(exc if isinstance(exc, CannotWrite) else cannot_write(WORK, exc))
    logging.getLogger("jingzhun.web").error("the server cannot keep an import's files for download (%s)", said.code)
    options = {argv[i - 1] for i in outputs}
    if saved and options & {"--skip-bad", "--to-confirm"}:
        said = saved_files_lost(Msg("cli.import.saved_above"), Msg(f"msg.{said.code}", said.params),
                                True if "--skip-bad" in options else None, "--to-confirm" in options)
    return said.render(reader.core.config, reader.lang)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _remove_old(home: Path) -> None:
    """Finished imports' files past their hour are removed (whoever imported them). A folder without
    its OWNER is an import still running (or one a crashed server left: removed at the next start)."""
    work = Path(home) / WORK
    if not work.is_dir():
        return
    now = time.time()
    for owner in work.glob(f"{PREFIX}*/{OWNER}"):
        try:
            if now - owner.stat().st_mtime > KEPT_S:
                shutil.rmtree(owner.parent, ignore_errors=True)
        except FileNotFoundError:
            pass


@router.get("/imports/template")
def import_template(village: str = "", etype: str = Query("", alias="type"), fmt: str = Query("xlsx", alias="format"),
                    reader: Reader = Depends(downloads("works"))):
    """A blank evidence sheet of a type for one of the reader's villages (or, for a project's, townships),
    as `evidence template` writes it: a row per household (case number, household code, head's name
    filled in), the type's columns in the reader's language; the import above reads it back. Another
    village is one that does not exist."""
    if fmt not in FORMATS:
        raise NotFound("web.export.unknown", name=fmt[:40])
    with hidden_as(NotFound("region.unknown", code=village[:12])):
        title, header, cells = template_sheet(reader_ctx(reader), village, etype)
    return table_download(reader, title, village, fmt, header, cells)


@router.get("/imports/files/{folder}/{n}")
def import_file(folder: str, n: int, reader: Reader = Depends(needs("works"))):
    """A file an import of the reader's wrote (bad rows, ID numbers to confirm), within its hour."""
    missing = NotFound("import.web_file_gone")
    work = Path(reader.core.settings.home) / WORK
    if not folder.startswith(PREFIX) or not folder.isprintable() or "/" in folder or "\\" in folder:
        raise missing
    place = work / folder
    finished = _kept(place, reader)
    kept = place / f"out-{n}"
    if finished is None or not 0 <= n < len(finished[1]) or not kept.is_file():
        _remove_old(reader.core.settings.home)
        raise missing
    name = finished[1][n]
    return FileResponse(kept, filename=name, media_type=FORMATS.get(Path(name).suffix.lower().lstrip("."), FORMATS["csv"]))

