"""Fund projects (扶贫项目, issue 4): library entry, funding, milestones, disbursements, acceptance,
asset handover, plan changes, and the fund figures per project, township and county."""
from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

import cli
from engine.adapters import tables as t
from engine.services.case_actions import attach_evidence, file_objection, resolve_objection
from engine.domain.errors import BadInput, JingzhunError, RuleViolation
from engine.reads.funds import funds_report, project_figures
from engine.services.org import NewPerson, add_persons, authenticate
from tests.world import COUNTY, TOWNSHIP, TOWNSHIP2, VILLAGE, VILLAGE2, World
from workflows.project import PaymentInput, ProjectInput, project_detail, record_disbursement, register_project

D = Decimal


# --- helpers ----------------------------------------------------------------------------------

def unit_head(world: World) -> str:
    """A head of a county unit (县农业农村局局长): the subject responsibility of the projects."""
    if "uh" not in world.actors:
        tokens = add_persons(world.app, world["admin"],
                             [NewPerson("uh", "县农业农村局 局长", (("unit_head", COUNTY),))])
        world.tokens["uh"] = tokens["uh"]
        world.actors["uh"] = authenticate(world.app, "uh", tokens["uh"])
    return "uh"


def households(world: World, n: int = 2, village: str = VILLAGE) -> list[int]:
    """Registered poor households (identified) of a village: the beneficiaries."""
    unit_head(world)
    by = "vs2" if village == VILLAGE2 else "vs"
    cases = [world.household(village=village, by=by) for _ in range(n)]
    if village == VILLAGE:
        world.identify(cases)
    else:   # the second township's village: its own village secretary, the county for the rest
        with world.app.engine.begin() as conn:   # a test shortcut: registered poor without the procedure
            conn.execute(t.cases.update().where(t.cases.c.id.in_(cases)).values(stage="identified"))
    return cases


def add_project(world: World, beneficiaries: list[int], site: str = VILLAGE, by: str = "vs", leader: str = "ts3",
                budget=(("county", "200000", "宁财农〔2019〕12号"), ("integrated", "100000", None)),
                targets=("带动2户贫困户年均增收2000元",), complete_by: date = date(2019, 10, 31),
                proposed_on: date = date(2019, 4, 1), name: str = "洋塘村脐橙基地") -> int:
    world.on(proposed_on)
    return register_project(world.app, world[by], ProjectInput(
        name, "industry", site, "县农业农村局", unit_head(world), leader, budget, beneficiaries, targets,
        complete_by, proposed_on))


LIBRARY = [   # (day, who, step, inputs) for a project sited in VILLAGE
    (date(2019, 4, 1), "vs", "submission", {}),
    (date(2019, 4, 1), "fs", "village_notice", {}),
    (date(2019, 4, 8), "ts1", "township_review", {"decision": "approve"}),
    (date(2019, 4, 8), "ts2", "township_notice", {}),
    (date(2019, 4, 15), "cd", "county_approval", {"decision": "approve"}),
]


def enter_library(world: World, case: int, plan=LIBRARY) -> None:
    for day, who, step, inputs in plan:
        world.on(day)
        world.step(who, "library_entry", step, case, **inputs)


def fund(world: World, case: int, allocation=(("county", "200000", "宁财农〔2019〕30号"), ("integrated", "100000", None)),
         leader: str = "ts3", notice_by: str = "fs",
         milestones=(("基础完工", "2019-06-30"), ("主体完工", "-30"), ("竣工", "-0"))) -> None:
    world.on(date(2019, 4, 16))
    world.step("cs", "funding", "allocation", case, funds=allocation)
    world.step(notice_by, "funding", "allocation_notice", case)
    world.on(date(2019, 4, 26))
    attach_evidence(world.app, world["ts1"], case, "contractor_selection",
                    {"contractor": "宁都县农建公司", "method": "公开招标", "selected_on": "2019-04-25"})
    world.step("ts1", "funding", "contractor_notice", case)
    world.on(date(2019, 5, 3))
    world.step(leader, "funding", "schedule", case, milestones=milestones)


