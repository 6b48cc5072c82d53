"""The unit of work: one database transaction, and the only writer of audit events.

Every change is recorded by an audit event written in the same transaction. A case's events form a
hash chain (case_seq, prev_hash) and each one bumps the case's version under the optimistic lock;
events with no case form the organisation chain, whose head is kept in `audit_heads`. Both chains
are appended here and nowhere else, so the chaining and the lock cannot drift between callers.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Sequence, TypeVar

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.bulk import insert_many, insert_rows
from engine.adapters.one_of import one_of
from engine.adapters.direct import Direct
from engine.domain.audit import make_event
from engine.domain.errors import ChangedMeanwhile

_UPDATE_CASE = update(t.cases).where(t.cases.c.id == bindparam("b_id"), t.cases.c.version == bindparam("b_version")
                                     ).values(version=bindparam("b_new_version"))
_UPDATE_ONE_CASE = Direct(_UPDATE_CASE)
_INSERT_EVENT = insert(t.audit_events)
EVENT_COLUMNS = tuple(c.name for c in t.audit_events.columns if c.name != "id" and not c.primary_key)
_CASE_HEADS = select(t.cases.c.id, t.cases.c.last_event_hash).where(one_of(t.cases.c.id))
_ORGANISATION = "organisation"
_ORGANISATION_HEAD = select(t.audit_heads.c.events, t.audit_heads.c.hash).where(t.audit_heads.c.name == _ORGANISATION)
_MOVE_ORGANISATION_HEAD = t.audit_heads.update().where(t.audit_heads.c.name == _ORGANISATION)
# Taking the head before reading it: PostgreSQL locks its row; SQLite has no row locks, and a SELECT
# before a transaction's first write runs outside it (pysqlite), so a write that changes nothing
# takes the database's write lock first.
_LOCK_ORGANISATION_HEAD = _ORGANISATION_HEAD.with_for_update()
# Organisation events this process has written (people, posts, configuration): what a cache of who
# holds which post (engine.services.guards) compares, to read the posts again after a change here.
_organisation_writes = [0]


def organisation_epoch() -> int:
    return _organisation_writes[0]
_TOUCH_ORGANISATION_HEAD = t.audit_heads.update().where(t.audit_heads.c.name == _ORGANISATION).values(
    events=t.audit_heads.c.events)


@dataclass
class CaseEvent:
    """One event on one case: `case` is the row as loaded (id, version, region_code, event_count,
    last_event_hash); `event` holds make_event's other fields; `values` the case columns it sets."""
    case: Any
    event: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)


