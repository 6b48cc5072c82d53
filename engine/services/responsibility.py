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
from typing import Any, Sequence, TYPE_CHECKING

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.domain.regions import ancestors_of, covers
from engine.adapters.one_of import one_of

if TYPE_CHECKING:      # the configuration's models (pydantic) are loaded only where used
    from config import ProcedureDef

_STEPS_OF = select(t.steps.c.procedure_id, t.steps.c.step_key, t.steps.c.person_id, t.steps.c.role,
                   t.steps.c.role_region, t.steps.c.data).where(
    one_of(t.steps.c.procedure_id), t.steps.c.voided_at.is_(None)
).order_by(t.steps.c.id)
_PAIRINGS_OF = select(t.pairings.c.case_id, t.pairings.c.person_id, t.pairings.c.kind).where(
    one_of(t.pairings.c.case_id), t.pairings.c.end_date.is_(None)
).order_by(t.pairings.c.id)
_HOLDERS = select(t.role_assignments.c.person_id, t.role_assignments.c.role, t.role_assignments.c.region_code).where(
    t.role_assignments.c.role.in_(bindparam("roles", expanding=True)),
    t.role_assignments.c.region_code.in_(bindparam("regions", expanding=True)),
    t.role_assignments.c.revoked_at.is_(None)).order_by(t.role_assignments.c.id)
_POSTS_OF = select(t.role_assignments.c.person_id, t.role_assignments.c.role, t.role_assignments.c.region_code).where(
    one_of(t.role_assignments.c.person_id), t.role_assignments.c.revoked_at.is_(None)
).order_by(t.role_assignments.c.id)
# `work_team`: a village's resident work team (驻村工作队) in post, in its recorded order.
_TEAM_OF = select(t.village_team.c.case_id, t.village_team.c.person_id, t.village_team.c.role,
                  t.village_team.c.start_date, t.village_team.c.end_date).where(
    one_of(t.village_team.c.case_id), t.village_team.c.left_on.is_(None)
).order_by(t.village_team.c.id)
_INSERT_RESPONSIBILITY = insert(t.responsibilities)
_NAMES = select(t.persons.c.id, t.persons.c.code, t.persons.c.name).where(
    one_of(t.persons.c.id))


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
    facts = _load_facts(conn, wanted)
    found = {c.procedure_id: list(dict.fromkeys(_rows_for(c, facts))) for c in wanted}
    _fill_verifier_posts(conn, wanted, found)
    names = _names(conn, found)
    return {c.procedure_id: _stored_rows(c, found[c.procedure_id], names, at, policy_version) for c in wanted}


@dataclass
class _Facts:
    """What the selectors of a list of transitions need, each loaded once for the whole list."""
    steps: dict[int, list] = field(default_factory=dict)      # procedure id -> (key, person, role, region, data)
    pairings: dict[int, list] = field(default_factory=dict)   # case id -> (person, kind)
    team: dict[int, list] = field(default_factory=dict)       # case id -> (person, role, start, end)
    holders: list = field(default_factory=list)               # role assignments over the cases' regions


_SPECIAL = {"signers", "pairing_cadres", "work_team"}


def _load_facts(conn: Connection, wanted: Sequence[Completed]) -> _Facts:
    selectors = {e for c in wanted for who in c.definition.responsibility.values() for e in who}
    case_ids = [c.case_id for c in wanted]
    facts = _Facts(steps={c.procedure_id: [] for c in wanted})
    if "signers" in selectors:
        for r in conn.execute(_STEPS_OF, {"ids": list(facts.steps)}):
            facts.steps[r.procedure_id].append((r.step_key, r.person_id, r.role, r.role_region, r.data or {}))
    if "pairing_cadres" in selectors:
        for r in conn.execute(_PAIRINGS_OF, {"ids": case_ids}):
            facts.pairings.setdefault(r.case_id, []).append((r.person_id, r.kind))
    if "work_team" in selectors:
        for r in conn.execute(_TEAM_OF, {"ids": case_ids}):
            facts.team.setdefault(r.case_id, []).append((r.person_id, r.role, r.start_date, r.end_date))
    roles = sorted(e for e in selectors - _SPECIAL if not e.startswith("case:"))
    if roles:
        regions = sorted({a for c in wanted for a in ancestors_of(c.region_code)})
        facts.holders = conn.execute(_HOLDERS, {"roles": roles, "regions": regions}).all()
    return facts


