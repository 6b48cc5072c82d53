"""The 30-day plan deadline (assistance_plan) is owned by who may do the step now due: the township
pairs, the village plans, the township approves; the owner moves as each is done and the alerts
follow (a7 #4). Its due time does not move."""
from __future__ import annotations

from datetime import date

from tests.helpers.deadlines import deadlines_of, identified


def _owner(world, case):
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    return d.step_key, d.owner_id, d.owner_role, d.due_on


def test_the_plan_deadline_follows_pairing_then_plan_then_approval(world):
    case = identified(world)[0]
    step, owner, role, due = _owner(world, case)
    assert (step, role) == ("pairing", "township_staff"), "pairing is the township's: fs may not pair"
    assert owner == world["ts1"].person_id and due == date(2019, 4, 14)
    world.on(date(2019, 3, 20))
    world.step("ts1", "assistance", "pairing", case, first_cadre="pc1", second_cadre="pc2")
    assert _owner(world, case) == ("plan", world["fs"].person_id, "first_secretary", due)
    world.step("fs", "assistance", "plan", case, measures=(("industry", "种植脐橙"),))
    step, owner, role, _ = _owner(world, case)
    assert step == "plan_approval" and role in ("township_staff", "township_head", "township_secretary")
    assert owner != world["fs"].person_id, "who signed the plan cannot approve it"
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert [c["reason"] for c in d.owner_changes] == ["step:pairing", "step:plan"]
