"""A server that cannot keep what it is sent (its disk full, or a file larger than its disk allows):
an upload was answered by a bare server error (`{"error": "server.error"}`, no words) and the
server's log held the failure's whole traceback. Now it is said in the reader's language (HTTP 507),
nothing is recorded and nothing is left behind; and no failure's text reaches the log (an
exception's text can quote a row's data).

The server is a real process whose files may not grow past a limit (RLIMIT_FSIZE: the operating
system's own EFBIG, as a file too large for its disk gives): above every file the data home holds,
below the upload, which the server spools to its temporary folder before any route reads it."""
from __future__ import annotations

import logging
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.web.test_cli_streaming import start_server, tokens
from tests.web.test_serve import stop_server

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


@pytest.fixture
def cramped(demo_home, tmp_path):
    """`jingzhun serve` over the demo home, no file of it growing past the home's largest file and
    4 MB more: (base URL, its temporary folder, the upload's size, the server's process)."""
    settings, _ = demo_home
    largest = max(p.stat().st_size for p in settings.home.rglob("*") if p.is_file())
    limit = largest + 4 * MB
    upload = limit + 2 * MB
    assert upload < 60 * MB, "the demo home outgrew this test's upload limit"
    spool = tmp_path / "tmp"
    spool.mkdir()

    def cramp() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # EFBIG said to the writer, not a signal killing it
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    base, process = start_server(settings, {"TMPDIR": str(spool)}, preexec_fn=cramp)
    yield base, spool, upload, process
    if process.poll() is None:
        stop_server(process)


def evidence_count(settings) -> int:
    with sqlite3.connect(settings.home / "jingzhun.db") as db:
        return db.execute("SELECT count(*) FROM evidence").fetchone()[0]