def pay(world: World, case: int, amount: str, kind: str = "contractor", on: date = date(2019, 5, 10),
        who: str = "cs", payee: str = "宁都县农建公司", **options) -> int:
    world.on(max(on, world.today()))
    return record_disbursement(world.app, world[who], case, PaymentInput(amount, kind, payee, on, **options))


def figures_of(world: World, case: int, as_of: date) -> dict:
    with world.app.engine.connect() as conn:
        return project_figures(conn, [case], as_of)[case]


def count(world: World, table) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def snapshot(world: World) -> tuple:
    return tuple(count(world, table) for table in (
        t.cases, t.audit_events, t.project_funds, t.project_beneficiaries, t.project_milestones, t.disbursements,
        t.project_assets, t.steps, t.procedures, t.notices))


def stage(world: World, case: int) -> str:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.cases.c.stage).where(t.cases.c.id == case)).scalar()


def refused(world: World, error_type, code: str, action) -> JingzhunError:
    """`action` is refused with `code`, with text in both languages, and writes nothing."""
    before = snapshot(world)
    with pytest.raises(JingzhunError) as info:
        action()
    error = info.value
    assert isinstance(error, error_type), f"{type(error).__name__} {error.code} {error.params}"
    assert error.code == code, f"{error.code} {error.params}"
    zh, en = error.render(world.app.config, "zh"), error.render(world.app.config, "en")
    assert zh != en and not zh.startswith(code) and "{" not in zh + en, (zh, en)
    assert snapshot(world) == before, "the refusal wrote something"
    return error


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

    # Funding: allocation on the boards 10 days, the contractor notice 7 days, then 倒排工期.
    world.on(date(2019, 4, 16))
    refused(world, RuleViolation, "project.over_budget",
            lambda: world.step("cs", "funding", "allocation", case, funds=(("county", "300000.01", None),)))
    world.step("cs", "funding", "allocation", case, funds=(("county", "200000", "宁财农〔2019〕30号"),
                                                           ("integrated", "100000", None)))
    world.step("fs", "funding", "allocation_notice", case)
    world.on(date(2019, 4, 25))
    attach_evidence(world.app, world["ts1"], case, "contractor_selection",
                    {"contractor": "宁都县农建公司", "method": "公开招标", "selected_on": "2019-04-25"})
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

    # Disbursements, each with its audit event; retention money is unspent.
    pay(world, case, "90000", on=date(2019, 5, 10), reference="凭证001")
    pay(world, case, "20000", kind="beneficiary", payee="受益户分红", on=date(2019, 6, 1))
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

    # Completion: township initial acceptance, county acceptance on a third-party report, final
    # accounts, completion announcement.
    world.on(date(2019, 11, 1))
    world.step("ts1", "completion", "initial_acceptance", case, decision="approve")
    report = tmp_path / "acceptance.pdf"
    report.write_text("第三方验收报告", encoding="utf-8")
    attach_evidence(world.app, world["cs"], case, "acceptance_report",
                    {"firm": "赣州工程咨询公司", "report_no": "YS-2019-018", "accepted_on": "2019-11-08",
                     "quality": "合格"}, report)
    world.on(date(2019, 11, 10))
    world.step("cd", "completion", "county_acceptance", case, decision="approve")
    attach_evidence(world.app, world["cs"], case, "final_accounts",
                    {"settled_on": "2019-11-20", "final_cost": "180000.00"})
    world.on(date(2019, 11, 20))
    refused(world, RuleViolation, "check.final_accounts_settled",   # 185,000 is already paid out
            lambda: world.step("cs", "completion", "final_accounts", case))
    attach_evidence(world.app, world["cs"], case, "final_accounts",
                    {"settled_on": "2019-11-20", "final_cost": "300000.00"}, replace=True, reason="决算审定")
    world.step("cs", "completion", "final_accounts", case)
    world.step("ts2", "completion", "completion_announcement", case)
    assert stage(world, case) == "exited"

    # Retention money released after acceptance: it is spent now.
    pay(world, case, "15000", on=date(2019, 11, 25), from_retention=True)
    figures = figures_of(world, case, date(2019, 11, 30))
    assert (figures["disbursed"], figures["retention"], figures["carry_over"]) == (
        D("185000.00"), D("0.00"), D("115000.00"))

    # Consolidation: assets by class with a named owner, then the performance evaluation.
    world.on(date(2019, 12, 1))
    refused(world, RuleViolation, "project.asset_owner_not_beneficiary",
            lambda: world.step("ts4", "handover", "asset_handover", case,
                               assets=(("household", "脐橙苗", "8000", "某户", None),)))
    world.step("ts4", "handover", "asset_handover", case, assets=(
        ("operating", "脐橙基地", "150000", "洋塘村股份经济合作社", None),
        ("public_welfare", "基地机耕道", "20000", "洋塘村村民委员会", None),
        ("household", "脐橙苗500株", "15000", "成员1-0", beneficiaries[0])))
    attach_evidence(world.app, world["cs"], case, "performance_evaluation",
                    {"evaluated_on": "2019-12-10", "target_met": "yes", "summary": "带动2户增收，目标完成"})
    world.on(date(2019, 12, 10))
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
    refused(world, RuleViolation, "project.not_funded", lambda: pay(world, case, "1000"))
    enter_library(world, case)
    fund(world, case, allocation=(("county", "100000", None),))
    pay(world, case, "60000")
    pay(world, case, "30000", kind="retention")
    pay(world, case, "9999.99", kind="other", payee="镇财政所")
    # 99,999.99 is committed (retention and transfers included): one cent is left.
    error = refused(world, RuleViolation, "project.over_allocation", lambda: pay(world, case, "0.02"))
    assert "0.01" in error.render(world.app.config, "en")
    pay(world, case, "0.01")
    refused(world, RuleViolation, "project.retention_short",
            lambda: pay(world, case, "30000.01", from_retention=True))
    refused(world, RuleViolation, "project.paid_before_funding", lambda: pay(world, case, "1", on=date(2019, 5, 1)))
    refused(world, RuleViolation, "auth.wrong_role", lambda: pay(world, case, "1", who="vs"))
    refused(world, BadInput, "project.bad_amount", lambda: pay(world, case, "abc"))


