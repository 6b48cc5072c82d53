"""Accountability outcomes (问责) recorded against persons and organisations (DOMAIN.md §9).

The decision is taken by the discipline commission or the organisation department; the engine
keeps it, with the problem item it answers, on the audit record, and it shows in the person's trace.
Reassignment and removal must be carried out within one month: the due date is kept with it.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select, update

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.uow import judged_again_when_lost
from engine.domain.auth import Actor
from engine.services.case_actions import append_case_event
from engine.services.deadlines import after_outcome, after_outcome_done
from engine.domain.errors import AuthError, BadInput, NotFound, RuleViolation, own_words
from engine.domain.inputs import codes_with_prefix, to_code
from engine.services.org import require_role
from engine.adapters.repository import load_cases
from engine.domain.regions import covers

PERSON_OUTCOMES = {   # for cadres
    "circulated_criticism": "通报", "admonition": "诫勉", "reassignment": "组织调整", "removal": "免职",
    "party_warning": "警告", "party_serious_warning": "严重警告", "party_post_removal": "撤销党内职务",
    "party_probation": "留党察看", "party_expulsion": "开除党籍",
}
ORGANISATION_OUTCOMES = {"self_examination": "检查", "circulated_criticism": "通报", "reorganisation": "改组"}
DONE_WITHIN_MONTHS = {"reassignment": 1, "removal": 1}
ENDS_POSTS = ("removal",)     # carried out, the person no longer holds their posts there (免职)
RECORDER_ROLES = ("discipline_officer", "organisation_officer")


@dataclass
class OutcomeInput:
    outcome: str
    reason: str
    decided_on: date
    person: str | None = None          # a person's code, or
    organisation: str | None = None    # an organisation's name (with `region`)
    region: str | None = None
    problem_id: int | None = None


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


@judged_again_when_lost
def record_outcome(app: App, actor: Actor, item: OutcomeInput) -> int:
    if bool(item.person) == bool(item.organisation):
        raise BadInput("outcome.person_or_organisation")
    codes = PERSON_OUTCOMES if item.person else ORGANISATION_OUTCOMES
    labels = codes_with_prefix(app.config.labels, "outcome")       # by code, short name or label (党内警告)
    outcome = to_code(item.outcome, {c: [short, *labels.get(c, [])] for c, short in codes.items()})
    if outcome not in codes:
        raise BadInput("outcome.unknown", outcome=item.outcome, known=", ".join(codes))
    own_words(item.reason, "outcome.reason_required")
    if item.decided_on > app.clock.today():
        raise RuleViolation("date.future", date=item.decided_on, today=app.clock.today())
    with app.unit_of_work() as uow:
        conn = uow.conn
        problem = load_cases(conn, [item.problem_id])[item.problem_id] if item.problem_id else None
        if problem is not None and problem.kind != "problem":
            raise BadInput("outcome.not_a_problem", case=problem.id)
        person = None
        if item.person:
            person = conn.execute(select(t.persons.c.id, t.persons.c.code, t.persons.c.name).where(
                t.persons.c.code == item.person)).first()
            if person is None:
                raise NotFound("person.unknown", code=item.person)
            posts = conn.execute(select(t.role_assignments.c.region_code, t.role_assignments.c.revoked_at).where(
                t.role_assignments.c.person_id == person.id).order_by(t.role_assignments.c.id)).all()
            current = [p.region_code for p in posts if p.revoked_at is None] or [p.region_code for p in posts]
            region = item.region or (problem.region_code if problem else (current[0] if current else None))
        else:
            region = item.region or (problem.region_code if problem else None)
        if region is None:
            raise BadInput("outcome.region_required")
        assignment = require_role(app, actor, RECORDER_ROLES, region, "accountability record")
        if problem is not None:
            require_role(app, actor, RECORDER_ROLES, problem.region_code, "accountability record")
        if person is not None and not any(a.role in RECORDER_ROLES and covers(a.region_code, p.region_code)
                                          for a in actor.assignments for p in posts):
            # Only over someone who holds, or held, a post within the recorder's own jurisdiction.
            raise AuthError("auth.jurisdiction", person=actor.code, action="accountability record",
                            region=", ".join(sorted({p.region_code for p in posts})) or "-")
        months = DONE_WITHIN_MONTHS.get(outcome) if person is not None else None
        row = {"person_id": person.id if person else None, "person_name": person.name if person else None,
               "organisation": item.organisation, "region_code": region, "outcome": outcome,
               "problem_id": item.problem_id, "reason": item.reason.strip(), "decided_on": item.decided_on,
               "due_on": add_months(item.decided_on, months) if months else None, "done_on": None,
               "recorded_by": actor.person_id, "recorded_at": app.clock.now()}
        outcome_id = conn.execute(insert(t.accountability_outcomes), row).inserted_primary_key[0]
        if problem is not None:
            after_outcome(app, conn, problem, {**row, "id": outcome_id}, row["recorded_at"])
        detail = {"outcome_id": outcome_id, "outcome": outcome, "person": person.code if person else None,
                  "person_name": row["person_name"], "organisation": item.organisation,
                  "decided_on": item.decided_on, "due_on": row["due_on"]}
        if problem is not None:
            append_case_event(app, conn, actor, problem, "accountability_recorded", assignment.role,
                              reason=row["reason"], **detail)
        else:
            uow.append_org_event(actor, "accountability_recorded", assignment.role, region, reason=row["reason"],
                                 **detail)
    return outcome_id


@judged_again_when_lost
def outcome_done(app: App, actor: Actor, outcome_id: int, done_on: date) -> None:
    """Record that an outcome was carried out (a reassignment or removal is due within a month: `late`)."""
    if done_on > app.clock.today():
        raise RuleViolation("date.future", date=done_on, today=app.clock.today())
    with app.unit_of_work() as uow:
        conn = uow.conn
        row = conn.execute(select(t.accountability_outcomes).where(
            t.accountability_outcomes.c.id == outcome_id)).first()
        if row is None:
            raise NotFound("outcome.unknown_id", id=outcome_id)
        assignment = require_role(app, actor, RECORDER_ROLES, row.region_code, "accountability done")
        if row.done_on is not None:
            raise RuleViolation("outcome.already_done", id=outcome_id, on=row.done_on)
        if done_on < row.decided_on:
            raise RuleViolation("date.order", case="-", date=done_on, step=row.outcome, previous=row.decided_on)
        conn.execute(update(t.accountability_outcomes).where(t.accountability_outcomes.c.id == outcome_id)
                     .values(done_on=done_on))
        ended = _end_posts(app, uow, actor, row) if row.outcome in ENDS_POSTS and row.person_id else []
        detail = {"outcome_id": outcome_id, "outcome": row.outcome, "done_on": done_on,
                  "late": bool(row.due_on and done_on > row.due_on), **({"posts_ended": ended} if ended else {})}
        if row.problem_id:
            after_outcome_done(conn, row.problem_id, outcome_id, app.clock.now())
            problem = load_cases(conn, [row.problem_id])[row.problem_id]
            append_case_event(app, conn, actor, problem, "accountability_done", assignment.role, **detail)
        else:
            uow.append_org_event(actor, "accountability_done", assignment.role, row.region_code, **detail)


def _end_posts(app: App, uow, actor: Actor, row) -> list[list[str]]:
    """A removal carried out ends the posts the person holds over the outcome's region, above it or
    within it, in the recorder's jurisdiction: each as an administrator's revocation ends one, with
    its organisation event (audit verify replays the posts from them). [[role, region], ...]"""
    conn, ra, rp = uow.conn, t.role_assignments.c, t.role_proposals.c
    uow.lock_organisation()         # what it reads (posts held, proposals open) holds until it writes
    code = conn.execute(select(t.persons.c.code).where(t.persons.c.id == row.person_id)).scalar_one()

    def there(posts) -> list[tuple]:
        """The posts over the outcome's region, above it or within it, that the recorder reaches: with
        the recorder's post there."""
        return [(p, by) for p in posts if covers(p.region_code, row.region_code) or covers(row.region_code, p.region_code)
                if (by := actor.first_role(RECORDER_ROLES, p.region_code)) is not None]

    ended = there(conn.execute(select(ra.id, ra.role, ra.region_code).where(
        ra.person_id == row.person_id, ra.revoked_at.is_(None)).order_by(ra.id)))
    for p, by in ended:
        conn.execute(update(t.role_assignments).where(ra.id == p.id).values(revoked_at=app.clock.now()))
        uow.append_org_event(actor, "role_revoked", by.role, p.region_code, person=code, revoked_role=p.role,
                             outcome_id=row.id)
    # a post proposed for them there and not yet confirmed would give the removal back once confirmed
    waiting = there(conn.execute(select(rp.id, rp.role, rp.region_code).where(
        rp.person_id == row.person_id, rp.status == "pending").order_by(rp.id)))
    if waiting:
        conn.execute(update(t.role_proposals).where(rp.id.in_([p.id for p, _ in waiting])).values(
            status="refused", decided_by=actor.person_id, decided_at=app.clock.now(), reason=row.reason[:500]))
        uow.append_org_event(actor, "roles_refused", waiting[0][1].role, row.region_code, reason=row.reason,
                             roles=[[code, p.role, p.region_code] for p, _ in waiting],
                             proposals=[p.id for p, _ in waiting], outcome_id=row.id)
    return [[p.role, p.region_code] for p, _ in ended]
