"""A household reopened (返贫, or 错退 by either route) or newly monitored needs a new assistance plan.

The audit found case 7/277/8 back to 帮扶中 with the 2019 plan in force and the exit offered at once
(脱贫退出 · 评议并提出退出), no plan and no due date; a newly monitored household said 没有待办的步骤.
Assisted means a plan in force for the household (DOMAIN §3), with a deadline as after identification
(§6): the case now waits for a plan revision, says why, refuses the exit until the township approves
the new plan, and the plan is due within the identification's 30 days, owned by the village."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.reads.queries import next_for
from engine.services.case_actions import attach_evidence
from tests.helpers.notifications import cli
from tests.test_accountability import wrong_exit
from tests.test_household_life import consolidated, eliminable, monitor, village_chain

RULE = "assistance_plan_again"


def plan_deadlines(world, case: int) -> list[tuple[str, str, str | None, str]]:
    """(status, due date, owner's post, closed reason) of the case's new-plan deadlines."""
    d = t.deadlines.c
    with world.app.engine.connect() as conn:
        return [(r.status, r.due_on.isoformat(), r.owner_role, r.closed_reason or "") for r in conn.execute(
            select(d.status, d.due_on, d.owner_role, d.closed_reason).where(d.case_id == case, d.rule == RULE)
            .order_by(d.id))]


def pending(world, case: int) -> tuple[str, str]:
    with world.app.engine.connect() as conn:
        return tuple(conn.execute(select(t.cases.c.pending_procedure, t.cases.c.pending_step)
                                  .where(t.cases.c.id == case)).one())


def back_in_poverty(world, case: int) -> None:
    """The whole 返贫 procedure, its county approval on 2020-03-10."""
    world.on(date(2020, 3, 1))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 3000},
                    replace=True, reason="因病支出大增，重新核算")
    world.step("pc1", "reopen_return_to_poverty", "finding", case)
    village_chain(world, "reopen_return_to_poverty", case, date(2020, 3, 10), "county_approval")


def test_a_household_back_in_poverty_needs_a_new_plan_before_it_may_be_proposed_for_exit(world, tmp_path):
    case = consolidated(world, tmp_path)
    back_in_poverty(world, case)
    # What it needs next, on the command line in both languages: the plan, why, and no exit offered.
    told = cli(world, "insp", "case", "next", str(case)).out
    assert "下一步：调整帮扶计划（待启动）" in told, told
    assert "2020-03-10「返贫纳入」后须重新制定帮扶计划" in told and "之后才能提出退出" in told
    assert "脱贫退出" not in told
    english = cli(world, "insp", "--lang", "en", "case", "next", str(case)).out
    assert "a new assistance plan is needed" in english, english
    nxt = next_for(world.app, world["fs"], case)
    assert (nxt["next"]["procedure"], nxt["next"]["step"]) == ("plan_revision", "plan")
    assert nxt["needed"]["procedure"] == "plan_revision"
    assert pending(world, case) == ("plan_revision", "plan")          # what /work and the lists show
    # The plan is due 30 days after the reopening's approval, owned by the village.
    assert plan_deadlines(world, case) == [("open", "2020-04-09", "first_secretary", "")]
    # The exit is refused until then, saying what to do.
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    said = refused.value.render(world.app.config, "zh")
    assert refused.value.code == "check.new_plan_adopted", said
    assert "尚未制定新的帮扶计划" in said and "调整帮扶计划" in said
    assert "revise the plan first" in refused.value.render(world.app.config, "en")
    # A new plan proposed and rejected: still needed, the deadline still open.
    world.on(date(2020, 3, 20))
    world.step("fs", "plan_revision", "plan", case, measures=(("health", "大病救助"),))
    # the plan made, its approval is the township's: the deadline is theirs (no longer fs's, who signed it)
    assert plan_deadlines(world, case) == [("open", "2020-04-09", "township_staff", "")]
    world.step("th", "plan_revision", "plan_approval", case, decision="reject", reason="措施不足")
    assert next_for(world.app, world["fs"], case)["next"]["procedure"] == "plan_revision"
    assert plan_deadlines(world, case) == [("open", "2020-04-09", "first_secretary", "")]   # the village's again
    # Approved: the deadline is done, the exit is what comes next again.
    world.step("fs", "plan_revision", "plan", case, measures=(("health", "大病救助"), ("employment", "公益性岗位")))
    world.step("th", "plan_revision", "plan_approval", case, decision="approve")
    assert plan_deadlines(world, case) == [("done", "2020-04-09", "township_staff", "step:plan_approval")]
    after = next_for(world.app, world["insp"], case)
    assert after["next"]["procedure"] == "exit" and "needed" not in after
    assert pending(world, case) == ("exit", "proposal")


def test_a_wrong_exit_found_by_a_problem_item_asks_for_a_plan_with_its_due_date_too(world, tmp_path):
    from tests.test_accountability import exited
    case = exited(world)
    wrong_exit(world, case)                       # reopened at once on 2020-06-01
    assert pending(world, case) == ("plan_revision", "plan")
    assert plan_deadlines(world, case) == [("open", "2020-07-01", "first_secretary", "")]
    told = cli(world, "insp", "case", "next", str(case)).out
    assert "下一步：调整帮扶计划（待启动）" in told and "「错退纠正」后须重新制定帮扶计划" in told, told
    assert "exit" not in {o["procedure"] for o in next_for(world.app, world["insp"], case)["others"]}


def test_a_newly_monitored_household_is_asked_for_its_assistance_measures(world, tmp_path):
    case = consolidated(world, tmp_path)
    monitor(world, case)                          # decided by the county on 2020-04-06
    told = cli(world, "insp", "case", "next", str(case)).out
    assert "没有待办的步骤" not in told
    assert "下一步：调整帮扶计划（待启动）" in told and "2020-04-06纳入监测后须落实帮扶措施" in told, told
    assert pending(world, case) == ("plan_revision", "plan")
    assert plan_deadlines(world, case) == [("open", "2020-05-06", "first_secretary", "")]
    world.on(date(2020, 4, 20))
    world.step("fs", "plan_revision", "plan", case, measures=(("employment", "公益性岗位：护林员"),))
    world.step("th", "plan_revision", "plan_approval", case, decision="approve")
    assert plan_deadlines(world, case)[0][0] == "done"
    assert next_for(world.app, world["insp"], case)["next"] is None          # monitored, nothing waits
    assert pending(world, case) == (None, None)


def test_a_monitored_household_whose_risk_is_eliminated_owes_no_plan_after(world, tmp_path):
    """The risk is eliminated only once the measures the monitoring asked for are in force (a12 #6: it had
    been eliminated before the plan, the plan's deadline closed by the decision); then nothing waits."""
    case = consolidated(world, tmp_path)
    monitor(world, case)
    eliminable(world, case, date(2020, 10, 10))
    world.step("pc1", "risk_elimination", "assessment", case)
    village_chain(world, "risk_elimination", case, date(2020, 10, 20), "county_decision")
    assert plan_deadlines(world, case) == [("done", "2020-05-06", "township_staff", "step:plan_approval")]
    assert next_for(world.app, world["insp"], case)["next"] is None
