"""The organisation: regions, persons, role assignments; authentication and authorisation."""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Sequence

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor, Assignment, hash_token, new_token, verify_token
from engine.domain.errors import AuthError, BadInput, NotFound, RuleViolation
from engine.domain.regions import LEVEL_RANK, ROOT, ancestors_of, check_code, covers, level_of, parent_of

SYSTEM = Actor(person_id=0, code="system", name="system")


def authenticate(app: App, code: str | None, token: str | None) -> Actor:
    if not code:
        raise AuthError("auth.no_person")
    if not token:
        raise AuthError("auth.no_token", person=code)
    with app.engine.connect() as conn:
        row = conn.execute(select(t.persons).where(t.persons.c.code == code)).first()
        if not verify_token(token, row.token_hash if row else None) or not row.active:
            raise AuthError("auth.bad_token", person=code)
        return load_actor(conn, row)


def load_actor(conn: Connection, row) -> Actor:
    assignments = conn.execute(
        select(t.role_assignments.c.role, t.role_assignments.c.region_code)
        .where(t.role_assignments.c.person_id == row.id, t.role_assignments.c.revoked_at.is_(None))
        .order_by(t.role_assignments.c.id)).all()
    return Actor(row.id, row.code, row.name, tuple(Assignment(r.role, r.region_code) for r in assignments))


def is_read_only(app: App, actor: Actor) -> bool:
    roles = app.config.roles
    return bool(actor.assignments) and all(roles[a.role].read_only for a in actor.assignments if a.role in roles)


def require_role(app: App, actor: Actor, allowed: Iterable[str], region_code: str,
                 action: str) -> Assignment:
    """The actor's assignment that allows `action` over `region_code`, or a clear refusal."""
    allowed = tuple(allowed)
    found = actor.first_role(allowed, region_code)
    if found is not None:
        return found
    if is_read_only(app, actor):
        raise AuthError("auth.read_only", person=actor.code, action=action)
    if not actor.assignments:
        raise AuthError("auth.no_roles", person=actor.code, action=action)
    if any(a.role in allowed for a in actor.assignments):
        raise AuthError("auth.jurisdiction", person=actor.code, action=action, region=region_code)
    raise AuthError("auth.wrong_role", person=actor.code, action=action,
                    roles=", ".join(allowed), region=region_code)


def require_admin(app: App, actor: Actor, region_code: str, action: str) -> Assignment:
    admins = [name for name, r in app.config.roles.items() if r.admin]
    return require_role(app, actor, admins, region_code, action)


def require_reader(app: App, actor: Actor, region_code: str) -> None:
    if not any(covers(a.region_code, region_code) for a in actor.assignments):
        raise AuthError("auth.jurisdiction", person=actor.code, action="read", region=region_code)


# --- regions ---------------------------------------------------------------------------------

def ensure_root(conn: Connection) -> None:
    if conn.execute(select(t.regions.c.code).where(t.regions.c.code == ROOT)).first() is None:
        conn.execute(insert(t.regions).values(code=ROOT, name="全国", level="country", parent_code=None))


def add_regions(app: App, actor: Actor, rows: Sequence[tuple[str, str]]) -> int:
    """Add regions (code, name) in one transaction; parents must exist or come earlier."""
    if not rows:
        raise BadInput("region.none")
    with app.unit_of_work() as uow:
        conn = uow.conn
        known = set()
        for line, (code, name) in enumerate(rows, start=1):
            try:
                check_code(code)
                if not name or not name.strip():
                    raise BadInput("region.no_name", code=code)
                parent = parent_of(code)
            except BadInput as exc:
                exc.params.setdefault("line", line)
                raise
            assignment = require_admin(app, actor, code, "region add")
            if parent not in known and conn.execute(
                    select(t.regions.c.code).where(t.regions.c.code == parent)).first() is None:
                raise BadInput("region.no_parent", code=code, parent=parent, line=line)
            if level_of(parent) != _PARENT_LEVEL[level_of(code)]:
                raise BadInput("region.skips_level", code=code, level=level_of(code), parent=parent,
                               parent_level=level_of(parent), line=line)
            if code in known or conn.execute(
                    select(t.regions.c.code).where(t.regions.c.code == code)).first() is not None:
                raise BadInput("region.exists", code=code, line=line)
            conn.execute(insert(t.regions).values(code=code, name=name.strip(), level=level_of(code),
                                                  parent_code=parent))
            known.add(code)
        codes = [c for c, _ in rows]
        uow.append_org_event(actor, "regions_added", assignment.role, assignment.region_code, count=len(rows),
                             codes=codes, codes_sha256=hashlib.sha256(",".join(codes).encode()).hexdigest())
    return len(rows)


