"""A fund project's contracts on the case page and through the JSON API (stop 50): a supplementary
contract (补充合同) is offered and shown in its own words while it runs and once confirmed; the API
refuses, in the reader's language, a new contract beyond the money the replaced contractor was not paid,
a supplementary contract lowering the amount, and final accounts above the contract."""
from __future__ import annotations

import re
from datetime import date

import pytest

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.services.case_actions import attach_evidence
from tests.helpers.projects import add_project, count, enter_library, fund, households, pay
from tests.test_contracts50 import contracted
from tests.test_project_money_rules import funded, settle
from tests.web.test_project_page import text_of
from tests.world import scan_file

SUPPLEMENT = {"contract_no": "BC-2019-007", "signed_on": "2019-06-08"}


def test_a_supplementary_contract_on_the_case_page_and_the_api(world, world_clients, tmp_path):
    page, api = world_clients
    case, _ = contracted(world, paid=date(2019, 5, 20))      # 300,000 allocated, a contract of 200,000
    world.on(date(2019, 6, 10))
    starts = page("ts1").get(f"/cases/{case}").text
    assert f'href="/cases/{case}?procedure=supplementary_contract"' in starts and "补充合同" in text_of(starts)
    attach_evidence(world.app, world["ts1"], case, "supplementary_contract", {**SUPPLEMENT, "contract_amount": "60000"},
                    scan_file(tmp_path / "supplement.pdf", "补充合同"))
    body = {"procedure": "supplementary_contract", "step": "supplementary_contract_request", "date": "2019-06-10",
            "reason": "追加果园灌溉管网"}
    lower = api("ts1", "en").post(f"/api/v1/cases/{case}/steps", json=body)
    assert lower.status_code == 409 and lower.json()["error"] == "project.supplement_not_higher", lower.text
    assert "is not above project" in lower.json()["message"] and "not the part added" in lower.json()["message"]
    attach_evidence(world.app, world["ts1"], case, "supplementary_contract", {**SUPPLEMENT, "contract_amount": "260000"},
                    scan_file(tmp_path / "supplement.pdf", "补充合同"), replace=True, reason="录错")
    done = api("ts1").post(f"/api/v1/cases/{case}/steps", json=body)
    assert done.status_code == 200, done.text
    notice = page("ts2").get(f"/cases/{case}").text
    shown = re.search(r'<dl class="facts" id="supplementary-contract">(.*?)</dl>', notice, re.S)
    assert shown, "the notice's form shows the supplementary contract"
    said = text_of(shown.group(1))
    assert "合同金额 200,000.00 元 → 260,000.00 元" in said and "追加金额 60,000.00 元" in said, said
    assert "补充原因 追加果园灌溉管网" in said and "更换" not in said, said
    world.on(date(2019, 6, 11))
    world.step("ts2", "supplementary_contract", "supplementary_contract_notice", case)
    world.on(date(2019, 6, 20))
    world.step("cd", "supplementary_contract", "supplementary_contract_approval", case, decision="approve")
    facts = text_of(re.search(r'<dl class="facts" id="project-facts">(.*?)</dl>',
                              page("insp").get(f"/cases/{case}").text, re.S).group(1))
    assert "合同金额 260,000.00 元，已付（含质保金）150,000.00 元" in facts, facts
    assert "补充合同 BC-2019-007（与“宁都县农建公司”，2019-06-08 签订，2019-06-20 县级确认）：合同金额 200,000.00 元 → 260,000.00 元；" \
           "补充原因：追加果园灌溉管网" in facts, facts
    reader = page("insp")
    reader.cookies.set("lang", "en")
    english = text_of(reader.get(f"/cases/{case}").text)
    assert "supplementary contract BC-2019-007 (with '宁都县农建公司', signed 2019-06-08, confirmed by the county 2019-06-20)" in english
    shown = api("insp").get(f"/api/v1/projects/{case}").json()
    assert shown["contract_amount"] == "260000.00" and shown["supplementary_contracts"][0]["added"] == "60000.00", shown
    trace = page("insp").get(f"/inspect/trace/case/{case}").text
    assert "追加金额" in trace and "60,000.00 元" in trace and "县级确认补充合同" in trace


def test_the_api_refuses_a_new_contract_beyond_the_money_left_and_final_accounts_beyond_the_contract(
        world, world_clients, tmp_path):
    page, api = world_clients
    case, _ = funded(world)                                   # 300,000 allocated, the first contract for all of it
    pay(world, case, "120000", on=date(2019, 6, 1))
    world.on(date(2019, 7, 2))
    attach_evidence(world.app, world["ts1"], case, "new_contract",
                    {"contractor": "赣州市路桥公司", "credit_code": "91360700MA35G7RB38", "contract_no": "SG-2019-031", "signed_on": "2019-07-01",
                     "method": "公开招标", "contract_amount": "200000"}, scan_file(tmp_path / "contract.pdf", "施工合同"))
    body = {"procedure": "contractor_change", "step": "contractor_change_request", "date": "2019-07-02",
            "reason": "原施工单位合同解除"}
    before = count(world, t.steps)
    answer = api("ts1").post(f"/api/v1/cases/{case}/steps", json=body)
    assert answer.status_code == 409 and answer.json()["error"] == "check.contract_within_allocation", answer.text
    assert "还可用于这份合同的资金 180,000.00 元" in answer.json()["message"], answer.json()
    english = api("ts1", "en").post(f"/api/v1/cases/{case}/steps", json=body)
    assert "this project still has for this contract" in english.json()["message"], english.text
    assert count(world, t.steps) == before

    third = add_project(world, households(world), name="洋塘村道路硬化")
    enter_library(world, third)
    fund(world, third, contract="200000")
    with pytest.raises(RuleViolation):                      # accepted, up to its final accounts of 230,000
        settle(world, third, "230000", tmp_path)
    step = {"procedure": "completion", "step": "final_accounts", "date": "2019-11-20"}
    refused = api("cs", "en").post(f"/api/v1/cases/{third}/steps", json=step)
    assert refused.status_code == 409 and refused.json()["error"] == "check.final_accounts_settled", refused.text
    assert "final cost 230,000.00 yuan is more than the 200,000.00 yuan of the contract with" in refused.json()["message"]


def test_a_contracts_amount_is_typed_on_a_phones_number_keypad(world, world_clients):
    """A contract's amount (合同金额) and the final cost (决算金额) are money: their boxes ask a phone for its
    number keypad (before: a text keyboard, letters first)."""
    page, _api = world_clients
    case, _ = contracted(world, paid=date(2019, 5, 20))
    world.on(date(2019, 6, 10))
    shown = page("ts1").get(f"/cases/{case}?procedure=supplementary_contract").text
    assert re.search(r'<input name="f_contract_amount" inputmode="decimal"', shown), \
        re.findall(r'<input name="f_contract_amount"[^>]*>', shown)
