"""A read-only person (an inspector) asking for casework through the API is refused as read-only
(403) first — not told what a step would lack (409) or what is wrong with a member (400)."""
from __future__ import annotations

import pytest

from tests.web.test_api import api  # noqa: F401  (fixture)


@pytest.mark.parametrize("path, body", [
    ("/api/v1/steps", {"procedure": "identification", "step": "application", "case_ids": [27]}),
    ("/api/v1/households", {"village": "360730100201", "members": [{"name": "x", "id_number": "1"}], "causes": ["因病"]}),
    ("/api/v1/households/import", {"village": "360730100201", "households": [
        {"members": [{"name": "x", "id_number": "2"}], "causes": ["因病"]}]}),
])
def test_an_inspector_is_refused_as_read_only_before_anything_else(api, path, body):  # noqa: F811
    answer = api("inspector").post(path, json=body)
    assert answer.status_code == 403 and answer.json()["error"] == "auth.read_only", answer.text


def test_a_village_list_through_the_api_is_refused_with_every_problem(api, core):  # noqa: F811
    from sqlalchemy import func, select
    from engine.adapters import tables as t
    from tests.world import id_number
    good = [id_number(f"1101011970010{i:04d}") for i in range(900, 905)]
    households = [
        {"members": [{"name": "甲", "id_number": good[0]}], "causes": ["因病"]},
        {"members": [{"name": "乙", "id_number": good[1][:-1] + ("0" if good[1][-1] != "0" else "1")}], "causes": ["因病"]},
        {"members": [{"name": "丙", "id_number": good[2], "relation": "boss"}], "causes": ["因病"]},
        {"members": [{"name": "丁", "id_number": good[3]}], "causes": ["poor"]},
        {"members": [{"name": "戊", "id_number": good[0]}], "causes": ["因病"]}]
    with core.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(t.cases)).scalar()
    answer = api("v01_secretary").post("/api/v1/households/import", json={"village": "360730100201",
                                                                          "households": households})
    assert answer.status_code == 400, answer.text
    found = {(p["household"], p["field"]) for p in answer.json()["problems"]}
    assert {(2, "id_number"), (3, "relation"), (4, "causes"), (5, "id_number")} <= found
    assert all("甲" not in p["message"] and good[0] not in p["message"] for p in answer.json()["problems"])
    with core.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.cases)).scalar() == before


def test_a_list_step_each_through_the_api_reports_every_case(api, core):  # noqa: F811
    from sqlalchemy import select
    from engine.adapters import tables as t
    client = api("v01_secretary")
    with core.engine.connect() as conn:
        ours = conn.execute(select(t.cases.c.id).where(t.cases.c.region_code == "360730100201",
                                                       t.cases.c.kind == "household").order_by(t.cases.c.id).limit(2)).scalars().all()
        foreign = conn.execute(select(t.cases.c.id).where(t.cases.c.region_code != "360730100201",
                                                          t.cases.c.kind == "household")).scalar()
    answer = client.post("/api/v1/steps/each", json={"procedure": "identification", "step": "application",
                                                      "case_ids": [*ours, foreign, 99999999]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    told = {r["case_id"]: r["reasons"] for r in body["refused"]}
    assert set(told) | {d["case_id"] for d in body["done"]} == {*ours, foreign, 99999999}
    assert told[foreign][0]["error"] == "case.unknown" and told[99999999][0]["error"] == "case.unknown"
    assert all(r["message"] for reasons in told.values() for r in reasons)


def test_a_list_step_all_or_none_through_the_api_names_every_refused_case(api, core):  # noqa: F811
    from sqlalchemy import select
    from engine.adapters import tables as t
    with core.engine.connect() as conn:
        ours = conn.execute(select(t.cases.c.id).where(t.cases.c.region_code == "360730100201",
                                                       t.cases.c.kind == "household").order_by(t.cases.c.id).limit(3)).scalars().all()
    answer = api("v01_secretary").post("/api/v1/steps", json={"procedure": "identification", "step": "application",
                                                              "case_ids": ours})
    assert answer.status_code in (400, 403, 409), answer.text
    body = answer.json()
    assert len(body["refused"]) == 3 and {r["case_id"] for r in body["refused"]} == set(ours)
    assert all(r["reasons"] and r["reasons"][0]["error"] and r["reasons"][0]["message"] for r in body["refused"])
    assert body["error"] == body["refused"][0]["reasons"][0]["error"] and body["message"]
