"""A contract's amount on the project's page and through the JSON API, and a poor village's money said
with its unit on the case page and the trace, as its notice says it (52,000.00 元, not a bare 52,000)."""
from __future__ import annotations

import re
from datetime import date

from engine.adapters import tables as t
from tests.helpers.projects import add_project, count, enter_library, fund, households, pay
from tests.helpers.villages import identified_village
from tests.test_project_figures import ok


def test_the_project_page_and_the_api_say_the_contract_and_the_api_refuses_a_payment_beyond_it(world, world_clients):
    page, api = world_clients
    case = add_project(world, households(world))
    enter_library(world, case)
    fund(world, case, contract="200000")
    pay(world, case, "150000", on=date(2019, 6, 1))
    pay(world, case, "30000", kind="retention", on=date(2019, 6, 1))
    html = page("insp").get(f"/cases/{case}").text
    said = re.search(r'<span id="project-contract-amount">(.*?)</span>', html, re.S)
    assert said and said.group(1) == "合同金额 200,000.00 元，已付（含质保金）180,000.00 元", html
    shown = api("insp").get(f"/api/v1/projects/{case}").json()
    assert (shown["contract_amount"], shown["contract_paid"]) == ("200000.00", "180000.00"), shown
    before = count(world, t.disbursements)
    body = {"amount": "20000.01", "payee_kind": "contractor", "payee": "宁都县农建公司", "paid_on": "2019-06-01"}
    answer = api("cs").post(f"/api/v1/projects/{case}/payments", json=body)
    assert answer.status_code == 409 and answer.json()["error"] == "project.over_contract", answer.text
    assert "合同金额为 200,000.00 元" in answer.json()["message"] and "最多还可支付 20,000.00 元" in answer.json()["message"]
    english = api("cs", "en").post(f"/api/v1/projects/{case}/payments", json=body)
    assert english.status_code == 409 and "at most 20,000.00 yuan may still be paid" in english.json()["message"]
    assert count(world, t.disbursements) == before


def test_a_poor_villages_money_is_said_with_its_unit_on_the_case_page_and_the_trace(world, world_clients):
    page, api = world_clients
    case = identified_village(world)        # its profile: per capita 3,000, the province's 12,000, collective 0
    html = page("insp").get(f"/cases/{case}").text
    for words in ("农民人均纯收入: 3,000.00 元", "全省农民人均纯收入: 12,000.00 元", "村集体经济收入: 0.00 元"):
        assert words in html, (words, html)
    trace = page("insp").get(f"/inspect/trace/case/{case}").text
    assert "3,000.00 元" in trace and "12,000.00 元" in trace, trace
    english = api("insp", "en").get(f"/api/v1/trace/cases/{case}").text
    assert "3,000.00 yuan" in english and "12,000.00 yuan" in english, english
    shown = ok(world, "insp", "case", "show", case)          # the command line's case alike
    assert "农民人均纯收入：3,000.00 元" in shown and "村集体经济收入：0.00 元" in shown, shown