def _rows_for(c: Completed, facts: _Facts) -> list[tuple]:
    """(type, person id, role, region, basis) for each selector of the transition's matrix."""
    return [row for rtype, who in c.definition.responsibility.items() for entry in who
            for row in _selected(c, rtype, entry, facts)]


def _selected(c: Completed, rtype: str, entry: str, facts: _Facts) -> list[tuple]:
    if entry == "signers":
        return _signers(c, rtype, facts)
    if entry == "pairing_cadres":
        return [(rtype, pid, "pairing_cadre", c.region_code, f"pairing:{kind}")
                for pid, kind in facts.pairings.get(c.case_id, [])]
    if entry == "work_team":   # in post on the day the transition completed
        return [(rtype, pid, None, None, f"team:{role}") for pid, role, start, end in facts.team.get(c.case_id, [])
                if start <= c.effective_date <= end]
    if entry.startswith("case:"):   # a person named on the case (a project's leader)
        pid = (c.attrs or {}).get(entry[5:])
        return [(rtype, int(pid), None, None, entry)] if pid else []
    return [(rtype, h.person_id, h.role, h.region_code, "post") for h in facts.holders
            if h.role == entry and covers(h.region_code, c.region_code)]


def _signers(c: Completed, rtype: str, facts: _Facts) -> list[tuple]:
    rows = []
    for key, pid, role, region, data in facts.steps[c.procedure_id] + [c.last_step]:
        rows.append((rtype, pid, role, region, f"step:{key}"))
        rows += [(rtype, vid, None, None, f"verified:{key}") for vid in data.get("verifier_ids", [])]
    return rows


def _fill_verifier_posts(conn: Connection, wanted: Sequence[Completed], found: dict[int, list[tuple]]) -> None:
    """A person named without a post (a verifier): the one they held over the case when they verified."""
    unposted = sorted({r[1] for rows in found.values() for r in rows if r[2] is None})
    if not unposted:
        return
    posts: dict[int, list] = {}
    for r in conn.execute(_POSTS_OF, {"ids": unposted}):
        posts.setdefault(r.person_id, []).append((r.role, r.region_code))
    for c in wanted:
        found[c.procedure_id] = [_with_post(row, posts, c.region_code) for row in found[c.procedure_id]]


def _with_post(row: tuple, posts: dict[int, list], region: str) -> tuple:
    rtype, pid, role, reg, basis = row
    if role is not None:
        return row
    return (rtype, pid, *next(((ro, re) for ro, re in posts.get(pid, []) if covers(re, region)), (None, None)), basis)


def _names(conn: Connection, found: dict[int, list[tuple]]) -> dict[int, Any]:
    ids = sorted({r[1] for rows in found.values() for r in rows})
    return {p.id: p for p in conn.execute(_NAMES, {"ids": ids})} if ids else {}


def _stored_rows(c: Completed, rows: list[tuple], names: dict[int, Any], at: datetime,
                 policy_version: str) -> list[dict[str, Any]]:
    return [{"case_id": c.case_id, "procedure_id": c.procedure_id, "procedure_kind": c.procedure_kind,
             "to_stage": c.to_stage, "type": rtype, "person_id": pid, "person_code": names[pid].code,
             "person_name": names[pid].name, "role": role, "region_code": region, "basis": basis,
             "effective_date": c.effective_date, "assigned_at": at, "policy_version": policy_version}
            for rtype, pid, role, region, basis in rows]


def for_event(rows: list[dict[str, Any]]) -> list[list]:
    """The compact form kept in the completing step's audit event (and so in its hash chain)."""
    return [[r["type"], r["person_code"], r["person_name"], r["role"], r["region_code"], r["basis"]] for r in rows]


def record_responsible(conn: Connection, responsible: dict[int, list[dict[str, Any]]]) -> None:
    """Store the rows name_responsible found (one executemany for the whole list)."""
    named = [r for rows in responsible.values() for r in rows]
    if named:
        conn.execute(_INSERT_RESPONSIBILITY, named)
