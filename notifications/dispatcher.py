"""Delivering the outbox: claim a batch, send each message, record each attempt, retry with backoff.

A dispatcher claims a batch of due messages for a lease (committed), then sends them one by one.
Before sending a message it marks it `sending` and renews the lease of what is left of its batch
(a slow server cannot make the batch's claim lapse), and it commits each outcome before sending
the next, so a dispatcher killed at any moment leaves at most the one message marked `sending`
undecided. Its claim then lapses (at once when the dead process ran on this host, else when the
lease ends) and the next dispatcher sends that message again, with the same Message-ID, and
records the lost attempt as `interrupted`; the rest of the dead batch is simply claimed again.

Channel down: the message waits (1 min, 5 min, 15 min, 1 h, 3 h, 6 h, 12 h) and is retried, and
the other messages of that channel (the SMTP server, a robot's webhook) are not tried until then;
any error a channel raises is such a failure, recorded. After MAX_ATTEMPTS (interrupted ones
count), or at once on a permanent refusal (unknown recipient, robot key rejected), it is
`failed` and shows in `jingzhun alerts list --failed`. On PostgreSQL batches are claimed with
FOR UPDATE SKIP LOCKED.
"""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update

from engine.adapters import tables as t
from engine.domain.deadline_rules import aware
from engine.domain.errors import Msg, stored, translator
from engine.reads.deadlines import SECRET_KINDS
from engine.services.sweep import take_write_lock
from .channels import DeliveryError, NotifySettings, Outgoing, plain_text, open_channels, route_of
from .outbox import retry_at, summary_again

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
BATCH = 50
HOST = socket.gethostname()


def worker_name() -> str:
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class DispatchResult:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    interrupted: int = 0
    deferred: int = 0          # not tried: their channel was found down in this run
    not_needed: int = 0        # not sent: the deadline they are about was closed before
    batches: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


_UNDECIDED = ("pending", "sending")
_CLAIMABLE = (select(t.outbox.c.id, t.outbox.c.status, t.outbox.c.claimed_by, t.outbox.c.claimed_until,
                     t.outbox.c.attempts)
              .where(t.outbox.c.status.in_(_UNDECIDED), t.outbox.c.next_attempt_at <= bindparam("now"),
                     t.outbox.c.folded_into.is_(None),      # sent within its summary
                     or_(t.outbox.c.claimed_until.is_(None), t.outbox.c.claimed_until < bindparam("now")))
              .order_by(t.outbox.c.next_attempt_at, t.outbox.c.id).limit(bindparam("limit")))
_CLAIM = update(t.outbox).where(t.outbox.c.id == bindparam("b_id")).values(
    status="pending", claimed_by=bindparam("b_worker"), claimed_until=bindparam("b_until"),
    attempts=bindparam("b_attempts"))
_SPENT = update(t.outbox).where(t.outbox.c.id == bindparam("b_id")).values(
    status="failed", claimed_by=None, claimed_until=None, attempts=bindparam("b_attempts"),
    last_error=bindparam("b_error"))
_CLAIMED = (select(t.outbox, t.persons.c.code).join(t.persons, t.persons.c.id == t.outbox.c.person_id)
            .where(t.outbox.c.claimed_by == bindparam("worker"), t.outbox.c.status == "pending")
            .order_by(t.outbox.c.next_attempt_at, t.outbox.c.id))
_LIVE_CLAIMS = select(t.outbox.c.claimed_by).where(
    t.outbox.c.status.in_(_UNDECIDED), t.outbox.c.claimed_by.is_not(None),
    t.outbox.c.claimed_until >= bindparam("now")).distinct()
_RELEASE = update(t.outbox).where(t.outbox.c.claimed_by == bindparam("b_worker"),
                                  t.outbox.c.status.in_(_UNDECIDED)).values(claimed_until=None)
_START = update(t.outbox).where(t.outbox.c.id == bindparam("b_id"), t.outbox.c.claimed_by == bindparam("b_worker"),
                                t.outbox.c.status == "pending").values(status="sending",
                                                                       claimed_until=bindparam("b_until"))
_RENEW = update(t.outbox).where(t.outbox.c.claimed_by == bindparam("b_worker"), t.outbox.c.status == "pending"
                                ).values(claimed_until=bindparam("b_until"))
_DEFER = update(t.outbox).where(t.outbox.c.id == bindparam("b_id"), t.outbox.c.claimed_by == bindparam("b_worker"),
                                t.outbox.c.status == "pending").values(
    claimed_by=None, claimed_until=None, next_attempt_at=bindparam("b_next"), last_error=bindparam("b_error"))
