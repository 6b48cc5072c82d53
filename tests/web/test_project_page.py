"""A fund project's and a poor village's case pages say what the CLI's `project show` and `case next`
say: the project's money, leader, beneficiaries, milestones, payments and assets; the village's
figures and the households that keep it from exiting."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from engine.adapters import tables as t


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture(scope="module")
def demo_cases(core):
    with core.engine.connect() as conn:
        return dict(conn.execute(select(t.cases.c.kind, t.cases.c.id).where(t.cases.c.kind.in_(("project", "village"))))
                    .all())


def leader_of(core, code: str) -> str:
    with core.engine.connect() as conn:
        return conn.execute(select(t.persons.c.name).where(t.persons.c.code == code)).scalar_one()


def test_the_project_page_shows_its_money_leader_milestones_payments_and_assets(signed_in, core, demo_cases):
    county = signed_in("county")
    case = demo_cases["project"]
    page = county.get(f"/cases/{case}")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "项目情况" in shown
    with core.engine.connect() as conn:
        attrs = dict(conn.execute(select(t.cases.c.attrs).where(t.cases.c.id == case)).scalar_one())
    leader = leader_of(core, attrs["leader"])
    assert f"项目负责人 {leader}" in shown and attrs["leader"] not in shown      # by name, not by person code
    head = leader_of(core, attrs["unit_head"])      # who carries 主体责任: named, as `project show` names him
    assert f"责任单位 {attrs['responsible_unit']} 单位一把手（主体责任） {head}" in shown
    assert "（单位一把手）" not in shown
    assert f"计划完成日期 {attrs['complete_by']}" in shown
    for target in attrs["targets"]:
        assert target in shown
    # the demo's payments: 90,000 + 60,000 + 80,000 + 30,000; its milestones done with their dates
    for amount in ("90,000.00", "60,000.00", "80,000.00", "30,000.00"):
        assert amount in shown
    assert re.search(r"基础完工 应于 \d{4}-\d\d-\d\d 完成 \d{4}-\d\d-\d\d 已完成", shown)
    assert re.search(r"已支出 [\d,]+\.00 （\d+(\.\d+)?%）", shown)       # the rate as a percentage
    assert "已支出" in shown and "质保金" in shown and "结转结余" in shown and "移交资产" in shown
    beneficiaries = re.findall(r'<p id="project-beneficiaries">(.*?)</p>', page.text, re.S)[0]
    assert re.search(r'href="/cases/\d+"', beneficiaries)
    county.cookies.set("lang", "en")
    english = text_of(county.get(f"/cases/{case}").text)
    assert "Project leader" in english and "Payments" in english
    assert f"Unit head (subject responsibility) {head}" in english


def _unit_head_name(core, case: int) -> str:
    with core.engine.connect() as conn:
        attrs = conn.execute(select(t.cases.c.attrs).where(t.cases.c.id == case)).scalar_one()
    return leader_of(core, attrs["unit_head"])


def test_the_project_page_fits_a_phone(phone, demo_home, demo_cases, core):
    code, password = demo_home[1]["county"]
    phone.sign_in(code, password)
    page = phone.go(f"/cases/{demo_cases['project']}")
    assert page.locator("#project").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    head = page.locator("#project-unit-head")       # the unit head by name, on the phone too
    assert head.is_visible() and head.inner_text().strip() == _unit_head_name(core, demo_cases["project"])
    phone.shot("project-page-360")


def test_the_project_page_names_the_unit_head_on_a_desktop(desktop, demo_home, demo_cases, core):
    code, password = demo_home[1]["county"]
    desktop.sign_in(code, password)
    page = desktop.go(f"/cases/{demo_cases['project']}")
    head = page.locator("#project-unit-head")
    assert head.is_visible() and head.inner_text().strip() == _unit_head_name(core, demo_cases["project"])
    assert "单位一把手（主体责任）" in page.inner_text("#project-facts")


def test_the_project_s_forms_say_what_they_count_from_choose_from_and_approve(world, world_clients):
    """The schedule form says the completion date it counts back from; the milestone form lists the
    milestones not yet done; the plan change's approver sees the change old -> new."""
    from datetime import date

    from engine.services.case_actions import attach_evidence
    from tests.helpers.projects import add_project, enter_library, households
    page, _ = world_clients
    case = add_project(world, households(world, 3)[:2])
    enter_library(world, case)
    world.on(date(2019, 4, 16))
    world.step("cs", "funding", "allocation", case, funds=(("county", "200000", None), ("integrated", "100000", None)))
    world.step("fs", "funding", "allocation_notice", case)
    world.on(date(2019, 4, 26))
    attach_evidence(world.app, world["ts1"], case, "contractor_selection",
                    {"contractor": "宁都县农建公司", "credit_code": "91360730MA35F0QX13", "method": "公开招标", "selected_on": "2019-04-25",
                     "contract_amount": "300000"})
    world.step("ts1", "funding", "contractor_notice", case)
    world.on(date(2019, 5, 3))
    leader = page("ts3")
    schedule = leader.get(f"/cases/{case}").text
    assert "倒排工期：从计划完成日期 2019-10-31 倒推" in text_of(schedule)
    world.step("ts3", "funding", "schedule", case,
               milestones=(("基础完工", "2019-06-30"), ("主体完工", "-30"), ("竣工", "-0")))
    world.on(date(2019, 7, 1))
    world.step("ts3", "milestone", "milestone", case, milestone="基础完工")
    answer = page("ts3").get(f"/cases/{case}?procedure=milestone")        # a new day, a new session
    assert answer.status_code == 200, (answer.status_code, answer.headers)
    form = answer.text
    chosen = re.search(r'<select name="milestone"[^>]*>(.*?)</select>', form, re.S)
    assert chosen, "the milestone form offers the milestones to choose from"
    assert re.findall(r'<option value="([^"]+)"', chosen.group(1)) == ["主体完工", "竣工"]    # not the one done
    world.step("ts3", "plan_change", "change_request", case, reason="雨季延误", completion=date(2019, 12, 20))
    approval = text_of(page("cd").get(f"/cases/{case}").text)
    assert "2019-10-31 → 2019-12-20" in approval


