"""`jingzhun --server`: files go up and come back a chunk at a time (multipart both ways), so a
registry larger than memory should allow is sent, and an answer cut short leaves no half file.

The server and the client are real processes here (`jingzhun serve` over the demo home, and the
`jingzhun` command), so the peak memory of each is its own."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from entrypoints.cli.main import main
from tests.web.test_serve import stop_server
from tests.web.conftest import free_port

MB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


def tokens(settings) -> dict[str, str]:
    lines = (settings.home / "demo-tokens.csv").read_text().splitlines()
    return dict(line.split(",", 1) for line in lines if line.strip())


def peak_mb(pid: int) -> float:
    """A live process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def start_server(settings, env: dict | None = None, **popen) -> tuple[str, subprocess.Popen]:
    """`jingzhun serve` over the home of `settings` in its own process (its own session), once it
    answers: (base URL, the process). `env`: more of the environment; `popen`: more of Popen's options."""
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}, **(env or {})}
    process = subprocess.Popen([sys.executable, "-m", "cli", "--home", str(settings.home), "serve", "--port",
                                str(port), "--no-scheduler"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True, **popen)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/signin", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        threading.Event().wait(0.1)
    else:
        process.kill()
    if process.poll() is not None:
        raise AssertionError(process.communicate()[0][-2000:])
    return base, process


@pytest.fixture
def served(demo_home):
    """`jingzhun serve` over the demo home in its own process; (base URL, its pid)."""
    settings, _ = demo_home
    base, process = start_server(settings)
    yield base, process.pid
    assert "Traceback" not in stop_server(process)


@pytest.fixture
def as_secretary(live_server, demo_home, monkeypatch, capsys):
    """as_secretary(*argv) -> (exit, stdout, stderr) of `jingzhun --server … --as v01_secretary argv…`."""
    settings, _ = demo_home
    monkeypatch.delenv("JINGZHUN_HOME", raising=False)
    monkeypatch.delenv("JINGZHUN_DB", raising=False)
    monkeypatch.setenv("JINGZHUN_TOKEN", tokens(settings)["v01_secretary"])

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--server", live_server, "--as", "v01_secretary", *argv])
        got = capsys.readouterr()
        return code, got.out, got.err
    return run


def client(settings, base: str, who: str, *argv: str) -> tuple[int, str, str, float]:
    """`jingzhun --server base --as who …` in its own process: exit, stdout, stderr, its peak MB."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    env["JINGZHUN_TOKEN"] = tokens(settings)[who]
    launcher = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
                "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr); "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")
    done = subprocess.run([sys.executable, "-c", launcher, sys.executable, "-m", "cli", "--server", base, "--as", who,
                           *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    err, _, peak = done.stderr.rstrip("\n").rpartition("\n")
    return done.returncode, done.stdout, err, int(peak) / 1024


def test_a_registry_bigger_than_a_json_body_may_be_goes_up_in_constant_memory(served, demo_home, tmp_path):
    """96 MB: over the 64 MB that went in one base64 JSON body, which both sides held whole."""
    settings, _ = demo_home
    base, pid = served
    registry = tmp_path / "全市名册.csv"
    with open(registry, "w", encoding="utf-8") as fh:      # columns the import does not know: refused on reading
        fh.write("编号,村名,备注\n")
        row = "A0000001,洋塘村," + "备" * 40 + "\n"
        fh.write(row * (96 * MB // len(row.encode())))
    assert registry.stat().st_size > 64 * MB
    before = peak_mb(pid)
    code, out, err, client_peak = client(settings, base, "admin", "household", "import", str(registry))
    grew = peak_mb(pid) - before
    assert code == 2 and out == "", err
    assert "[csv.columns" in err and str(registry) in err and "/work/cli-" not in err     # the server read it
    assert grew < 40, f"the server grew {grew:.0f} MB for a 96 MB upload"
    assert client_peak < 60, f"the client peaked at {client_peak:.0f} MB for a 96 MB upload"


def test_an_export_comes_back_whole_through_a_server_process(served, demo_home, tmp_path):
    settings, _ = demo_home
    base, _pid = served
    out = tmp_path / "成员.xlsx"
    code, said, err, _ = client(settings, base, "county_director", "export", "members", "--xlsx", str(out))
    assert code == 0, err
    assert out.read_bytes()[:2] == b"PK" and oct(out.stat().st_mode & 0o777) == "0o600"
    assert not list(tmp_path.glob(".*.part"))
    from openpyxl import load_workbook
    rows = list(load_workbook(out, read_only=True).active.iter_rows(values_only=True))
    assert len(rows) > 40 and rows[0][0]


def test_a_wrong_token_is_said_before_a_big_file_is_sent(live_server, demo_home, monkeypatch, capsys, tmp_path):
    settings, _ = demo_home
    registry = tmp_path / "名册.csv"
    registry.write_bytes(b"x" * (2 * MB))
    monkeypatch.delenv("JINGZHUN_HOME", raising=False)
    monkeypatch.delenv("JINGZHUN_DB", raising=False)
    monkeypatch.setenv("JINGZHUN_TOKEN", "not-the-token")
    code = main(["--server", live_server, "--as", "admin", "household", "import", str(registry)])
    got = capsys.readouterr()
    assert code == 1 and got.out == "" and "[auth.bad_token]" in got.err


def drain(handler: BaseHTTPRequestHandler) -> None:
    """Read the request's body (of a declared length, or chunked) before answering."""
    length = handler.headers.get("Content-Length")
    if length:
        handler.rfile.read(int(length))
    elif handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        while (size := int(handler.rfile.readline().strip() or b"0", 16)) > 0:
            handler.rfile.read(size + 2)
        handler.rfile.readline()


class _CutShort(BaseHTTPRequestHandler):
    """A server whose answer says a file follows, then stops half way through it."""

    def do_POST(self):
        drain(self)
        answer = {"exit": 0, "stdout": "done\n", "stderr": "", "files": [{"index": 3, "size": 1000}]}
        body = (b"--b0\r\nContent-Type: application/json\r\n\r\n" + json.dumps(answer).encode()
                + b"\r\n--b0\r\nContent-Type: application/octet-stream\r\n\r\n" + b"x" * 400)
        self.send_response(200)
        self.send_header("Content-Type", "multipart/mixed; boundary=b0")
        self.send_header("Content-Length", str(len(body) + 600))     # promises more than it sends
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args):
        pass


