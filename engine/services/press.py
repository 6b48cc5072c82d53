"""督办 (press for action): a supervisor who sees a piece of work overdue presses its owner directly.

The press is an organisation audit event (`deadline_pressed`: deadline, case, rule, step, owner,
note) and one message per channel of the owner, written in one transaction. Who may press: a post
that supervises the deadline's region (township leaders, the county poverty office, county
leaders, the city office, and whoever an escalation ladder names), never a read-only post, a
village post or the owner. A deadline outside the presser's jurisdiction is not found, as a case
out of reach is. One press per deadline, presser and office day.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, null, select
from sqlalchemy import case as when

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.deadline_rules import aware, office_span, office_zone, overdue_by, wall_clock
from engine.domain.errors import AuthError, BadInput, NotFound, RuleViolation, own_words
from engine.services import handover
from engine.services.org import refuse_read_only, require_role
from engine.services.plugins import PressMessage

ACTION = "deadline_pressed"
NOTE_MAX = 500
# The posts that supervise work below them (the escalation ladders' leaders and the offices); the
# roles a configured ladder escalates to are added (engine.services.press.pressing_roles).
PRESSING_ROLES = ("township_head", "township_secretary", "county_office_director", "county_office_staff",
                  "county_head", "county_secretary", "county_leader_for_township", "city_office_staff")

_ae = t.audit_events.c
# The presses of deadlines in some regions: organisation events of one action, read through the
# index on (action, region_code) of events with no case (ix_audit_events_org_action).
PRESSED = and_(_ae.case_id.is_(None), _ae.action == ACTION)
PRESSED_DEADLINE = _ae.detail["deadline"].as_integer()


def pressing_roles(app: App) -> tuple[str, ...]:
    """PRESSING_ROLES and the roles any escalation ladder names, less read-only and village posts."""
    roles = app.config.roles
    ladders = app.config.deadlines.ladders if app.config.deadlines else {}
    named = [r for ladder in ladders.values() for level in ladder if level.to != "owner" for r in level.to]
    return tuple(r for r in dict.fromkeys((*PRESSING_ROLES, *named))
                 if r in roles and not roles[r].read_only and roles[r].level != "village")


def may_press(app: App, actor: Actor) -> bool:
    """Whether any of the person's posts may press work (what the overdue page offers them)."""
    allowed = pressing_roles(app)
    return any(a.role in allowed for a in actor.assignments)


