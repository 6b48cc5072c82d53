"""A `--server` client interrupted while it sends its command (a cadre's Ctrl-C during `evidence import`
or `household import`) is ordinary: the server logs one line naming the route, never a traceback (it
logged `ERROR: unexpected ClientDisconnect on POST /api/v1/cli/stream` and ~100 lines of traceback
each time, the exception running out of the application to the server), and writes nothing."""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.adapters.private_files import WORK

BOUNDARY = "b0undary"


def _run(coroutine) -> None:
    """The application called as the server calls it, on an event loop of its own in another thread
    (in the whole suite the browser tests' synchronous Playwright keeps a loop running in this one)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def _cut_short(web, token: str, person: str) -> list[dict]:
    """POST /api/v1/cli/stream as the client sends it, the connection gone after the command's part and
    the first bytes of a file; what the application sent back (it must not raise)."""
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="command"\r\n\r\n'
            '{"argv": ["evidence", "import", "@0", "--type", "drinking_water"]}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file-0"; filename="file-0"\r\n'
            'Content-Type: application/octet-stream\r\n\r\n').encode() + b"x" * 4096
    messages = [{"type": "http.request", "body": head, "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if len(messages) > 1 else messages[0]

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/v1/cli/stream", "raw_path": b"/api/v1/cli/stream", "root_path": "", "query_string": b"",
             "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000), "headers": [
                 (b"host", b"127.0.0.1:8000"), (b"authorization", f"Bearer {token}".encode()),
                 (b"x-jingzhun-person", person.encode()), (b"content-length", b"10000000"),
                 (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())]}
    _run(web(scope, receive, send))
    return sent


def test_a_client_gone_while_it_sends_is_one_line_in_the_log_and_nothing_is_written(world, caplog):
    from entrypoints.web import api_cli
    from entrypoints.web.app import create_app
    web = create_app(world.app)
    with world.app.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(t.audit_events)).scalar()
    with caplog.at_level(logging.INFO):
        _cut_short(web, world.tokens["vs"], "vs")          # the exception no longer runs out to the server
    said = [r for r in caplog.records if r.name.startswith("jingzhun")]
    assert [r.levelno for r in said] == [logging.INFO], [r.getMessage() for r in said]
    assert "POST /api/v1/cli/stream" in said[0].getMessage() and said[0].exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.audit_events)).scalar() == before
    assert "vs" not in api_cli._running          # its slot is free again
    assert not any((world.app.settings.home / WORK).rglob("*.parts"))


def test_a_page_asked_by_a_client_already_gone_logs_no_error(world, caplog):
    """A phone that dropped its connection while its page or a static file was asked for (every page asks
    for the favicon): Starlette's BaseHTTPMiddleware raised "No response returned" and the server logged
    it as an unexpected error with a traceback; the headers are set by a plain ASGI middleware now."""
    from entrypoints.web.app import create_app
    web = create_app(world.app)
    for path in ("/static/favicon.svg", "/signin"):
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
                 "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
                 "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000), "headers": [(b"host", b"127.0.0.1:8000")]}
        with caplog.at_level(logging.INFO):
            _run(web(scope, receive, send))
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], path
        for start in (m for m in sent if m["type"] == "http.response.start"):     # an answer to nobody, if any
            assert b"content-security-policy" in dict(start["headers"]), path
