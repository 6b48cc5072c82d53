"""Who signed and who answers, against the log: the steps and responsibilities tables replayed.

Every step row must be its own `step` event (same procedure and step, in order: person, role,
decision, reason, effective date, evidence relied on), voided exactly when an event of its case
recorded voiding it (`voided_steps`: evidence replaced, a member's facts changed), and the persons
named responsible for a transition must be those its completing event recorded. Both sides are
streamed in case order, so
memory holds one case at a time; each difference names its case, procedure and step. The same
stream checks the pairings, objections and deadline closings of each case (audit_records).
"""
from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, select

from engine.adapters import tables as t
from engine.reads.audit_canonical import stream_rows
from engine.reads.audit_damage import Damage, found
from engine.reads.audit_records import (CLOSED, OBJECTION_ACTIONS, OBJECTIONS, PAIRINGS, ByKey, CaseRecords,
                                        as_json, grouped)

_EVENTS = (select(t.audit_events.c.case_id, t.audit_events.c.procedure_id, t.audit_events.c.step_key,
                  t.audit_events.c.person_code, t.audit_events.c.role, t.audit_events.c.decision,
                  t.audit_events.c.reason, t.audit_events.c.detail, t.audit_events.c.evidence_hashes,
                  t.audit_events.c.action, t.audit_events.c.seq, t.audit_events.c.at, t.audit_events.c.person_name)
           .where(t.audit_events.c.case_id.is_not(None),
                  t.audit_events.c.action.in_(("step", *OBJECTION_ACTIONS))
                  # an event that voided steps (as text: a detail that is not JSON is the chain's to report)
                  | cast(t.audit_events.c.detail, Text).like('%"voided_steps"%')
                  # a household's first event that paired it (an import naming its pairing cadre)
                  | (t.audit_events.c.action == "case_registered") & cast(t.audit_events.c.detail, Text).like('%"pairing"%'))
           .order_by(t.audit_events.c.case_id, t.audit_events.c.case_seq))
_STEPS = (select(t.steps.c.case_id, t.steps.c.procedure_id, t.steps.c.step_key, t.persons.c.code, t.steps.c.role,
                 t.steps.c.decision, t.steps.c.reason, t.steps.c.effective_date, t.steps.c.evidence_hashes,
                 t.steps.c.id, t.steps.c.voided_at, t.persons.c.name)
          .join(t.persons, t.persons.c.id == t.steps.c.person_id).order_by(t.steps.c.case_id, t.steps.c.id))
_NAMED = (select(t.responsibilities.c.case_id, t.responsibilities.c.procedure_id, t.responsibilities.c.type,
                 t.responsibilities.c.person_code, t.responsibilities.c.basis)
          .order_by(t.responsibilities.c.case_id, t.responsibilities.c.id))


def check_steps(conn, removals: frozenset[str] = frozenset()) -> list[Damage]:
    """Steps and responsibilities, and beside them (audit_records) pairings, objections, deadlines
    closed by steps and the notices the steps posted; `removals`: the procedures ending pairings."""
    damage: list[Damage] = []
    records = CaseRecords(removals)
    tables = (_STEPS, _NAMED, PAIRINGS, OBJECTIONS, CLOSED)
    with stream_rows(conn, _EVENTS) as events, ExitStack() as stack:
        steps, named, pairings, objections, closed = [ByKey(stack.enter_context(stream_rows(conn, q))) for q in tables]
        for case_id, group in grouped(events):
            group = [(*ev[:7], as_json(ev[7]), *ev[8:]) for ev in group]
            recorded = [ev for ev in group if ev[9] == "step"]
            damage += _steps_of(case_id, recorded, steps.of(case_id), _voided(group))
            damage += _responsible_of(case_id, recorded, named.of(case_id))
            damage += records.check(case_id, group, pairings.of(case_id), objections.of(case_id), closed.of(case_id))
        damage += [found("step_unrecorded", "case_step", case=r[0], procedure=r[1], step=r[2]) for r in steps.rest()]
        damage += [found("responsible_changed", "case_procedure", case=r[0], procedure=r[1])
                   for r in dict.fromkeys((r[0], r[1]) for r in named.rest())]
        damage += _unrecorded(pairings.rest(), objections.rest(), closed.rest(), records)
    return _events_deleted(conn, damage) + records.notice_damage(conn)


