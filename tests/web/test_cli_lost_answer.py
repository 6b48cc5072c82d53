"""`jingzhun --server URL …` on a weak line: the answer of a command that writes is lost on the way
(a real `jingzhun serve` on loopback, a real TCP proxy between that cuts the connection once the
server answers, the client a real in-process run; SQLite and PostgreSQL). A township cadre did not know
whether it was saved, and running it again recorded it twice or was refused as moved on.

Now the command goes with a request key of its own and the client sends it again: saved once, its
success printed; a refused command is judged afresh each time; a command whose answer holds a secret
is never kept by the server."""
from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from entrypoints.cli import lost_answers
from entrypoints.cli.main import main
from tests.web.test_serve import serve_process, stop_server
from tests.world import scan_file


class CuttingProxy:
    """A TCP proxy on loopback to `target` (host, port): the first `cut` connections have their request
    forwarded whole, and are closed, both ways, as soon as the server's answer begins (the client gets
    nothing of it, or a bare `502 Bad Gateway` when `gateway`, as nginx says a server's answer it did
    not get in time); the others, and one whose request holds `spare`, are forwarded as they are. With
    `hold`, the first is held instead (`_held`)."""

    def __init__(self, target: tuple[str, int], cut: int = 1, gateway: bool = False, spare: bytes | None = None,
                 hold: float = 0.0):
        self.target, self.cut, self.connections, self.gateway, self.spare = target, cut, 0, gateway, spare
        self.hold = hold
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            server = socket.create_connection(self.target)
            if self.connections == 1 and self.hold:
                threading.Thread(target=self._held, args=(client, server), daemon=True).start()
                continue
            cutting = {"answer": self.connections <= self.cut}
            threading.Thread(target=self._pipe, args=(client, server, cutting, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, cutting, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, cutting: dict, answer: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if not answer and self.spare and self.spare in chunk:
                    cutting["answer"] = False
                if answer and cutting["answer"]:         # the answer began: lost on the way
                    if self.gateway:
                        sink.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n"
                                     b"Content-Length: 11\r\nConnection: close\r\n\r\nBad Gateway")
                    break
                sink.sendall(chunk)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _held(self, client: socket.socket, server: socket.socket) -> None:
        """The first request read whole from its client, whose connection is then closed (no answer);
        the server given all of it but its last bytes, the rest `hold` seconds later (a request slow to
        come in through a weak line): its key is claimed, and the command runs, only then."""
        got = b""
        client.settimeout(0.5)
        try:
            while chunk := client.recv(65536):
                got += chunk
        except socket.timeout:
            pass
        client.close()
        server.sendall(got[:-5])
        time.sleep(self.hold)
        server.sendall(got[-5:])
        while server.recv(65536):
            pass
        server.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def served(world, monkeypatch, tmp_path):
    """The world's server, and a client environment of its own (no home, its own folder of keys)."""
    for name in ("JINGZHUN_HOME", "JINGZHUN_DB", "JINGZHUN_AS", "JINGZHUN_SERVER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "client-config"))
    process, base = serve_process(world)
    try:
        yield base
    finally:
        assert "Traceback" not in stop_server(process)


def _proxy(base: str, cut: int = 1, gateway: bool = False, spare: bytes | None = None) -> CuttingProxy:
    host, port = base.removeprefix("http://").split(":")
    return CuttingProxy((host, int(port)), cut, gateway, spare)


def run(world, monkeypatch, capsys, who: str, server: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens[who])
    code = main(["--server", server, "--as", who, *argv])
    got = capsys.readouterr()
    return code, got.out, got.err


def _evidence(world, case: int, etype: str) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.evidence).where(
            t.evidence.c.case_id == case, t.evidence.c.type == etype)).scalar()


def _visits(world, case: int) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.monitoring_visits).where(
            t.monitoring_visits.c.case_id == case)).scalar()


def _keys(world) -> list:
    with world.app.engine.connect() as conn:
        return list(conn.execute(select(t.request_keys.c.state)).scalars())


