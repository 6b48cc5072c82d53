"""Proving the record was not altered: re-compute every case's hash chain and check the evidence.

Streams the audit log in (case, case_seq) order beside the cases table, so memory does not grow
with the number of events. Each damage found names its exact position and kind.

Speed (issue 3: a million events in under 10 s): the log is read as plain DBAPI tuples straight
from the cursor, not as SQLAlchemy rows, and each row's canonical bytes are built from the tuple
(`Canonical`: the same bytes `audit.canonical` gives for the row read through SQLAlchemy); on
PostgreSQL the checkpoints' pass reads its (seq, hash) pairs as COPY text. A log of PARALLEL_FROM
events or more is checked by forked worker processes, one per usable CPU, each over its own
engine (kept for its next task): one re-chains the checkpoints, the
others take ranges of case ids, and this process checks the evidence meanwhile. The report is
the same, in the same order, as when everything runs in this process: checkpoints, then the cases
in id order (orphan events where their case id falls), organisation events, recorded evidence
hashes that no longer match (once per evidence item), evidence items and files. A field that
cannot be read at all (not JSON, not a time) is reported as the event being changed.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.db import Settings, make_engine
from engine.adapters.keyring import signature_valid
from engine.domain.evidence import content_hash
from engine.reads import audit_canonical as raw
from engine.reads.audit_canonical import BATCH, Canonical, copies, copy_lines, stream_rows
from engine.reads.audit_damage import RANGES_SHOWN, Damage, found, number_ranges
from engine.reads.audit_projections import Organisation, check_guards, check_members
from engine.reads.audit_records import check_attrs, check_records, removal_procedures
from engine.reads.audit_steps import check_case_steps, check_steps
from engine.reads import audit_seal
from engine.reads.audit_seal import head_message, signed_head

__all__ = ["Damage", "Report", "head", "seal", "signed_head", "verify", "verify_case", "verify_checkpoints"]
PARALLEL_FROM = 50_000      # from this many events (by seq) on, cases are checked in parallel processes
CHUNKS_PER_PROCESS = 8      # ranges of case ids per process: small enough to even out the end
MAX_PROCESSES = 8


@dataclass
class Report:
    events: int = 0
    cases: int = 0
    evidence: int = 0
    damage: list[Damage] | None = None
    macs_checked: bool = True      # False: the record has keys but this process holds none (hashes only)
    after_head: int | None = None  # the published head given agrees: the events after it (checked without it)

    @property
    def intact(self) -> bool:
        return not self.damage


@dataclass
class _Part:
    """What one piece of the work found: the checkpoints, a range of cases or the organisation events."""
    events: int = 0
    cases: int = 0
    damage: list[Damage] | None = None
    recorded: list[Damage] | None = None     # recorded evidence hashes that no longer match the evidence


def verify(app: App, against: tuple[int, str] | None = None, processes: int | None = None) -> Report:
    """Check everything; `processes`: at most this many worker processes (default: one per usable
    CPU; 1: all in this process, as is any log under PARALLEL_FROM events)."""
    initial = {kind: wf.initial for kind, wf in app.config.workflows.items()}
    processes = min(_processes() if processes is None else processes, MAX_PROCESSES)
    with app.engine.connect() as conn:
        ranges = _case_ranges(conn, processes)
        macs = Macs.of(app.keyring, conn)
        signers = _signers(app, conn, macs)
        keyed = _macs_checked(conn, macs)
    tasks: list[tuple] = [("checkpoints", against, signers)]
    tasks += [("cases", lo, hi, initial, macs) for lo, hi in ranges]
    tasks += [("organisation", macs), ("members",)]
    tasks += [("steps", removal_procedures(app.config)), ("records",)]
    done = _run_in_processes(app, tasks, processes) if len(ranges) > 1 else None
    if done is None:
        with app.engine.connect() as conn:
            done = [_run(conn, task) for task in tasks], *_check_evidence(app, conn)
    parts, evidence_damage, evidence = done
    report = Report(damage=[], evidence=evidence, macs_checked=keyed)
    recorded: dict[Damage, None] = {}             # one report per evidence item, in the order found
    for part in parts:
        report.events += part.events
        report.cases += part.cases
        report.damage.extend(part.damage)
        recorded.update(dict.fromkeys(part.recorded or []))
    report.damage.extend(recorded)
    report.damage.extend(evidence_damage)
    report.damage = _with_short_cases(report.damage)
    if against is not None and not any(d.kind == "published_head" for d in report.damage):
        with app.engine.connect() as conn:
            report.after_head = conn.execute(select(func.count()).select_from(t.audit_events)
                                             .where(t.audit_events.c.seq > against[0])).scalar()
    return report


def _with_short_cases(damage: list[Damage]) -> list[Damage]:
    """A checkpoint whose range lost events names the cases the remaining record says lost events
    (their head records more than the log holds): which numbers were theirs the log no longer says."""
    short = [dict(d.params)["case"] for d in damage if d.code == "case_head" and d.place == "case"
             and (dict(d.params).get("claimed_count") or 0) > dict(d.params)["count"]]
    if not short:
        return damage
    cases = number_ranges([(c, c) for c in short])
    named = {"checkpoint_deleted": lambda **p: found("checkpoint", "checkpoint", "checkpoint_deleted_cases", **p),
             "checkpoint_numbers_gone": lambda **p: found("checkpoint", "checkpoint", "checkpoint_numbers_gone_cases",
                                                          **p)}
    return [named[d.code](cases=cases, **dict(d.params)) if d.code in named else d for d in damage]


def verify_checkpoints(app: App, against: tuple[int, str] | None = None) -> list[Damage]:
    """Re-chain every event in global order and compare with each checkpoint and a published head."""
    with app.engine.connect() as conn:
        return _check_checkpoints(conn, against).damage


# --- the work, in pieces that can run in this process or in others ---------------------------

def _run(conn, task: tuple) -> _Part:
    kind, *args = task
    if kind == "checkpoints":
        return _check_checkpoints(conn, *args)
    if kind == "cases":
        return _check_cases(conn, *args)
    if kind == "members":
        return _Part(damage=check_guards(conn) + check_members(conn))
    if kind == "steps":
        return _Part(damage=check_steps(conn, *args))
    if kind == "records":
        return _Part(damage=check_records(conn))
    return _check_organisation(conn, *args)


_WORKER_ENGINES: dict[str, object] = {}     # a worker process's own engine, kept for its next tasks


def _run_with_own_engine(settings: Settings, task: tuple) -> _Part:
    """A task in a worker process, over the worker's own engine (made at its first task, its
    connections kept for the next: a verify runs some twenty tasks; the worker's connections end
    with it)."""
    engine = _WORKER_ENGINES.get(settings.db_url)
    if engine is None:
        engine = _WORKER_ENGINES[settings.db_url] = make_engine(settings)
    with engine.connect() as conn:
        return _run(conn, task)


def _processes() -> int:
    """The CPUs this process may use; 1 where forking is unavailable or unsafe here."""
    if ("fork" not in multiprocessing.get_all_start_methods() or sys.platform == "darwin"
            or threading.active_count() > 1):
        return 1       # no fork, or other threads that a forked child could find holding a lock
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _case_ranges(conn, processes: int) -> list[tuple[int | None, int | None]]:
    """Ranges [lo, hi) of case ids, the first and last open-ended; one range for a small log."""
    whole = [(None, None)]
    if processes < 2:
        return whole
    events = conn.execute(select(func.max(t.audit_events.c.seq))).scalar() or 0
    low, high = conn.execute(select(func.min(t.cases.c.id), func.max(t.cases.c.id))).one()
    if events < PARALLEL_FROM or low is None:
        return whole
    count = min(processes * CHUNKS_PER_PROCESS, high - low + 1)
    bounds = sorted({low + (high - low + 1) * i // count for i in range(1, count)})
    return list(zip([None, *bounds], [*bounds, None]))


def _run_in_processes(app: App, tasks: list[tuple], processes: int) -> tuple[list[_Part], list[Damage], int] | None:
    """The tasks' results from forked workers, and the evidence checked here meanwhile; None when
    this system cannot give us a process pool."""
    # The workers inherit this process's memory, its pooled connections too: they never touch
    # those (nor close them: they leave by os._exit) and open their own.
    settings = Settings(app.settings.home, app.engine.url.render_as_string(hide_password=False))
    try:
        pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
    except (OSError, ImportError, NotImplementedError):      # e.g. no working sem_open
        return None
    with pool:
        futures = [pool.submit(_run_with_own_engine, settings, task) for task in tasks]
        with app.engine.connect() as conn:
            evidence_damage, evidence = _check_evidence(app, conn)
        return [f.result() for f in futures], evidence_damage, evidence


# --- the events' MACs ---------------------------------------------------------------------------

@dataclass
class Macs:
    """What an event's MAC must be: made by a key of the record's keyring over the event's hash, for
    every event from the first key's own record on (`since`: the seq of that record, itself found by
    its valid MAC; events before it were written before the home had keys)."""
    ring: object
    since: int

    @classmethod
    def of(cls, ring, conn) -> "Macs | None":
        """None when this process holds no keys (a reader without the key file checks hashes only)."""
        if ring is None:
            return None
        first = 0
        for seq, digest, key_id, mac in conn.execute(
                select(t.audit_events.c.seq, t.audit_events.c.hash, t.audit_events.c.key_id, t.audit_events.c.mac)
                .where(t.audit_events.c.case_id.is_(None), t.audit_events.c.action == "record_key_created")
                .order_by(t.audit_events.c.seq)):
            if ring.mac_matches(key_id, digest, mac):
                first = seq
                break
        return cls(ring, first)

    def wrong(self, event: tuple) -> str | None:
        """The kind of damage of a raw event row's MAC, or None when it is right."""
        key_id, mac = event[raw.KEY_ID], event[raw.MAC]
        if mac is None and key_id is None:
            return "unsigned" if event[raw.SEQ] >= self.since else None
        matches = self.ring.mac_matches(key_id, event[raw.HASH], mac)
        return None if matches else ("unknown_key" if matches is None else "forged")


