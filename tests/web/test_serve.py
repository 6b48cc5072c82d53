"""`jingzhun serve`: a real uvicorn process over a data home; with several workers the scheduler
runs in exactly one of them (the holder of the database lease), on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import func, select

from engine.adapters import lease
from engine.adapters import tables as t
from tests.web.conftest import free_port


def test_a_lease_has_one_holder_until_it_expires(world):
    engine, now = world.app.engine, datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert lease.take(engine, "scheduler", "a", now, 45)
    assert not lease.take(engine, "scheduler", "b", now + timedelta(seconds=10), 45)
    assert lease.take(engine, "scheduler", "a", now + timedelta(seconds=20), 45)        # renewed
    assert not lease.take(engine, "scheduler", "b", now + timedelta(seconds=60), 45)    # still a's
    assert lease.take(engine, "scheduler", "b", now + timedelta(seconds=66), 45)        # a died: taken over
    assert not lease.take(engine, "scheduler", "a", now + timedelta(seconds=67), 45)
    lease.release(engine, "scheduler", "b")
    assert lease.holder_of(engine, "scheduler", now + timedelta(seconds=68)) is None


def serve_process(world, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "JINGZHUN_HOME": str(world.app.settings.home), "JINGZHUN_DB": world.app.settings.db_url}
    process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port), *extra],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(base + "/signin", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(process.communicate()[0][-2000:])


def stop_server(process: subprocess.Popen) -> str:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.communicate()[0]


def _holders(world) -> list[str]:
    with world.app.engine.connect() as conn:
        return list(conn.execute(select(t.scheduler_leases.c.holder)).scalars())


def test_serve_answers_and_one_worker_runs_the_scheduler(world):
    workers = "2" if world.app.settings.db_url.startswith("postgresql") else "1"
    process, base = serve_process(world, "--workers", workers)
    try:
        pages = [httpx.get(base + "/signin", timeout=5) for _ in range(20)]
        assert {p.status_code for p in pages} == {200}
        assert "登录" in pages[0].text
        assert httpx.get(base + "/static/vendor/htmx-2.0.11.min.js", timeout=5).status_code == 200
        for _ in range(50):
            if _holders(world):
                break
            time.sleep(0.2)
        time.sleep(1.0)     # every worker has had its turn at the lease by now
        holders = _holders(world)
        assert len(holders) == 1
    finally:
        output = stop_server(process)
    assert "Traceback" not in output
    assert _holders(world) == []          # the holder gave the lease back when it stopped


def test_serve_refuses_a_home_without_a_database(tmp_path):
    empty = tmp_path / "nothing"
    answer = subprocess.run([sys.executable, "-m", "cli", "--home", str(empty), "serve", "--port", str(free_port())],
                            capture_output=True, text=True, timeout=60)
    assert answer.returncode != 0
    assert "Traceback" not in answer.stderr and "jingzhun init" in answer.stderr


def _scheduler_run(world) -> subprocess.Popen:
    env = {**os.environ, "JINGZHUN_HOME": str(world.app.settings.home), "JINGZHUN_DB": world.app.settings.db_url}
    return subprocess.Popen([sys.executable, "-m", "cli", "scheduler", "run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _jobs(world) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.apscheduler_jobs)).scalar_one()


def _wait(check, seconds: float = 30.0) -> bool:
    for _ in range(int(seconds / 0.2)):
        if check():
            return True
        time.sleep(0.2)
    return False


def test_scheduler_run_beside_a_server_stands_by_and_runs_no_jobs(world):
    """`jingzhun scheduler run` while a server holds the lease: it says who runs the jobs and runs
    none itself (two sets of jobs had delivered every message twice); stopped, it leaves the lease."""
    server = "server-host:4242:abcd1234"
    assert lease.take(world.app.engine, "scheduler", server, datetime.now(timezone.utc), 3600)
    process = _scheduler_run(world)
    try:
        time.sleep(4.0)       # started, tried the lease, told
    finally:
        output = stop_server(process)
    assert process.returncode == 0, output[-2000:]
    assert "Traceback" not in output
    assert server in output and "待命" in output
    assert _jobs(world) == 0               # it never wrote (or ran) its jobs
    assert _holders(world) == [server]


def test_scheduler_run_alone_holds_the_lease_and_gives_it_back(world):
    process = _scheduler_run(world)
    try:
        assert _wait(lambda: len(_holders(world)) == 1 and _jobs(world) > 0)
    finally:
        output = stop_server(process)
    assert process.returncode == 0, output[-2000:]
    assert "Traceback" not in output and "本进程运行这些任务" in output
    assert _holders(world) == []


def test_serve_says_it_started_only_once_its_port_answers(world):
    """A browser opened the moment `serve` says 服务已启动 is answered, not refused (a11 #12); with
    several workers (PostgreSQL) the connection waits in the listening socket's backlog."""
    import socket
    port = free_port()
    env = {**os.environ, "JINGZHUN_HOME": str(world.app.settings.home), "JINGZHUN_DB": world.app.settings.db_url,
           "PYTHONUNBUFFERED": "1"}
    workers = "2" if world.app.settings.db_url.startswith("postgresql") else "1"
    process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port), "--workers", workers],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        seen = []
        for line in process.stdout:
            seen.append(line)
            if "服务已启动" in line:
                break
        else:
            raise AssertionError("".join(seen)[-2000:])
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass                                    # refused before: the words came before the socket
        page = httpx.get(f"http://127.0.0.1:{port}/signin", timeout=30)
        assert page.status_code == 200 and "登录" in page.text
    finally:
        output = stop_server(process)
    assert "Traceback" not in output