def test_a_write_whose_answer_is_lost_is_sent_again_and_saved_once(world, served, monkeypatch, capsys, tmp_path):
    case = world.household()
    scan = scan_file(tmp_path / "死亡证明.pdf", "certificate")
    proxy = _proxy(served)
    try:
        code, out, err = run(world, monkeypatch, capsys, "vs", proxy.base, "evidence", "add", str(case),
                             "natural_change_proof", "--field", "reason=户主去世", "--file", str(scan))
    finally:
        proxy.close()
    assert code == 0, err
    assert f"已附于案件 {case}" in out                     # the success, as the first sending got it
    assert "没有收到答复（答复到达之前连接断开或超时）：1 秒后重新发送（第 1 次，最多 4 次）" in err
    assert "服务器已经办理的不会重复办理" in err and "Traceback" not in err
    assert proxy.connections >= 2
    assert _evidence(world, case, "natural_change_proof") == 1        # saved once


def test_a_bad_gateway_in_front_of_the_server_is_tried_again(world, served, monkeypatch, capsys):
    """nginx in front says 502 for an answer it did not get in time: the visit was recorded all the same,
    and sent again it is not recorded twice."""
    case = world.household()
    world.identify(case)
    world.assist(case)
    proxy = _proxy(served, gateway=True)
    try:
        code, out, err = run(world, monkeypatch, capsys, "vs", proxy.base, "household", "visit", str(case),
                             "--findings", "家中有人，已核实收入")
    finally:
        proxy.close()
    assert code == 0 and "走访" in out, err
    assert "服务器暂时无法答复，HTTP 502" in err
    assert _visits(world, case) == 1


def test_a_first_sending_still_running_is_waited_for_not_done_again(world, served, monkeypatch, capsys):
    """The first sending reaches the server slowly, after its client gave up on it: the client's second
    sending finds it still running (409), waits, and shows its answer; one visit recorded."""
    case = world.household()
    world.identify(case)
    world.assist(case)
    host, port = served.removeprefix("http://").split(":")
    proxy = CuttingProxy((host, int(port)), cut=0, hold=2.5)
    try:
        code, out, err = run(world, monkeypatch, capsys, "vs", proxy.base, "household", "visit", str(case),
                             "--findings", "家中有人，已核实收入")
    finally:
        proxy.close()
    assert code == 0 and "走访" in out, err
    assert "服务器还在办理这条命令的第一次发送" in err and "没有重复办理" in err
    assert _visits(world, case) == 1


def test_a_refused_command_is_judged_again_when_sent_again(world, served, monkeypatch, capsys):
    """A visit to a household not yet under assistance is refused; its answer lost, the client sends it
    again and it is refused again (not kept): said once, in words, nothing recorded."""
    case = world.household()
    proxy = _proxy(served)
    try:
        code, out, err = run(world, monkeypatch, capsys, "vs", proxy.base, "household", "visit", str(case),
                             "--findings", "家中无人")
    finally:
        proxy.close()
    assert code == 1 and "[visit.stage]" in err, err
    assert err.count("[visit.stage]") == 1 and "重新发送" in err
    assert _keys(world) == []


def _send(base: str, world, who: str, argv: list[str], key: str) -> httpx.Response:
    return httpx.post(base + "/api/v1/cli", json={"argv": argv, "lang": "zh"}, timeout=60, headers={
        "Authorization": f"Bearer {world.tokens[who]}", "X-Jingzhun-Person": who, "Idempotency-Key": key})


