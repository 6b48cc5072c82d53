"""Sealing the log into signed checkpoints, and the witnesses that keep a copy of each head.

A seal chains every event since the last checkpoint, in global order, into one hash (the head) and
signs it with the record's Ed25519 key (engine.adapters.keyring), so anyone can check a head with the
public key alone. Whoever holds the database could still rewrite a whole case consistently and
recompute every checkpoint, but not sign them; and a head that has left the database cannot be
replaced at all. So each seal's signed head is handed to witnesses — an append-only file, a second
database (JINGZHUN_WITNESS: paths or database URLs, comma-separated) — with the head of every case
that moved since the previous seal; `audit verify --witnesses` re-chains the log and compares it
with every head they hold, naming the first case whose events changed.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, Text, create_engine, func, make_url, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.keyring import key_id_of, signature_valid
from engine.adapters.private_files import FILE_MODE
from engine.domain.auth import Actor
from engine.domain.errors import RuleViolation
from engine.reads.audit_canonical import stream_rows
from engine.reads.audit_damage import Damage, found

# The scheduler's own identity: the server process holds the record's keys and seals every night
# without a person's credentials.
SCHEDULER = Actor(person_id=None, code="scheduler", name="scheduler")
WITNESS_ENV = "JINGZHUN_WITNESS"


def link(previous: str | None, event_hash_: str) -> str:
    return hashlib.sha256(((previous or "") + event_hash_).encode()).hexdigest()


def head_message(seq: int, digest: str) -> bytes:
    """What a head's signature signs."""
    return f"jingzhun-head {seq}:{digest}".encode()


def seal(app: App, actor, wait_s: float | None = None, check: Callable | None = None) -> dict | None:
    """Chain all events since the last checkpoint into a new, signed one, and hand its head to the
    witnesses; None when there is nothing new. An administrator, or the scheduler itself. On
    PostgreSQL, up to the last event no transaction still writing can come before (settled_bound),
    waiting `wait_s` seconds (SEAL_WAIT_S) for those transactions to end. `check(app, conn, bound)`:
    the damage the chain has (audit_verify.before_seal: audit_verify.seal passes it, and `audit seal`,
    the nightly seal and a backup seal through that); any, and nothing is sealed: the refusal is
    recorded and raised (audit.seal_damaged). Without it (the demo's own build, tests that tamper
    after a seal) the chain is not checked."""
    role = None
    if actor is not SCHEDULER:
        from engine.domain.regions import ROOT
        from engine.services.org import require_admin
        role = require_admin(app, actor, ROOT, "audit seal").role
    app.require_keys()           # a checkpoint sealed without the key would not be signed
    with app.transaction() as conn:
        bound = None
        if conn.dialect.name == "postgresql":
            # One seal at a time (an advisory lock: the application's role may not lock the audit
            # tables, it lost UPDATE/DELETE on them).
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7465616)")
            bound = settled_bound(conn, wait_s)
        # A checkpoint signs the chain: never over a broken one (it would read as vouched for)
        damage = check(app, conn, bound) if check is not None else []
        row = None if damage else _checkpoint(app, conn, actor, bound)
        if row is not None:
            if app.keyring is not None:
                _refuse_a_fork(conn, witnesses())
            conn.execute(t.audit_checkpoints.insert(), row)
            moved = _moved_cases(conn, row["upto_seq"] - row["events"], row["upto_seq"])
    if damage:
        _refuse_damaged(app, actor, role, damage)
    if row is None:
        return None
    if app.keyring is not None:
        hand_to_witnesses(signed(row, app.keyring.current.public_key), moved)
    return row


FINDINGS_KEPT = 20       # the findings a refused seal's activity entry keeps (the count: all of them)


def _refuse_damaged(app: App, actor, role: str | None, damage: list[Damage]) -> None:
    """A seal refused for a broken chain: recorded in the activity log (inspectors read it there and on
    /inspect), then refused (audit.seal_damaged) with the first finding and how many there are."""
    from engine.domain.regions import ROOT
    kept = [{"kind": d.kind, "place": d.place, "code": d.code, "params": dict(d.params)} for d in damage[:FINDINGS_KEPT]]
    with app.unit_of_work() as uow:
        uow.append_org_event(actor, "seal_refused", role, ROOT, findings=len(damage), damage=kept)
    first = damage[0]
    raise RuleViolation("audit.seal_damaged", n=len(damage), first=first.as_msg(),
                        fingerprint=hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:24])