_FINISH = update(t.outbox).where(t.outbox.c.id == bindparam("b_id"), t.outbox.c.claimed_by == bindparam("b_worker"))
_INSERT_ATTEMPT = insert(t.outbox_attempts)
# The alerts folded into a summary message take its outcome (each alert's delivery stays on record).
_FOLDED_FINISH = update(t.outbox).where(t.outbox.c.folded_into == bindparam("b_summary"),
                                        t.outbox.c.status.in_(_UNDECIDED))
_FOLDED = (select(t.outbox.c.id, t.outbox.c.alert_id, t.deadlines.c.status)
           .join(t.deadlines, t.deadlines.c.id == t.outbox.c.deadline_id)
           .where(t.outbox.c.folded_into == bindparam("summary"), t.outbox.c.status.in_(_UNDECIDED)))
_DEADLINE_STATUS = select(t.deadlines.c.status).where(t.deadlines.c.id == bindparam("id"))
_NOT_NEEDED = update(t.outbox).where(t.outbox.c.id.in_(bindparam("ids", expanding=True))).values(
    status="not_needed", claimed_by=None, claimed_until=None, last_error=bindparam("b_error"))


def _alive(worker: str) -> bool:
    """Whether the process that holds a claim may still be running (only known for this host)."""
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if host != HOST or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dispatch(app, settings: NotifySettings | None = None, now: datetime | None = None, batch: int = BATCH,
             lease: timedelta = LEASE, worker: str | None = None, max_batches: int | None = None) -> DispatchResult:
    """Deliver every due message; returns counts. `now` fixes the time (tests, `--now`)."""
    settings = settings or NotifySettings.from_env(app.settings.home)
    worker = worker or worker_name()
    clock = (lambda: aware(now)) if now is not None else (lambda: aware(app.clock.now()))  # noqa: E731
    result = DispatchResult()
    _release_dead(app, clock())
    channels = open_channels(settings)
    down: dict[str, tuple[datetime, Msg]] = {}     # route -> (when to try it again, why)
    try:
        while max_batches is None or result.batches < max_batches:
            claimed, found = _claim(app, worker, clock(), batch, lease, result)
            if not found:
                break
            result.batches += 1
            for row in claimed:
                _deliver(app, channels, worker, row, clock, lease, result, down)
            if found < batch:
                break
    finally:
        for ch in channels.values():
            ch.close()
    return result


def _release_dead(app, now: datetime) -> None:
    with app.engine.connect() as conn:
        holders = [r.claimed_by for r in conn.execute(_LIVE_CLAIMS, {"now": now})]
    dead = [w for w in holders if not _alive(w)]
    if dead:
        with app.transaction() as conn:
            conn.execute(_RELEASE, [{"b_worker": w} for w in dead])


def _claim(app, worker: str, now: datetime, batch: int, lease: timedelta,
           result: DispatchResult) -> tuple[list, int]:
    """(the messages claimed for sending, how many due messages were found)."""
    with app.transaction() as conn:
        take_write_lock(conn)
        stmt = _CLAIMABLE
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = conn.execute(stmt, {"now": now, "limit": batch}).all()
        if not rows:
            return [], 0
        # Marked `sending` by a dispatcher that did not finish it: that attempt is recorded as lost.
        lost = [r for r in rows if r.status == "sending"]
        if lost:
            conn.execute(_INSERT_ATTEMPT, [
                {"outbox_id": r.id, "attempt": r.attempts + 1, "worker": r.claimed_by or "-", "started_at": now,
                 "finished_at": now, "outcome": "interrupted",
                 "error": stored(Msg("delivery.interrupted", {"worker": r.claimed_by or "-",
                                                                "until": aware(r.claimed_until) or "-"}))}
                for r in lost])
            result.interrupted += len(lost)
        attempts = {r.id: r.attempts + (1 if r.status == "sending" else 0) for r in rows}
        spent = [r for r in rows if attempts[r.id] >= MAX_ATTEMPTS]
        if spent:   # e.g. a message that kills its dispatcher every time it is sent
            spent_rows = [{"b_id": r.id, "b_attempts": attempts[r.id],
                           "b_error": stored(Msg("delivery.spent", {"attempts": attempts[r.id]}))} for r in spent]
            conn.execute(_SPENT, spent_rows)
            conn.execute(_FOLDED_FINISH.values(status="failed", attempts=bindparam("b_attempts"),
                                               last_error=bindparam("b_error")),
                         [{**r, "b_summary": r["b_id"]} for r in spent_rows])
            result.failed += len(spent)
        live = [r for r in rows if attempts[r.id] < MAX_ATTEMPTS]
        if live:
            conn.execute(_CLAIM, [{"b_id": r.id, "b_worker": worker, "b_until": now + lease,
                                   "b_attempts": attempts[r.id]} for r in live])
        return conn.execute(_CLAIMED, {"worker": worker}).all(), len(rows)


