"""Who may act binds a rejection as it binds an approval: a step that rejects (a failed vote, a decision
to reject) is not held to the workflow's standards (an exit standard need not be met to refuse an exit),
but the checks that say *who* may take the step (the original approver of a plan change, not the
rectifier verifying their own rectification) still hold. Before, a rejection skipped every workflow
check: the county head, not the library's approver, could reject a plan change; the rectifier could
reject the verification of their own rectification."""
from __future__ import annotations

from datetime import date

import pytest

from engine.domain.errors import RuleViolation
from tests.test_accountability import assigned_problem, report, stage
from tests.test_project_figures import add_project, enter_library, fund, households


def test_the_rectifier_may_not_reject_the_verification_of_their_own_rectification(world):
    problem = assigned_problem(world)
    world.step("th", "assignment", "receipt", problem)
    report(world, problem)
    for decision in ("reject", "approve"):
        with pytest.raises(RuleViolation) as own:
            world.step("th", "verification", "verify", problem, decision=decision, reason="自己复核")
        assert own.value.code == "check.not_rectifier", decision
    assert stage(world, problem) == "reported"
    world.step("cs", "verification", "verify", problem, decision="reject", reason="验收资料仍缺一份")
    assert stage(world, problem) != "closed"


def test_only_the_original_approver_rejects_a_plan_change(world):
    beneficiaries = households(world, 2)
    case = add_project(world, beneficiaries)
    enter_library(world, case)                         # approved by cd, county poverty office director
    fund(world, case)
    world.on(date(2019, 6, 3))
    world.step("ts3", "plan_change", "change_request", case, reason="雨季延误", completion=date(2019, 12, 20))
    with pytest.raises(RuleViolation) as other:
        world.step("ch", "plan_change", "change_approval", case, decision="reject", reason="不同意延期")
    assert other.value.code == "check.original_approver"
    world.step("cd", "plan_change", "change_approval", case, decision="reject", reason="不同意延期")