def test_the_server_keeps_a_commands_success_not_its_refusal_nor_a_secret(world, served):
    case = world.household()
    visit = ["household", "visit", str(case), "--findings", "家中有人，已核实收入"]
    refused = _send(served, world, "vs", visit, "visit-1")
    assert refused.status_code == 200 and refused.json()["exit"] == 1
    assert _keys(world) == []                   # a refusal is not kept: judged again when sent again
    world.identify(case)
    world.assist(case)
    done = _send(served, world, "vs", visit, "visit-1")
    assert done.json()["exit"] == 0 and "Idempotent-Replayed" not in done.headers
    again = _send(served, world, "vs", visit, "visit-1")
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == done.json()
    assert _visits(world, case) == 1
    assert _keys(world) == ["done"]
    enrolled = _send(served, world, "admin", ["person", "enrol", "vd", "--paper"], "enrol-1")
    assert enrolled.json()["exit"] == 0, enrolled.json()
    assert _keys(world) == ["done"]             # an enrolment code is never kept
    second = _send(served, world, "admin", ["person", "enrol", "vd", "--paper"], "enrol-1")
    assert "Idempotent-Replayed" not in second.headers and second.json()["stdout"] != enrolled.json()["stdout"]


def test_after_the_last_try_it_says_so_and_the_same_command_run_again_is_not_done_twice(
        world, served, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(lost_answers, "PAUSES", (0.1, 0.1))
    case = world.household()
    scan = scan_file(tmp_path / "死亡证明.pdf", "certificate")
    argv = ["evidence", "add", str(case), "natural_change_proof", "--field", "reason=户主去世", "--file", str(scan)]
    proxy = _proxy(served, cut=1000, spare=b"boundary=none")      # every answer lost (but the server's word
    try:                                                             # that it keeps keys)
        code, out, err = run(world, monkeypatch, capsys, "vs", proxy.base, *argv)
        assert code == 2 and out == ""
        assert "已发送 3 次。此命令可能已经办理并记录，也可能没有" in err
        assert "23 小时内原样再运行一次同一命令是安全的" in err
        assert _evidence(world, case, "natural_change_proof") == 1
        proxy.cut = 0                   # the line is back
        code, out, err = run(world, monkeypatch, capsys, "vs", proxy.base, *argv)
        assert code == 0, err
        assert f"已附于案件 {case}" in out
        assert "这条命令上次运行时没有收到答复" in err and "没有重复办理" in err
        assert _evidence(world, case, "natural_change_proof") == 1
        code, out, err = run(world, monkeypatch, capsys, "vs", proxy.base, *argv)     # a new run: a new key
        assert code == 2 and "[evidence.exists]" in err and "上次运行" not in err
    finally:
        proxy.close()


def test_writes_go_with_a_key_and_reads_imports_and_secrets_without():
    from entrypoints.cli.remote import keyed
    assert keyed(("household", "visit")) and keyed(("step", "identification", "appraisal"))
    assert not keyed(("case", "list")) and not keyed(("household", "import")) and not keyed(("person", "enrol"))
    assert not keyed(("person", "token")) and not keyed(("person", "add"))


def test_a_read_whose_answer_is_lost_is_read_again(world, served, monkeypatch, capsys):
    case = world.household()
    proxy = _proxy(served)
    try:
        code, out, err = run(world, monkeypatch, capsys, "vs", proxy.base, "case", "show", str(case), "--json")
    finally:
        proxy.close()
    assert code == 0 and json.loads(out)["id"] == case
    assert "此命令只读取数据" in err


def test_a_server_never_reached_is_tried_again_and_said_as_not_reached(monkeypatch, capsys, tmp_path):
    """Nothing listening (the server restarting): tried again, then said as not reached (nothing done),
    not as a command that may have been saved."""
    from tests.web.conftest import free_port
    monkeypatch.setattr(lost_answers, "PAUSES", (0.1, 0.1))
    for name in ("JINGZHUN_HOME", "JINGZHUN_DB", "JINGZHUN_AS", "JINGZHUN_SERVER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "client-config"))
    monkeypatch.setenv("JINGZHUN_TOKEN", "no-server-to-check-it")
    code = main(["--server", f"http://127.0.0.1:{free_port()}", "--as", "vs", "household", "visit", "1",
                 "--findings", "家中有人"])
    err = capsys.readouterr().err
    assert code == 2 and "没有收到答复（无法连接服务器）：0.1 秒后重新发送（第 2 次，最多 2 次）" in err
    assert "错误 [remote.unreachable]：无法连接服务器" in err and "可能已经办理" not in err
