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


def test_a_household_assisted_this_year_is_not_on_the_exit_work_until_next_year_s_campaign(world):
    """a7 #3: a household whose plan was approved today was at once "脱贫退出 · 评议并提出退出" on the
    village's /work. An exit is proposed in a later year's campaign: this year it is on nobody's list;
    from next year on it is (and its page offered the proposal all along)."""
    from engine.reads.case_lists import list_cases
    from engine.reads.queries import next_for
    case = identified(world)[0]
    world.assist(case)                                # plan approved 2019-03-20
    world.on(date(2019, 11, 20))                      # the year-end campaign of the same year

    def waiting(who):
        return [c["id"] for c in list_cases(world.app, world[who], waiting_for_me=True)]
    assert case not in waiting("vd") and case not in waiting("vs")
    assert next_for(world.app, world["vd"], case)["next"]["step"] == "proposal"
    world.on(date(2020, 1, 6))
    assert case in waiting("vd")
