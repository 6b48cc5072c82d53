"""Proposed approving roles (four eyes, see engine.services.four_eyes): listed for administrators,
confirmed by a second administrator into role assignments, or refused."""
from __future__ import annotations

from typing import Iterable, Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.deadline_rules import wall_clock
from engine.domain.auth import Actor
from engine.domain.errors import NotFound, RuleViolation
from engine.domain.regions import ROOT
from engine.reads.case_lists import within
from engine.services.handover import posts_filled
from engine.services.org import require_admin


_PENDING = (select(t.role_proposals.c.id, t.persons.c.code.label("person"), t.persons.c.name, t.role_proposals.c.role,
                   t.role_proposals.c.region_code, t.role_proposals.c.proposed_by, t.role_proposals.c.proposed_at,
                   t.role_proposals.c.person_id)
            .join(t.persons, t.persons.c.id == t.role_proposals.c.person_id)
            .where(t.role_proposals.c.status == "pending").order_by(t.role_proposals.c.id))


def pending(app: App, actor: Actor, person_codes: Iterable[str] | None = None) -> list[dict]:
    """The proposals waiting for a second administrator, in the actor's jurisdiction as administrator
    (when proposed: on the office's clock)."""
    admin_regions = [a.region_code for a in actor.assignments if app.config.roles.get(a.role) and app.config.roles[a.role].admin]
    if not admin_regions:
        require_admin(app, actor, ROOT, "person pending")
    query = _PENDING.where(within(admin_regions, t.role_proposals.c.region_code))
    if person_codes is not None:
        query = query.where(t.persons.c.code.in_(list(person_codes)))
    with app.engine.connect() as conn:
        rows = conn.execute(query).all()
        proposers = _codes(conn, {r.proposed_by for r in rows})
    return [{"id": r.id, "person": r.person, "name": r.name, "role": r.role, "region": r.region_code,
             "proposed_by": proposers.get(r.proposed_by), "proposed_at": wall_clock(app.config, r.proposed_at)}
            for r in rows]


def _codes(conn: Connection, ids: set[int]) -> dict[int, str]:
    return dict(conn.execute(select(t.persons.c.id, t.persons.c.code).where(t.persons.c.id.in_(ids))).all()) if ids else {}


def confirm(app: App, actor: Actor, ids: Sequence[int]) -> int:
    """A second administrator confirms proposals: they become role assignments, all or none."""
    return _decide(app, actor, ids, "confirmed")


def refuse(app: App, actor: Actor, ids: Sequence[int], reason: str) -> int:
    """An administrator (the proposer too: a withdrawal) refuses proposals, with a reason."""
    return _decide(app, actor, ids, "refused", reason)


def _decide(app: App, actor: Actor, ids: Sequence[int], status: str, reason: str | None = None) -> int:
    with app.unit_of_work() as uow:
        conn = uow.conn
        uow.lock_organisation()     # two administrators deciding at once: the second sees the first's decision
        rows = _open_proposals(conn, ids)
        for r in rows:
            assignment = require_admin(app, actor, r.region_code, "person confirm" if status == "confirmed" else "person refuse")
            if status == "confirmed" and actor.person_id in (r.proposed_by, r.person_id):
                raise RuleViolation("four_eyes.same_admin" if actor.person_id == r.proposed_by else "duty.self_grant",
                                    person=r.person, role=r.role)
        proposers = _codes(conn, {r.proposed_by for r in rows})
        listed = [[r.person, r.role, r.region_code] for r in rows]
        event = uow.append_org_event(
            actor, "roles_" + status, assignment.role, assignment.region_code, roles=listed,
            proposals=[r.id for r in rows], proposed_by=[proposers[r.proposed_by] for r in rows],
            **({"reason": reason} if reason else {}))
        now = app.clock.now()
        conn.execute(update(t.role_proposals).where(t.role_proposals.c.id.in_([r.id for r in rows])).values(
            status=status, decided_by=actor.person_id, decided_at=now, reason=reason))
        if status == "confirmed":
            conn.execute(insert(t.role_assignments), [
                {"person_id": r.person_id, "role": r.role, "region_code": r.region_code, "granted_by": r.proposed_by,
                 "granted_at": now, "event_seq": event["seq"], "event_hash": event["hash"]} for r in rows])
            for r in rows:
                posts_filled(app, uow, actor, assignment.role, [(r.role, r.region_code)], r.person)
    return len(rows)


def _open_proposals(conn: Connection, ids: Sequence[int]) -> list:
    rows = conn.execute(select(t.role_proposals, t.persons.c.code.label("person")).join(
        t.persons, t.persons.c.id == t.role_proposals.c.person_id).where(t.role_proposals.c.id.in_(list(ids)))).all()
    found = {r.id: r for r in rows}
    for i in ids:
        if i not in found or found[i].status != "pending":
            raise NotFound("proposal.not_pending", proposal=i)
    return [found[i] for i in dict.fromkeys(ids)]
