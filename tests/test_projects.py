"""Fund projects (扶贫项目, issue 4): registration, library entry, funding, milestones,
disbursements, acceptance and asset handover."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.services.case_actions import attach_evidence
from engine.domain.errors import BadInput, RuleViolation
from tests.world import COUNTY, TOWNSHIP, VILLAGE, VILLAGE2, World, scan_file
from workflows.project import project_detail
from tests.helpers.projects import (D, LIBRARY, add_project, enter_library, figures_of, fund, households,
                                    pay, refused)


def stage(world: World, case: int) -> str:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.cases.c.stage).where(t.cases.c.id == case)).scalar()


# --- registration -----------------------------------------------------------------------------

def test_a_project_without_a_performance_target_is_refused_and_nothing_is_written(world):
    beneficiaries = households(world)
    for targets in ((), ("   ",)):
        error = refused(world, RuleViolation, "project.no_performance_target",
                        lambda targets=targets: add_project(world, beneficiaries, targets=targets))
        assert "绩效目标" in error.render(world.app.config, "zh")
        assert "performance target" in error.render(world.app.config, "en")
    case = add_project(world, beneficiaries)
    assert stage(world, case) == "proposed"
    with world.app.engine.connect() as conn:
        budget = conn.execute(select(t.project_funds.c.amount).where(t.project_funds.c.case_id == case,
                                                                     t.project_funds.c.kind == "budget")).scalars().all()
        event = conn.execute(select(t.audit_events.c.detail).where(t.audit_events.c.case_id == case)).scalar()
    assert sorted(budget) == [D("100000.00"), D("200000.00")] and all(isinstance(b, Decimal) for b in budget)
    assert event["targets"] == ["带动2户贫困户年均增收2000元"] and event["budget_total"] == "300000.00"


def test_registration_refuses_wrong_beneficiaries_sites_amounts_and_people(world):
    beneficiaries = households(world)
    applicant = world.household()                       # not identified: not a registered poor household
    other_village = world.household(village=VILLAGE2, by="vs2")
    refused(world, RuleViolation, "project.beneficiary_not_registered", lambda: add_project(world, [applicant]))
    refused(world, RuleViolation, "project.beneficiary_outside", lambda: add_project(world, [other_village]))
    refused(world, BadInput, "project.bad_site", lambda: add_project(world, beneficiaries, site=COUNTY))
    refused(world, BadInput, "project.bad_amount",
            lambda: add_project(world, beneficiaries, budget=(("county", "1000.555", None),)))
    refused(world, BadInput, "project.bad_amount",
            lambda: add_project(world, beneficiaries, budget=(("county", "-5", None),)))
    refused(world, BadInput, "project.bad_code",
            lambda: add_project(world, beneficiaries, budget=(("lottery", "5000", None),)))
    refused(world, RuleViolation, "project.person_cannot_act",
            lambda: add_project(world, beneficiaries, leader="insp"))     # read-only: cannot lead a project
    refused(world, BadInput, "project.completion_not_after",
            lambda: add_project(world, beneficiaries, complete_by=date(2019, 3, 1)))
    refused(world, RuleViolation, "auth.wrong_role", lambda: add_project(world, beneficiaries, by="pc1"))


# --- a whole life -----------------------------------------------------------------------------

def test_a_project_life_from_library_to_handover(world, tmp_path):
    beneficiaries = households(world)
    case = add_project(world, beneficiaries)
    _library_entry(world, case)
    _funding(world, case)
    _disbursements(world, case)
    _milestones(world, case)
    _completion(world, case, tmp_path)
    _handover(world, case, beneficiaries)


def _library_entry(world: World, case: int) -> None:
    """Library entry: village notice, township review and notice, county approval; who answers."""
    # Library entry: village notice 7 days, township review and notice 7 days, county approval.
    world.on(date(2019, 4, 1))
    world.step("vs", "library_entry", "submission", case)
    world.step("fs", "library_entry", "village_notice", case)
    refused(world, RuleViolation, "notice.running",
            lambda: world.step("ts1", "library_entry", "township_review", case, decision="approve"))
    enter_library(world, case, LIBRARY[2:])
    assert stage(world, case) == "identified"
    with world.app.engine.connect() as conn:
        notices = conn.execute(select(t.notices.c.scope, t.notices.c.region_code, t.notices.c.days_required)
                               .join(t.notice_cases, t.notice_cases.c.notice_id == t.notices.c.id)
                               .where(t.notice_cases.c.case_id == case).order_by(t.notices.c.id)).all()
        library = conn.execute(select(t.responsibilities.c.type, t.responsibilities.c.person_code,
                                      t.responsibilities.c.basis).where(
            t.responsibilities.c.case_id == case)).all()
    assert [tuple(n) for n in notices] == [("village", VILLAGE, 7), ("township", TOWNSHIP, 7)]
    # Who answers: the signers and the project leader directly, the unit's head as subject.
    assert ("direct", "ts3", "case:leader_id") in library and ("subject", "uh", "case:unit_head_id") in library
    assert {("direct", p) for p in ("vs", "fs", "ts1", "ts2", "cd")} <= {(r[0], r[1]) for r in library}


def _funding(world: World, case: int) -> None:
    """Funding: the allocation, the contractor notice, the schedule of milestones and their deadlines."""
    # Funding: allocation on the boards 10 days, the contractor notice 7 days, then 倒排工期.
    world.on(date(2019, 4, 16))
    refused(world, RuleViolation, "project.over_budget",
            lambda: world.step("cs", "funding", "allocation", case, funds=(("county", "300000.01", None),)))
    world.step("cs", "funding", "allocation", case, funds=(("county", "200000", "宁财农〔2019〕30号"),
                                                           ("integrated", "100000", None)))
    world.step("fs", "funding", "allocation_notice", case)
    world.on(date(2019, 4, 25))
    attach_evidence(world.app, world["ts1"], case, "contractor_selection",
                    {"contractor": "宁都县农建公司", "credit_code": "91360730MA35F0QX13", "method": "公开招标", "selected_on": "2019-04-25",
                     "contract_amount": "300000"})
    refused(world, RuleViolation, "notice.running", lambda: world.step("ts1", "funding", "contractor_notice", case))
    world.on(date(2019, 4, 26))
    world.step("ts1", "funding", "contractor_notice", case)
    world.on(date(2019, 5, 3))
    refused(world, RuleViolation, "check.is_project_leader",
            lambda: world.step("ts4", "funding", "schedule", case, milestones=(("竣工", "-0"),)))
    refused(world, RuleViolation, "project.milestone_after_completion",
            lambda: world.step("ts3", "funding", "schedule", case, milestones=(("竣工", "2019-11-30"),)))
    refused(world, RuleViolation, "project.milestones_out_of_order",
            lambda: world.step("ts3", "funding", "schedule", case,
                               milestones=(("主体完工", "-30"), ("基础完工", "2019-06-30"))))
    world.step("ts3", "funding", "schedule", case,
               milestones=(("基础完工", "2019-06-30"), ("主体完工", "-30"), ("竣工", "-0")))
    assert stage(world, case) == "assisted"
    detail = project_detail(world.app, world["insp"], case, date(2019, 7, 15))
    assert [(m["name"], m["due"]) for m in detail["milestones"]] == [
        ("基础完工", "2019-06-30"), ("主体完工", "2019-10-01"), ("竣工", "2019-10-31")]
    assert detail["contractor"] == "宁都县农建公司"
    with world.app.engine.connect() as conn:   # each milestone has its deadline, owned by the leader
        due = conn.execute(select(t.deadlines.c.subject, t.deadlines.c.due_on).where(
            t.deadlines.c.case_id == case, t.deadlines.c.rule == "project_milestone")).all()
    assert sorted(due) == [("主体完工", date(2019, 10, 1)), ("基础完工", date(2019, 6, 30)), ("竣工", date(2019, 10, 31))]


def _disbursements(world: World, case: int) -> None:
    """Disbursements with their audit events, and the monthly disbursement report."""
    # Disbursements, each with its audit event; retention money is unspent.
    pay(world, case, "90000", on=date(2019, 5, 10), reference="凭证001")
    pay(world, case, "20000", kind="beneficiary", payee="成员1-0", on=date(2019, 6, 1))   # a household's head
    pay(world, case, "60000", on=date(2019, 7, 1))
    pay(world, case, "15000", kind="retention", on=date(2019, 7, 1))
    figures = figures_of(world, case, date(2019, 7, 15))
    assert figures["disbursed"] == D("170000.00") and figures["retention"] == D("15000.00")
    assert figures["carry_over"] == D("130000.00") and figures["milestones_behind"] == 1   # 基础完工 is late
    with world.app.engine.connect() as conn:
        paid_events = conn.execute(select(t.audit_events.c.detail).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "disbursement_recorded")).scalars().all()
    assert len(paid_events) == 4 and paid_events[-1]["carry_over"] == "130000.00"
    # The monthly disbursement report (by the 5th) records the figures as of its date and is due again.
    world.on(date(2019, 7, 5))
    world.step("cs", "disbursement_report", "disbursement_report", case)
    with world.app.engine.connect() as conn:
        reported = conn.execute(select(t.steps.c.data).where(
            t.steps.c.case_id == case, t.steps.c.step_key == "disbursement_report")).scalar()
        monthly = conn.execute(select(t.deadlines.c.status, t.deadlines.c.due_on).where(
            t.deadlines.c.case_id == case, t.deadlines.c.rule == "disbursement_report").order_by(t.deadlines.c.id)).all()
    assert (reported["disbursed"], reported["retention"], reported["rate"]) == ("170000.00", "15000.00", "0.5667")
    assert [tuple(m) for m in monthly] == [("done", date(2019, 6, 5)), ("open", date(2019, 8, 5))]


def _milestones(world: World, case: int) -> None:
    """Milestones in order by the project leader; completion waits for them."""
    # Milestones, in order, by the project leader; the late one says by how much.
    world.on(date(2019, 7, 20))
    refused(world, RuleViolation, "project.milestone_order",
            lambda: world.step("ts3", "milestone", "milestone", case, milestone="主体完工"))
    world.step("ts3", "milestone", "milestone", case, milestone="基础完工")
    world.on(date(2019, 9, 30))
    world.step("ts3", "milestone", "milestone", case, milestone="2")
    # Completion cannot start while a milestone is open.
    world.on(date(2019, 10, 29))
    refused(world, RuleViolation, "check.milestones_done",
            lambda: world.step("ts1", "completion", "initial_acceptance", case, decision="approve"))
    world.step("ts3", "milestone", "milestone", case, milestone="竣工")
    with world.app.engine.connect() as conn:
        steps = conn.execute(select(t.steps.c.data).where(t.steps.c.case_id == case, t.steps.c.step_key == "milestone")
                             .order_by(t.steps.c.id)).scalars().all()
        open_deadlines = conn.execute(select(func.count()).select_from(t.deadlines).where(
            t.deadlines.c.case_id == case, t.deadlines.c.rule == "project_milestone",
            t.deadlines.c.status == "open")).scalar()
    assert [s["days_late"] for s in steps] == [20, 0, 0] and open_deadlines == 0


def _completion(world: World, case: int, tmp_path) -> None:
    """Completion: acceptances, final accounts and the announcement; retention money released."""
    # Completion: township initial acceptance, county acceptance on a third-party report, final
    # accounts, completion announcement.
    world.on(date(2019, 11, 1))
    world.step("ts1", "completion", "initial_acceptance", case, decision="approve")
    report = scan_file(tmp_path / "acceptance.pdf", "acceptance report")
    world.on(date(2019, 11, 10))          # the report of the 8th, attached once it is written
    attach_evidence(world.app, world["cs"], case, "acceptance_report",
                    {"firm": "赣州工程咨询公司", "report_no": "YS-2019-018", "accepted_on": "2019-11-08",
                     "quality": "合格"}, report)
    world.step("cd", "completion", "county_acceptance", case, decision="approve")
    world.on(date(2019, 11, 20))
    attach_evidence(world.app, world["cs"], case, "final_accounts",
                    {"settled_on": "2019-11-20", "final_cost": "180000.00"})
    refused(world, RuleViolation, "check.final_accounts_settled",   # 185,000 is already paid out
            lambda: world.step("cs", "completion", "final_accounts", case))
    attach_evidence(world.app, world["cs"], case, "final_accounts",
                    {"settled_on": "2019-11-20", "final_cost": "300000.00"}, replace=True, reason="决算审定")
    world.step("cs", "completion", "final_accounts", case)
    announced = world.step("ts2", "completion", "completion_announcement", case)[0].notice_id
    assert stage(world, case) == "exited"
    # the completion announcement (竣工公告) is posted: the project's facts, its day, the township that issues it
    with world.app.engine.connect() as conn:
        posted = conn.execute(select(t.notices.c.rendered).where(t.notices.c.id == announced)).scalar()
    assert "下列扶贫项目已建成并通过验收，现予公告" in posted and "资金合计：300,000.00 元" in posted
    assert "公告日期：2019-11-20" in posted and "发布单位：梅江镇人民政府" in posted

    # Retention money released after acceptance: it is spent now, never more than is held.
    refused(world, RuleViolation, "project.retention_short",
            lambda: pay(world, case, "15000.01", on=date(2019, 11, 25), from_retention=True))
    pay(world, case, "15000", on=date(2019, 11, 25), from_retention=True)
    figures = figures_of(world, case, date(2019, 11, 30))
    assert (figures["disbursed"], figures["retention"], figures["carry_over"]) == (
        D("185000.00"), D("0.00"), D("115000.00"))


def _handover(world: World, case: int, beneficiaries) -> None:
    """Consolidation: assets handed over, the performance evaluation; one intact hash chain."""
    # Consolidation: assets by class with a named owner, then the performance evaluation.
    world.on(date(2019, 12, 1))
    refused(world, RuleViolation, "project.asset_owner_not_beneficiary",
            lambda: world.step("ts4", "handover", "asset_handover", case,
                               assets=(("household", "脐橙苗", "8000", "某户", None),)))
    world.step("ts4", "handover", "asset_handover", case, assets=(
        ("operating", "脐橙基地", "150000", "洋塘村股份经济合作社", None),
        ("public_welfare", "基地机耕道", "20000", "洋塘村村民委员会", None),
        ("household", "脐橙苗500株", "15000", "成员1-0", beneficiaries[0])))
    world.on(date(2019, 12, 10))
    attach_evidence(world.app, world["cs"], case, "performance_evaluation",
                    {"evaluated_on": "2019-12-10", "target_met": "yes", "summary": "带动2户增收，目标完成"})
    world.step("cd", "handover", "performance_evaluation", case, decision="approve")
    assert stage(world, case) == "consolidated"
    detail = project_detail(world.app, world["insp"], case)
    assert {(a["class"], a["owner"]) for a in detail["assets"]} == {
        ("operating", "洋塘村股份经济合作社"), ("public_welfare", "洋塘村村民委员会"), ("household", "成员1-0")}
    # The whole life is one intact hash chain.
    from engine.reads.trace import case_trace
    trace = case_trace(world.app, world["insp"], case)
    assert trace["integrity"]["intact"], trace["integrity"]["damage"]


def test_disbursement_beyond_the_allocation_is_refused(world):
    beneficiaries = households(world)
    case = add_project(world, beneficiaries)
    proposed = refused(world, RuleViolation, "project.not_funded", lambda: pay(world, case, "1000"))
    enter_library(world, case)
    # the project's stage said in a project's words (已入库), not a household's (已识别(建档立卡))
    listed = refused(world, RuleViolation, "project.not_funded", lambda: pay(world, case, "1000"))
    assert "已入库" in listed.render(world.app.config, "zh") and "建档立卡" not in listed.render(world.app.config, "zh")
    assert "申报中" in proposed.render(world.app.config, "zh")
    fund(world, case, allocation=(("county", "100000", None),))
    pay(world, case, "60000")
    pay(world, case, "30000", kind="retention")
    pay(world, case, "9999.99", kind="other", payee="镇财政所")
    # 99,999.99 is committed (retention and transfers included): one cent is left.
    error = refused(world, RuleViolation, "project.over_allocation", lambda: pay(world, case, "0.02"))
    assert "0.01" in error.render(world.app.config, "en")
    pay(world, case, "0.01")
    refused(world, RuleViolation, "project.retention_before_completion",   # under construction
            lambda: pay(world, case, "30000", from_retention=True))
    refused(world, RuleViolation, "project.paid_before_allocation", lambda: pay(world, case, "1", on=date(2019, 4, 15)))
    refused(world, RuleViolation, "auth.wrong_role", lambda: pay(world, case, "1", who="vs"))
    refused(world, BadInput, "project.bad_amount", lambda: pay(world, case, "abc"))


def test_a_procedure_refused_from_a_projects_stage_names_the_stage_in_a_projects_words(world):
    """stage.not_allowed for a project said 申报中 → 已识别(建档立卡) words of a household; a project's own."""
    case = add_project(world, households(world))
    enter_library(world, case)
    error = refused(world, RuleViolation, "stage.not_allowed",
                    lambda: world.step("cd", "handover", "performance_evaluation", case, decision="approve"))
    zh, en = error.render(world.app.config, "zh"), error.render(world.app.config, "en")
    assert "已入库" in zh and "建档立卡" not in zh, zh
    assert world.app.config.stage_label("identified", "project", "en") in en and "registered poor" not in en, en
