"""The step rules as pure functions over facts from a fake repository (DOMAIN.md §4)."""
from __future__ import annotations

from datetime import date

import pytest

from engine.domain import guards
from engine.domain.cases import OpenProcedure, StepInput, next_step, participants
from engine.domain.errors import AuthError, BadInput, RuleViolation
from engine.domain.facts import CaseRepository, NoticeFact, ObjectionFact
from engine.domain.guards import Violation
from tests.unit.fakes import FakeRepository, actor, case_row, evidence, procedure, record, step_def

MAR1, MAR5, MAR8, MAR20 = date(2019, 3, 1), date(2019, 3, 5), date(2019, 3, 8), date(2019, 3, 20)
PROC = procedure(step_def("application", evidence=("application",)),
                 step_def("notice", "notice", scope="village", days="household_identification"),
                 step_def("review", "signoff", ("township_staff",)))


def _repo(**kw) -> FakeRepository:
    repo = FakeRepository(**kw)
    repo.rows.setdefault(1, case_row(1))
    return repo


def _facts(repo: FakeRepository, person: int = 7, signing: bool = True):
    return repo.facts([repo.rows[1]], ("application",), person, signing)[1]


def _noticed(objections=(), start=MAR1, end=MAR8, required=7) -> FakeRepository:
    proc = OpenProcedure(10, "identification", [record(1, "application", "evidence", 3, MAR1),
                                                record(2, "notice", "notice", 4, start, notice_id=5)])
    return _repo(procs={1: proc}, notices={5: NoticeFact(5, start, end, required)},
                 objections={1: list(objections)})


def test_the_fake_is_a_repository():
    repo: CaseRepository = _repo()
    assert set(repo.cases([1])) == {1} and repo.facts([repo.rows[1]], (), 7, False)[1].open_proc is None


def test_a_violation_becomes_the_error_it_stands_for():
    assert type(Violation("auth.wrong_role", {"person": "x"}, "auth").error()) is AuthError
    assert type(Violation("step.need_number", {"field": "a"}, "input").error()) is BadInput
    error = Violation("date.order", {"case": 1}).error()
    assert type(error) is RuleViolation and error.params == {"case": 1}
    assert Violation.of(error) == Violation("date.order", {"case": 1})
    with pytest.raises(RuleViolation):
        guards.raise_first([Violation("date.order"), Violation("notice.running")])


def test_order_names_the_step_expected_and_the_procedure_open():
    facts = _facts(_noticed())
    assert guards.order(facts, "identification", PROC, PROC.steps[2], []) == []
    [v] = guards.order(facts, "identification", PROC, PROC.steps[0], [])
    assert (v.code, v.params["expected"]) == ("step.order", "review")
    assert guards.order(facts, "exit", PROC, PROC.steps[0], [])[0].code == "procedure.other_open"
    fresh = _facts(_repo())
    assert guards.order(fresh, "identification", PROC, PROC.steps[0], ["exit"])[0].code == "stage.not_allowed"
    assert guards.order(fresh, "identification", PROC, PROC.steps[0], ["identification"]) == []


def test_duties_same_person_relative_and_pairing_cadre_all_named():
    repo = _noticed()
    repo.relatives[(1, 3)] = "表兄"
    repo.pairings.add((1, 3))
    facts = _facts(repo, person=3)
    taken = participants(facts.open_proc)
    codes = [v.code for v in guards.duties(facts, actor(3, "p3"), PROC.steps[2], taken)]
    assert codes == ["duty.same_person", "duty.relative", "duty.pairing_cadre"]
    assert guards.duties(_facts(repo, person=9), actor(9, "p9"), PROC.steps[2], taken) == []


def test_relatives_and_pairings_concern_signing_steps_only():
    repo = _repo()
    repo.relatives[(1, 3)] = "表兄"
    facts = _facts(repo, person=3, signing=False)
    assert guards.duties(facts, actor(3, "p3"), PROC.steps[0], {}) == []


def test_dates_in_order_across_procedures_and_within_one():
    within = _facts(_noticed())                       # the open procedure's last step only
    assert [v.code for v in guards.dates(within, date(2019, 2, 20), MAR20)][:1] == ["date.order"]
    repo = _noticed()
    repo.rows[1].attrs.update(last_step_on="2019-03-01", last_step="notice")
    both = [v for v in guards.dates(_facts(repo), date(2019, 2, 20), MAR20) if v.code == "date.order"]
    assert [v.params["step"] for v in both] == ["notice"]   # the case's last step names it, once
    assert guards.future(date(2019, 3, 21), MAR20)[0].code == "date.future" and guards.future(MAR20, MAR20) == []