# The same, of one case or of some (by each table's case index; one case's compiled once and kept).
_OF_CASES = {many: [q.where(q.selected_columns[0].in_(bindparam("cases", expanding=True)) if many
                            else q.selected_columns[0] == bindparam("cases"))
                    for q in (_EVENTS, _STEPS, _NAMED, PAIRINGS, OBJECTIONS, CLOSED)] for many in (False, True)}


def check_case_steps(conn, case_ids: int | list[int], removals: frozenset[str] = frozenset()) -> list[Damage]:
    """What check_steps checks of one case, or of a few (on every view of a case: engine.reads.case_integrity;
    the cases a person's trace names: engine.reads.record_warnings), read by each table's case index: the
    steps, voidings and responsibilities, pairings, objections and the deadlines the steps closed, against
    the cases' events (the notices' texts are checked by `audit verify`)."""
    cases = sorted({case_ids} if isinstance(case_ids, int) else set(case_ids))
    if not cases:
        return []
    events: dict[int, list] = {}
    (of_events, *of_rows), wanted = _OF_CASES[len(cases) > 1], {"cases": cases if len(cases) > 1 else cases[0]}
    for ev in conn.execute(of_events, wanted):
        events.setdefault(ev[0], []).append((*ev[:7], as_json(ev[7]), *ev[8:]))
    rows: list[dict[int, list]] = []
    for query in of_rows:
        by_case: dict[int, list] = {}
        for r in conn.execute(query, wanted):
            by_case.setdefault(r[0], []).append(tuple(r))
        rows.append(by_case)
    records, damage = CaseRecords(removals), []
    for case_id in cases:
        group = events.get(case_id, [])
        recorded = [ev for ev in group if ev[9] == "step"]
        of_case = [by_case.get(case_id, []) for by_case in rows]
        damage += _steps_of(case_id, recorded, of_case[0], _voided(group))
        damage += _responsible_of(case_id, recorded, of_case[1])
        damage += records.check(case_id, group, *of_case[2:])
    return _events_deleted(conn, damage)


_DELETED = {"step_unrecorded": "step_event_deleted", "deadline_closing_changed": "deadline_closing_event_deleted",
            "deadline_closed_unrecorded": "deadline_closing_event_deleted"}


def _events_deleted(conn, damage: list[Damage]) -> list[Damage]:
    """A step without its event, or a deadline closed by a step whose event is not there, in a case whose
    head records more events than the log holds: the event was deleted from the log (neither the step nor
    the deadline was written into the database directly): said so."""
    short: dict[int, bool] = {}             # case -> its head records more events than the log has
    for d in damage:
        case_id = dict(d.params).get("case")
        if d.code in _DELETED and case_id not in short:
            recorded = conn.execute(select(t.cases.c.event_count).where(t.cases.c.id == case_id)).scalar()
            held = conn.execute(select(func.count()).select_from(t.audit_events)
                                .where(t.audit_events.c.case_id == case_id)).scalar()
            short[case_id] = (recorded or 0) > held
    return [_deleted(d) if d.code in _DELETED and short[dict(d.params)["case"]] else d for d in damage]


def _deleted(d: Damage) -> Damage:
    """The finding said as its event deleted from the log (each `found` literal: the catalogue's test reads
    them from the source)."""
    if d.code == "step_unrecorded":
        return found("step_unrecorded", "case_step", "step_event_deleted", **dict(d.params))
    if d.code == "deadline_closed_unrecorded":
        return found("deadline_closed_unrecorded", "case_deadline", "deadline_closing_event_deleted", **dict(d.params))
    return found("deadline_closing_changed", "case_deadline_seq", "deadline_closing_event_deleted", **dict(d.params))


