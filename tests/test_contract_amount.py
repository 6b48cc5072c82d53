"""A fund project's contract names its amount (合同金额): the contractor notice and a new contract say it,
it is not above the funds allocated, and what its contractor is paid (retention held for it included)
stays within it. Before, a contract had no amount: a contractor notice (中标公示) named no winning
amount, and a project's contractor could be paid anything up to the allocation."""
from __future__ import annotations

import json
from datetime import date

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from tests.helpers.projects import D, add_project, count, enter_library, households, pay, refused
from tests.test_project_contractor import new_contract, refused_cli, step
from tests.test_contracts50 import contracted, supplement, supplement_step
from tests.test_project_figures import ok, run
from tests.test_project_money_rules import funded
from tests.test_project_notices import notice_of, texts
from tests.world import World

SELECTION = ("--field", "contractor=宁都县农建公司", "--field", "credit_code=91360730MA35F0QX13", "--field", "method=公开招标", "--field", "selected_on=2019-04-25")


def allocated(world: World) -> int:
    """A project of 300,000 yuan taken into the library and allocated on 16 April 2019, on the boards."""
    case = add_project(world, households(world))
    enter_library(world, case)
    world.on(date(2019, 4, 16))
    world.step("cs", "funding", "allocation", case, funds=(("county", "200000", None), ("integrated", "100000", None)))
    world.step("fs", "funding", "allocation_notice", case)
    world.on(date(2019, 4, 26))
    return case


def test_a_contract_above_the_allocation_is_refused_in_words_and_the_notice_names_its_amount(world):
    case = allocated(world)
    notice = ("step", "funding", "contractor_notice", case, "--date", "2019-04-26")
    ok(world, "ts1", "evidence", "add", case, "contractor_selection", *SELECTION, "--field", "contract_amount=300000.01")
    err = refused_cli(world, "ts1", "check.contract_within_allocation", *notice)
    assert "合同金额 300,000.01 元超过本项目已下达的资金 300,000.00 元" in err and "--replace" in err, err
    _, _, english = run(world, "ts1", "--lang", "en", *notice)
    assert "contract amount 300,000.01 yuan is more than the 300,000.00 yuan allocated" in english, english
    ok(world, "ts1", "evidence", "add", case, "contractor_selection", *SELECTION, "--field", "contract_amount=二十八万",
       "--replace", "--reason", "金额录错")
    err = refused_cli(world, "ts1", "check.contract_within_allocation", *notice)
    assert "合同金额 二十八万 不是有效金额" in err, err
    ok(world, "ts1", "evidence", "add", case, "contractor_selection", *SELECTION, "--field", "contract_amount=285,000",
       "--replace", "--reason", "金额录错")
    ok(world, "ts1", *notice)
    shown = texts(world, notice_of(world, "contractor_notice"))
    assert "合同金额：285,000.00 元" in shown["posted"], shown["posted"]
    assert "Contract amount: 285,000.00 yuan" in shown["en"], shown["en"]
    # said by `project show` (in both languages and as JSON) and the trace once it is funded
    ok(world, "ts3", "step", "funding", "schedule", case, "--date", "2019-05-03", "--milestone", "竣工:-0")
    pay(world, case, "100000", on=date(2019, 5, 10))
    pay(world, case, "10000", kind="retention", on=date(2019, 5, 10))
    human = ok(world, "insp", "project", "show", case, "--as-of", "2019-05-31")
    assert "施工单位 宁都县农建公司（统一社会信用代码 91360730MA35F0QX13）；合同金额 285,000.00 元，已付（含质保金）110,000.00 元" in human, human
    english = ok(world, "insp", "--lang", "en", "project", "show", case, "--as-of", "2019-05-31")
    assert "contract amount 285,000.00 yuan, paid 110,000.00 yuan (retention included)" in english, english
    data = json.loads(ok(world, "insp", "project", "show", case, "--json", "--as-of", "2019-05-31"))
    assert (data["contract_amount"], data["contract_paid"]) == ("285000.00", "110000.00"), data
    trace = ok(world, "insp", "trace", case)
    assert "合同金额：285,000.00 元" in trace and "合同金额 300,000.01 元 → 二十八万" in trace, trace


def test_payments_to_the_contractor_stop_at_its_contract_and_a_supplementary_contract_moves_the_cap(world, tmp_path):
    case, beneficiaries = contracted(world)                   # 300,000 allocated, a contract of 200,000
    pay(world, case, "30000", kind="retention", on=date(2019, 6, 1))    # held for the contractor: under its contract
    error = refused(world, RuleViolation, "project.over_contract", lambda: pay(world, case, "20000.01", on=date(2019, 6, 2)))
    zh, en = error.render(world.app.config, "zh"), error.render(world.app.config, "en")
    for words in ("合同金额为 200,000.00 元", "已付给该单位（含质保金）180,000.00 元", "本次支付 20,000.01 元",
                  "最多还可支付 20,000.00 元", f"`evidence add {case} supplementary_contract`",
                  "`step supplementary_contract supplementary_contract_request`"):
        assert words in zh, (words, zh)
    assert "the contract with '宁都县农建公司' is for 200,000.00 yuan and 180,000.00 yuan has been paid" in en, en
    refused(world, RuleViolation, "project.over_contract",
            lambda: pay(world, case, "20000.01", kind="retention", on=date(2019, 6, 2)))
    # the same through the command line; up to the contract is paid; a beneficiary is not under it
    err = refused_cli(world, "cs", "project.over_contract", "project", "pay", case, "--reference", "记-1", "--amount", "20000.01",
                      "--payee-kind", "contractor", "--payee", "宁都县农建公司", "--date", "2019-06-02")
    assert "最多还可支付 20,000.00 元" in err, err
    pay(world, case, "20000", on=date(2019, 6, 2))
    pay(world, case, "5000", kind="beneficiary", payee=str(beneficiaries[0]), on=date(2019, 6, 2))
    # a supplementary contract with the same contractor (补充合同), announced and confirmed, raises the cap
    supplement(world, case, tmp_path, "260000")
    ok(world, *supplement_step("ts1", "supplementary_contract_request", case, "2019-07-02", "--reason", "追加工程量"))
    ok(world, *supplement_step("ts2", "supplementary_contract_notice", case, "2019-07-03"))
    shown = texts(world, notice_of(world, "supplementary_contract_notice"))
    assert "合同金额：200,000.00 元 → 260,000.00 元" in shown["posted"], shown["posted"]
    ok(world, *supplement_step("cd", "supplementary_contract_approval", case, "2019-07-10", "--approve"))
    before = count(world, t.disbursements)
    pay(world, case, "60000", on=date(2019, 7, 11))
    assert count(world, t.disbursements) == before + 1
    refused(world, RuleViolation, "project.over_contract", lambda: pay(world, case, "0.01", on=date(2019, 7, 11)))
    data = json.loads(ok(world, "insp", "project", "show", case, "--json", "--as-of", "2019-07-31"))
    assert (data["contract_amount"], D(data["contract_paid"])) == ("260000.00", D("260000.00")), data


def test_a_new_contract_above_the_allocation_is_refused(world, tmp_path):
    case, _ = funded(world)
    new_contract(world, case, tmp_path, amount="300000.01")
    err = refused_cli(world, "ts1", "check.contract_within_allocation",
                      *step("ts1", "contractor_change_request", case, "2019-07-02", "--reason", "合同解除")[1:])
    assert "合同金额 300,000.01 元超过本项目已下达的资金 300,000.00 元" in err, err
