"""Proving the record was not altered: re-compute every case's hash chain and check the evidence.

Streams the audit log in (case, case_seq) order beside the cases table, so memory does not grow
with the number of events. Each damage found names its exact position and kind.

Speed (issue 3: a million events in under 10 s): the log is read as plain DBAPI tuples straight
from the cursor (server-side on PostgreSQL), not as SQLAlchemy rows, and each row's canonical
bytes are built from the tuple (`_Canonical`: the same bytes `audit.canonical` gives for the row
read through SQLAlchemy). A log of PARALLEL_FROM events or more is checked by forked worker
processes, one per usable CPU, each over its own connection: one re-chains the checkpoints, the
others take ranges of case ids, and this process checks the evidence meanwhile. The report is
the same, in the same order, as when everything runs in this process: checkpoints, then the cases
in id order (orphan events where their case id falls), organisation events, recorded evidence
hashes that no longer match (once per evidence item), evidence items and files. A field that
cannot be read at all (not JSON, not a time) is reported as the event being changed.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import JSON, Text, cast, func, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.audit import SORTED_FIELDS, TEMPLATE, encode_value, json_default as _default
from engine.adapters.db import Settings, make_engine
from engine.domain.evidence import content_hash

BATCH = 5000                # rows fetched at a time; recorded evidence hashes compared at a time
PARALLEL_FROM = 50_000      # from this many events (by seq) on, cases are checked in parallel processes
CHUNKS_PER_PROCESS = 8      # ranges of case ids per process: small enough to even out the end
MAX_PROCESSES = 8


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
    tasks: list[tuple] = [("checkpoints", against)]
    tasks += [("cases", lo, hi, initial) for lo, hi in ranges]
    tasks.append(("organisation",))
    done = _run_in_processes(app, tasks, processes) if len(ranges) > 1 else None
    if done is None:
        with app.engine.connect() as conn:
            done = [_run(conn, task) for task in tasks], *_check_evidence(app, conn)
    parts, evidence_damage, evidence = done
    report = Report(damage=[], evidence=evidence)
    recorded: dict[Damage, None] = {}             # one report per evidence item, in the order found
    for part in parts:
        report.events += part.events
        report.cases += part.cases
        report.damage.extend(part.damage)
        recorded.update(dict.fromkeys(part.recorded or []))
    report.damage.extend(recorded)
    report.damage.extend(evidence_damage)
    return report


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
    return _check_organisation(conn)


def _run_with_own_engine(settings: Settings, task: tuple) -> _Part:
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            return _run(conn, task)
    finally:
        engine.dispose()


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


# --- reading the log fast ------------------------------------------------------------------

_EVENT_COLUMNS = [t.audit_events.c[name] for name in SORTED_FIELDS] + [t.audit_events.c.seq, t.audit_events.c.hash]
_FIELDS = len(SORTED_FIELDS)
_CASE_ID, _CASE_SEQ = SORTED_FIELDS.index("case_id"), SORTED_FIELDS.index("case_seq")
_PREV_HASH, _TO_STAGE = SORTED_FIELDS.index("prev_hash"), SORTED_FIELDS.index("to_stage")
_EVIDENCE_HASHES = SORTED_FIELDS.index("evidence_hashes")
_SEQ, _HASH = _FIELDS, _FIELDS + 1
_server_cursors = iter(range(1, 1 << 62))


def _json_as_text(dialect) -> bool:
    """Read JSON columns as text and decode them here? Where the driver would decode them with
    json.loads itself (psycopg, psycopg2), doing it here lets repeated texts skip it."""
    return (dialect.name == "postgresql" and dialect.driver in ("psycopg", "psycopg2")
            and getattr(dialect, "_json_deserializer", None) is None)


@contextmanager
def _rows(conn, statement) -> Iterator[Iterator[tuple]]:
    """The statement's rows as plain DBAPI tuples, streamed (a server-side cursor on PostgreSQL)."""
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.driver in ("psycopg", "psycopg2"):
        cursor = dbapi.cursor(f"jz_audit_verify_{os.getpid()}_{next(_server_cursors)}")
        cursor.itersize = BATCH
    else:
        cursor = dbapi.cursor()       # SQLite steps through the result as it is read
    try:
        cursor.execute(sql)
        yield iter(cursor)
    finally:
        cursor.close()


