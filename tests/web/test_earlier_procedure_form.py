"""A household voted down applies again: its new identification is not judged ready on the earlier,
rejected procedure's application form, on the pages (a row's "needs", the village's list) or the
JSON API (tests/test_earlier_procedure_evidence.py: the CLI)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.case_actions import attach_evidence
from tests.world import VILLAGE

NEW_FORM = "这次办理须有它自己的一份贫困户申请书"


def voted_down(world) -> int:
    """A household that applied on 2019-03-01 and was voted down at its appraisal (3 of 41 for)."""
    world.on(date(2019, 3, 1))
    case = world.household()
    world.step("vs", "identification", "application", case)
    world.step("vd", "identification", "appraisal", case, attendance=41, votes_for=3, votes_against=35)
    return case


def test_the_list_page_the_needs_and_the_api_say_the_form_is_an_earlier_procedures(world, world_clients):
    page, api = world_clients
    case = voted_down(world)
    world.on(date(2020, 10, 20))
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2020, "net_income": 3000})
    client = page("vs")
    needs = client.get(f"/work/{case}/needs")
    assert needs.status_code == 200 and 'data-ready="1"' not in needs.text and NEW_FORM in needs.text, needs.text
    answer = client.post(f"/villages/{VILLAGE}/list", data={
        "csrf": client.csrf, "kind": "household", "procedure": "identification", "step": "application",
        "case": [str(case)], "date": "2020-10-12"})
    assert answer.status_code == 409 and NEW_FORM in answer.text
    told = api("vs").get(f"/api/v1/cases/{case}/next").json()
    assert "evidence.earlier_procedure" in told["next"]["rules"]
    assert "needs its own signed application" in api("vs", "en").get(f"/api/v1/cases/{case}/next").text
    with world.app.engine.connect() as conn:
        applied = conn.execute(select(t.steps.c.id).where(t.steps.c.case_id == case,
                                                          t.steps.c.effective_date >= date(2020, 1, 1))).all()
    assert applied == []
