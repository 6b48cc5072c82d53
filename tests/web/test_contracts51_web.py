"""A fund project's contracts, stop 51: final accounts settled above the contract before stop 50 refused
them are an inspection lead (决算超过合同)."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import update

from engine.adapters import tables as t
from engine.reads.inspection import flags
from tests.helpers.projects import pay
from tests.test_contracts50 import contracted
from tests.test_project_figures import ok
from tests.test_project_money_rules import settle


def settled_before_stop_50(world, case: int, final_cost: str) -> None:
    """The final accounts as a release before stop 50 settled them: the cost above the contract, unchecked."""
    with world.app.engine.begin() as conn:
        step = t.steps
        row = conn.execute(step.select().where(step.c.case_id == case, step.c.step_key == "final_accounts")).one()
        conn.execute(update(step).where(step.c.id == row.id).values(data={**row.data, "final_cost": final_cost}))


def test_final_accounts_settled_above_the_contract_before_the_check_are_an_inspection_lead(world, world_clients,
                                                                                         tmp_path):
    case, beneficiaries = contracted(world)              # a contract of 200,000, 150,000 paid
    pay(world, case, "10000", kind="beneficiary", payee=str(beneficiaries[0]), on=date(2019, 6, 1))
    settle(world, case, "210000", tmp_path)               # within the contract and the 10,000 to a household
    within, _ = contracted(world)
    settle(world, within, "200000", tmp_path)
    assert not list(flags(world.app, world["insp"], kinds=["final_cost_over_contract"]))
    settled_before_stop_50(world, case, "235000.50")

    (flag,) = list(flags(world.app, world["insp"], kinds=["final_cost_over_contract"]))
    assert (flag.case_id, flag.person[0], len(flag.events)) == (case, "cs", 1), flag
    zh, en = flag.text(world.app.config, "zh"), flag.text(world.app.config, "en")
    assert "2019-11-20 办理的决算金额 235,000.50 元超过与施工单位“宁都县农建公司”签订的合同金额 200,000.00 元" in zh, zh
    assert "已付给其他单位和个人的 10,000.00 元，超出 25,000.50 元" in zh, zh
    assert "settled on 2019-11-20 at 235,000.50 yuan are more than the contract of 200,000.00 yuan" in en, en
    assert "by 25,000.50 yuan" in en, en
    # by its name in either language, as the other kinds
    assert len(list(flags(world.app, world["insp"], kinds=["决算超过合同"]))) == 1
    assert len(list(flags(world.app, world["insp"], kinds=["final accounts above the contract"]))) == 1

    # the command line, the flags page and the API say it
    said = ok(world, "insp", "inspect", "flags", "--kind", "final_cost_over_contract")
    assert "决算超过合同" in said and "超出 25,000.50 元" in said and str(case) in said, said
    data = json.loads(ok(world, "insp", "inspect", "flags", "--kind", "final_cost_over_contract", "--json"))
    assert [(d["case"], d["detail"]["excess"], d["detail"]["contract"]) for d in data] == \
        [(case, "25,000.50", "200,000.00")], data
    page, api = world_clients
    shown = page("insp").get("/inspect/flags", params={"kinds": "final_cost_over_contract"})
    assert shown.status_code == 200 and "决算超过合同" in shown.text and "25,000.50" in shown.text, shown.text
    answer = api("insp", "en").get("/api/v1/inspection/flags", params={"kind": "final_cost_over_contract"}).json()
    assert [a["case"] for a in answer] == [case] and "by 25,000.50 yuan" in answer[0]["text"], answer
    assert not answer[0]["record_altered"], answer   # the record as settled then, not altered since


def test_a_payment_by_the_credit_code_through_the_api_and_the_code_on_the_case_pages_form(world, world_clients):
    from tests.helpers.projects import CODES
    from tests.test_contract_amount import allocated
    from tests.test_project_money_rules import funded
    page, api = world_clients
    allocated_case = allocated(world)
    shown = page("ts1").get(f"/cases/{allocated_case}")                  # its contractor notice next
    assert shown.status_code == 200 and 'name="f_credit_code"' in shown.text and "统一社会信用代码" in shown.text
    case, _ = funded(world)
    project_page = page("ts1").get(f"/cases/{case}").text
    assert f"（统一社会信用代码 {CODES['宁都县农建公司']}）" in project_page, project_page
    body = {"amount": "1000", "payee_kind": "contractor", "payee": "宁都县 农建公司", "paid_on": "2019-05-03", "reference": "记-1"}
    done = api("cs", "en").post(f"/api/v1/projects/{case}/payments", json=body)
    assert done.status_code == 201, done.text
    answer = done.json()
    assert (answer["recorded_as"], answer["payee_code"]) == ("宁都县农建公司", CODES["宁都县农建公司"]), answer
    assert "payee recorded as the contract names it, '宁都县农建公司'" in answer["recorded_as_words"], answer
    wrong = api("cs").post(f"/api/v1/projects/{case}/payments", json={**body, "payee_code": "91360730MA35F0QX1"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "project.payee_code_invalid", wrong.text
    assert "校验码" in wrong.json()["message"], wrong.text


def test_a_completion_withdrawn_through_the_api(world, world_clients, tmp_path):
    from tests.test_contracts50 import contracted
    page, api = world_clients
    case, _ = contracted(world, paid=date(2019, 5, 20))
    for day, milestone in ((date(2019, 6, 30), "基础完工"), (date(2019, 9, 30), "主体完工"), (date(2019, 10, 30), "竣工")):
        world.on(day)
        world.step("ts3", "milestone", "milestone", case, milestone=milestone)
    world.on(date(2019, 11, 1))
    world.step("ts1", "completion", "initial_acceptance", case, decision="approve")
    # the case page offers it to the county's director, not to its staff, and withdraws it
    assert 'id="withdraw-completion-form"' in page("cd").get(f"/cases/{case}").text
    assert 'id="withdraw-completion-form"' not in page("cs").get(f"/cases/{case}").text
    director = page("cd")
    shown = director.post(f"/cases/{case}/completion/withdraw", data={"csrf": director.csrf, "reason": "追加排水沟"},
                          headers={"HX-Request": "true"})
    assert shown.status_code == 200 and f"已撤回项目 {case} 的竣工验收" in shown.text, shown.text
    assert 'id="withdraw-completion-form"' not in director.get(f"/cases/{case}").text
    world.step("ts1", "completion", "initial_acceptance", case, decision="approve")
    url = f"/api/v1/projects/{case}/completion/withdraw"
    assert api("cs").post(url, json={"reason": "追加工程"}).status_code == 403
    done = api("cd", "en").post(url, json={"reason": "验收发现需追加排水沟"})
    assert done.status_code == 200, done.text
    assert done.json()["steps"] == ["initial_acceptance"] and "completion withdrawn" in done.json()["message"], done.text
    again = api("cd").post(url, json={"reason": "再撤回"})
    assert again.status_code == 409 and again.json()["error"] == "project.completion_not_open", again.text