def as_client_of(handler, monkeypatch, *argv: str) -> int:
    """`jingzhun --server URL …` against a loopback HTTP server answering with `handler`; the exit code."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("JINGZHUN_HOME", raising=False)
    monkeypatch.delenv("JINGZHUN_DB", raising=False)
    monkeypatch.setenv("JINGZHUN_TOKEN", "t")
    try:
        return main(["--server", f"http://127.0.0.1:{server.server_port}", "--as", "v01_secretary", *argv])
    finally:
        server.shutdown()


def test_an_answer_cut_short_is_said_and_leaves_no_half_file(monkeypatch, capsys, tmp_path):
    from entrypoints.cli import lost_answers
    monkeypatch.setattr(lost_answers, "PAUSES", (0, 0, 0, 0))      # tried again, without the 15 s of pauses
    out = tmp_path / "案件.csv"
    code = as_client_of(_CutShort, monkeypatch, "export", "cases", "--csv", str(out))
    got = capsys.readouterr()
    assert code == 2 and "[remote.cut_short]" in got.err and "done" not in got.out
    assert list(tmp_path.iterdir()) == []


def _bad_registry(core, path: Path, households: int) -> str:
    """A village list of `households` whose ID numbers all have a wrong check digit (checked, none
    written); the v01 secretary's village."""
    import csv as _csv
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.services.org import load_actor
    from tests.world import id_number
    with core.engine.connect() as conn:
        actor = load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == "v01_secretary")).first())
    village = actor.assignments[0].region_code
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = _csv.writer(fh)
        writer.writerow(("户编号", "村编码", "姓名", "身份证号", "与户主关系"))
        for i in range(households):
            good = id_number(f"36073019700101{i % 1000:03d}")
            writer.writerow((f"P{i}", village, f"户主{i}", good[:-1] + ("0" if good[-1] != "0" else "1"), "户主"))
    return village


def _parts(answer: httpx.Response) -> list[tuple[str, bytes]]:
    """(content type, body) of each part of a multipart/mixed answer."""
    boundary = answer.headers["content-type"].split("boundary=")[1].encode()
    found = []
    for chunk in answer.content.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        found.append((head.decode().split(":", 1)[1].strip(), body))
    return found


def _send(base: str, settings, argv: list[str], file: Path, progress: bool) -> httpx.Response:
    command = {"argv": argv, "progress": progress, "files": [{"index": len(argv) - 1, "name": file.name}]}
    with open(file, "rb") as fh:
        return httpx.post(f"{base}/api/v1/cli/stream", timeout=120, headers={
            "X-Jingzhun-Person": "v01_secretary", "Authorization": f"Bearer {tokens(settings)['v01_secretary']}"},
            files={"command": (None, json.dumps(command), "application/json"), "file-0": ("file-0", fh)})


