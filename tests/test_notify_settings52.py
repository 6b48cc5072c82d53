"""The administrator's view of notifications (a8 findings 1, 2, 4, 9, 10, 12): settings that cannot be
meant refused at start-up in words, one channel's bad settings never stopping the others, every message
of the outbox listed by its kind, a failed one sent again."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import BadInput, render_stored
from engine.services.sweep import sweep
from notifications.channels import NotifySettings
from notifications.contacts import set_channels
from notifications.dispatcher import dispatch
from tests.helpers.deadlines import identified
from tests.helpers.notifications import OVERDUE, cli, free_port, outbox, smtp_settings
from tests.helpers.notifications import smtp  # noqa: F401 (pytest fixtures)
from tests.test_notifications import robot_settings, robots  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parents[1]


def _cli(world, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`jingzhun` in a process of its own over the world's home, as the administrator."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    return subprocess.run([sys.executable, "-m", "cli", "--home", str(world.app.settings.home), *args],
                          cwd=ROOT, env={**clean, "JINGZHUN_DB": world.app.settings.db_url, "JINGZHUN_AS": "admin",
                                         "JINGZHUN_TOKEN": world.tokens["admin"], **env},
                          capture_output=True, text=True, timeout=120)


def test_each_notification_setting_that_cannot_be_meant_is_named_with_what_is_expected(world, tmp_path):
    home = tmp_path
    for env, words in (
            ({"JINGZHUN_SMTP_PORT": "abc"}, "`JINGZHUN_SMTP_PORT` 须是 1 到 65535 之间的整数（端口号），现在是 abc"),
            ({"JINGZHUN_SMTP_PORT": "70000"}, "`JINGZHUN_SMTP_PORT` 须是 1 到 65535"),
            ({"JINGZHUN_SMTP_TIMEOUT": "x"}, "`JINGZHUN_SMTP_TIMEOUT` 须是 1 到 600 之间的秒数，现在是 x"),
            ({"JINGZHUN_SMTP_SECURITY": "tls"}, "`JINGZHUN_SMTP_SECURITY` 须是 none, starttls, ssl 之一，现在是 tls"),
            ({"JINGZHUN_SMTP_FROM": "jingzhun"}, "`JINGZHUN_SMTP_FROM` 须是发件人的邮件地址"),
            ({"JINGZHUN_SMTP_HOST": "smtp://mail.county.cn"}, "`JINGZHUN_SMTP_HOST` 须是邮件服务器的主机名"),
            ({"JINGZHUN_SMTP_HOST": "mail.county.cn", "JINGZHUN_SMTP_USER": "jz"}, "密码会以明文发往 mail.county.cn"),
            ({"JINGZHUN_SMTP_CAFILE": str(tmp_path / "none.pem")}, "`JINGZHUN_SMTP_CAFILE` 指向的证书文件不存在"),
            ({"JINGZHUN_ROBOT_TOWN1": "qyapi.weixin.qq.com/send?key=KEY1"}, "`JINGZHUN_ROBOT_TOWN1` 须是群机器人的推送地址"),
            ({"JINGZHUN_ROBOT_TOWN1": "http://qyapi.weixin.qq.com/send?key=KEY1"}, "`JINGZHUN_ROBOT_TOWN1` 须是"),
            ({"JINGZHUN_PUBLIC_URL": "jz.county.cn"}, "`JINGZHUN_PUBLIC_URL` 须是本系统对外的网址")):
        with pytest.raises(BadInput) as refused:
            NotifySettings.from_env(home, env).check()
        said = refused.value.render(world.app.config, "zh")
        assert words in said and "{" not in said, said
        assert "KEY1" not in said and "KEY1" not in refused.value.render(world.app.config, "en")
        assert "{" not in refused.value.render(world.app.config, "en")
    good = NotifySettings.from_env(home, {"JINGZHUN_SMTP_HOST": "127.0.0.1", "JINGZHUN_SMTP_PORT": "2525",
                                          "JINGZHUN_SMTP_SECURITY": "STARTTLS", "JINGZHUN_SMTP_TIMEOUT": "7.5",
                                          "JINGZHUN_ROBOT_TOWN1": "https://qyapi.weixin.qq.com/send?key=K",
                                          "JINGZHUN_ROBOT_LOCAL": "http://127.0.0.1:8469/hook",
                                          "JINGZHUN_PUBLIC_URL": "https://jz.county.cn/"}).check()
    assert (good.smtp_port, good.smtp_security, good.timeout) == (2525, "starttls", 7.5)


def test_a_bad_smtp_port_refuses_alerts_dispatch_in_words_and_stops_no_other_channel(world):
    """a8 #1: `JINGZHUN_SMTP_PORT=abc` made every delivery crash with a traceback, every channel stopped."""
    set_channels(world.app, world["admin"], "ts1", [("file", "ts1", "zh")])
    set_channels(world.app, world["admin"], "th", [("email", "th@example.cn", "zh")])
    identified(world)
    sweep(world.app, now=OVERDUE)
    os.environ["JINGZHUN_SMTP_PORT"] = "abc"
    try:
        refused = cli(world, "admin", "alerts", "dispatch", "--now", "2019-05-01T09:05+08:00")
        english = cli(world, "admin", "--lang", "en", "alerts", "dispatch", "--now", "2019-05-01T09:05+08:00")
        # the scheduler's job (started some other way) delivers what it can
        done = dispatch(world.app, now=OVERDUE)
    finally:
        del os.environ["JINGZHUN_SMTP_PORT"]
    assert refused.code == 2 and "Traceback" not in refused.err, refused.err
    assert "`JINGZHUN_SMTP_PORT` 须是 1 到 65535 之间的整数（端口号），现在是 abc" in refused.err
    assert english.code == 2 and "`JINGZHUN_SMTP_PORT` must be a whole number from 1 to 65535 (a port), not abc" \
        in english.err
    rows = outbox(world)
    assert {r.status for r in rows if r.channel == "file"} == {"delivered"} and done.delivered >= 1
    waiting = [r for r in rows if r.channel == "email"]
    assert waiting and {r.status for r in waiting} == {"pending"}
    assert "通知设置有误，未发送：`JINGZHUN_SMTP_PORT` 须是" in render_stored(world.app.config, waiting[0].last_error)


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_serve_and_the_scheduler_do_not_start_on_a_bad_notification_setting(world):
    world.app.close()
    served = _cli(world, ["serve", "--port", str(free_port())], {"JINGZHUN_SMTP_TIMEOUT": "x"})
    assert served.returncode == 2 and "Traceback" not in served.stderr, served.stderr
    assert "`JINGZHUN_SMTP_TIMEOUT` 须是 1 到 600 之间的秒数，现在是 x" in served.stderr
    scheduled = _cli(world, ["--lang", "en", "scheduler", "run"], {"JINGZHUN_ROBOT_TOWN1": "ftp://x"})
    assert scheduled.returncode == 2 and "Traceback" not in scheduled.stderr, scheduled.stderr
    assert "`JINGZHUN_ROBOT_TOWN1` must be the robot's webhook address" in scheduled.stderr
    # where its messages' links begin, said as it starts (here: nothing set, no server started on the home)
    assert "Links in alerts and messages begin with http://127.0.0.1:8000" in scheduled.stdout
    assert "`JINGZHUN_PUBLIC_URL` is not set" in scheduled.stdout


