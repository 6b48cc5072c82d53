"""督办 (press for action): a supervisor presses the owner of overdue work directly, with a note; the
press is an organisation audit event and one message per channel of the owner, once a day."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.auth import Assignment
from engine.domain.errors import AuthError, BadInput, NotFound, RuleViolation
from engine.reads import dashboard
from engine.reads.audit_verify import verify
from engine.reads.oversight import activity
from engine.services.accounts import activate_all
from engine.services.org import NewPerson, add_persons, authenticate
from engine.services.press import press_deadline
from notifications.contacts import set_channels
from tests.helpers.deadlines import awaiting_plan, deadlines_of
from tests.test_inspection_reading import jingzhun
from tests.world import TOWNSHIP, TOWNSHIP2, member_ids


def overdue_plan(world) -> tuple[int, int]:
    """A household's assistance plan (owner: the first secretary `fs`), overdue: (case, deadline)."""
    case = awaiting_plan(world)[0]
    [d] = deadlines_of(world, case, rule="assistance_plan")
    world.on(date(2019, 4, 20))          # due 2019-04-14
    return case, d.id


def outbox(world) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.outbox).where(t.outbox.c.kind == "press").order_by(t.outbox.c.id)).all()


def pressed_events(world) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.audit_events).where(t.audit_events.c.action == "deadline_pressed")
                            .order_by(t.audit_events.c.seq)).all()


def test_a_press_is_recorded_and_sent_over_each_channel_of_the_owner_with_the_note_and_no_id_number(world):
    set_channels(world.app, world["admin"], "fs", [("file", "fs-inbox", "zh"), ("wecom", "fs-wecom", "en")])
    case, deadline = overdue_plan(world)
    result = press_deadline(world.app, world["th"], deadline, "  请本周内完成一户一策  ")
    assert (result["owner"], result["channels"], result["days_overdue"], result["note"]) == \
        ("fs", 2, 6, "请本周内完成一户一策")
    assert result["reached"] == ["file", "wecom"]
    rows = outbox(world)
    assert [(r.person_id, r.channel, r.lang) for r in rows] == \
        [(world["fs"].person_id, "file", "zh"), (world["fs"].person_id, "wecom", "en")]
    zh, en = rows
    assert zh.subject.startswith("督办：请尽快办理") and "请本周内完成一户一策" in zh.body
    assert "梅江镇洋塘村" in zh.body and "township_head-th" in zh.body and "乡镇长" in zh.body
    assert "逾期 6 天" in zh.body and f"/cases/{case}" in zh.body and "2019-04-14" in zh.body
    assert en.subject.startswith("Pressed for action") and "请本周内完成一户一策" in en.body and "Township head" in en.body
    ids = member_ids(2, 1)            # the household's members' ID numbers appear nowhere
    assert not any(i in r.body or i in r.subject for r in rows for i in ids)
    [event] = pressed_events(world)
    assert event.case_id is None and event.person_code == "th" and event.role == "township_head"
    assert event.detail == {"deadline": deadline, "case": case, "rule": "assistance_plan", "step": "plan",
                            "owner": "fs", "note": "请本周内完成一户一策"}


def test_the_second_press_the_same_day_is_refused_saying_when_and_another_day_is_not(world):
    _, deadline = overdue_plan(world)
    first = press_deadline(world.app, world["th"], deadline)
    assert first["channels"] == 0            # nobody reachable: still recorded
    with pytest.raises(RuleViolation) as refused:
        press_deadline(world.app, world["th"], deadline, "again")
    assert refused.value.code == "press.already_today"
    assert "今天已督办过" in refused.value.render(world.app.config) and "2019-04-20 10:00" in \
        refused.value.render(world.app.config)
    press_deadline(world.app, world["cd"], deadline)          # another supervisor may, the same day
    world.clock.advance(days=1)
    press_deadline(world.app, world["th"], deadline)
    assert len(pressed_events(world)) == 3
    assert verify(world.app).intact


@pytest.mark.parametrize("who, error, code", [
    ("insp", AuthError, "auth.read_only"), ("vs", AuthError, "auth.wrong_role"),
    ("ts1", AuthError, "auth.wrong_role"), ("vs2", NotFound, "press.unknown")])
def test_who_may_not_press_is_refused_and_nothing_is_written(world, who, error, code):
    set_channels(world.app, world["admin"], "fs", [("file", "fs-inbox", "zh")])
    _, deadline = overdue_plan(world)
    with pytest.raises(error) as refused:
        press_deadline(world.app, world[who], deadline, "x")
    assert refused.value.code == code
    assert pressed_events(world) == [] and outbox(world) == []


