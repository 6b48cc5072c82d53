"""A village's list in one action with a result per case (issue 12; the web's village list and
`step --each` call it): every case is tried as a dry run (the same rules, in the same order, as
`check_step` and `case next`); the ready ones are done in one `perform_step` call (one meeting, one
notice, one batch id on every event); the others are refused with every rule they do not meet.

The dry run reads the whole list at once (one statement per table, as a step does), not one case at
a time: a list of 1,000 households costs a handful of statements, not thousands."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy import bindparam, func, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.repository import SqlCaseRepository
from engine.domain.auth import Actor
from engine.domain.cases import SIGNING_TYPES, CaseRow, StepInput
from engine.domain.errors import BadInput, JingzhunError, NotFound
from engine.domain.guards import Violation, default_as_of
from engine.reads.queries import render_violation
from engine.services.guards import can_proceed
from engine.services.org import require_reader
from engine.services.procedures import StepOutcome, perform_step

# The day each case's latest step in force was entered (repository.last_recorded_on, for a list).
_LAST_RECORDED = select(t.steps.c.case_id, t.steps.c.recorded_at).where(t.steps.c.id.in_(
    select(func.max(t.steps.c.id)).where(t.steps.c.case_id.in_(bindparam("ids", expanding=True)),
                                         t.steps.c.voided_at.is_(None)).group_by(t.steps.c.case_id)))


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
    ids = list(dict.fromkeys(case_ids))
    result = ListResult(refused={c: found for c, found in dry_run(app, actor, procedure, step_key, ids, inputs).items()
                                 if found})
    ready = [c for c in ids if c not in result.refused]
    if ready:
        try:
            result.done = {o.case_id: o for o in perform_step(app, actor, procedure, step_key, ready, inputs)}
        except JingzhunError as exc:     # the record moved since the dry run: nothing was written
            result.refused.update({c: [exc] for c in ready})
    return result


def dry_run(app: App, actor: Actor, procedure: str, step_key: str, case_ids: list[int],
            inputs: StepInput) -> dict[int, list[Violation]]:
    """`check_step` of every case of the list (what would refuse each), reading the list at once. An
    unknown case, one outside the reader's jurisdiction or an unknown procedure or step is raised,
    for the first case in the list that has it, as `check_step` raises it."""
    with app.engine.connect() as conn:
        repo = SqlCaseRepository(conn)
        cases = _readable(app, repo, actor, case_ids)
        steps = {c: _step_of(app, cases[c], procedure, step_key) for c in case_ids}
        facts = {}
        for kind in dict.fromkeys(c.kind for c in cases.values()):
            proc_def, step = next(steps[c] for c in case_ids if cases[c].kind == kind)
            facts.update(repo.facts([c for c in cases.values() if c.kind == kind], proc_def.evidence_types(),
                                    actor.person_id, step.type in SIGNING_TYPES))
        today = app.clock.today()
        if inputs.date is None:
            _last_recorded(conn, facts, today)
        return {c: can_proceed(app, conn, actor, facts[c], procedure, steps[c][1],
                               inputs.date or default_as_of(facts[c], today), inputs).violations
                for c in case_ids}


def _readable(app: App, repo: SqlCaseRepository, actor: Actor, case_ids: list[int]) -> dict[int, CaseRow]:
    try:
        found = repo.cases(case_ids)
    except NotFound:      # which one, as the dry run of each case in turn says it
        found = None
    cases = {}
    for c in case_ids:
        cases[c] = found[c] if found is not None else repo.cases([c])[c]
        require_reader(app, actor, cases[c].region_code)
    return cases


def _step_of(app: App, case: CaseRow, procedure: str, step_key: str):
    known = app.config.workflows[case.kind].procedures
    proc_def = known.get(procedure)
    if proc_def is None:
        raise BadInput("procedure.unknown", procedure=procedure, known=", ".join(known))
    try:
        return proc_def, proc_def.step(step_key)
    except KeyError:
        raise BadInput("step.unknown", procedure=procedure, step=step_key,
                       known=", ".join(s.key for s in proc_def.steps)) from None


def _last_recorded(conn, facts: dict, today) -> None:
    """`last_recorded_on` of the cases whose date of judgement depends on it (a back-dated record)."""
    wanted = [c for c, f in facts.items() if f.case.last_step_on is not None and f.case.last_step_on < today]
    for start in range(0, len(wanted), 500):
        for case_id, at in conn.execute(_LAST_RECORDED, {"ids": wanted[start:start + 500]}):
            facts[case_id].last_recorded_on = at.date()
