"""The organisation: regions, persons, role assignments; authentication and authorisation."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.services import four_eyes, handover
from engine.services.enrolment import enrol_in
from engine.domain.auth import Actor, Assignment, verify_token
from engine.domain.errors import AuthError, BadInput, JingzhunError, NotFound, RuleViolation
from engine.domain.regions import LEVEL_DIGITS, LEVEL_RANK, ROOT, ancestors_of, ascii_digits, common_ancestor, covers, level_of, parent_of, posts_region

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
        return load_actor(conn, row, app.keyring)


_ASSIGNMENTS = (select(t.role_assignments.c.role, t.role_assignments.c.region_code, t.role_assignments.c.event_hash,
                       t.audit_events.c.hash, t.audit_events.c.action, t.audit_events.c.case_id,
                       t.audit_events.c.region_code.label("event_region"), t.audit_events.c.detail,
                       t.audit_events.c.key_id, t.audit_events.c.mac)
                .outerjoin(t.audit_events, t.audit_events.c.seq == t.role_assignments.c.event_seq)
                .where(t.role_assignments.c.person_id == bindparam("person"), t.role_assignments.c.revoked_at.is_(None))
                .order_by(t.role_assignments.c.id))


def load_actor(conn: Connection, row, keyring=None) -> Actor:
    """A person with the roles they hold: only assignments whose granting organisation event is there,
    unchanged, names this person, role and region, and (where this process holds the record's keys)
    carries the record key's MAC. A row inserted or edited behind the engine grants nothing."""
    rows = conn.execute(_ASSIGNMENTS, {"person": row.id}).all()
    return Actor(row.id, row.code, row.name, tuple(Assignment(r.role, r.region_code) for r in rows
                                                   if granted_by_event(r, row.code, keyring)))


def granted_by_event(r, code: str, keyring=None) -> bool:
    """Whether the event an assignment names grants it (see load_actor)."""
    if r.hash is None or r.hash != r.event_hash or r.case_id is not None:
        return False
    if keyring is not None and not keyring.mac_matches(r.key_id, r.hash, r.mac):
        return False
    detail = r.detail or {}
    if r.action == "roles_confirmed":                  # four eyes: [person, role, region] among those confirmed
        return [code, r.role, r.region_code] in (detail.get("roles") or [])
    if detail.get("person") != code:
        return False
    if r.action == "role_granted":
        return detail.get("granted_role") == r.role and r.event_region == r.region_code
    return r.action == "person_added" and [r.role, r.region_code] in (detail.get("roles") or [])


def is_read_only(app: App, actor: Actor) -> bool:
    roles = app.config.roles
    return bool(actor.assignments) and all(roles[a.role].read_only for a in actor.assignments if a.role in roles)


INSPECTING_ROLES = ("discipline_officer", "organisation_officer", "admin")


def inspects(app: App, actor: Actor) -> bool:
    """Whether the person reads as an inspector: a read-only role (inspector, auditor, evaluator) or
    a discipline or organisation officer or administrator: the inspector's pages and the activity log."""
    return is_read_only(app, actor) or any(a.role in INSPECTING_ROLES for a in actor.assignments)


def require_inspector(app: App, actor: Actor) -> None:
    if not inspects(app, actor):
        raise AuthError("auth.not_inspector", person=actor.code)


def refuse_read_only(app: App, actor: Actor, action: str) -> None:
    """A read-only person (an inspector) asking for casework: refused first, before anything about
    the cases is judged or told (what a step would lack is not theirs to learn by trying)."""
    if is_read_only(app, actor):
        raise AuthError("auth.read_only", person=actor.code, action=action)


def require_role(app: App, actor: Actor, allowed: Iterable[str], region_code: str,
                 action: str) -> Assignment:
    """The actor's assignment that allows `action` over `region_code`, or a clear refusal."""
    allowed = tuple(allowed)
    found = actor.first_role(allowed, region_code)
    if found is not None:
        return found
    refuse_read_only(app, actor, action)
    if not actor.assignments:
        raise AuthError("auth.no_roles", person=actor.code, action=action)
    if any(a.role in allowed for a in actor.assignments):
        raise AuthError("auth.jurisdiction", person=actor.code, action=action, region=region_code)
    raise AuthError("auth.wrong_role", person=actor.code, action=action,
                    roles=", ".join(allowed), region=region_code)


def require_admin(app: App, actor: Actor, region_code: str, action: str) -> Assignment:
    admins = [name for name, r in app.config.roles.items() if r.admin]
    return require_role(app, actor, admins, region_code, action)


def require_some_admin(app: App, actor: Actor, action: str) -> None:
    """An administrator's list (regions, people) refused once, before its file is read, to a person
    who administers no region at all (require_some_role)."""
    require_some_role(app, actor, [name for name, r in app.config.roles.items() if r.admin], action,
                      "auth.not_admin")


def require_some_role(app: App, actor: Actor, roles: Iterable[str], action: str, refusal: str) -> None:
    """A list refused once, before its file is read, to a person who holds none of `roles` anywhere:
    read-only, with no role, or with other posts only (`refusal`, naming the roles); a region beyond
    their reach is still told on its own row."""
    refuse_read_only(app, actor, action)
    if not actor.assignments:
        raise AuthError("auth.no_roles", person=actor.code, action=action)
    roles = list(roles)
    if not any(a.role in roles for a in actor.assignments):
        raise AuthError(refusal, person=actor.code, action=action, roles=",".join(roles))


def require_reader(app: App, actor: Actor, region_code: str, action: str = "read") -> None:
    if not any(covers(a.region_code, region_code) for a in actor.assignments):
        raise AuthError("auth.jurisdiction", person=actor.code, action=action, region=region_code)


# --- regions ---------------------------------------------------------------------------------

def ensure_root(conn: Connection) -> None:
    if conn.execute(select(t.regions.c.code).where(t.regions.c.code == ROOT)).first() is None:
        conn.execute(insert(t.regions).values(code=ROOT, name="全国", level="country", parent_code=None))


def add_regions(app: App, actor: Actor, rows: Sequence[tuple[str, str]], source: dict | None = None,
                before_commit: Callable[[], None] | None = None) -> int:
    """Add regions (code, name) in one transaction; each one's parent exists or is among them, in any
    order (written a level at a time, parents first). `source` (a file's name, sha256 and skipped
    rows) makes it one `regions_imported` event naming the file. `before_commit()`, called once all is
    written and before it commits, writes what must not be lost with it (a list's bad rows): where it
    fails (a full disk) no region is added."""
    if not rows:
        raise BadInput("region.none")
    with app.unit_of_work() as uow:
        found = _region_problems(app, uow.conn, actor, rows, range(1, len(rows) + 1))
        if found:
            raise found[0][2]
        uow.conn.execute(insert(t.regions), [{"code": code, "name": name.strip(), "level": level_of(code),
                                              "parent_code": parent_of(code)} for code, name in _by_level(rows)])
        codes = [c for c, _ in rows]
        assignment = require_admin(app, actor, codes[0], "region add")
        listed = {"first": codes[0], "last": codes[-1], **source} if source else {"codes": codes}  # a file names them
        # filed at the lowest region that held them (a new village: its township), not the administrator's
        # post: a county's inspectors see the villages made in their county, as they see what is imported there
        where = common_ancestor(parent_of(c) for c in codes)
        uow.append_org_event(actor, "regions_imported" if source else "regions_added", assignment.role,
                             where, count=len(rows),
                             codes_sha256=hashlib.sha256(",".join(codes).encode()).hexdigest(), **listed)
        if before_commit is not None:
            before_commit()
    return len(rows)


Problem = tuple[Any, str, JingzhunError]   # (line, column, what is wrong there)


def region_problems(app: App, actor: Actor, rows: Sequence[tuple[str, str]],
                    lines: Sequence[Any] | None = None, unchanged: set[str] | None = None) -> list[Problem]:
    """Every problem of regions (code, name) to add, on its line (`lines`, else counted from 1) and
    column: a code not 12 ASCII digits, no name, a code twice or already known, a parent neither
    known nor on a good line anywhere in the rows, a skipped level, a region the actor does not
    administer. The rows with none can be added together. `unchanged` (a list read again): a region
    registered already under the same name is no problem but passed over, its code added to it."""
    with app.engine.connect() as conn:
        return _region_problems(app, conn, actor, rows, lines or range(1, len(rows) + 1), unchanged)


def _region_problems(app: App, conn: Connection, actor: Actor, rows: Sequence[tuple[str, str]],
                     lines: Sequence[Any], unchanged: set[str] | None = None) -> list[Problem]:
    """Each row on its own first (its code, name and place), then whether its parent is there: in the
    database, or a row of the rows with no problem, wherever it stands (a county's table may list its
    villages before their township). Only the rows' codes and their parents are looked up: memory
    goes with the rows, never with the database."""
    codes = {c for code, _ in rows if _is_code(code) for c in (code, parent_of(code)) if c is not None}
    known, first = _region_names(conn, codes), {}
    own: list[list[tuple[str, JingzhunError]]] = []
    for line, (code, name) in zip(lines, rows):
        found = _region_row(app, actor, line, (code, name), known, first, again=unchanged is not None)
        if code in known and not found:    # a list read again: registered under this name, passed over
            unchanged.add(code)
        own.append(found)
        first.setdefault(code, line)
    # a level at a time, from the top: a row's parent row has been found good or not by then
    placed = set(known)
    for i in sorted((i for i, found in enumerate(own) if not any(column == "code" for column, _ in found)),
                    key=lambda i: LEVEL_DIGITS[level_of(rows[i][0])]):
        code = rows[i][0]
        if parent_of(code) not in placed:
            own[i].insert(0, ("code", BadInput("sheets.no_parent", code=code, parent=parent_of(code))))
        elif not own[i]:
            placed.add(code)
    return [(line, column, exc) for line, found in zip(lines, own) for column, exc in found]


def _by_level(rows: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Regions a level at a time, from the top (their order otherwise kept): each after its parent."""
    return sorted(rows, key=lambda row: LEVEL_DIGITS[level_of(row[0])])


def _region_row(app: App, actor: Actor, line: Any, row: tuple[str, str], known: dict[str, str],
                first: dict[str, Any], again: bool) -> list[tuple[str, JingzhunError]]:
    code, name = row
    named = [] if name and name.strip() else [("name", BadInput("region.no_name", code=code))]
    if len(name or "") > NAME_MAX:
        named = [("name", BadInput("sheets.too_long", most=NAME_MAX, length=len(name)))]
    if not code:
        return [("code", BadInput("region.no_code"))] + named
    if not _is_code(code):
        return [("code", BadInput("region.bad_code", code=code))] + named
    try:
        require_admin(app, actor, code, "region add")
    except AuthError as exc:
        return [("code", exc)] + named
    return _region_place(line, code, None if named else name, known, first, again) + named


def _region_place(line: Any, code: str, name: str | None, known: dict[str, str], first: dict[str, Any],
                  again: bool) -> list[tuple[str, JingzhunError]]:
    """Whether the region fits in the tree, its parent aside (_region_problems): new, or, in a list read
    `again`, registered already under this very name (`name` None when it has none to compare); no level
    skipped. One added by hand (region add) that is there already is refused, whatever its name."""
    parent = parent_of(code)
    if code in first:
        return [("code", BadInput("sheets.code_twice", code=code, line=first[code]))]
    if parent is None or (code in known and not again):
        return [("code", BadInput("region.exists", code=code))]
    if code in known:
        return [] if name is None or known[code] == name.strip() else [
            ("name", BadInput("region.exists_named", code=code, known=known[code], name=name.strip()))]
    if level_of(parent) != _PARENT_LEVEL[level_of(code)]:
        return [("code", BadInput("region.skips_level", code=code, level=level_of(code), parent=parent,
                                  parent_level=level_of(parent), line=line))]
    return []


def _is_code(code: str) -> bool:
    return isinstance(code, str) and len(code) == 12 and ascii_digits(code)


def _region_names(conn: Connection, codes: Iterable[str]) -> dict[str, str]:
    """The names of those of `codes` that are registered, asked in batches (as `existing`)."""
    codes, rc = list(codes), t.regions.c
    return {code: name for i in range(0, len(codes), BATCH)
            for code, name in conn.execute(select(rc.code, rc.name).where(rc.code.in_(codes[i:i + BATCH])))}


def existing(conn: Connection, column, values: Iterable[str]) -> set[str]:
    """Those of `values` found in `column`, asked in batches (SQLite takes ~32,000 parameters a query)."""
    values = list(values)
    return {v for i in range(0, len(values), BATCH) for (v,) in conn.execute(
        select(column).where(column.in_(values[i:i + BATCH])))}


BATCH = 5000
NAME_MAX = 100     # regions.name and persons.name
CODE_MAX = 40      # persons.code
# A person code goes into URLs, the API's X-Jingzhun-Person header (ASCII only), JINGZHUN_AS and mailbox folders.
PERSON_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


_PARENT_LEVEL = {"province": "country", "city": "province", "county": "city", "township": "county",
                 "village": "township"}


# --- persons ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewPerson:
    code: str
    name: str
    roles: tuple[tuple[str, str], ...] = ()   # (role, region_code)
    enrol: bool = True         # issue a one-time enrolment code (sent over a channel, else on paper)
    channels: tuple[tuple[str, str, str], ...] = ()   # (kind, address, lang): how alerts reach them
    unit: str | None = None    # 工作单位: a unit head's is the unit he heads (a fund project's responsible unit)


@dataclass(frozen=True)
class PersonRow:
    """One line of a people's sheet: a person and one role over one region (none: both empty)."""
    code: str
    name: str
    role: str = ""
    region: str = ""


def person_problems(app: App, actor: Actor, rows: Sequence[PersonRow],
                    lines: Sequence[Any] | None = None) -> list[Problem]:
    """Every problem of people's rows (a person's rows share its code), on its line (`lines`, else
    counted from 1) and column: no code or name, one too long, a code already taken or given to two
    names, an unknown role or region, a role at the wrong level or twice, a region the actor does
    not administer. The people none of whose rows has one can be added together."""
    with app.engine.connect() as conn:
        return _PersonCheck(app, conn, actor, rows).problems(rows, lines or range(1, len(rows) + 1))


class _PersonCheck:
    """What checking people's rows needs to remember: codes taken, regions known, rows seen."""

    def __init__(self, app: App, conn: Connection, actor: Actor, rows: Sequence[PersonRow]):
        self.app, self.actor = app, actor
        self.taken = existing(conn, t.persons.c.code, {r.code.strip() for r in rows})
        self.regions = existing(conn, t.regions.c.code, {r.region.strip() for r in rows if _is_code(r.region.strip())})
        self.first: dict[str, tuple[Any, str]] = {}
        self.held: dict[tuple[str, str, str], Any] = {}

    def problems(self, rows: Sequence[PersonRow], lines: Sequence[Any]) -> list[Problem]:
        return [(line, column, exc) for line, row in zip(lines, rows) for column, exc in self.row(line, row)]

    def row(self, line: Any, row: PersonRow) -> list[tuple[str, JingzhunError]]:
        code, name, role, region = (v.strip() for v in (row.code, row.name, row.role, row.region))
        found = self.identity(code, name)
        if role or region:
            found += self.grant(line, code, role, region)
        self.first.setdefault(code, (line, name))
        return found

    def identity(self, code: str, name: str) -> list[tuple[str, JingzhunError]]:
        first = self.first.get(code)
        found = self.code(code)
        if not name:
            found.append(("name", BadInput("person.incomplete", code=code or "-")))
        elif len(name) > NAME_MAX:
            found.append(("name", BadInput("sheets.too_long", most=NAME_MAX, length=len(name))))
        elif code and first and first[1] != name:
            found.append(("name", BadInput("sheets.other_name", code=code, name=first[1], line=first[0])))
        return found

    def code(self, code: str) -> list[tuple[str, JingzhunError]]:
        if not code:
            return [("code", BadInput("person.incomplete", code="-"))]
        if len(code) > CODE_MAX:
            return [("code", BadInput("sheets.too_long", most=CODE_MAX, length=len(code)))]
        if not PERSON_CODE.fullmatch(code):
            return [("code", BadInput("person.code_chars", code=code))]
        return [("code", BadInput("person.exists", code=code))] if code in self.taken else []

    def grant(self, line: Any, code: str, role: str, region: str) -> list[tuple[str, JingzhunError]]:
        found = _role_problems(self.app, role, region, self.regions)
        if not found and self.actor is not SYSTEM:
            try:
                require_admin(self.app, self.actor, region, "person add")
            except AuthError as exc:
                found.append(("region", exc))
        if (code, role, region) in self.held:
            found.append(("role", BadInput("sheets.role_twice", line=self.held[(code, role, region)])))
        self.held.setdefault((code, role, region), line)
        return found


def _role_problems(app: App, role: str, region: str, regions: set[str]) -> list[tuple[str, JingzhunError]]:
    """An unknown role, a region that is no code or unknown, a role that is not held at that level."""
    found: list[tuple[str, JingzhunError]] = []
    if not role:
        found.append(("role", BadInput("role.missing", roles=",".join(app.config.roles))))
    elif role not in app.config.roles:
        from engine.domain.role_words import near_roles
        near = near_roles(app.config.roles, role)
        found.append(("role", BadInput("role.unknown_near", role=role, roles=",".join(near)) if near else
                      BadInput("role.unknown", role=role, roles=",".join(app.config.roles))))
    if not region:          # a code or a name: either will do (person import reads names)
        return found + [("region", BadInput("region.missing"))]
    if not _is_code(region):
        return found + [("region", BadInput("region.bad_code", code=region))]
    if region not in regions:
        return found + [("region", BadInput("region.unknown", code=region))]
    return found or _level_problems(app, role, region)


def _level_problems(app: App, role: str, region: str) -> list[tuple[str, JingzhunError]]:
    definition = app.config.roles[role]
    region_level = level_of(region)
    if definition.admin or definition.read_only:     # their level or any region above it
        fits = region_level == "country" or LEVEL_RANK[region_level] >= LEVEL_RANK[definition.level]
    elif definition.assign_below:                    # e.g. a county leader covering one township
        fits = region_level != "country" and LEVEL_RANK[region_level] <= LEVEL_RANK[definition.level]
    else:                                            # a post is held over a region of its own level
        fits = region_level == definition.level
    return [] if fits else [("role", BadInput("role.wrong_level", role=role, level=definition.level, region=region,
                                              region_level=region_level))]


def _check_role(app: App, conn: Connection, role: str, region: str) -> None:
    found = _role_problems(app, role, region, existing(conn, t.regions.c.code, [region]) if _is_code(region) else set())
    if found:
        raise found[0][1]


def add_persons(app: App, actor: Actor | None, people: Sequence[NewPerson], source: dict | None = None,
                keep_codes: Callable[[dict], None] | None = None) -> dict:
    """Create persons with their roles in one transaction; returns the enrolment (enrolment.Enrolment)
    issued to each person with `enrol`: its code went over the person's channel, or is returned for
    a paper slip. No administrator ever holds a person's login token: the person makes their own by
    spending the code. `source` (a file's name, sha256 and skipped rows) adds one `persons_imported`
    event naming it. `keep_codes(enrolments)`, called before the persons are committed, keeps the paper
    codes (a codes file written and flushed): where it fails (a full disk) no one is created, where it
    did not run no one would ever see their code.

    `actor` None is allowed only while no person exists (the first administrator at init).
    """
    enrolments: dict = {}
    with app.unit_of_work() as uow:
        conn = uow.conn
        if actor is None:
            if conn.execute(select(func.count()).select_from(t.persons)).scalar():
                raise AuthError("auth.no_person")
            actor = SYSTEM
        _refuse_people(app, conn, actor, people)
        now, used = app.clock.now(), None
        for person in people:
            used = _admin_for(app, actor, person)
            row, actor = _add_person(app, uow, actor, used, person, now)
            if person.enrol:
                enrolments[person.code] = enrol_in(app, uow, actor, used, row,
                                                   where=posts_region(r for _, r in person.roles))
        if source is not None and used is not None:   # a people's file: one event names it and its hash
            uow.append_org_event(actor, "persons_imported", used.role, used.region_code, **source,
                                 persons=len(people), roles=sum(len(p.roles) for p in people))
        if keep_codes is not None:
            keep_codes(enrolments)
    return enrolments


def _add_person(app: App, uow, actor: Actor, used: Assignment | None, person: NewPerson, now) -> tuple[Any, Actor]:
    conn = uow.conn
    unit = (person.unit or "").strip()[:100] or None
    pid = conn.execute(insert(t.persons), {"code": person.code, "name": person.name.strip(), "token_hash": None,
                                           "active": True, "created_at": now, "unit": unit}).inserted_primary_key[0]
    if person.channels:
        app.plugins.add_channels(conn, pid, person.channels, now)
    if actor is SYSTEM:
        actor = Actor(pid, person.code, person.name, ())
    roles, later, sole = four_eyes.split(app, conn, actor, person.roles) if used else (list(person.roles), [], False)
    extra = ({"channels": sorted({c[0] for c in person.channels})} if person.channels else {}) | (
        {"four_eyes": "sole_administrator"} if sole else {}) | ({"unit": unit} if unit else {})
    # The event's region is where the person's posts are (its readers are that region's inspectors), else
    # the administrator's.
    where = posts_region(r for _, r in person.roles) or (used.region_code if used else None)
    event = uow.append_org_event(actor, "person_added", used.role if used else None, where,
                                 person=person.code, name=person.name,
                                 roles=[list(r) for r in roles], login=False, credential=None, password=None, **extra)
    if roles:
        conn.execute(insert(t.role_assignments), [
            {"person_id": pid, "role": role, "region_code": region, "granted_by": actor.person_id or None,
             "granted_at": now, "event_seq": event["seq"], "event_hash": event["hash"]} for role, region in roles])
        handover.posts_filled(app, uow, actor, used.role if used else None, roles, person.code)
    row = conn.execute(select(t.persons).where(t.persons.c.id == pid)).first()
    if later:
        four_eyes.propose(app, uow, actor, used, row, later)
    return row, actor


def _refuse_people(app: App, conn: Connection, actor: Actor, people: Sequence[NewPerson]) -> None:
    """The first problem of any of `people` (a code given twice among them included), raised."""
    codes = [p.code for p in people]
    twice = next((c for i, c in enumerate(codes) if c in codes[:i]), None)
    rows = [PersonRow(p.code or "", p.name or "", role, region) for p in people for role, region in p.roles or [("", "")]]
    found = _PersonCheck(app, conn, actor, rows).problems(rows, range(1, len(rows) + 1))
    if found:
        raise found[0][2]
    if twice is not None:
        raise BadInput("person.exists", code=twice)


def _admin_for(app: App, actor: Actor, person: NewPerson) -> Assignment | None:
    """The actor's administrator role over the person's last region (over theirs, for no role)."""
    if actor is SYSTEM:
        return None
    region = person.roles[-1][1] if person.roles else ROOT if not actor.assignments else actor.assignments[0].region_code
    return require_admin(app, actor, region, "person add")


def grant_role(app: App, actor: Actor, code: str, role: str, region: str) -> int | None:
    """Give `code` a role over a region; an approving role that a second administrator must confirm
    is only proposed: its proposal id is returned (see four_eyes)."""
    with app.unit_of_work() as uow:
        conn = uow.conn
        uow.lock_organisation()     # what it checks (posts held, proposals open) holds until it writes
        person = person_by_code(conn, code)
        _check_role(app, conn, role, region)
        assignment = require_admin(app, actor, region, "person grant")
        if not person.active:
            raise BadInput("role.person_inactive", person=person.code)
        if person.id == actor.person_id:
            raise RuleViolation("duty.self_grant", person=code, role=role)
        now, later, sole = four_eyes.split(app, conn, actor, [(role, region)])
        if later:                                     # an approving role: a second administrator confirms it
            return four_eyes.propose(app, uow, actor, assignment, person, later)[0]
        event = uow.append_org_event(actor, "role_granted", assignment.role, region, person=code, granted_role=role,
                                     **({"four_eyes": "sole_administrator"} if sole else {}))
        conn.execute(insert(t.role_assignments).values(person_id=person.id, role=role, region_code=region,
                                                       granted_by=actor.person_id, granted_at=app.clock.now(),
                                                       event_seq=event["seq"], event_hash=event["hash"]))
        handover.posts_filled(app, uow, actor, assignment.role, [(role, region)], person.code)
    return None


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
        handover.hand_over(app, uow, actor, assignment.role, region, "role_revoked", handover.owned_by(conn, person.id),
                           person=code)


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
           "revoke_role", "NewPerson", "holders"]