def open_deadline(world, case: int) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.deadlines.c.id).where(t.deadlines.c.case_id == case,
                                                           t.deadlines.c.status == "open")).scalar()


def pressed_overdue(world) -> int:
    """A household whose plan is overdue, its owner (fs) pressed by the township head; its case."""
    from engine.services.press import press_deadline
    [case] = identified(world)
    world.clock.at = OVERDUE
    press_deadline(world.app, world["th"], open_deadline(world, case))
    return case


def _failed_code_and_press(world, smtp):
    """A first sign-in code refused by the mail server (550), and a 督办 refused the same way."""
    from engine.services.accounts import issue_enrolment
    set_channels(world.app, world["admin"], "vs", [("email", "nobody@example.cn", "zh")])
    issue_enrolment(world.app, world["admin"], "vs")
    set_channels(world.app, world["admin"], "ts1", [("email", "nobody@example.cn", "en")])
    pressed_overdue(world)
    done = dispatch(world.app, smtp_settings(smtp.port, Path(world.app.settings.home)), now=OVERDUE)
    assert done.failed == 2
    return {r.kind: r for r in outbox(world)}


def test_a_failed_message_is_listed_by_its_kind_with_what_to_do_never_its_code(world, smtp):
    """a8 #2: a first sign-in code that failed was listed as 每日汇总 / digest, with nothing to do."""
    rows = _failed_code_and_press(world, smtp)
    zh = cli(world, "admin", "alerts", "list", "--failed")
    en = cli(world, "admin", "--lang", "en", "alerts", "list", "--failed")
    assert zh.code == 0 and en.code == 0, zh.err + en.err
    assert "每日汇总" not in zh.out and "digest" not in en.out
    [code_line] = [line for line in zh.out.splitlines() if "首次登录码" in line]
    assert "vs" in code_line and "收件人被拒收" in code_line and "`jingzhun person enrol vs`" in code_line
    [press_line] = [line for line in zh.out.splitlines() if "督办" in line]
    assert f"`jingzhun alerts resend {rows['press'].id}`" in press_line
    assert "first sign-in code" in en.out and "press for action" in en.out
    as_json = json.loads(cli(world, "admin", "alerts", "list", "--failed", "--json").out)
    assert {r["kind"] for r in as_json if r["id"] is None} == {"enrolment", "press"}
    code_row = next(r for r in as_json if r["kind"] == "enrolment")
    assert code_row["resend"] is False and "body" not in code_row and "subject" not in code_row