def press_deadline(app: App, actor: Actor, deadline_id: int, note: str | None = None,
                   case_id: int | None = None) -> dict[str, Any]:
    """Press the owner of an open deadline; returns {deadline, case, title, owner, owner_name,
    channels, reached, days_overdue, at, event, handed_from}. `channels` 0: the press is recorded, nobody
    reached; `handed_from`: the code of the owner who had left the post, the deadline handed over first.
    `case_id`: pressed from that case's page, a deadline of another case is not found."""
    note = (own_words(note) or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise BadInput("press.note_too_long", most=NOTE_MAX, length=len(note))
    now = app.clock.now()
    with app.unit_of_work() as uow:
        conn = uow.conn
        uow.lock_organisation()         # a second press at once waits, then sees this one (one a day)
        d = conn.execute(select(t.deadlines).where(t.deadlines.c.id == deadline_id)).first()
        if d is None or not actor.roles_over(d.region_code) or case_id not in (None, d.case_id):
            raise NotFound("press.unknown", deadline=deadline_id)
        refuse_read_only(app, actor, "deadline press")
        used = require_role(app, actor, pressing_roles(app), d.region_code, "deadline press")
        if d.status != "open":
            raise RuleViolation("press.closed", deadline=deadline_id, status=d.status)
        # an owner who left (or lost the post) is never pressed: the work goes to whoever holds it now,
        # written even when nobody does and the press is refused (the deadline is then shown as nobody's,
        # not the leaver's, at once, not from the next sweep on)
        handed = handover.hand_over(app, uow, actor, used.role, d.region_code, "press", [d], deadline=d.id)
        if handed:
            d = conn.execute(select(t.deadlines).where(t.deadlines.c.id == deadline_id)).first()
        refused = _unowned(conn, d) if d.owner_id is None else _refused(app, conn, actor, d, now, handed)
        if refused is None:
            return _press(app, uow, actor, used.role, d, note, now) | {
                "handed_from": handed[0]["from"] if handed else None}
    raise refused       # after the hand-over's commit: the deadline is its new holder's whatever the refusal


def _refused(app: App, conn, actor: Actor, d, now, handed: list[dict]) -> AuthError | RuleViolation | None:
    """Why the owner of `d` may not be pressed by `actor` now (their own work, or pressed today already),
    saying whom a leaver's deadline just went to when it did; None: the press goes ahead."""
    left = handed[0]["from"] if handed else None
    if d.owner_id == actor.person_id:
        if left:
            return AuthError("press.own_work_handed", deadline=d.id, left=left)
        return AuthError("press.own_work", deadline=d.id, person=actor.code)
    last = _pressed_today(app, conn, actor, d, now)
    if last is None:
        return None
    if left:
        return RuleViolation("press.already_today_handed", deadline=d.id, left=left, owner=handed[0]["to"],
                             at=wall_clock(app.config, last))
    return RuleViolation("press.already_today", deadline=d.id, at=wall_clock(app.config, last))


def _unowned(conn, d) -> RuleViolation:
    """Why a deadline with no owner cannot be pressed: the post that owned it is vacant (which post,
    over which place: an administrator appoints a successor, who gets it), or it never had an owner."""
    if not d.owner_changes:
        return RuleViolation("press.no_owner", deadline=d.id)
    place = conn.execute(select(t.regions.c.name).where(t.regions.c.code == d.region_code)).scalar()
    return RuleViolation("press.no_holder", deadline=d.id, role=d.owner_role or "-", region=place or d.region_code)


def _press(app: App, uow, actor: Actor, role: str, d, note: str | None, now) -> dict[str, Any]:
    """The press itself, in the caller's transaction: the organisation event and the owner's messages
    (the caller found nothing against it: `_unowned`, `_refused`)."""
    conn = uow.conn
    case = conn.execute(select(t.cases.c.id, t.cases.c.kind, t.cases.c.title, t.cases.c.region_code,
                               t.cases.c.pending_procedure, t.cases.c.pending_step)
                        .where(t.cases.c.id == d.case_id)).first()
    owner = conn.execute(select(t.persons.c.id, t.persons.c.code, t.persons.c.name)
                         .where(t.persons.c.id == d.owner_id)).first()
    event = uow.append_org_event(actor, ACTION, role, d.region_code, deadline=d.id, case=d.case_id,
                                 rule=d.rule, step=d.step_key, owner=owner.code, note=note)
    channels = app.plugins.channels_of(conn, [owner.id]).get(owner.id, [])
    days = days_overdue(app, d, now)
    if channels:
        app.plugins.enqueue_press(app, conn, PressMessage(
            event=event["seq"], deadline=d, case=case, presser=(actor.person_id, actor.code, actor.name),
            role=role, owner=(owner.id, owner.code, owner.name), note=note, days_overdue=days),
            channels, now)
    return {"deadline": d.id, "case": d.case_id, "title": case.title, "owner": owner.code, "owner_name": owner.name,
            "channels": len(channels), "reached": sorted({c.channel for c in channels}), "days_overdue": days,
            "counting": d.counting, "at": aware(now).isoformat(), "event": event["seq"], "note": note}


def days_overdue(app: App, d, now) -> int:
    """Days the office date of `now` is past the due date, in the rule's own days (0: not yet)."""
    return overdue_by(app.config, d.due_on, _office_day(app, now), d.counting)


def _pressed_today(app: App, conn, actor: Actor, d, now):
    """When this person last pressed this deadline's owner in office today (office day), or None: a
    press made to an owner who has since left (the deadline handed over) does not hold back the next."""
    today = _office_day(app, now)
    start, _ = office_span(app.config, today, today + timedelta(days=1))
    owner = conn.execute(select(t.persons.c.code).where(t.persons.c.id == d.owner_id)).scalar()
    return conn.execute(select(func.max(_ae.at)).where(
        PRESSED, _ae.region_code == d.region_code, _ae.person_id == actor.person_id, _ae.at >= start,
        PRESSED_DEADLINE == d.id, PRESSED_OWNER == owner)).scalar()


PRESSED_OWNER = _ae.detail["owner"].as_string()     # the code of the owner a press went to


def presses_of(conn, deadlines: list[tuple[int, str]], person_id: int | None = None,
               owners: dict[int, str | None] | None = None) -> dict[int, tuple[int, Any, Any]]:
    """{deadline id: (times pressed, last pressed at, last pressed by `person_id` at)} of (deadline
    id, region) pairs: one grouped query, through the index of organisation events by action and region.
    `owners` ({deadline: its owner's code}): only the presses made to that owner count (one made to an
    owner who left went to them, not to who holds the work now)."""
    if not deadlines:
        return {}
    ids = sorted({i for i, _ in deadlines})
    regions = sorted({r for _, r in deadlines})
    mine = func.max(when((_ae.person_id == person_id, _ae.at))) if person_id is not None else null()
    q = (select(PRESSED_DEADLINE.label("deadline"), PRESSED_OWNER.label("owner"), func.count().label("n"),
                func.max(_ae.at).label("last"), mine.label("mine"))
         .where(PRESSED, _ae.region_code.in_(regions), PRESSED_DEADLINE.in_(ids))
         .group_by(PRESSED_DEADLINE, PRESSED_OWNER))
    found: dict[int, tuple[int, Any, Any]] = {}
    for r in conn.execute(q):
        if owners is not None and owners.get(r.deadline) != r.owner:
            continue
        n, last, me = found.get(r.deadline, (0, None, None))
        found[r.deadline] = (n + r.n, max(filter(None, (last, r.last)), default=None),
                             max(filter(None, (me, r.mine)), default=None))
    return found


def pressed_today(app: App, at, now) -> bool:
    """Whether a press at `at` was on the office day of `now` (a second one that day is refused)."""
    return at is not None and _office_day(app, at) == _office_day(app, now)


def _office_day(app: App, at) -> date:
    """The office's calendar day of a moment (an aware or UTC time)."""
    return aware(at).astimezone(office_zone(app.config)).date()
