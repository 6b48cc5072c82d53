"""Plain listings for any entrypoint: regions, people with their posts, one notice with its cases."""
from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.deadline_rules import wall_clock
from engine.domain.errors import AuthError, NotFound
from engine.domain.facts import announced, last_day
from engine.domain.regions import covers, prefix


def region_rows(app: App, actor: Actor, under: str | None = None) -> list[dict[str, Any]]:
    """Regions in code order, optionally only those under `under` (any signed-in person)."""
    q = select(t.regions).order_by(t.regions.c.code)
    if under:
        q = q.where(t.regions.c.code.like(prefix(under) + "%"))
    with app.engine.connect() as conn:
        return [{"code": r.code, "name": r.name, "level": r.level} for r in conn.execute(q)]


def people_rows(app: App, actor: Actor, region: str | None = None) -> list[dict[str, Any]]:
    """People whose posts lie within the reader's jurisdiction (their own included), with their roles."""
    rows = _posts(app, region)
    mine = {r.code for r in rows if r.region_code and any(covers(a.region_code, r.region_code)
                                                          for a in actor.assignments)} | {actor.code}
    people: dict[str, dict] = {}
    for r in (r for r in rows if r.code in mine):
        p = people.setdefault(r.code, {"code": r.code, "name": r.name, "roles": []})
        if r.role:
            p["roles"].append({"role": r.role, "region": r.region_code})
    return list(people.values())


def _posts(app: App, region: str | None):
    ra = t.role_assignments
    q = (select(t.persons.c.code, t.persons.c.name, ra.c.role, ra.c.region_code)
         .outerjoin(ra, (ra.c.person_id == t.persons.c.id) & ra.c.revoked_at.is_(None)).order_by(t.persons.c.code))
    if region:
        q = q.where(ra.c.region_code.like(prefix(region) + "%"))
    with app.engine.connect() as conn:
        return conn.execute(q).all()


def notice_reach(conn: Any, actor: Actor, notice_id: int, region_code: str) -> frozenset[int] | None:
    """Whether `actor` may read the notice `notice_id` posted in `region_code`: None when a post of theirs
    covers that region (the level that posted it, or one above); else the cases it lists that lie within
    their posts (a village's cadre reading the township's or county's notice or announcement that lists
    households, projects or villages of theirs: read it, print it, answer villagers about it), read from
    the notice's own rows by its key; refused (auth.jurisdiction) when it lists none of theirs."""
    from engine.reads.case_lists import within
    if any(covers(a.region_code, region_code) for a in actor.assignments):
        return None
    nc = t.notice_cases.c
    mine = frozenset(conn.execute(select(nc.case_id).join(t.cases, t.cases.c.id == nc.case_id).where(
        nc.notice_id == notice_id, within({a.region_code for a in actor.assignments}))).scalars())
    if not mine:
        raise AuthError("auth.jurisdiction", person=actor.code, action="read", region=region_code)
    return mine


def notice_detail(app: App, actor: Actor, notice_id: int) -> dict[str, Any]:
    """A notice, the cases it lists and its objections (readers of its region; a reader below it whose
    cases it lists, `notice_reach`, is given `yours`, those cases, and the objections to them alone)."""
    with app.engine.connect() as conn:
        n = conn.execute(select(t.notices).where(t.notices.c.id == notice_id)).first()
        if n is None:
            raise NotFound("notice.unknown", notice=notice_id)
        yours = notice_reach(conn, actor, notice_id, n.region_code)
        cases = conn.execute(select(t.cases.c.id, t.cases.c.title).join(
            t.notice_cases, t.notice_cases.c.case_id == t.cases.c.id).where(
            t.notice_cases.c.notice_id == notice_id).order_by(t.cases.c.id)).all()
        objs = [o for o in conn.execute(select(t.objections, t.persons.c.name.label("resolver"))
                                        .join(t.persons, t.persons.c.id == t.objections.c.resolved_by, isouter=True)
                                        .where(t.objections.c.notice_id == notice_id).order_by(t.objections.c.id))
                if yours is None or o.case_id in yours]
        named = verifier_names(conn, {c for o in objs for c in as_list(o.resolution_verifiers)})
        kept = [o.resolution_evidence_id for o in objs if o.resolution_evidence_id]      # the checks behind rulings
        files = conn.execute(select(t.evidence).where(t.evidence.c.id.in_(kept))).all() if kept else []
    return {"id": n.id, "scope": n.scope, "region": n.region_code, "procedure": n.procedure_kind,
            "step": n.step_key, "start": n.start_date, "end": n.end_date,
            "last": n.start_date if (a := announced(n.days_required, n.start_date, n.end_date)) else last_day(n.end_date),
            "days_required": n.days_required, "announcement": a,
            "yours": None if yours is None else len(yours),
            "cases": [{"id": c.id, "title": c.title, **({} if yours is None else {"yours": c.id in yours})}
                      for c in cases], "rendered": n.rendered,
            "objections": [{"id": o.id, "case": o.case_id, "objector": o.objector, "content": o.content,
                            "filed_on": o.filed_on, "resolution": o.resolution,
                            "resolution_reason": o.resolution_reason, "resolved_by": o.resolver,
                            "ruled_on": ruled_on(app.config, o),
                            "verifiers": [{"code": c, "name": named.get(c, c)} for c in as_list(o.resolution_verifiers)],
                            "file": ruling_file(o, files)}
                           for o in objs]}


def ruling_file(o, evidence) -> dict[str, Any] | None:
    """The checks a ruling rests on, kept as the case's evidence item (its file): id, file name, the
    file's SHA-256 and the item's hash; None for a ruling without one."""
    eid = getattr(o, "resolution_evidence_id", None)
    item = next((e for e in evidence if e.id == eid), None) if eid else None
    return None if item is None else {"id": item.id, "name": item.file_name, "sha256": item.file_sha256,
                                      "hash": item.content_hash}


def ruled_on(config: Any, o: Any) -> date | None:
    """An objection's ruling's effective day: as recorded, or (a ruling entered before rulings kept their
    day, migration 0033) the day it was entered."""
    if o.resolved_on is not None:
        return o.resolved_on
    return date.fromisoformat(wall_clock(config, o.resolved_at)[:10]) if o.resolved_at is not None else None


def as_list(value: Any) -> list:
    return (json.loads(value) if isinstance(value, str) else value) or []


def verifier_names(conn: Any, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(conn.execute(select(t.persons.c.code, t.persons.c.name).where(t.persons.c.code.in_(sorted(codes)))).all())
