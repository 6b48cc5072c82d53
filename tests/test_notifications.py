"""Notifications: the outbox, real SMTP and HTTP servers on loopback, retries, a killed dispatcher.

Time is the world's FixedClock or an explicit `now`; waiting is on events the servers set, never
on sleeping.
"""
from __future__ import annotations

import re

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.parse
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from engine.domain.deadline_rules import aware
from engine.domain.errors import render_stored
from engine.reads.deadlines import alert_rows
from engine.services.sweep import sweep
from notifications.channels import NotifySettings
from notifications.contacts import set_channels
from notifications.dispatcher import MAX_ATTEMPTS, dispatch
from tests.helpers.deadlines import awaiting_plan
from tests.helpers.notifications import (Inbox, OVERDUE, SUPERVISORS, attempts, by_email, free_port, outbox,
                                         smtp_settings)
from tests.helpers.notifications import smtp  # noqa: F401 (pytest fixtures)
from tests.helpers.notifications import cli  # noqa: F401 (other test modules import them from here)


ROOT = Path(__file__).resolve().parents[1]


# --- SMTP --------------------------------------------------------------------------------------

def test_alerts_reach_people_through_a_real_smtp_server(world, smtp):
    by_email(world)
    awaiting_plan(world)
    queued = sweep(world.app, now=OVERDUE)
    assert (queued.alerts, queued.messages) == (4, 5)
    result = dispatch(world.app, smtp_settings(smtp.port, Path(world.app.settings.home)), now=OVERDUE)
    assert (result.delivered, result.retried, result.failed) == (5, 0, 0)
    got = {m["To"]: m for m in smtp.messages}
    assert sorted(got) == sorted(f"{c}@example.cn" for c in SUPERVISORS)
    assert got["fs@example.cn"]["Subject"].startswith("【已逾期】帮扶计划")
    assert got["insp@example.cn"]["Subject"].startswith("【逾期升级·第3级】")
    body = got["th@example.cn"].get_content()
    for expected in ("已逾期 17 天", "自 2019-04-15 00:00 起", "责任人：first_secretary-fs（fs）",
                     "第 1 级，发给 乡镇长、乡镇党委书记", "案件尚需：结对帮扶 / 制定帮扶计划", "2019-04-14"):
        assert expected in body, expected
    # swept as a backlog (level 3 reached at once): the next level's time is gone, said so, not a past
    # date to beat; and the case's page to open
    assert "升级时间已过" in body and "前仍未办结" not in body, body
    assert re.search(r"办理入口：http://\S+/cases/\d+", body), body
    assert len({m["Message-ID"] for m in smtp.messages}) == 5
    assert [r.status for r in outbox(world)] == ["delivered"] * 5
    assert [a.outcome for a in attempts(world)] == ["delivered"] * 5
    again = dispatch(world.app, smtp_settings(smtp.port, Path(world.app.settings.home)), now=OVERDUE + timedelta(hours=1))
    assert again.delivered == 0 and len(smtp.messages) == 5


def test_english_messages_for_people_who_want_them(world, smtp):
    by_email(world, ("th",), lang="en")
    awaiting_plan(world)
    sweep(world.app, now=OVERDUE)
    dispatch(world.app, smtp_settings(smtp.port, Path(world.app.settings.home)), now=OVERDUE)
    [m] = smtp.messages
    assert m["Subject"].startswith("[Overdue, escalated to level 1] assistance plan")
    body = m.get_content()
    for expected in ("overdue for 17 days (since 2019-04-15 00:00)", "Owner: first_secretary-fs (fs)",
                     "Escalation level 1: sent to Township head, Township Party secretary",
                     "The case still needs: assistance / assistance plan"):
        assert expected in body, expected


def test_a_message_waits_while_the_server_is_down_and_is_delivered_when_it_is_back(world):
    by_email(world, ("fs",))
    awaiting_plan(world)
    sweep(world.app, now=OVERDUE)
    port = free_port()          # nothing listens there yet
    home = Path(world.app.settings.home)
    down = dispatch(world.app, smtp_settings(port, home), now=OVERDUE)
    assert (down.delivered, down.retried) == (0, 1)
    [row] = outbox(world)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "无法连接 SMTP 服务器" in render_stored(world.app.config, row.last_error)
    assert "unreachable" in render_stored(world.app.config, row.last_error, "en")
    assert aware(row.next_attempt_at) == OVERDUE + timedelta(minutes=1)      # backoff: 1 minute first
    assert dispatch(world.app, smtp_settings(port, home), now=OVERDUE + timedelta(seconds=30)).retried == 0
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        back = dispatch(world.app, smtp_settings(port, home), now=OVERDUE + timedelta(minutes=2))
    finally:
        controller.stop()
    assert back.delivered == 1 and len(inbox.messages) == 1
    assert [(a.attempt, a.outcome) for a in attempts(world)] == [(1, "retry"), (2, "delivered")]