def test_the_supervisor_lists_projects_villages_and_problems_by_kind(signed_in, demo_cases):
    """/supervise/cases?kind=project lists the fund projects in their own stages, not the households."""
    county = signed_in("county")
    households = text_of(county.get("/supervise/cases").text)
    projects = county.get("/supervise/cases?kind=project")
    assert projects.status_code == 200
    shown = text_of(projects.text)
    assert "<h1>扶贫项目列表</h1>" in projects.text
    assert "符合条件的扶贫项目共 1 个" in shown and "洋塘村脐橙基地" in shown and "已确权移交" in shown
    assert households != shown and f'href="/cases/{demo_cases["project"]}"' in projects.text
    assert re.findall(r'data-case="(\d+)"', projects.text) == [str(demo_cases["project"])]
    assert '<select name="kind">' in projects.text and 'value="project" selected' in projects.text
    villages = county.get("/supervise/cases?kind=village&stage=consolidated")
    assert re.findall(r'data-case="(\d+)"', villages.text) == [str(demo_cases["village"])]
    assert "出列巩固期" in text_of(villages.text)
    wrong = county.get("/supervise/cases?kind=farm")
    assert wrong.status_code == 400 and "类别「farm」不存在" in text_of(wrong.text)


def test_a_poor_village_s_page_shows_its_figures_team_and_the_households_keeping_it_from_exiting(
        world, world_clients, tmp_path):
    """Before any exit application: the incidence with its population, the work team, and the
    households still poor (linked), as `case next` says them."""
    from tests.helpers.villages import assisted_village
    from tests.test_villages import poor_households_of
    page, _ = world_clients
    village = assisted_village(world, tmp_path, population=200)
    a, b, c = poor_households_of(world, [3, 2, 2])          # 7 of 200 persons: 3.5%
    html = page("vs").get(f"/cases/{village}").text
    shown = text_of(html)
    assert "户籍人口 200 人" in shown and "贫困发生率 3.5%" in shown and "驻村工作队" in shown
    assert "不能出列：还需" in shown
    listed = re.search(r'<ul id="village-poor">(.*?)</ul>', html, re.S)
    assert listed, "the households still poor are listed"
    assert re.findall(r'href="/cases/(\d+)"', listed.group(1)) == [str(a), str(b), str(c)]
    # a page at a time: the read behind `?poor_page=N`, and the page's answer to a page that is no number
    from engine.reads.indicators import poor_households_page
    first, second = (poor_households_page(world.app, world["vs"], village, n, size=2) for n in (1, 2))
    assert [h["case"] for h in first["rows"]] == [a, b] and first["more"]
    assert [h["case"] for h in second["rows"]] == [c] and not second["more"]
    later = page("vs").get(f"/cases/{village}?poor_page=2")
    assert later.status_code == 200 and 'id="village-poor"></ul>' in later.text and "上一页" in later.text
    wrong = page("vs").get(f"/cases/{village}?poor_page=x")
    assert wrong.status_code == 400


