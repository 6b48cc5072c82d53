"""The rest of the demo's county year (issue 11): a poor village identified and exited on its own
household data, a fund project from the library to the handover of its assets, and a few real leads
planted for the inspector to find, each as the people concerned would do it, through the engine.

The leads (`Leads`): a township cadre signs the review of her own relative's household (the relation
comes out later); an exit income figure raised from under the line to just above it a week before the
exit proposal; a county approval entered two weeks after the date it states. `flag_measure` says how
many of the inspector's flags point at them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engine.domain.cases import StepInput
from engine.services.case_actions import attach_evidence, record_relative
from engine.services.procedures import perform_step
from workflows.project import PaymentInput, ProjectInput, record_disbursement, register_project
from workflows.village import TeamMemberInput, register_village, set_team
from .scans import write_scan

STAYS_ASSISTED = ("under_line", "dropout", "no_confirmation")   # fates that do not exit this year
NOT_REGISTERED = ("not_poor", "objection_upheld")                # refused at identification
PROFILE = {"year": 2018, "per_capita_income": 3100, "provincial_income": 13200, "provincial_incidence": 0.03,
           "collective_income": 0}
CHECKLIST = {"year": 2019, "collective_income": 52000, "road": True, "drinking_water": True, "electricity": 1.0,
             "clinic": True}
MILESTONES = (("基础完工", "2019-06-30"), ("主体完工", "-30"), ("竣工", "-0"))
CONTRACTOR = "宁都县农建公司"


@dataclass
class Leads:
    """What the demo planted: the cases and people an inspector should find."""
    relative: tuple[int, str] | None = None         # (case, person code)
    raised_income: int | None = None                # case
    backdated: int | None = None                    # case
    cases: set[int] = field(default_factory=set)
    people: set[str] = field(default_factory=set)

    def add(self, case: int, person: str | None = None) -> None:
        self.cases.add(case)
        if person:
            self.people.add(person)


# --- the poor village ---------------------------------------------------------------------------

def persons(v: Any, cases: list[int]) -> int:
    return sum(v.sizes[c] for c in cases)


def pick_poor_village(demo: Any) -> Any:
    """The village whose households leave the fewest poor persons behind this year: the one the county
    plans to take off the list."""
    def left_behind(v: Any) -> float:
        poor = [c for c in v.cases if v.fate[c] not in NOT_REGISTERED]
        stay = [c for c in poor if v.fate[c] in STAYS_ASSISTED]
        return persons(v, stay) / max(1, persons(v, poor))
    return min(demo.villages, key=left_behind)


def village_population(v: Any) -> tuple[int, int]:
    """(registered rural population, poor persons of the 2018 survey): poor persons about 9% of the
    population, and few enough left behind after this year's exits to be under 2%."""
    poor = persons(v, [c for c in v.cases if v.fate[c] not in NOT_REGISTERED])
    stay = persons(v, [c for c in v.cases if v.fate[c] in STAYS_ASSISTED])
    return max(math.ceil(poor / 0.09), math.ceil(stay / 0.015) + 1), poor


def identify_village(demo: Any) -> None:
    """January 2019: the village applies, the township reviews and posts it, the county approves; the
    resident work team is sent and the village plan approved."""
    v = demo.poor_village = pick_poor_village(demo)
    t_, app = demo.township_of(v), demo.app
    population, poor = village_population(v)
    demo.on(date(2019, 1, 10))
    case = demo.village_case = register_village(app, v.staff["secretary"], v.code, population, 2018)
    attach_evidence(app, v.staff["secretary"], case, "village_profile", {**PROFILE, "poor_persons": poor})
    step(demo, v.staff["secretary"], "village_identification", "village_application", case)
    step(demo, demo.who(f"{t_}_staff1"), "village_identification", "township_review", case, decision="approve")
    step(demo, demo.who(f"{t_}_staff2"), "village_identification", "township_notice", case)
    demo.on(date(2019, 1, 17))
    step(demo, demo.who("county_director"), "village_identification", "county_approval", case, decision="approve")
    step(demo, demo.who("county_staff"), "village_identification", "announcement", case)
    assist_village(demo, v, case)


def assist_village(demo: Any, v: Any, case: int) -> None:
    demo.on(date(2019, 1, 21))
    team = (TeamMemberInput(v.staff["first"].code, "first_secretary", "江西省农业农村厅"),
            TeamMemberInput(v.staff["leader"].code, "leader", "宁都县财政局"),
            TeamMemberInput(v.staff["member"].code, "member", "宁都县林业局"))
    set_team(demo.app, demo.who(f"{demo.township_of(v)}_secretary"), case, team, date(2019, 1, 21),
             date(2021, 1, 21), "首次选派")
    plan = write_scan(demo.app.settings.home / f"village-plan-{v.code}.pdf", f"{v.name}脱贫规划（2019—2020）",
                      "发展脐橙产业，修通组道路，完善饮水工程。")
    attach_evidence(demo.app, v.staff["first"], case, "village_plan",
                    {"drawn_up_on": "2019-01-21", "summary": "脐橙产业、组道路、饮水工程"}, plan)
    step(demo, v.staff["first"], "village_assistance", "village_plan", case)
    step(demo, demo.who(f"{demo.township_of(v)}_head"), "village_assistance", "plan_approval", case,
         decision="approve")


