"""Naming who carries each responsibility for a completed transition (DOMAIN §5).

The matrix is configuration (each procedure's `responsibility:` in its workflow file). The persons
are found when the transition completes, in the same transaction, from the steps' signers and
verifiers, the case's pairing cadres and the role assignments over the case's region at that
moment, and are stored with the transition (and in its audit event), so a later change of posts
does not change who was responsible then.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Sequence

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection

from config import ProcedureDef
from engine.adapters import tables as t
from engine.domain.regions import ancestors_of, covers

_STEPS_OF = select(t.steps.c.procedure_id, t.steps.c.step_key, t.steps.c.person_id, t.steps.c.role,
                   t.steps.c.role_region, t.steps.c.data).where(
    t.steps.c.procedure_id.in_(bindparam("ids", expanding=True)), t.steps.c.voided_at.is_(None)
).order_by(t.steps.c.id)
_PAIRINGS_OF = select(t.pairings.c.case_id, t.pairings.c.person_id, t.pairings.c.kind).where(
    t.pairings.c.case_id.in_(bindparam("ids", expanding=True)), t.pairings.c.end_date.is_(None)
).order_by(t.pairings.c.id)
_HOLDERS = select(t.role_assignments.c.person_id, t.role_assignments.c.role, t.role_assignments.c.region_code).where(
    t.role_assignments.c.role.in_(bindparam("roles", expanding=True)),
    t.role_assignments.c.region_code.in_(bindparam("regions", expanding=True)),
    t.role_assignments.c.revoked_at.is_(None)).order_by(t.role_assignments.c.id)
_POSTS_OF = select(t.role_assignments.c.person_id, t.role_assignments.c.role, t.role_assignments.c.region_code).where(
    t.role_assignments.c.person_id.in_(bindparam("ids", expanding=True)), t.role_assignments.c.revoked_at.is_(None)
).order_by(t.role_assignments.c.id)
# `work_team`: a village's resident work team (驻村工作队) in post, in its recorded order.
_TEAM_OF = select(t.village_team.c.case_id, t.village_team.c.person_id, t.village_team.c.role,
                  t.village_team.c.start_date, t.village_team.c.end_date).where(
    t.village_team.c.case_id.in_(bindparam("ids", expanding=True)), t.village_team.c.left_on.is_(None)
).order_by(t.village_team.c.id)
_INSERT_RESPONSIBILITY = insert(t.responsibilities)
_NAMES = select(t.persons.c.id, t.persons.c.code, t.persons.c.name).where(
    t.persons.c.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class Completed:
    """A transition completing now: the case, its procedure, and the step that completes it."""
    case_id: int
    region_code: str
    procedure_id: int
    procedure_kind: str
    to_stage: str | None
    definition: ProcedureDef
    last_step: tuple[str, int, str, str, dict]   # step key, person id, role, role region, data
    effective_date: date
    attrs: dict = field(default_factory=dict)     # the case's attributes (for `case:<attribute>` selectors)


def name_responsible(conn: Connection, completed: Sequence[Completed], at: datetime,
                     policy_version: str) -> dict[int, list[dict[str, Any]]]:
    """procedure id -> the responsibility rows for it; a handful of queries for the whole list."""
    wanted = [c for c in completed if c.definition.responsibility]
    if not wanted:
        return {}
    selectors = {e for c in wanted for who in c.definition.responsibility.values() for e in who}
    roles = sorted(e for e in selectors - {"signers", "pairing_cadres", "work_team"} if not e.startswith("case:"))
    steps: dict[int, list] = {c.procedure_id: [] for c in wanted}
    if "signers" in selectors:
        for r in conn.execute(_STEPS_OF, {"ids": list(steps)}):
            steps[r.procedure_id].append((r.step_key, r.person_id, r.role, r.role_region, r.data or {}))
    pairings: dict[int, list] = {}
    if "pairing_cadres" in selectors:
        for r in conn.execute(_PAIRINGS_OF, {"ids": [c.case_id for c in wanted]}):
            pairings.setdefault(r.case_id, []).append((r.person_id, r.kind))
    team: dict[int, list] = {}
    if "work_team" in selectors:
        for r in conn.execute(_TEAM_OF, {"ids": [c.case_id for c in wanted]}):
            team.setdefault(r.case_id, []).append((r.person_id, r.role, r.start_date, r.end_date))
    holders = []
    if roles:
        regions = sorted({a for c in wanted for a in ancestors_of(c.region_code)})
        holders = conn.execute(_HOLDERS, {"roles": roles, "regions": regions}).all()
    found: dict[int, list[tuple]] = {}
    for c in wanted:
        rows: list[tuple] = []   # (type, person id, role, region, basis)
        for rtype, who in c.definition.responsibility.items():
            for entry in who:
                if entry == "signers":
                    for key, pid, role, region, data in steps[c.procedure_id] + [c.last_step]:
                        rows.append((rtype, pid, role, region, f"step:{key}"))
                        for vid in data.get("verifier_ids", []):
                            rows.append((rtype, vid, None, None, f"verified:{key}"))
                elif entry == "pairing_cadres":
                    for pid, kind in pairings.get(c.case_id, []):
                        rows.append((rtype, pid, "pairing_cadre", c.region_code, f"pairing:{kind}"))
                elif entry == "work_team":   # in post on the day the transition completed
                    for pid, role, start, end in team.get(c.case_id, []):
                        if start <= c.effective_date <= end:
                            rows.append((rtype, pid, None, None, f"team:{role}"))
                elif entry.startswith("case:"):   # a person named on the case (a project's leader)
                    pid = (c.attrs or {}).get(entry[5:])
                    if pid:
                        rows.append((rtype, int(pid), None, None, entry))
                else:
                    for h in holders:
                        if h.role == entry and covers(h.region_code, c.region_code):
                            rows.append((rtype, h.person_id, h.role, h.region_code, "post"))
        found[c.procedure_id] = list(dict.fromkeys(rows))
    ids = sorted({r[1] for rows in found.values() for r in rows})
    names = {p.id: p for p in conn.execute(_NAMES, {"ids": ids})} if ids else {}
    unposted = sorted({r[1] for rows in found.values() for r in rows if r[2] is None})
    if unposted:   # a verifier's post: the one they held over the case when they verified
        posts: dict[int, list] = {}
        for r in conn.execute(_POSTS_OF, {"ids": unposted}):
            posts.setdefault(r.person_id, []).append((r.role, r.region_code))
        by_proc = {c.procedure_id: c for c in wanted}
        for proc_id, rows in found.items():
            region = by_proc[proc_id].region_code
            found[proc_id] = [
                (rtype, pid, *next(((ro, re) for ro, re in posts.get(pid, []) if covers(re, region)), (None, None)),
                 basis) if role is None else (rtype, pid, role, reg, basis)
                for rtype, pid, role, reg, basis in rows]
    by_case = {c.procedure_id: c for c in wanted}
    result: dict[int, list[dict[str, Any]]] = {}
    for proc_id, rows in found.items():
        c = by_case[proc_id]
        result[proc_id] = [
            {"case_id": c.case_id, "procedure_id": proc_id, "procedure_kind": c.procedure_kind,
             "to_stage": c.to_stage, "type": rtype, "person_id": pid, "person_code": names[pid].code,
             "person_name": names[pid].name, "role": role, "region_code": region, "basis": basis,
             "effective_date": c.effective_date, "assigned_at": at, "policy_version": policy_version}
            for rtype, pid, role, region, basis in rows]
    return result


def for_event(rows: list[dict[str, Any]]) -> list[list]:
    """The compact form kept in the completing step's audit event (and so in its hash chain)."""
    return [[r["type"], r["person_code"], r["person_name"], r["role"], r["region_code"], r["basis"]] for r in rows]


def record_responsible(conn: Connection, responsible: dict[int, list[dict[str, Any]]]) -> None:
    """Store the rows name_responsible found (one executemany for the whole list)."""
    named = [r for rows in responsible.values() for r in rows]
    if named:
        conn.execute(_INSERT_RESPONSIBILITY, named)