_MAC_DAMAGE = {
    "unsigned": lambda **where: found("unsigned", "case_event", **where),
    "forged": lambda **where: found("forged", "case_event", **where),
    "unknown_key": lambda **where: found("unknown_key", "case_event", **where),
    "organisation_unsigned": lambda **where: found("unsigned", "organisation_event", **where),
    "organisation_forged": lambda **where: found("forged", "organisation_event", **where),
    "organisation_unknown_key": lambda **where: found("unknown_key", "organisation_event", **where),
}


# --- the case chains --------------------------------------------------------------------------

def _case_queries(canonical: Canonical, lo: int | None, hi: int | None) -> tuple:
    """The cases with ids in [lo, hi), and their events in (case, case_seq) order, orphans included."""
    cases = select(t.cases.c.id, t.cases.c.kind, t.cases.c.stage, t.cases.c.event_count,
                   t.cases.c.last_event_hash, t.cases.c.region_code).order_by(t.cases.c.id)
    events = select(*canonical.columns).where(t.audit_events.c.case_id.is_not(None)) \
        .order_by(t.audit_events.c.case_id, t.audit_events.c.case_seq)
    if lo is not None:
        cases, events = cases.where(t.cases.c.id >= lo), events.where(t.audit_events.c.case_id >= lo)
    if hi is not None:
        cases, events = cases.where(t.cases.c.id < hi), events.where(t.audit_events.c.case_id < hi)
    return cases, events