def exit_village(demo: Any) -> None:
    """December 2019, once its households' exits are announced: the exit is checked against the live
    household cases (the engine refuses it while the incidence is 2% or more)."""
    v, case = demo.poor_village, demo.village_case
    t_ = demo.township_of(v)
    demo.on(date(2019, 12, 9))
    attach_evidence(demo.app, v.staff["secretary"], case, "village_exit_checklist", CHECKLIST)
    if not demo.try_each(lambda c: step(demo, v.staff["secretary"], "village_exit", "exit_application", c), [case]):
        return
    step(demo, demo.who(f"{t_}_staff1"), "village_exit", "township_notice", case)
    demo.on(date(2019, 12, 16))
    step(demo, demo.who("county_director"), "village_exit", "exit_approval", case, decision="approve")
    step(demo, demo.who("county_staff"), "village_exit", "announcement", case)


def consolidate_village(demo: Any) -> None:
    v, case = demo.poor_village, demo.village_case
    demo.on(date(2020, 1, 10))
    demo.try_each(lambda c: step(demo, demo.who(f"{demo.township_of(v)}_staff2"), "village_consolidation",
                                 "enrolment", c), [case])
    demo.try_each(lambda c: step(demo, demo.who("county_staff"), "village_consolidation", "county_filing", c,
                                 decision="approve"), [case])


def step(demo: Any, who: Any, procedure: str, key: str, case: int, **inputs: Any) -> None:
    perform_step(demo.app, who, procedure, key, [case], StepInput(**inputs))


# --- the fund project ---------------------------------------------------------------------------

def project_to_completion(demo: Any) -> None:
    """April–November 2019: an orange orchard for the poor village's households, from the library
    through funding, payments and milestones to acceptance, final accounts and the announcement."""
    v = demo.poor_village
    t_, app = demo.township_of(v), demo.app
    demo.on(date(2019, 4, 1))
    beneficiaries = v.cases[:5]
    demo.project = register_project(app, v.staff["secretary"], ProjectInput(
        f"{v.name}脐橙基地", "industry", v.code, "宁都县农业农村局", "unit_head", f"{t_}_staff5",
        (("county", "200000", "宁财农〔2019〕12号"), ("integrated", "100000", None)), beneficiaries,
        (f"带动{len(beneficiaries)}户贫困户年均增收2000元",), date(2019, 10, 31), date(2019, 4, 1)))
    step(demo, v.staff["secretary"], "library_entry", "submission", demo.project)
    for day, who, key, inputs in (
            (date(2019, 4, 1), v.staff["first"], "village_notice", {}),
            (date(2019, 4, 8), demo.who(f"{t_}_staff1"), "township_review", {"decision": "approve"}),
            (date(2019, 4, 8), demo.who(f"{t_}_staff2"), "township_notice", {}),
            (date(2019, 4, 15), demo.who("county_director"), "county_approval", {"decision": "approve"})):
        demo.on(day)
        step(demo, who, "library_entry", key, demo.project, **inputs)
    _fund(demo, v, t_)
    _build(demo, t_)
    _complete(demo, t_)


def _fund(demo: Any, v: Any, t_: str) -> None:
    app, case = demo.app, demo.project
    demo.on(date(2019, 4, 16))
    step(demo, demo.who("county_staff"), "funding", "allocation", case,
         funds=(("county", "200000", "宁财农〔2019〕30号"), ("integrated", "100000", None)))
    step(demo, v.staff["first"], "funding", "allocation_notice", case)
    demo.on(date(2019, 4, 26))
    attach_evidence(app, demo.who(f"{t_}_staff1"), case, "contractor_selection",
                    {"contractor": CONTRACTOR, "credit_code": "91360730MA35F0QX13", "method": "公开招标", "selected_on": "2019-04-25",
                     "contract_amount": "285000"})
    step(demo, demo.who(f"{t_}_staff1"), "funding", "contractor_notice", case)
    demo.on(date(2019, 5, 3))
    step(demo, demo.who(f"{t_}_staff5"), "funding", "schedule", case, milestones=MILESTONES)


def _pay(demo: Any, amount: str, day: date, kind: str = "contractor", payee: str = CONTRACTOR) -> None:
    demo.on(day)
    record_disbursement(demo.app, demo.who("county_staff"), demo.project, PaymentInput(amount, kind, payee, day,
                                                                                     f"记-{day:%Y%m%d}"))


