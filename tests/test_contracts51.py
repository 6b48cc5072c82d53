"""A fund project's contracts, stop 51: a contract names its contractor's unified social credit code
(统一社会信用代码, GB 32100-2015), its check character checked, required of a new contract; payments are
matched to the contractor by it when given, else by the name compared past spaces and full-width
brackets, and recorded as the contract names it. Two contractors of one name are told apart by the code.

Before: a payee was matched by its name exactly (宁都县农建公司（有限） typed with half-width brackets, or a
space, was refused as not the contractor), and two firms of one name could not be told apart: a new
contract with a firm of the same name was refused as the same contractor, and what each was paid was
summed together."""
from __future__ import annotations

import json
from datetime import date

from tests.helpers.projects import CODES, D, pay
from tests.test_contract_amount import allocated
from tests.test_project_contractor import refused_cli, step
from tests.test_project_figures import ok, run
from tests.test_project_money_rules import funded
from tests.world import scan_file

BRACKETED = "宁都县农建（集团）有限公司"
SAME_NAME = "91360730MA35H2KY4Y"           # another firm named 宁都县农建公司 (another county's register)


def test_a_contract_names_its_contractors_credit_code_checked_and_required_of_a_new_contract(world):
    case = allocated(world)
    selection = ("evidence", "add", case, "contractor_selection", "--field", f"contractor={BRACKETED}",
                 "--field", "method=公开招标", "--field", "selected_on=2019-04-25", "--field", "contract_amount=280000")
    notice = ("step", "funding", "contractor_notice", case, "--date", "2019-04-26")
    # a code whose check character is wrong is refused when typed, in words
    status, _, err = run(world, "ts1", *selection, "--field", "credit_code=91360730MA35F0QX14")
    assert status == 2 and "统一社会信用代码（18 位数字和大写字母，末位是校验码" in err and "Traceback" not in err, err
    # none: the contract is recorded, the contractor notice refused until the code is added
    ok(world, "ts1", *selection)
    err = refused_cli(world, "ts1", "check.contractor_identified", *notice)
    assert f"施工合同没有登记施工单位“{BRACKETED}”的统一社会信用代码" in err, err
    assert f"`evidence add {case} contractor_selection --field credit_code=代码`" in err, err
    english = run(world, "ts1", "--lang", "en", *notice)[2]
    assert f"the contract does not give the unified social credit code of its contractor '{BRACKETED}'" in english
    # typed as a licence shows it, in full-width characters with spaces: kept as the code
    ok(world, "ts1", *selection, "--field", "credit_code=９１３６ ０７３０ ＭＡ３５ Ｆ０ＱＸ１３", "--replace",
       "--reason", "补登统一社会信用代码")
    ok(world, "ts1", *notice)
    ok(world, "ts3", "step", "funding", "schedule", case, "--date", "2019-05-03", "--milestone", "竣工:2019-10-30")
    # paid under the name typed with half-width brackets and a space: the contractor, recorded as its contract names it
    said = ok(world, "cs", "project", "pay", case, "--reference", "记-1", "--amount", "1000", "--payee-kind", "contractor",
              "--payee", "宁都县农建 (集团)有限公司", "--date", "2019-05-10")
    assert f"收款单位按施工合同登记为“{BRACKETED}”（统一社会信用代码 91360730MA35F0QX13）" in said, said
    assert "忽略空格和全角、半角的差别" in said, said
    shown = json.loads(ok(world, "insp", "project", "show", case, "--json"))
    assert D(shown["contract_paid"]) == D("1000") and shown["contractor_code"] == "91360730MA35F0QX13", shown
    human = ok(world, "insp", "project", "show", case)
    assert f"施工单位 {BRACKETED}（统一社会信用代码 91360730MA35F0QX13）；合同金额" in human, human
    english = ok(world, "insp", "--lang", "en", "project", "show", case)
    assert f"contractor {BRACKETED} (unified social credit code 91360730MA35F0QX13); contract amount" in english