def test_a_change_of_contractor_on_the_case_page_and_the_api(world, world_clients, tmp_path):
    """The contracting party starts a change of contractor from the case page; the notice's and the
    county's forms show the contractor replaced and the new contract; once confirmed the page names the
    new contractor with its date and the old one with its dates and reason; the API does the same step
    and refuses a change without a reason in the reader's language."""
    from datetime import date

    from engine.services.case_actions import attach_evidence
    from tests.test_project_money_rules import funded
    from tests.world import scan_file
    page, api = world_clients
    case, _ = funded(world)
    world.on(date(2019, 7, 2))
    starts = page("ts1").get(f"/cases/{case}").text
    assert f'href="/cases/{case}?procedure=contractor_change"' in starts and "更换施工单位" in text_of(starts)
    attach_evidence(world.app, world["ts1"], case, "new_contract",
                    {"contractor": "赣州市路桥公司", "credit_code": "91360700MA35G7RB38", "contract_no": "SG-2019-031", "signed_on": "2019-07-01",
                     "method": "公开招标", "contract_amount": "200000"}, scan_file(tmp_path / "contract.pdf", "施工合同"))
    body = {"procedure": "contractor_change", "step": "contractor_change_request", "date": "2019-07-02"}
    bare = api("ts1", "en").post(f"/api/v1/cases/{case}/steps", json=body)
    assert bare.status_code == 400 and bare.json()["error"] == "project.contractor_change_reason"
    assert "needs its reason" in bare.json()["message"]
    done = api("ts1").post(f"/api/v1/cases/{case}/steps", json={**body, "reason": "原施工单位合同解除"})
    assert done.status_code == 200, done.text
    notice = page("ts2").get(f"/cases/{case}").text
    shown = re.search(r'<dl class="facts" id="contractor-change">(.*?)</dl>', notice, re.S)
    assert shown, "the notice's form shows the change"
    said = text_of(shown.group(1))
    assert "原施工单位 宁都县农建公司（自 2019-05-03）" in said and "新施工单位 赣州市路桥公司" in said
    assert "合同编号 SG-2019-031" in said and "更换原因 原施工单位合同解除" in said
    world.on(date(2019, 7, 3))
    world.step("ts2", "contractor_change", "new_contractor_notice", case)
    world.on(date(2019, 7, 10))
    assert "新施工单位 赣州市路桥公司" in text_of(page("cd").get(f"/cases/{case}").text)
    world.step("cd", "contractor_change", "contractor_change_approval", case, decision="approve")
    facts = text_of(re.search(r'<dl class="facts" id="project-facts">(.*?)</dl>',
                              page("insp").get(f"/cases/{case}").text, re.S).group(1))
    assert "施工单位 赣州市路桥公司 自 2019-07-10" in facts
    assert "原施工单位 宁都县农建公司 2019-05-03 至 2019-07-10，由“赣州市路桥公司”接替；更换原因：原施工单位合同解除" in facts
    shown = api("insp").get(f"/api/v1/projects/{case}").json()
    assert shown["contractor"] == "赣州市路桥公司" and shown["former_contractors"][0]["name"] == "宁都县农建公司"


def test_the_monthly_disbursement_report_form_shows_the_figures_it_records(world, world_clients):
    """Its filer sees what they file: allocated, spent in the period since the last report (the first:
    since the allocation) and to date, retention and the balance, from the payments recorded; the step
    records the same figures."""
    from datetime import date

    from tests.helpers.projects import pay
    from tests.test_project_money_rules import funded
    page, _ = world_clients
    case, _ = funded(world)                                           # 300,000 allocated on 16 April
    pay(world, case, "90000", on=date(2019, 5, 10))
    pay(world, case, "5000", kind="retention", on=date(2019, 5, 10))
    world.on(date(2019, 6, 5))
    first = page("cs").get(f"/cases/{case}?procedure=disbursement_report").text
    figures = re.search(r'<dl class="facts" id="report-figures">(.*?)</dl>', first, re.S)
    assert figures, "the report's form shows its figures"
    said = text_of(figures.group(1))
    assert "下达资金 300,000.00" in said and "本期支出（2019-04-16 至 2019-06-05） 90,000.00" in said, said
    assert "累计支出 90,000.00 （30%）" in said and "质保金 5,000.00" in said and "结转结余 210,000.00" in said, said
    world.step("cs", "disbursement_report", "disbursement_report", case)
    pay(world, case, "20000", on=date(2019, 6, 20))
    world.on(date(2019, 7, 4))
    second = text_of(page("cs").get(f"/cases/{case}?procedure=disbursement_report").text)
    assert "本期支出（2019-06-06 至 2019-07-04） 20,000.00" in second and "累计支出 110,000.00" in second, second
    english = page("cs")
    english.cookies.set("lang", "en")
    assert "spent in the period (2019-06-06 to 2019-07-04)" in text_of(
        english.get(f"/cases/{case}?procedure=disbursement_report").text)
    world.step("cs", "disbursement_report", "disbursement_report", case)
    with world.app.engine.connect() as conn:
        recorded = conn.execute(select(t.steps.c.data).where(
            t.steps.c.case_id == case, t.steps.c.step_key == "disbursement_report").order_by(t.steps.c.id)).scalars().all()
    assert [(d["period_from"], d["as_of"], d["disbursed_period"], d["disbursed"]) for d in recorded] == [
        ("2019-04-16", "2019-06-05", "90000.00", "90000.00"), ("2019-06-06", "2019-07-04", "20000.00", "110000.00")]
