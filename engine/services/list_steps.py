"""A village's list in one action with a result per case (issue 12; the web's village list and
`step --each` call it): every case is tried as a dry run (the same `can_proceed` answer as
`case next`); the ready ones are done in one `perform_step` call (one meeting, one notice, one
batch id on every event); the others are refused with every rule they do not meet."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.cases import StepInput
from engine.domain.errors import JingzhunError
from engine.reads.queries import check_step, render_violation
from engine.services.procedures import StepOutcome, perform_step


@dataclass
class ListResult:
    done: dict[int, StepOutcome] = field(default_factory=dict)
    refused: dict[int, list[Any]] = field(default_factory=dict)    # case -> [Violation or JingzhunError]

    def reasons(self, app: App, case_id: int, lang: str = "zh") -> list[str]:
        """Why the case was refused, in the reader's language."""
        texts = []
        for why in self.refused.get(case_id, []):
            texts += [why.render(app.config, lang)] if isinstance(why, JingzhunError) else \
                render_violation(app, why, lang)
        return texts


def perform_list_step(app: App, actor: Actor, procedure: str, step_key: str, case_ids: Sequence[int],
                      inputs: StepInput | None = None) -> ListResult:
    inputs = inputs or StepInput()
    result = ListResult()
    for case_id in dict.fromkeys(case_ids):
        found = check_step(app, actor, case_id, procedure, step_key, inputs=inputs)
        if found:
            result.refused[case_id] = found
    ready = [c for c in dict.fromkeys(case_ids) if c not in result.refused]
    if ready:
        try:
            result.done = {o.case_id: o for o in perform_step(app, actor, procedure, step_key, ready, inputs)}
        except JingzhunError as exc:     # the record moved since the dry run: nothing was written
            result.refused.update({c: [exc] for c in ready})
    return result