# --- the figures ------------------------------------------------------------------------------

def test_carry_over_figures_per_project_township_and_county_match_hand_computed_values(world):
    beneficiaries = households(world)
    # Project A in the village: 300,000 allocated.
    a = add_project(world, beneficiaries)
    enter_library(world, a)
    fund(world, a)
    pay(world, a, "90000", on=date(2019, 5, 10))
    pay(world, a, "20000", kind="beneficiary", payee="受益户", on=date(2019, 6, 1))
    pay(world, a, "15000", kind="retention", on=date(2019, 6, 1))
    pay(world, a, "10000", kind="other", payee="镇财政所", on=date(2019, 6, 1))
    pay(world, a, "40000.50", on=date(2019, 8, 1))
    # Project B at the township itself: 100,000 of a 120,000 budget allocated.
    b = add_project(world, beneficiaries, site=TOWNSHIP, by="ts1", leader="th", name="梅江镇冷库",
                    budget=(("provincial", "120000", None),), complete_by=date(2019, 12, 31))
    enter_library(world, b, [(date(2019, 4, 1), "ts1", "submission", {}),
                             (date(2019, 4, 1), "ts2", "village_notice", {}),
                             (date(2019, 4, 8), "ts3", "township_review", {"decision": "approve"}),
                             (date(2019, 4, 8), "ts4", "township_notice", {}),
                             (date(2019, 4, 15), "ch", "county_approval", {"decision": "approve"})])
    fund(world, b, allocation=(("provincial", "100000", None),), leader="th", notice_by="ts2",
         milestones=(("设备安装", "2019-07-31"), ("竣工", "-0")))
    pay(world, b, "33333.33", on=date(2019, 6, 15))
    pay(world, b, "6666.67", kind="beneficiary", payee="受益户", on=date(2019, 7, 1))
    pay(world, b, "5000", kind="retention", on=date(2019, 7, 1))
    # Project C in the other township: only proposed, nothing allocated.
    c_households = households(world, 1, VILLAGE2)
    c = add_project(world, c_households, site=VILLAGE2, by="vs2", leader="vs2", name="石上村道路")

    report = funds_report(world.app, world["insp"], COUNTY, date(2019, 8, 15))
    by_id = {p["id"]: p for p in report["projects"]}
    # A: allocated 300,000; spent = contractor 130,000.50 + beneficiary 20,000 = 150,000.50;
    # retention 15,000 and transfer 10,000 are unspent: carry-over 149,999.50; rate 0.5000.
    assert (by_id[a]["allocated"], by_id[a]["disbursed"], by_id[a]["retention"], by_id[a]["other"]) == (
        D("300000.00"), D("150000.50"), D("15000.00"), D("10000.00"))
    assert by_id[a]["carry_over"] == D("149999.50") and by_id[a]["rate"] == D("0.5000")
    assert by_id[a]["milestones_behind"] == 1            # 基础完工 (30 June) not done by 15 August
    # B: allocated 100,000 (budget 120,000); spent 40,000.00; retention 5,000; carry-over 60,000.
    assert (by_id[b]["budget"], by_id[b]["allocated"], by_id[b]["disbursed"], by_id[b]["carry_over"]) == (
        D("120000.00"), D("100000.00"), D("40000.00"), D("60000.00"))
    assert by_id[b]["rate"] == D("0.4000") and by_id[b]["milestones_behind"] == 1   # 设备安装 (31 July)
    assert by_id[c]["allocated"] == D("0.00") and by_id[c]["rate"] is None
    # 梅江镇 rolls up A (a village of it) and B (the township itself); 青塘镇 has C only.
    townships = {r["code"]: r for r in report["townships"]}
    meijiang = townships[TOWNSHIP]
    assert meijiang["projects"] == 2 and meijiang["projects_behind"] == 2
    assert (meijiang["allocated"], meijiang["disbursed"], meijiang["retention"], meijiang["carry_over"]) == (
        D("400000.00"), D("190000.50"), D("20000.00"), D("209999.50"))
    assert meijiang["rate"] == D("0.4750")                # 190,000.50 / 400,000 = 0.47500125
    assert townships[TOWNSHIP2]["projects"] == 1 and townships[TOWNSHIP2]["allocated"] == D("0.00")
    (county,) = report["counties"]
    assert county["code"] == COUNTY and county["projects"] == 3 and county["carry_over"] == D("209999.50")
    assert report["total"]["disbursed"] == D("190000.50") and report["total"]["projects_behind"] == 2
    # As of an earlier date only what had happened by then counts.
    early = {p["id"]: p for p in funds_report(world.app, world["insp"], TOWNSHIP, date(2019, 6, 1))["projects"]}
    assert set(early) == {a, b}
    assert (early[a]["disbursed"], early[a]["carry_over"], early[a]["milestones_behind"]) == (
        D("110000.00"), D("190000.00"), 0)
    assert early[b]["disbursed"] == D("0.00") and early[b]["allocated"] == D("100000.00")
    before_allocation = funds_report(world.app, world["insp"], VILLAGE, date(2019, 4, 15))["projects"]
    assert [(p["id"], p["allocated"]) for p in before_allocation] == [(a, D("0.00"))]
    # A reader sees only their own jurisdiction.
    refused(world, RuleViolation, "auth.jurisdiction", lambda: funds_report(world.app, world["vs2"], TOWNSHIP))


