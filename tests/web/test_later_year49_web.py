"""The case page's evidence form and the API take a later year's income as that year's record, no
reason asked, as `evidence add` and a village's sheet do (auditor a4, finding 5)."""
from __future__ import annotations

import re

from tests.test_later_year49 import incomes


def test_the_case_pages_form_and_the_api_take_a_later_years_income_without_a_reason(world, world_clients):
    page, api = world_clients
    case = world.household()
    cadre = page("vs")
    shown = cadre.get(f"/cases/{case}")
    assert shown.status_code == 200
    form = re.search(r'<form[^>]*id="ev-income_check".*?</form>', shown.text, re.S).group(0)
    assert "填更晚年度的，即作为新一年的记录保存" in form
    assert re.search(r'<input name="reason"[^>]*required', form) is None      # a later year needs none
    sent = cadre.post(f"/cases/{case}/evidence", data={"csrf": cadre.csrf, "type": "income_check",
                                                       "f_year": "2019", "f_net_income": "5200", "replace": "1"},
                      headers={"HX-Request": "true"})
    assert sent.status_code == 200, sent.text
    assert [r.superseded_by is None for r in incomes(world, case)] == [False, True]
    other = world.household()       # the API: no `replace`, no reason
    answer = api("vs").post(f"/api/v1/cases/{other}/evidence",
                            json={"type": "income_check", "fields": {"year": 2019, "net_income": 5400}})
    assert answer.status_code in (200, 201), answer.text
    assert [r.fields["year"] for r in incomes(world, other) if r.superseded_by is None] == [2019]


def test_the_case_page_refuses_a_later_year_a_step_relied_on_in_the_pages_words(world, world_clients):
    from tests.helpers.refusals import walk
    page, _api = world_clients
    case = world.household()
    walk(world, "identification", case, until="county_approval")
    cadre = page("vs")
    form = {"csrf": cadre.csrf, "type": "income_check", "f_year": "2019", "f_net_income": "5200", "replace": "1"}
    refused = cadre.post(f"/cases/{case}/evidence", data=form, headers={"HX-Request": "true"})
    assert refused.status_code == 409 and 'data-code="evidence.year_relied_on"' in refused.text, refused.text
    assert "2019 年度的新记录会取代它" in refused.text and "勾选「同意作废这些步骤」" in refused.text
    assert "--void-signoffs" not in refused.text and "命令行" not in refused.text
    done = cadre.post(f"/cases/{case}/evidence", data={**form, "void_signoffs": "1"}, headers={"HX-Request": "true"})
    assert done.status_code == 200, done.text
    assert [r.fields["year"] for r in incomes(world, case) if r.superseded_by is None] == [2019]