def test_the_server_tells_the_import_s_progress_as_it_runs(live_server, demo_home, core, tmp_path, monkeypatch):
    from entrypoints.cli.remote import PROGRESS_TYPE
    from entrypoints.web import api_cli
    monkeypatch.setattr(api_cli, "PROGRESS_S", 0.01)
    settings, _ = demo_home
    listing = tmp_path / "进度.csv"
    _bad_registry(core, listing, 3000)
    answer = _send(live_server, settings, ["household", "import", str(listing)], listing, progress=True)
    parts = _parts(answer)
    told = [json.loads(body) for kind, body in parts if kind == PROGRESS_TYPE]
    told = [t for t in told if t]
    assert len(told) >= 2, parts[:3]
    assert all("进度.csv" in t["text"] and 0 < t["done"] <= t["total"] == listing.stat().st_size for t in told)
    assert [t["done"] for t in told] == sorted(t["done"] for t in told)
    kinds = [kind for kind, _ in parts]
    assert kinds[-1] == "application/json" and PROGRESS_TYPE not in kinds[kinds.index("application/json"):]
    result = json.loads(parts[-1][1])
    assert result["exit"] == 2 and "校验码" in result["stderr"]       # every row refused: nothing written


def test_a_long_command_keeps_its_connection_with_heartbeats_the_client_passes_over(
        live_server, demo_home, core, tmp_path, monkeypatch, as_secretary):
    from entrypoints.cli.remote import PROGRESS_TYPE
    from entrypoints.web import api_cli
    monkeypatch.setattr(api_cli, "PROGRESS_S", 0.01)
    monkeypatch.setattr(api_cli, "HEARTBEAT_S", 0.01)
    settings, _ = demo_home
    listing = tmp_path / "心跳.csv"
    _bad_registry(core, listing, 3000)
    parts = _parts(_send(live_server, settings, ["household", "import", str(listing)], listing, progress=False))
    beats = [body for kind, body in parts if kind == PROGRESS_TYPE]
    assert beats and set(beats) == {b"{}"}          # not asked: no progress told, only heartbeats
    code, _, err = as_secretary("household", "import", str(listing))
    assert code == 2 and "校验码" in err and "心跳.csv 中有 3000 户有误" in err and "/work/cli-" not in err


def test_a_cadre_s_terminal_shows_the_server_s_progress_as_a_bar(live_server, demo_home, core, tmp_path, monkeypatch):
    """The client on a terminal (a pseudo-terminal here) draws the import's bar as the server runs it:
    the import waits, after its first batch, until the bar is on the terminal. (The client read the
    answer a megabyte at a time, so the bar came only with the answer, at the end.)"""
    import pty
    import select as _select
    import workflows.household_import as importer
    from entrypoints.web import api_cli
    monkeypatch.setattr(api_cli, "PROGRESS_S", 0.01)
    settings, _ = demo_home
    listing = tmp_path / "终端.csv"
    _bad_registry(core, listing, 3000)
    drawn, batches = threading.Event(), []
    checked = importer._Import.checked

    def waiting_for_the_bar(run, batch):
        batches.append(len(batch))
        if len(batches) == 2:
            batches.append(drawn.wait(30))      # the first batch's progress is on the cadre's terminal
        return checked(run, batch)
    monkeypatch.setattr(importer._Import, "checked", waiting_for_the_bar)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    env.update(JINGZHUN_TOKEN=tokens(settings)["v01_secretary"], COLUMNS="100", TERM="xterm")
    main_fd, child_fd = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "cli", "--server", live_server, "--as", "v01_secretary",
                                "household", "import", str(listing)], cwd=ROOT, env=env, stdin=child_fd,
                               stdout=child_fd, stderr=child_fd)
    os.close(child_fd)
    shown = b""
    while True:
        ready, _, _ = _select.select([main_fd], [], [], 120)
        try:
            chunk = os.read(main_fd, 65536) if ready else b""
        except OSError:         # the child closed the terminal
            chunk = b""
        if not chunk:
            break
        shown += chunk
        if "导入 终端.csv".encode() in shown and b"%" in shown:
            drawn.set()
    os.close(main_fd)
    assert process.wait(timeout=60) == 2
    text = shown.decode("utf-8", "replace")
    assert "导入 终端.csv" in text and "%" in text        # the bar, drawn on the cadre's terminal
    assert batches[2] is True, "the bar was not drawn while the import ran"
    assert "终端.csv 中有 3000 户有误" in text


