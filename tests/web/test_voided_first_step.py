"""An identification voided from its first step: the income check the application stood on replaced
(a recount) after the first notice had run, the cadre agreeing to void. The procedure stays open with
no step in force. The village finds the case on its list at the application, told on its page and by
`case next` which steps were voided and why; the township's deadline for the review that the notice
had started ends with the voiding (it had stayed open, overdue on the village's list and on the
township's supervision page, for a review nobody could do); the village does its steps again and
its new notice starts that deadline anew."""
from __future__ import annotations

from datetime import date

from engine.services.case_actions import attach_evidence
from tests.helpers.deadlines import deadlines_of
from tests.helpers.refusals import walk
from tests.test_accountability import cli

VOIDED = "农户申请、民主评议、村级核实、村内第一次公示"


def test_a_procedure_voided_from_its_first_step_waits_at_it_with_no_deadline_of_the_township(world, world_clients):
    page, _api = world_clients
    case = world.household()
    walk(world, "identification", case, until="township_review")     # the first notice posted on 1 March
    world.on(date(2019, 3, 9))                                         # it has run: the review is due by the 13th
    (waiting,) = deadlines_of(world, case, rule="notice_expiry")
    assert (waiting.step_key, waiting.status) == ("township_review", "open")
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": 3000},
                    replace=True, reason="重新核算", void_signoffs=True)
    (waiting,) = deadlines_of(world, case, rule="notice_expiry")
    assert (waiting.status, waiting.closed_reason) == ("cancelled", "steps voided")

    world.on(date(2019, 3, 25))
    village = page("vs")
    work = village.get("/work").text
    assert f'href="/cases/{case}"' in work and "农户申请" in work
    assert "已逾期" not in work and "公示期满后续办理" not in work       # the township's review is not the village's
    shown = village.get(f"/cases/{case}").text
    assert 'id="voided"' in shown and VOIDED in shown and "重新核算" in shown
    township = page("th").get("/supervise").text
    assert "共有 0 项工作逾期未办" in township
    said = cli(world, "vs", "case", "next", case)
    assert "贫困识别（进行中）/ 农户申请" in said.out, said.out
    assert f"已作废、须重新办理的步骤：{VOIDED}" in said.out and "重新核算" in said.out

    for who, step, inputs in (("vs", "application", {}), ("vd", "appraisal", dict(attendance=40, votes_for=35,
                                                                                     votes_against=2)),
                              ("tl", "village_verification", dict(decision="approve", verifiers=("tm",))), ("fs", "first_notice", {})):
        world.step(who, "identification", step, case, **inputs)
    assert [(d.status, d.start_on) for d in deadlines_of(world, case, rule="notice_expiry")] == [
        ("cancelled", date(2019, 3, 8)), ("open", date(2019, 4, 1))]
    assert 'id="voided"' not in village.get(f"/cases/{case}").text