def test_a_channel_down_for_good_fails_after_the_last_attempt(world):
    by_email(world, ("fs",))
    awaiting_plan(world)
    sweep(world.app, now=OVERDUE)
    home, port, now = Path(world.app.settings.home), free_port(), OVERDUE
    for _ in range(MAX_ATTEMPTS):
        dispatch(world.app, smtp_settings(port, home), now=now)
        now += timedelta(days=1)
    [row] = outbox(world)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert [a.outcome for a in attempts(world)] == ["retry"] * (MAX_ATTEMPTS - 1) + ["failed"]


def test_a_permanent_refusal_fails_at_once_and_shows_in_alerts_list_failed(world, smtp):
    set_channels(world.app, world["admin"], "fs", [("email", "nobody@example.cn", "zh")])
    by_email(world, ("th", "tsec"))
    awaiting_plan(world)
    sweep(world.app, now=OVERDUE)
    result = dispatch(world.app, smtp_settings(smtp.port, Path(world.app.settings.home)), now=OVERDUE)
    assert (result.delivered, result.failed) == (2, 1)
    failed = alert_rows(world.app, world["insp"], status="failed")
    levels = {r["level"]: r for r in failed}
    assert levels[0]["messages"][0]["error"].startswith("收件人被拒收（550）")
    in_english = alert_rows(world.app, world["insp"], status="failed", lang="en")
    assert {r["level"]: r for r in in_english}[0]["messages"][0]["error"].startswith("recipient refused (550)")
    assert levels[2]["unreachable"] == ["cd"] and levels[3]["unreachable"] == ["insp"]   # no channel at all
    assert 1 not in levels
    out = cli(world, "insp", "alerts", "list", "--failed", "--json")
    assert out.code == 0, out.err
    assert {r["level"] for r in json.loads(out.out)} == {0, 2, 3}
    text = cli(world, "insp", "--lang", "en", "alerts", "list", "--failed")
    assert "recipient refused (550)" in text.out and "no channel for cd" in text.out


# --- robots ------------------------------------------------------------------------------------

