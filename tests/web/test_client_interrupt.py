"""Ctrl-C on `jingzhun --server … household import` (a real client process, real SIGINTs, against a
real `jingzhun serve`, on SQLite and PostgreSQL), told as a direct import tells it (README: "either is
said, never as aborted"). The client said 已中止 while the server went on and saved the whole import,
whose list of ID numbers to confirm never came; a re-run was refused as imported before.

- Before the commit: the server sees its client gone and stops the import, which rolls back (nothing
  written), so 已中止 is true and the same file imports later.
- Just before the commit the server tells the client, which holds a Ctrl-C from then on: the import is
  saved, its list to confirm comes back, and the Ctrl-C is said for what it was.
- A second Ctrl-C once the import is saved stops waiting for the files, and says the import was saved."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from engine.adapters import tables as t
from tests.test_registry_import import county, write
from tests.web.test_serve import serve_process, stop_server

ROOT = Path(__file__).resolve().parents[2]
# The client, a hook first: a real SIGINT sent to itself `times` times once the server has told it the
# import commits (`committing`) or has committed (`committed`); or then the server killed (KILL_SERVER).
CLIENT = """
import os, signal, sys
from entrypoints.cli.interrupts import AfterCommit
from entrypoints.cli.main import main
hook, times = sys.argv[1], int(sys.argv[2])
if times or os.environ.get("KILL_SERVER"):
    told = getattr(AfterCommit, hook)
    def interrupted(self):
        told(self)
        if os.environ.get("KILL_SERVER"):
            os.killpg(int(os.environ["KILL_SERVER"]), signal.SIGKILL)
        for _ in range(times):
            os.kill(os.getpid(), signal.SIGINT)
    setattr(AfterCommit, hook, interrupted)