def _build(demo: Any, t_: str) -> None:
    """Payments, the monthly disbursement reports (by the 5th) and the milestones, in date order."""
    leader, case = demo.who(f"{t_}_staff5"), demo.project
    _pay(demo, "90000", date(2019, 5, 10))
    for month in (6, 7, 8, 9, 10):
        demo.on(date(2019, month, 5))
        step(demo, demo.who("county_staff"), "disbursement_report", "disbursement_report", case)
        if month == 6:
            demo.on(date(2019, 6, 28))
            step(demo, leader, "milestone", "milestone", case, milestone="基础完工")
            _pay(demo, "60000", date(2019, 7, 1))
        if month == 9:
            demo.on(date(2019, 9, 30))
            step(demo, leader, "milestone", "milestone", case, milestone="主体完工")
            _pay(demo, "80000", date(2019, 9, 30))
    demo.on(date(2019, 10, 29))
    step(demo, leader, "milestone", "milestone", case, milestone="竣工")


def _complete(demo: Any, t_: str) -> None:
    app, case, county = demo.app, demo.project, demo.who("county_staff")
    demo.on(date(2019, 11, 1))
    step(demo, demo.who(f"{t_}_staff1"), "completion", "initial_acceptance", case, decision="approve")
    report = write_scan(app.settings.home / "project-acceptance-report.pdf", "第三方验收报告", "工程质量合格。")
    demo.on(date(2019, 11, 6))
    attach_evidence(app, county, case, "acceptance_report", {"firm": "赣州工程咨询公司", "report_no": "YS-2019-018",
                                                             "accepted_on": "2019-11-05", "quality": "合格"}, report)
    step(demo, demo.who("county_director"), "completion", "county_acceptance", case, decision="approve")
    _pay(demo, "30000", date(2019, 11, 7))
    demo.on(date(2019, 11, 8))
    attach_evidence(app, county, case, "final_accounts", {"settled_on": "2019-11-08", "final_cost": "260000.00"})
    step(demo, county, "completion", "final_accounts", case)
    step(demo, demo.who(f"{t_}_staff2"), "completion", "completion_announcement", case)


def hand_over(demo: Any) -> None:
    """6 December 2019 (a Friday): the assets registered by class and handed over, the performance evaluated."""
    v, case = demo.poor_village, demo.project
    demo.on(date(2019, 12, 6))
    owner = v.cases[0]
    step(demo, demo.who(f"{demo.township_of(v)}_staff4"), "handover", "asset_handover", case, assets=(
        ("operating", "脐橙基地", "200000", f"{v.name}股份经济合作社", None),
        ("public_welfare", "基地机耕道", "40000", f"{v.name}村民委员会", None),
        ("household", "脐橙苗500株", "20000", title_of(demo.app, owner), owner)))
    attach_evidence(demo.app, demo.who("county_staff"), case, "performance_evaluation",
                    {"evaluated_on": "2019-12-06", "target_met": True, "summary": "带动受益户增收，目标完成"})
    step(demo, demo.who("county_director"), "handover", "performance_evaluation", case, decision="approve")


def title_of(app: Any, case: int) -> str:
    from sqlalchemy import select
    from engine.adapters import tables as t
    with app.engine.connect() as conn:
        return conn.execute(select(t.cases.c.title).where(t.cases.c.id == case)).scalar_one()


# --- leads worth an inspector's time --------------------------------------------------------------

def plant_raised_income(demo: Any) -> None:
    """Before the exit phase: one household's 2019 income is first assessed under the line; a week
    before the exit proposal it is replaced by a figure just above it (the exit goes through)."""
    v = next(x for x in demo.villages if x is not demo.poor_village)
    case = next((c for c in v.cases if v.fate[c] == "normal"), None)
    if case is None:
        return
    size, line = v.sizes[case], demo.app.config.policy.income_line("36", 2019)[0]
    demo.on(date(2019, 11, 12))
    attach_evidence(demo.app, v.staff["secretary"], case, "income_assessment",
                    {"year": 2019, "net_income": round(size * line * 0.86, 2)})
    demo.on(date(2019, 11, 13))
    attach_evidence(demo.app, v.staff["secretary"], case, "income_assessment",
                    {"year": 2019, "net_income": round(size * line * 1.04, 2)}, replace=True, reason="重新核算务工收入")
    demo.preassessed.add(case)
    demo.leads.raised_income = case
    demo.leads.add(case, v.staff["secretary"].code)


def hold_back_for_backdating(demo: Any) -> None:
    """One household of a village other than the poor one is left out of the county's approval list."""
    v = next(x for x in reversed(demo.villages) if x is not demo.poor_village)
    case = next((c for c in v.cases if v.fate[c] == "normal" and c not in demo.preassessed), None)
    if case is not None:
        demo.held_back[v.code] = case