def test_a_supervisor_of_another_township_finds_no_such_deadline(world):
    tokens = activate_all(world.app, add_persons(world.app, world["admin"], [
        NewPerson("th2", "青塘镇长", (("township_head", TOWNSHIP2),))]))
    other = authenticate(world.app, "th2", tokens["th2"])
    _, deadline = overdue_plan(world)
    with pytest.raises(NotFound) as refused:
        press_deadline(world.app, other, deadline)
    assert refused.value.code == "press.unknown"
    with pytest.raises(NotFound):
        press_deadline(world.app, world["th"], 10 ** 9)
    assert pressed_events(world) == []


def test_the_owner_may_not_press_their_own_work(world):
    _, deadline = overdue_plan(world)
    fs = world["fs"]
    owner_as_leader = replace(fs, assignments=(*fs.assignments, Assignment("township_head", TOWNSHIP)))
    with pytest.raises(AuthError) as refused:
        press_deadline(world.app, owner_as_leader, deadline)
    assert refused.value.code == "press.own_work" and pressed_events(world) == []


def test_a_closed_deadline_is_not_pressed_and_a_note_is_a_person_s_words(world):
    case, deadline = overdue_plan(world)
    with pytest.raises(BadInput) as refused:
        press_deadline(world.app, world["th"], deadline, "字" * 501)
    assert refused.value.code == "press.note_too_long"
    with pytest.raises(BadInput) as refused:
        press_deadline(world.app, world["th"], deadline, '{"key": "msg.case.unknown", "params": {"case": 1}}')
    assert refused.value.code == "input.engine_text"
    world.step("fs", "assistance", "plan", case, measures=(("industry", "种植脐橙"),))   # the plan made and
    world.step("th", "assistance", "plan_approval", case, decision="approve")          # approved: it is done
    with pytest.raises(RuleViolation) as refused:
        press_deadline(world.app, world["th"], deadline)
    assert refused.value.code == "press.closed" and pressed_events(world) == []


def test_the_overdue_page_counts_the_presses_and_the_activity_log_shows_them(world):
    case, deadline = overdue_plan(world)
    press_deadline(world.app, world["th"], deadline, "请尽快")
    press_deadline(world.app, world["cd"], deadline)
    found = dashboard.overdue_page(world.app, world["th"], dashboard.OverdueFilter())
    [row] = [r for r in found["rows"] if r["id"] == deadline]
    assert row["pressed"] == 2 and row["pressed_at"] is not None
    log = activity(world.app, world["insp"], action="deadline_pressed")["events"]
    assert [e["person"] for e in log] == ["cd", "th"]
    shown = dict(log[1]["detail"])
    assert shown["rule"] == "assistance_plan"
    assert shown["deadline"] == str(deadline) and shown["case"] == str(case) and shown["note"] == "请尽快"
    assert verify(world.app).intact


def test_deadline_press_on_the_cli(world):
    set_channels(world.app, world["admin"], "fs", [("file", "fs-inbox", "zh")])
    _, deadline = overdue_plan(world)
    code, out, err = jingzhun(world, "th", "deadline", "press", str(deadline), "--note", "请尽快办理")
    assert code == 0, err
    assert "已督办 first_secretary-fs（fs），已发至 1 个渠道" in out
    code, out, err = jingzhun(world, "th", "deadline", "press", str(deadline))
    assert code == 1 and "[press.already_today]" in err and "今天已督办过" in err
    code, out, err = jingzhun(world, "cd", "deadline", "press", str(deadline), "--json")
    assert code == 0 and json.loads(out)["channels"] == 1
    code, out, err = jingzhun(world, "vs", "deadline", "press", str(deadline))
    assert code != 0 and "[auth.wrong_role]" in err
    code, out, err = jingzhun(world, "th", "deadline", "press", str(deadline), "--note", "x", lang="en")
    assert code == 1 and "already pressed" in err
    assert [r.detail["note"] for r in pressed_events(world)] == ["请尽快办理", None]
    code, out, err = jingzhun(world, "insp", "audit", "verify")
    assert code == 0, err
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "督办")
    assert code == 0, err
    assert "督办" in out and f"期限：{deadline}" in out and "事项：帮扶计划" in out and "督办意见：请尽快办理" in out, out


def test_the_same_press_at_once_from_two_screens_is_recorded_once(world):
    """A township head and the county director each tap 督办 twice at the same moment (two screens, a
    double tap): one press of each is recorded and sent; each other is refused in words, never a
    database error (the organisation chain's events are written one after the other), on both backends."""
    from tests.helpers.at_once import at_once
    set_channels(world.app, world["admin"], "fs", [("file", "fs-inbox", "zh")])
    _, deadline = overdue_plan(world)
    seen = at_once(world.app, [lambda who=who: press_deadline(world.app, world[who], deadline, "请尽快")
                               for who in ("th", "cd", "th", "cd")])
    assert sorted(seen) == ["done", "done", "press.already_today", "press.already_today"], seen
    assert sorted(e.person_code for e in pressed_events(world)) == ["cd", "th"] and len(outbox(world)) == 2
    assert verify(world.app).intact
