"""Downloads of a jurisdiction's tables (`export` on the CLI): cases, household members, steps,
deadlines (all, or the open or overdue ones: `?status=`) and evidence (the items in force, or all:
`?all=1`; of one type, a column a field: `?type=`) of the reader's regions, or of one region within them, as CSV (UTF-8 with a BOM, as Excel
in China expects; streamed a chunk of rows at a time) or as an Excel workbook (written to a private
temporary file, sent, then removed). The cells are the CLI's (`file_cells`): labels in the
reader's language, local times, formula-safe text. A region outside the reader's jurisdiction is,
for them, one that does not exist (404). Every download is recorded in the activity log: a CSV before
its first row is read (its rows leave as they stream), a workbook once it is built whole on the server,
before it is sent (one the server's disk refused was never sent: not recorded); the CLI's `export`,
writing a file, records it once the file is whole (engine.services.exports)."""
from __future__ import annotations

import csv
import io
import logging
import os
import threading
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from engine.adapters.private_files import work_file
from engine.domain.errors import NotFound, render_text
from engine.reads.exports import PERSONAL, TABLES
from entrypoints.cli.exports import csv_chunks, file_cells, write_xlsx

from .access import downloads
from .deps import Reader
from .routes_bulk import hidden_as

router = APIRouter(include_in_schema=False)
log = logging.getLogger("jingzhun.web")
WORKBOOK_AT_ONCE = 1.0      # seconds: a workbook not written by then starts its download before it is whole
CSV_CHUNK_ROWS = 2000       # a CSV's rows sent at a time
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.get("/export/{name}")
def export_all(name: str, request: Request, status: str = "all", etype: str = Query("", alias="type"),
               replaced: str = Query("", alias="all"), reader: Reader = Depends(downloads("signed_in"))):
    """A table of the reader's whole jurisdiction: /export/members.csv, /export/cases.xlsx,
    /export/deadlines.csv?status=overdue, /export/evidence.xlsx?type=income_check&all=1…"""
    return _download(reader, name, None, status, etype, replaced)


@router.get("/regions/{code}/export/{name}")
def export_region(code: str, name: str, request: Request, status: str = "all", etype: str = Query("", alias="type"),
                  replaced: str = Query("", alias="all"), reader: Reader = Depends(downloads("signed_in"))):
    """A table of one region within the reader's jurisdiction (a village, a township…)."""
    with hidden_as(NotFound("region.unknown", code=code[:12])):
        return _download(reader, name, code, status, etype, replaced)


def _download(reader: Reader, name: str, region: str | None, status: str = "all", etype: str = "",
              replaced: str = ""):
    table, _, fmt = name.partition(".")
    if table not in TABLES or fmt not in FORMATS:
        raise NotFound("web.export.unknown", name=name[:40])
    title, header, cells, record = file_cells(reader_ctx(reader), table, region, fmt, status=status,
                                              evidence_type=etype or None, replaced=replaced not in ("", "0"))
    return table_download(reader, title, region or reader.actor.code, fmt, header, cells, record,   # region checked
                          name=f"{name} of {region or 'the whole jurisdiction'}")


def person_download(reader: Reader, code: str, name: str):
    """One person's steps or responsibilities, as their trace lists them (`export steps|responsibilities
    --person`): /inspect/trace/person/CODE/steps.csv, …/responsibilities.xlsx; the page's and the API's.
    Recorded with the person's code; a person beyond the reader's reach refused as their trace is."""
    table, _, fmt = name.partition(".")
    if table not in PERSONAL or fmt not in FORMATS:
        raise NotFound("web.export.unknown", name=name[:40])
    title, header, cells, record = file_cells(reader_ctx(reader), table, None, fmt, person=code)
    return table_download(reader, title, code, fmt, header, cells, record, name=f"{name} of a person's trace")