sys.exit(main(sys.argv[3:]))
"""


def _client(world, base: str, path: str, hook: str = "committing", times: int = 0, **env: str) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}, **env}
    env["JINGZHUN_TOKEN"] = world.tokens["cs"]
    return subprocess.Popen([sys.executable, "-c", CLIENT, hook, str(times), "--server", base, "--as", "cs",
                             "household", "import", path], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _cases(world) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.cases)).scalar()


def _commands_running(world) -> list[Path]:
    """The work folders of the commands the server runs for clients (removed when each ends)."""
    work = world.app.settings.home / "work"
    return [p for p in work.glob("cli-*")] if work.is_dir() else []


def _importing(world) -> None:
    """Once the server has the file and runs the import (20,000 households: seconds of work)."""
    deadline = time.monotonic() + 60
    while not any(p.glob("0/全县.csv") for p in _commands_running(world)) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)


def test_a_ctrl_c_before_the_commit_stops_the_server_s_import_and_nothing_is_saved(world, tmp_path):
    path = write(tmp_path / "全县.csv", county(40_000))
    before = _cases(world)
    process, base = serve_process(world)
    try:
        client = _client(world, base, path)
        _importing(world)
        client.send_signal(signal.SIGINT)
        out, err = client.communicate(timeout=60)
        assert client.returncode == 2 and err.strip() == "已中止", err
        deadline = time.monotonic() + 60
        while _commands_running(world) and time.monotonic() < deadline:
            time.sleep(0.1)         # the server's command has ended
        assert not _commands_running(world)
        assert _cases(world) == before          # rolled back: "aborted" was true
        with world.app.engine.connect() as conn:          # so a re-run is not refused as imported before
            assert not conn.execute(select(t.audit_events.c.seq).where(
                t.audit_events.c.action == "households_imported")).first()
    finally:
        assert "Traceback" not in stop_server(process)


def test_a_ctrl_c_once_the_server_commits_is_held_and_the_list_to_confirm_comes_back(world, tmp_path):
    path = write(tmp_path / "全县.csv", county(20))
    process, base = serve_process(world)
    try:
        client = _client(world, base, path, "committing", 1)
        out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err
        assert "已导入 10 户、20 人" in out and "已中止" not in err
        assert "已收到中断，但导入已经提交保存，不会撤销" in err and "全部 20 处需核实的行" in err
        assert Path(path).with_name("全县.to-confirm.xlsx").exists()
    finally:
        assert "Traceback" not in stop_server(process)


def test_a_second_ctrl_c_once_saved_says_the_import_was_saved_and_its_files_did_not_come(world, tmp_path):
    path = write(tmp_path / "全县.csv", county(20))
    before = _cases(world)
    process, base = serve_process(world)
    try:
        client = _client(world, base, path, "committed", 2)
        out, err = client.communicate(timeout=120)
        assert client.returncode == 2 and "已中止" not in err.splitlines(), err
        assert "导入的各户已保存" in err and "导入没有中止" in err and "case list --id-to-confirm" in err
        assert not Path(path).with_name("全县.to-confirm.xlsx").exists()
        assert _cases(world) == before + 10
        again = _client(world, base, path)
        _, err = again.communicate(timeout=120)
        assert again.returncode == 2 and "[import.imported_before]" in err, err
    finally:
        assert "Traceback" not in stop_server(process)


def test_a_server_gone_during_the_import_is_said_with_whether_it_was_saved(world, tmp_path):
    """The server killed while it imports, and again once it has told the client it commits: neither is
    said as files that may be incomplete, nor in English; the first says an import the server had not
    finished is not saved, the second that it may be, and how to tell."""
    path = write(tmp_path / "全县.csv", county(40_000))
    before = _cases(world)
    process, base = serve_process(world)
    client = _client(world, base, path)
    _importing(world)
    time.sleep(1.0)         # the answer has begun (its first part comes after half a second)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    _, err = client.communicate(timeout=60)
    assert client.returncode == 2 and "[remote.stopped_running]" in err, err
    assert "服务器在运行命令时停止了回答" in err and "没有做完的导入不会保存" in err and "已导入过" in err
    assert _cases(world) == before
    process, base = serve_process(world)
    client = _client(world, base, write(tmp_path / "小.csv", county(20)), KILL_SERVER=str(process.pid))
    _, err = client.communicate(timeout=60)
    process.communicate()
    assert client.returncode == 2 and "[remote.cut_saving]" in err, err
    assert "导入可能已经保存，也可能没有" in err and "已导入过" in err and "已中止" not in err
    assert _cases(world) == before          # killed within the second it gives a client to leave: not saved


def test_a_ctrl_c_during_another_import_through_the_server_is_not_told_as_aborted(world, tmp_path):
    """Only a registry's import is stopped by its client leaving. A region list (or a person list, an
    evidence sheet) sent to the server runs to its end there, all saved or none: a Ctrl-C on the client
    said 已中止 while the server saved every region. It now says the command may not have been aborted,
    and how to know."""
    rows = ["code,name"] + [f"360730{tw:03d}{v:03d},村{tw}-{v}" if v else f"360730{tw:03d}000,镇{tw}"
                            for tw in range(200, 260) for v in (0, *range(201, 451))]
    path = tmp_path / "区域.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    process, base = serve_process(world)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
        env["JINGZHUN_TOKEN"] = world.tokens["admin"]
        client = subprocess.Popen([sys.executable, "-m", "cli", "--server", base, "--as", "admin", "region",
                                   "import", str(path)], cwd=ROOT, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not any(p.glob("0/区域.csv") for p in _commands_running(world)) and time.monotonic() < deadline:
            time.sleep(0.05)
        client.send_signal(signal.SIGINT)
        _, err = client.communicate(timeout=60)
        assert client.returncode == 2 and "命令可能没有中止" in err and "再运行一次同一命令" in err, err
        assert err.strip() != "已中止" and "Traceback" not in err
    finally:
        assert "Traceback" not in stop_server(process)


def test_the_answer_s_parser_is_loaded_before_the_command_is_sent(monkeypatch):
    """A Ctrl-C that lands while Python loads a module is printed beside 已中止 as "Exception ignored in:
    <function _get_module_lock…>" (CI saw it once): the client loaded the answer's parser as the answer's
    first part came, which is when a user waiting on an import presses Ctrl-C."""
    from engine.domain.errors import Msg
    from entrypoints.cli import remote

    for name in [m for m in sys.modules if m.startswith("python_multipart")]:
        monkeypatch.delitem(sys.modules, name)
    loaded = []
    monkeypatch.setattr(remote, "_request", lambda *a, **k: loaded.append("python_multipart.multipart" in sys.modules))
    remote.exchange(None, {"files": []}, [], {}, None, Msg("x"))
    assert loaded == [True]