def test_a_notice_running_ran_short_or_objected_is_named_each_time():
    facts = _facts(_noticed([ObjectionFact(8, "村民", "收入不实"), ObjectionFact(9, "村民乙", "x")],
                            end=MAR5))
    codes = [v.code for v in guards.dates(facts, MAR1, MAR20)]
    assert codes == ["notice.ran_short", "notice.running", "notice.objection", "notice.objection"]
    assert guards.dates(_facts(_noticed()), MAR8, MAR20) == []
    # judged as of the step's day, but never before the notice has really ended
    assert [v.code for v in guards.dates(_facts(_noticed()), MAR8, MAR5)] == ["notice.running"]


def test_evidence_dated_before_the_step_it_follows():
    """The household's confirmation follows the proposal: dated before the proposal's day it is out of
    order; on the day or after, or before any proposal was made, it is not."""
    ack = step_def("acknowledgement", "acknowledgement", evidence=("household_confirmation",), follows="proposal")
    kinds = {"household_confirmation": {"signed_on": "date"}}
    proposed = OpenProcedure(10, "exit", [record(1, "proposal", "appraisal", 3, MAR5)])
    for signed, codes in (("2019-03-01", ["date.evidence_before_step"]), ("2019-03-05", []), ("2019-03-08", [])):
        repo = _repo(procs={1: proposed})
        repo.evidence[1] = {"household_confirmation": evidence(4, "household_confirmation", signed_on=signed)}
        found = guards.evidence_dated_before(repo.facts([repo.rows[1]], ("household_confirmation",), 7, False)[1],
                                             ack, kinds)
        assert [v.code for v in found] == codes, signed
    [v] = guards.dated_before_followed(1, proposed, ack, "household_confirmation", {"signed_on": "2019-03-01"},
                                       kinds["household_confirmation"])
    assert (v.params["value"], v.params["step"], v.params["date"]) == ("2019-03-01", "proposal", MAR5)
    assert guards.dated_before_followed(1, OpenProcedure(10, "exit", []), ack, "household_confirmation",
                                        {"signed_on": "2019-03-01"}, kinds["household_confirmation"]) == []


def test_evidence_missing_dated_after_and_tampered():
    repo = _repo()
    step = PROC.steps[0]
    assert guards.missing_evidence(_facts(repo), step)[0].params["types"] == "application"
    repo.evidence[1] = {"application": evidence(4, "application", applied_on="2019-03-02")}
    facts = _facts(repo)
    assert guards.missing_evidence(facts, step) == []
    [v] = guards.evidence_dated_after(facts, step, {"application": {"applied_on": "date"}}, MAR1)
    assert (v.code, v.params["value"]) == ("date.evidence_after_step", "2019-03-02")
    assert guards.evidence_dated_after(facts, step, {"application": {"applied_on": "date"}}, MAR5) == []
    signoff = PROC.steps[2]
    assert guards.signed_evidence(facts, signoff, ["application"], lambda row: False)[0].code == "evidence.tampered"
    assert guards.signed_evidence(facts, step, ["application"], lambda row: False) == []


def test_evidence_relied_on_by_a_signer_must_be_unchanged():
    row = evidence(4, "application")
    signed = record(3, "review", "signoff", 5, MAR8, evidence=[{"id": 4, "type": "application",
                                                                "hash": row.content_hash}])
    repo = _repo(procs={1: OpenProcedure(10, "identification", [signed])}, evidence_by_id={4: row})
    assert guards.relied_evidence(_facts(repo), lambda row: True) == []
    assert guards.relied_evidence(_facts(repo), lambda row: False)[0].params["step"] == "review"
    repo.evidence_by_id[4].superseded_by = 6
    assert guards.relied_evidence(_facts(repo), lambda row: True)[0].code == "evidence.tampered"


def test_the_default_day_is_today_unless_the_record_is_back_dated():
    repo = _noticed()
    repo.rows[1].attrs.update(last_step_on="2019-03-01")
    today = date(2026, 12, 2)
    assert guards.default_as_of(_facts(repo), today) == today            # entered as it happened? unknown
    repo.recorded[1] = date(2019, 3, 1)
    facts = _facts(repo)
    facts.last_recorded_on = repo.last_recorded_on(1)
    assert guards.default_as_of(facts, today) == today
    facts.last_recorded_on = today                                        # 2019 paper entered in 2026
    assert guards.default_as_of(facts, today) == MAR8                    # the notice's end: the earliest next day


def test_next_step_and_participants():
    proc = OpenProcedure(1, "identification", [record(1, "application", "evidence", 3, MAR1, verifier_ids=[8])])
    assert next_step(PROC, proc).key == "notice" and next_step(PROC, None).key == "application"
    assert participants(proc) == {3: "application", 8: "application"}
    assert StepInput(days=3).given("days") and not StepInput().given("verifiers")