_AT_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}").fullmatch
_scan_json = json.JSONDecoder().scan_once
_ESCAPED = bytes(range(0x20)) + b'"\\'    # what the canonical form escapes in a string, and the quote
_CACHED_TEXT = 200          # JSON texts up to this long keep their canonical form for the next event
_CACHE_SIZE = 4096
_AT, _DETAIL = SORTED_FIELDS.index("at"), SORTED_FIELDS.index("detail")


class _Canonical:
    """A raw audit row (`columns`, SORTED_FIELDS order, then seq and hash) to its canonical bytes.

    The same bytes as reading the row through SQLAlchemy's types, then `audit.canonical`. The
    exact way (`_exact`): values the driver hands back ready (ints, strings, psycopg's datetimes)
    are encoded as they are, the others go through the column type's own result processor; JSON
    that psycopg would decode with json.loads is fetched as text and decoded here the same way. A
    value that cannot be read at all (not JSON, not a time) makes the row None: changed.

    The short way (`row`), tried first: one %-format per "shape" of row (which columns hold a
    str, an int, None), with the values put in as they are; `at` as the canonical form writes it
    (SQLite's text in SQLAlchemy's storage format with its "T", which is what the processor's
    naive datetime gives; a datetime as `_default` gives it); the JSON columns' canonical text,
    kept for texts that repeat ("[]"). That is the canonical form unless a string needed
    escaping: then the bytes hold more quotes, backslashes or control characters than the shape
    and the JSON put there, and the row goes the exact way.
    """

    def __init__(self, dialect) -> None:
        self.json_as_text = _json_as_text(dialect)
        self.columns = [cast(c, Text) if self.json_as_text and isinstance(c.type, JSON) else c for c in _EVENT_COLUMNS]
        self.special: list[tuple[int, Callable[[Any], str]]] = []
        self._json: Callable[[Any], Any] | None = None        # how SQLAlchemy would read the JSON columns
        self._json_fast = getattr(dialect, "_json_deserializer", None) in (None, json.loads)
        self._cache: dict[str, tuple[str, int] | None] = {}
        self._shapes: dict[tuple, tuple[str, int] | None] = {}
        self._at_text = False          # `at` comes as SQLite text in SQLAlchemy's storage format
        short = True                   # no processors but those the short way stands in for
        for i, name in enumerate(SORTED_FIELDS):
            column = t.audit_events.c[name]
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if isinstance(column.type, JSON) and self.json_as_text:
                process = json.loads    # what the driver does with it (json_as_text: only then)
            if process is None:
                continue
            if isinstance(column.type, JSON):
                self._json = process
                self.special.append((i, self._json_text(process) if self._json_fast else
                                     lambda value, process=process: encode_value(process(value))))
                short = short and self._json_fast
            elif i == _AT and process("2019-03-01 02:00:00.000000") == datetime(2019, 3, 1, 2):
                self.special.append((i, self._at_processed(process)))
                self._at_text = True
            else:
                self.special.append((i, lambda value, process=process: encode_value(process(value))))
                short = False
        self.row = self._short_way() if short else self._exact      # a row's canonical bytes, or None

    def _short_way(self) -> Callable[[tuple], bytes | None]:
        """__call__ for text-returning databases: the short way first."""
        shapes, shape_of, cache = self._shapes, self._shape, self._cache
        json_entry, exact = self._json_entry, self._exact
        at_cache: dict[Any, str] = {}       # an action's events often share their time
        at_text = self._at_text

        def at_of(value) -> str:            # `at` as the canonical form has it, without quotes ("": unsure)
            if type(value) is str:
                return f"{value[:10]}T{value[11:]}" if at_text and _AT_TEXT(value) else ""
            return _default(value) if type(value) is datetime and not at_text else ""

        def canonical(row) -> bytes | None:
            shape = shapes.get(tuple(map(type, row)), False)
            if shape is False:
                shape = shape_of(row)
            if shape is not None:
                detail = cache.get(row[_DETAIL]) or json_entry(row[_DETAIL])
                evidence = cache.get(row[_EVIDENCE_HASHES]) or json_entry(row[_EVIDENCE_HASHES])
                at = at_cache.get(row[_AT])
                if at is None:
                    at = at_of(row[_AT])
                    if len(at_cache) >= _CACHE_SIZE:
                        at_cache.clear()
                    at_cache[row[_AT]] = at
                if detail and evidence and at:
                    values = list(row[:_FIELDS])
                    values[_AT], values[_DETAIL], values[_EVIDENCE_HASHES] = at, detail[0], evidence[0]
                    text = (shape[0] % tuple(values)).encode()
                    if len(text) - len(text.translate(None, _ESCAPED)) == shape[1] + detail[1] + evidence[1]:
                        return text
            return exact(row)
        return canonical

    def _exact(self, row) -> bytes | None:
        try:
            values = list(map(encode_value, row[:_FIELDS]))
            for i, encode in self.special:
                values[i] = encode(row[i])
            return (TEMPLATE % tuple(values)).encode()
        except (TypeError, ValueError):
            return None

    def _shape(self, row) -> tuple[str, int] | None:
        """The format for rows with these types, and the quotes it puts in; None: not for the short way."""
        specs, quotes = [], 2 * _FIELDS                   # each key's quotes
        for i, value in enumerate(row[:_FIELDS]):
            kind = type(value)
            if i in (_DETAIL, _EVIDENCE_HASHES):
                if kind is not str:
                    break
                specs.append("%s")
            elif kind is str or (i == _AT and kind is datetime):
                specs.append('"%s"')
                quotes += 2
            elif i == _AT:
                break
            elif kind is int:
                specs.append("%d")
            elif value is None:
                specs.append("null%.0s")
            else:
                break
        shape = (TEMPLATE % tuple(specs), quotes) if len(specs) == _FIELDS else None
        if len(self._shapes) >= _CACHE_SIZE:
            self._shapes.clear()
        self._shapes[tuple(map(type, row))] = shape
        return shape

    def _json_entry(self, value) -> tuple[str, int] | None:
        """A JSON text's canonical form and the quotes and backslashes in it; None if it is not JSON text."""
        if type(value) is not str:
            return None
        try:
            text = encode_value(_loads(value))
        except (TypeError, ValueError):
            return None
        entry = (text, text.count('"') + text.count("\\"))
        if len(value) <= _CACHED_TEXT:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[value] = entry
        return entry

    def decode_json(self, value):
        """A JSON column's value as SQLAlchemy would return it."""
        if self._json is None or value is None:
            return value
        if self._json_fast and type(value) is str:
            return _loads(value)
        return self._json(value)

    @staticmethod
    def _at_processed(process) -> Callable[[Any], str]:
        def encode(value) -> str:
            if type(value) is str and _AT_TEXT(value):
                return f'"{value[:10]}T{value[11:]}"'
            return encode_value(process(value))
        return encode

    def _json_text(self, process) -> Callable[[Any], str]:
        def encode(value) -> str:
            if type(value) is not str:
                return encode_value(process(value))
            return (self._cache.get(value) or self._json_entry(value) or (encode_value(_loads(value)),))[0]
        return encode


