"""Fund projects (扶贫项目, issue 4): the fund figures per project, township and county, plan
changes, and the command line."""
from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

import cli
from engine.adapters import tables as t
from engine.services.case_actions import file_objection, resolve_objection
from engine.domain.errors import RuleViolation
from engine.reads.funds import funds_report
from tests.world import COUNTY, TOWNSHIP, TOWNSHIP2, VILLAGE, VILLAGE2, World
from workflows.project import project_detail
from tests.helpers.projects import (D, LIBRARY, add_project, count, enter_library, figures_of, fund, households,
                                    pay, refused, unit_head)
from tests.helpers.db_option import db_option


# --- the figures ------------------------------------------------------------------------------

def test_carry_over_figures_per_project_township_and_county_match_hand_computed_values(world):
    a, b, c = _three_projects(world)
    _figures_as_of_15_august(world, a, b, c)
    _figures_as_of_earlier_dates_and_only_in_the_readers_jurisdiction(world, a, b)


def _three_projects(world: World) -> tuple[int, int, int]:
    """A in the village, B at the township itself, C in the other township (only proposed); paid."""
    beneficiaries = households(world)
    # Project A in the village: 300,000 allocated.
    a = add_project(world, beneficiaries)
    enter_library(world, a)
    fund(world, a)
    pay(world, a, "90000", on=date(2019, 5, 10))
    pay(world, a, "20000", kind="beneficiary", payee=str(beneficiaries[0]), on=date(2019, 6, 1))
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
    pay(world, b, "6666.67", kind="beneficiary", payee=str(beneficiaries[1]), on=date(2019, 7, 1))
    pay(world, b, "5000", kind="retention", on=date(2019, 7, 1))
    # Project C in the other township: only proposed, nothing allocated.
    c_households = households(world, 1, VILLAGE2)
    c = add_project(world, c_households, site=VILLAGE2, by="vs2", leader="vs2", name="石上村道路")
    return a, b, c


def _figures_as_of_15_august(world: World, a: int, b: int, c: int) -> None:
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


def _figures_as_of_earlier_dates_and_only_in_the_readers_jurisdiction(world: World, a: int, b: int) -> None:
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


