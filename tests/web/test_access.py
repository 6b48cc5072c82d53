"""Every page route × every kind of user × inside / outside their jurisdiction, generated from the
one permission table the routes use (entrypoints/web/access.py): a route for a kind of person
answers "not for you" (403) to everybody else and only to them, and a record outside the reader's
regions is a 404 however it is reached."""
from __future__ import annotations

import re
from itertools import product

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from engine.adapters import tables as t
from entrypoints.web.access import RULES, Need, refusal
from entrypoints.web.deps import Reader

PUBLIC = {"/signin", "/enrol", "/lang/{lang}", "/", "/home", "/signout"}   # anyone, or any session
KINDS = ("cadre", "township", "supervisor", "county", "inspector", "admin")


def _needs_of(dependant) -> list[str]:
    found = [d.call.requirement for d in dependant.dependencies if isinstance(d.call, Need)]
    return found + [r for d in dependant.dependencies for r in _needs_of(d)]


def _all_routes(routes) -> list:
    """Routes, with those of included routers (FastAPI keeps them behind `original_router`)."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found += _all_routes(inner.routes) if inner is not None else [route]
    return found


def page_routes(web) -> list[tuple[str, str, str | None]]:
    """(method, path, requirement) of every page route (the API has its own tests)."""
    routes = []
    for route in _all_routes(web.routes):
        if isinstance(route, APIRoute) and not route.path.startswith("/api"):
            need = (_needs_of(route.dependant) or [None])[0]
            routes += [(method, route.path, need) for method in sorted(route.methods - {"HEAD"})]
    return routes


def test_every_page_route_names_who_it_is_for(web):
    unguarded = [(m, p) for m, p, need in page_routes(web) if need is None and p not in PUBLIC]
    assert unguarded == []


EVIL = "<script>alert(1)</script>"


def _evil_household(core) -> int:
    """A household whose head's name is a script, in the cadre's village: every page must show it as text."""
    from engine.services.org import load_actor
    from tests.world import id_number
    from workflows.household import MemberInput, register_household
    with core.engine.connect() as conn:
        actor = load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == "v01_secretary")).first())
    return register_household(core, actor, actor.assignments[0].region_code,
                              [MemberInput(EVIL, id_number("11010119800101123"))], ["illness"], "general")


@pytest.fixture(scope="module")
def places(core):
    """A record in the cadre's village (inside every kind's jurisdiction: a household whose name is a
    script) and one in another township."""
    evil = _evil_household(core)
    with core.engine.connect() as conn:
        village = conn.execute(select(t.role_assignments.c.region_code).join(
            t.persons, t.persons.c.id == t.role_assignments.c.person_id).where(
            t.persons.c.code == "v01_secretary")).scalar()
        township = village[:9]
        outside = conn.execute(select(t.cases.c.id).where(~t.cases.c.region_code.startswith(township),
                                                          t.cases.c.kind == "household").limit(1)).scalar()
        other_village = conn.execute(select(t.cases.c.region_code).where(t.cases.c.id == outside)).scalar()
        records = {where: _records(conn, region) for where, region in (("inside", village), ("outside", other_village))}
    return {"inside": {"case_id": evil, "code": village, "person": "v01_secretary", **records["inside"]},
            "outside": {"case_id": outside, "code": other_village, "person": "t2_staff1", **records["outside"]}}


def _records(conn, village: str) -> dict:
    """A notice, an evidence item with a file and an objection of cases in `village` (None if none)."""
    in_village = select(t.cases.c.id).where(t.cases.c.region_code == village)
    first = lambda q: conn.execute(q.limit(1)).scalar()  # noqa: E731
    return {"notice_id": first(select(t.notice_cases.c.notice_id).where(t.notice_cases.c.case_id.in_(in_village))),
            "evidence_id": first(select(t.evidence.c.id).where(t.evidence.c.case_id.in_(in_village),
                                                               t.evidence.c.file_sha256.isnot(None))),
            "objection_id": first(select(t.objections.c.id).where(t.objections.c.case_id.in_(in_village)))}


def _url(path: str, values: dict) -> str | None:
    params = dict(values, code=values["person"] if "/person/" in path else values["code"])
    filled = path
    for name in re.findall(r"{(\w+)}", path):
        value = params.get(name)
        if value is None:
            return None
        filled = filled.replace("{" + name + "}", str(value))
    return filled


def _reader(core, kind_client) -> Reader:
    from engine.services.accounts import session_of
    session = session_of(core, kind_client.cookies.get("jz_session"))
    return Reader(core, session.actor, "zh")


def test_each_route_refuses_exactly_the_kinds_it_is_not_for(web, core, signed_in, places):
    clients = {kind: signed_in(kind) for kind in KINDS}
    checked = 0
    for (method, path, need), kind in product(page_routes(web), KINDS):
        if need is None:
            continue
        url = _url(path, places["inside"])
        if url is None:
            continue
        client = clients[kind]
        answer = client.request(method, url, data={"csrf": client.csrf}) if method == "POST" else client.get(url)
        reader = _reader(core, client)
        allowed = RULES[need](reader)
        told = refusal(need, reader).render(core.config, "zh")
        assert EVIL not in answer.text, (method, path, kind)
        assert (told in answer.text) == (not allowed), (method, path, kind, answer.status_code)
        if not allowed:
            assert answer.status_code == 403
        checked += 1
    print(f"\naccess matrix: {checked} route x kind checks")
    assert checked >= 6 * 5


@pytest.mark.parametrize("kind", KINDS)
def test_a_record_outside_the_jurisdiction_is_a_404_on_every_route(web, core, signed_in, places, kind):
    client = signed_in(kind)
    reader = _reader(core, client)
    township_bound = all(a.region_code.startswith(places["inside"]["code"][:9]) for a in reader.actor.assignments)
    for method, path, need in page_routes(web):
        if need is None or "{" not in path or not RULES[need](reader):
            continue
        url = _url(path, places["outside"])
        if url is None:
            continue
        answer = client.request(method, url, data={"csrf": client.csrf}) if method == "POST" else client.get(url)
        if township_bound:
            assert answer.status_code == 404, (method, path, kind, answer.status_code)
        else:
            assert answer.status_code != 404 or "case" not in path, (method, path, kind)