def seal_refusal(app: App) -> dict | None:
    """The latest refused seal since the last checkpoint: {at, by, findings (how many), damage (the
    first FINDINGS_KEPT as Damage)}; None when the log was sealed since (or never refused)."""
    ae = t.audit_events.c
    with app.engine.connect() as conn:
        sealed = conn.execute(select(func.max(t.audit_checkpoints.c.upto_seq))).scalar() or 0
        row = conn.execute(select(ae.at, ae.person_code, ae.detail).where(
            ae.case_id.is_(None), ae.action == "seal_refused", ae.seq > sealed)
            .order_by(ae.case_seq.desc()).limit(1)).first()
    if row is None:
        return None
    detail = row.detail or {}
    return {"at": row.at, "by": row.person_code, "findings": detail.get("findings"),
            "damage": [Damage(d["kind"], d["place"], d["code"], tuple((d.get("params") or {}).items()))
                       for d in detail.get("damage") or ()]}


# On PostgreSQL an event's number is drawn when it is inserted and seen when its transaction commits:
# a long transaction (a city's import) holds numbers below events other transactions committed since.
# A seal of every event it could see skipped the import's, which then appeared inside a sealed range:
# every later `audit verify` called the untouched record damaged (检查点不符), and those events were
# never sealed. A transaction inserting events holds a lock on the table (ROW EXCLUSIVE, taken before
# its numbers are drawn) until it ends, and pg_locks lists it to everyone.
_WRITING = """SELECT DISTINCT virtualtransaction FROM pg_locks WHERE locktype = 'relation'
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND relation = 'audit_events'::regclass AND mode <> 'AccessShareLock'
              AND pid IS DISTINCT FROM pg_backend_pid()"""        # relations of this database only
SEAL_WAIT_S = 120.0


def settled_bound(conn, wait_s: float | None = None) -> int | None:
    """PostgreSQL: the highest event number every event at or below which is final (committed, or
    rolled back for good). The last number committed is read first; any transaction holding a number
    below it began inserting before, so it is among those writing just after: once they have ended,
    every number up to it is settled. Later events wait for the next seal. Writers still at work after
    `wait_s` seconds: refused (audit.seal_deferred), nothing sealed."""
    bound = conn.execute(select(func.max(t.audit_events.c.seq))).scalar() or 0
    writing = set(conn.exec_driver_sql(_WRITING).scalars())
    wait_s = SEAL_WAIT_S if wait_s is None else wait_s
    deadline = time.monotonic() + wait_s
    pause = 0.02
    while writing:
        if time.monotonic() >= deadline:
            raise RuleViolation("audit.seal_deferred", count=len(writing), seconds=round(wait_s))
        time.sleep(pause)
        pause = min(pause * 2, 1.0)
        writing &= set(conn.exec_driver_sql(_WRITING).scalars())
    return bound


def _checkpoint(app: App, conn, actor, bound: int | None = None) -> dict | None:
    """The checkpoint of the events after the last one, up to `bound` (None: every event)."""
    last = conn.execute(select(t.audit_checkpoints).order_by(t.audit_checkpoints.c.upto_seq.desc()).limit(1)).first()
    running, upto, count = (last.hash if last else None), (last.upto_seq if last else 0), 0
    after = select(t.audit_events.c.seq, t.audit_events.c.hash).where(t.audit_events.c.seq > upto)
    if bound is not None:
        after = after.where(t.audit_events.c.seq <= bound)
    with stream_rows(conn, after.order_by(t.audit_events.c.seq)) as events:
        for seq, digest in events:
            running, upto, count = link(running, digest), seq, count + 1
    if count == 0:
        return None
    ring = app.keyring
    return {"upto_seq": upto, "events": count, "prev_hash": last.hash if last else None, "hash": running,
            "sealed_at": app.clock.now(), "sealed_by": actor.code,
            "key_id": ring.key_id if ring else None, "signature": ring.sign(head_message(upto, running)) if ring else None}


