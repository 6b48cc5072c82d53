"""One-time enrolment codes: made for a person (by an administrator, or with the person's record
at `person add`), sent over the person's channel or returned for a paper slip. Only their SHA-256
is kept. Spending them is engine.services.accounts' (the person's own act)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, update

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor

ENROLMENT_DAYS = 7
# A WeCom or DingTalk robot posts to a group chat: a code sent there is seen by everyone in it. A
# person with no other channel gets a paper code.
GROUP_CHANNELS = ("wecom", "dingtalk")
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I/L: read off paper and typed on a phone


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_digest(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


@dataclass(frozen=True)
class Enrolment:
    person: str
    delivery: str              # the channel kind it was sent over, or "paper"
    expires_at: datetime
    code: str | None = None    # only for paper: printed on the slip, never shown otherwise
    group_only: bool = False   # on paper because the person's only channels are group robots


def enrol_in(app: App, uow, actor: Actor, assignment, person, paper: bool = False,
             where: str | None = None) -> Enrolment:
    """`issue_enrolment`'s work inside the caller's unit of work (also for people just added). Its
    event is filed under `where` (the person's posts' region), else the administrator's post's."""
    secret = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3))
    conn, now = uow.conn, app.clock.now()
    expires = now + timedelta(days=ENROLMENT_DAYS)
    theirs = [] if paper else app.plugins.channels_of(conn, [person.id]).get(person.id, [])
    channels = [c for c in theirs if c.channel not in GROUP_CHANNELS]
    delivery = "paper" if not channels else ",".join(sorted({c.channel for c in channels}))
    conn.execute(update(t.enrolment_codes).where(
        t.enrolment_codes.c.person_id == person.id, t.enrolment_codes.c.spent_at.is_(None),
        t.enrolment_codes.c.withdrawn_at.is_(None)).values(withdrawn_at=now))
    conn.execute(insert(t.enrolment_codes).values(
        person_id=person.id, code_hash=code_digest(secret), issued_by=actor.person_id or None,
        issued_at=now, expires_at=expires, delivery=delivery[:20]))
    if channels:
        app.plugins.enqueue_enrolment(app, conn, person, channels, secret, expires, now)
    region = where or (assignment.region_code if assignment else None)
    uow.append_org_event(actor, "enrolment_issued", assignment.role if assignment else None, region,
                         person=person.code, delivery=delivery,
                         expires_at=expires.isoformat())
    return Enrolment(person.code, delivery, expires, secret if not channels else None,
                     group_only=bool(theirs) and not channels)