def test_a_command_that_fails_on_the_server_after_the_answer_began_is_said_in_words(
        as_secretary, monkeypatch, caplog):
    from entrypoints.web import api_cli

    def broken(*args, **kwargs):
        raise RuntimeError("户主 360730197001010011")      # what an exception's text could hold
    monkeypatch.setattr(api_cli, "finish", broken)
    code, out, err = as_secretary("case", "list")
    assert code == 1 and out == "" and "服务器出错（HTTP 500）" in err
    assert "RuntimeError" in caplog.text and "360730197001010011" not in caplog.text + err


def test_a_file_that_cannot_be_kept_here_is_said_before_the_command_is_sent(as_secretary):
    """It was said after the command's own output: the server had run it (and recorded the export) for
    nothing. The file is begun here first (tests/web/test_server_files.py)."""
    out = Path("/proc/案件.csv")          # a folder nobody may write in, not even root
    code, said, err = as_secretary("export", "cases", "--csv", str(out))
    assert code == 2 and said == ""                      # the command never ran
    assert "无法写入 /proc/案件.csv" in err
    assert "Traceback" not in err and "remote.unreachable" not in err


class _Portal(BaseHTTPRequestHandler):
    """A sign-in portal between the cadre and the server: 200 and a page of HTML to everything."""

    def do_POST(self):
        drain(self)
        page = "<html><body>请先登录上网认证</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    do_GET = do_POST

    def log_message(self, *args):
        pass


def test_an_answer_that_is_not_a_jingzhun_server_s_is_said(monkeypatch, capsys):
    code = as_client_of(_Portal, monkeypatch, "case", "list")
    got = capsys.readouterr()
    assert code == 2 and "[remote.not_jingzhun]" in got.err and "Traceback" not in got.err


def test_the_stream_endpoint_refuses_too_many_entries_before_making_any_folder(live_server, demo_home):
    settings, _ = demo_home
    headers = {"X-Jingzhun-Person": "admin", "Authorization": f"Bearer {tokens(settings)['admin']}"}
    entries = [{"index": 2, "name": "d", "folder": [{"path": f"{i}.jpg"} for i in range(10_001)]}]
    many = httpx.post(f"{live_server}/api/v1/cli/stream", headers=headers, timeout=60, files={
        "command": (None, json.dumps({"argv": ["config", "check", "--dir", "d"], "files": entries}))})
    assert many.status_code == 400 and many.json()["error"] == "remote.too_many_files"
    twice = [{"index": 2, "name": "a.csv", "output": True}, {"index": 2, "name": "b.csv", "output": True}]
    doubled = httpx.post(f"{live_server}/api/v1/cli/stream", headers=headers, timeout=60, files={
        "command": (None, json.dumps({"argv": ["region", "import", "a.csv"], "files": twice}))})
    assert doubled.status_code == 400 and doubled.json()["error"] == "remote.bad_file"


def test_what_a_crashed_server_left_is_removed_when_a_server_starts(tmp_path):
    """A command's files (a registry, ID numbers) under work/ are named after their process: a
    process that is gone leaves them to be removed; a live one's are kept."""
    from engine.adapters.private_files import clear_orphans, work_dir, work_file
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    left = tmp_path / "work" / f"cli-{gone}-abc"
    left.mkdir(parents=True)
    (left / "名册.csv").write_text("身份证号\n", encoding="utf-8")
    (tmp_path / "work" / f"export-{gone}-x.xlsx").write_bytes(b"PK")
    mine, file = work_dir(tmp_path, "cli"), work_file(tmp_path, "export", ".xlsx")
    assert oct(mine.stat().st_mode & 0o777) == "0o700" and oct(file.stat().st_mode & 0o777) == "0o600"
    assert clear_orphans(tmp_path) == 2
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == sorted([mine.name, file.name])


def test_a_served_command_leaves_nothing_under_work(served, demo_home, tmp_path):
    settings, _ = demo_home
    base, _pid = served
    listing = tmp_path / "regions.csv"
    listing.write_text("code,title\n360730100299,新村\n", encoding="utf-8")
    client(settings, base, "admin", "region", "import", str(listing))
    assert [p for p in (settings.home / "work").iterdir() if p.name.startswith("cli-")] == []


