"""Notifications: people's channels (part of their record, no secret), the command line, TLS and
credentials, slow or failing channels, digests and the texts of alerts.

Time is the world's FixedClock or an explicit `now`; waiting is on events the servers set, never
on sleeping.
"""
from __future__ import annotations

import json
import subprocess
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.domain.deadline_rules import aware
from engine.domain.errors import render_stored
from engine.reads.deadlines import alert_rows
from engine.services.sweep import sweep
from notifications.channels import NotifySettings
from notifications.contacts import set_channels
from notifications.dispatcher import MAX_ATTEMPTS, dispatch
from tests.helpers.deadlines import awaiting_plan, cst
from tests.helpers.notifications import (Inbox, OVERDUE, SUPERVISORS, attempts, by_email, cli, free_port,
                                         outbox, smtp_settings)
from tests.helpers.notifications import smtp  # noqa: F401 (pytest fixtures)


def test_person_add_and_import_record_channels_and_refuse_secrets(world, tmp_path):
    from tests.world import VILLAGE
    ok = cli(world, "admin", "person", "add", "pc9", "帮扶干部 九", "--role", f"pairing_cadre:{VILLAGE}", "--no-code",
             "--channel", "email:pc9@example.cn", "--channel", "wecom:meijiang/13800001111", "--alert-lang", "en")
    assert ok.code == 0, ok.err
    bad = cli(world, "admin", "person", "add", "pc10", "x", "--role", f"pairing_cadre:{VILLAGE}", "--no-code",
              "--channel", "wecom:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET")
    assert bad.code == 2 and "[channel.bad]" in bad.err
    people = tmp_path / "people.csv"
    people.write_text("code,name,role,region,channels,alert_lang\n"
                      f"pc11,帮扶干部 十一,pairing_cadre,{VILLAGE},email:pc11@example.cn;file:pc11,zh\n",
                      encoding="utf-8")
    imported = cli(world, "admin", "person", "import", str(people), "--no-code")
    assert imported.code == 0, imported.err
    with world.app.engine.connect() as conn:
        rows = conn.execute(select(t.persons.c.code, t.person_channels.c.channel, t.person_channels.c.address,
                                   t.person_channels.c.lang).join(t.persons, t.persons.c.id == t.person_channels.c.person_id)
                            .order_by(t.person_channels.c.id)).all()
        assert [tuple(r) for r in rows] == [("pc9", "email", "pc9@example.cn", "en"),
                                            ("pc9", "wecom", "meijiang/13800001111", "en"),
                                            ("pc11", "email", "pc11@example.cn", "zh"), ("pc11", "file", "pc11", "zh")]
        assert conn.execute(select(func.count()).select_from(t.persons).where(t.persons.c.code == "pc10")).scalar() == 0
        detail = conn.execute(select(t.audit_events.c.detail).where(t.audit_events.c.action == "person_added")
                              .order_by(t.audit_events.c.seq.desc()).limit(1)).scalar()
    assert detail["channels"] == ["email", "file"] and "pc11@example.cn" not in json.dumps(detail)
    changed = cli(world, "admin", "person", "channel", "pc9", "--remove", "wecom:meijiang/13800001111",
                  "--add", "dingtalk:county", "--json")
    assert changed.code == 0, changed.err
    assert [(c["channel"], c["address"]) for c in json.loads(changed.out)] == \
        [("email", "pc9@example.cn"), ("dingtalk", "county")]
    refused = cli(world, "fs", "person", "channel", "pc9", "--add", "file:x")
    assert refused.code == 1


def test_smtp_password_is_never_stored_or_shown(world):
    settings = NotifySettings.from_env(Path(world.app.settings.home), {
        "JINGZHUN_SMTP_HOST": "mail.example.cn", "JINGZHUN_SMTP_USER": "jz", "JINGZHUN_SMTP_PASSWORD": "s3cret!",
        "JINGZHUN_ROBOT_MEIJIANG": "https://example.cn/send?key=k", "JINGZHUN_ROBOT_COUNTY_SECRET": "SEC1"})
    assert "s3cret" not in repr(settings) and "key=k" not in repr(settings)
    assert settings.robots["MEIJIANG"] == ("https://example.cn/send?key=k", None)
    with world.app.engine.connect() as conn:
        assert not [c.name for c in t.person_channels.columns if "password" in c.name or "secret" in c.name]
        assert conn.execute(select(func.count()).select_from(t.person_channels)).scalar() == 0


