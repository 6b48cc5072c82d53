"""A cadre who leaves (w7, stop 50): their open deadlines go at once to whoever holds the post now, or
to nobody (shown unowned, never the leaver's) until a successor is appointed, who then gets them; a
press or an alert never reaches a person who left; a household whose pairing cadre left has none in
office; the administrator is told what a person leaves, before and after; `case next` says why nobody
may do a step. Runs on SQLite and PostgreSQL, with the real sweep and press."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.reads.audit_verify import verify
from engine.reads.case_record import case_detail
from engine.reads.dashboard import overdue_summary
from engine.services import accounts
from engine.services.org import NewPerson, add_persons, grant_role
from engine.services.press import press_deadline
from engine.services.sweep import sweep
from notifications.contacts import set_channels
from tests.helpers.deadlines import awaiting_plan, cst, deadlines_of, reach_everyone
from tests.helpers.notifications import cli
from tests.world import VILLAGE


def _handed(world) -> list[dict]:
    with world.app.engine.connect() as conn:
        return [dict(e.detail, actor=e.person_id) for e in conn.execute(
            select(t.audit_events).where(t.audit_events.c.action == "deadlines_handed_over")
            .order_by(t.audit_events.c.seq))]


def _sent_to(world) -> list[str]:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.outbox.c.address).order_by(t.outbox.c.id)).scalars().all()


def _plan_deadline(world):
    """An overdue plan deadline whose every alert was sent (next_level None), owned by fs."""
    reach_everyone(world)
    set_channels(world.app, world["admin"], "tl", [("file", "tl", "zh")])
    case = awaiting_plan(world)[0]
    sweep(world.app, now=cst(2019, 7, 1, 8, 0))
    [d] = deadlines_of(world, case, rule="assistance_plan")
    assert d.owner_id == world["fs"].person_id and d.next_level is None
    world.on(date(2019, 7, 2))
    return case, d.id


def test_a_leaver_s_overdue_deadline_goes_at_once_to_the_post_s_other_holder_and_is_pressed_there(world):
    case, d = _plan_deadline(world)
    add_persons(world.app, world["admin"], [       # the successor appointed first, then the leaver goes
        NewPerson("fs2", "接任第一书记", (("first_secretary", VILLAGE),), channels=(("file", "fs2", "zh"),))])
    assert deadlines_of(world, case, rule="assistance_plan")[0].owner_id == world["fs"].person_id
    accounts.deactivate(world.app, world["admin"], "fs", "调任县农业农村局")

    [row] = deadlines_of(world, case, rule="assistance_plan")
    assert (row.owner_id, row.owner_role) == (_id(world, "fs2"), "first_secretary")
    [event] = _handed(world)
    assert event["why"] == "person_deactivated" and event["person"] == "fs"
    assert event["handed"] == [[d, case, "fs", "fs2", "first_secretary"]]
    groups = {g["key"]: g["count"] for g in overdue_summary(world.app, world["th"])["groups"]["person"]}
    assert "fs" not in groups and groups.get("fs2") == 1

    before = len(_sent_to(world))
    pressed = press_deadline(world.app, world["th"], d, "请尽快制定帮扶计划")
    assert pressed["owner"] == "fs2" and pressed["channels"] == 1
    assert "fs2" in _sent_to(world)[before:] and "fs" not in _sent_to(world)[before:]
    assert verify(world.app).intact


def test_with_nobody_in_the_post_the_deadline_is_nobody_s_until_a_successor_is_appointed(world):
    case, d = _plan_deadline(world)
    accounts.deactivate(world.app, world["admin"], "fs", "调离")
    [row] = deadlines_of(world, case, rule="assistance_plan")
    assert (row.owner_id, row.owner_role) == (None, "first_secretary")     # not another post's: tl stays out
    groups = {g["key"]: g["count"] for g in overdue_summary(world.app, world["th"])["groups"]["person"]}
    assert "fs" not in groups and "tl" not in groups
    with pytest.raises(RuleViolation) as refused:
        press_deadline(world.app, world["th"], d)
    assert refused.value.code == "press.no_holder"
    assert "任命接任人员" in refused.value.render(world.app.config)
    before = len(_sent_to(world))
    sweep(world.app, now=cst(2019, 7, 3, 8, 0))
    assert "fs" not in _sent_to(world)[before:]

    add_persons(world.app, world["admin"], [
        NewPerson("fs2", "接任第一书记", (("first_secretary", VILLAGE),), channels=(("file", "fs2", "zh"),))])
    [row] = deadlines_of(world, case, rule="assistance_plan")
    assert (row.owner_id, row.owner_role) == (_id(world, "fs2"), "first_secretary")
    assert _handed(world)[-1]["why"] == "role_granted" and _handed(world)[-1]["handed"] == [
        [d, case, None, "fs2", "first_secretary"]]
    before = len(_sent_to(world))
    pressed = press_deadline(world.app, world["th"], d)
    assert pressed["owner"] == "fs2" and "fs2" in _sent_to(world)[before:]
    assert "fs" not in _sent_to(world)[before:]
    assert verify(world.app).intact


def test_a_leaver_s_deadline_left_from_before_is_never_pressed_to_them_and_goes_to_the_successor(world):
    """A deadline left with a person deactivated before this release."""
    case, d = _plan_deadline(world)
    with world.app.transaction() as conn:
        conn.execute(t.persons.update().where(t.persons.c.code == "fs").values(active=False))
    before = len(_sent_to(world))
    with pytest.raises(RuleViolation) as refused:
        press_deadline(world.app, world["th"], d)
    assert refused.value.code == "press.no_holder" and "fs" not in _sent_to(world)[before:]
    sweep(world.app, now=cst(2019, 7, 2, 8, 0))     # the next sweep hands it over: nobody holds the post
    [row] = deadlines_of(world, case, rule="assistance_plan")
    assert (row.owner_id, row.owner_changes[-1]["reason"]) == (None, "inactive")
    groups = {g["key"] for g in overdue_summary(world.app, world["th"])["groups"]["person"]}
    assert "fs" not in groups
    grant_role(world.app, world["admin"], "tm", "first_secretary", VILLAGE)
    assert deadlines_of(world, case, rule="assistance_plan")[0].owner_id == world["tm"].person_id


def test_a_pairing_cadre_who_leaves_is_no_household_s_pairing_cadre_in_force(world):
    case = world.household()
    world.identify(case)
    world.on(date(2019, 3, 20))
    world.step("ts1", "assistance", "pairing", case, first_cadre="pc1", second_cadre="pc2")
    world.step("fs", "assistance", "plan", case, measures=(("housing", "危房改造"),))
    world.step("th", "assistance", "plan_approval", case, decision="approve")
    [d] = deadlines_of(world, case, rule="housing_renovation")
    assert d.owner_id == world["pc1"].person_id

    accounts.deactivate(world.app, world["admin"], "pc1", "调离本乡镇")

    [d] = deadlines_of(world, case, rule="housing_renovation")
    assert d.owner_id is None and _handed(world)[-1]["handed"] == [[d.id, case, "pc1", None, "pairing_cadre"]]
    first = [p for p in case_detail(world.app, world["vs"], case)["pairings"] if p["kind"] == "first"]
    assert [(p["person"], p["in_office"]) for p in first] == [("pc1", False)]
    shown = cli(world, "vs", "case", "show", str(case))
    assert shown.code == 0 and "请办理「调整帮扶责任人」" in shown.out, shown.out

    world.step("th", "pairing_change", "pairing", case, first_cadre="pc3")
    [d] = deadlines_of(world, case, rule="housing_renovation")
    assert (d.owner_id, d.owner_role) == (world["pc3"].person_id, "pairing_cadre")
    assert "请办理「调整帮扶责任人」" not in cli(world, "vs", "case", "show", str(case)).out
    assert verify(world.app).intact


def test_the_administrator_is_told_what_a_person_leaves_before_and_after(world):
    case = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
    accounts.deactivate(world.app, world["admin"], "fs", "驻村期满")      # the step's other post, vacant already
    checked = cli(world, "admin", "person", "deactivate", "tl", "--check")
    assert checked.code == 0, checked.err
    assert "tl 若停用，将留下" in checked.out and "驻村工作队长" in checked.out and "只有此人在任" in checked.out
    assert f"等待其办理的案件 1 件：#{case}" in checked.out, checked.out
    assert _still_active(world, "tl")

    done = cli(world, "admin", "person", "deactivate", "tl", "--reason", "调任县农业农村局")
    assert done.code == 0, done.err
    assert "tl：已停用" in done.out and "不再向其发送消息" in done.out
    assert "驻村工作队长（洋塘村）现无人在任" in done.out and "请任命接任人员" in done.out, done.out
    again = cli(world, "admin", "person", "deactivate", "tl", "--check")
    assert "tl 已停用，其离任留下" in again.out and "驻村工作队长（洋塘村）现无人在任" in again.out, again.out
    nxt = cli(world, "vs", "case", "next", str(case))
    assert "可办理的人：暂无" in nxt.out and "无人可办的原因：驻村工作队长、第一书记 现无人在任" in nxt.out, nxt.out
    en = cli(world, "vs", "--lang", "en", "case", "next", str(case))
    assert "why nobody: nobody in office holds" in en.out, en.out

    grant_role(world.app, world["admin"], "tm2", "resident_team_leader", VILLAGE)
    assert "无人可办的原因" not in cli(world, "vs", "case", "next", str(case)).out


def _id(world, code: str) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.persons.c.id).where(t.persons.c.code == code)).scalar()


def _still_active(world, code: str) -> bool:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.persons.c.active).where(t.persons.c.code == code)).scalar()


def test_case_next_says_who_may_not_be_named_a_verifier(world):
    """a5 finding 10: fs is the first notice's only doer once vs took part, so not a verifier either."""
    case = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
    told = cli(world, "tl", "case", "next", str(case))
    assert "不能选作核实人（须留待本程序后续步骤办理，是其唯一可办者）：fs" in told.out, told.out
    with pytest.raises(RuleViolation):
        world.step("tl", "identification", "village_verification", case, decision="approve", verifiers=("fs",))
    world.step("tl", "identification", "village_verification", case, decision="approve", verifiers=("tm",))