def test_the_report_is_set_based(world):
    """A handful of statements whatever the number of projects: no query per project."""
    beneficiaries = households(world)
    for i in range(6):
        add_project(world, beneficiaries, name=f"项目{i}")
    statements = []
    from sqlalchemy import event

    def listener(*args):
        statements.append(args[2])
    event.listen(world.app.engine, "before_cursor_execute", listener)
    try:
        report = funds_report(world.app, world["insp"], COUNTY, date(2019, 8, 1))
    finally:
        event.remove(world.app.engine, "before_cursor_execute", listener)
    assert len(report["projects"]) == 6
    assert len(statements) <= 4, statements


# --- plan changes -----------------------------------------------------------------------------

def test_a_plan_change_goes_back_to_the_original_approver_and_is_re_announced(world):
    beneficiaries = households(world, 3)
    case = add_project(world, beneficiaries[:2])
    enter_library(world, case)                         # approved by cd, county poverty office director
    fund(world, case)
    world.on(date(2019, 6, 3))
    refused(world, RuleViolation, "project.budget_below_allocation",
            lambda: world.step("ts3", "plan_change", "change_request", case, funds=(("county", "250000", None),),
                               reason="压缩预算"))
    refused(world, RuleViolation, "project.completion_before_milestone",
            lambda: world.step("ts3", "plan_change", "change_request", case, completion=date(2019, 9, 1),
                               reason="提前"))
    world.step("ts3", "plan_change", "change_request", case, reason="雨季延误，扩大受益面",
               funds=(("county", "200000", None), ("integrated", "100000", None), ("provincial", "50000", None)),
               completion=date(2019, 12, 20), add_beneficiaries=(beneficiaries[2],))
    # The county head is a county approver too, but not the body that approved the library entry.
    refused(world, RuleViolation, "check.original_approver",
            lambda: world.step("ch", "plan_change", "change_approval", case, decision="approve"))
    world.step("cd", "plan_change", "change_approval", case, decision="approve")
    world.step("fs", "plan_change", "change_notice", case)
    world.on(date(2019, 6, 12))
    refused(world, RuleViolation, "notice.running",
            lambda: world.step("cs", "plan_change", "change_announcement", case))
    world.on(date(2019, 6, 13))
    world.step("cs", "plan_change", "change_announcement", case)
    detail = project_detail(world.app, world["insp"], case)
    assert detail["complete_by"] == "2019-12-20" and detail["stage"] == "assisted"
    assert {b["case"] for b in detail["beneficiaries"]} == set(beneficiaries)
    budget_now = [f for f in detail["funds"] if f["kind"] == "budget" and not f["superseded_on"]]
    budget_old = [f for f in detail["funds"] if f["kind"] == "budget" and f["superseded_on"]]
    assert sum(f["amount"] for f in budget_now) == D("350000.00") and len(budget_old) == 2
    assert {f["superseded_on"] for f in budget_old} == {"2019-06-13"}
    with world.app.engine.connect() as conn:
        events = conn.execute(select(t.audit_events.c.step_key, t.audit_events.c.detail).where(
            t.audit_events.c.case_id == case, t.audit_events.c.procedure_id.isnot(None)).order_by(
            t.audit_events.c.seq)).all()
        notice = conn.execute(select(t.notices.c.days_required, t.notices.c.end_date).where(
            t.notices.c.step_key == "change_notice")).one()
    changes = {e.step_key: e.detail for e in events}["change_announcement"]["data"]["changes"]
    assert changes["complete_by"] == {"old": "2019-10-31", "new": "2019-12-20"}
    assert changes["budget"]["old_total"] == "300000.00" and changes["budget"]["new_total"] == "350000.00"
    assert changes["beneficiaries"]["old"] == beneficiaries[:2] and changes["beneficiaries"]["added"] == [beneficiaries[2]]
    approval = {e.step_key: e.detail for e in events}["change_approval"]["data"]
    assert approval["original_approval"]["person"] == "cd" and approval["same_person"] is True
    assert notice == (10, date(2019, 6, 13))           # re-announced on the fund boards, 10 days
    # Allocation can now go up to the new budget only through a new funding procedure: figures as of
    # before the change still show the old budget.
    early = figures_of(world, case, date(2019, 6, 1))
    assert early["budget"] == D("300000.00")


