"""Who signed and who answers, against the log: the steps and responsibilities tables replayed.

Every step row must be its own `step` event (same procedure and step, in order: person, role,
decision, reason, effective date, evidence relied on), and the persons named responsible for a
transition must be those its completing event recorded. Both sides are streamed in case order, so
memory holds one case at a time; each difference names its case, procedure and step.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.audit_canonical import stream_rows
from engine.reads.audit_damage import Damage, found

_EVENTS = (select(t.audit_events.c.case_id, t.audit_events.c.procedure_id, t.audit_events.c.step_key,
                  t.audit_events.c.person_code, t.audit_events.c.role, t.audit_events.c.decision,
                  t.audit_events.c.reason, t.audit_events.c.detail, t.audit_events.c.evidence_hashes)
           .where(t.audit_events.c.case_id.is_not(None), t.audit_events.c.action == "step")
           .order_by(t.audit_events.c.case_id, t.audit_events.c.case_seq))
_STEPS = (select(t.steps.c.case_id, t.steps.c.procedure_id, t.steps.c.step_key, t.persons.c.code, t.steps.c.role,
                 t.steps.c.decision, t.steps.c.reason, t.steps.c.effective_date, t.steps.c.evidence_hashes)
          .join(t.persons, t.persons.c.id == t.steps.c.person_id).order_by(t.steps.c.case_id, t.steps.c.id))
_NAMED = (select(t.responsibilities.c.case_id, t.responsibilities.c.procedure_id, t.responsibilities.c.type,
                 t.responsibilities.c.person_code, t.responsibilities.c.basis)
          .order_by(t.responsibilities.c.case_id, t.responsibilities.c.id))


def check_steps(conn) -> list[Damage]:
    damage: list[Damage] = []
    with stream_rows(conn, _EVENTS) as events, stream_rows(conn, _STEPS) as steps, \
            stream_rows(conn, _NAMED) as named:
        rows, responsible = _ByCase(steps), _ByCase(named)
        for case_id, recorded in _by_case(events):
            damage += _steps_of(case_id, recorded, rows.of(case_id))
            damage += _responsible_of(case_id, recorded, responsible.of(case_id))
        damage += [found("step_unrecorded", "case_step", case=r[0], procedure=r[1], step=r[2]) for r in rows.rest()]
    return damage


def _steps_of(case_id: int, recorded: list[tuple], rows: list[tuple]) -> list[Damage]:
    queues: dict[tuple, list[tuple]] = {}
    for e in recorded:
        queues.setdefault((e[1], e[2]), []).append(e)
    damage = []
    for r in rows:
        queue = queues.get((r[1], r[2]))
        if not queue:
            damage.append(found("step_unrecorded", "case_step", case=case_id, procedure=r[1], step=r[2]))
        elif _shown(r) != _recorded(queue.pop(0)):
            damage.append(found("step_changed", "case_step", case=case_id, procedure=r[1], step=r[2]))
    damage += [found("step_missing", "case_step", case=case_id, procedure=e[1], step=e[2])
               for queue in queues.values() for e in queue]
    return damage


def _recorded(e: tuple) -> tuple:
    detail = _json(e[7]) or {}
    return (e[3], e[4], e[5], e[6], str(detail.get("effective_date")), _hashes(e[8]))


def _shown(r: tuple) -> tuple:
    return (r[3], r[4], r[5], r[6], str(r[7])[:10], _hashes(r[8]))


def _hashes(value: Any) -> list:
    return [item.get("hash") for item in _json(value) or []]


def _responsible_of(case_id: int, recorded: list[tuple], rows: list[tuple]) -> list[Damage]:
    expected: dict[Any, set] = {}
    for e in recorded:
        detail = _json(e[7]) or {}
        if detail.get("procedure_status") == "completed":
            expected[e[1]] = {(r[0], r[1], r[5]) for r in detail.get("responsibility") or []}
    held: dict[Any, set] = {}
    for r in rows:
        held.setdefault(r[1], set()).add((r[2], r[3], r[4]))
    return [found("responsible_changed", "case_procedure", case=case_id, procedure=p)
            for p in sorted(set(expected) | set(held), key=str) if expected.get(p, set()) != held.get(p, set())]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _by_case(rows: Iterator[tuple]) -> Iterator[tuple[int, list[tuple]]]:
    """(case, its rows) of rows streamed in case order."""
    case, group = None, []
    for row in rows:
        if row[0] != case:
            if group:
                yield case, group
            case, group = row[0], []
        group.append(row)
    if group:
        yield case, group


class _ByCase:
    """Rows streamed in case order, taken a case at a time; those of cases never asked for are `rest`."""

    def __init__(self, rows: Iterator[tuple]):
        self.rows, self.next, self.skipped = rows, next(rows, None), []

    def of(self, case_id: int) -> list[tuple]:
        while self.next is not None and self.next[0] < case_id:
            self.skipped.append(self.next)
            self.next = next(self.rows, None)
        group = []
        while self.next is not None and self.next[0] == case_id:
            group.append(self.next)
            self.next = next(self.rows, None)
        return group

    def rest(self) -> list[tuple]:
        return self.skipped + ([self.next] if self.next is not None else []) + list(self.rows)
