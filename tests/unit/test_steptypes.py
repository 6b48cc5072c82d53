"""The registry of step types: every type the packaged configuration names has a class; their inputs and rules."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest

from config import ConfigError, load_config
from engine.domain.cases import StepInput
from engine.domain.errors import BadInput
from engine.services import steptypes
from tests.unit.fakes import actor, case_row, step_def

PARAMS = {"appraisal_quorum": 0.5, "notice_days": {"household_identification": 7}, "verifiers_min": {"two": 2}}


def ctx(step, **inputs):
    return SimpleNamespace(step=step, inputs=StepInput(**inputs), params=PARAMS, case=case_row(),
                           actor=actor(7, "p7", ("resident_team_leader", "360730100201")), batch={}, conn=None)


def test_every_step_type_the_packaged_configuration_names_is_registered():
    config = load_config()
    named = {name for _, _, name in steptypes.named_step_types(config)}
    used = {step.type for wf in config.workflows.values() for p in wf.procedures.values() for step in p.steps}
    assert named >= used and named <= set(steptypes.REGISTRY)
    steptypes.check_config(config)


def test_a_step_type_not_registered_is_refused_naming_file_key_and_the_known_ones():
    config = load_config()
    wf = config.workflows["household"]
    name, proc = next(iter(wf.procedures.items()))
    step = proc.steps[0].model_copy(update={"type": "meeting"})
    bad = wf.model_copy(update={"procedures": {**wf.procedures, name: proc.model_copy(update={"steps": (step,)})}})
    with pytest.raises(ConfigError) as refused:
        steptypes.check_config(dataclasses.replace(config, workflows={**config.workflows, "household": bad}))
    text, english = str(refused.value), refused.value.render(lang="en")
    assert "household.yaml" in text and f"键 procedures.{name}.steps.0.type" in text and "未知的步骤类型 meeting" in text
    assert f"key procedures.{name}.steps.0.type" in english and "'meeting'" in english
    assert "signoff" in text


@pytest.mark.parametrize("type_, field, ok", [("appraisal", "attendance", True), ("signoff", "attendance", False),
                                              ("change", "funds", True), ("evidence", "days", False),
                                              ("appraisal", "minutes", True), ("signoff", "minutes", False),
                                              ("verification", "decision", True), ("record", "decision", False)])
def test_inputs_for_another_step_type_are_refused(type_, field, ok):
    value = {"attendance": 3, "funds": (("x", "1", None),), "days": 3, "decision": "approve",
             "minutes": Path("会议记录.pdf")}[field]
    step = step_def("s", type_)
    if ok:
        steptypes.refuse_foreign_inputs(step, StepInput(**{field: value}))
    else:
        with pytest.raises(BadInput) as info:
            steptypes.refuse_foreign_inputs(step, StepInput(**{field: value}))
        assert info.value.code == "step.input_not_for_step"


def test_appraisal_needs_more_than_the_quorum():
    appraisal = steptypes.get("appraisal")
    step, minutes = step_def("a", "appraisal"), Path("会议记录.pdf")
    assert appraisal.effect(ctx(step, attendance=40, votes_for=35, votes_against=2, minutes=minutes), {}).decision \
        == "approved"
    assert appraisal.effect(ctx(step, attendance=40, votes_for=20, votes_against=2, minutes=minutes), {}).decision \
        == "rejected"
    effect, broken = appraisal.rules(ctx(step, attendance=4, votes_for=5, votes_against=0, minutes=minutes), {})
    assert effect is None and [v.code for v in broken] == ["appraisal.bad_votes"] and broken[0].kind == "input"
    assert appraisal.rules(ctx(step), {})[1][0].code == "step.need_number"


def test_an_appraisal_comes_with_its_minutes_whatever_the_vote():
    appraisal, step = steptypes.get("appraisal"), step_def("a", "appraisal")
    for votes_for in (35, 20):
        effect, broken = appraisal.rules(ctx(step, attendance=40, votes_for=votes_for, votes_against=2), {})
        assert effect is None and [(v.code, v.kind) for v in broken] == [("appraisal.minutes_required", "input")]


def test_a_workflow_with_an_appraisal_keeps_its_minutes_as_evidence_with_a_file():
    config = load_config()
    wf = config.workflows["household"]
    for types in ({k: v for k, v in wf.evidence_types.items() if k != steptypes.MINUTES},
                  {**wf.evidence_types, steptypes.MINUTES: wf.evidence_types[steptypes.MINUTES].model_copy(
                      update={"file": False})}):
        bad = wf.model_copy(update={"evidence_types": types})
        with pytest.raises(ConfigError) as refused:
            steptypes.check_config(dataclasses.replace(config, workflows={**config.workflows, "household": bad}))
        assert "household.yaml" in str(refused.value) and "appraisal_minutes" in str(refused.value)
        assert "须附文件" in str(refused.value) and "file: true" in refused.value.render(lang="en")


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
    [v] = verification.rules(ctx(step, decision="approve"), {})[1]
    assert (v.code, v.params["count"], v.params["minimum"]) == ("verification.too_few", 1, 2)


def test_verification_needs_a_decision_none_is_not_taken_as_approval():
    """a12 #3: a verification given no decision was recorded 同意 (approved) in its leader's name."""
    verification = steptypes.get("verification")
    step = step_def("v", "verification", verifiers="two", verifier_roles=("resident_team_leader",))
    assert verification.rules(ctx(step), {})[1][0].code == "step.decision_required"


def test_a_plain_step_is_done():
    for name in ("evidence", "record", "acknowledgement", "announcement", "pairing", "milestone"):
        assert steptypes.get(name).effect(ctx(step_def("x", name)), {}).decision == "done"