_PARENT_LEVEL = {"province": "country", "city": "province", "county": "city", "township": "county",
                 "village": "township"}


# --- persons ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewPerson:
    code: str
    name: str
    roles: tuple[tuple[str, str], ...] = ()   # (role, region_code)
    with_token: bool = True
    channels: tuple[tuple[str, str, str], ...] = ()   # (kind, address, lang): how alerts reach them


_PERSON_BY_CODE = select(t.persons.c.id).where(t.persons.c.code == bindparam("code"))
_REGION_BY_CODE = select(t.regions.c.code).where(t.regions.c.code == bindparam("code"))


def _check_role(app: App, conn: Connection, role: str, region: str) -> None:
    if role not in app.config.roles:
        raise BadInput("role.unknown", role=role, known=", ".join(app.config.roles))
    check_code(region)
    if conn.execute(_REGION_BY_CODE, {"code": region}).first() is None:
        raise BadInput("region.unknown", code=region)
    definition = app.config.roles[role]
    region_level = level_of(region)
    if definition.admin or definition.read_only:     # their level or any region above it
        fits = region_level == "country" or LEVEL_RANK[region_level] >= LEVEL_RANK[definition.level]
    elif definition.assign_below:                    # e.g. a county leader covering one township
        fits = region_level != "country" and LEVEL_RANK[region_level] <= LEVEL_RANK[definition.level]
    else:                                            # a post is held over a region of its own level
        fits = region_level == definition.level
    if not fits:
        raise BadInput("role.wrong_level", role=role, level=definition.level, region=region,
                       region_level=region_level)


def add_persons(app: App, actor: Actor | None, people: Sequence[NewPerson]) -> dict[str, str]:
    """Create persons with their roles in one transaction; returns each new login token once.

    `actor` None is allowed only while no person exists (the first administrator at init).
    """
    tokens: dict[str, str] = {p.code: new_token() for p in people if p.with_token}
    # Hash before the transaction and on every core: scrypt is slow on purpose and releases the GIL.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        hashes = dict(zip(tokens, pool.map(hash_token, tokens.values())))
    with app.unit_of_work() as uow:
        conn = uow.conn
        if actor is None:
            if conn.execute(select(func.count()).select_from(t.persons)).scalar():
                raise AuthError("auth.no_person")
            actor = SYSTEM
        now = app.clock.now()
        seen: set[str] = set()
        for person in people:
            if not person.code or not person.code.strip() or not person.name or not person.name.strip():
                raise BadInput("person.incomplete", code=person.code or "-")
            if person.code in seen or conn.execute(_PERSON_BY_CODE, {"code": person.code}).first():
                raise BadInput("person.exists", code=person.code)
            seen.add(person.code)
            used = None
            for role, region in person.roles:
                _check_role(app, conn, role, region)
                if actor is not SYSTEM:
                    used = require_admin(app, actor, region, "person add")
            if actor is not SYSTEM and not person.roles:
                used = require_admin(app, actor, ROOT if not actor.assignments else actor.assignments[0].region_code,
                                     "person add")
            pid = conn.execute(insert(t.persons), {
                "code": person.code, "name": person.name.strip(), "token_hash": hashes.get(person.code),
                "active": True, "created_at": now}).inserted_primary_key[0]
            if person.roles:
                conn.execute(insert(t.role_assignments), [
                    {"person_id": pid, "role": role, "region_code": region,
                     "granted_by": actor.person_id or None, "granted_at": now}
                    for role, region in person.roles])
            if person.channels:
                app.plugins.add_channels(conn, pid, person.channels, now)
            if actor is SYSTEM:
                actor = Actor(pid, person.code, person.name, ())
            channels = {"channels": sorted({c[0] for c in person.channels})} if person.channels else {}
            uow.append_org_event(actor, "person_added", used.role if used else None,
                                 used.region_code if used else None, person=person.code, name=person.name,
                                 roles=[list(r) for r in person.roles], login=person.code in hashes, **channels)
    return tokens


