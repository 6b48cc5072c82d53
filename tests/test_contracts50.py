"""A fund project's contracts, stop 50: a new contract after a change of contractor fits in the money the
replaced contractor was not paid (the two contracts together never exceed the allocation); the final
accounts (决算) settle no more than the contract; a supplementary contract (补充合同: the same contractor,
more work) has a procedure of its own, announced in its own words and confirmed by the county, and
raises what the contractor may be paid and what the final accounts may settle.

Before: a new contract was checked against the whole allocation (200,000 + the 120,000 paid to the
replaced contractor = 320,000 of 300,000 allocated, accepted); a final cost of 230,000 was settled on a
contract of 200,000; a supplementary contract went through `contractor_change`, whose notice says the
project is to replace its contractor (拟更换施工单位)."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from tests.helpers.projects import D, add_project, enter_library, fund, households, pay, refused
from tests.test_project_contractor import NEW, OLD, new_contract, refused_cli, step
from tests.test_project_figures import ok, run
from tests.test_project_money_rules import funded, settle
from tests.test_project_notices import notice_of, texts
from tests.world import World, scan_file


def contracted(world: World, paid: date = date(2019, 6, 1)) -> tuple[int, list[int]]:
    """A project of 300,000 allocated, its contractor's contract 200,000, of which 150,000 paid on `paid`."""
    beneficiaries = households(world)
    case = add_project(world, beneficiaries)
    enter_library(world, case)
    fund(world, case, contract="200000")
    pay(world, case, "150000", on=paid)
    return case, beneficiaries


def supplement(world: World, case: int, tmp_path, amount: str, *more: str) -> None:
    ok(world, "ts1", "evidence", "add", case, "supplementary_contract", "--field", "contract_no=BC-2019-007",
       "--field", "signed_on=2019-06-08", "--field", f"contract_amount={amount}",
       "--file", scan_file(tmp_path / "supplement.pdf", "补充合同"), *more)


def supplement_step(who: str, key: str, case: int, day: str, *more: str) -> tuple:
    return (who, "step", "supplementary_contract", key, case, "--date", day, *more)


def test_a_new_contract_fits_in_what_the_replaced_contractor_was_not_paid_when_recorded_and_when_confirmed(
        world, tmp_path):
    case, _ = funded(world)                   # 300,000 allocated, the first contract for all of it
    pay(world, case, "100000", on=date(2019, 6, 1))
    pay(world, case, "20000", kind="retention", on=date(2019, 6, 1))       # held for the first contractor
    new_contract(world, case, tmp_path, NEW, amount="200000")             # 120,000 + 200,000 > 300,000
    request = step("ts1", "contractor_change_request", case, "2019-07-02", "--reason", "原施工单位资金链断裂，合同解除")
    err = refused_cli(world, "ts1", "check.contract_within_allocation", *request[1:])
    for words in ("合同金额 200,000.00 元超过本项目还可用于这份合同的资金 180,000.00 元", "已下达资金 300,000.00 元",
                  "被更换的原施工单位", "120,000.00 元", "`--replace`"):
        assert words in err, (words, err)
    english = run(world, "ts1", "--lang", "en", *request[1:])[2]
    assert "contract amount 200,000.00 yuan is more than the 180,000.00 yuan this project still has for this " \
           "contract: 300,000.00 yuan allocated, of which 120,000.00 yuan has been paid to others" in english, english
    new_contract(world, case, tmp_path, NEW, "--replace", "--reason", "按剩余资金重新签订", amount="180000")
    ok(world, *request)
    ok(world, *step("ts2", "new_contractor_notice", case, "2019-07-03"))
    # the replaced contractor is paid 5,000 more for its work meanwhile: the county's confirmation judges
    # the new contract again, on what is left now
    pay(world, case, "5000", payee=OLD, on=date(2019, 7, 5))
    approval = step("cd", "contractor_change_approval", case, "2019-07-10", "--approve")
    err = refused_cli(world, "cd", "check.contract_within_allocation", *approval[1:])
    assert "合同金额 180,000.00 元超过本项目还可用于这份合同的资金 175,000.00 元" in err and "125,000.00 元" in err, err
    # the trace says what the request step judged: the money paid to others beside the contract's amount
    trace = ok(world, "insp", "trace", case)
    assert "已付给其他单位和个人：120,000.00 元" in trace and "合同金额：180,000.00 元" in trace, trace


