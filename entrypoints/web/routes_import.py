"""Registries and sheets from a file, in the browser: a county's or a village's households
(`household import`), an evidence sheet with its signed files in a .zip (`evidence import`), and
for administrators people with their posts (`person import`, the paper enrolment codes back as a
file) and regions (`region import`).

The page runs the very command the CLI runs, and that `jingzhun --server` runs on this server
(entrypoints.web.api_cli: the uploaded files in a private folder under the data home's work/,
every file parameter one of them, the command as the signed-in person, in their language): the
same checks, all or none, every bad row said at once with its line, column and reason. With
"skip bad rows" the good ones are imported and the bad ones, with their reasons, come back as a
CSV to download (opens in Excel); so does the list of ID numbers to confirm. Those files hold
personal data: kept 0600 for an hour for the person who imported, then removed.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from engine.adapters.private_files import WORK, open_private, work_dir, write_private
from engine.domain.errors import BadInput, NotFound
from engine.reads import village_lists as lists

from .access import needs
from .api_cli import CliRequest, SentFile, command_slot, finish
from .deps import Reader, form_of
from .render import page
from entrypoints.cli.remote import MAX_UPLOAD

router = APIRouter(include_in_schema=False)
WHATS = ("households", "evidence", "persons", "regions")
ADMIN_WHATS = ("persons", "regions")       # offered to administrators only (the commands check again)
SHEETS = (".csv", ".xlsx")
KEPT_S = 3600            # how long the files an import wrote wait for their download
PREFIX = "import-"       # the folders of imports (work_dir's), kept for their downloads
OWNER = "owner"          # in such a folder: the person code of who imported
NAMES = "names"          # and the names of its files out-0, out-1…, a line each


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _upload(form: dict[str, Any], name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def _choices(reader: Reader) -> dict[str, Any]:
    workflow = reader.core.config.workflows.get("household")
    types = [k for k, d in workflow.evidence_types.items() if d.fields or d.file] if workflow else []
    whats = [w for w in WHATS if reader.admin or w not in ADMIN_WHATS]
    return {"villages": lists.my_villages(reader.core, reader.actor), "types": types, "whats": whats}


@router.get("/imports")
def import_form(request: Request, reader: Reader = Depends(needs("works"))):
    return page(request, "import.html", **_choices(reader), chosen={}, result=None)


@router.post("/imports", max_body_size=MAX_UPLOAD + 1024 * 1024)
async def run_import(request: Request, form: dict = Depends(form_of), reader: Reader = Depends(needs("works"))):
    """The file's command run as the reader; the page says what it did, or every reason it did nothing."""
    chosen = {k: _text(form, k) for k in ("what", "type", "village", "skip_bad")}
    sheet, attachments = _upload(form, "file"), _upload(form, "files")
    argv, sent = _command(chosen, sheet, attachments)
    with command_slot(reader.actor.code):
        result = await run_in_threadpool(_run, reader, argv, sent, sheet, attachments)
    return page(request, "import.html", status=200 if result["exit"] == 0 else 400, **_choices(reader),
                chosen=chosen, result=result)


def _command(chosen: dict[str, str], sheet: UploadFile | None, attachments: UploadFile | None
             ) -> tuple[list[str], list[SentFile]]:
    """The command line (as the reader's own machine would name the files) and the files it takes."""
    what = chosen["what"]
    if what not in WHATS:
        raise BadInput("import.web_what", what=what[:20] or "-", known=", ".join(WHATS))
    if sheet is None or Path(sheet.filename).suffix.lower() not in SHEETS:
        raise BadInput("import.web_no_sheet", name=Path(sheet.filename).name[:80] if sheet else "-")
    name = Path(sheet.filename).name
    if what == "households":
        argv = ["household", "import", name]
        if chosen["village"]:
            argv.append(f"--village={chosen['village']}")     # one word: a value is never read as an option
        argv += ["--to-confirm", f"{Path(name).stem}.to-confirm.csv"]
    elif what == "persons":      # the paper enrolment codes come back as a file to print the slips from
        argv = ["person", "import", name, "--codes-file", f"{Path(name).stem}.codes.csv"]
    elif what == "regions":
        argv = ["region", "import", name]
    else:
        if not chosen["type"]:
            raise BadInput("import.web_no_type")
        argv = ["evidence", "import", f"--type={chosen['type']}", name]
        if attachments is not None:
            if Path(attachments.filename).suffix.lower() != ".zip":
                raise BadInput("import.web_not_zip", name=Path(attachments.filename).name[:80])
            argv += ["--files", Path(attachments.filename).name]
    if chosen["skip_bad"]:
        argv += ["--skip-bad", f"{Path(name).stem}.bad-rows.csv"]
    outputs = {i for i, arg in enumerate(argv) if i and argv[i - 1] in ("--to-confirm", "--skip-bad", "--codes-file")}
    sent = [SentFile(index=argv.index(name), name=name)]
    if "--files" in argv:
        sent.append(SentFile(index=argv.index("--files") + 1, name=argv[argv.index("--files") + 1]))
    sent += [SentFile(index=i, name=argv[i], output=True) for i in sorted(outputs)]
    return argv, sent


