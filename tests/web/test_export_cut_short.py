"""A download that fails after it began (a database gone mid-table, a disk that fills while a large
workbook is written): the browser must see a failed download, never a file that looks whole. The server
said so with tracebacks (Starlette's, uvicorn's "Exception in ASGI application", whose text may quote a
row); now one line naming the download, no traceback, no row's data. A CSV cut short ends with a line
saying so, in the reader's language (a copy kept of the part received tells what it is)."""
from __future__ import annotations

import errno
import logging
import threading

import httpx
import pytest
from sqlalchemy.exc import OperationalError

NAME = "张桂英 362131196101010700"      # a row's data, as a driver's error may quote it


class Kept(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def server_log():
    """What the server's loggers (ours, uvicorn's and Starlette's) write meanwhile."""
    kept, loggers = Kept(), [logging.getLogger(n) for n in ("jingzhun", "uvicorn", "starlette")]
    for each in loggers:
        each.addHandler(kept)
    yield kept.records
    for each in loggers:
        each.removeHandler(kept)


def _headers(demo_home) -> dict[str, str]:
    settings, _ = demo_home
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    return {"X-Jingzhun-Person": "v01_secretary", "Authorization": f"Bearer {tokens['v01_secretary']}"}


def _received(live_server, demo_home, path: str) -> bytes:
    """The body's bytes until the server cut it off (an HTTP error, as a browser's failed download)."""
    got = b""
    with httpx.Client(base_url=live_server, timeout=30) as client:
        with client.stream("GET", path, headers=_headers(demo_home)) as answer:
            assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
            with pytest.raises(httpx.HTTPError):        # cut off: no end to its body
                for chunk in answer.iter_bytes():
                    got += chunk
    return got


def _said_once(records, name: str) -> None:
    assert not [r for r in records if r.exc_info], [r.getMessage() for r in records if r.exc_info]   # no traceback
    ours = [r.getMessage() for r in records if r.name.startswith("jingzhun")]
    assert len(ours) == 1 and name in ours[0], ours
    assert not any(NAME.split()[0] in r.getMessage() or NAME.split()[1] in r.getMessage() for r in records)


def test_a_csv_that_fails_after_its_download_began_ends_with_a_line_saying_so_and_one_log_line(
        demo_home, live_server, monkeypatch, server_log):
    from entrypoints.web import routes_export
    real = routes_export.file_cells

    def failing(*args, **kwargs):
        title, header, cells, record = real(*args, **kwargs)

        def three_then_gone():
            for n, row in enumerate(cells):
                if n == 3:
                    raise OperationalError("SELECT … WHERE name = ?", (NAME,), Exception("server closed the connection"))
                yield row
        return title, header, three_then_gone(), record

    monkeypatch.setattr(routes_export, "file_cells", failing)
    monkeypatch.setattr(routes_export, "CSV_CHUNK_ROWS", 2)          # its first rows sent before it fails
    text = _received(live_server, demo_home, "/export/members.csv").decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 4 and "以上 2 行" in lines[-1] and "不完整" in lines[-1] and "请重新下载" in lines[-1], lines
    _said_once(server_log, "members")


def test_a_workbook_that_fails_after_its_download_began_is_logged_in_one_line_naming_it(
        demo_home, live_server, monkeypatch, server_log):
    from entrypoints.web import routes_export
    monkeypatch.setattr(routes_export, "WORKBOOK_AT_ONCE", 0.05)      # its download begun before it fails
    release = threading.Event()

    def full(*args, **kwargs):
        release.wait(0.5)
        raise OSError(errno.ENOSPC, f"No space left on device writing {NAME}")

    monkeypatch.setattr(routes_export, "write_xlsx", full)
    assert _received(live_server, demo_home, "/export/steps.xlsx") == b""
    _said_once(server_log, "steps")