def _loads(text: str):
    """json.loads, without its overhead for the usual case of a text that is only the value."""
    try:
        value, end = _scan_json(text, 0)
        if end == len(text):
            return value
    except (StopIteration, ValueError):
        pass
    return json.loads(text)


# --- the case chains --------------------------------------------------------------------------

def _where(case_id, case_seq, seq) -> str:
    return f"case {case_id}, event {case_seq} (seq {seq})"


def _check_cases(conn, lo: int | None, hi: int | None, initial: dict[str, str]) -> _Part:
    """Each case's chain, in case order, with orphan events where they fall; cases with ids in [lo, hi)."""
    part = _Part(damage=[])
    damage = part.damage
    canonical = _Canonical(conn.dialect)
    recorded = _Recorded(conn, canonical.decode_json)
    encode, sha256 = canonical.row, hashlib.sha256
    case_cols = select(t.cases.c.id, t.cases.c.kind, t.cases.c.stage, t.cases.c.event_count,
                       t.cases.c.last_event_hash).order_by(t.cases.c.id)
    event_cols = select(*canonical.columns).where(t.audit_events.c.case_id.is_not(None)) \
        .order_by(t.audit_events.c.case_id, t.audit_events.c.case_seq)
    if lo is not None:
        case_cols, event_cols = case_cols.where(t.cases.c.id >= lo), event_cols.where(t.audit_events.c.case_id >= lo)
    if hi is not None:
        case_cols, event_cols = case_cols.where(t.cases.c.id < hi), event_cols.where(t.audit_events.c.case_id < hi)

    def close(case, count, previous_hash, stage) -> None:
        case_id, _, case_stage, event_count, last_event_hash = case
        part.events += count
        if (event_count or 0) != count or last_event_hash != previous_hash:
            damage.append(Damage("case_head", f"case {case_id}",
                                 f"the case says {event_count} events ending {str(last_event_hash)[:12]}, "
                                 f"the log has {count} ending {str(previous_hash)[:12]}"))
        if stage is not None and case_stage != stage:
            damage.append(Damage("stage_unaccounted", f"case {case_id}",
                                 f"the case is {case_stage!r} but its events lead to {stage!r}"))

    CASE_ID, CASE_SEQ, SEQ, HASH, PREV_HASH, TO_STAGE, EVIDENCE_HASHES = \
        _CASE_ID, _CASE_SEQ, _SEQ, _HASH, _PREV_HASH, _TO_STAGE, _EVIDENCE_HASHES      # locals: faster
    with _rows(conn, case_cols) as cases, _rows(conn, event_cols) as events:
        case = next(cases, None)           # the next case not yet reached, or the one being read
        reading, current = False, object()
        previous_hash, previous_seq, stage, expected, count = None, 0, None, 0, 0
        for event in events:
            case_id = event[CASE_ID]
            if case_id != current:         # the first event of another case (or of an orphan)
                if reading:
                    close(case, count, previous_hash, stage)
                    case = next(cases, None)
                while case is not None and case[0] < case_id:      # cases without events
                    part.cases += 1
                    close(case, 0, None, initial.get(case[1]))
                    case = next(cases, None)
                current = case_id
                reading = case is not None and case[0] == case_id
                if reading:
                    part.cases += 1
                    previous_hash, previous_seq, stage, expected, count = None, 0, initial.get(case[1]), 0, 0
            evidence_hashes = event[EVIDENCE_HASHES]
            if evidence_hashes and evidence_hashes != "[]":
                recorded.add(evidence_hashes)
            case_seq, seq, digest = event[CASE_SEQ], event[SEQ], event[HASH]
            if not reading:
                damage.append(Damage("orphan_event", _where(case_id, case_seq, seq),
                                     "event of a case that does not exist"))
                continue
            count += 1
            expected += 1
            if case_seq != expected:
                damage.append(Damage("missing", _where(case_id, case_seq, seq),
                                     f"event {expected} of case {case_id} is not there"))
                expected = case_seq
            text = encode(event)
            if text is None or sha256(text).hexdigest() != digest:
                damage.append(Damage("changed", _where(case_id, case_seq, seq), "its fields no longer match its hash"))
            if event[PREV_HASH] != previous_hash:
                damage.append(Damage("chain_broken", _where(case_id, case_seq, seq),
                                     "it does not follow the case's previous event (inserted, removed or rewritten)"))
            if seq <= previous_seq:
                damage.append(Damage("order", _where(case_id, case_seq, seq),
                                     "it comes before the case's previous event in the log"))
            previous_hash, previous_seq = digest, seq
            if event[TO_STAGE]:
                stage = event[TO_STAGE]
        if reading:
            close(case, count, previous_hash, stage)
            case = next(cases, None)
        while case is not None:
            part.cases += 1
            close(case, 0, None, initial.get(case[1]))
            case = next(cases, None)
    part.recorded = recorded.flush()
    return part