def test_a_message_still_waiting_is_listed_as_pending(world):
    """a8 #2: `alerts list --status pending` showed no first sign-in code stuck in the outbox."""
    from engine.services.accounts import issue_enrolment
    set_channels(world.app, world["admin"], "vs", [("email", "vs@example.cn", "zh")])
    issue_enrolment(world.app, world["admin"], "vs")
    listed = cli(world, "admin", "alerts", "list", "--status", "pending")
    assert listed.code == 0 and any("首次登录码" in line and "vs" in line for line in listed.out.splitlines()), listed.out


def test_an_administrator_resends_a_failed_message_recorded_and_a_code_is_issued_anew(world, smtp):
    rows = _failed_code_and_press(world, smtp)
    press, code = rows["press"], rows["enrolment"]
    secret = cli(world, "admin", "alerts", "resend", code.id)
    assert secret.code == 1 and "`jingzhun person enrol vs`" in secret.err and "Traceback" not in secret.err
    refused = cli(world, "th", "alerts", "resend", press.id)
    assert refused.code not in (0, None) and "Traceback" not in refused.err
    unknown = cli(world, "admin", "--lang", "en", "alerts", "resend", 999999)
    assert unknown.code == 2 and "There is no message 999999" in unknown.err
    set_channels(world.app, world["admin"], "ts1", [("email", "ts1@example.cn", "en")])
    resent = cli(world, "admin", "alerts", "resend", press.id)
    assert resent.code == 0, resent.err
    assert f"消息 {press.id}（督办，发给 ts1，电子邮件）已重新放入待发队列" in resent.out
    again = cli(world, "admin", "alerts", "resend", press.id)
    assert again.code == 1 and "没有发送失败" in again.err
    done = dispatch(world.app, smtp_settings(smtp.port, Path(world.app.settings.home)),
                    now=datetime.now(timezone.utc) + timedelta(minutes=1))
    # to the address corrected since it failed
    assert done.delivered == 1 and [r.status for r in outbox(world) if r.id == press.id] == ["delivered"]
    assert [m["To"] for m in smtp.messages] == ["ts1@example.cn"]
    with world.app.engine.connect() as conn:
        events = conn.execute(select(t.audit_events.c.detail, t.persons.c.code).join(
            t.persons, t.persons.c.id == t.audit_events.c.person_id).where(
            t.audit_events.c.action == "message_resent")).all()
    assert [(e.code, e.detail["message"], e.detail["kind"]) for e in events] == [("admin", press.id, "press")]