def test_an_upheld_objection_to_the_allocation_notice_leaves_no_double_allocation(world):
    beneficiaries = households(world)
    case = add_project(world, beneficiaries)
    enter_library(world, case)
    world.on(date(2019, 4, 16))
    world.step("cs", "funding", "allocation", case, funds=(("county", "300000", None),))
    outcome = world.step("fs", "funding", "allocation_notice", case)[0]
    world.on(date(2019, 4, 18))
    objection = file_objection(world.app, world["vs"], outcome.notice_id, case, "村民甲", "资金用途与公示不符",
                               date(2019, 4, 18))
    resolve_objection(world.app, world["th"], objection, True, "核实属实，重新下达")
    world.step("cd", "funding", "allocation", case, funds=(("county", "250000", None),))
    figures = figures_of(world, case, date(2019, 4, 30))
    assert figures["allocated"] == D("250000.00")


# --- the command line -------------------------------------------------------------------------

def run(world: World, who: str, *args) -> tuple[int, str, str]:
    argv = ["--home", str(world.app.settings.home)]
    if not world.app.settings.db_url.startswith("sqlite"):
        argv += ["--db", world.app.settings.db_url]
    argv += ["--as", who, *map(str, args)]
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JINGZHUN_TOKEN", world.tokens[who])
        for var in ("JINGZHUN_HOME", "JINGZHUN_DB", "JINGZHUN_LANG", "JINGZHUN_AS"):
            mp.delenv(var, raising=False)
        mp.setattr(sys, "stdin", io.StringIO())
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def ok(world: World, who: str, *args) -> str:
    code, out, err = run(world, who, *args)
    assert code == 0, f"{args}: {err}"
    return out