def _check_organisation(conn) -> _Part:
    part = _Part(damage=[])
    canonical = _Canonical(conn.dialect)
    recorded = _Recorded(conn, canonical.decode_json)
    expected, previous = 0, None
    with _rows(conn, select(*canonical.columns).where(t.audit_events.c.case_id.is_(None))
               .order_by(t.audit_events.c.seq)) as events:
        for event in events:
            part.events += 1
            where = f"organisation event {event[_CASE_SEQ]} (seq {event[_SEQ]})"
            if event[_EVIDENCE_HASHES] and event[_EVIDENCE_HASHES] != "[]":
                recorded.add(event[_EVIDENCE_HASHES])
            text = canonical.row(event)
            if text is None or hashlib.sha256(text).hexdigest() != event[_HASH]:
                part.damage.append(Damage("changed", where, "its fields no longer match its hash"))
            # The events without a case form one chain of their own (org._audit).
            expected += 1
            if event[_CASE_SEQ] != expected:
                part.damage.append(Damage("missing", where, f"organisation event {expected} is not there"))
                expected = event[_CASE_SEQ] if isinstance(event[_CASE_SEQ], int) else expected
            if event[_PREV_HASH] != previous:
                part.damage.append(Damage("chain_broken", where,
                                          "it does not follow the previous organisation event (inserted, removed or rewritten)"))
            previous = event[_HASH]
    head = conn.execute(select(t.audit_heads.c.events, t.audit_heads.c.hash)
                        .where(t.audit_heads.c.name == "organisation")).first()
    count, last = (head.events, head.hash) if head else (0, None)
    if count != part.events or last != previous:
        part.damage.append(Damage("case_head", "organisation events",
                                  f"the head says {count} events ending {str(last)[:12]}, "
                                  f"the log has {part.events} ending {str(previous)[:12]}"))
    part.recorded = recorded.flush()
    return part