def test_alerts_list_filters_mine_level_status_region_and_json(world, smtp):
    from tests.world import VILLAGE2
    by_email(world)
    awaiting_plan(world, 2)
    sweep(world.app, now=OVERDUE)
    dispatch(world.app, smtp_settings(smtp.port, Path(world.app.settings.home)), now=OVERDUE)
    every = json.loads(cli(world, "insp", "alerts", "list", "--json").out)
    assert len(every) == 8 and {r["status"] for r in every} == {"delivered"}
    mine = json.loads(cli(world, "th", "alerts", "list", "--mine", "--json").out)
    assert {r["level"] for r in mine} == {1} and len(mine) == 2
    owner = json.loads(cli(world, "fs", "alerts", "list", "--mine", "--json").out)
    assert len(owner) == 8                     # fs owns both plans: every level about them
    level = json.loads(cli(world, "insp", "alerts", "list", "--level", "3", "--json").out)
    assert [r["recipients"] for r in level] == [["insp"], ["insp"]]
    assert json.loads(cli(world, "insp", "alerts", "list", "--status", "pending", "--json").out) == []
    assert json.loads(cli(world, "insp", "alerts", "list", "--region", VILLAGE2, "--json").out) == []
    assert json.loads(cli(world, "vs2", "alerts", "list", "--json").out) == []   # another village's secretary
    text = cli(world, "insp", "alerts", "list")
    assert text.code == 0 and "（共 8 条提醒）" in text.out and "已送达" in text.out
    english = cli(world, "insp", "--lang", "en", "alerts", "list")
    assert "(8 alerts)" in english.out and "delivered" in english.out and english.out.startswith("alert\tlevel")


def test_alerts_sweep_and_dispatch_from_the_command_line(world, tmp_path):
    set_channels(world.app, world["admin"], "fs", [("file", "fs", "zh")])
    awaiting_plan(world)
    refused = cli(world, "fs", "alerts", "sweep", "--now", "2019-05-01T09:00")
    assert refused.code == 1                           # another time: administrators only
    swept = cli(world, "admin", "alerts", "sweep", "--now", "2019-05-01T09:00", "--json")
    assert swept.code == 0, swept.err
    assert json.loads(swept.out)["alerts"] == 4
    again = cli(world, "admin", "alerts", "sweep", "--now", "2019-05-01T09:00", "--json")
    assert json.loads(again.out)["alerts"] == 0
    sent = cli(world, "admin", "alerts", "dispatch", "--now", "2019-05-01T09:00", "--json")
    assert json.loads(sent.out)["delivered"] == 1
    [mail] = list((Path(world.app.settings.home) / "mailbox" / "fs").iterdir())
    text = mail.read_text(encoding="utf-8")
    assert "Subject: 【已逾期】" in text and "Message-ID: <jingzhun." in text
    digest = cli(world, "admin", "alerts", "digest", "--now", "2019-05-01T08:00", "--json")
    assert digest.code == 0 and json.loads(digest.out) == {   # fs is no supervisor; those are, without a channel
        "supervisors": 4, "messages": 0, "unreachable": ["cd", "insp", "th", "tsec"]}
    listed = cli(world, "fs", "deadline", "list", "--mine", "--json")
    assert [r["rule"] for r in json.loads(listed.out)] == ["assistance_plan"]


def test_jobs_run_by_hand_are_for_administrators_and_dispatch_exits_1_when_nothing_gets_through(world, monkeypatch):
    awaiting_plan(world)
    for job in ("sweep", "dispatch", "digest"):
        refused = cli(world, "fs", "alerts", job)
        assert refused.code == 1 and "管理员" in refused.err, (job, refused.err)
    monkeypatch.setenv("JINGZHUN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JINGZHUN_SMTP_PORT", str(free_port()))           # no mail server listens there
    set_channels(world.app, world["admin"], "fs", [("email", "fs@example.org", "zh")])
    assert cli(world, "admin", "alerts", "sweep", "--now", "2019-05-01T09:00").code == 0
    stuck = cli(world, "admin", "alerts", "dispatch", "--now", "2019-05-01T09:00", "--json")
    assert stuck.code == 1 and json.loads(stuck.out)["delivered"] == 0


