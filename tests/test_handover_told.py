"""A deadline handed over (a8 #8): its new owner is told at once, on their channels and in their
language, what they now hold, which case, since when it is overdue (in the deadline's own days) and
whom it came from; a press made to the owner who left does not hold back a press to the new owner.
`person deactivate v01_pc005 --reason 退休` had handed an overdue deadline to v01_member, who was told
nothing (every level already sent: no sweep ever would), and the overdue page refused to press them."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.dashboard import OverdueFilter, overdue_page
from engine.services import accounts
from engine.services.org import NewPerson, add_persons
from engine.services.press import press_deadline
from engine.services.sweep import sweep
from tests.helpers.deadlines import awaiting_plan, cst, deadlines_of, reach_everyone
from tests.world import VILLAGE


def _mail_to(world, address: str) -> list[tuple[str, str, str]]:
    with world.app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t.outbox.c.kind, t.outbox.c.subject, t.outbox.c.body)
                                              .where(t.outbox.c.address == address).order_by(t.outbox.c.id))]


def test_the_new_owner_of_a_leaver_s_overdue_work_is_told_at_once_and_may_be_pressed(world):
    reach_everyone(world)
    case = awaiting_plan(world)[0]
    sweep(world.app, now=cst(2019, 7, 1, 8, 0))                  # every level sent: overdue since 04-15
    [d] = deadlines_of(world, case, rule="assistance_plan")
    assert d.owner_id == world["fs"].person_id and d.next_level is None
    world.on(date(2019, 7, 2))
    add_persons(world.app, world["admin"], [       # the successor, who wants English
        NewPerson("fs2", "接任第一书记", (("first_secretary", VILLAGE),), channels=(("file", "fs2", "en"),))])
    press_deadline(world.app, world["th"], d.id, "请尽快制定帮扶计划")        # pressed while fs still holds it
    accounts.deactivate(world.app, world["admin"], "fs", "退休")

    told = [m for m in _mail_to(world, "fs2") if m[0] == "handover"]
    assert len(told) == 1, _mail_to(world, "fs2")
    _kind, subject, body = told[0]
    assert subject.startswith("Work handed to you") and "assistance plan" in subject, subject
    assert "first_secretary-fs (fs)" in body and "deactivated" in body, body
    assert "79 days overdue (since 2019-04-15 00:00)" in body and "due on 2019-04-14" in body, body
    assert f"/cases/{case}" in body and "assistance / assistance plan" in body, body

    # the press this morning went to fs, who left: it holds back no press to fs2, and the page says so
    [row] = overdue_page(world.app, world["th"], OverdueFilter())["rows"]
    assert (row["owner"], row["pressed"], row["pressed_by_me_today"]) == ("fs2", 0, None)
    pressed = press_deadline(world.app, world["th"], d.id, "接任后请尽快办理")
    assert pressed["owner"] == "fs2" and pressed["channels"] == 1
    assert [m[0] for m in _mail_to(world, "fs2")].count("press") == 1


def test_a_successor_appointed_to_a_vacant_post_is_told_in_chinese_of_the_work_that_waited(world):
    reach_everyone(world)
    case = awaiting_plan(world)[0]
    sweep(world.app, now=cst(2019, 7, 1, 8, 0))
    world.on(date(2019, 7, 2))
    accounts.deactivate(world.app, world["admin"], "fs", "调离")               # nobody holds the post
    add_persons(world.app, world["admin"], [
        NewPerson("fs3", "新任第一书记", (("first_secretary", VILLAGE),), channels=(("file", "fs3", "zh"),))])
    [(_kind, subject, body)] = [m for m in _mail_to(world, "fs3") if m[0] == "handover"]
    assert subject == "转交给您的工作：「帮扶计划（识别后30天内）」（成员1-0）", subject
    assert "原由 first_secretary-fs（fs） 负责，因您新任该岗位" in body and "已逾期 79 天（自 2019-04-15 00:00 起）" in body, body
    assert f"贫困户 {case} " in body and "制定帮扶计划" in body