def reset_token(app: App, actor: Actor, code: str) -> str:
    with app.unit_of_work() as uow:
        conn = uow.conn
        person = person_by_code(conn, code)
        regions = [r.region_code for r in conn.execute(select(t.role_assignments.c.region_code).where(
            t.role_assignments.c.person_id == person.id, t.role_assignments.c.revoked_at.is_(None)))]
        for region in regions or [ROOT]:   # an administrator over every post the person holds
            assignment = require_admin(app, actor, region, "person token")
        token = new_token()
        conn.execute(update(t.persons).where(t.persons.c.id == person.id).values(token_hash=hash_token(token)))
        uow.append_org_event(actor, "token_issued", assignment.role, assignment.region_code, person=code)
    return token


def grant_role(app: App, actor: Actor, code: str, role: str, region: str) -> None:
    with app.unit_of_work() as uow:
        conn = uow.conn
        person = person_by_code(conn, code)
        _check_role(app, conn, role, region)
        assignment = require_admin(app, actor, region, "person grant")
        if person.id == actor.person_id:
            raise RuleViolation("duty.self_grant", person=code, role=role)
        conn.execute(insert(t.role_assignments).values(person_id=person.id, role=role, region_code=region,
                                                       granted_by=actor.person_id, granted_at=app.clock.now()))
        uow.append_org_event(actor, "role_granted", assignment.role, region, person=code, granted_role=role)


def revoke_role(app: App, actor: Actor, code: str, role: str, region: str) -> None:
    with app.unit_of_work() as uow:
        conn = uow.conn
        person = person_by_code(conn, code)
        assignment = require_admin(app, actor, region, "person revoke")
        done = conn.execute(update(t.role_assignments).where(
            t.role_assignments.c.person_id == person.id, t.role_assignments.c.role == role,
            t.role_assignments.c.region_code == region, t.role_assignments.c.revoked_at.is_(None),
        ).values(revoked_at=app.clock.now())).rowcount
        if not done:
            raise NotFound("role.not_held", person=code, role=role, region=region)
        uow.append_org_event(actor, "role_revoked", assignment.role, region, person=code, revoked_role=role)


def person_by_code(conn: Connection, code: str):
    row = conn.execute(select(t.persons).where(t.persons.c.code == code)).first()
    if row is None:
        raise NotFound("person.unknown", code=code)
    return row


def person_ids(conn: Connection, codes: Iterable[str]) -> dict[str, int]:
    codes = list(dict.fromkeys(codes))
    rows = conn.execute(select(t.persons.c.code, t.persons.c.id).where(t.persons.c.code.in_(codes))).all()
    found = {r.code: r.id for r in rows}
    missing = [c for c in codes if c not in found]
    if missing:
        raise NotFound("person.unknown", code=", ".join(missing))
    return found


def holders(conn: Connection, roles: Iterable[str], region_code: str) -> list[tuple[str, str, str]]:
    """(person code, name, role) of everyone holding one of `roles` over `region_code`."""
    ancestors = ancestors_of(region_code)
    rows = conn.execute(
        select(t.persons.c.code, t.persons.c.name, t.role_assignments.c.role)
        .join(t.role_assignments, t.role_assignments.c.person_id == t.persons.c.id)
        .where(t.role_assignments.c.role.in_(list(roles)), t.role_assignments.c.region_code.in_(ancestors),
               t.role_assignments.c.revoked_at.is_(None), t.persons.c.active.is_(True))
        .order_by(t.persons.c.code)).all()
    return [(r.code, r.name, r.role) for r in rows]


def persons_holding(conn: Connection, person_codes: Iterable[str], roles: Iterable[str],
                    region_code: str) -> dict[str, int]:
    """Map of code -> person id for those of `person_codes` that hold a role over the region."""
    ids = person_ids(conn, person_codes)
    rows = conn.execute(select(t.role_assignments.c.person_id, t.role_assignments.c.region_code).where(
        t.role_assignments.c.person_id.in_(list(ids.values())), t.role_assignments.c.role.in_(list(roles)),
        t.role_assignments.c.revoked_at.is_(None))).all()
    ok = {r.person_id for r in rows if covers(r.region_code, region_code)}
    return {code: pid for code, pid in ids.items() if pid in ok}


__all__ = ["authenticate", "require_role", "require_admin", "add_regions", "add_persons", "grant_role",
           "revoke_role", "reset_token", "NewPerson", "holders"]