def _close_case(part: _Part, case: tuple, count: int, previous_hash, stage, region=None) -> None:
    """A case's head, stage and region against what its events add up to."""
    case_id, _, case_stage, event_count, last_event_hash, case_region = case
    part.events += count
    if (event_count or 0) != count or last_event_hash != previous_hash:
        part.damage.append(found("case_head", "case", case=case_id, claimed_count=event_count,
                                 claimed=str(last_event_hash)[:12], count=count, found=str(previous_hash)[:12]))
    if stage is not None and case_stage != stage:
        part.damage.append(found("stage_unaccounted", "case", case=case_id, stage=case_stage, led_to=stage))
    if region is not None and case_region != region:
        part.damage.append(found("region_unaccounted", "case", case=case_id, region=case_region, recorded=region))


def _cases_before(part: _Part, cases: Iterator, case, case_id, initial: dict[str, str]):
    """Close the cases before `case_id` (all of them if None), which have no events; the next case."""
    while case is not None and (case_id is None or case[0] < case_id):
        part.cases += 1
        _close_case(part, case, 0, None, initial.get(case[1]))
        case = next(cases, None)
    return case


def _check_cases(conn, lo: int | None, hi: int | None, initial: dict[str, str], macs: "Macs | None" = None) -> _Part:
    """Each case's chain, in case order, with orphan events where they fall; cases with ids in [lo, hi)."""
    part = _Part(damage=[])
    damage = part.damage
    canonical = Canonical(conn.dialect)
    recorded = _Recorded(conn, canonical.decode_json)
    encode, sha256 = canonical.row, hashlib.sha256
    CASE_ID, CASE_SEQ, SEQ, HASH, PREV_HASH, TO_STAGE, EVIDENCE_HASHES, REGION = \
        raw.CASE_ID, raw.CASE_SEQ, raw.SEQ, raw.HASH, raw.PREV_HASH, raw.TO_STAGE, raw.EVIDENCE_HASHES, raw.REGION   # locals
    case_query, event_query = _case_queries(canonical, lo, hi)
    with stream_rows(conn, case_query) as cases, stream_rows(conn, event_query) as events:
        case = next(cases, None)           # the next case not yet reached, or the one being read
        reading, current = False, object()
        previous_hash, previous_seq, stage, expected, count, region = None, 0, None, 0, 0, None
        for event in events:
            case_id = event[CASE_ID]
            if case_id != current:         # the first event of another case (or of an orphan)
                if reading:
                    _close_case(part, case, count, previous_hash, stage, region)
                    case = next(cases, None)
                case = _cases_before(part, cases, case, case_id, initial)
                current = case_id
                reading = case is not None and case[0] == case_id
                if reading:
                    part.cases += 1
                    previous_hash, previous_seq, stage, expected, count = None, 0, initial.get(case[1]), 0, 0
            evidence_hashes = event[EVIDENCE_HASHES]
            if evidence_hashes and evidence_hashes != "[]":
                recorded.add(evidence_hashes, case_id)
            case_seq, seq, digest = event[CASE_SEQ], event[SEQ], event[HASH]
            if not reading:
                damage.append(found("orphan_event", "case_event", case=case_id, case_seq=case_seq, seq=seq))
                continue
            count += 1
            expected += 1
            if case_seq != expected:
                damage.append(found("missing", "case_event", case=case_id, case_seq=case_seq, seq=seq,
                                    expected=expected))
                expected = case_seq
            text = encode(event)
            if text is None or sha256(text).hexdigest() != digest:
                damage.append(found("changed", "case_event", case=case_id, case_seq=case_seq, seq=seq))
            if macs is not None and (kind := macs.wrong(event)):
                damage.append(_MAC_DAMAGE[kind](case=case_id, case_seq=case_seq, seq=seq))
            if event[PREV_HASH] != previous_hash:
                damage.append(found("chain_broken", "case_event", case=case_id, case_seq=case_seq, seq=seq))
            if seq <= previous_seq:
                damage.append(found("order", "case_event", case=case_id, case_seq=case_seq, seq=seq))
            previous_hash, previous_seq = digest, seq
            if event[TO_STAGE]:
                stage = event[TO_STAGE]
            region = event[REGION]
        if reading:
            _close_case(part, case, count, previous_hash, stage, region)
            case = next(cases, None)
        _cases_before(part, cases, case, None, initial)
    part.recorded = recorded.flush()
    return part


