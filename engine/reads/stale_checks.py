"""Which households' held check (两不愁 or housing or water) is too old for their next step: the step's own
checks judge it (the exit standard's `check_stale`: recorded before the earliest day the exit accepts),
as the village's list says it. A village's evidence sheet records this year's visit over such an item."""
from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.reads.queries import judged_at_step
from engine.services.case_actions import step_relying_on
from engine.services.org import BATCH

# The failures a step's check reports for an item older than it accepts (its params: type, date, since): the
# proposal's, and every step's after it, the county's approval too (exit_still_current's words, with the steps
# replacing it voids)
STALE = ("check_stale", "exit_check_stale")


def stale_for_next_step(app: App, conn, actor: Actor, etype: str, case_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Of the cases (those holding an item of `etype`), those whose next step's checks, judged today as
    the step would judge them, find that item older than they accept: case -> {date: when it was
    recorded, since: the earliest day the step accepts, relied: the step of the open procedure that relied
    on the item, if one did (replacing it voids that step and those after: the household's page)}. Only cases waiting at a step of a procedure
    that uses the type are judged (a few a village: those in its exit campaign)."""
    c = t.cases.c
    waiting: dict[tuple[str, str], list[int]] = {}
    ids = list(case_ids)
    for i in range(0, len(ids), BATCH):
        for r in conn.execute(select(c.id, c.kind, c.pending_procedure, c.pending_step).where(
                c.id.in_(ids[i:i + BATCH]), c.pending_step.is_not(None))):
            workflow = app.config.workflows.get(r.kind)
            proc = workflow.procedures.get(r.pending_procedure) if workflow else None
            if proc is not None and etype in proc.evidence_types() and r.pending_step in {s.key for s in proc.steps}:
                waiting.setdefault((r.kind, r.pending_procedure, r.pending_step), []).append(r.id)
    found: dict[int, dict[str, Any]] = {}
    if not waiting:
        return found
    for (kind, procedure, step_key), group in waiting.items():
        for case_id, facts, verdict in judged_at_step(app, conn, actor, kind, procedure, step_key, group):
            for v in verdict.violations:
                for code, params in (v.params.get("failures") or []) if v.code.startswith("check.") else []:
                    if code in STALE and params.get("type") == etype:
                        held = facts.evidence.get(etype)
                        found[case_id] = {"date": params.get("date"), "since": params.get("since"),
                                          "relied": step_relying_on(facts.open_proc, held.id) if held else None}
    return found