def test_a_replaced_contractor_is_not_paid_out_of_what_the_contract_in_force_still_needs(world, tmp_path):
    case, _ = funded(world)                   # 300,000 allocated, the first contract for all of it
    pay(world, case, "100000", on=date(2019, 6, 1))
    new_contract(world, case, tmp_path, NEW, amount="190000")            # 10,000 left for the old one
    ok(world, *step("ts1", "contractor_change_request", case, "2019-07-02", "--reason", "原施工单位合同解除"))
    ok(world, *step("ts2", "new_contractor_notice", case, "2019-07-03"))
    ok(world, *step("cd", "contractor_change_approval", case, "2019-07-10", "--approve"))
    error = refused(world, RuleViolation, "project.former_over_contract_in_force",
                    lambda: pay(world, case, "10000.01", payee=OLD, on=date(2019, 7, 15)))
    said = error.render(world.app.config, "zh")
    for words in (f"现施工单位“{NEW}”的合同尚有 190,000.00 元未付", f"原施工单位“{OLD}”10,000.01 元",
                  "最多还可付给原施工单位 10,000.00 元"):
        assert words in said, (words, said)
    assert "at most 10,000.00 yuan may still be paid to the replaced contractor" in error.render(world.app.config, "en")
    err = refused_cli(world, "cs", "project.former_over_contract_in_force", "project", "pay", case, "--reference", "记-1", "--amount",
                      "10000.01", "--payee-kind", "retention", "--payee", OLD, "--date", "2019-07-15")
    assert "10,000.00 元" in err, err
    pay(world, case, "10000", payee=OLD, on=date(2019, 7, 15))             # its settlement: what it is owed
    pay(world, case, "190000", payee=NEW, on=date(2019, 7, 20))            # the contract in force, whole
    assert D(json.loads(ok(world, "insp", "project", "show", case, "--json"))["contract_paid"]) == D("190000.00")


def test_the_final_accounts_settle_no_more_than_the_contract_and_what_was_paid_to_others(world, tmp_path):
    case, beneficiaries = contracted(world)
    pay(world, case, "10000", kind="beneficiary", payee=str(beneficiaries[0]), on=date(2019, 6, 1))
    with pytest.raises(RuleViolation) as refusal:             # 215,000 > 200,000 + the 10,000 to a household
        settle(world, case, "215000", tmp_path)
    said = refusal.value.render(world.app.config, "zh")
    assert refusal.value.code == "check.final_accounts_settled", refusal.value.code
    assert "决算金额 215,000.00 元超过合同允许的 210,000.00 元（与施工单位“宁都县农建公司”签订的合同金额 200,000.00 元，" \
           "加上已付给其他单位和个人的 10,000.00 元），超出 5,000.00 元" in said, said
    # the command line alike, writing nothing; what to do: take the excess off, or a supplementary contract
    final = ("step", "completion", "final_accounts", case, "--date", "2019-11-20")
    err = refused_cli(world, "cs", "check.final_accounts_settled", *final)
    assert "核减" in err and "`step supplementary_contract supplementary_contract_request`" in err, err
    english = run(world, "cs", "--lang", "en", *final)[2]
    assert "final cost 215,000.00 yuan is more than the 210,000.00 yuan the contracts allow" in english, english
    ok(world, "cs", "evidence", "add", case, "final_accounts", "--field", "settled_on=2019-11-20",
       "--field", "final_cost=210000", "--replace", "--reason", "审减超出合同部分")
    ok(world, "cs", *final)
    trace = ok(world, "insp", "trace", case)
    assert "决算金额：210,000.00 元" in trace and "合同金额：200,000.00 元" in trace, trace