def test_a_server_running_as_many_commands_as_it_takes_says_so_and_gives_every_slot_back(
        as_secretary, monkeypatch, tmp_path):
    from entrypoints.web import api_cli
    for argv in (["case", "list"], ["export", "cases", "--csv", str(tmp_path / "a.csv")], ["case", "show", "x"]):
        as_secretary(*argv)      # done at once, streamed with a file, refused
    assert api_cli._running == {}
    monkeypatch.setattr(api_cli, "BUSY_AT", 0)
    code, out, err = as_secretary("export", "cases", "--csv", str(tmp_path / "b.csv"))
    assert code == 1 and "[remote.busy]" in err and "几分钟后再试" in err and out == "", err


def test_a_large_upload_refused_midway_says_the_command_was_not_run(as_secretary, monkeypatch, tmp_path):
    """A server refusing an upload (no slot free) reads at most 1 MB of it and closes: the client,
    still sending, is told the connection was cut while it sent, and that nothing was run."""
    from entrypoints.web import api_cli
    registry = tmp_path / "名册.csv"
    with open(registry, "wb") as fh:
        fh.write(("村编码,户编号,姓名,身份证号,与户主关系\n" + "360730100201,H1,某,1,户主\n" * 1_000_000).encode())
    monkeypatch.setattr(api_cli, "BUSY_AT", 0)
    code, out, err = as_secretary("household", "import", str(registry))
    assert code == 2 and "[remote.send_cut]" in err and "命令没有执行" in err and out == "", err
    assert api_cli._running == {}


def test_one_person_cannot_take_every_slot_from_the_others(as_secretary, live_server, demo_home, monkeypatch, capsys,
                                                           tmp_path):
    from entrypoints.web import api_cli
    settings, _ = demo_home
    monkeypatch.setitem(api_cli._running, "v01_secretary", api_cli.PER_PERSON)   # three imports of theirs running
    code, out, err = as_secretary("export", "cases", "--csv", str(tmp_path / "a.csv"))
    assert code == 1 and "[remote.busy_person]" in err and "洋塘村支书（v01_secretary） 已有 3 个带文件的命令" in err and out == "", err
    monkeypatch.setenv("JINGZHUN_TOKEN", tokens(settings)["v01_director"])
    assert main(["--server", live_server, "--as", "v01_director", "export", "cases", "--csv",
                 str(tmp_path / "b.csv")]) == 0 and capsys.readouterr().out
    assert api_cli._running == {"v01_secretary": api_cli.PER_PERSON}


class _OlderServer(BaseHTTPRequestHandler):
    """A server from before streaming: no /api/v1/cli/stream nor /api/v1/me; /api/v1/cli in one JSON body."""
    got: list = []

    def _say(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if self.path != "/api/v1/cli":
            drain(self)
            return self._say(404, {"error": "web.error.not_found", "message": "Not Found"})
        _OlderServer.got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self._say(200, {"exit": 0, "stdout": "旧服务器已办理\n", "stderr": "", "files": []})

    def do_GET(self):
        self._say(404, {"error": "web.error.not_found", "message": "Not Found"})

    def log_message(self, *args):
        pass


def test_an_older_server_gets_the_command_in_one_json_body(monkeypatch, capsys, tmp_path):
    import base64
    listing = tmp_path / "regions.csv"
    listing.write_text("code,title\n" + "360730100299,新村\n" * 70_000, encoding="utf-8")    # over 1 MB: a preflight
    code = as_client_of(_OlderServer, monkeypatch, "region", "import", str(listing))
    got = capsys.readouterr()
    assert code == 0 and "旧服务器已办理" in got.out, got.err
    sent = _OlderServer.got[-1]
    assert sent["argv"][:2] == ["region", "import"] and base64.b64decode(sent["files"][0]["data"]) == listing.read_bytes()


class GoneWhileReceiving(BaseHTTPRequestHandler):
    """A server that takes the command in, then stops without a word (killed while it received it)."""

    def do_POST(self):
        drain(self)
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args):
        pass


def test_a_server_gone_while_it_takes_the_command_in_is_said_in_the_reader_s_words(monkeypatch, capsys, tmp_path):
    """It was 无法连接服务器 …：Remote end closed connection without response: the client had connected,
    and the reason was the driver's English."""
    registry = tmp_path / "名册.csv"
    registry.write_text("村编码,户编号,姓名,身份证号,与户主关系\n", encoding="utf-8")
    code = as_client_of(GoneWhileReceiving, monkeypatch, "household", "import", str(registry))
    got = capsys.readouterr()
    assert code == 2 and "[remote.stopped_receiving]" in got.err and "Remote end" not in got.err
    assert "在接收或开始运行命令时停止了回答" in got.err and "没有做完的导入不会保存" in got.err
    assert "已导入过" in got.err
