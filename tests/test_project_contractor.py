"""A fund project's change of contractor (更换施工单位, project.yaml `contractor_change`): a new contract
with its reason, the new contractor announced as the first was (7 days), the county confirms; the
contractor it replaces stays in the project's history and what was paid to it stays spent."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from tests.helpers.projects import CODES, D, count, figures_of, pay
from tests.test_project_figures import ok, run
from tests.test_project_money_rules import funded
from tests.world import World, scan_file

OLD, NEW = "宁都县农建公司", "赣州市路桥公司"


def refused_cli(world: World, who: str, code: str, *args) -> str:
    """The command is refused with `code` in words, writing no step, notice or payment."""
    before = tuple(count(world, table) for table in (t.steps, t.notices, t.disbursements, t.audit_events))
    status, _, err = run(world, who, *args)
    assert status in (1, 2) and code in err, err
    assert "Traceback" not in err
    assert tuple(count(world, table) for table in (t.steps, t.notices, t.disbursements, t.audit_events)) == before
    return err


def new_contract(world: World, case: int, tmp_path, contractor: str = NEW, *more: str, amount: str = "200000") -> None:
    ok(world, "ts1", "evidence", "add", case, "new_contract", "--field", f"contractor={contractor}",
       *(("--field", f"credit_code={CODES[contractor]}") if contractor in CODES else ()),
       "--field", "contract_no=SG-2019-031", "--field", "signed_on=2019-07-01", "--field", "method=公开招标",
       "--field", f"contract_amount={amount}", "--file", scan_file(tmp_path / f"contract-{contractor}.pdf", "施工合同"), *more)


def step(who: str, key: str, case: int, day: str, *more: str) -> tuple:
    return (who, "step", "contractor_change", key, case, "--date", day, *more)


def test_a_change_of_contractor_is_announced_confirmed_and_the_old_one_kept_with_its_payments(world, tmp_path):
    case, _ = funded(world)
    pay(world, case, "100000", on=date(2019, 6, 1))                          # to the first contractor
    request = step("ts1", "contractor_change_request", case, "2019-07-02", "--reason", "原施工单位资金链断裂，合同解除")
    # who may: the contracting parties (township, unit, county office), not a village cadre
    refused_cli(world, "vs", "auth.wrong_role", *step("vs", "contractor_change_request", case, "2019-07-02",
                                                       "--reason", "合同解除")[1:])
    refused_cli(world, "ts1", "evidence", *request[1:])                      # no new contract yet
    new_contract(world, case, tmp_path, OLD, amount="300000")       # the same contract again
    refused_cli(world, "ts1", "project.same_contractor", *request[1:])      # the contractor already in force
    new_contract(world, case, tmp_path, NEW, "--replace", "--reason", "合同录错", amount="190000")
    refused_cli(world, "ts1", "project.contractor_change_reason", *request[1:-2])     # no reason
    ok(world, *request)
    # until the new contractor is announced and confirmed, it is not the project's to be paid
    err = refused_cli(world, "cs", "project.payee_not_contractor", "project", "pay", case, "--reference", "记-1", "--amount", "1000",
                      "--payee-kind", "contractor", "--payee", NEW, "--date", "2019-07-03")
    assert OLD in err and "step contractor_change" in err
    ok(world, *step("ts2", "new_contractor_notice", case, "2019-07-03"))
    refused_cli(world, "cd", "notice.running", *step("cd", "contractor_change_approval", case, "2019-07-05",
                                                     "--approve")[1:])
    refused_cli(world, "cs", "auth.wrong_role", *step("cs", "contractor_change_approval", case, "2019-07-10",
                                                      "--approve")[1:])
    ok(world, *step("cd", "contractor_change_approval", case, "2019-07-10", "--approve"))

    shown = json.loads(ok(world, "insp", "project", "show", case, "--json", "--as-of", "2019-07-31"))
    assert (shown["contractor"], shown["contractor_since"]) == (NEW, "2019-07-10")
    assert shown["former_contractors"] == [{"name": OLD, "since": "2019-05-03", "until": "2019-07-10", "replaced_by": NEW,
                                            "reason": "原施工单位资金链断裂，合同解除", "contract_no": "SG-2019-031",
                                            "contract_amount": "300000.00"}]
    human = ok(world, "insp", "project", "show", case, "--as-of", "2019-07-31")
    assert f"施工单位 {NEW}" in human
    assert f"原施工单位 {OLD}（2019-05-03 至 2019-07-10，由“{NEW}”接替；更换原因：原施工单位资金链断裂，合同解除）" in human
    english = ok(world, "insp", "--lang", "en", "project", "show", case, "--as-of", "2019-07-31")
    assert f"former contractor {OLD} (2019-05-03 to 2019-07-10, replaced by '{NEW}'" in english

    # the new one is paid now; the old one still what it is owed; anyone else not as a contractor
    ok(world, "cs", "project", "pay", case, "--reference", "记-1", "--amount", "50000", "--payee-kind", "contractor", "--payee", NEW,
       "--date", "2019-07-15")
    ok(world, "cs", "project", "pay", case, "--reference", "记-1", "--amount", "8000", "--payee-kind", "contractor", "--payee", OLD,
       "--date", "2019-07-16", "--reference", "结算款")
    refused_cli(world, "cs", "project.payee_not_contractor", "project", "pay", case, "--reference", "记-1", "--amount", "1000",
                "--payee-kind", "contractor", "--payee", "别的公司", "--date", "2019-07-16")
    assert figures_of(world, case, date(2019, 7, 31))["disbursed"] == D("158000.00")

    # the record: each step an audit event, who answers for it, and the trace says the change in words
    with world.app.engine.connect() as conn:
        actions = conn.execute(select(t.audit_events.c.step_key).where(
            t.audit_events.c.case_id == case, t.audit_events.c.step_key.like("%contractor%")).order_by(t.audit_events.c.case_seq)).scalars().all()
        answer = conn.execute(select(t.responsibilities.c.person_code).join(
            t.procedures, t.procedures.c.id == t.responsibilities.c.procedure_id).where(
            t.procedures.c.case_id == case, t.procedures.c.kind == "contractor_change")).scalars().all()
    assert actions[1:] == ["contractor_change_request", "new_contractor_notice", "contractor_change_approval"]
    assert {"ts1", "ts2", "cd", "ts3", "uh"} <= set(answer)
    trace = ok(world, "insp", "trace", case)
    assert f"原施工单位：{OLD}（自 2019-05-03）" in trace and f"新施工单位：{NEW}" in trace
    assert "更换原因：原施工单位资金链断裂，合同解除" in trace
    assert "new contractor: " + NEW in ok(world, "insp", "--lang", "en", "trace", case)


def test_a_change_of_contractor_the_county_rejects_leaves_the_contractor_as_it_was(world, tmp_path):
    case, _ = funded(world)
    new_contract(world, case, tmp_path)
    ok(world, *step("ts1", "contractor_change_request", case, "2019-07-02", "--reason", "进度严重滞后"))
    ok(world, *step("ts2", "new_contractor_notice", case, "2019-07-03"))
    ok(world, *step("cd", "contractor_change_approval", case, "2019-07-10", "--reject", "--reason", "合同未经审查"))
    shown = json.loads(ok(world, "insp", "project", "show", case, "--json"))
    assert shown["contractor"] == OLD and shown["former_contractors"] == []
    refused_cli(world, "cs", "project.payee_not_contractor", "project", "pay", case, "--reference", "记-1", "--amount", "1000",
                "--payee-kind", "contractor", "--payee", NEW, "--date", "2019-07-16")


def test_a_contractor_notice_names_the_contractor_chosen(world):
    """A notice of the contractor listed the project, its village and nothing of who was chosen: the
    public could not object to a contractor it was not told. The step's `shows` names it beside the
    project, on the board's text as posted and on the printed notice; a household's notice is as before."""
    from engine.services.notices import notice_for_reader, render
    from tests.helpers.projects import add_project, enter_library, fund, households
    beneficiaries = households(world, 2)
    case = add_project(world, beneficiaries)
    enter_library(world, case)
    fund(world, case)
    with world.app.engine.connect() as conn:
        notice = conn.execute(select(t.notices.c.id).where(t.notices.c.step_key == "contractor_notice")).scalar()
    view, posted = notice_for_reader(world.app, world["insp"], notice)
    assert "施工单位：宁都县农建公司" in posted
    assert "宁都县农建公司" in render(world.app, view, "en", html=True) and "contractor" in render(world.app, view, "en")
    with world.app.engine.connect() as conn:
        household_notice = conn.execute(select(t.notices.c.id).where(
            t.notices.c.step_key == "first_notice")).scalar()
    _, text = notice_for_reader(world.app, world["insp"], household_notice)
    assert "施工单位" not in text


def test_a_notice_naming_what_no_evidence_holds_is_refused_when_the_rules_load(tmp_path):
    import pytest

    from config import ConfigError, load_config
    from tests.helpers.rules_copy import rules_copy
    target = rules_copy(tmp_path, {"workflows/project.yaml": ("shows: [contractor_selection.contractor,",
                                                              "shows: [contractor_selection.winner,")})
    with pytest.raises(ConfigError) as bad:
        load_config(target)
    assert "shows" in str(bad.value) and "contractor_selection.winner" in str(bad.value)


def test_each_contractor_notice_names_the_contractor_it_announced(world, tmp_path):
    """A second change of contractor made the first change's notice, printed again, name the second's
    contractor (the newest contract in force): a notice names what was in force when it was posted."""
    from engine.services.notices import notice_for_reader, render
    case, _ = funded(world)
    world.on(date(2019, 7, 1))
    new_contract(world, case, tmp_path)
    world.on(date(2019, 7, 2))
    ok(world, *step("ts1", "contractor_change_request", case, "2019-07-02", "--reason", "进度严重滞后"))
    world.on(date(2019, 7, 3))
    ok(world, *step("ts2", "new_contractor_notice", case, "2019-07-03"))
    world.on(date(2019, 7, 10))
    ok(world, *step("cd", "contractor_change_approval", case, "2019-07-10", "--reject", "--reason", "合同未经审查"))
    world.on(date(2019, 8, 1))
    new_contract(world, case, tmp_path, "第三建筑公司")
    world.on(date(2019, 8, 2))
    ok(world, *step("ts1", "contractor_change_request", case, "2019-08-02", "--reason", "重新招标"))
    world.on(date(2019, 8, 3))
    ok(world, *step("ts2", "new_contractor_notice", case, "2019-08-03"))
    with world.app.engine.connect() as conn:
        first, second = conn.execute(select(t.notices.c.id).where(t.notices.c.step_key == "new_contractor_notice")
                                     .order_by(t.notices.c.id)).scalars().all()
    for notice, named in ((first, NEW), (second, "第三建筑公司")):
        view, posted = notice_for_reader(world.app, world["insp"], notice)
        assert f"新施工单位：{named}" in posted and f"原施工单位：{OLD}" in posted
        assert named in render(world.app, view, "zh", html=True)
