"""Proving the record was not altered: re-compute every case's hash chain and check the evidence.

Streams the audit log in (case, case_seq) order beside the cases table, so memory does not grow
with the number of events. Each damage found names its exact position and kind.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import select

from . import tables as t
from .app import App
from .audit import event_hash
from .evidence import content_hash

BATCH = 5000


@dataclass(frozen=True)
class Damage:
    kind: str          # changed, chain_broken, missing, order, case_head, stage_unaccounted, evidence_*
    where: str         # e.g. "case 12, event 5 (seq 1234)"
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.detail}"


@dataclass
class Report:
    events: int = 0
    cases: int = 0
    evidence: int = 0
    damage: list[Damage] | None = None

    @property
    def intact(self) -> bool:
        return not self.damage


def verify(app: App, against: tuple[int, str] | None = None) -> Report:
    report = Report(damage=[])
    report.damage.extend(verify_checkpoints(app, against))
    recorded = _Recorded()
    with app.engine.connect() as conn:
        initial = {kind: wf.initial for kind, wf in app.config.workflows.items()}
        cases = _stream(conn, select(t.cases.c.id, t.cases.c.kind, t.cases.c.stage, t.cases.c.event_count,
                                     t.cases.c.last_event_hash).order_by(t.cases.c.id))
        events = _stream(conn, select(t.audit_events).where(t.audit_events.c.case_id.is_not(None))
                         .order_by(t.audit_events.c.case_id, t.audit_events.c.case_seq))
        pending = next(events, None)
        for case in cases:
            report.cases += 1
            chain = []
            while pending is not None and pending.case_id <= case.id:
                recorded.add(conn, pending, report)
                if pending.case_id < case.id:
                    report.damage.append(Damage("orphan_event", _where(pending), "event of a case that does not exist"))
                else:
                    chain.append(pending)
                pending = next(events, None)
            report.events += len(chain)
            report.damage.extend(_check_chain(case, chain, initial.get(case.kind)))
        while pending is not None:
            recorded.add(conn, pending, report)
            report.damage.append(Damage("orphan_event", _where(pending), "event of a case that does not exist"))
            pending = next(events, None)
        for event in _stream(conn, select(t.audit_events).where(t.audit_events.c.case_id.is_(None))
                             .order_by(t.audit_events.c.seq)):
            report.events += 1
            recorded.add(conn, event, report)
            if event_hash(event._mapping) != event.hash:
                report.damage.append(Damage("changed", f"organisation event (seq {event.seq})",
                                            "its fields no longer match its hash"))
        recorded.flush(conn, report)
        report.damage.extend(_check_evidence(app, conn, report))
    return report


class _Recorded:
    """The evidence hashes events recorded, compared with the evidence rows in batches as the log streams."""

    def __init__(self) -> None:
        self.pending: dict[int, str] = {}

    def add(self, conn, event, report: Report) -> None:
        for ref in event.evidence_hashes or []:
            self.pending[ref["id"]] = ref["hash"]
        if len(self.pending) >= BATCH:
            self.flush(conn, report)

    def flush(self, conn, report: Report) -> None:
        report.damage.extend(_compare_recorded(conn, self.pending))
        self.pending = {}


def _stream(conn, statement) -> Iterator:
    # A statement option: set on the connection it would also turn later INSERTs into cursors.
    result = conn.execute(statement.execution_options(yield_per=BATCH))
    for row in result:
        yield row


def _where(event) -> str:
    return f"case {event.case_id}, event {event.case_seq} (seq {event.seq})"


def _check_chain(case, chain: list, initial: str | None) -> list[Damage]:
    damage: list[Damage] = []
    previous_hash, previous_seq, stage, expected = None, 0, initial, 0
    for event in chain:
        expected += 1
        if event.case_seq != expected:
            damage.append(Damage("missing", _where(event), f"event {expected} of case {case.id} is not there"))
            expected = event.case_seq
        if event_hash(event._mapping) != event.hash:
            damage.append(Damage("changed", _where(event), "its fields no longer match its hash"))
        if event.prev_hash != previous_hash:
            damage.append(Damage("chain_broken", _where(event),
                                 "it does not follow the case's previous event (inserted, removed or rewritten)"))
        if event.seq <= previous_seq:
            damage.append(Damage("order", _where(event), "it comes before the case's previous event in the log"))
        previous_hash, previous_seq = event.hash, event.seq
        if event.to_stage:
            stage = event.to_stage
    if (case.event_count or 0) != len(chain) or case.last_event_hash != previous_hash:
        damage.append(Damage("case_head", f"case {case.id}",
                             f"the case says {case.event_count} events ending {str(case.last_event_hash)[:12]}, "
                             f"the log has {len(chain)} ending {str(previous_hash)[:12]}"))
    if stage is not None and case.stage != stage:
        damage.append(Damage("stage_unaccounted", f"case {case.id}",
                             f"the case is {case.stage!r} but its events lead to {stage!r}"))
    return damage


def _check_evidence(app: App, conn, report: Report) -> list[Damage]:
    damage: list[Damage] = []
    for row in _stream(conn, select(t.evidence).order_by(t.evidence.c.id)):
        report.evidence += 1
        where = f"case {row.case_id}, evidence {row.id} ({row.type})"
        if content_hash(row.type, row.fields, row.file_sha256) != row.content_hash:
            damage.append(Damage("evidence_changed", where, "its fields no longer match its hash"))
        if row.file_sha256:
            path = app.evidence.path_for(row.file_sha256)
            if not path.is_file():
                damage.append(Damage("evidence_file_missing", where, f"file {row.file_sha256[:12]} is gone"))
            elif not app.evidence.intact(row.file_sha256):
                damage.append(Damage("evidence_file_changed", where, f"file {row.file_sha256[:12]} was altered"))
    return damage


def _compare_recorded(conn, recorded: dict[int, str]) -> list[Damage]:
    if not recorded:
        return []
    rows = {r.id: r for r in conn.execute(select(t.evidence.c.id, t.evidence.c.case_id, t.evidence.c.type,
                                                 t.evidence.c.content_hash).where(t.evidence.c.id.in_(list(recorded))))}
    damage = []
    for eid, expected in recorded.items():
        row = rows.get(eid)
        if row is None:
            damage.append(Damage("evidence_missing", f"evidence {eid}", "recorded by an event, gone from the database"))
        elif row.content_hash != expected:
            damage.append(Damage("evidence_changed", f"case {row.case_id}, evidence {eid} ({row.type})",
                                 "it is not what the audit log recorded"))
    return damage


# --- checkpoints: every event, in global order, chained into a publishable head ---------------

def _link(previous: str | None, event_hash_: str) -> str:
    return hashlib.sha256(((previous or "") + event_hash_).encode()).hexdigest()


def seal(app: App, actor) -> dict | None:
    """Chain all events since the last checkpoint into a new one; None when there is nothing new."""
    from .org import require_admin
    from .regions import ROOT
    require_admin(app, actor, ROOT, "audit seal")
    with app.transaction() as conn:
        last = conn.execute(select(t.audit_checkpoints).order_by(t.audit_checkpoints.c.upto_seq.desc())
                            .limit(1)).first()
        running, upto, count = (last.hash if last else None), (last.upto_seq if last else 0), 0
        for event in _stream(conn, select(t.audit_events.c.seq, t.audit_events.c.hash)
                             .where(t.audit_events.c.seq > upto).order_by(t.audit_events.c.seq)):
            running, upto, count = _link(running, event.hash), event.seq, count + 1
        if count == 0:
            return None
        row = {"upto_seq": upto, "events": count, "prev_hash": last.hash if last else None, "hash": running,
               "sealed_at": app.clock.now(), "sealed_by": actor.code}
        conn.execute(t.audit_checkpoints.insert(), row)
    return row


def head(app: App) -> tuple[int, str] | None:
    with app.engine.connect() as conn:
        last = conn.execute(select(t.audit_checkpoints.c.upto_seq, t.audit_checkpoints.c.hash)
                            .order_by(t.audit_checkpoints.c.upto_seq.desc()).limit(1)).first()
    return (last.upto_seq, last.hash) if last else None


def verify_checkpoints(app: App, against: tuple[int, str] | None = None) -> list[Damage]:
    """Re-chain every event in global order and compare with each checkpoint and a published head."""
    damage: list[Damage] = []
    with app.engine.connect() as conn:
        checkpoints = list(conn.execute(select(t.audit_checkpoints).order_by(t.audit_checkpoints.c.upto_seq)))
        events = _stream(conn, select(t.audit_events.c.seq, t.audit_events.c.hash).order_by(t.audit_events.c.seq))
        running, pending, recomputed = None, next(events, None), {}
        for cp in checkpoints:
            count = 0
            while pending is not None and pending.seq <= cp.upto_seq:
                running, count, pending = _link(running, pending.hash), count + 1, next(events, None)
            recomputed[cp.upto_seq] = running
            if running != cp.hash or count != cp.events:
                damage.append(Damage("checkpoint", f"checkpoint up to seq {cp.upto_seq}",
                                     f"the log now chains to {str(running)[:12]} over {count} events; "
                                     f"sealed {cp.hash[:12]} over {cp.events}"))
    if against is not None:
        seq, published = against
        if seq not in recomputed:
            damage.append(Damage("published_head", f"seq {seq}", "no checkpoint ends there any more"))
        elif recomputed[seq] != published:
            damage.append(Damage("published_head", f"seq {seq}",
                                 f"the log chains to {str(recomputed[seq])[:12]}, not the published {published[:12]}"))
    return damage
