"""`jingzhun --server`: the server's slots for long commands, and what a command cut off from its server
is told.

- Every command sent with `--server` took one of the slots meant for long commands (8 a process, 3 a
  person): on a busy SQLite server a plain `case list --waiting` was refused with "服务器正在同时处理 8 个
  带文件的命令…请几分钟后再试", and a person's fourth read at once with remote.busy_person. A command
  naming no file now runs as a page or the API does; one that sends or writes files (an import, an
  export, an evidence sheet) still takes a slot, and a request that says it has no file may send none.
- A server killed while it ran a command told every command, a step or an export too, that "an import
  the server had not finished is not saved … refused as imported before". Each kind is now told its own:
  an import as before, a read or an export that nothing changed, any other command that it may have
  been recorded and how to find out."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.web import test_cli_streaming
from tests.web.test_cli_streaming import GoneWhileReceiving, as_client_of, drain, start_server, tokens

ROOT = Path(__file__).resolve().parents[2]
IMPORT_WORDS = "没有做完的导入不会保存"
as_secretary = test_cli_streaming.as_secretary        # the fixture: `jingzhun --server … --as v01_secretary`


def test_a_command_without_files_is_answered_whatever_slots_the_long_ones_hold(as_secretary, monkeypatch, tmp_path):
    from entrypoints.web import api_cli
    monkeypatch.setattr(api_cli, "BUSY_AT", 0)          # every slot of the server taken
    code, out, err = as_secretary("case", "list", "--waiting")
    assert code == 0 and "remote.busy" not in err and out, err
    code, out, err = as_secretary("case", "show", "1")
    assert code == 0 and "洋塘村" in out, err
    export = tmp_path / "案件.csv"                        # a command with a file still waits for a slot
    code, out, err = as_secretary("export", "cases", "--csv", str(export))
    assert code == 1 and "[remote.busy]" in err and "带文件的命令" in err and out == "", err
    assert not export.exists() and api_cli._running == {}


def test_a_person_s_reads_at_once_are_not_counted_against_their_share_of_slots(as_secretary, monkeypatch, tmp_path):
    from entrypoints.web import api_cli
    monkeypatch.setitem(api_cli._running, "v01_secretary", api_cli.PER_PERSON)   # three imports of theirs running
    for argv in (("case", "list", "--waiting"), ("case", "next", "1"), ("deadline", "list")):
        code, out, err = as_secretary(*argv)
        assert code == 0 and "remote.busy" not in err, (argv, err)
    code, out, err = as_secretary("export", "cases", "--csv", str(tmp_path / "案件.csv"))
    assert code == 1 and "[remote.busy_person]" in err and "已有 3 个带文件的命令" in err, err
    assert api_cli._running == {"v01_secretary": api_cli.PER_PERSON}


def _stream(live_server: str, token: str, command: dict, files: dict[str, bytes], declared: str | None):
    """A raw `POST /api/v1/cli/stream` as v01_secretary, its header X-Jingzhun-Files `declared`."""
    headers = {"X-Jingzhun-Person": "v01_secretary", "Authorization": f"Bearer {token}", "Accept-Language": "zh"}
    if declared is not None:
        headers["X-Jingzhun-Files"] = declared
    parts = {"command": (None, json.dumps(command), "application/json"),
             **{name: (name, data, "application/octet-stream") for name, data in files.items()}}
    return httpx.post(f"{live_server}/api/v1/cli/stream", headers=headers, files=parts, timeout=60)


def test_a_request_that_says_it_has_no_file_may_send_none(live_server, demo_home, monkeypatch):
    """The protection the slots give against many large uploads stays: a request taking no slot that
    carries a file anyway is refused (400), before the file is kept or the command run."""
    from entrypoints.web import api_cli
    settings, _ = demo_home
    token = tokens(settings)["v01_secretary"]
    monkeypatch.setattr(api_cli, "BUSY_AT", 0)
    listing = {"argv": ["region", "import", "x.csv"], "files": [{"index": 2, "name": "x.csv"}]}
    for command, files in ((listing, {"file-0": b"code,name\n"}),          # the file sent
                           (listing, {}),                                   # the file named in the command only
                           ({"argv": ["case", "list"]}, {"file-0": b"x" * 100_000})):   # a part past the command
        answer = _stream(live_server, token, command, files, "0")
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "remote.files_not_declared" and "X-Jingzhun-Files" in answer.json()["message"]
    answer = _stream(live_server, token, {"argv": ["case", "list"]}, {}, "0")
    assert answer.status_code == 200 and answer.json()["exit"] == 0
    answer = _stream(live_server, token, {"argv": ["case", "list"]}, {}, None)      # a client that does not say
    assert answer.status_code == 503 and answer.json()["error"] == "remote.busy"
    assert api_cli._running == {}
    assert [p for p in (settings.home / "work").iterdir() if p.name.startswith("cli-")] == []


def test_every_command_told_it_changed_nothing_is_one_that_reads():
    """The commands a cut connection tells to simply run again are commands of the CLI (a renamed one
    would be told it may have been recorded), and none of them writes."""
    from entrypoints.cli.main import cli
    from entrypoints.cli.remote import READS, command_path
    for path in READS:
        assert command_path(cli, list(path)) == path, path
    names = {c for path in READS for c in path}
    assert not names & {"add", "import", "record", "grant", "revoke", "token", "sweep", "seal", "step"}


class _GoneWhileRunning(BaseHTTPRequestHandler):
    """A server that began its streamed answer (the command runs), then stops."""

    def do_POST(self):
        drain(self)
        self.send_response(200)
        self.send_header("Content-Type", "multipart/mixed; boundary=b0")
        self.end_headers()
        self.wfile.write(b"--b0\r\nContent-Type: application/x-jingzhun-progress+json\r\n\r\n{}\r\n")
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args):
        pass


def test_a_step_cut_off_from_its_server_is_told_it_may_be_recorded_and_how_to_find_out(monkeypatch, capsys, tmp_path):
    """A write whose server stops while taking or running it is tried again with its request key (a server
    that never answers again: the pauses made short here), then told it may or may not be recorded, and that
    the same command run again is safe (the key kept) — never the import's words."""
    from entrypoints.cli import lost_answers
    monkeypatch.setattr(lost_answers, "PAUSES", (0, 0, 0, 0))
    minutes = tmp_path / "评议会议记录.pdf"
    minutes.write_bytes(b"%PDF-1.4\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))      # where its unanswered key is kept
    for server in (GoneWhileReceiving, _GoneWhileRunning):
        for argv in (("step", "identification", "application", "5"),
                     ("step", "exit", "proposal", "12", "13", "--attendance", "38", "--vote", "12:33:1", "--vote", "13:31:2",
                      "--minutes", str(minutes))):
            code = as_client_of(server, monkeypatch, *argv)
            err = capsys.readouterr().err
            assert code == 2 and "可能已经办理并记录，也可能没有" in err, err
            assert IMPORT_WORDS not in err and "导入" not in err and "已导入过" not in err
            # a server that never answers the question whether it keeps keys: sent again with the key, the
            # same command safe to run again; one that answers as a server from before keys (this stub
            # answers every POST so): not sent again, how to find out what was recorded
            assert ("[remote.lost_keyed]" in err and "原样再运行一次同一命令是安全的" in err) or (
                "[remote.stopped_running]" in err and "jingzhun case show" in err and "由谁于何时办理" in err), err
    listing = tmp_path / "区域.csv"          # an import keeps the import's words
    listing.write_text("code,name\n", encoding="utf-8")
    code = as_client_of(_GoneWhileRunning, monkeypatch, "region", "import", str(listing))
    err = capsys.readouterr().err
    assert code == 2 and "[remote.stopped_running]" in err and IMPORT_WORDS in err and "已导入过" in err, err
    assert "可能已经办理并记录" not in err


def test_a_read_or_an_export_cut_off_from_its_server_is_told_nothing_changed(monkeypatch, capsys, tmp_path):
    from entrypoints.cli import lost_answers
    monkeypatch.setattr(lost_answers, "PAUSES", (0, 0, 0, 0))      # its tries again, without their 15 s of pauses
    for server, code_said in ((GoneWhileReceiving, "remote.stopped_receiving"),
                              (_GoneWhileRunning, "remote.stopped_running")):
        for argv in (("case", "list", "--waiting"), ("export", "members", "--xlsx", str(tmp_path / "成员.xlsx"))):
            code = as_client_of(server, monkeypatch, *argv)
            err = capsys.readouterr().err
            assert code == 2 and f"[{code_said}]" in err, err
            assert "导入" not in err and "没有改动任何记录" in err and "重新运行即可" in err
    monkeypatch.setenv("JINGZHUN_LANG", "en")
    code = as_client_of(_GoneWhileRunning, monkeypatch, "--lang", "en", "trace", "5")
    err = capsys.readouterr().err
    assert code == 2 and "changed nothing: run it again" in err and "import" not in err, err


class _Holding(BaseHTTPRequestHandler):
    """A server that takes the command in and runs it for a long while (no answer yet)."""
    got = threading.Event()

    def do_POST(self):
        drain(self)
        _Holding.got.set()
        time.sleep(30)

    def log_message(self, *args):
        pass


def test_a_ctrl_c_on_a_step_sent_with_its_minutes_is_not_told_about_imports(tmp_path):
    """A Ctrl-C on a command that sent a file (a step's minutes) said "what was saved is told as imported
    before or registered already", the words for a region or person list."""
    minutes = tmp_path / "评议会议记录.pdf"
    minutes.write_bytes(b"%PDF-1.4\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Holding)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}, "JINGZHUN_TOKEN": "t"}
    try:
        client = subprocess.Popen([sys.executable, "-m", "cli", "--server", f"http://127.0.0.1:{server.server_port}",
                                   "--as", "v01_secretary", "step", "exit", "proposal", "12", "--attendance", "38",
                                   "--for", "33", "--against", "1", "--minutes", str(minutes)],
                                  cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert _Holding.got.wait(60)
        client.send_signal(signal.SIGINT)
        _, err = client.communicate(timeout=60)
    finally:
        server.shutdown()
    assert client.returncode == 2 and "命令没有中止" in err, err
    assert "已导入过" not in err and "已登记" not in err and "可能已经办理并记录，也可能没有" in err


def test_an_export_whose_server_is_killed_says_nothing_changed_and_leaves_no_file(demo_home, tmp_path):
    """A real server killed (SIGKILL, its whole group) while it runs a county's export of members."""
    from engine.adapters.private_files import clear_orphans
    settings, _ = demo_home
    base, process = start_server(settings)
    out = tmp_path / "全县成员.xlsx"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")},
           "JINGZHUN_TOKEN": tokens(settings)["county_director"]}
    work = settings.home / "work"
    try:
        client = subprocess.Popen([sys.executable, "-m", "cli", "--server", base, "--as", "county_director",
                                   "export", "members", "--xlsx", str(out)],
                                  cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not any(work.glob(f"cli-{process.pid}-*")) and time.monotonic() < deadline:
            time.sleep(0.01)          # the server has the command
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        _, err = client.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        clear_orphans(settings.home)          # what the killed server left under work/, as its next start does
    assert client.returncode == 2 and ("[remote.stopped_running]" in err or "[remote.stopped_receiving]" in err), err
    assert "导入" not in err and "没有改动任何记录" in err and "重新运行即可" in err
    assert list(tmp_path.iterdir()) == []
