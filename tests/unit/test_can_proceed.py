"""`can_proceed` on facts from the fake repository and a stand-in application (no database, no files)."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from engine.domain.cases import OpenProcedure, StepInput
from engine.domain.errors import RuleViolation
from engine.domain.facts import NoticeFact, ObjectionFact
from engine.domain.guards import raise_first
from engine.domain.lifecycle import Lifecycle
from engine.services.guards import can_proceed
from tests.unit.fakes import VILLAGE, FakeRepository, actor, case_row, evidence, procedure, record, step_def

MAR1, MAR5, MAR8, MAR20 = date(2019, 3, 1), date(2019, 3, 5), date(2019, 3, 8), date(2019, 3, 20)
TOWNSHIP = VILLAGE[:9] + "000"
PROC = procedure(step_def("application", evidence=("application",), checks=("poor_enough",)),
                 step_def("notice", "notice", scope="village", days="household_identification"),
                 step_def("review", "signoff", ("township_staff",), checks=("poor_enough",)))
WORKFLOW = SimpleNamespace(stages=("candidate", "identified"), initial="candidate",
                           procedures={"identification": PROC},
                           evidence_types={"application": SimpleNamespace(fields={"applied_on": "date"})})
ROLES = {"village_secretary": SimpleNamespace(level="village", read_only=False),
         "township_staff": SimpleNamespace(level="township", read_only=False)}


def fake_app(income: float = 3000, today: date = MAR20):
    def poor_enough(ctx):
        ctx.data["line"] = 3535
        return [] if income < 3535 else [("income_not_under", {"income": income, "line": 3535})]
    return SimpleNamespace(
        config=SimpleNamespace(workflows={"household": WORKFLOW}, roles=ROLES,
                               policy=SimpleNamespace(params=lambda province, year: {})),
        lifecycles={"household": Lifecycle(WORKFLOW)},
        rules={"household": SimpleNamespace(checks={"poor_enough": poor_enough}, handlers={}, who_checks=frozenset(),
                                            not_instead={})},
        clock=SimpleNamespace(today=lambda: today), evidence=SimpleNamespace(intact=lambda sha: True))


def at_review(objections=(), relative: str | None = None) -> FakeRepository:
    steps = [record(1, "application", "evidence", 3, MAR1), record(2, "notice", "notice", 4, MAR1, notice_id=5)]
    repo = FakeRepository(rows={1: case_row(1, last_step_on="2019-03-01", last_step="notice")},
                          procs={1: OpenProcedure(10, "identification", steps)},
                          evidence={1: {"application": evidence(4, "application", applied_on="2019-02-01")}},
                          notices={5: NoticeFact(5, MAR1, MAR8, 7)}, objections={1: list(objections)})
    if relative:
        repo.relatives[(1, 9)] = relative
    return repo


def verdict(repo, who, on, app=None, inputs=None, step="review"):
    facts = repo.facts([repo.rows[1]], ("application",), who.person_id, step == "review")[1]
    return can_proceed(app or fake_app(), None, who, facts, "identification", PROC.step(step), on, inputs)


STAFF = actor(9, "ts", ("township_staff", TOWNSHIP))


def test_nothing_stands_in_the_way():
    found = verdict(at_review(), STAFF, MAR8, inputs=StepInput(decision="approve"))
    assert found.ok and found.effect.decision == "approved" and found.assignment.role == "township_staff"
    assert found.ctx.data == {"line": 3535}


def test_every_unmet_condition_in_the_order_the_step_checks_them():
    repo = at_review([ObjectionFact(8, "村民", "收入不实")], relative="表兄")
    found = verdict(repo, STAFF, MAR5, fake_app(income=9000))
    assert [v.code for v in found.violations] == [
        "duty.relative", "notice.running", "notice.objection", "check.poor_enough"]
    assert found.violations[-1].params["failures"] == [("income_not_under", {"income": 9000, "line": 3535})]


def test_the_wrong_role_and_the_wrong_step_are_named_first():
    secretary = actor(3, "vs", ("village_secretary", VILLAGE))
    at_notice = FakeRepository(rows={1: case_row(1, last_step_on="2019-03-01", last_step="application")},
                               procs={1: OpenProcedure(10, "identification", [record(1, "application", "evidence", 3, MAR1)])},
                               evidence={1: {"application": evidence(4, "application", applied_on="2019-02-01")}})
    found = verdict(at_notice, secretary, MAR8)        # the review, before its notice
    assert [(v.code, v.kind) for v in found.violations] == [
        ("step.order", "rule"), ("auth.wrong_role", "auth"), ("duty.same_person", "rule")]
    found = verdict(at_review(), secretary, MAR8)
    assert [(v.code, v.kind) for v in found.violations] == [("auth.wrong_role", "auth"), ("duty.same_person", "rule")]


def test_the_step_refuses_with_the_first_and_case_next_sees_them_all():
    found = verdict(at_review(), STAFF, date(2019, 3, 21), inputs=StepInput())
    assert [v.code for v in found.violations] == ["date.future", "step.decision_required"]
    with pytest.raises(RuleViolation) as info:
        raise_first(found.violations)
    assert info.value.code == "date.future"


def test_judged_as_of_a_date_the_same_facts_give_other_answers():
    repo = at_review()
    assert [v.code for v in verdict(repo, STAFF, MAR5).violations] == ["notice.running"]
    assert verdict(repo, STAFF, MAR8).ok
    assert [v.code for v in verdict(repo, STAFF, date(2019, 2, 1)).violations] == [
        "date.order", "notice.running"]       # before the last step: said once, though two rules see it