def table_download(reader: Reader, title: str, scope: str, fmt: str, header: list[str], cells,
                   record: Callable[[], None] | None = None, name: str | None = None):
    """Rows as the download `{title}-{scope}-{today}.{fmt}`: CSV streamed, a workbook from a private file;
    `record` (an export's recording) called before a CSV's first row, or once the workbook is whole;
    `name`: the download as the server's log names it should it fail once begun (its file name)."""
    filename = f"{title}-{scope}-{reader.core.clock.today().isoformat()}.{fmt}"
    disposition = attachment(filename, f"export.{fmt}")
    if fmt == "csv":
        if record is not None:
            record()
        config, lang = reader.core.config, reader.lang
        cut_short = lambda sent: render_text(config, "export_cut.csv_line", {"count": sent}, lang) or ""  # noqa: E731
        return StreamingResponse(_csv_sent(csv_chunks(header, cells, CSV_CHUNK_ROWS), name or filename, cut_short),
                                 media_type=FORMATS[fmt], headers=disposition)
    return workbook_download(reader, "export", lambda path: write_xlsx(path, title, header, cells, then=record),
                             disposition, name or filename)


class DownloadCutShort(Exception):
    """A download that failed after its bytes began to leave, logged in one line where it failed: the
    server ends the connection with no end to the body (app._Crashed), which the browser shows as a
    failed download, never as a file that looks whole; nothing more logged (no traceback, whose text
    may quote a row)."""


def _csv_sent(chunks: Iterator[tuple[str, int]], name: str, cut_short: Callable[[int], str]) -> Iterator[bytes]:
    """A CSV's chunks as bytes. One failing after the first left (a database gone mid-table) ends the
    file with a line saying it is cut short, with the rows sent (a copy kept of what arrived says what it
    is; an import of it refuses that line), logs one line naming the download and cuts the connection.
    One failing before any left fails as any page does (its error page)."""
    sent = None
    try:
        for text, count in chunks:
            yield text.encode("utf-8")
            sent = count
    except Exception as exc:
        if sent is None:
            raise
        log.warning("the download %s was cut short after %d rows: %s", name, sent, type(exc).__name__)
        line = io.StringIO()
        csv.writer(line).writerow([cut_short(sent)])
        yield line.getvalue().encode("utf-8")
        raise DownloadCutShort() from None


def reader_ctx(reader: Reader):
    """The CLI's context for the signed-in reader, in their language: the web writes a file as the CLI does."""
    from entrypoints.cli.context import Ctx
    return Ctx(None, None, reader.lang, reader.actor.code, _app=reader.core, _actor=reader.actor)


def attachment(filename: str, fallback: str) -> dict[str, str]:
    """A download's Content-Disposition: its name in UTF-8, and `fallback` for a client reading ASCII only."""
    return {"Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"}


def workbook_download(reader: Reader, kind: str, write: Callable[[str], Any], headers: dict[str, str],
                      name: str | None = None):
    """A workbook `write(path)` writes to a private work file (0600: it may hold personal data), sent,
    then removed. One written within `WORKBOOK_AT_ONCE` seconds is answered as a whole file (a refusal,
    a full disk, answered in words); a larger one (a county's steps: 5.6 s for 2,000 households) starts
    the download at once, its name in the browser's downloads, and sends its bytes once it is whole:
    before, the browser showed nothing at all until then. Should that one fail, the download is cut
    off (the browser marks it failed), never sent as a file, and the log says so in one line naming it
    (`name`, else `kind`)."""
    path = str(work_file(reader.core.settings.home, kind, ".xlsx"))
    built, failed = threading.Event(), []

    def build() -> None:
        try:
            write(path)     # one the disk refuses: said as the server's (app: errors.said_by_server)
        except BaseException as exc:      # noqa: B036 - handed to the request that waits for it
            Path(path).unlink(missing_ok=True)
            failed.append(exc)
        finally:
            built.set()

    threading.Thread(target=build, name=f"workbook-{kind}", daemon=True).start()
    if built.wait(WORKBOOK_AT_ONCE):
        if failed:
            raise failed[0]
        return FileResponse(path, media_type=FORMATS["xlsx"], headers=headers,
                            background=BackgroundTask(os.unlink, path))
    return StreamingResponse(_when_built(built, failed, path, name or kind), media_type=FORMATS["xlsx"],
                             headers=headers)


def _when_built(built: threading.Event, failed: list, path: str, name: str) -> Iterator[bytes]:
    """The workbook's bytes once it is whole (Starlette runs each step in its thread pool)."""
    built.wait()
    try:
        if failed:
            log.warning("the download %s failed after it began: %s", name, type(failed[0]).__name__)
            raise DownloadCutShort() from None
        with open(path, "rb") as file:
            while chunk := file.read(1 << 16):
                yield chunk
    finally:
        Path(path).unlink(missing_ok=True)
