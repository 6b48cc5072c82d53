"""The evidence page says a rate's unit and refuses a rate past 100% at entry (words46, finding 12)."""
from __future__ import annotations

import re

from tests.test_words46 import profile_incidence, village_case


def test_the_evidence_page_says_a_rates_unit_and_refuses_500_percent(world, world_clients):
    case = village_case(world)
    page, _api = world_clients
    client = page("vs")
    html = client.get(f"/cases/{case}").text
    form = re.search(r'<form[^>]*data-type="village_profile".*?</form>', html, re.S).group(0)
    assert "百分数（如 2.5%）" in form and "农民人均纯收入" in form and "可支配" not in form, form
    data = {"csrf": client.csrf, "type": "village_profile", "f_year": "2018", "f_poor_persons": "40",
            "f_per_capita_income": "3000", "f_provincial_income": "12000", "f_collective_income": "0"}
    bad = client.post(f"/cases/{case}/evidence", headers={"HX-Request": "true"}, data={**data, "f_provincial_incidence": "5"})
    assert bad.status_code == 400 and "全省贫困发生率" in bad.text, bad.text
    done = client.post(f"/cases/{case}/evidence", headers={"HX-Request": "true"},
                       data={**data, "f_provincial_incidence": "5％"})
    assert done.status_code == 200, done.text
    assert profile_incidence(world, case) == 0.05


def test_the_case_page_names_only_the_leader_for_a_milestone_and_the_approving_post_for_a_plan_change(world, world_clients):
    from datetime import date as day
    from tests.helpers.projects import add_project, enter_library, fund, households
    case = add_project(world, households(world))
    enter_library(world, case)
    fund(world, case)
    world.on(day(2019, 6, 3))
    page, _api = world_clients
    client = page("insp")
    box = re.search(r"可办理人.*?</p>", client.get(f"/cases/{case}?procedure=milestone").text, re.S).group(0)
    assert "township_staff-ts3" in box and "township_staff-ts1" not in box and "+" not in box, box
    world.step("ts3", "plan_change", "change_request", case, reason="雨季延误",
               funds=(("county", "200000", None), ("integrated", "100000", None), ("provincial", "50000", None)))
    box = re.search(r"可办理人.*?</p>", client.get(f"/cases/{case}").text, re.S).group(0)
    assert "county_office_director-cd" in box and "county_head-ch" not in box, box


def test_the_allocation_form_names_the_fund_sources_and_takes_the_chinese_colon(world, world_clients):
    from datetime import date as day
    from tests.helpers.projects import add_project, enter_library, households
    from workflows.project import project_detail
    case = add_project(world, households(world))
    enter_library(world, case)
    world.on(day(2019, 4, 16))
    page, _api = world_clients
    client = page("cs")
    form = re.search(r'<form[^>]*id="step-form".*?</form>', client.get(f"/cases/{case}").text, re.S).group(0)
    assert "县级财政" in form and "统筹整合资金" in form and "central:" not in form, form
    step = {"csrf": client.csrf, "procedure": "funding", "step": "allocation"}
    bad = client.post(f"/cases/{case}/step", headers={"HX-Request": "true"}, data={**step, "funds": "县级财政200000"})
    assert bad.status_code == 400 and "县级财政:200000" in bad.text and "county:" not in bad.text, bad.text
    done = client.post(f"/cases/{case}/step", headers={"HX-Request": "true"},
                       data={**step, "funds": "县级财政：200000：宁财农〔2019〕30号\n统筹整合资金：100000"})
    assert done.status_code == 200, done.text
    funds = project_detail(world.app, world["cs"], case)["funds"]
    assert {(f["kind"], f["source"]) for f in funds} >= {("allocated", "county"), ("allocated", "integrated")}, funds


def test_the_api_refuses_a_rate_past_100_percent_and_reads_a_percent_sign(world, world_clients):
    case = village_case(world)
    _page, api = world_clients
    client = api("vs")
    fields = {"year": 2018, "poor_persons": 40, "per_capita_income": 3000, "provincial_income": 12000,
              "collective_income": 0}
    bad = client.post(f"/api/v1/cases/{case}/evidence",
                      json={"type": "village_profile", "fields": {**fields, "provincial_incidence": 5}})
    assert bad.status_code in (400, 422) and "全省贫困发生率" in bad.text and "5%" in bad.text, bad.text
    done = client.post(f"/api/v1/cases/{case}/evidence",
                       json={"type": "village_profile", "fields": {**fields, "provincial_incidence": "5%"}})
    assert done.status_code == 201, done.text
    assert profile_incidence(world, case) == 0.05
