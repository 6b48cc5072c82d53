"""Four eyes on approving roles: no single administrator can make somebody an approver.

A role is *approving* when it signs off a procedure step (`signoff` steps of any workflow) or is an
administrator's. Granted while another active administrator covers its region (`person grant`,
`person add`, `person import`), it is only *proposed*: it waits in `role_proposals` until a second
administrator confirms it (`person confirm`), or is refused (`person refuse`). Only the confirmation
makes it a role assignment (engine.services.role_proposals), carried by a `roles_confirmed` event that names both administrators.
While a region has a single administrator, their grant takes effect at once and its event says so
(`four_eyes: sole_administrator`), for inspectors to see.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.regions import covers


def approving_roles(config: Any) -> frozenset[str]:
    found = {name for name, role in config.roles.items() if role.admin}
    for workflow in config.workflows.values():
        for procedure in workflow.procedures.values():
            found |= {r for step in procedure.steps if step.type == "signoff" for r in step.roles}
    return frozenset(found)


def other_admin_regions(app: App, conn: Connection, actor: Actor) -> list[str]:
    """The regions active administrators other than `actor` hold posts over."""
    admins = [name for name, r in app.config.roles.items() if r.admin]
    return list(conn.execute(select(t.role_assignments.c.region_code).join(
        t.persons, t.persons.c.id == t.role_assignments.c.person_id).where(
        t.role_assignments.c.role.in_(admins), t.role_assignments.c.revoked_at.is_(None),
        t.persons.c.active.is_(True), t.persons.c.id != (actor.person_id or -1))).scalars())


def split(app: App, conn: Connection, actor: Actor, roles: Iterable[tuple[str, str]]) -> tuple[list, list, bool]:
    """(granted now, proposed for a second administrator, whether an approving role is granted by a
    sole administrator) of `roles` [(role, region)]. The other administrators are read once a person
    (when a role needs them), not once a role; and again for the next person of a list, who may be
    covered by an administrator the list has just made."""
    approving, others = approving_roles(app.config), None
    now, later, sole = [], [], False
    for role, region in roles:
        if role not in approving:
            now.append((role, region))
            continue
        others = others if others is not None else other_admin_regions(app, conn, actor)
        if any(covers(g, region) for g in others):
            later.append((role, region))
        else:
            now.append((role, region))
            sole = True
    return now, later, sole


def propose(app: App, uow: Any, actor: Actor, assignment: Any, person: Any, roles: Sequence[tuple[str, str]]) -> list[int]:
    """Record `roles` of `person` (a persons row) as waiting for a second administrator."""
    event = uow.append_org_event(actor, "roles_proposed", assignment.role, assignment.region_code,
                                 person=person.code, roles=[list(r) for r in roles])
    now = app.clock.now()
    return [uow.conn.execute(insert(t.role_proposals).values(
        person_id=person.id, role=role, region_code=region, proposed_by=actor.person_id, proposed_at=now,
        proposal_seq=event["seq"], status="pending")).inserted_primary_key[0] for role, region in roles]