def _deliver(app, channels: dict[str, Any], worker: str, row, clock, lease: timedelta, result: DispatchResult,
             down: dict[str, tuple[datetime, Msg]]) -> None:
    route = route_of(row.channel, row.address)
    if route in down:     # its channel failed a moment ago in this run: not tried again before its retry
        again, why = down[route]
        with app.transaction() as conn:
            result.deferred += conn.execute(_DEFER, {"b_id": row.id, "b_worker": worker, "b_next": again,
                                                     "b_error": stored(Msg("delivery.not_tried", {"why": why}))}).rowcount
        return
    started = clock()
    with app.transaction() as conn:
        if not conn.execute(_START, {"b_id": row.id, "b_worker": worker, "b_until": started + lease}).rowcount:
            return     # our claim lapsed and another dispatcher has it
        conn.execute(_RENEW, {"b_worker": worker, "b_until": started + lease})
        said = _still_needed(app, conn, row, started)
        if said is None:
            result.not_needed += 1
            return
    message = Outgoing(row.id, row.channel, row.address, *said, row.dedupe_key,
                       aware(row.created_at), row.code)
    error: DeliveryError | None = None
    sender = channels.get(row.channel)
    try:
        if sender is None:
            raise DeliveryError("unknown_channel", {"channel": row.channel}, permanent=True)
        sender.send(message)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:   # a channel's own bug or an unforeseen error: a failed attempt, recorded
        error = DeliveryError("crashed", {"detail": f"{type(exc).__name__}: {plain_text(exc)}"})
        try:
            sender.close()
        except Exception:
            pass
    finished = clock()
    attempts = row.attempts + 1
    if error is None:
        outcome, values = "delivered", {"status": "delivered", "delivered_at": finished, "last_error": None}
        if row.kind in SECRET_KINDS:       # delivered: the code is the person's now, and nowhere else
            values["body"] = translator(app.config, row.lang)("outbox.secret_delivered")
        result.delivered += 1
    elif error.permanent or attempts >= MAX_ATTEMPTS:
        outcome, values = "failed", {"status": "failed", "last_error": str(error)}
        if row.kind in SECRET_KINDS:       # never delivered: the code is not kept either (issue another)
            values["body"] = translator(app.config, row.lang)("outbox.secret_withdrawn")
        result.failed += 1
    else:
        again = retry_at(finished, attempts)
        outcome, values = "retry", {"status": "pending", "next_attempt_at": again, "last_error": str(error)}
        result.retried += 1
        if error.unreachable:
            down[route] = (again, Msg("delivery.channel_down", {"route": route, "error": error.msg}))
    with app.transaction() as conn:
        conn.execute(_FINISH.values(attempts=attempts, claimed_by=None, claimed_until=None, **values),
                     {"b_id": row.id, "b_worker": worker})
        if row.kind == "alerts":
            conn.execute(_FOLDED_FINISH.values(attempts=attempts, **{k: v for k, v in values.items() if k != "body"}),
                         {"b_summary": row.id})
        conn.execute(_INSERT_ATTEMPT, {"outbox_id": row.id, "attempt": attempts, "worker": worker,
                                       "started_at": started, "finished_at": finished, "outcome": outcome,
                                       "error": str(error) if error else None})


def _still_needed(app, conn, row, now: datetime) -> tuple[str, str] | None:
    """(subject, body) of `row` as it is to be sent, or None when the work it is about was done (or cancelled) before it
    could be sent: a reminder, an alert or a press whose deadline closed is recorded `not_needed`, and
    so is each alert of a summary whose deadline closed; a summary left with some is said again with
    those, one left with none is not sent."""
    dropped = {"b_error": stored(Msg("delivery.dropped", {}))}
    if row.kind == "alerts":
        folded = conn.execute(_FOLDED, {"summary": row.id}).all()
        closed = [f.id for f in folded if f.status != "open"]
        if not closed:
            return row.subject, row.body
        conn.execute(_NOT_NEEDED, {"ids": closed, **dropped})
        live = [f.alert_id for f in folded if f.status == "open"]
        if not live:
            conn.execute(_NOT_NEEDED, {"ids": [row.id], **dropped})
            return None
        subject, body = summary_again(app, conn, row, live, now)
        conn.execute(update(t.outbox).where(t.outbox.c.id == row.id).values(subject=subject, body=body))
        return subject, body
    if row.deadline_id is None or conn.execute(_DEADLINE_STATUS, {"id": row.deadline_id}).scalar() == "open":
        return row.subject, row.body
    conn.execute(_NOT_NEEDED, {"ids": [row.id], **dropped})
    return None
