"""A leaver's deadlines, stop 51 (w3): a deadline whose post nobody holds stays nobody's at its alerts
(无责任人: the ladder goes on to the supervisors) until someone holds that post, never given to
another post's holder by the sweep; a press refused because nobody holds the post still records the
hand-over. Runs on SQLite and PostgreSQL, with the real sweep and press."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.reads.dashboard import overdue_summary
from engine.services import accounts
from engine.services.org import NewPerson, add_persons
from engine.services.press import press_deadline
from engine.services.sweep import sweep
from notifications.contacts import set_channels
from tests.helpers.deadlines import alerts_of, awaiting_plan, cst, deadlines_of, reach_everyone
from tests.world import VILLAGE


def _sent_to(world) -> list[str]:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.outbox.c.address).order_by(t.outbox.c.id)).scalars().all()


def _id(world, code: str) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.persons.c.id).where(t.persons.c.code == code)).scalar()


def test_a_deadline_whose_post_is_vacant_stays_nobody_s_at_its_alerts_until_a_successor_holds_it(world):
    reach_everyone(world)
    set_channels(world.app, world["admin"], "tl", [("file", "tl", "zh")])
    case = awaiting_plan(world)[0]
    [d] = deadlines_of(world, case, rule="assistance_plan")
    assert d.owner_id == world["fs"].person_id and d.next_level == -1      # every alert still to come
    world.on(date(2019, 4, 13))
    accounts.deactivate(world.app, world["admin"], "fs", "调任县农业农村局")

    before = len(_sent_to(world))
    sweep(world.app, now=cst(2019, 4, 15, 8, 0))        # the owner's level falls due: nobody holds the post
    [row] = deadlines_of(world, case, rule="assistance_plan")
    assert (row.owner_id, row.owner_role) == (None, "first_secretary")   # not tl, the team leader's post
    assert alerts_of(world)[-1] == (d.id, 0, ())
    assert "tl" not in _sent_to(world)[before:] and "fs" not in _sent_to(world)[before:]
    groups = {g["key"] for g in overdue_summary(world.app, world["th"])["groups"]["person"]}
    assert "tl" not in groups and "fs" not in groups

    sweep(world.app, now=cst(2019, 4, 18, 8, 0))        # the ladder goes on: the township's leaders
    assert alerts_of(world)[-1][:2] == (d.id, 1) and "th" in alerts_of(world)[-1][2]
    assert deadlines_of(world, case, rule="assistance_plan")[0].owner_id is None

    add_persons(world.app, world["admin"], [
        NewPerson("fs2", "接任第一书记", (("first_secretary", VILLAGE),), channels=(("file", "fs2", "zh"),))])
    [row] = deadlines_of(world, case, rule="assistance_plan")
    assert (row.owner_id, row.owner_role) == (_id(world, "fs2"), "first_secretary")


def test_a_press_refused_for_a_vacant_post_still_hands_the_deadline_over(world):
    """A deadline left with a person deactivated before stop 50 (behind the engine): the press that
    finds nobody in the post is refused, but the deadline is no longer shown as the leaver's."""
    reach_everyone(world)
    case = awaiting_plan(world)[0]
    sweep(world.app, now=cst(2019, 7, 1, 8, 0))
    [d] = deadlines_of(world, case, rule="assistance_plan")
    world.on(date(2019, 7, 2))
    with world.app.transaction() as conn:
        conn.execute(t.persons.update().where(t.persons.c.code == "fs").values(active=False))
    with pytest.raises(RuleViolation) as refused:
        press_deadline(world.app, world["th"], d.id)
    assert refused.value.code == "press.no_holder"
    text = refused.value.render(world.app.config)
    assert "第一书记（洋塘村）" in text and "任命接任人员" in text, text     # which post to fill, where
    [row] = deadlines_of(world, case, rule="assistance_plan")       # no sweep since
    assert (row.owner_id, row.owner_role) == (None, "first_secretary")
    assert row.owner_changes[-1]["reason"] == "inactive"
    groups = {g["key"] for g in overdue_summary(world.app, world["th"])["groups"]["person"]}
    assert "fs" not in groups


def test_a_press_that_hands_the_deadline_over_says_to_whom(world):
    """The post's second holder appointed, then its owner deactivated behind the engine (before stop 50):
    the press hands the deadline over and presses the post's holder now, saying so."""
    from tests.helpers.notifications import cli
    reach_everyone(world)
    case = awaiting_plan(world)[0]
    sweep(world.app, now=cst(2019, 7, 1, 8, 0))
    [d] = deadlines_of(world, case, rule="assistance_plan")
    world.on(date(2019, 7, 2))
    add_persons(world.app, world["admin"], [
        NewPerson("fs2", "接任第一书记", (("first_secretary", VILLAGE),), channels=(("file", "fs2", "zh"),))])
    with world.app.transaction() as conn:
        conn.execute(t.persons.update().where(t.persons.c.code == "fs").values(active=False))
    pressed = cli(world, "th", "deadline", "press", str(d.id))
    assert pressed.code == 0, pressed.err
    assert "原责任人 fs 已不在该岗位，期限已转交现任 接任第一书记" in pressed.out, pressed.out
    assert "已督办 接任第一书记（fs2）" in pressed.out