def test_an_upload_the_server_cannot_keep_is_said_so_in_words_and_records_nothing(cramped, demo_home, tmp_path):
    settings, _ = demo_home
    base, spool, size, process = cramped
    photo = tmp_path / "房屋.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(size) + b"\x00\x00\x00\x00IEND\xaeB`\x82")   # whole: its IEND chunk
    token = tokens(settings)["v01_secretary"]
    case = httpx.get(base + "/api/v1/cases?limit=1", headers={
        "X-Jingzhun-Person": "v01_secretary", "Authorization": f"Bearer {token}"}).json()["cases"][0]["id"]
    before = evidence_count(settings)
    answers = {}
    for lang in ("zh", "en"):
        with open(photo, "rb") as fh:
            answers[lang] = httpx.post(
                f"{base}/api/v1/cases/{case}/evidence", timeout=60,
                headers={"X-Jingzhun-Person": "v01_secretary", "Authorization": f"Bearer {token}",
                         "Accept-Language": lang},
                data={"type": "housing_photo", "fields": "{}"}, files={"file": ("房屋.png", fh, "image/png")})
    assert [a.status_code for a in answers.values()] == [507, 507]
    assert answers["zh"].json()["error"] == "web.disk_full"
    assert "服务器的磁盘已满" in answers["zh"].json()["message"] and "没有登记" in answers["zh"].json()["message"]
    assert "the server's disk is full" in answers["en"].json()["message"]
    assert str(settings.home) not in answers["zh"].text and str(spool) not in answers["zh"].text
    assert evidence_count(settings) == before
    assert list(spool.iterdir()) == []          # no half upload, no folder of it
    # the cadre's own command through the server: its file goes to the data home's working folder
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    client = subprocess.run([sys.executable, "-m", "cli", "--server", base, "--as", "v01_secretary", "evidence",
                             "add", str(case), "housing_photo", "--file", str(photo)], cwd=ROOT, capture_output=True,
                            text=True, env=dict(env, JINGZHUN_TOKEN=token), timeout=120)
    assert client.returncode == 1 and "服务器的磁盘已满" in client.stderr, client.stderr
    assert "Traceback" not in client.stderr and evidence_count(settings) == before
    assert not [p for p in (settings.home / "work").rglob("*") if p.is_file()]
    log = stop_server(process)
    assert "Traceback" not in log and "Exception in ASGI" not in log
    assert "the server's disk is full (EFBIG on POST /api/v1/cases/" in log


def test_a_page_s_upload_the_server_cannot_keep_is_said_on_its_page(cramped, demo_home, tmp_path):
    settings, sign_ins = demo_home
    base, spool, size, process = cramped
    registry = tmp_path / "名单.csv"
    with open(registry, "w", encoding="utf-8") as fh:
        row = "360730100201,H1,某某,360730199001011234,户主\n"
        fh.write("村编码,户编号,姓名,身份证号,与户主关系\n" + row * (size // len(row.encode()) + 1))
    browser = httpx.Client(base_url=base, timeout=60)
    pre = re.search(r'name="pre" value="([^"]+)"', browser.get("/signin").text).group(1)
    code, password = sign_ins["county"]
    assert browser.post("/signin", data={"person": code, "password": password, "pre": pre, "next": "/"}).status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/imports").text).group(1)
    with open(registry, "rb") as fh:
        answer = browser.post("/imports", data={"csrf": csrf, "what": "households"},
                              files={"file": ("名单.csv", fh, "text/csv")})
    assert answer.status_code == 507
    assert "服务器的磁盘已满" in answer.text and "<header" in answer.text       # the page, with its menu
    assert list(spool.iterdir()) == []
    assert "Traceback" not in stop_server(process)


def test_a_route_s_failure_is_answered_and_logged_without_its_text(web, core, monkeypatch, caplog):
    """A failure no handler answers reached the log whole (uvicorn printed Starlette's re-raised
    exception with its message: a driver's error quotes the row's values). The log names the route,
    the type and where it was raised; the test client now gets the answer, not the exception."""
    from fastapi.testclient import TestClient
    from engine.reads import audit_verify
    from engine.services.accounts import open_session
    from tests.web.test_inspector import actor_of

    def fails(*_args, **_kwargs):
        raise RuntimeError("张三 360730199001011234")
    monkeypatch.setattr(audit_verify, "verify", fails)
    secret, csrf = open_session(core, actor_of(core, "inspector"))
    with caplog.at_level(logging.ERROR), TestClient(web, follow_redirects=False) as inspector:
        inspector.cookies.set("jz_session", secret)
        answer = inspector.post("/inspect/verify", data={"csrf": csrf})
    assert answer.status_code == 500 and "服务器出错" in answer.text and "张三" not in answer.text
    said = [r.getMessage() for r in caplog.records if r.name == "jingzhun.web"]
    assert any(s.startswith("unexpected RuntimeError on POST /inspect/verify at test_disk_full.py:") for s in said), said
    assert not any("张三" in s or "360730199001011234" in s for s in said)


def test_an_api_call_with_a_token_but_no_person_says_which_header_is_missing(live_server, demo_home):
    """It said 缺少令牌：请设置 JINGZHUN_TOKEN（-）, the CLI's advice, to a program that had sent its token."""
    settings, _ = demo_home
    token = tokens(settings)["v01_secretary"]
    for lang, words in (("zh", "X-Jingzhun-Person"), ("en", "the X-Jingzhun-Person header")):
        answer = httpx.get(f"{live_server}/api/v1/cases?limit=1", timeout=30,
                           headers={"Authorization": f"Bearer {token}", "Accept-Language": lang})
        assert answer.status_code == 401 and answer.json()["error"] == "web.api_no_person"
        assert words in answer.json()["message"] and "JINGZHUN_TOKEN" not in answer.json()["message"]


def _work_folder_full(work: Path):
    """For a server's Popen: its own mount namespace in which the home's work/ (where it builds a workbook)
    is a tmpfs of 4 KB, filled to the brim (root only: skipped elsewhere); its own session is start_server's."""
    import ctypes

    def preexec() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        ms_rec, ms_private = 16384, 1 << 18
        if libc.unshare(0x00020000) or libc.mount(b"none", b"/", None, ms_rec | ms_private, None) or libc.mount(
                b"tmpfs", str(work).encode(), b"tmpfs", 0, b"size=4k,mode=0700"):
            raise OSError(ctypes.get_errno(), "no mount namespace of our own")
        try:
            with open(work / "filler", "wb") as fh:
                while True:
                    fh.write(bytes(4096))
                    fh.flush()
        except OSError:
            pass
    return preexec


def serve_work_full(settings) -> tuple[str, subprocess.Popen]:
    """`jingzhun serve` over the home of `settings` whose work folder (where it builds a workbook, takes a
    command's files in and writes those the command writes) is a disk full to the brim: (base URL, the
    process, its own session). Skipped unless root (a mount namespace)."""
    if os.geteuid() != 0:
        pytest.skip("a disk of its own for the server's work folder needs root (a mount namespace)")
    work = settings.home / "work"
    work.mkdir(exist_ok=True)
    return start_server(settings, preexec_fn=_work_folder_full(work))


def test_a_workbook_download_the_server_s_disk_refused_is_said_and_not_recorded_as_taken(demo_home, tmp_path):
    """A workbook of the members (ID numbers, phones) or of the assessment is built on the server before it is
    sent; it was recorded in the activity log first, so one the server's disk refused stood there as taken,
    and the refusal (400) named the server's own work file by its path. Now it is recorded once it is whole:
    refused as the server's full disk (507), nothing recorded; a CSV, whose rows leave as they stream, is
    recorded before its first row as before."""
    settings, sign_ins = demo_home
    base, process = serve_work_full(settings)
    try:
        browser = signed_in_at(base, sign_ins["county"])
        before = exported(settings)
        for path in ("/export/members.xlsx", "/supervise/assessment.xlsx"):
            answer = browser.get(path)
            assert answer.status_code == 507 and "服务器的磁盘已满" in answer.text, (path, answer.status_code)
        assert exported(settings) == before
        assert browser.get("/export/members.csv").status_code == 200
        assert exported(settings) == before + 1
    finally:
        log = stop_server(process)
    assert "Traceback" not in log


def signed_in_at(base: str, sign_in: tuple[str, str]) -> httpx.Client:
    """A browser signed in at the server `base` as (person code, password)."""
    browser = httpx.Client(base_url=base, timeout=120)
    pre = re.search(r'name="pre" value="([^"]+)"', browser.get("/signin").text).group(1)
    code, password = sign_in
    assert browser.post("/signin", data={"person": code, "password": password, "pre": pre,
                                         "next": "/"}).status_code == 303
    return browser


def exported(settings) -> int:
    """How many exports the activity log holds."""
    with sqlite3.connect(settings.home / "jingzhun.db") as db:
        return db.execute("SELECT count(*) FROM audit_events WHERE action = 'exported'").fetchone()[0]