def approve_backdated(demo: Any) -> None:
    """20 December: the held-back approval is entered, dated 5 December so that it counts in the year."""
    for code, case in demo.held_back.items():
        v = next(x for x in demo.villages if x.code == code)
        if case not in v.cases:
            continue
        demo.on(date(2019, 12, 20))
        step(demo, demo.who("county_head"), "exit", "county_approval", case, decision="approve",
             date=date(2019, 12, 5))
        step(demo, demo.who("county_staff"), "exit", "announcement", case)
        demo.leads.backdated = case
        demo.leads.add(case, "county_head")


def reveal_relative(demo: Any) -> None:
    """July 2020: a villager's report shows the township cadre who reviewed a household is its head's
    niece; the township records the relation (from now on the engine refuses her on that case)."""
    v = demo.villages[1]
    t_ = demo.township_of(v)
    case = next((c for c in v.cases if v.fate[c] == "normal" and c not in demo.leads.cases), None)
    if case is None:
        return
    demo.on(date(2020, 7, 15))
    record_relative(demo.app, demo.who(f"{t_}_head"), case, f"{t_}_staff1", "外甥女", "乡镇纪检督查中查明")
    demo.leads.relative = (case, f"{t_}_staff1")
    demo.leads.add(case, f"{t_}_staff1")


def outcome(app: Any, demo: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Where the poor village and the fund project ended the year."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.reads.funds import project_figures
    with app.engine.connect() as conn:
        stage = dict(conn.execute(select(t.cases.c.id, t.cases.c.stage).where(
            t.cases.c.id.in_([demo.village_case or 0, demo.project or 0]))).all())
        money = project_figures(conn, [demo.project], date(2019, 12, 31)).get(demo.project, {}) if demo.project else {}
    village = {"case": demo.village_case, "name": demo.poor_village.name if demo.poor_village else None,
               "stage": stage.get(demo.village_case)}
    project = {"case": demo.project, "stage": stage.get(demo.project),
               "allocated": str(money.get("allocated", "")), "disbursed": str(money.get("disbursed", ""))}
    return village, project


def flag_measure(app: Any, demo: Any) -> dict[str, Any]:
    """The inspector's flags, the weightiest first, and how many are real: a flag is real when it
    points at a planted lead (its case, or for a flag without a case, its person)."""
    from engine.reads.inspection import ranked
    found = ranked(app, demo.who("inspector"))
    real = [f for f in found if (f.case_id in demo.leads.cases if f.case_id else
                                 f.person is not None and f.person[0] in demo.leads.people)]
    kinds: dict[str, int] = {}
    for f in found:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    return {"flags": len(found), "real": len(real), "kinds": kinds,
            "top": [f.kind for f in found[:5]], "planted": sorted(demo.leads.cases)}


# --- the assessment's end: a sample check finds a wrong exit; the county's report ----------------------

def sample_check(demo: Any, township: str) -> int:
    """Third-party evaluators draw a sample of the township's exited households (a fixed seed: the
    same draw every run); the county office finds one of them wrongly exited, which registers a problem
    item (source 第三方评估: the evaluators' draw) reopening it with its exit chain; the others are
    confirmed, and each household answers the survey. Returns the problem item."""
    from engine.services.sampling import Finding, draw, problem_of, record_finding
    evaluator, county = demo.who("evaluator"), demo.who("county_director")
    drawn = draw(demo.app, evaluator, township, 12, seed="2020-第三方评估", period=2019)
    wrong, others = drawn["case_ids"][0], drawn["case_ids"][1:]
    found = record_finding(demo.app, county, Finding(drawn["id"], wrong, "wrong_exit", "入户核实：2019年人均纯收入核算漏计大额医疗支出，"
                                                     "实际低于退出标准"))
    opened = [problem_of(demo.app, found)]
    for n, case in enumerate(others):
        record_finding(demo.app, evaluator, Finding(drawn["id"], case, "confirmed", "入户核实无误"))
        record_finding(demo.app, evaluator, Finding(drawn["id"], case, "not_approving" if n == 0 else "approving"))
    demo.wrong_exit_cases = [wrong]
    demo.sample = {"draw": drawn["id"], "sampled": len(drawn["case_ids"]), "population": drawn["population"],
                   "wrong_exit": wrong, "problem": opened[0]}
    return opened[0]


def write_report(demo: Any, home: Any, lang: str, county: str) -> str:
    """The county's assessment for the year, one self-contained HTML page with its charts, in the home."""
    from engine.adapters.private_files import write_private
    from entrypoints.report_html import render
    from engine.reads.assessment import assessment
    data = assessment(demo.app, demo.who("county_director"), county, 2019)
    return str(write_private(home / "assessment-2019.html", render(demo.app.config, data, lang)))
