"""The shared machine's transitions are guarded by the completing step's violations."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.domain.errors import RuleViolation
from engine.domain.guards import Violation
from engine.domain.lifecycle import CaseModel, Lifecycle
from tests.unit.fakes import procedure, step_def

WORKFLOW = SimpleNamespace(kind="household", stages=("candidate", "identified", "removed"), initial="candidate", procedures={
    "identification": procedure(step_def("a")),
    "removal": procedure(step_def("b"), sources=("candidate", "identified"), to="removed"),
})


def test_may_procedure_asks_the_completing_steps_violations():
    life = Lifecycle(WORKFLOW)
    assert life.may(CaseModel(1, "candidate"), "identification")
    assert not life.may(CaseModel(1, "candidate", [Violation("notice.running")]), "identification")
    assert life.machine.models == []


def test_a_blocked_transition_refuses_with_the_first_violation_and_does_not_move():
    life = Lifecycle(WORKFLOW)
    model = CaseModel(1, "candidate", [Violation("duty.relative", {"case": 1}), Violation("notice.running")])
    with pytest.raises(RuleViolation) as info:
        life.complete(model, "identification")
    assert info.value.code == "duty.relative" and model.stage == "candidate"
    assert life.complete(CaseModel(2, "candidate"), "identification") == ("candidate", "identified")
    with pytest.raises(RuleViolation) as info:
        life.complete(CaseModel(3, "identified"), "identification")
    assert info.value.code == "stage.not_allowed"
    assert life.machine.models == []
