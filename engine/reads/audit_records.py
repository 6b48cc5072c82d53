"""The other projections against the log: case attributes, notices, objections, pairings, problem links,
accountability outcomes and deadlines closed by steps.

Each table is replayed from the events that write it and compared row by row; every difference
names its case (or notice, or outcome), the row and the seq of the event that recorded it. The
per-case checks (`CaseRecords`) run inside the steps' stream (engine.reads.audit_steps), one case in
memory at a time; attributes, problem links and outcomes are each one streamed query of their own.
What an event of an older home did not record (no `attrs_digest`, no `notice_digest`) sets no
expectation.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterator

from sqlalchemy import and_, select, union_all

from engine.adapters import tables as t
from engine.domain.record_digests import attrs_digest, notice_digest, text_digest
from engine.reads.audit_canonical import stream_rows
from engine.reads.audit_damage import Damage, found

e = t.audit_events
# The events the per-case checks read, beside the steps (audit_steps._EVENTS' other actions).
OBJECTION_ACTIONS = ("objection_filed", "objection_resolved")
STEP_REASONS = ("step:", "procedure:")          # deadline closings only a step's own transaction writes

PAIRINGS = (select(t.pairings.c.case_id, t.pairings.c.kind, t.persons.c.code, t.pairings.c.start_date,
                   t.pairings.c.end_date).join(t.persons, t.persons.c.id == t.pairings.c.person_id)
            .order_by(t.pairings.c.case_id, t.pairings.c.id))
OBJECTIONS = (select(t.objections.c.case_id, t.objections.c.id, t.objections.c.notice_id, t.objections.c.objector,
                     t.objections.c.content, t.objections.c.filed_on, t.objections.c.resolution,
                     t.objections.c.resolution_reason, t.objections.c.resolved_on,
                     t.objections.c.resolution_verifiers, t.objections.c.resolution_evidence_id)
              .order_by(t.objections.c.case_id, t.objections.c.id))
_d = t.deadlines.c
CLOSED = (select(_d.case_id, _d.id, _d.rule, _d.status, _d.closed_at, _d.closed_reason, _d.procedure_id, _d.met_on)
          .where(_d.status != "open", (_d.closed_at.is_(None)) | _d.closed_reason.like("step:%")
                 | _d.closed_reason.like("procedure:%") | (_d.closed_reason == "superseded"))
          .order_by(_d.case_id, _d.id))


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _day(value: Any) -> str | None:
    return None if value is None else str(value)[:10]


# --- per case, inside the steps' stream -----------------------------------------------------------------

class CaseRecords:
    """The checks of one case's pairings, objections and closed deadlines against its events, and the
    notices its steps posted (kept by notice id, compared at the end)."""

    def __init__(self, removals: frozenset[str]):
        self.removals = removals                     # procedures whose completion ends the pairings
        self.notices: dict[int, tuple[str, int, int]] = {}      # notice -> (digest, case, seq)

    def check(self, case_id: int, events: list[tuple], pairings: list, objections: list, closed: list) -> list[Damage]:
        steps = [ev for ev in events if ev[9] == "step"]
        for ev in steps:
            self._note_notice(case_id, ev)
        # a household's first event pairs it too, when its import named its pairing cadre (`pairing`)
        paired = [ev for ev in events if ev[9] == "step" or ev[9] == "case_registered" and (ev[7] or {}).get("pairing")]
        return (_pairings_of(case_id, paired, pairings, self.removals)
                + _objections_of(case_id, [ev for ev in events if ev[9] in OBJECTION_ACTIONS], objections)
                + _closings_of(case_id, steps, closed))

    def _note_notice(self, case_id: int, ev: tuple) -> None:
        detail = ev[7] or {}
        if detail.get("notice_digest") and detail.get("notice_id") is not None:
            self.notices.setdefault(detail["notice_id"], (detail["notice_digest"], case_id, ev[10]))

    def notice_damage(self, conn) -> list[Damage]:
        damage, texts = [], posted_texts(conn)
        with stream_rows(conn, select(t.notices).order_by(t.notices.c.id)) as rows:
            for row in rows:
                notice, recorded = dict(zip(t.notices.c.keys(), row)), self.notices.pop(row[0], None)
                if recorded and notice_digest(notice) != recorded[0]:
                    damage.append(found("notice_changed", "notice", notice=row[0], case=recorded[1], seq=recorded[2]))
                posted = texts.get(row[0])
                if posted and text_digest(notice["rendered"]) != posted[0]:
                    damage.append(found("notice_text_changed", "notice_text", notice=row[0], seq=posted[1]))
        return damage + [found("notice_missing", "notice", notice=n, case=c, seq=s)
                         for n, (_, c, s) in sorted(self.notices.items())]


def posted_texts(conn) -> dict:
    """notice id -> (digest of its text as posted, the seq of the `notice_posted` event), from the
    organisation events (read by the (case_id, case_seq) index: case_id IS NULL)."""
    ae = t.audit_events
    rows = conn.execute(select(ae.c.seq, ae.c.detail).where(ae.c.case_id.is_(None), ae.c.action == "notice_posted"))
    return {(d := _detail(r.detail)).get("notice"): (d.get("text"), r.seq) for r in rows}


def _detail(value) -> dict:
    return (json.loads(value) if isinstance(value, str) else value) or {}


def _pairings_of(case_id: int, steps: list[tuple], rows: list, removals: frozenset[str]) -> list[Damage]:
    """The case's pairings as its steps made them: each pairing step ends those open that it does not keep
    and starts its own, a cadre it names again in the same slot keeping their pairing and the day it began
    (workflows' _pairing_writer); the completion of a removal ends them."""
    expected: list[list] = []                      # [slot, person, start, end, seq]
    for ev in steps:
        detail = ev[7] or {}
        cadres = (detail.get("data") or {}).get("cadres") or detail.get("pairing") if ev[5] != "rejected" else None
        removed = detail.get("procedure") in removals and detail.get("procedure_status") == "completed"
        if cadres or removed:
            day = _day(detail.get("effective_date") or detail.get("pairing_from"))
            named = dict(cadres or {})
            for p in expected:
                if p[3] is None and named.get(p[0]) == p[1]:
                    del named[p[0]]                # kept: still open, since the day it began
                else:
                    p[3] = p[3] or day
            expected += [[slot, code, day, None, ev[10]] for slot, code in named.items()]
    held = Counter((r[1], r[2], _day(r[3]), _day(r[4])) for r in rows)
    damage = []
    for slot, code, start, end, seq in expected:
        if held[(slot, code, start, end)] > 0:
            held[(slot, code, start, end)] -= 1
        else:
            damage.append(found("pairing_missing", "case_pairing", case=case_id, slot=slot, person=code, seq=seq))
    return damage + [found("pairing_unrecorded", "case_pairing", case=case_id, slot=k[0], person=k[1], seq="-")
                     for k, n in sorted(held.items(), key=str) for _ in range(n)]


def _objections_of(case_id: int, events: list[tuple], rows: list) -> list[Damage]:
    # objection -> [notice, objector, content, filed on, resolution, reason, ruled on, verifiers, seq]: a ruling
    # entered before its day and verifiers were kept (migration 0033) records neither, and its row holds none
    expected: dict[int, list] = {}
    for ev in events:
        detail = ev[7] or {}
        oid = detail.get("objection")
        if ev[9] == "objection_filed":
            expected[oid] = [detail.get("notice"), detail.get("objector"), detail.get("content"),
                             detail.get("filed_on"), None, None, None, [], ev[10], None]
        elif oid in expected:
            expected[oid][4:8] = detail.get("resolution"), ev[6], detail.get("ruled_on"), detail.get("verifiers") or []
            expected[oid][9] = detail.get("ruling_evidence")     # the checks it rests on, as a file (0034)
    damage = []
    for r in rows:
        recorded = expected.pop(r[1], None)
        if recorded is None:
            damage.append(found("objection_unrecorded", "case_objection", case=case_id, objection=r[1], seq="-"))
        elif [r[2], r[3], r[4], _day(r[5]), r[6], r[7], _day(r[8]), as_json(r[9]) or []] != recorded[:8] \
                or r[10] != recorded[9]:
            damage.append(found("objection_changed", "case_objection", case=case_id, objection=r[1], seq=recorded[8]))
    return damage + [found("objection_missing", "case_objection", case=case_id, objection=o, seq=v[8])
                     for o, v in expected.items()]


def _closings_of(case_id: int, steps: list[tuple], closed: list) -> list[Damage]:
    """Each deadline a step closed, against the step event of that moment: the step it names, the
    procedure it names, with the status the engine gives such a closing, and the date it was met by (a
    step entered after the fact) the date that step bears."""
    at: dict[str, list[tuple]] = {}
    for ev in steps:
        at.setdefault(str(ev[11]), []).append(ev)
    damage = []
    for _, did, rule, status, closed_at, reason, procedure_id, met_on in closed:
        moment = at.get(str(closed_at), []) if closed_at is not None else []
        where = {"case": case_id, "deadline": did, "rule": rule}
        if not moment:
            damage.append(found("deadline_closed_unrecorded", "case_deadline", **where))
        elif not any(_closing_matches(ev, status, reason or "", procedure_id)
                     and (met_on is None or str(met_on)[:10] == str((ev[7] or {}).get("effective_date"))[:10])
                     for ev in moment):
            damage.append(found("deadline_closing_changed", "case_deadline_seq", seq=moment[-1][10], **where))
    return damage


def _closing_matches(ev: tuple, status: str, reason: str, procedure_id) -> bool:
    if reason.startswith("step:"):
        return status == "done" and reason == f"step:{ev[2]}"
    if reason.startswith("procedure:"):
        end = (ev[7] or {}).get("procedure_status")
        return (ev[1] == procedure_id and reason == f"procedure:{end}"
                and status == ("done" if end == "completed" else "cancelled"))
    return status == "cancelled"                    # superseded by the deadline this step started


# --- case attributes ---------------------------------------------------------------------------------------

def check_attrs(conn, case_id: int | None = None) -> list[Damage]:
    """Each case's attributes (or case `case_id`'s: its trace) against the digest its last event recorded
    (every case event the engine writes carries one; an older home's last event may not, and then sets no
    expectation). One query: each case beside its last event, found by the unique (case, case_seq) index."""
    query = (select(t.cases.c.id, e.c.seq, e.c.detail["attrs_digest"].as_string(), t.cases.c.attrs)
             .join(e, and_(e.c.case_id == t.cases.c.id, e.c.case_seq == t.cases.c.event_count))
             .where(*([t.cases.c.id == case_id] if case_id is not None else []))
             .order_by(t.cases.c.id))
    with stream_rows(conn, query) as rows:
        return [found("attrs_changed", "case_seq", case=case_id, seq=seq)
                for case_id, seq, digest, attrs in rows if digest is not None and attrs_digest(as_json(attrs)) != digest]


# --- problem links -----------------------------------------------------------------------------------------

def check_problem_links(conn) -> list[Damage]:
    """Each problem item's links to cases against its registering event (the cases it names, its
    finding, the exit or inclusion chains it recorded)."""
    events = (select(e.c.case_id, e.c.seq, e.c.detail).join(t.cases, t.cases.c.id == e.c.case_id)
              .where(t.cases.c.kind == "problem", e.c.action == "case_registered").order_by(e.c.case_id, e.c.seq))
    links = (select(t.problem_links.c.problem_id, t.problem_links.c.case_id, t.problem_links.c.finding,
                    t.problem_links.c.chain).order_by(t.problem_links.c.problem_id, t.problem_links.c.case_id))
    damage: list[Damage] = []
    with stream_rows(conn, events) as recorded, stream_rows(conn, links) as rows:
        held = ByKey(rows)
        for problem_id, seq, detail in recorded:
            damage += _links_of(problem_id, seq, as_json(detail) or {}, held.of(problem_id))
        damage += [found("link_unrecorded", "problem_link", problem=r[0], case=r[1], seq="-") for r in held.rest()]
    return damage


def _links_of(problem_id: int, seq: int, detail: dict, rows: list) -> list[Damage]:
    chains = detail.get("exit_chains") or detail.get("inclusion_chains") or {}     # a wrong exit's; a wrong inclusion's
    expected = {cid: (detail.get("finding"), _canonical(chains.get(str(cid), []))) for cid in detail.get("cases") or []}
    damage = []
    for r in rows:
        want = expected.pop(r[1], None)
        where = {"problem": problem_id, "case": r[1]}
        if want is None:
            damage.append(found("link_unrecorded", "problem_link", seq="-", **where))
        elif want != (r[2], _canonical(as_json(r[3]))):
            damage.append(found("link_changed", "problem_link", seq=seq, **where))
    return damage + [found("link_missing", "problem_link", problem=problem_id, case=c, seq=seq) for c in expected]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


# --- accountability outcomes -------------------------------------------------------------------------------

def check_outcomes(conn) -> list[Damage]:
    """Each accountability outcome against the events that recorded it and its being carried out
    (case events of its problem item, or organisation events), streamed by outcome."""
    outcome_id = e.c.detail["outcome_id"].as_integer()
    recorded = e.c.action.in_(("accountability_recorded", "accountability_done"))
    columns = (outcome_id.label("outcome"), e.c.seq, e.c.action, e.c.case_id, e.c.reason, e.c.detail)
    # Organisation events, and those of problem items: each found by the (case, case_seq) index.
    of_problems = select(*columns).join(t.cases, t.cases.c.id == e.c.case_id).where(t.cases.c.kind == "problem", recorded)
    events = union_all(select(*columns).where(e.c.case_id.is_(None), recorded), of_problems).order_by("outcome", "seq")
    o = t.accountability_outcomes.c
    rows = (select(o.id, t.persons.c.code, o.person_name, o.organisation, o.outcome, o.problem_id, o.reason,
                   o.decided_on, o.due_on, o.done_on).outerjoin(t.persons, t.persons.c.id == o.person_id).order_by(o.id))
    damage: list[Damage] = []
    with stream_rows(conn, events) as recorded, stream_rows(conn, rows) as held:
        stored = ByKey(held)
        for oid, group in grouped(recorded):
            damage += _outcome_of(oid, group, stored.of(oid))
        damage += [found("outcome_unrecorded", "outcome", outcome=r[0], seq="-") for r in stored.rest()]
    return damage


def _outcome_of(oid: int, events: list[tuple], rows: list) -> list[Damage]:
    first = events[0]
    detail = as_json(first[5]) or {}
    expected = [detail.get("person"), detail.get("person_name"), detail.get("organisation"), detail.get("outcome"),
                first[3], first[4] or detail.get("reason"),     # an organisation event keeps it in its detail
                detail.get("decided_on"), detail.get("due_on"), None]
    for ev in events[1:]:
        expected[8] = (as_json(ev[5]) or {}).get("done_on")
    if not rows:
        return [found("outcome_missing", "outcome", outcome=oid, seq=first[1])]
    r = rows[0]
    if [r[1], r[2], r[3], r[4], r[5], r[6], _day(r[7]), _day(r[8]), _day(r[9])] != expected:
        return [found("outcome_changed", "outcome", outcome=oid, seq=first[1])]
    return []


def grouped(rows: Iterator[tuple]) -> Iterator[tuple[Any, list[tuple]]]:
    key, group = None, []
    for row in rows:
        if row[0] != key and group:
            yield key, group
            group = []
        key = row[0]
        group.append(row)
    if group:
        yield key, group


class ByKey:
    """Rows streamed in key order, taken a key at a time; those of keys never asked for are `rest`."""

    def __init__(self, rows: Iterator[tuple]):
        self.rows, self.next, self.skipped = rows, next(rows, None), []

    def of(self, key) -> list[tuple]:
        while self.next is not None and self.next[0] < key:
            self.skipped.append(self.next)
            self.next = next(self.rows, None)
        group = []
        while self.next is not None and self.next[0] == key:
            group.append(self.next)
            self.next = next(self.rows, None)
        return group

    def rest(self) -> list[tuple]:
        return self.skipped + ([self.next] if self.next is not None else []) + list(self.rows)


def check_records(conn) -> list[Damage]:
    """The projections each read by a query of their own: attributes, problem links, outcomes."""
    return check_attrs(conn) + check_problem_links(conn) + check_outcomes(conn)


def removal_procedures(config) -> frozenset[str]:
    """The procedures whose completion ends a household's pairings (effect `record_removal`)."""
    return frozenset(name for wf in config.workflows.values() for name, p in wf.procedures.items()
                     if "record_removal" in p.on_complete)