def test_a_wecom_robot_that_mentions_someone_gets_plain_text_with_the_title_once(world, robots):
    """a8 #4: the text message carried the markdown body: ###, ** and [打开案件](…) as typed, the title twice."""
    set_channels(world.app, world["admin"], "th", [("wecom", "meijiang/13800001111", "zh")])
    identified(world)
    sweep(world.app, now=OVERDUE)
    assert dispatch(world.app, robot_settings(robots, Path(world.app.settings.home)), now=OVERDUE).delivered == 1
    [sent] = [r["json"] for r in robots.requests]
    content = sent["text"]["content"]
    assert sent["msgtype"] == "text" and sent["text"]["mentioned_mobile_list"] == ["13800001111"]
    assert "###" not in content and "**" not in content and "](" not in content, content
    subject = content.splitlines()[0]
    assert "逾期升级" in subject and content.count(subject) == 1
    assert "/cases/" in content


def test_the_alert_language_is_the_persons_and_a_command_that_changes_nothing_says_so(world):
    """a8 #9: `--alert-lang en` alone printed the channels in zh and exited 0; `--add` without it added a
    zh channel beside an English one (the same alert in two languages)."""
    first = cli(world, "admin", "person", "channel", "fs", "--add", "email:fs@example.cn", "--json")
    assert first.code == 0 and [c["lang"] for c in json.loads(first.out)] == ["zh"]
    english = cli(world, "admin", "person", "channel", "fs", "--alert-lang", "en", "--json")
    assert english.code == 0, english.err
    assert [c["lang"] for c in json.loads(english.out)] == ["en"]
    added = cli(world, "admin", "person", "channel", "fs", "--add", "file:fs", "--json")
    assert added.code == 0 and [c["lang"] for c in json.loads(added.out)] == ["en", "en"]
    same = cli(world, "admin", "person", "channel", "fs", "--alert-lang", "en")
    assert same.code == 2 and "的通知渠道没有变化（已有这些渠道，提醒语言已是 英文）" in same.err and "Traceback" not in same.err
    nothing = cli(world, "admin", "--lang", "en", "person", "channel", "fs")
    assert nothing.code == 2 and "Nothing changed in" in nothing.err and "language is already English" in nothing.err
    again = cli(world, "admin", "person", "channel", "fs", "--add", "file:fs")
    assert again.code == 2


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_serve_says_where_links_point_warns_of_loopback_and_commands_on_its_home_link_to_it(world, monkeypatch):
    """a8 #10: a press or a sweep from the command line linked to http://127.0.0.1:8000 while the server
    answered on another port, and nothing said that the links were unusable from a phone."""
    monkeypatch.setenv("JINGZHUN_PUBLIC_URL", "-")
    monkeypatch.delenv("JINGZHUN_PUBLIC_URL")          # (restored as absent after the test)
    [case] = identified(world)
    deadline = open_deadline(world, case)
    set_channels(world.app, world["admin"], "ts1", [("file", "ts1", "zh")])
    world.app.close()
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    server = subprocess.Popen([sys.executable, "-m", "cli", "--home", str(world.app.settings.home), "serve",
                               "--host", "0.0.0.0", "--port", str(port), "--no-scheduler"], cwd=ROOT,
                              env={**clean, "JINGZHUN_DB": world.app.settings.db_url},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said = []
    try:
        for line in server.stdout:          # up to two lines after the one that says where it answers
            said.append(line)
            started = next((n for n, s in enumerate(said) if f":{port}/" in s), None)
            if len(said) > 40 or (started is not None and len(said) >= started + 3):
                break
    finally:
        server.kill()          # what it said is all this test needs; it was starting
        server.wait(10)
        server.stdout.close()
    text = "".join(said)
    assert f"提醒和消息中的链接以 http://127.0.0.1:{port} 开头" in text, text
    assert "是本机地址，手机和其他电脑打不开消息中的链接" in text
    pressed = cli(world, "th", "deadline", "press", deadline)
    assert pressed.code == 0, pressed.err
    [body] = [r.body for r in outbox(world) if r.kind == "press"]
    assert f"http://127.0.0.1:{port}/cases/{case}" in body and "127.0.0.1:8000" not in body