class _Recorded:
    """The evidence hashes events recorded, compared with the evidence rows in batches as the log streams."""

    def __init__(self, conn, decode) -> None:
        self.conn, self.decode = conn, decode
        self.pending: dict[int, str] = {}
        self.damage: list[Damage] = []

    def add(self, evidence_hashes) -> None:
        try:
            for ref in self.decode(evidence_hashes) or []:
                self.pending[ref["id"]] = ref["hash"]
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


def _check_evidence(app: App, conn) -> tuple[list[Damage], int]:
    damage: list[Damage] = []
    count = 0
    for row in _stream(conn, select(t.evidence).order_by(t.evidence.c.id)):
        count += 1
        where = f"case {row.case_id}, evidence {row.id} ({row.type})"
        if content_hash(row.type, row.fields, row.file_sha256) != row.content_hash:
            damage.append(Damage("evidence_changed", where, "its fields no longer match its hash"))
        if row.file_sha256:
            path = app.evidence.path_for(row.file_sha256)
            if not path.is_file():
                damage.append(Damage("evidence_file_missing", where, f"file {row.file_sha256[:12]} is gone"))
            elif not app.evidence.intact(row.file_sha256):
                damage.append(Damage("evidence_file_changed", where, f"file {row.file_sha256[:12]} was altered"))
    return damage, count


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
    from engine.services.org import require_admin
    from engine.domain.regions import ROOT
    require_admin(app, actor, ROOT, "audit seal")
    with app.transaction() as conn:
        if conn.dialect.name == "postgresql":
            # One seal at a time (an advisory lock: the application's role may not lock the audit
            # tables, it lost UPDATE/DELETE on them).
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7465616)")
        last = conn.execute(select(t.audit_checkpoints).order_by(t.audit_checkpoints.c.upto_seq.desc())
                            .limit(1)).first()
        running, upto, count = (last.hash if last else None), (last.upto_seq if last else 0), 0
        with _rows(conn, select(t.audit_events.c.seq, t.audit_events.c.hash)
                   .where(t.audit_events.c.seq > upto).order_by(t.audit_events.c.seq)) as events:
            for seq, digest in events:
                running, upto, count = _link(running, digest), seq, count + 1
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


def _check_checkpoints(conn, against: tuple[int, str] | None) -> _Part:
    damage: list[Damage] = []
    checkpoints = list(conn.execute(select(t.audit_checkpoints.c.upto_seq, t.audit_checkpoints.c.events,
                                           t.audit_checkpoints.c.hash).order_by(t.audit_checkpoints.c.upto_seq)))
    recomputed: dict[int, str | None] = {}
    if checkpoints:
        sha256 = hashlib.sha256
        running, count, pending = "", 0, iter(checkpoints)      # running: "" before the first event
        cp = next(pending)

        def close(cp, running: str, count: int) -> None:
            recomputed[cp.upto_seq] = running = running or None
            if running != cp.hash or count != cp.events:
                damage.append(Damage("checkpoint", f"checkpoint up to seq {cp.upto_seq}",
                                     f"the log now chains to {str(running)[:12]} over {count} events; "
                                     f"sealed {cp.hash[:12]} over {cp.events}"))

        with _rows(conn, select(t.audit_events.c.seq, t.audit_events.c.hash)
                   .where(t.audit_events.c.seq <= checkpoints[-1].upto_seq)
                   .order_by(t.audit_events.c.seq)) as events:
            upto = cp.upto_seq
            for seq, digest in events:
                while seq > upto:                      # past this checkpoint: compare, go to the next
                    close(cp, running, count)
                    cp, count = next(pending), 0       # there is one: seq <= the last one's upto_seq
                    upto = cp.upto_seq
                running = sha256((running + digest).encode()).hexdigest()
                count += 1
        close(cp, running, count)
        for cp in pending:                             # checkpoints past the last event
            close(cp, running, 0)
    if against is not None:
        seq, published = against
        if seq not in recomputed:
            damage.append(Damage("published_head", f"seq {seq}", "no checkpoint ends there any more"))
        elif recomputed[seq] != published:
            damage.append(Damage("published_head", f"seq {seq}",
                                 f"the log chains to {str(recomputed[seq])[:12]}, not the published {published[:12]}"))
    return _Part(damage=damage)