def _check_organisation(conn, macs: "Macs | None" = None) -> _Part:
    part = _Part(damage=[])
    canonical = Canonical(conn.dialect)
    recorded = _Recorded(conn, canonical.decode_json)
    expected, previous, before, organisation = 0, None, None, Organisation()
    with stream_rows(conn, select(*canonical.columns).where(t.audit_events.c.case_id.is_(None))
                     .order_by(t.audit_events.c.seq)) as events:
        for event in events:
            part.events += 1
            expected = _check_organisation_event(part, canonical, recorded, event, expected, previous, before)
            before = event[raw.ACTION]
            organisation.add(event, canonical.decode_json(event[raw.DETAIL]))
            if macs is not None and (kind := macs.wrong(event)):
                part.damage.append(_MAC_DAMAGE["organisation_" + kind](case_seq=event[raw.CASE_SEQ], seq=event[raw.SEQ]))
            previous = event[raw.HASH]
    head = conn.execute(select(t.audit_heads.c.events, t.audit_heads.c.hash)
                        .where(t.audit_heads.c.name == "organisation")).first()
    count, last = (head.events, head.hash) if head else (0, None)
    if count != part.events or last != previous:
        part.damage.append(found("case_head", "organisation", "organisation_head", claimed_count=count,
                                 claimed=str(last)[:12], count=part.events, found=str(previous)[:12]))
    part.damage.extend(organisation.differences(conn))
    part.recorded = recorded.flush()
    return part


def _check_organisation_event(part: _Part, canonical: Canonical, recorded: _Recorded, event: tuple,
                              expected: int, previous: str | None, before: str | None) -> int:
    """One event of the organisation's own chain (the events without a case, org.audit); the
    organisation event expected next. `before`: the kind of the event before it (a missing one's
    own kind went with it: its neighbours are named instead)."""
    case_seq = event[raw.CASE_SEQ]
    place = {"case_seq": case_seq, "seq": event[raw.SEQ]}
    if event[raw.EVIDENCE_HASHES] and event[raw.EVIDENCE_HASHES] != "[]":
        recorded.add(event[raw.EVIDENCE_HASHES])
    text = canonical.row(event)
    if text is None or hashlib.sha256(text).hexdigest() != event[raw.HASH]:
        part.damage.append(found("changed", "organisation_event", **place))
    expected += 1
    if case_seq != expected:
        part.damage.append(found("missing", "organisation_event", "organisation_missing", expected=expected,
                                 before=before or "-", after=event[raw.ACTION], **place))
        expected = case_seq if isinstance(case_seq, int) else expected
    if event[raw.PREV_HASH] != previous:
        part.damage.append(found("chain_broken", "organisation_event", "organisation_chain_broken", **place))
    return expected


class _Recorded:
    """The evidence hashes events recorded, compared with the evidence rows in batches as the log streams."""

    def __init__(self, conn, decode) -> None:
        self.conn, self.decode = conn, decode
        self.pending: dict[int, tuple] = {}     # evidence -> (its hash, the event's case, its type)
        self.damage: list[Damage] = []

    def add(self, evidence_hashes, case_id: int | None = None) -> None:
        try:
            for ref in self.decode(evidence_hashes) or []:
                self.pending[ref["id"]] = (ref["hash"], case_id, ref.get("type"))
        except (TypeError, ValueError, KeyError):
            pass           # not a list of references: the event itself no longer matches its hash
        if len(self.pending) >= BATCH:
            self.damage.extend(_compare_recorded(self.conn, self.pending))
            self.pending = {}

    def flush(self) -> list[Damage]:
        self.damage.extend(_compare_recorded(self.conn, self.pending))
        self.pending = {}
        return self.damage