def _run(reader: Reader, argv: list[str], sent: list[SentFile], sheet: UploadFile,
         attachments: UploadFile | None) -> dict[str, Any]:
    home = reader.core.settings.home
    _remove_old(home)
    folder = work_dir(home, PREFIX.rstrip("-"))
    try:
        uploads = {sent[0].index: sheet, **({sent[1].index: attachments} if attachments is not None else {})}
        server_argv, placed = list(argv), {}
        for n, s in enumerate(sent):
            target = folder / str(n) / s.name
            target.parent.mkdir(mode=0o700)
            if s.index in uploads:
                with open_private(target, "wb") as out:
                    uploads[s.index].file.seek(0)
                    shutil.copyfileobj(uploads[s.index].file, out, 1 << 20)
            server_argv[s.index], placed[s.index] = str(target), target
        answer, back = finish(reader, CliRequest(argv=argv, lang=reader.lang, files=sent), server_argv, placed)
        written = [p for _, p in sorted(back.items()) if p.is_file() and p.stat().st_size]
        for n, p in enumerate(written):
            p.rename(folder / f"out-{n}")
        for n in range(len(sent)):
            shutil.rmtree(folder / str(n), ignore_errors=True)     # the uploaded files are not kept
        if written:
            write_private(folder / OWNER, reader.actor.code)
            write_private(folder / NAMES, "\n".join(p.name for p in written))
        else:
            shutil.rmtree(folder, ignore_errors=True)
        downloads = [(p.name, f"/imports/files/{folder.name}/{n}") for n, p in enumerate(written)]
        return {"exit": answer.exit, "out": _lines(answer.stdout), "err": _lines(answer.stderr),
                "downloads": downloads}
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _remove_old(home: Path) -> None:
    """Imports' files past their hour are removed (whoever imported them)."""
    work = Path(home) / WORK
    if not work.is_dir():
        return
    now = time.time()
    for folder in work.glob(f"{PREFIX}*"):
        try:
            if now - folder.stat().st_mtime > KEPT_S:
                shutil.rmtree(folder, ignore_errors=True)
        except FileNotFoundError:
            pass


@router.get("/imports/files/{folder}/{n}")
def import_file(folder: str, n: int, reader: Reader = Depends(needs("works"))):
    """A file an import of the reader's wrote (bad rows, ID numbers to confirm), within its hour."""
    missing = NotFound("import.web_file_gone")
    work = Path(reader.core.settings.home) / WORK
    place = work / folder
    if not folder.startswith(PREFIX) or place.parent != work or "/" in folder or folder in (".", ".."):
        raise missing
    try:
        owner = (place / OWNER).read_text(encoding="utf-8")
        kept = place / f"out-{n}"
        name = next(iter((place / NAMES).read_text(encoding="utf-8").splitlines()[n:n + 1]), None)
    except (FileNotFoundError, NotADirectoryError):
        raise missing from None
    if owner != reader.actor.code or name is None or not kept.is_file() or \
            time.time() - place.stat().st_mtime > KEPT_S:
        raise missing
    return FileResponse(kept, filename=name, media_type="text/csv; charset=utf-8")

