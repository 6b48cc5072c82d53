"""Nobody exits without a county-level approval (invariant 5 of tests/test_state_machine.py, as a
plain test)."""
from __future__ import annotations

import shutil
from datetime import date, timedelta

from engine.services.case_actions import attach_evidence
from engine.domain.errors import JingzhunError
from tests.helpers.household_rules import (check_audit_chain, check_exits_county_approved,
                                           check_procedure_steps, check_stage_history, check_step_roles,
                                           fresh_world, snapshot)
from tests.world import scan_file


# --- a plain test: nobody exits without a county-level approval ---------------------------------

def _refused(w, who, procedure, step, case, **inputs) -> str:
    try:
        w.step(who, procedure, step, case, **inputs)
    except JingzhunError as exc:
        return exc.code
    raise AssertionError(f"{procedure}.{step} by {who} was not refused")


def _up_to_county(w, case, day=date(2019, 11, 20), tmp=None, again: str | None = None) -> None:
    """An exit up to the county approval; `tmp`: confirmed anew by the household on `day` (a
    confirmation signed before its proposal is not one of it): a fresh exit's confirmation is an item
    of its own; one signed again in the same exit (`again`: why) replaces the one it signed before."""
    w.on(day)
    if tmp is not None:
        attach_evidence(w.app, w["vs"], case, "household_confirmation", {"signed_on": day.isoformat()},
                        scan_file(tmp / f"confirmation-{case}-{day}.pdf"), replace=again is not None, reason=again)
    w.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    w.step("tl", "exit", "verification", case, decision="approve", verifiers=("ts2", "ts3", "ts4"))
    w.step("fs", "exit", "acknowledgement", case)
    w.step("vs", "exit", "village_notice", case)
    w.on(day + timedelta(days=8))
    w.step("ts1", "exit", "township_review", case, decision="approve")


def _refused_approvers_then_a_rejection_then_a_fresh_exit(w, a, tmp) -> None:
    _up_to_county(w, a)
    for who in ("th", "ts2", "cs", "vs", "insp"):          # township, county staff, village, read-only
        assert _refused(w, who, "exit", "county_approval", a, decision="approve").startswith("auth.")
    assert _refused(w, "cs", "exit", "announcement", a) == "step.order"
    w.step("cd", "exit", "county_approval", a, decision="reject", reason="收入核算有误")
    w.on(date(2019, 12, 1))         # the income the county questioned, assessed again (rejection_answered)
    attach_evidence(w.app, w["vs"], a, "income_assessment", {"year": 2019, "net_income": 9800}, replace=True,
                    reason="县级退回后重新核算")
    _up_to_county(w, a, date(2019, 12, 1), tmp)
    w.step("cd", "exit", "county_approval", a, decision="approve")
    w.step("cs", "exit", "announcement", a)


def _evidence_replaced_after_the_approval_voids_it(w, b, tmp) -> None:
    """The income the proposal was held to changes after the county approved: the exit goes back to its
    proposal, announcing refused until it is proposed, confirmed by the household and approved again."""
    _up_to_county(w, b)
    w.step("ch", "exit", "county_approval", b, decision="approve")
    attach_evidence(w.app, w["vs"], b, "income_assessment", {"year": 2019, "net_income": 9000},
                    replace=True, void_signoffs=True, reason="更正收入")
    assert _refused(w, "cs", "exit", "announcement", b) == "step.voided"      # saying which replacement voided it
    _up_to_county(w, b, date(2019, 12, 1), tmp, again="重新评议后农户重签")
    w.step("cd", "exit", "county_approval", b, decision="approve")
    w.step("cs", "exit", "announcement", b)


def _exits_is_found_wrongly_exited_and_exits_again(w, c, tmp) -> None:
    _up_to_county(w, c)
    w.step("ch", "exit", "county_approval", c, decision="approve")
    w.step("cs", "exit", "announcement", c)
    attach_evidence(w.app, w["ts2"], c, "wrong_exit_finding", {"source": "assessment", "reason": "收入不实"})
    w.step("ts2", "reopen_wrong_exit", "finding", c)
    w.step("th", "reopen_wrong_exit", "township_review", c, decision="approve")
    w.step("ch", "reopen_wrong_exit", "county_approval", c, decision="approve")
    assert _refused(w, "cs", "exit", "announcement", c) == "step.order"
    # reopened: a new plan, approved, before it may be proposed for exit again (DOMAIN §3)
    assert _refused(w, "vd", "exit", "proposal", c, attendance=38, votes_for=33, votes_against=1) == \
        "check.new_plan_adopted"
    w.step("fs", "plan_revision", "plan", c, measures=(("employment", "公益性岗位"),))
    w.step("th", "plan_revision", "plan_approval", c, decision="approve")
    _up_to_county(w, c, date(2019, 12, 10), tmp)
    w.step("cd", "exit", "county_approval", c, decision="approve")
    w.step("cs", "exit", "announcement", c)


def test_no_exit_without_county_level_approval():
    w, tmp = fresh_world()
    try:
        a, b, c = (w.household(members=2, income_2018=3000) for _ in range(3))
        for case, cadre in ((a, "pc1"), (b, "pc2"), (c, "pc3")):
            w.identify(case)
            w.assist(case, first=cadre, second=None)
            w.exit_evidence(case, income_2019=10000, tmp=tmp)
        _refused_approvers_then_a_rejection_then_a_fresh_exit(w, a, tmp)
        _evidence_replaced_after_the_approval_voids_it(w, b, tmp)
        _exits_is_found_wrongly_exited_and_exits_again(w, c, tmp)

        snap = snapshot(w.app)
        exited = check_exits_county_approved(snap)
        assert sorted(exited) == sorted([a, b, c, c])
        assert {row.id: row.stage for row in snap["cases"]} == {a: "exited", b: "exited", c: "exited"}
        check_stage_history(snap)
        check_procedure_steps(snap)
        check_audit_chain(snap)
        check_step_roles(snap)
    finally:
        w.app.close()
        shutil.rmtree(tmp, ignore_errors=True)
