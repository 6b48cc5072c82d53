"""/supervise/alerts as the administrator sees the outbox (a8 #2, #12): a message of no alert named by
its kind with what to do, a failed one sent again from the page, attempts said as attempts."""
from __future__ import annotations

from pathlib import Path

from engine.services.accounts import issue_enrolment
from notifications.contacts import set_channels
from notifications.dispatcher import dispatch
from tests.helpers.notifications import OVERDUE, outbox, smtp_settings
from tests.helpers.notifications import smtp  # noqa: F401 (pytest fixtures)


def test_the_failed_list_names_a_first_sign_in_code_and_a_failed_message_is_sent_again(world, world_clients, smtp):
    set_channels(world.app, world["admin"], "vs", [("email", "nobody@example.cn", "zh")])
    set_channels(world.app, world["admin"], "fs", [("email", "nobody@example.cn", "zh")])
    issue_enrolment(world.app, world["admin"], "vs")
    issue_enrolment(world.app, world["admin"], "fs")
    dispatch(world.app, smtp_settings(smtp.port, Path(world.app.settings.home)), now=OVERDUE)
    page, _ = world_clients
    admin = page("admin")
    shown = admin.get("/supervise/alerts", params={"status": "failed"})
    assert shown.status_code == 200
    assert "每日汇总" not in shown.text and shown.text.count("首次登录码") >= 2
    assert "`jingzhun person enrol vs`" in shown.text
    assert "/resend" not in shown.text               # a code is issued anew, never sent again
    # a message that may be sent again: its button, for the administrator only
    with world.app.engine.begin() as conn:
        from engine.adapters import tables as t
        from sqlalchemy import update
        row = next(r for r in outbox(world) if r.address == "nobody@example.cn" and r.kind == "enrolment")
        conn.execute(update(t.outbox).where(t.outbox.c.id == row.id).values(kind="press", attempts=4))
    shown = admin.get("/supervise/alerts", params={"status": "failed"})
    assert f'action="/supervise/messages/{row.id}/resend"' in shown.text and "督办" in shown.text
    assert "（共尝试 4 次）" in shown.text and "×4" not in shown.text
    answer = admin.post(f"/supervise/messages/{row.id}/resend", data={"csrf": admin.csrf},
                        headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "已重新放入待发队列" in answer.text
    assert [r.status for r in outbox(world) if r.id == row.id] == ["pending"]
    again = admin.post(f"/supervise/messages/{row.id}/resend", data={"csrf": admin.csrf},
                       headers={"HX-Request": "true"})
    assert again.status_code in (409, 422) and "没有发送失败" in again.text
    director = page("cd")
    assert f"/supervise/messages/{row.id}/resend" not in director.get("/supervise/alerts").text
    assert director.post(f"/supervise/messages/{row.id}/resend", data={"csrf": director.csrf}).status_code == 403


def test_the_alert_language_is_set_once_for_all_a_persons_channels_on_their_page(world, world_clients):
    set_channels(world.app, world["admin"], "fs", [("email", "fs@example.cn", "zh"), ("file", "fs", "zh")])
    page, _ = world_clients
    admin = page("admin")
    shown = admin.get("/admin/people/fs")
    assert 'id="channel-lang"' in shown.text
    answer = admin.post("/admin/people/fs/channels", data={"csrf": admin.csrf, "set": "lang", "lang": "en"})
    assert answer.status_code == 303, answer.text
    added = admin.post("/admin/people/fs/channels", data={"csrf": admin.csrf, "kind": "console", "address": "-",
                                                          "lang": "en"})
    assert added.status_code == 303, added.text
    from engine.adapters import tables as t
    from sqlalchemy import select
    with world.app.engine.connect() as conn:
        langs = conn.execute(select(t.person_channels.c.lang).join(t.persons).where(
            t.persons.c.code == "fs", t.person_channels.c.active.is_(True))).scalars().all()
    assert langs == ["en", "en", "en"]
    same = admin.post("/admin/people/fs/channels", data={"csrf": admin.csrf, "set": "lang", "lang": "en"})
    assert same.status_code in (400, 409, 422) and "没有变化" in same.text


def test_a_single_press_reads_once_and_a_group_robot_is_named_as_why_a_code_goes_on_paper(world, world_clients):
    """a8 #12: the English overdue page said "pressed 1 time(s)"; enrolling a person whose only channel is a
    group robot said they had no channel."""
    from tests.helpers.notifications import cli
    from tests.test_notify_settings52 import pressed_overdue
    pressed_overdue(world)
    page, _ = world_clients
    head = page("th")
    head.cookies.set("lang", "en")
    shown = head.get("/supervise/overdue")
    assert shown.status_code == 200 and "pressed once, last" in shown.text and "time(s)" not in shown.text
    set_channels(world.app, world["admin"], "vs", [("wecom", "meijiang", "zh")])
    enrolled = cli(world, "admin", "person", "enrol", "vs")
    assert enrolled.code == 0, enrolled.err
    assert "只有群机器人渠道" in enrolled.out and "没有通知渠道" not in enrolled.out
    person = page("admin").get("/admin/people/vs")
    assert 'id="enrol-group-only"' in person.text
