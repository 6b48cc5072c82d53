"""Finding a case from what a person has at hand: a member's name, an ID number, a household code (户编号)
or a case number (`case find`, the web's 查找 page, `GET /api/v1/cases/find`, and the inspectors' search of a
case to trace); a name also finds the cases whose own name begins with it (a household's head, a project).

One box takes them all, read as a cadre types them (spaces, full-width digits, a lower-case x, `#12`). Only the
cases of the reader's jurisdiction are found, each through an index (a member's name, an active member's ID
number, a household's code, a case's number), at most FOUND_MAX of them; a member's ID number is shown with
its middle hidden, as every page shows it.
"""
from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, true

from engine.adapters import tables as t
from engine.domain.errors import BadInput, stored_starts
from engine.domain.members import mask_id
from engine.reads.case_lists import region_names_in, within
from engine.reads.standing import case_standing

if TYPE_CHECKING:
    from engine.adapters.app import App
    from engine.domain.auth import Actor

FOUND_MAX = 20
QUERY_MAX = 40
_CASE = re.compile(r"#?(\d{1,9})")
_ID = re.compile(r"\d{17}[\dX]|\d{15}")
_CODE = re.compile(r"[0-9A-Za-z-]{10,40}")


def read_query(query: str | None) -> tuple[str, str]:
    """(how the query is read, the value looked for): `case`, `id_number`, `household_code` or `name`. A
    query of nothing, or longer than any of them, is refused in words."""
    text = unicodedata.normalize("NFKC", query or "").strip()
    compact = "".join(text.split()).lstrip("'")
    if not compact:
        raise BadInput("find.empty")
    if len(compact) > QUERY_MAX:
        raise BadInput("find.too_long", most=QUERY_MAX)
    if m := _CASE.fullmatch(compact):
        return "case", m.group(1)
    if _ID.fullmatch(compact.upper()):
        return "id_number", compact.upper()
    if _CODE.fullmatch(compact) and sum(c.isdigit() for c in compact) >= 6:
        return "household_code", compact
    return "name", " ".join(text.split())


def find_cases(app: App, actor: Actor, query: str | None, limit: int = FOUND_MAX) -> dict[str, Any]:
    """The cases of the actor's jurisdiction the query names, newest first: {by, query, cases, more}; each
    case with its kind, title (a household's head), region and its name, stage and standing, and the members
    the query matched (name, relation, ID number hidden, still in the household or not)."""
    by, value = read_query(query)
    scopes = [a.region_code for a in actor.assignments]
    c, m = t.cases.c, t.household_members.c
    matched: dict[int, list] = {}
    with app.engine.connect() as conn:
        if by == "case":
            ids = [int(value)]
        elif by == "household_code":
            ids = list(conn.execute(select(c.id).where(c.kind == "household", c.external_code == value)).scalars())
        else:
            column = m.id_number if by == "id_number" else m.name
            where = [column == value] + ([m.active == true()] if by == "id_number" else [])
            # the members so named (their index), of the jurisdiction's cases (each case by its key)
            for r in conn.execute(select(m.case_id, m.name, m.relation, m.id_number, m.active)
                                  .join(t.cases, c.id == m.case_id).where(*where, within(scopes))
                                  .order_by(m.case_id.desc()).limit(10 * limit)):
                matched.setdefault(r.case_id, []).append(
                    {"name": r.name, "relation": r.relation, "id_number": mask_id(r.id_number), "active": r.active})
            ids = list(matched)
            if by == "name":      # a case's own name begins so: a household's head (王 finds the 王 families),
                # a project's title, a sample check's problem item's words in either language (抽查 #3…)
                starts = (value, *stored_starts(app.config, "problem_title.", value))
                ids += [i for i in conn.execute(select(c.id).where(
                    within(scopes), or_(*(c.title.startswith(s, autoescape=True) for s in starts)))
                    .order_by(c.id.desc()).limit(limit + 1)).scalars() if i not in matched]
        rows = conn.execute(
            select(c.id, c.kind, c.title, c.region_code, c.stage, case_standing().label("standing"), c.external_code)
            .where(c.id.in_(ids), within(scopes)).order_by(c.id.desc()).limit(limit + 1)).all() if ids and scopes else []
        names = region_names_in(conn, [r.region_code for r in rows[:limit]])
    cases = [{"id": r.id, "kind": r.kind, "title": r.title, "region": r.region_code,
              "region_name": names.get(r.region_code, r.region_code), "stage": r.stage, "standing": r.standing,
              "household_code": r.external_code if r.kind == "household" else None,
              "members": matched.get(r.id, [])} for r in rows[:limit]]
    return {"by": by, "query": value if by != "id_number" else mask_id(value), "cases": cases,
            "more": len(rows) > limit}