def _moved_cases(conn, after: int, upto: int) -> list[list]:
    """[case, its last event's number, the first 16 hex digits of its hash] of every case with events
    in (after, upto]: what a witness needs to name the case a later rewrite changed."""
    last = (select(t.audit_events.c.case_id, func.max(t.audit_events.c.case_seq).label("case_seq"))
            .where(t.audit_events.c.seq > after, t.audit_events.c.seq <= upto, t.audit_events.c.case_id.is_not(None))
            .group_by(t.audit_events.c.case_id).subquery())
    rows = conn.execute(select(last.c.case_id, last.c.case_seq, t.audit_events.c.hash).join(
        t.audit_events, (t.audit_events.c.case_id == last.c.case_id) & (t.audit_events.c.case_seq == last.c.case_seq))
        .order_by(last.c.case_id))
    return [[case_id, case_seq, digest[:16]] for case_id, case_seq, digest in rows]


def signed(row: dict, public_key: str) -> dict:
    return {"seq": row["upto_seq"], "hash": row["hash"], "events": row["events"], "key_id": row["key_id"],
            "signature": row["signature"], "public_key": public_key, "sealed_at": row["sealed_at"].isoformat()}


def signed_head(app: App) -> dict | None:
    """The latest checkpoint as a head to publish: seq, hash, and its signature with the public key."""
    with app.engine.connect() as conn:
        last = conn.execute(select(t.audit_checkpoints).order_by(t.audit_checkpoints.c.upto_seq.desc()).limit(1)).first()
        key = conn.execute(select(t.record_keys.c.public_key).where(t.record_keys.c.key_id == last.key_id)).first() \
            if last is not None and last.key_id else None
    if last is None:
        return None
    return {"seq": last.upto_seq, "hash": last.hash, "key_id": last.key_id, "signature": last.signature,
            "public_key": key.public_key if key else None}


def head_signature_valid(head: dict) -> bool:
    key = head.get("public_key") or ""
    return (bool(head.get("signature")) and key_id_of(key) == head.get("key_id")
            and signature_valid(key, head_message(head["seq"], head["hash"]), head["signature"]))


# --- witnesses --------------------------------------------------------------------------------

def witnesses() -> list[str]:
    return [w.strip() for w in os.environ.get(WITNESS_ENV, "").split(",") if w.strip()]


def hand_to_witnesses(head: dict, moved: list[list], targets: list[str] | None = None) -> None:
    """Append the head, with the cases it moved, to every configured witness."""
    entry = json.dumps({**head, "cases": moved}, ensure_ascii=False, separators=(",", ":"))
    for target in witnesses() if targets is None else targets:
        if "://" in target:
            _witness_db(target, lambda conn, table: conn.execute(table.insert().values(seq=head["seq"], entry=entry)))
        else:
            fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(entry + "\n")
                fh.flush()
                os.fsync(fh.fileno())


def _witness_db(url: str, work):
    """A second database keeping heads in a table of its own (created on first use)."""
    table = Table("jingzhun_witness", MetaData(), Column("id", Integer, primary_key=True, autoincrement=True),
                  Column("seq", BigInteger, nullable=False), Column("entry", Text, nullable=False))
    engine = create_engine(url)
    try:
        table.create(engine, checkfirst=True)
        with engine.begin() as conn:
            return work(conn, table)
    finally:
        engine.dispose()


def _refuse_a_fork(conn, targets: list[str]) -> None:
    """Refuse (audit.seal_witness_ahead) when a witness's last head is not a checkpoint of this database:
    an older backup restored over the live home, the witness holding a later head of the history the
    backup left behind. A seal now would hand it a head of another history, which no later head could
    reconcile; nothing is sealed or written to any witness."""
    for target in targets:
        last = None
        for _w, entry in witnessed([target]):
            last = entry
        if last is None:
            continue
        ours = conn.execute(select(t.audit_checkpoints.c.hash).where(
            t.audit_checkpoints.c.upto_seq == last["seq"])).scalar()
        if ours != last["hash"]:
            sealed = conn.execute(select(func.max(t.audit_checkpoints.c.upto_seq))).scalar() or 0
            shown = make_url(target).render_as_string(hide_password=True) if "://" in target else target
            raise RuleViolation("audit.seal_witness_ahead", witness=shown, seq=last["seq"], sealed=sealed)