def test_the_report_says_each_projects_stage_on_its_date(world):
    """A report as of a past date says the stage the project was in on that day (its procedures' step
    dates), beside that day's figures, not the stage it has reached since."""
    case = add_project(world, households(world))
    enter_library(world, case)             # approved on 15 April
    fund(world, case)                      # scheduled on 3 May: under way
    world.on(date(2019, 8, 1))

    def stage_on(day: date) -> str:
        return {p["id"]: p["stage"] for p in funds_report(world.app, world["insp"], COUNTY, day)["projects"]}[case]

    assert [stage_on(date(2019, 4, d)) for d in (1, 14, 15)] == ["proposed", "proposed", "identified"]
    assert (stage_on(date(2019, 5, 2)), stage_on(date(2019, 5, 3)), stage_on(date(2019, 8, 1))) == (
        "identified", "assisted", "assisted")


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
    assert len(statements) <= 5, statements      # the projects, three rollups (township, county, category), names


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
        argv += db_option(world.app.settings.db_url)
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
            "--unit", "县农业农村局", "--unit-head", "uh", "--leader", "ts3", "--fund", "central:150000:财农〔2019〕7号",
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
    ok(world, "ts1", "evidence", "add", case, "contractor_selection", "--field", "contractor=赣南光伏公司", "--field", "credit_code=91360730MA35H2KY4Y",
       "--field", "method=竞争性磋商", "--field", "selected_on=2019-04-25", "--field", "contract_amount=150000")
    ok(world, "ts1", "step", "funding", "contractor_notice", case, "--date", "2019-04-26")
    out = ok(world, "ts3", "step", "funding", "schedule", case, "--date", "2019-05-03",
             "--milestone", "并网:-10", "--milestone", "竣工:-0")
    assert "→" in out
    ok(world, "cs", "project", "pay", case, "--reference", "记-1", "--amount", "100000", "--payee-kind", "contractor",
       "--payee", "赣南光伏公司", "--date", "2019-05-20", "--reference", "凭证007")
    ok(world, "cs", "project", "pay", case, "--reference", "记-1", "--amount", "7500", "--payee-kind", "retention",
       "--payee", "赣南光伏公司", "--date", "2019-05-20")
    code, _, err = run(world, "cs", "project", "pay", case, "--reference", "记-1", "--amount", "42500.01", "--payee-kind", "contractor",
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
    assert "\ncase\tproject\t" in human                # a project's name under "project", not "projects"
    assert "结转结余" in ok(world, "insp", "funds", "report", "--as-of", "2019-11-15")
    shown = ok(world, "insp", "project", "show", case, "--as-of", "2019-10-25")
    assert "洋塘村光伏电站" in shown                    # the figures in the reader's punctuation
    assert "已支出 100,000.00（66.67%）、质保金 7,500.00、结转结余 50,000.00" in shown
    # What it needs next: completion, blocked by the milestone still open; who answers for what.
    nxt = json.loads(ok(world, "insp", "--lang", "en", "case", "next", case, "--json"))["next"]
    assert (nxt["procedure"], nxt["step"]) == ("completion", "initial_acceptance")
    assert any("竣工" in b and "not done" in b for b in nxt["blockers"])
    trace = ok(world, "insp", "trace", case)
    assert "项目负责人" in trace and "责任单位负责人" in trace


def test_a_project_is_said_in_its_own_stages_and_a_milestone_by_its_name(world):
    """A project's stages read as a project's (已入库, 实施中), never as a household's (已识别(建档立卡),
    帮扶中), wherever a case's stage is said: the step done, case show and its procedures, case list,
    the trace in text and HTML, the funds report as of a date, the cases export, in both languages; a
    milestone reached is named as the milestone (名称), not as a person (姓名)."""
    case = add_project(world, households(world))
    enter_library(world, case, LIBRARY[:-1])
    world.on(date(2019, 4, 15))
    assert "→ 已入库" in ok(world, "cd", "step", "library_entry", "county_approval", case, "--date", "2019-04-15",
                          "--approve")
    fund(world, case)
    world.on(date(2019, 7, 28))
    ok(world, "ts3", "project", "milestone-done", case, "基础完工", "--date", "2019-07-28")

    shown = ok(world, "insp", "case", "show", case)
    assert "实施中" in shown.splitlines()[0] and "申报中 → 已入库" in shown and "已入库 → 实施中" in shown
    listed = next(line for line in ok(world, "insp", "case", "list").splitlines() if line.startswith(f"{case}\t"))
    trace = ok(world, "insp", "trace", case)
    assert "实施中" in listed and "申报中 → 已入库" in trace and "名称：基础完工" in trace
    ok(world, "insp", "trace", case, "--html", world.app.settings.home / "trace.html")
    html = (world.app.settings.home / "trace.html").read_text(encoding="utf-8")
    assert "已入库" in html and "实施中" in html
    report = ok(world, "insp", "funds", "report", "--region", COUNTY, "--as-of", "2019-04-20")
    assert "已入库" in next(line for line in report.splitlines() if line.startswith(f"{case}\t"))
    ok(world, "insp", "export", "cases", "--csv", world.app.settings.home / "cases.csv")
    exported = next(line for line in (world.app.settings.home / "cases.csv").read_text(encoding="utf-8-sig").splitlines()
                    if line.startswith(f"{case},"))
    assert "实施中" in exported
    for text in (shown, listed, trace, html, report, exported):
        assert "已识别" not in text and "帮扶中" not in text and "姓名" not in text
    english = ok(world, "insp", "--lang", "en", "case", "show", case)
    assert "funded" in english.splitlines()[0] and "proposed → in the project library" in english
    assert "milestone: 基础完工" in ok(world, "insp", "--lang", "en", "trace", case)


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