def test_payments_are_matched_by_the_credit_code_and_two_firms_of_one_name_told_apart(world, tmp_path):
    case, _ = funded(world)                   # 300,000 allocated, its contractor 宁都县农建公司 under a contract of it all
    old = "宁都县农建公司"
    pay(world, case, "100000", on=date(2019, 6, 1))
    # by the code alone (a voucher naming the firm otherwise): the contractor, recorded under its contract's name
    said = ok(world, "cs", "project", "pay", case, "--reference", "记-1", "--amount", "5000", "--payee-kind", "contractor",
              "--payee", "农建公司", "--payee-code", CODES[old], "--date", "2019-06-02")
    assert f"收款单位按施工合同登记为“{old}”" in said, said
    # a code of no contract of the project, and no code at all: refused in words, nothing recorded
    err = refused_cli(world, "cs", "project.payee_code_unknown", "project", "pay", case, "--reference", "记-1", "--amount", "1",
                      "--payee-kind", "contractor", "--payee", old, "--payee-code", SAME_NAME, "--date", "2019-06-02")
    assert f"统一社会信用代码 {SAME_NAME} 不是项目 {case} 任何一份施工合同的施工单位" in err and CODES[old] in err, err
    err = refused_cli(world, "cs", "project.payee_code_invalid", "project", "pay", case, "--reference", "记-1", "--amount", "1",
                      "--payee-kind", "contractor", "--payee", old, "--payee-code", "91360730MA35F0QX1", "--date", "2019-06-02")
    assert "末位是按 GB 32100-2015 计算的校验码" in err, err
    # another firm of the same name, by its own code, is another contractor: a change of contractor, not refused
    ok(world, "ts1", "evidence", "add", case, "new_contract", "--field", f"contractor={old}",
       "--field", f"credit_code={SAME_NAME}", "--field", "contract_no=SG-2019-040", "--field", "signed_on=2019-07-01",
       "--field", "method=公开招标", "--field", "contract_amount=190000",
       "--file", scan_file(tmp_path / "contract.pdf", "施工合同"))
    ok(world, *step("ts1", "contractor_change_request", case, "2019-07-02", "--reason", "原施工单位合同解除"))
    ok(world, *step("ts2", "new_contractor_notice", case, "2019-07-03"))
    ok(world, *step("cd", "contractor_change_approval", case, "2019-07-10", "--approve"))
    # by the name alone the two cannot be told apart: the code is asked for
    err = refused_cli(world, "cs", "project.payee_same_name", "project", "pay", case, "--reference", "记-1", "--amount", "1000",
                      "--payee-kind", "contractor", "--payee", old, "--date", "2019-07-15")
    assert f"有不止一家名为“{old}”的施工单位" in err and SAME_NAME in err and CODES[old] in err, err
    assert "`--payee-code`" in err, err
    ok(world, "cs", "project", "pay", case, "--reference", "记-1", "--amount", "20000", "--payee-kind", "contractor", "--payee", old,
       "--payee-code", SAME_NAME, "--date", "2019-07-15")
    # what the contractor in force was paid is its own, not the 105,000 paid to the firm it replaced
    shown = json.loads(ok(world, "insp", "project", "show", case, "--json"))
    assert D(shown["contract_paid"]) == D("20000"), shown
    # and the one replaced is held to what it was owed under its contract, by its code
    ok(world, "cs", "project", "pay", case, "--reference", "记-1", "--amount", "5000", "--payee-kind", "contractor", "--payee", old,
       "--payee-code", CODES[old], "--date", "2019-07-16")
    shown = json.loads(ok(world, "insp", "project", "show", case, "--json"))
    assert D(shown["contract_paid"]) == D("20000"), shown


def test_a_completion_under_way_is_withdrawn_for_a_supplementary_contract_and_settled_within_it(world, tmp_path):
    """The acceptance finds work beyond the contract: before, the supplementary contract was refused while
    the completion was open (procedure.other_open) and the final accounts above the contract refused, with no
    way on but to take the excess off. Now the county withdraws the completion (its steps kept, who and why
    in the trace), the supplementary contract runs, and the completion starts again and settles within it."""
    from tests.test_contracts50 import contracted, supplement, supplement_step
    case, _ = contracted(world, paid=date(2019, 5, 20))        # a contract of 200,000, 150,000 paid
    for day, milestone in (("2019-06-30", "基础完工"), ("2019-09-30", "主体完工"), ("2019-10-30", "竣工")):
        ok(world, "ts3", "project", "milestone-done", case, milestone, "--date", day)
    ok(world, "ts1", "step", "completion", "initial_acceptance", case, "--date", "2019-11-01", "--approve")
    ok(world, "cs", "evidence", "add", case, "acceptance_report", "--field", "firm=赣州工程咨询公司",
       "--field", "report_no=YS-2019-018", "--field", "accepted_on=2019-11-08", "--field", "quality=合格",
       "--file", scan_file(tmp_path / "acceptance.pdf", "验收报告"))
    ok(world, "cd", "step", "completion", "county_acceptance", case, "--date", "2019-11-10", "--approve")
    supplement(world, case, tmp_path, "215000")
    request = supplement_step("ts1", "supplementary_contract_request", case, "2019-11-21", "--reason", "验收发现需追加排水沟")
    refused_cli(world, "ts1", "procedure.other_open", *request[1:])           # the completion is open
    withdraw = ("project", "withdraw-completion", case, "--reason", "验收发现需追加排水沟，签订补充合同")
    refused_cli(world, "cs", "auth.wrong_role", *withdraw)                    # the county's director or head
    refused_cli(world, "cd", "project.withdraw_reason", "project", "withdraw-completion", case, "--reason", " ")
    said = ok(world, "cd", *withdraw)
    assert f"已撤回项目 {case} 的竣工验收" in said and "乡镇初验、县级验收" in said, said
    assert "`step supplementary_contract supplementary_contract_request`" in said, said
    refused_cli(world, "cd", "project.completion_not_open", *withdraw)
    trace = ok(world, "insp", "trace", case)
    assert "撤回竣工验收" in trace and "验收发现需追加排水沟，签订补充合同" in trace, trace
    # the supplementary contract, announced and confirmed
    ok(world, *request)
    ok(world, *supplement_step("ts2", "supplementary_contract_notice", case, "2019-11-21"))
    ok(world, *supplement_step("cd", "supplementary_contract_approval", case, "2019-11-28", "--approve"))
    # the completion again: its acceptance of the works as supplemented, its final accounts within the contract
    ok(world, "ts1", "step", "completion", "initial_acceptance", case, "--date", "2019-12-01", "--approve")
    ok(world, "cd", "step", "completion", "county_acceptance", case, "--date", "2019-12-05", "--approve")
    ok(world, "cs", "evidence", "add", case, "final_accounts", "--field", "settled_on=2019-12-10",
       "--field", "final_cost=215000")
    ok(world, "cs", "step", "completion", "final_accounts", case, "--date", "2019-12-10")
    # settled: not withdrawn any more
    err = refused_cli(world, "cd", "project.completion_settled", *withdraw)
    assert "已办理决算，不能再撤回" in err, err
    english = run(world, "cd", "--lang", "en", *withdraw)[2]
    assert "can no longer be withdrawn" in english, english
    verified = json.loads(ok(world, "insp", "audit", "verify", "--json"))     # the record holds together
    assert verified["intact"] is True, verified