def test_the_daily_digest_goes_to_each_supervisor_once_a_day(world):
    from engine.services.sweep import digest
    for code in ("th", "tsec", "cd", "insp", "ts1"):
        set_channels(world.app, world["admin"], code, [("file", code, "zh")])
    awaiting_plan(world, 3)
    first = digest(world.app, now=cst(2019, 5, 1, 8, 0))
    assert first == {"supervisors": 4, "messages": 4, "unreachable": []}     # ts1 is no supervisor
    assert digest(world.app, now=cst(2019, 5, 1, 15, 0))["messages"] == 0
    assert digest(world.app, now=cst(2019, 5, 2, 8, 0))["messages"] == 4
    rows = [r for r in outbox(world) if r.kind == "digest"]
    assert "3 项逾期" in rows[0].subject and "帮扶计划" in rows[0].body
    assert f"{world['fs'].name}（fs）" in rows[0].body       # the owner by name, as an alert says them
    assert "链头" not in rows[0].body                     # nothing sealed yet: no head to carry


def test_the_daily_digest_carries_the_latest_signed_head(world):
    from engine.reads.audit_seal import signed_head
    from engine.reads.audit_verify import seal
    from engine.services.sweep import digest
    set_channels(world.app, world["admin"], "insp", [("file", "insp", "zh")])
    awaiting_plan(world, 2)
    seal(world.app, world["admin"])
    head = signed_head(world.app)
    assert digest(world.app, now=cst(2019, 5, 1, 8, 0))["messages"] == 1
    body = [r for r in outbox(world) if r.kind == "digest"][0].body
    assert f"{head['seq']}:{head['hash']}" in body and "jingzhun audit verify --against" in body
    # said in words; the 128-hex signature and the key are where an inspector reads them (`audit head`)
    assert head["signature"] not in body and head["public_key"] not in body and "jingzhun audit head" in body


# --- the review's fixes ----------------------------------------------------------------------------