class Robots:
    """A loopback HTTP server standing in for the WeCom and DingTalk webhook endpoints."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []
        robots = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                url = urllib.parse.urlparse(self.path)
                robots.requests.append({"path": url.path, "query": urllib.parse.parse_qs(url.query),
                                        "type": self.headers["Content-Type"],
                                        "json": json.loads(self.rfile.read(length))})
                status, answer = robots.answers.pop(0) if robots.answers else (200, {"errcode": 0, "errmsg": "ok"})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robots():
    r = Robots()
    yield r
    r.close()


def robot_settings(robots: Robots, home: Path) -> NotifySettings:
    return NotifySettings(mailbox=home / "mailbox", timeout=10, robots={
        "MEIJIANG": (f"{robots.url}/cgi-bin/webhook/send?key=wecom-key-123", None),
        "COUNTY": (f"{robots.url}/robot/send?access_token=ding-token-456", "SECsigning"),
        "PLAIN": (f"{robots.url}/cgi-bin/webhook/send?key=plain", None)})


def test_wecom_and_dingtalk_group_robots_get_their_json(world, robots):
    set_channels(world.app, world["admin"], "th", [("wecom", "meijiang/13800001111", "zh")])
    set_channels(world.app, world["admin"], "tsec", [("wecom", "plain", "zh")])
    set_channels(world.app, world["admin"], "cd", [("dingtalk", "county/13900002222", "zh")])
    awaiting_plan(world)
    sweep(world.app, now=OVERDUE)
    result = dispatch(world.app, robot_settings(robots, Path(world.app.settings.home)), now=OVERDUE)
    assert result.delivered == 3
    wecom = [r for r in robots.requests if r["path"] == "/cgi-bin/webhook/send"]
    mention = next(r for r in wecom if r["query"]["key"] == ["wecom-key-123"])
    assert mention["json"]["msgtype"] == "text"
    assert mention["json"]["text"]["mentioned_mobile_list"] == ["13800001111"]
    assert "逾期升级" in mention["json"]["text"]["content"]
    plain = next(r for r in wecom if r["query"]["key"] == ["plain"])
    assert plain["json"]["msgtype"] == "markdown" and plain["json"]["markdown"]["content"].startswith("### ")
    [ding] = [r for r in robots.requests if r["path"] == "/robot/send"]
    body = ding["json"]
    assert body["msgtype"] == "markdown" and body["at"] == {"atMobiles": ["13900002222"], "isAtAll": False}
    assert body["markdown"]["title"].startswith("逾期升级·第2级") and "@13900002222" in body["markdown"]["text"]
    stamp, sign = ding["query"]["timestamp"][0], ding["query"]["sign"][0]
    expected = base64.b64encode(hmac.new(b"SECsigning", f"{stamp}\nSECsigning".encode(), hashlib.sha256).digest())
    assert sign == expected.decode() and ding["query"]["access_token"] == ["ding-token-456"]
    assert ding["type"].startswith("application/json")


def test_robot_errors_are_retried_or_failed_and_never_show_the_key(world, robots):
    set_channels(world.app, world["admin"], "th", [("wecom", "meijiang", "zh")])
    set_channels(world.app, world["admin"], "cd", [("dingtalk", "county", "zh")])
    awaiting_plan(world)
    sweep(world.app, now=OVERDUE)
    robots.answers = [(200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
                      (200, {"errcode": 310000, "errmsg": "keywords not in content"})]
    result = dispatch(world.app, robot_settings(robots, Path(world.app.settings.home)), now=OVERDUE)
    assert (result.retried, result.failed) == (1, 1)
    rows = {r.channel: r for r in outbox(world)}
    shown = {k: render_stored(world.app.config, r.last_error) for k, r in rows.items()}
    assert rows["wecom"].status == "pending" and "错误码 45009" in shown["wecom"]
    assert rows["dingtalk"].status == "failed" and "错误码 310000" in shown["dingtalk"]
    assert "errcode 45009" in render_stored(world.app.config, rows["wecom"].last_error, "en")
    for r in rows.values():
        assert "wecom-key-123" not in r.last_error and "ding-token" not in r.last_error and "127.0.0.1" not in r.last_error
    later = dispatch(world.app, robot_settings(robots, Path(world.app.settings.home)), now=OVERDUE + timedelta(minutes=5))
    assert later.delivered == 1


# --- exactly once across a killed dispatcher ---------------------------------------------------

def test_a_dispatcher_killed_mid_batch_and_run_again_delivers_every_message_exactly_once(world, smtp):
    by_email(world)
    awaiting_plan(world, 3)
    sweep(world.app, now=OVERDUE)
    total = len(outbox(world))
    assert total == 15
    smtp.hold_at = 6                      # the 6th message is in flight when the dispatcher dies
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    env.update(JINGZHUN_HOME=str(world.app.settings.home), JINGZHUN_SMTP_HOST="127.0.0.1",
               JINGZHUN_SMTP_PORT=str(smtp.port), PYTHONPATH=str(ROOT), JINGZHUN_TOKEN=world.tokens["admin"])
    if world.app.settings.db_url.startswith("postgresql"):
        env["JINGZHUN_DB"] = world.app.settings.db_url
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from cli import main; sys.exit(main())",
                             "--as", "admin", "alerts", "dispatch", "--batch", "50"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert smtp.held.wait(60), proc.stderr.read().decode() if proc.poll() is not None else "never reached"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        smtp.release.set()
    assert proc.returncode == -signal.SIGKILL
    assert len(smtp.messages) == 5
    states = [r.status for r in outbox(world)]     # the one in flight is marked, the rest only claimed
    assert (states.count("delivered"), states.count("sending"), states.count("pending")) == (5, 1, 9)
    world.clock.at = OVERDUE + timedelta(minutes=1)   # the dispatcher's lease has not run out: its process is gone
    rerun = dispatch(world.app, smtp_settings(smtp.port, Path(world.app.settings.home)))
    assert rerun.delivered == 10 and rerun.interrupted == 1    # only the message being sent was interrupted
    assert sorted(smtp.ids(), key=int) == [str(r.id) for r in outbox(world)]          # each once
    assert len(set(smtp.ids())) == total and len(smtp.messages) == total
    assert {r.status for r in outbox(world)} == {"delivered"}
    interrupted = [a for a in attempts(world) if a.outcome == "interrupted"]
    assert len(interrupted) == 1 and ":" in interrupted[0].worker
    [sent_twice] = [r for r in outbox(world) if r.id == interrupted[0].outbox_id]
    assert sent_twice.attempts == 2 and str(sent_twice.id) == smtp.ids()[5]


def test_a_first_sign_in_code_is_kept_nowhere_once_delivered_and_never_sent_to_a_group(world, tmp_path):
    """The code stayed in the outbox's text after delivery (in every backup of the database), and a
    person whose channel was a WeCom robot had it posted to the whole group."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.services.accounts import issue_enrolment
    set_channels(world.app, world["admin"], "vs", [("file", "vs", "zh")])
    made = issue_enrolment(world.app, world["admin"], "vs")
    assert made.code is None and made.delivery == "file"
    with world.app.engine.connect() as conn:
        body = conn.execute(select(t.outbox.c.body).where(t.outbox.c.kind == "enrolment")).scalars().all()[-1]
    assert "首次登录码" in body                  # waiting: the text holds the code until it is sent
    result = dispatch(world.app, NotifySettings(mailbox=tmp_path / "mailbox", timeout=10), now=world.app.clock.now())
    assert result.delivered >= 1
    delivered = [p.read_text(encoding="utf-8") for p in (tmp_path / "mailbox").rglob("*") if p.is_file()]
    code = next(line for text in delivered for line in text.splitlines() if "首次登录码" in line)
    with world.app.engine.connect() as conn:
        kept = conn.execute(select(t.outbox.c.body).where(t.outbox.c.kind == "enrolment")).scalars().all()
    assert all("不再保存" in text for text in kept) and not any(code in text for text in kept)
    set_channels(world.app, world["admin"], "vd", [("wecom", "meijiang/13800001111", "zh")])
    group = issue_enrolment(world.app, world["admin"], "vd")
    assert group.delivery == "paper" and group.code           # a group chat is no private channel