def tell_of_fork(app: App, refused: RuleViolation, roles: tuple[str, ...] = ("admin",)) -> int:
    """A seal refused for a forked witness (audit.seal_witness_ahead: an older backup restored, work going
    on from it) told to every administrator over the whole installation, over their channels, once per
    fork (the witness and the head it holds): the nightly seal is refused again each night until a person
    decides, and says nothing new. A seal refused for a broken chain (audit.seal_damaged) alike, to the
    `roles` given (administrators and inspectors: anyone holding them over a region, since the log is the
    whole installation's), once per damage found. Returns how many messages were queued."""
    from engine.domain.regions import ROOT
    from engine.services.org import holders, person_ids
    with app.transaction() as conn:
        if refused.code == "audit.seal_damaged":       # an inspector's post is a county's, a city's…
            held = conn.execute(select(t.persons.c.code).join(
                t.role_assignments, t.role_assignments.c.person_id == t.persons.c.id).where(
                t.role_assignments.c.role.in_(list(roles)), t.role_assignments.c.revoked_at.is_(None),
                t.persons.c.active.is_(True))).scalars()
            codes = sorted(set(held))
        else:
            codes = sorted({code for code, _name, _role in holders(conn, list(roles), ROOT)})
        ids = list(person_ids(conn, codes).values()) if codes else []
        channels = [c for chans in app.plugins.channels_of(conn, ids).values() for c in chans]
        return app.plugins.enqueue_fork(app, conn, refused, channels, app.clock.now()) if channels else 0


def witnessed(targets: list[str]) -> Iterator[tuple[str, dict]]:
    """(witness, entry) of every head the witnesses hold."""
    for target in targets:
        if "://" in target:
            rows = _witness_db(target, lambda conn, table: conn.execute(select(table.c.entry).order_by(table.c.id)).all())
            yield from ((target, json.loads(r.entry)) for r in rows)
        elif Path(target).exists():
            with open(target, encoding="utf-8") as fh:
                yield from ((target, json.loads(line)) for line in fh if line.strip())


@dataclass
class _Held:
    witness: str
    entry: dict


def check_witnesses(app: App, targets: list[str]) -> list[Damage]:
    """The log against every head the witnesses hold: each head's signature, then the chain re-computed
    at its seq; where they differ, the first case (of those the head moved) whose events changed."""
    held = [_Held(w, e) for w, e in witnessed(targets)]
    damage = [found("witness", "witness", "witness_signature", witness=h.witness, seq=h.entry["seq"])
              for h in held if not head_signature_valid(h.entry)]
    with app.engine.connect() as conn:
        chained = _chain_at(conn, {h.entry["seq"] for h in held})
        for h in held:
            if chained.get(h.entry["seq"]) != h.entry["hash"]:
                damage.append(_changed_case(conn, h))
    return damage


def _chain_at(conn, seqs: set[int]) -> dict[int, str]:
    """The chain's hash after each of `seqs` (every event from the first, in global order)."""
    chained, running, last = {}, None, max(seqs, default=0)
    with stream_rows(conn, select(t.audit_events.c.seq, t.audit_events.c.hash)
                     .where(t.audit_events.c.seq <= last).order_by(t.audit_events.c.seq)) as events:
        for seq, digest in events:
            running = link(running, digest)
            if seq in seqs:
                chained[seq] = running
    return chained


def _changed_case(conn, held: _Held) -> Damage:
    entry = held.entry
    for case_id, case_seq, digest in entry.get("cases", []):
        now = conn.execute(select(t.audit_events.c.hash).where(t.audit_events.c.case_id == case_id,
                                                               t.audit_events.c.case_seq == case_seq)).first()
        if now is None:             # not there: deleted, or a copy taken before it was written
            return found("witness", "witness", "witness_case_missing", witness=held.witness, seq=entry["seq"],
                         case=case_id, case_seq=case_seq)
        if now.hash[:16] != digest:
            return found("witness", "witness", "witness_case", witness=held.witness, seq=entry["seq"], case=case_id,
                         case_seq=case_seq)
    return found("witness", "witness", witness=held.witness, seq=entry["seq"])