def _stream(conn, statement) -> Iterator:
    # A statement option: set on the connection it would also turn later INSERTs into cursors.
    result = conn.execute(statement.execution_options(yield_per=BATCH))
    for row in result:
        yield row


def verify_case(app: App, conn, case_id: int) -> tuple[list[Damage], bool]:
    """What `verify` checks of one case (engine.reads.case_integrity, on every view of the case): its own
    hash chain, its head, stage and region, its events' MACs, the evidence its events recorded, its
    evidence rows and files, its members, its attributes (an exit year, causes: what moves it between a
    year's figures), its steps (who signed, in which post, what, when, on what, voided or not) and what
    its steps recorded (those named responsible, pairings, objections, deadlines closed). Returns the
    damage and whether the MACs could be checked (False: the record has keys, this process has none)."""
    initial = {kind: wf.initial for kind, wf in app.config.workflows.items()}
    macs = Macs.of(app.keyring, conn)
    part = _check_cases(conn, case_id, case_id + 1, initial, macs)
    damage = list(part.damage)
    damage += [*(part.recorded or []), *check_members(conn, case_id), *check_attrs(conn, case_id),
               *_check_evidence(app, conn, case_id)[0], *check_case_steps(conn, case_id, removal_procedures(app.config))]
    return damage, _macs_checked(conn, macs)


def _macs_checked(conn, macs: "Macs | None") -> bool:
    """Whether each event's MAC could be checked: this process holds the keys, or the record has none."""
    return macs is not None or conn.execute(select(t.record_keys.c.key_id).limit(1)).first() is None


def _check_evidence(app: App, conn, case_id: int | None = None) -> tuple[list[Damage], int]:
    damage: list[Damage] = []
    count = 0
    rows = select(t.evidence).order_by(t.evidence.c.id)
    files: dict[str, str | None] = {}            # file -> its damage kind, each file read once
    users: dict[str, list[dict]] = {}            # a damaged file -> the evidence items that name it
    for row in _stream(conn, rows if case_id is None else rows.where(t.evidence.c.case_id == case_id)):
        count += 1
        where = {"case": row.case_id, "evidence": row.id, "type": row.type}
        if content_hash(row.type, row.fields, row.file_sha256) != row.content_hash:
            damage.append(found("evidence_changed", "evidence", **where))
        if row.file_sha256:
            if row.file_sha256 not in files:
                files[row.file_sha256] = _file_damage(app, row.file_sha256, remember=case_id is not None)
            if files[row.file_sha256] is not None:
                users.setdefault(row.file_sha256, []).append(where)
    for sha, named in users.items():    # one finding a file, however many items name it (a reused scan)
        damage.append(_file_finding(files[sha], sha[:12], named))
    return damage, count


def _file_finding(kind: str, file: str, named: list[dict]) -> Damage:
    """The finding of one damaged file, said once with how many other evidence items name it."""
    where, others = named[0], len(named) - 1
    if kind == "evidence_file_missing":
        return found("evidence_file_missing", "evidence", file=file, **where) if not others else \
            found("evidence_file_missing", "evidence", "evidence_file_missing_shared", file=file, others=others, **where)
    return found("evidence_file_changed", "evidence", file=file, **where) if not others else \
        found("evidence_file_changed", "evidence", "evidence_file_changed_shared", file=file, others=others, **where)


def _file_damage(app: App, sha: str, remember: bool = False) -> str | None:
    """A stored file's damage kind, or None. `remember` (a case's trace, read on every view): a file
    is hashed again only when its size, times or inode moved since this process last hashed it (a
    write changes its ctime, which no one sets back); `audit verify` always reads every file."""
    path = app.evidence.path_for(sha)
    if not path.is_file():
        return "evidence_file_missing"
    if remember:
        st = path.stat()
        key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        seen = _FILES_SEEN.get(sha)
        if seen is not None and seen[0] == key:
            return seen[1]
    kind = None if app.evidence.intact(sha) else "evidence_file_changed"
    if remember:
        if len(_FILES_SEEN) >= FILES_REMEMBERED:
            _FILES_SEEN.clear()
        _FILES_SEEN[sha] = (key, kind)
    return kind


FILES_REMEMBERED = 10_000
_FILES_SEEN: dict[str, tuple] = {}       # file -> (its stat when hashed, what hashing found)


def stray_files(app: App) -> list[str]:
    """Files in the evidence store that no evidence names (a copy cut short, a file stored by an
    attach that was then killed before it committed), as paths under the data home."""
    with app.engine.connect() as conn:
        named = (r[0] for r in _stream(conn, select(t.evidence.c.file_sha256).distinct()
                                       .where(t.evidence.c.file_sha256.is_not(None)).order_by(t.evidence.c.file_sha256)))
        return [str(p.relative_to(app.evidence.root.parent)) for p in app.evidence.strays(named)]


