"""A procedure ended rejected by a step: those who did its earlier steps hear of it at once.

Everyone who did an earlier step of the procedure (its steps not voided, a verification's
verifiers too) and, for a household, its pairing cadres in post are told over their channels, in
the step's transaction, each once; never the person who rejected it. A list step rejecting many
cases reads their pairings and everyone's channels once, not case by case.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.one_of import one_of
from engine.domain.auth import Actor
from engine.domain.cases import participants
from engine.services.plugins import RejectionMessage

class Rejected(NamedTuple):
    """A case whose procedure was ended rejected: the case row, its open procedure as it stood (its
    steps: who to tell), the rejecter's post and the reason (a person's words or the engine's text)."""
    case: Any
    open_proc: Any
    role: str
    reason: str | None
    procedure_id: int


_OPEN_PAIRINGS = select(t.pairings.c.case_id, t.pairings.c.person_id).where(
    one_of(t.pairings.c.case_id), t.pairings.c.end_date.is_(None)).order_by(t.pairings.c.id)


def tell_of_rejections(app: App, conn: Connection, actor: Actor, procedure: str, step_key: str,
                       rejected: Sequence[Rejected], effective: date, now: datetime) -> int:
    """Tell of each case whose procedure `actor` ended rejected at `step_key` (a step, or an objection
    upheld at its notice's step). Returns how many messages were queued."""
    if not rejected:
        return 0
    told: dict[int, dict[int, None]] = {r.case.id: dict.fromkeys(participants(r.open_proc)) for r in rejected}
    for row in conn.execute(_OPEN_PAIRINGS, {"ids": sorted(told)}):
        told[row.case_id].setdefault(row.person_id)
    for people in told.values():
        people.pop(actor.person_id, None)
    channels = app.plugins.channels_of(conn, [pid for people in told.values() for pid in people])
    messages = [RejectionMessage(r.procedure_id, r.case, procedure, step_key, (actor.person_id, actor.code, actor.name),
                                 r.role, r.reason, effective, [pid for pid in told[r.case.id] if channels.get(pid)])
                for r in rejected]
    messages = [m for m in messages if m.recipients]
    return app.plugins.enqueue_rejection(app, conn, messages, channels, now) if messages else 0
