"""The registry of step types: every configured type has a class; their inputs and rules."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from config import STEP_TYPES
from engine.domain.cases import StepInput
from engine.domain.errors import BadInput
from engine.services import steptypes
from tests.unit.fakes import actor, case_row, step_def

PARAMS = {"appraisal_quorum": 0.5, "notice_days": {"household_identification": 7}, "verifiers_min": {"two": 2}}


def ctx(step, **inputs):
    return SimpleNamespace(step=step, inputs=StepInput(**inputs), params=PARAMS, case=case_row(),
                           actor=actor(7, "p7", ("resident_team_leader", "360730100201")), batch={}, conn=None)


def test_every_configured_step_type_is_registered():
    assert set(STEP_TYPES) == set(steptypes.REGISTRY)


@pytest.mark.parametrize("type_, field, ok", [("appraisal", "attendance", True), ("signoff", "attendance", False),
                                              ("change", "funds", True), ("evidence", "days", False),
                                              ("verification", "decision", True), ("record", "decision", False)])
def test_inputs_for_another_step_type_are_refused(type_, field, ok):
    value = {"attendance": 3, "funds": (("x", "1", None),), "days": 3, "decision": "approve"}[field]
    step = step_def("s", type_)
    if ok:
        steptypes.refuse_foreign_inputs(step, StepInput(**{field: value}))
    else:
        with pytest.raises(BadInput) as info:
            steptypes.refuse_foreign_inputs(step, StepInput(**{field: value}))
        assert info.value.code == "step.input_not_for_step"


def test_appraisal_needs_more_than_the_quorum():
    appraisal = steptypes.get("appraisal")
    step = step_def("a", "appraisal")
    assert appraisal.effect(ctx(step, attendance=40, votes_for=35, votes_against=2), {}).decision == "approved"
    assert appraisal.effect(ctx(step, attendance=40, votes_for=20, votes_against=2), {}).decision == "rejected"
    effect, broken = appraisal.rules(ctx(step, attendance=4, votes_for=5, votes_against=0), {})
    assert effect is None and [v.code for v in broken] == ["appraisal.bad_votes"] and broken[0].kind == "input"
    assert appraisal.rules(ctx(step), {})[1][0].code == "step.need_number"


def test_notice_runs_at_least_the_days_required():
    notice = steptypes.get("notice")
    step = step_def("n", "notice", scope="village", days="household_identification")
    effect = notice.effect(ctx(step), {})
    assert (effect.notice_days, effect.data["days_required"]) == (7, 7)
    assert notice.rules(ctx(step, days=5), {})[1][0].code == "notice.short"


def test_signoff_needs_a_decision_and_a_reason_to_reject():
    signoff, step = steptypes.get("signoff"), step_def("s", "signoff")
    assert signoff.rules(ctx(step), {})[1][0].code == "step.decision_required"
    assert signoff.rules(ctx(step, decision="reject"), {})[1][0].code == "step.reason_required"
    assert signoff.effect(ctx(step, decision="reject", reason="不实"), {}).decision == "rejected"


def test_verification_counts_the_leader_holding_a_verifier_role():
    verification = steptypes.get("verification")
    step = step_def("v", "verification", verifiers="two", verifier_roles=("resident_team_leader",))
    [v] = verification.rules(ctx(step), {})[1]
    assert (v.code, v.params["count"], v.params["minimum"]) == ("verification.too_few", 1, 2)


def test_a_plain_step_is_done():
    for name in ("evidence", "record", "acknowledgement", "announcement", "pairing", "milestone"):
        assert steptypes.get(name).effect(ctx(step_def("x", name)), {}).decision == "done"