def _compare_recorded(conn, recorded: dict[int, tuple]) -> list[Damage]:
    if not recorded:
        return []
    rows = {r.id: r for r in conn.execute(select(t.evidence.c.id, t.evidence.c.case_id, t.evidence.c.type,
                                                 t.evidence.c.content_hash).where(t.evidence.c.id.in_(list(recorded))))}
    damage = []
    for eid, (expected, case_id, kind) in recorded.items():
        row = rows.get(eid)
        if row is None and case_id is not None and kind:     # what the event recorded of it names it
            damage.append(found("evidence_missing", "evidence", "evidence_missing_named", case=case_id,
                                evidence=eid, type=kind))
        elif row is None:
            damage.append(found("evidence_missing", "evidence_id", evidence=eid))
        elif row.content_hash != expected:
            damage.append(found("evidence_changed", "evidence", "evidence_not_as_recorded", case=row.case_id,
                                evidence=eid, type=row.type))
    return damage


# --- checkpoints: every event, in global order, chained into a publishable head ---------------

def head(app: App) -> tuple[int, str] | None:
    found_head = signed_head(app)
    return (found_head["seq"], found_head["hash"]) if found_head else None


def _signers(app: App, conn, macs: "Macs | None") -> tuple[dict[str, str], int]:
    """The public keys a checkpoint may be signed with (the key file's own where this process holds
    it, else those the log recorded), and the seq from which checkpoints must be signed."""
    if macs is not None:
        return {k.key_id: k.public_key for k in app.keyring.checked().keys.values()}, macs.since
    recorded = dict(conn.execute(select(t.record_keys.c.key_id, t.record_keys.c.public_key)).all())
    since = conn.execute(select(func.min(t.record_keys.c.event_seq))).scalar()
    return recorded, since if since is not None else 1 << 62


def _check_signatures(checkpoints: list, signers: tuple[dict[str, str], int]) -> list[Damage]:
    keys, since = signers
    damage = []
    for cp in checkpoints:
        key = keys.get(cp.key_id or "")
        if cp.signature is None and cp.upto_seq < since:
            continue                                    # sealed before the home had keys
        if key is None or not signature_valid(key, head_message(cp.upto_seq, cp.hash), cp.signature or ""):
            damage.append(found("checkpoint_signature", "checkpoint", upto=cp.upto_seq))
    return damage


@contextmanager
def _seqs_and_hashes(conn, upto: int) -> Iterator[Iterator[tuple[int, str]]]:
    """(seq, hash) of every event up to `upto`, in seq order (as COPY text on PostgreSQL: a hash is
    hex digits, with nothing to escape)."""
    query = select(t.audit_events.c.seq, t.audit_events.c.hash).where(t.audit_events.c.seq <= upto) \
        .order_by(t.audit_events.c.seq)
    if copies(conn):
        yield ((int(seq), digest.decode()) for seq, _, digest in (line.partition(b"\t")
                                                                   for line in copy_lines(conn, query)))
        return
    with stream_rows(conn, query) as rows:
        yield rows


def _check_checkpoints(conn, against: tuple[int, str] | None, signers: tuple | None = None) -> _Part:
    checkpoints = list(conn.execute(select(t.audit_checkpoints.c.upto_seq, t.audit_checkpoints.c.events,
                                           t.audit_checkpoints.c.hash, t.audit_checkpoints.c.key_id,
                                           t.audit_checkpoints.c.signature).order_by(t.audit_checkpoints.c.upto_seq)))
    damage: list[Damage] = _check_signatures(checkpoints, signers) if signers is not None else []
    recomputed: dict[int, str | None] = {}
    wanted = against[0] if against is not None else -1       # a published head's seq: the chain there
    chained: str | None = None
    if checkpoints or wanted > 0:
        sha256 = hashlib.sha256
        running, count, pending = "", 0, iter(checkpoints)      # running: "" before the first event
        cp = next(pending, None)
        after, gaps = 0, _Gaps()          # the seq the current checkpoint's range follows; numbers not there

        def close(cp, running: str, count: int) -> None:
            recomputed[cp.upto_seq] = running = running or None
            if running != cp.hash or count != cp.events:
                damage.append(_checkpoint_damage(cp, after, running, count, gaps))

        limit = max(checkpoints[-1].upto_seq if checkpoints else 0, wanted)
        with _seqs_and_hashes(conn, limit) as events:
            upto, previous = (cp.upto_seq if cp else limit), 0
            for seq, digest in events:
                while seq > upto and cp is not None:   # past this checkpoint: compare, go to the next
                    gaps.add(previous, upto + 1)
                    close(cp, running, count)
                    if recomputed[cp.upto_seq] != cp.hash:
                        # the next range chains on from what was sealed: a later checkpoint whose own events
                        # are untouched is not called damaged for this one's (a5: 1 event deleted made every
                        # later checkpoint 检查点不符)
                        running = cp.hash
                    after, previous, gaps = upto, upto, _Gaps()
                    cp, count = next(pending, None), 0
                    upto = cp.upto_seq if cp else limit
                if seq != previous + 1:
                    gaps.add(previous, seq)
                previous = seq
                running = sha256((running + digest).encode()).hexdigest()
                count += 1
                if seq == wanted:
                    chained = running
        if cp is not None:
            gaps.add(previous, cp.upto_seq + 1)
            close(cp, running, count)
            for following in pending:                  # checkpoints past the last event
                after, gaps = cp.upto_seq, _Gaps()
                gaps.add(after, following.upto_seq + 1)
                cp = following
                close(cp, running, 0)
    if against is not None:
        seq, published = against
        if seq not in recomputed:
            damage.append(_head_not_sealed(conn, seq, published, chained))
        elif recomputed[seq] != published:
            damage.append(found("published_head", "seq", seq=seq, found=str(recomputed[seq]),
                                published=published))   # whole: two heads may differ in their last digit
    return _Part(damage=damage)


