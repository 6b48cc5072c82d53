"""The 查找 page: a cadre types a villager's name or an ID number as it is on the card and lands on the
household's page; an inspector's results lead to the trace; what cannot be looked for is said at the box."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.adapters import tables as t


def _member(world, case: int, relation: str):
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.household_members.c.name, t.household_members.c.id_number).where(
            t.household_members.c.case_id == case, t.household_members.c.relation == relation)).one()


def test_a_cadre_finds_a_household_by_a_members_name_and_by_an_id_number(world, world_clients):
    page, api = world_clients
    case = world.household(members=2)
    spouse = _member(world, case, "spouse")
    cadre = page("vs")
    home = cadre.get("/work").text
    assert 'href="/find"' in home and ">查找<" in home
    found = cadre.get("/find", params={"q": spouse.name})
    assert found.status_code == 200
    assert f'href="/cases/{case}"' in found.text and "配偶" in found.text
    assert spouse.id_number not in found.text and spouse.id_number[-4:] in found.text     # its middle hidden
    spaced = " ".join(spouse.id_number[i:i + 6] for i in range(0, 18, 6))
    by_id = cadre.get("/find", params={"q": spaced})
    assert f'href="/cases/{case}"' in by_id.text and "身份证号" in by_id.text and spouse.id_number not in by_id.text
    empty = cadre.get("/find", params={"q": "  "})
    assert empty.status_code == 400 and "请输入要查找的" in empty.text
    assert cadre.get("/find").status_code == 200                    # the box alone
    answer = api("vs").get("/api/v1/cases/find", params={"q": spouse.name})
    assert answer.status_code == 200, answer.text
    assert [c["id"] for c in answer.json()["cases"]] == [case]
    assert answer.json()["cases"][0]["members"][0]["relation"] == "spouse"


def test_an_inspectors_results_lead_to_the_trace_and_another_villages_cadre_finds_nothing(world, world_clients):
    page, _api = world_clients
    case = world.household()
    head = _member(world, case, "head")
    seen = page("insp").get("/find", params={"q": head.name})
    assert f'href="/inspect/trace/case/{case}"' in seen.text and f'href="/cases/{case}"' not in seen.text
    other = page("vs2").get("/find", params={"q": head.name}, headers={"Accept-Language": "en"})
    assert other.status_code == 200 and f"/cases/{case}" not in other.text


def test_an_old_15_digit_id_number_typed_is_shown_back_masked_on_every_search_box(world, world_clients):
    """An old 15-digit ID number (one the import says is old) typed into the find box or the inspector's
    trace boxes, finding nobody, is said back with its middle hidden, as an 18-digit one is."""
    page, _api = world_clients
    old = "360730690101123"
    inspector = page("insp")
    for answer in (page("vs").get("/find", params={"q": old}), inspector.get("/find", params={"q": old}),
                   inspector.get("/inspect/trace", params={"case": old}),
                   inspector.get("/inspect/trace", params={"person": old})):
        said = re.sub(r"<[^>]+>", "", answer.text)       # the words (the box and the URL keep what was typed)
        assert answer.status_code in (200, 400) and old not in said, answer.url
        assert "360730*****1123" in said, answer.url
