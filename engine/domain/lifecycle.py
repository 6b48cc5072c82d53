"""One shared `transitions` machine per workflow definition.

A case is attached to the machine only while a command works on it and detached afterwards:
binding every case to a machine costs O(N^2) in the number of models.

Every procedure's transition is guarded: its condition asks the case model for the unmet conditions
of the completing step (what `can_proceed` found), so `may_<procedure>()` answers "may it move now?"
and a transition with a violation does not fire.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Sequence, TYPE_CHECKING

from transitions import Machine, MachineError

from engine.domain.errors import RuleViolation

if TYPE_CHECKING:      # the configuration's models (pydantic) are loaded only where used
    from config import WorkflowDef

REJECT = "reject_"


class CaseModel:
    """What the machine sees of a case: its stage, and what still blocks the completing step."""

    def __init__(self, case_id: int, stage: str, blocked: Sequence[Any] = ()):
        self.case_id = case_id
        self.stage = stage
        self.blocked = list(blocked)   # the completing step's violations (engine.domain.guards.Violation)

    def step_allowed(self, event=None) -> bool:
        """The transitions' condition: the step that completes the procedure meets every rule."""
        return not self.blocked


class Lifecycle:
    def __init__(self, workflow: WorkflowDef):
        self.workflow = workflow
        transitions = [
            {"trigger": name, "source": list(proc.sources), "dest": proc.to,
             "conditions": "step_allowed"}
            for name, proc in workflow.procedures.items()
        ] + [
            # A rejection that sends the case back (a rectification found wanting) is a move too.
            {"trigger": REJECT + name, "source": list(proc.sources), "dest": proc.reject_to,
             "conditions": "step_allowed"}
            for name, proc in workflow.procedures.items() if proc.reject_to
        ]
        self.machine = Machine(model=None, states=list(workflow.stages), initial=workflow.initial,
                               transitions=transitions, auto_transitions=False,
                               model_attribute="stage", send_event=True,
                               ignore_invalid_triggers=False)

    def procedures_from(self, stage: str) -> list[str]:
        return [name for name in self.machine.get_triggers(stage) if not name.startswith(REJECT)]

    def reject(self, model: CaseModel, procedure: str) -> tuple[str, str]:
        """A rejected procedure with `reject_to` moves the case back; returns (from, to)."""
        return self.complete(model, REJECT + procedure)

    @contextmanager
    def attached(self, model: CaseModel) -> Iterator[CaseModel]:
        self.machine.add_model(model, initial=model.stage)
        try:
            yield model
        finally:
            self.machine.remove_model(model)

    def may(self, model: CaseModel, procedure: str) -> bool:
        """Whether the procedure's transition may fire on the case now (its guard, `may_<procedure>()`)."""
        with self.attached(model):
            return getattr(model, "may_" + procedure)()

    def complete(self, model: CaseModel, procedure: str) -> tuple[str, str]:
        """Fire the procedure's transition; returns (from, to). Refuses a move the workflow forbids,
        or one its guard stops (then with the first violation)."""
        before = model.stage
        with self.attached(model):
            try:
                moved = model.trigger(procedure)
            except MachineError:
                raise RuleViolation("stage.not_allowed", procedure=procedure, stage=before,
                                    stage_kind=self.workflow.kind) from None
        if not moved:
            for v in model.blocked:
                raise v.error()
            raise RuleViolation("stage.not_allowed", procedure=procedure, stage=before, stage_kind=self.workflow.kind)
        return before, model.stage