def test_the_commands_carry_a_project_through_its_life(world, tmp_path):
    beneficiaries = households(world)
    unit_head(world)
    world.on(date(2019, 4, 1))
    base = ["project", "add", "--site", VILLAGE, "--name", "洋塘村光伏电站", "--category", "产业发展",
            "--unit", "县发改委", "--unit-head", "uh", "--leader", "ts3", "--fund", "central:150000:财农〔2019〕7号",
            "--beneficiary", beneficiaries[0], "--beneficiary", beneficiaries[1], "--complete-by", "2019-10-31",
            "--proposed-on", "2019-04-01"]
    before = count(world, t.cases)
    code, _, err = run(world, "vs", *base)
    assert code == 1 and "project.no_performance_target" in err and count(world, t.cases) == before
    case = int(ok(world, "vs", *base, "--target", "年发电收益10万元，带动村集体增收").strip().splitlines()[-1])
    steps = [("vs", "library_entry", "submission", "2019-04-01"), ("fs", "library_entry", "village_notice", "2019-04-01"),
             ("ts1", "library_entry", "township_review", "2019-04-08", "--approve"),
             ("ts2", "library_entry", "township_notice", "2019-04-08"),
             ("cd", "library_entry", "county_approval", "2019-04-15", "--approve"),
             ("cs", "funding", "allocation", "2019-04-16", "--fund", "central:150000:财农〔2019〕7号"),
             ("fs", "funding", "allocation_notice", "2019-04-16")]
    for who, procedure, step, day, *extra in steps:
        ok(world, who, "step", procedure, step, case, "--date", day, *extra)
    ok(world, "ts1", "evidence", "add", case, "contractor_selection", "--field", "contractor=赣南光伏公司",
       "--field", "method=竞争性磋商", "--field", "selected_on=2019-04-25")
    ok(world, "ts1", "step", "funding", "contractor_notice", case, "--date", "2019-04-26")
    out = ok(world, "ts3", "step", "funding", "schedule", case, "--date", "2019-05-03",
             "--milestone", "并网:-10", "--milestone", "竣工:-0")
    assert "→" in out
    ok(world, "cs", "project", "pay", case, "--amount", "100000", "--payee-kind", "contractor",
       "--payee", "赣南光伏公司", "--date", "2019-05-20", "--reference", "凭证007")
    ok(world, "cs", "project", "pay", case, "--amount", "7500", "--payee-kind", "retention",
       "--payee", "赣南光伏公司", "--date", "2019-05-20")
    code, _, err = run(world, "cs", "project", "pay", case, "--amount", "42500.01", "--payee-kind", "contractor",
                       "--payee", "赣南光伏公司", "--date", "2019-05-21")
    assert code == 1 and "project.over_allocation" in err
    ok(world, "ts3", "project", "milestone-done", case, "并网", "--date", "2019-10-20")
    shown = json.loads(ok(world, "insp", "project", "show", case, "--json", "--as-of", "2019-10-25"))
    assert shown["figures"]["disbursed"] == "100000.00" and shown["figures"]["carry_over"] == "50000.00"
    assert [m["done"] for m in shown["milestones"]] == ["2019-10-20", None]
    report = json.loads(ok(world, "insp", "funds", "report", "--region", TOWNSHIP, "--as-of", "2019-11-15", "--json"))
    assert report["projects"][0]["milestones_behind"] == 1            # 竣工 (31 October) not done
    assert report["townships"][0]["carry_over"] == "50000.00" and report["townships"][0]["rate"] == "0.6667"
    human = ok(world, "insp", "--lang", "en", "funds", "report", "--as-of", "2019-11-15")
    assert "carry-over" in human and "50,000.00" in human and "66.67%" in human
    assert "结转结余" in ok(world, "insp", "funds", "report", "--as-of", "2019-11-15")
    assert "洋塘村光伏电站" in ok(world, "insp", "project", "show", case)
    # What it needs next: completion, blocked by the milestone still open; who answers for what.
    nxt = json.loads(ok(world, "insp", "--lang", "en", "case", "next", case, "--json"))["next"]
    assert (nxt["procedure"], nxt["step"]) == ("completion", "initial_acceptance")
    assert any("竣工" in b and "not done" in b for b in nxt["blockers"])
    trace = ok(world, "insp", "trace", case)
    assert "项目负责人" in trace and "责任单位负责人" in trace


def test_every_project_message_and_failure_has_chinese_and_english_text():
    import re
    from config import load_config
    root = Path(__file__).resolve().parents[1]
    source = "".join((root / p).read_text(encoding="utf-8") for p in ("workflows/project.py", "engine/reads/funds.py"))
    labels = load_config().labels
    codes = set(re.findall(r'(?:RuleViolation|BadInput|NotFound)\("([a-z_]+\.[a-z_.]+)"', source))
    fails = set(re.findall(r'\(\("([a-z_]+)", \{', source))
    assert codes and fails
    missing = [c for c in codes if f"msg.{c}" not in labels] + [f for f in fails if f"fail.{f}" not in labels]
    assert not missing
    from workflows.project import ASSET_CLASSES, CATEGORIES, FUND_SOURCES, PAYEE_KINDS
    for prefix, codes_ in (("category", CATEGORIES), ("fund_source", FUND_SOURCES), ("payee_kind", PAYEE_KINDS),
                           ("asset_class", ASSET_CLASSES)):
        assert all(f"{prefix}.{c}" in labels for c in codes_)
    assert all(f"stage.project.{s}" in labels for s in load_config().workflows["project"].stages)