def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no system trusts (made by the openssl command)."""
    import shutil
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def test_starttls_checks_the_servers_certificate(world, tmp_path):
    import ssl
    from dataclasses import replace
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(str(cert), str(key))
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True)
    controller.start()
    try:
        by_email(world, ("fs",))
        awaiting_plan(world)
        sweep(world.app, now=OVERDUE)
        settings = replace(smtp_settings(port, Path(world.app.settings.home)), smtp_security="starttls")
        untrusted = dispatch(world.app, settings, now=OVERDUE)
        assert (untrusted.delivered, untrusted.retried) == (0, 1) and not inbox.messages
        stored_error = outbox(world)[0].last_error
        assert "的证书不受信任" in render_stored(world.app.config, stored_error)
        assert "certificate not trusted" in render_stored(world.app.config, stored_error, "en")
        trusted = dispatch(world.app, replace(settings, smtp_cafile=str(cert)), now=OVERDUE + timedelta(minutes=2))
        assert trusted.delivered == 1 and len(inbox.messages) == 1
    finally:
        controller.stop()
    assert NotifySettings.from_env(tmp_path, {"JINGZHUN_SMTP_CAFILE": str(cert)}).smtp_cafile == str(cert)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")   # aiosmtpd's; what is tested here
def test_credentials_go_only_over_tls_or_to_a_server_on_this_host(world, monkeypatch):
    import smtplib
    from aiosmtpd.smtp import AuthResult, LoginPassword
    from notifications.channels import DeliveryError, Email, Outgoing
    message = Outgoing(1, "email", "fs@example.cn", "s", "b", "k", OVERDUE)
    connected = []

    def connect(*args, **kwargs):
        connected.append(args)
        raise OSError("no network in this test")

    with monkeypatch.context() as mp:
        mp.setattr(smtplib, "SMTP", connect)
        far = Email(NotifySettings(smtp_host="mail.example.cn", smtp_user="jz", smtp_password="pw"))
        with pytest.raises(DeliveryError) as refused:
            far.send(message)
    assert connected == [] and refused.value.unreachable and "pw" not in str(refused.value)
    assert "拒绝在未加密的连接上登录" in render_stored(world.app.config, str(refused.value))
    assert "without TLS refused" in render_stored(world.app.config, str(refused.value), "en")
    from notifications.channels import is_loopback
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("mail.example.cn") and not is_loopback("10.0.0.1")
    # On this host a plain connection may log in (the test servers have no certificate).
    logins = []

    def check(server, session, envelope, mechanism, auth_data):
        logins.append(isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"jz", b"pw"))
        return AuthResult(success=logins[-1])

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=check, auth_required=True,
                            auth_require_tls=False)
    controller.start()
    try:
        near = Email(NotifySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_user="jz", smtp_password="pw",
                                    timeout=10))
        near.send(message)
        near.close()
    finally:
        controller.stop()
    assert logins == [True] and len(inbox.messages) == 1


class FakeChannel:
    """A channel that records what it is given and can be slow (on the world's clock) or break."""

    def __init__(self, world, minutes: int = 0, error: Exception | None = None):
        self.world, self.minutes, self.error, self.sent = world, minutes, error, []
        self.during = None      # called while the n-th message is being sent: (n, function)

    def send(self, m):
        self.world.clock.at += timedelta(minutes=self.minutes)
        if self.error is not None:
            raise self.error
        self.sent.append(m.id)
        if self.during and len(self.sent) == self.during[0]:
            n, call = self.during
            self.during = None
            call()

    def close(self):
        pass


def by_file(world, codes=SUPERVISORS) -> None:
    for code in codes:
        set_channels(world.app, world["admin"], code, [("file", code, "zh")])


def test_a_slow_channel_cannot_make_the_batch_lapse_into_another_dispatchers_hands(world, monkeypatch):
    import notifications.dispatcher as dispatcher
    by_file(world)
    awaiting_plan(world)
    world.clock.at = OVERDUE
    sweep(world.app)
    slow = FakeChannel(world, minutes=4)            # each message takes 4 of the lease's 5 minutes
    monkeypatch.setattr(dispatcher, "open_channels", lambda settings: {"file": slow})
    other = {}
    # While the second message is sent (8 minutes after the claim), another dispatcher looks for work.
    slow.during = (2, lambda: other.update(result=dispatch(world.app, worker="elsewhere:1:other")))
    result = dispatch(world.app)
    assert other["result"].delivered == 0 and other["result"].interrupted == 0
    assert result.delivered == 5 and sorted(slow.sent) == [r.id for r in outbox(world)]   # each once
    assert [a.outcome for a in attempts(world)] == ["delivered"] * 5


def test_a_channel_found_down_is_not_tried_again_for_the_rest_of_the_batch(world, smtp):
    by_email(world, ("fs", "th", "tsec"))
    by_file(world, ("cd",))
    awaiting_plan(world)
    sweep(world.app, now=OVERDUE)
    home, port = Path(world.app.settings.home), free_port()      # nothing listens there
    down = dispatch(world.app, smtp_settings(port, home), now=OVERDUE)
    assert [a.outcome for a in attempts(world)] == ["retry", "delivered"]   # one try of the server; the file still works
    assert (down.retried, down.deferred, down.delivered) == (1, 2, 1)
    rows = {r.address: r for r in outbox(world)}
    [probe] = [r for r in rows.values() if r.channel == "email" and r.attempts == 1]
    waiting = [r for r in rows.values() if r.channel == "email" and r.attempts == 0]
    assert len(waiting) == 2 and all(render_stored(world.app.config, r.last_error).startswith("未尝试：渠道 email 不可用")
                                     for r in waiting)
    assert all(render_stored(world.app.config, r.last_error, "en").startswith("not tried: email down") for r in waiting)
    assert {aware(r.next_attempt_at) for r in waiting} == {aware(probe.next_attempt_at)} == {OVERDUE + timedelta(minutes=1)}
    back = dispatch(world.app, smtp_settings(smtp.port, home), now=OVERDUE + timedelta(minutes=1))
    assert back.delivered == 3 and len(smtp.messages) == 3


def test_any_error_a_channel_raises_is_a_recorded_failed_attempt(world, monkeypatch):
    import notifications.dispatcher as dispatcher
    by_file(world, ("fs", "th"))
    awaiting_plan(world)
    sweep(world.app, now=OVERDUE)
    broken = FakeChannel(world, error=RuntimeError("template bug"))
    monkeypatch.setattr(dispatcher, "open_channels", lambda settings: {"file": broken})
    result = dispatch(world.app, now=OVERDUE)
    assert (result.retried, result.delivered) == (2, 0)
    shown = lambda text, lang="zh": render_stored(world.app.config, text, lang)  # noqa: E731
    assert [(r.status, r.attempts, shown(r.last_error)) for r in outbox(world)] == \
        [("pending", 1, "发送出错：RuntimeError: template bug")] * 2
    assert [(a.outcome, shown(a.error, "en")) for a in attempts(world)] == \
        [("retry", "sending failed: RuntimeError: template bug")] * 2


def test_a_message_interrupted_on_its_last_attempt_fails_instead_of_being_sent_again(world, monkeypatch):
    import notifications.dispatcher as dispatcher
    by_file(world, ("fs",))
    awaiting_plan(world)
    sweep(world.app, now=OVERDUE)
    with world.app.transaction() as conn:   # being sent for the 8th time by a dispatcher that died
        conn.execute(t.outbox.update().values(status="sending", attempts=MAX_ATTEMPTS - 1, claimed_by="gone:1:x",
                                              claimed_until=OVERDUE - timedelta(minutes=1)))
    never = FakeChannel(world)
    monkeypatch.setattr(dispatcher, "open_channels", lambda settings: {"file": never})
    result = dispatch(world.app, now=OVERDUE)
    assert (result.interrupted, result.failed, result.delivered) == (1, 1, 0) and never.sent == []
    [row] = outbox(world)
    assert (row.status, row.attempts, row.claimed_by) == ("failed", MAX_ATTEMPTS, None)
    assert [(a.attempt, a.outcome) for a in attempts(world)] == [(MAX_ATTEMPTS, "interrupted")]
    [owner] = [r for r in alert_rows(world.app, world["insp"], status="failed") if r["level"] == 0]
    assert owner["messages"][0]["status"] == "failed"


def test_days_overdue_are_office_days_in_the_rules_own_counting(world):
    """Notice expiry counts working days: due Tuesday 8 October 2019 (after the National Day week),
    on Monday 28 October it is 15 working days overdue (19 calendar days after the due moment)."""
    set_channels(world.app, world["admin"], "insp", [("file", "insp", "zh")])
    set_channels(world.app, world["admin"], "cd", [("file", "cd", "en")])
    case = world.household()
    world.on(date(2019, 9, 20))
    world.up_to_first_notice(case)
    sweep(world.app, now=cst(2019, 10, 28, 8, 0))
    body = {r.address: r.body for r in outbox(world)}
    assert "已逾期 15 个工作日（自 2019-10-09 00:00 起）" in body["insp"]
    assert "overdue for 15 working days (since 2019-10-09 00:00)" in body["cd"]


def test_an_owner_alert_on_the_due_date_says_it_is_due_today(world):
    from engine.services.sweep import CASES
    from notifications.outbox import AlertMessage, alert_context, render
    case = awaiting_plan(world)[0]
    with world.app.engine.connect() as conn:
        d = conn.execute(select(t.deadlines).where(t.deadlines.c.case_id == case,
                                                   t.deadlines.c.rule == "assistance_plan")).one()
        row = conn.execute(CASES, {"ids": [case]}).one()
    owner = AlertMessage(1, d, next(e for e in d.ladder if e["level"] == 0), row, [])
    for lang, subject, says in (("zh", "【今天到期】", "以下事项今天（2019-04-14）到期"),
                                ("en", "[Due today]", "This is due today, 2019-04-14")):
        for fmt in ("txt", "md"):
            title, body = render("alert", lang, fmt, alert_context(world.app, owner, lang, cst(2019, 4, 14, 9, 0), {}, {}))
            assert not any(s in body for s in ("逾期 0", "逾期**：0", "for 0", "Overdue**: 0")), body
            if fmt == "txt":
                assert title.startswith(subject) and says in body
    reminder = AlertMessage(1, d, d.ladder[0], row, [])
    _, body = render("alert", "en", "txt", alert_context(world.app, reminder, "en", cst(2019, 4, 12, 8, 0), {}, {}))
    assert "(2 days left)" in body
    _, body = render("alert", "en", "txt", alert_context(world.app, owner, "en", cst(2019, 4, 15, 8, 0), {}, {}))
    assert "overdue for 1 day (since" in body


def test_two_digests_at_once_write_each_message_once(world, monkeypatch):
    from entrypoints.bootstrap import make_app
    from engine.adapters.db import Settings
    from engine.services.sweep import digest
    import notifications.outbox as outbox_module
    if world.app.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite a digest takes the write lock first: two cannot interleave")
    by_file(world, ("th", "tsec", "cd", "insp"))
    awaiting_plan(world, 2)
    real, barrier = outbox_module.channels_of, threading.Barrier(2, timeout=30)

    def both_have_looked(conn, ids):      # each has found no digest of the day before either writes
        found = real(conn, ids)
        barrier.wait()
        return found

    monkeypatch.setattr(outbox_module, "channels_of", both_have_looked)
    apps = [make_app(Settings.from_env(str(world.app.settings.home), world.app.settings.db_url), config=world.app.config,
                clock=world.clock) for _ in range(2)]
    results, errors = [], []

    def run(app):
        try:
            results.append(digest(app, now=cst(2019, 5, 1, 8, 0)))
        except Exception as exc:   # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in apps]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for a in apps:
        a.close()
    assert not errors, errors
    assert sorted(r["messages"] for r in results) == [0, 4]
    assert len([r for r in outbox(world) if r.kind == "digest"]) == 4


def test_command_summaries_speak_chinese_by_default_and_english_on_request(world):
    set_channels(world.app, world["admin"], "fs", [("file", "fs", "zh")])
    awaiting_plan(world)
    swept = cli(world, "admin", "alerts", "sweep", "--now", "2019-05-01T09:00")
    assert swept.code == 0 and swept.out.startswith("已生成提醒 4 条"), swept.out
    sent = cli(world, "admin", "--lang", "en", "alerts", "dispatch", "--now", "2019-05-01T09:00")
    assert sent.out.startswith("1 delivered, 0 to retry"), sent.out
    assert cli(world, "admin", "alerts", "dispatch").out.startswith("已送达 0 条")
    digest = cli(world, "admin", "alerts", "digest", "--now", "2019-05-01T08:00")
    assert digest.out.startswith("已为 4 名督导人员生成每日汇总消息 0 条；无通知渠道：cd, insp, th, tsec"), digest.out
    assert cli(world, "admin", "deadline", "reschedule").out.startswith("已重算：0 个未办结期限改期")
    assert cli(world, "admin", "--lang", "en", "deadline", "reschedule").out.startswith("0 open deadlines moved")
    listed = cli(world, "fs", "deadline", "list", "--mine")
    assert listed.out.startswith("编号\t案件") and "（共 1 个期限）" in listed.out
    assert "(1 deadlines)" in cli(world, "fs", "--lang", "en", "deadline", "list", "--mine").out


def test_a_time_without_a_zone_is_office_time_of_the_configuration(tmp_path):
    import click
    import cli as cli_module
    from datetime import datetime, timezone
    from config import load_config
    from entrypoints.cli.context import Ctx
    from entrypoints.cli.parsing import parse_now
    from tests.helpers.deadlines import config_copy
    folder = config_copy(tmp_path, edit_deadlines=lambda y: y.update(timezone="Asia/Urumqi"))   # UTC+6
    for config, hour in ((load_config(folder), 3), (load_config(), 1)):
        with click.Context(cli_module.cli, obj=Ctx(None, None, "zh", None, _config=config)) as c:
            assert parse_now(c, None, "2019-10-09T09:00") == datetime(2019, 10, 9, hour, 0,
                                                                                  tzinfo=timezone.utc)
            assert parse_now(c, None, "2019-10-09T09:00+08:00").hour == 1
