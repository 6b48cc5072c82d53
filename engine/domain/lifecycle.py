"""One shared `transitions` machine per workflow definition.

A case is attached to the machine only while a command works on it and detached afterwards:
binding every case to a machine costs O(N^2) in the number of models.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from transitions import Machine, MachineError

from config import WorkflowDef
from engine.domain.errors import RuleViolation

REJECT = "reject_"


class CaseModel:
    """What the machine sees of a case: its stage, and whether the running procedure is done."""

    def __init__(self, case_id: int, stage: str):
        self.case_id = case_id
        self.stage = stage
        self.completed_procedure: str | None = None

    def procedure_completed(self, event) -> bool:
        return self.completed_procedure == event.event.name


class Lifecycle:
    def __init__(self, workflow: WorkflowDef):
        self.workflow = workflow
        transitions = [
            {"trigger": name, "source": list(proc.sources), "dest": proc.to,
             "conditions": "procedure_completed"}
            for name, proc in workflow.procedures.items()
        ] + [
            # A rejection that sends the case back (a rectification found wanting) is a move too.
            {"trigger": REJECT + name, "source": list(proc.sources), "dest": proc.reject_to,
             "conditions": "procedure_completed"}
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

    def complete(self, model: CaseModel, procedure: str) -> tuple[str, str]:
        """Fire the procedure's transition; returns (from, to). Refuses a move the workflow forbids."""
        before = model.stage
        model.completed_procedure = procedure
        with self.attached(model):
            try:
                moved = model.trigger(procedure)
            except MachineError:
                raise RuleViolation("stage.not_allowed", procedure=procedure, stage=before) from None
        model.completed_procedure = None
        if not moved:
            raise RuleViolation("stage.not_allowed", procedure=procedure, stage=before)
        return before, model.stage