class _Gaps:
    """The seq numbers missing from a checkpoint's range, as ranges (the first few of them), and how many."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int]] = []
        self.total = 0

    def add(self, previous: int, following: int) -> None:
        """The numbers between `previous` and `following`, both excluded."""
        if following - previous > 1:
            self.total += following - previous - 1
            if len(self.ranges) <= RANGES_SHOWN:
                self.ranges.append((previous + 1, following - 1))

    def text(self) -> str:
        return number_ranges(self.ranges)


def _checkpoint_damage(cp, after: int, running: str | None, count: int, gaps: _Gaps) -> Damage:
    """A checkpoint that no longer matches; where its range now lacks events, the numbers no longer in
    the log. Seal records how many events the range held: on PostgreSQL a number can be skipped by a
    transaction rolled back, so only a range that was whole when sealed tells deletions for certain."""
    where = {"upto": cp.upto_seq, "found": str(running)[:12], "count": count, "sealed": cp.hash[:12],
             "events": cp.events}
    if count >= cp.events or not gaps.total:
        return found("checkpoint", "checkpoint", **where)
    skipped = (cp.upto_seq - after) - cp.events       # numbers the range lacked when sealed
    if skipped <= 0:
        return found("checkpoint", "checkpoint", "checkpoint_deleted", missing=gaps.text(), n=gaps.total, **where)
    return found("checkpoint", "checkpoint", "checkpoint_numbers_gone", missing=gaps.text(), n=gaps.total,
                 skipped=skipped, deleted=cp.events - count, **where)

def _head_not_sealed(conn, seq: int, published: str, chained: str | None) -> Damage:
    """A published head whose seq ends no checkpoint. Within the log: the chain there agrees with it or
    it was never a sealed head (mistyped, or not what was published). Agreeing, the published events are
    all there unchanged: a checkpoint sealed after it that chains from it shows its own checkpoint was
    deleted; without one, a checkpoint deleted reads the same as a copy of the database taken before
    that seal (a restored backup), and the finding names both. Past the log's last event: the events
    published up to it are gone (deleted at the end, or a copy taken before them)."""
    last = conn.execute(select(func.max(t.audit_events.c.seq))).scalar() or 0
    if seq > last:
        return found("published_head", "seq", "published_head_gone", seq=seq, last=last,
                     gone=number_ranges([(last + 1, seq)]))
    if chained != published:
        return found("published_head", "seq", "published_head_not_sealed", seq=seq)
    followed = conn.execute(select(t.audit_checkpoints.c.upto_seq).where(
        t.audit_checkpoints.c.prev_hash == published).limit(1)).first()
    if followed is not None:
        return found("published_head", "seq", "published_head_checkpoint_gone", seq=seq)
    return found("published_head", "seq", "published_head_unsealed", seq=seq)


# --- before a seal: what a checkpoint must not be signed over ----------------------------------

def seal(app: App, actor, wait_s: float | None = None) -> dict | None:
    """audit_seal.seal, refusing a broken chain (before_seal): how `audit seal`, the nightly seal and a
    backup seal."""
    return audit_seal.seal(app, actor, wait_s, check=before_seal)


def before_seal(app: App, conn, bound: int | None = None) -> list[Damage]:
    """The damage a seal must not sign over (audit_seal.seal refuses it): every checkpoint re-chained
    from the first event (the log's (seq, hash) pairs only: an event deleted, inserted or re-hashed in
    any sealed range) with its signature; every case's head and the organisation's naming an event the
    log holds with that hash (a case's last events deleted); each event since the last checkpoint (up
    to `bound`) whole: its hash, its MAC, its link to its case's (or the organisation's) previous event.
    Measured on the demo county (54,070 events, 2,004 cases): 0.13 s; the events' contents and the other
    tables are `audit verify`'s (every event's content, the tables replayed)."""
    after = conn.execute(select(func.max(t.audit_checkpoints.c.upto_seq))).scalar() or 0
    macs = Macs.of(app.keyring, conn)
    damage = _check_checkpoints(conn, None, _signers(app, conn, macs)).damage
    damage += _heads_not_in_log(conn)
    damage += _events_since(conn, after, bound, macs)
    return damage


def _heads_not_in_log(conn) -> list[Damage]:
    """Case heads (and the organisation's) whose last event the log no longer holds as recorded."""
    c, e, h = t.cases.c, t.audit_events, t.audit_heads.c
    off = conn.execute(select(c.id, c.event_count, c.last_event_hash).select_from(t.cases.outerjoin(
        e, (e.c.case_id == c.id) & (e.c.case_seq == c.event_count))).where(
        c.event_count > 0, or_(e.c.hash.is_(None), e.c.hash != c.last_event_hash)).order_by(c.id)).all()
    damage = []
    for case_id, claimed_count, claimed in off:
        count, last = _log_end(conn, e.c.case_id == case_id)
        damage.append(found("case_head", "case", case=case_id, claimed_count=claimed_count, claimed=str(claimed)[:12],
                            count=count, found=str(last)[:12]))
    head = conn.execute(select(h.events, h.hash).where(h.name == "organisation")).first()
    if head is not None and head.events:
        there = conn.execute(select(e.c.hash).where(e.c.case_id.is_(None), e.c.case_seq == head.events)).scalar()
        if there != head.hash:
            count, last = _log_end(conn, e.c.case_id.is_(None))
            damage.append(found("case_head", "organisation", "organisation_head", claimed_count=head.events,
                                claimed=str(head.hash)[:12], count=count, found=str(last)[:12]))
    return damage


def _log_end(conn, chain) -> tuple[int, str | None]:
    """How many events one chain (a case's, the organisation's) has in the log, and its last one's hash."""
    e = t.audit_events.c
    count = conn.execute(select(func.count()).select_from(t.audit_events).where(chain)).scalar()
    last = conn.execute(select(e.hash).where(chain).order_by(e.case_seq.desc()).limit(1)).scalar()
    return count, last


def _events_since(conn, after: int, bound: int | None, macs: "Macs | None") -> list[Damage]:
    """Each event after seq `after` (up to `bound`): its hash, MAC and link to its chain's previous event
    (the first of a chain met here: read from the log by its chain's number)."""
    ae = t.audit_events
    canonical = Canonical(conn.dialect)
    query = select(*canonical.columns).where(ae.c.seq > after)
    if bound is not None:
        query = query.where(ae.c.seq <= bound)
    damage: list[Damage] = []
    last: dict[int | None, tuple[int, str | None, str | None]] = {}    # chain -> (case_seq, hash, action)
    with stream_rows(conn, query.order_by(ae.c.seq)) as events:
        for event in events:
            case_id, case_seq, seq = event[raw.CASE_ID], event[raw.CASE_SEQ], event[raw.SEQ]
            org = case_id is None
            where = {"case_seq": case_seq, "seq": seq} if org else {"case": case_id, "case_seq": case_seq, "seq": seq}
            text = canonical.row(event)     # each `found` literal: the catalogue's test reads them from the source
            if text is None or hashlib.sha256(text).hexdigest() != event[raw.HASH]:
                damage.append(found("changed", "organisation_event", **where) if org else
                              found("changed", "case_event", **where))
            if macs is not None and (kind := macs.wrong(event)):
                damage.append(_MAC_DAMAGE[("organisation_" if org else "") + kind](**where))
            before = last.get(case_id) or _previous_in_chain(conn, case_id, case_seq)
            if before[0] != case_seq - 1:
                damage.append(found("missing", "organisation_event", "organisation_missing", expected=before[0] + 1,
                                    before=before[2] or "-", after=event[raw.ACTION], **where) if org else
                              found("missing", "case_event", expected=before[0] + 1, **where))
            elif event[raw.PREV_HASH] != before[1]:
                damage.append(found("chain_broken", "organisation_event", "organisation_chain_broken", **where) if org
                              else found("chain_broken", "case_event", **where))
            last[case_id] = (case_seq, event[raw.HASH], event[raw.ACTION])
    return damage


def _previous_in_chain(conn, case_id: int | None, case_seq: int) -> tuple[int, str | None, str | None]:
    """(case_seq, hash, action) of the last event before `case_seq` in its chain; (0, None, None) if none."""
    e = t.audit_events.c
    chain = e.case_id.is_(None) if case_id is None else e.case_id == case_id
    row = conn.execute(select(e.case_seq, e.hash, e.action).where(chain, e.case_seq < case_seq)
                       .order_by(e.case_seq.desc()).limit(1)).first()
    return tuple(row) if row is not None else (0, None, None)
