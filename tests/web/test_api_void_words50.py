"""The JSON API's client is told the API's field (`void_signoffs`) where a step relied on the evidence it
would replace, not a box on the household's page nor the command line's option (the API said "tick
'void those steps' on the household's page", or "command line: --void-signoffs"); sent with it, the
item is attached as the words say."""
from __future__ import annotations

from tests.helpers.refusals import assisted_household, walk
from tests.web.test_later_year49_web import incomes
from tests.web.test_relied_steps import voided_steps

NOT_THE_API = ("勾选", "页面", "命令行", "--void-signoffs", "tick", "page", "command line")


def _told_the_field(answer, code: str) -> str:
    assert answer.status_code == 409 and answer.json()["error"] == code, answer.text
    said = answer.json()["message"]
    assert '`"void_signoffs": true`' in said and not any(w in said for w in NOT_THE_API), said
    return said


def test_the_api_names_void_signoffs_for_a_later_years_record_a_step_relied_on(world, world_clients):
    _page, api = world_clients
    case = world.household()
    walk(world, "identification", case, until="county_approval")
    body = {"type": "income_check", "fields": {"year": 2019, "net_income": 5200}}
    said = _told_the_field(api("vs").post(f"/api/v1/cases/{case}/evidence", json=body), "evidence.year_relied_on")
    assert "2019 年度的新记录会取代它" in said, said
    english = _told_the_field(api("vs", "en").post(f"/api/v1/cases/{case}/evidence", json=body),
                              "evidence.year_relied_on")
    assert "the record of 2019 takes its place" in english, english
    done = api("vs").post(f"/api/v1/cases/{case}/evidence", json={**body, "void_signoffs": True})
    assert done.status_code == 201, done.text
    assert [r.fields["year"] for r in incomes(world, case) if r.superseded_by is None] == [2019]


def test_the_api_names_void_signoffs_for_a_replacement_a_step_relied_on(world, tmp_path, world_clients):
    _page, api = world_clients
    case = assisted_household(world, tmp_path)
    walk(world, "exit", case, until="acknowledgement")           # proposed and verified
    body = {"type": "income_assessment", "fields": {"year": 2019, "net_income": 7600}, "replace": True,
            "reason": "更正收入"}
    said = _told_the_field(api("vs").post(f"/api/v1/cases/{case}/evidence", json=body), "evidence.frozen")
    assert "共 2 步" in said, said
    english = _told_the_field(api("vs", "en").post(f"/api/v1/cases/{case}/evidence", json=body), "evidence.frozen")
    assert "(2 in all" in english, english
    assert voided_steps(world, case) == []
    done = api("vs").post(f"/api/v1/cases/{case}/evidence", json={**body, "void_signoffs": True})
    assert done.status_code == 201, done.text
    assert voided_steps(world, case) == ["proposal", "verification"]
