"""Alert dispatch as the people it reaches (a8 #3, #7): a sweep's many alerts to one person come as
one summary message; an alert, a summary item or a press whose work was done before it was sent is
not sent, and says so."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.deadlines import alert_rows
from engine.services.case_actions import record_visit
from engine.services.press import press_deadline
from engine.services.sweep import sweep
from notifications.dispatcher import dispatch
from notifications.outbox import FOLD_OVER
from notifications.contacts import set_channels
from tests.helpers.deadlines import cst, deadlines_of, identified
from tests.helpers.notifications import OVERDUE, SUPERVISORS, by_email, cli, outbox, smtp_settings
from tests.helpers.notifications import smtp  # noqa: F401 (pytest fixture)
from tests.test_household_life import consolidated
from tests.test_notifications import robot_settings, robots  # noqa: F401 (pytest fixture)


# the plan deadline of a household not yet paired: owned by the township's staff (ts1), then the levels above
LADDER = ("ts1",) + SUPERVISORS[1:]


def _sent(world, smtp):
    return dispatch(world.app, smtp_settings(smtp.port, Path(world.app.settings.home)), now=OVERDUE)


def test_a_sweep_of_many_overdue_households_sends_each_supervisor_one_summary(world, smtp):
    by_email(world, LADDER)
    cases = identified(world, FOLD_OVER + 2)
    queued = sweep(world.app, now=OVERDUE)
    assert queued.alerts == 5 * 4
    assert queued.messages == len(LADDER)         # before: 5 per person (25)
    result = _sent(world, smtp)
    assert result.delivered == len(LADDER)
    per_person = Counter(m["To"] for m in smtp.messages)
    assert per_person == {f"{c}@example.cn": 1 for c in LADDER}
    got = {m["To"]: m for m in smtp.messages}
    assert got["th@example.cn"]["Subject"].startswith("【期限提醒汇总】共 5 项：已逾期 5 项（其中已升级 5 项）")
    body = got["th@example.cn"].get_content()
    for case in cases:       # each item: the case, what, when, the level, and where to do it
        assert f"/cases/{case}\n" in body + "\n", body
    assert body.count("【升级·第1级】贫困户 ") == 5 and "升级：第 1 级" not in body      # the level once, in its line
    assert body.count("事项：帮扶计划") == 5 and "期限 2019-04-14，已逾期 17 天" in body
    # each alert is still on record as delivered, to each of its recipients
    rows = alert_rows(world.app, world["insp"])
    assert len(rows) == 20 and {r["status"] for r in rows} == {"delivered"}
    assert {m["status"] for r in rows for m in r["messages"]} == {"delivered"}


def test_a_summary_in_english_for_who_wants_it(world, smtp):
    by_email(world, ("ts1",), lang="en")
    identified(world, FOLD_OVER + 1)
    sweep(world.app, now=OVERDUE)
    _sent(world, smtp)
    [m] = smtp.messages
    assert m["Subject"] == "[Deadline alerts] 4 items: 4 overdue (0 escalated), 0 due soon"
    body = m.get_content()
    assert body.count("[overdue] household ") == 4 and "due 2019-04-14, overdue for 17 days; owner: " in body, body
    assert "（" not in body and "事项" not in body


def test_a_few_alerts_still_come_one_by_one(world, smtp):
    by_email(world, ("ts1",))
    identified(world, FOLD_OVER)
    assert sweep(world.app, now=OVERDUE).messages == FOLD_OVER
    _sent(world, smtp)
    assert [m["Subject"][:5] for m in smtp.messages] == ["【已逾期】"] * FOLD_OVER


def test_an_alert_whose_work_was_done_before_it_was_sent_is_not_sent(world, smtp):
    by_email(world, LADDER)
    [case] = identified(world)
    assert sweep(world.app, now=OVERDUE).messages == 5
    world.assist(case)          # the plan is made before the dispatcher runs (an SMTP outage, a slow queue)
    assert deadlines_of(world, case, rule="assistance_plan")[0].status == "done"
    result = _sent(world, smtp)
    assert (result.delivered, result.not_needed) == (0, 5) and smtp.messages == []
    assert {r.status for r in outbox(world)} == {"not_needed"}
    rows = alert_rows(world.app, world["insp"])
    assert {r["status"] for r in rows} == {"not_needed"}
    listed = cli(world, "insp", "alerts", "list")
    assert listed.code == 0 and "无需发送（已办结）" in listed.out, listed.out + listed.err
    english = cli(world, "insp", "--lang", "en", "alerts", "list", "--json")
    assert {r["status"] for r in json.loads(english.out)} == {"not_needed"}
    # chosen by that state, and not among those delivered
    chosen = json.loads(cli(world, "insp", "alerts", "list", "--status", "not_needed", "--json").out)
    assert len(chosen) == len(rows) and {r["status"] for r in chosen} == {"not_needed"}
    assert json.loads(cli(world, "insp", "alerts", "list", "--status", "delivered", "--json").out) == []


def test_alerts_dispatch_says_how_many_were_not_needed(world):
    set_channels(world.app, world["admin"], "ts1", [("file", "ts1", "zh")])
    [case] = identified(world)
    sweep(world.app, now=OVERDUE)
    world.assist(case)
    sent = cli(world, "admin", "alerts", "dispatch", "--now", "2019-05-01T09:00")
    assert sent.code == 0, sent.err
    assert "已送达 0 条" in sent.out and "另有 1 条因期限已办结或已取消，无需发送" in sent.out, sent.out
    assert not (Path(world.app.settings.home) / "mailbox" / "ts1").exists()


def test_a_summary_keeps_only_the_items_still_due_when_it_is_sent(world, smtp):
    by_email(world, ("ts1",))
    cases = identified(world, FOLD_OVER + 2)
    sweep(world.app, now=OVERDUE)
    world.assist(cases[0])
    world.assist(cases[1], first="pc2", second=None)
    _sent(world, smtp)
    [m] = smtp.messages
    assert m["Subject"].startswith("【期限提醒汇总】共 3 项"), m["Subject"]
    body = m.get_content()
    assert f"/cases/{cases[0]}\n" not in body and f"/cases/{cases[2]}\n" in body
    statuses = Counter(r.status for r in outbox(world) if r.kind == "alert")
    assert statuses == {"delivered": 3, "not_needed": 2}
    with world.app.engine.connect() as conn:     # what was sent is what the summary's row says
        assert conn.execute(select(t.outbox.c.body).where(t.outbox.c.kind == "alerts")).scalar() == body.strip()


def test_a_press_for_work_done_before_it_was_sent_is_not_sent(world, smtp):
    by_email(world, ("ts1",))
    [case] = identified(world)
    [d] = deadlines_of(world, case, rule="assistance_plan")
    world.clock.at = OVERDUE
    assert press_deadline(world.app, world["th"], d.id, "请尽快")["channels"] == 1
    world.assist(case)
    result = _sent(world, smtp)
    assert (result.delivered, result.not_needed) == (0, 1) and smtp.messages == []
    [row] = [r for r in outbox(world) if r.kind == "press"]
    assert row.status == "not_needed"



def test_an_alert_for_a_risk_found_on_a_visit_says_to_start_the_monitoring(world, tmp_path, smtp):
    by_email(world, ("pc1",))
    set_channels(world.app, world["admin"], "pc1", [("email", "pc1@example.cn", "zh"),
                                                     ("email", "pc1.en@example.cn", "en")])
    case = consolidated(world, tmp_path)
    world.on(date(2020, 11, 2))
    record_visit(world.app, world["pc1"], case, date(2020, 10, 30), "家中主劳力患病住院", True)
    late = cst(2020, 11, 15, 9, 0)
    sweep(world.app, now=late)
    dispatch(world.app, smtp_settings(smtp.port, Path(world.app.settings.home)), now=late)
    got = {m["To"]: m.get_content() for m in smtp.messages}
    zh, en = got["pc1@example.cn"], got["pc1.en@example.cn"]
    assert "（防返贫监测识别 / 风险线索）" in zh and "（ / " not in zh, zh
    assert "案件尚需：启动「防返贫监测识别」（第一步：风险线索）" in zh and "暂无待办" not in zh, zh
    assert f"/cases/{case}?procedure=monitoring" in zh
    assert "(monitoring identification / risk clue)" in en and "( / " not in en, en
    assert "The case still needs: start “monitoring identification” (first step: risk clue)" in en, en


def test_group_robots_read_cases_by_number_and_village_never_the_household(world, robots):
    from engine.services.sweep import digest
    set_channels(world.app, world["admin"], "th", [("wecom", "plain", "zh")])
    set_channels(world.app, world["admin"], "cd", [("dingtalk", "county", "zh")])
    settings = robot_settings(robots, Path(world.app.settings.home))
    first = identified(world)                  # one alert each: its own message
    sweep(world.app, now=OVERDUE)
    dispatch(world.app, settings, now=OVERDUE)
    cases = first + identified(world, FOLD_OVER + 1)     # four more: one summary each
    digest(world.app, now=OVERDUE)
    sweep(world.app, now=OVERDUE)
    dispatch(world.app, settings, now=OVERDUE)
    with world.app.engine.connect() as conn:
        names = [conn.execute(select(t.cases.c.title).where(t.cases.c.id == c)).scalar() for c in cases]
    said = [json.dumps(r["json"], ensure_ascii=False) for r in robots.requests]
    assert len(said) == 2 * 3 and all(names)
    for text in said:
        for name in names:
            assert name not in text, text
    alone, summary, daily = said[0], said[-1], [s for s in said if "每日逾期汇总" in s]
    assert f"贫困户 {cases[0]}（洋塘村" in alone, alone
    assert f"贫困户 {cases[1]}，洋塘村" in summary and "期限提醒汇总" in summary, summary
    assert len(daily) == 2 and f"案件 {cases[1]} 洋塘村：" in daily[0], daily[0]


def test_a_press_to_a_group_robot_names_the_case_and_village_not_the_household(world, robots):
    set_channels(world.app, world["admin"], "ts1", [("wecom", "plain", "zh")])
    [case] = identified(world)
    [d] = deadlines_of(world, case, rule="assistance_plan")
    world.clock.at = OVERDUE
    assert press_deadline(world.app, world["th"], d.id, "请尽快")["channels"] == 1
    dispatch(world.app, robot_settings(robots, Path(world.app.settings.home)), now=OVERDUE)
    [sent] = [json.dumps(r["json"], ensure_ascii=False) for r in robots.requests]
    with world.app.engine.connect() as conn:
        name = conn.execute(select(t.cases.c.title).where(t.cases.c.id == case)).scalar()
    assert name not in sent and f"贫困户 {case}（" in sent and "督办" in sent, sent


def test_a_summary_given_up_marks_each_of_its_alerts_failed(world, smtp):
    from datetime import timedelta
    from notifications.dispatcher import MAX_ATTEMPTS
    by_email(world, ("ts1",))
    identified(world, FOLD_OVER + 1)
    sweep(world.app, now=OVERDUE)
    with world.app.engine.begin() as conn:     # its last attempt was cut short by a dispatcher that died
        conn.execute(t.outbox.update().where(t.outbox.c.kind == "alerts").values(
            status="sending", attempts=MAX_ATTEMPTS - 1, claimed_by="elsewhere:1:dead",
            claimed_until=OVERDUE - timedelta(minutes=1)))
    result = _sent(world, smtp)
    assert result.failed == 1 and smtp.messages == []
    assert Counter(r.status for r in outbox(world)) == {"failed": FOLD_OVER + 2}
    assert {r["status"] for r in alert_rows(world.app, world["insp"]) if r["level"] == 0} == {"failed"}


def test_a_long_summary_lists_the_highest_levels_and_counts_the_rest_with_the_overdue_page(world, smtp, monkeypatch):
    """A county's first sweep folded 139 items into one message of 900 lines (and a WeCom robot takes 4,096
    bytes): a summary lists SUMMARY_SHOWN items, the highest levels first, and counts the rest."""
    from notifications import outbox as outbox_module
    monkeypatch.setattr(outbox_module, "SUMMARY_SHOWN", 3)
    by_email(world, ("th",))
    identified(world, FOLD_OVER + 2)
    sweep(world.app, now=OVERDUE)
    _sent(world, smtp)
    [m] = smtp.messages
    body = m.get_content()
    assert m["Subject"].startswith("【期限提醒汇总】共 5 项") and body.count("事项：帮扶计划") == 3, body
    assert "另有 2 项未逐项列出" in body and "/supervise/overdue" in body