class UnitOfWork:
    """What a service writes through: `conn` for its own rows, and the two audit chains."""

    def __init__(self, conn: Connection, clock, policy_version: str, keyring=None):
        self.conn = conn
        self.clock = clock
        self.policy_version = policy_version
        self.keyring = keyring          # engine.adapters.keyring.Keyring: each event MACed; None: a home without keys

    def _macs(self, events: list[dict]) -> list[dict]:
        """Each event with the MAC of its hash by the record's key (which a copy of the database lacks)."""
        ring = self.keyring
        if ring is not None:
            for e in events:
                e["key_id"], e["mac"] = ring.key_id, ring.mac(e["hash"])
        return events

    def append_case_events(self, actor, changes: Sequence[CaseEvent], at: datetime | None = None) -> list[dict]:
        """Chain each change's event after its case's last one and bump the case's version, all or
        none: one UPDATE and one INSERT for the whole list (executemany). Returns the events."""
        at = at or self.clock.now()
        events = [self._case_event(actor, c, at) for c in changes]
        updates = [_case_update(c, e) for c, e in zip(changes, events)]
        self._bump_versions(updates, changes)
        insert_many(self.conn, _INSERT_EVENT, t.audit_events, EVENT_COLUMNS, self._macs(events))
        for c, e in zip(changes, events):
            c.case.version, c.case.event_count, c.case.last_event_hash = c.case.version + 1, e["case_seq"], e["hash"]
        return events

    def append_case_event(self, actor, case, values: dict | None = None, at: datetime | None = None,
                          **event: Any) -> dict:
        """One event on one case (see append_case_events)."""
        return self.append_case_events(actor, [CaseEvent(case, event, values or {})], at)[0]

    def open_cases(self, actor, changes: Sequence[CaseEvent], write_cases: Callable[[list[dict]], None],
                   at: datetime | None = None) -> list[dict]:
        """Cases this transaction creates, with their first events, for a registry-sized import: each
        change's case (version 1, no events yet) gets its first event; `write_cases(events)` inserts the
        case rows with the version, event count and hash those events give them (see `opened`), and
        then the events are inserted — no UPDATE per new case. Returns the events."""
        at = at or self.clock.now()
        events = [self._case_event(actor, c, at) for c in changes]
        write_cases(events)
        insert_rows(self.conn, t.audit_events, EVENT_COLUMNS, [list(map(e.get, EVENT_COLUMNS)) for e in self._macs(events)])
        return events

    def append_org_event(self, actor, action: str, role: str | None, region: str | None, *,
                         at: datetime | None = None, fields: dict | None = None, **detail: Any) -> dict:
        """An event with no case (people, posts, configuration, outcomes without a problem item): these
        form one chain of their own, so a deleted or inserted one is found like a case's. `fields`:
        make_event's other fields (reason, step_key, evidence_hashes), if any. The event comes back
        with its `seq` (a row it grants can name it: role assignments do)."""
        head = self.lock_organisation()
        _organisation_writes[0] += 1
        count, previous = (head.events, head.hash) if head else (0, None)
        event = make_event(actor=actor, action=action, at=at or self.clock.now(), role=role, region_code=region,
                           case_seq=count + 1, prev_hash=previous, policy_version=self.policy_version, detail=detail,
                           **(fields or {}))
        event["seq"] = self.conn.execute(_INSERT_EVENT, self._macs([event])[0]).inserted_primary_key[0]
        self._move_organisation_head(head is None, count + 1, event["hash"])
        return event

    def lock_organisation(self):
        """The organisation chain's head (events, hash), held by this transaction until it ends: two
        organisation events at once chain one after the other, and a service that checks before it
        writes one (one press a day) takes it first so that its check sees the other's event."""
        if self.conn.dialect.name == "sqlite":
            self.conn.execute(_TOUCH_ORGANISATION_HEAD)
            return self.conn.execute(_ORGANISATION_HEAD).first()
        return self.conn.execute(_LOCK_ORGANISATION_HEAD).first()

    def _case_event(self, actor, change: CaseEvent, at: datetime) -> dict:
        case = change.case
        return make_event(actor=actor, at=at, region_code=case.region_code, case_id=case.id,
                          case_seq=case.event_count + 1, prev_hash=case.last_event_hash,
                          policy_version=self.policy_version, **change.event)

    def _bump_versions(self, updates: list[dict], changes: Sequence[CaseEvent]) -> None:
        """The version checks: every case must still be at the version its rules were checked against."""
        conn = self.conn
        if len(updates) == 1:        # a single step's: on the driver (engine.adapters.direct)
            changed = _UPDATE_ONE_CASE.rowcount(conn, updates[0])
        elif conn.dialect.supports_sane_multi_rowcount and all(u.keys() == updates[0].keys() for u in updates):
            changed = _UPDATE_ONE_CASE.rowcount_many(conn, updates)      # a list's: one executemany, the same way
        elif conn.dialect.supports_sane_multi_rowcount:
            changed = conn.execute(_UPDATE_CASE, updates).rowcount
        else:   # a driver that cannot count an executemany's rows: one statement per case
            changed = sum(conn.execute(_UPDATE_CASE, u).rowcount for u in updates)
        if changed != len(updates):
            lost = changes[0].case.id if len(changes) == 1 else self._changed_case(updates)
            raise ChangedMeanwhile(lost, after=next(u["event_count"] - 1 for u in updates if u["b_id"] == lost))

    def _changed_case(self, updates: list[dict]) -> int:
        """Which case of a list moved on under us (looked up only when one did): the one whose last
        event is not the one just chained onto it."""
        current = dict(self.conn.execute(_CASE_HEADS, {"ids": [u["b_id"] for u in updates]}).all())
        return next((u["b_id"] for u in updates if current.get(u["b_id"]) != u["last_event_hash"]), updates[0]["b_id"])

    def _move_organisation_head(self, first: bool, events: int, digest: str) -> None:
        if first:
            self.conn.execute(insert(t.audit_heads).values(name=_ORGANISATION, events=events, hash=digest))
        else:
            self.conn.execute(_MOVE_ORGANISATION_HEAD.values(events=events, hash=digest))


_T = TypeVar("_T")
# How many times an action that lost to another writer is judged again before it says so (the third
# writer on one case in the same instant, twice over, is what it takes to exhaust it).
JUDGED_AGAIN = 3


def judged_again(act: Callable[[], _T]) -> _T:
    """`act()` (one transaction that reads, judges and writes), done again from its start when another
    writer changed one of its cases in between (ChangedMeanwhile: it wrote nothing): judged on the record
    as it now stands, it is done, or refused as a person acting after the other would be (the step done
    already, by whom and when; the household holding the item now). Up to JUDGED_AGAIN times."""
    for _ in range(JUDGED_AGAIN - 1):
        try:
            return act()
        except ChangedMeanwhile:
            continue
    return act()


def judged_again_when_lost(act: Callable[..., _T]) -> Callable[..., _T]:
    """A writer of one case's action whose checks all run inside its one transaction, done as
    `judged_again` does when it loses to another writer (a visit, an objection: what it records still
    makes sense on the newer record, and its checks say when it does not)."""
    @functools.wraps(act)
    def again(*args: Any, **kwargs: Any) -> _T:
        return judged_again(lambda: act(*args, **kwargs))
    return again


def name_writers(conn: Connection, lost: ChangedMeanwhile, wall_clock: Callable[[Any], str]) -> None:
    """`lost` said as who changed its case meanwhile, what they did and when (`wall_clock`: a stored time
    on the office's clock): the events after the one the action had read, in a new transaction."""
    if lost.after is None:
        return
    case_id = lost.params["case"]
    events = t.audit_events.c
    rows = conn.execute(select(events.person_code, events.action, events.at).where(
        events.case_id == case_id, events.case_seq > lost.after).order_by(events.case_seq)).all()
    conn.rollback()
    if rows:
        lost.by_writers(tuple(dict.fromkeys(r.person_code for r in rows)),
                        tuple(dict.fromkeys(r.action for r in rows)), wall_clock(rows[-1].at))


def opened(event: dict) -> dict:
    """The columns of a new case that its first event sets (see UnitOfWork.open_cases)."""
    return {"version": 2, "event_count": event["case_seq"], "last_event_hash": event["hash"], "updated_at": event["at"]}


def _case_update(change: CaseEvent, event: dict) -> dict:
    case = change.case
    return {"updated_at": event["at"], **change.values, "b_id": case.id, "b_version": case.version,
            "b_new_version": case.version + 1, "event_count": event["case_seq"], "last_event_hash": event["hash"]}