def test_a_supplementary_contract_has_its_own_procedure_and_words_and_raises_the_contract(world, tmp_path):
    case, _ = contracted(world, paid=date(2019, 5, 20))
    pay(world, case, "30000", kind="retention", on=date(2019, 5, 20))
    # a change of contractor naming the same contractor is refused, and says where a supplement goes
    new_contract(world, case, tmp_path, OLD, amount="260000")
    err = refused_cli(world, "ts1", "project.same_contractor",
                      *step("ts1", "contractor_change_request", case, "2019-07-02", "--reason", "追加工程")[1:])
    assert f"`evidence add {case} supplementary_contract`" in err and "`step supplementary_contract" in err, err
    # the part added typed as the amount: refused, saying it is the whole amount after the supplement
    request = supplement_step("ts1", "supplementary_contract_request", case, "2019-06-10", "--reason", "追加果园灌溉管网")
    refused_cli(world, "vs", "auth.wrong_role", *supplement_step("vs", "supplementary_contract_request", case,
                                                              "2019-06-10", "--reason", "追加")[1:])
    refused_cli(world, "ts1", "evidence", *request[1:])                     # no supplementary contract yet
    supplement(world, case, tmp_path, "60000")
    err = refused_cli(world, "ts1", "project.supplement_not_higher", *request[1:])
    assert "补充合同后的合同金额 60,000.00 元不高于项目" in err and "200,000.00 元" in err, err
    supplement(world, case, tmp_path, "300000.01", "--replace", "--reason", "录错")
    err = refused_cli(world, "ts1", "check.contract_within_allocation", *request[1:])
    assert "合同金额 300,000.01 元超过本项目已下达的资金 300,000.00 元" in err, err
    supplement(world, case, tmp_path, "260000", "--replace", "--reason", "录错")
    refused_cli(world, "ts1", "project.supplement_reason", *request[1:-2])
    ok(world, *request)
    ok(world, *supplement_step("ts2", "supplementary_contract_notice", case, "2019-06-11"))
    shown = texts(world, notice_of(world, "supplementary_contract_notice"))
    assert "拟与原施工单位签订补充合同" in shown["posted"] and "更换" not in shown["posted"], shown["posted"]
    for words in ("合同金额：200,000.00 元 → 260,000.00 元", "追加金额：60,000.00 元", "补充原因：追加果园灌溉管网",
                  "施工单位：宁都县农建公司", "BC-2019-007"):
        assert words in shown["posted"], (words, shown["posted"])
    assert "Amount added: 60,000.00 yuan" in shown["en"] and "supplementary contract" in shown["en"], shown["en"]
    # until the county confirms it, the contract stays what it was
    refused(world, RuleViolation, "project.over_contract", lambda: pay(world, case, "20000.01", on=date(2019, 6, 12)))
    refused_cli(world, "cs", "auth.wrong_role", *supplement_step("cs", "supplementary_contract_approval", case,
                                                              "2019-06-20", "--approve")[1:])
    ok(world, *supplement_step("cd", "supplementary_contract_approval", case, "2019-06-20", "--approve"))
    pay(world, case, "80000", on=date(2019, 6, 21))                          # 260,000 with the retention
    err = refused(world, RuleViolation, "project.over_contract", lambda: pay(world, case, "0.01", on=date(2019, 6, 21)))
    assert "`step supplementary_contract supplementary_contract_request`" in err.render(world.app.config, "zh")

    human = ok(world, "insp", "project", "show", case, "--as-of", "2019-06-30")
    assert "合同金额 260,000.00 元，已付（含质保金）260,000.00 元" in human, human
    assert "补充合同 BC-2019-007（与“宁都县农建公司”，2019-06-08 签订，2019-06-20 县级确认）：合同金额 200,000.00 元 → 260,000.00 元；" \
           "补充原因：追加果园灌溉管网" in human, human
    english = ok(world, "insp", "--lang", "en", "project", "show", case, "--as-of", "2019-06-30")
    assert "supplementary contract BC-2019-007 (with '宁都县农建公司', signed 2019-06-08, confirmed by the county 2019-06-20): " \
           "contract amount 200,000.00 yuan → 260,000.00 yuan" in english, english
    data = json.loads(ok(world, "insp", "project", "show", case, "--json", "--as-of", "2019-06-30"))
    assert data["contract_amount"] == "260000.00" and data["supplementary_contracts"] == [{
        "on": "2019-06-20", "contractor": OLD, "contract_no": "BC-2019-007", "signed_on": "2019-06-08",
        "old_amount": "200000.00", "contract_amount": "260000.00", "added": "60000.00",
        "reason": "追加果园灌溉管网"}], data
    trace = ok(world, "insp", "trace", case)
    assert "补充合同" in trace and "追加金额：60,000.00 元" in trace and "合同金额：200,000.00 元 → 260,000.00 元" in trace
    with world.app.engine.connect() as conn:       # each step in the audit log, by who signed it
        logged = conn.execute(select(t.audit_events.c.step_key, t.audit_events.c.person_code).where(
            t.audit_events.c.case_id == case, t.audit_events.c.step_key.like("supplementary_contract%"))
            .order_by(t.audit_events.c.seq)).all()
    assert [tuple(r) for r in logged] == [("supplementary_contract_request", "ts1"),
                                          ("supplementary_contract_notice", "ts2"),
                                          ("supplementary_contract_approval", "cd")], logged

    # the final accounts: up to the contract as supplemented, not beyond it
    with pytest.raises(RuleViolation) as refusal:
        settle(world, case, "265000", tmp_path)
    said = refusal.value.render(world.app.config, "zh")
    assert "决算金额 265,000.00 元超过与施工单位“宁都县农建公司”签订的合同金额 260,000.00 元，超出 5,000.00 元" in said, said
    ok(world, "cs", "evidence", "add", case, "final_accounts", "--field", "settled_on=2019-11-20",
       "--field", "final_cost=260000", "--replace", "--reason", "审定")
    ok(world, "cs", "step", "completion", "final_accounts", case, "--date", "2019-11-20")
    assert D(json.loads(ok(world, "insp", "project", "show", case, "--json"))["contract_paid"]) == D("260000.00")