def _unrecorded(pairings: list, objections: list, closed: list, records: CaseRecords) -> list[Damage]:
    """The rows of cases without any such event: none of them was written by the engine."""
    rows: dict[int, dict[str, list]] = {}
    for kind, group in (("p", pairings), ("o", objections), ("c", closed)):
        for r in group:
            rows.setdefault(r[0], {"p": [], "o": [], "c": []})[kind].append(r)
    return [d for case_id, by in sorted(rows.items()) for d in records.check(case_id, [], by["p"], by["o"], by["c"])]



def _voided(events: list[tuple]) -> set[int]:
    """The step rows the case's events recorded voiding (by row id)."""
    return {v.get("id") for ev in events if ev[9] != "step"
            for v in ((ev[7] or {}).get("voided_steps") or []) if isinstance(v, dict)}


def _steps_of(case_id: int, recorded: list[tuple], rows: list[tuple], voided: set[int]) -> list[Damage]:
    queues: dict[tuple, list[tuple]] = {}
    for e in recorded:
        queues.setdefault((e[1], e[2]), []).append(e)
    damage = []
    for r in rows:
        queue = queues.get((r[1], r[2]))
        if not queue:
            damage.append(found("step_unrecorded", "case_step", case=case_id, procedure=r[1], step=r[2]))
        elif (changes := _changes(_recorded(event := queue.pop(0)), _shown(r), event[12], r[11])):
            damage.append(found("step_changed", "case_step", "step_changed_fields", case=case_id, procedure=r[1],
                                step=r[2], changes=changes))
        elif r[10] is not None and r[9] not in voided:     # voided behind the engine: no longer counted
            damage.append(found("step_void_changed", "case_step", "step_voided_unrecorded",
                                case=case_id, procedure=r[1], step=r[2]))
        elif r[10] is None and r[9] in voided:             # its voiding undone: counted again
            damage.append(found("step_void_changed", "case_step", "step_unvoided", case=case_id, procedure=r[1],
                                step=r[2]))
    damage += [found("step_missing", "case_step", case=case_id, procedure=e[1], step=e[2])
               for queue in queues.values() for e in queue]
    return damage


STEP_FIELDS = ("person", "role", "decision", "reason", "effective_date", "evidence")


def _changes(recorded: tuple, shown: tuple, recorded_name: str, shown_name: str) -> tuple:
    """(field, as the event recorded it, as the row says now) of each field of a step row that differs from
    its event: a person by code and name (cadres', as every page shows them), the evidence by count."""
    changes = []
    for field, was, now in zip(STEP_FIELDS, recorded, shown):
        if was == now:
            continue
        if field == "person":
            was, now = f"{was} {recorded_name}", f"{now} {shown_name}"
        elif field == "evidence":
            was, now = len(was), len(now)
        changes.append((field, "-" if was in (None, "") else str(was), "-" if now in (None, "") else str(now)))
    return tuple(changes)


def _recorded(e: tuple) -> tuple:
    detail = as_json(e[7]) or {}
    return (e[3], e[4], e[5], e[6], str(detail.get("effective_date")), _hashes(e[8]))


def _shown(r: tuple) -> tuple:
    return (r[3], r[4], r[5], r[6], str(r[7])[:10], _hashes(r[8]))


def _hashes(value: Any) -> list:
    return [item.get("hash") for item in as_json(value) or []]


def _responsible_of(case_id: int, recorded: list[tuple], rows: list[tuple]) -> list[Damage]:
    expected: dict[Any, set] = {}
    for e in recorded:
        detail = as_json(e[7]) or {}
        if detail.get("procedure_status") == "completed":
            expected[e[1]] = {(r[0], r[1], r[5]) for r in detail.get("responsibility") or []}
    held: dict[Any, set] = {}
    for r in rows:
        held.setdefault(r[1], set()).add((r[2], r[3], r[4]))
    return [found("responsible_changed", "case_procedure", case=case_id, procedure=p)
            for p in sorted(set(expected) | set(held), key=str) if expected.get(p, set()) != held.get(p, set())]
