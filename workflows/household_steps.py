"""Households' policy checks, step handlers and completion effects named in household.yaml.

Each check reads the structured evidence and member data of the case and returns the list of
unmet conditions (empty when the standard is met), so `case next` can show the same reasons.
"""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, true, update
from stdnum.cn import ric

from config import Policy
from engine.adapters import tables as t
from engine.adapters.repository import measure_in_force
from engine.domain.errors import BadInput, Codes, Msg, RuleViolation, own_words, render_value, stored
from engine.domain.deadline_rules import wall_clock
from engine.domain.evidence import code_words, read_code
from engine.domain.exit_years import PLANNED_EXIT_YEAR
from engine.domain.members import age_at
from engine.domain.regions import ancestors_of
from engine.domain.monitoring import from_exit, period_years, reckoned_from_year
from engine.reads.listings import ruled_on
from engine.services.accountability import add_months
from engine.services.org import persons_holding
from engine.services.context import StepContext, WorkflowRules
from .household_decides import NEWEST_ITEM, decides, identified_type, monitoring_type_code
from .import_pairings import PAIRED_STAGES
from .household_codes import HOUSING_GRADES, MEASURES, MONITORING_TYPES, WORKING_LABOUR, measure_code


# School enrolments the exit standard accepts for a member of compulsory-education age.
SCHOOL_PASSES = ("enrolled", "exempt")


def age_on(id_number: str, day: date) -> int:
    return age_at(ric.get_birth_date(id_number), day)



_CHECKED_AT = select(t.evidence.c.id, t.evidence.c.attached_at).where(t.evidence.c.id.in_(bindparam("ids", expanding=True)))
_OPEN_PAIRINGS = select(t.pairings).where(t.pairings.c.case_id == bindparam("case_id"), t.pairings.c.end_date.is_(None))
_IN_FORCE = select(t.pairings).join(t.persons, t.persons.c.id == t.pairings.c.person_id).where(
    t.pairings.c.case_id == bindparam("case_id"), t.pairings.c.end_date.is_(None), t.persons.c.active.is_(True))
_MEASURE_COUNT = select(func.count()).select_from(t.measures).where(
    t.measures.c.procedure_id == bindparam("procedure_id"))
_CADRE_LOAD = select(func.count()).select_from(t.pairings).where(
    t.pairings.c.person_id == bindparam("person"), t.pairings.c.kind == bindparam("kind"),
    t.pairings.c.end_date.is_(None), t.pairings.c.case_id != bindparam("case_id"))
_LOCK_PERSON = select(t.persons.c.id).where(t.persons.c.id == bindparam("id")).with_for_update()
_END_PAIRINGS = update(t.pairings).where(t.pairings.c.case_id == bindparam("b_case"), t.pairings.c.end_date.is_(None))
# The measures in force, less those of the procedure adopting its plan (not yet completed as it writes).
_END_MEASURES = update(t.measures).where(
    t.measures.c.case_id == bindparam("b_case"), measure_in_force(),
    or_(t.measures.c.procedure_id.is_(None), t.measures.c.procedure_id != bindparam("b_procedure")))


# --- policy checks ---------------------------------------------------------------------------

def _per_capita(ctx: StepContext, evidence_type: str) -> tuple[float, int, int]:
    ev = ctx.evidence.get(evidence_type)
    if ev is None:
        raise RuleViolation("evidence.missing", case=ctx.case.id, step=ctx.step.key, types=evidence_type)
    members = len(ctx.members()) or 1
    year = _income_year(ctx, evidence_type, ev)
    return float(ev.fields["net_income"]) / members, year, members


def _income_year(ctx: StepContext, evidence_type: str, ev) -> int:
    """The income's year, which must be the decision's year or the one before, so the line it is held
    to is that year's (refused, `income.wrong_year`, if not)."""
    year = int(ev.fields["year"])
    if year not in (ctx.effective_date.year, ctx.effective_date.year - 1):
        raise RuleViolation("income.wrong_year", case=ctx.case.id, type=evidence_type, year=year,
                            date=ctx.effective_date)
    return year


def _income(per_capita: float, members: int, year: int, line: float, source: str) -> dict[str, Any]:
    return {"per_capita": f"{per_capita:,.0f}", "members": members, "year": year, "line": f"{line:,.0f}",
            "source": Msg(*Policy.line_source(source))}


def exit_fact_failures(facts: dict[str, Any], labels) -> list:
    """两不愁三保障 and safe drinking water, judged on what the exit standard read (`exit_facts`):
    food and clothing, each member's schooling and insurance, safe housing, safe water (an item not
    on the case is not judged here: the step's evidence asks for it). The inspection judges the same
    record with a change undone: a fact changed from one refused here shortly before the decision."""
    failures = [(need, {}) for need in ("food", "clothing") if need in facts and not facts[need]]
    failures += _member_failures(facts)
    if "housing" in facts:
        failures += _housing_failures(facts["housing"], labels)
    if "water" in facts and not facts["water"]:
        failures.append(("water", {}))
    return failures + _stale_checks(facts)


def _stale_checks(facts: dict[str, Any]) -> list:
    """Each check of 两不愁三保障 or water the standard read that is older than it accepts (`exit_facts`:
    `checked_on`, `checks_since`; a decision recorded before they were read has none and is not judged so)."""
    since = facts.get("checks_since")
    if not since:
        return []
    return [("check_stale", {"type": kind, "date": day, "since": since})
            for kind, day in (facts.get("checked_on") or {}).items() if day and day < since]


def exit_facts(ctx: StepContext) -> dict[str, Any]:
    """What the exit standard reads besides the income, as it read it, recorded with the step that
    decided on it (a later change of a member or an item does not change what the decision saw): the
    compulsory-education ages, each active member's name, age on the step's date, school enrolment
    and insurance (basic, critical illness; None: not recorded), the housing grade as read (its code,
    or the words given when they name none) with renovation and relocation, safe water, food and
    clothing, each where its item is on the case. No ID number: the names and ages say whom."""
    low, high = ctx.params["education_ages"]
    facts: dict[str, Any] = {
        "education_ages": [low, high],
        "members": [[m.name, age_on(m.id_number, ctx.effective_date), m.school_enrolment, m.insured_basic,
                     m.insured_critical] for m in ctx.members()]}
    housing, water, two = (ctx.evidence.get(k) for k in ("housing_safety", "drinking_water", "two_assurances"))
    # each check's day (recorded, on the office's clock) and the oldest day the exit accepts a check from
    # (`exit_check_months` before the step): a check of an earlier year-end does not vouch for this one
    items = [e for e in (two, housing, water) if e is not None]
    if items:
        facts["checked_on"], facts["checks_since"] = _checks_dated(ctx, items), _checks_since(ctx)
    if housing is not None:
        given = housing.fields.get("grade", "")
        grade = read_code(given, code_words("grade", HOUSING_GRADES, ctx.app.config.labels))
        facts["housing"] = {"grade": grade or str(given)[:40], **{
            k: housing.fields[k] for k in ("renovated_accepted", "relocated_keys_handed") if housing.fields.get(k) is not None}}
    if water is not None:
        facts["water"] = water.fields.get("safe")
    if two is not None:
        facts["food"], facts["clothing"] = two.fields.get("food"), two.fields.get("clothing")
    return facts


def _checks_dated(ctx: StepContext, items: list) -> dict[str, str]:
    """Each item's day, as recorded (on the office's clock), by its type."""
    held = dict(ctx.conn.execute(_CHECKED_AT, {"ids": [e.id for e in items]}).all())
    return {e.type: wall_clock(ctx.app.config, held[e.id])[:10] for e in items if e.id in held}


def _checks_since(ctx: StepContext) -> str:
    """The oldest day the exit accepts a check from: `exit_check_months` before the step's day."""
    return add_months(ctx.effective_date, -int(ctx.params["exit_check_months"])).isoformat()


def _member_failures(facts: dict[str, Any]) -> list:
    """School-age members in school (or exempt; their schooling not recorded is asked for), every member insured (basic and critical illness),
    judged on the members as `exit_facts` read them."""
    failures = []
    low, high = facts["education_ages"]
    for name, age, school, basic, critical in facts["members"]:
        if low <= age <= high and school is None:      # not recorded: asked for, not taken as out of school
            failures.append(("education_unknown", {"name": name, "age": age}))
        elif low <= age <= high and school not in SCHOOL_PASSES:
            failures.append(("education", {"name": name, "age": age}))
        if basic is None or critical is None:      # not recorded: asked for, not assumed
            failures.append(("medical_unknown", {"name": name}))
        elif not (basic and critical):
            failures.append(("medical", {"name": name}))
    return failures


def _housing_failures(housing: dict[str, Any], labels) -> list:
    """Safe housing: grade A or B, or C or D renovated and accepted, or moved into a relocation home. A
    grade is read as it is entered (B级 is B): one stored before the grade was one of its codes reads
    so too; one that names no grade is said so, naming the grades."""
    given = housing.get("grade") or ""
    grade = read_code(given, code_words("grade", HOUSING_GRADES, labels))
    safe = grade in ("A", "B") or housing.get("relocated_keys_handed") or (
        grade in ("C", "D") and housing.get("renovated_accepted"))
    if grade is None and not housing.get("relocated_keys_handed"):
        return [("housing_grade", {"grade": str(given)[:40], "known": Codes("field.grade", HOUSING_GRADES)})]
    return [] if safe else [("housing_unsafe", {"grade": grade})]


# The member facts each check reads: `members`, who belongs (their count divides the income), and
# member fields (ages come from the ID numbers). A step running a check relied on those facts as they
# were: changing one voids it (engine.services.case_actions.void_relying_steps).
MEMBER_FACTS = {
    "identification_standard": frozenset({"members"}),
    "exit_standard": frozenset({"members", "id_number", "school_enrolment", "insured_basic", "insured_critical"}),
    "returned_to_poverty": frozenset({"members"}),
    "risk_eliminated": frozenset({"members", "labour_ability"}),
    "risk_elimination_ready": frozenset({"members", "id_number", "school_enrolment", "insured_basic", "insured_critical"}),
}


def identification_standard(ctx: StepContext) -> list[str]:
    per_capita, year, members = _per_capita(ctx, "income_check")
    line, source = ctx.income_line(year)
    ctx.data["income_check"] = {"per_capita": round(per_capita, 2), "line": line, "line_source": source}
    if per_capita >= line:
        return [("income_not_under", _income(per_capita, members, year, line, source))]
    return []


def income_current(ctx: StepContext) -> list[str]:
    """An application's income check is of the application's year or the one before: the year the
    appraisal will hold it to (an earlier application's check, years old, refused at once)."""
    if "income_check" in ctx.evidence:
        _income_year(ctx, "income_check", ctx.evidence["income_check"])     # raises income.wrong_year
    return []


def causes_given(ctx: StepContext) -> list[str]:
    """A household is identified as poor with its causes of poverty (致贫原因): an applicant gave them when
    registered; an ordinary household (never registered poor, registered without them) gives them before
    its application, as `household causes` or the case page's form records them."""
    if not (ctx.case.attrs or {}).get("causes"):
        return [("no_causes", {"case": ctx.case.id})]
    return []


def exit_income_years(ctx: StepContext) -> tuple[int, ...]:
    """The income years an exit decided on the step's date is judged on: its own year's (the year it
    exits in, held to that year's line); in the year's first `exit_income_prior_year_months` months
    [LOCAL] also the year before's, whose full-year accounting is the newest there can be (a December
    proposal approved by the county in January)."""
    day = ctx.effective_date
    prior = day.month <= int(ctx.params["exit_income_prior_year_months"])
    return (day.year, day.year - 1) if prior else (day.year,)


def exit_standard(ctx: StepContext) -> list[str]:
    income = ctx.evidence.get("income_assessment")
    if income is None:
        raise RuleViolation("evidence.missing", case=ctx.case.id, step=ctx.step.key, types="income_assessment")
    facts = exit_facts(ctx)
    ctx.data["exit_facts"] = facts          # what the decision saw besides the income (the trace shows it)
    # after the proposal (the county's approval), what time broke since is said as each step since said it
    # (exit_still_current): with how many steps putting it right voids, not as if the proposal were to come
    after = _steps_before(ctx) > 0
    failures = exit_still_current(ctx) if after else []
    years = exit_income_years(ctx)
    if int(income.fields["year"]) not in years:
        # another year's income says nothing of this year's: the year's own accounting is asked for (a
        # 2020 exit passed on 2019's income, against 2019's line: a9 finding 2)
        if not after:
            failures.append(("income_year_missing", {"year": years[0], "recorded": int(income.fields["year"]),
                                                     "type": "income_assessment"}))
    else:
        per_capita, year, members = _per_capita(ctx, "income_assessment")
        line, source = ctx.income_line(year)
        ctx.data["exit_check"] = {"per_capita": round(per_capita, 2), "line": line, "line_source": source}
        if per_capita <= line:
            failures.append(("income_not_above", _income(per_capita, members, year, line, source)))
    failures += [f for f in exit_fact_failures(facts, ctx.app.config.labels) if not (after and f[0] == "check_stale")]
    return put_right_by(ctx, failures + _planned_housing_failures(ctx, facts))


# The checks of 两不愁三保障 and water the exit standard holds to their age (`exit_check_months`).
AGED_CHECKS = ("two_assurances", "housing_safety", "drinking_water")


def exit_still_current(ctx: StepContext) -> list:
    """What time alone breaks of the exit standard the proposal met, judged at each later step of the exit
    on its own day as the county's approval will judge it (`exit_standard`, on a day later still): a check
    of 两不愁三保障 or water older than the exit accepts, an income of a year the exit is not judged on
    (`exit_income_years`). Time
    only makes them older, so the approval would refuse: the step is refused now, before the household
    signs, the notice is posted and the township signs (a carried-over exit of 2019 went through all three
    and the county refused it). What replacing the item voids is said: the proposal and the steps since."""
    done = _steps_before(ctx)
    failures = []
    income = ctx.evidence.get("income_assessment")
    if income is not None and int(income.fields["year"]) not in exit_income_years(ctx):    # as exit_standard holds it
        failures.append(("exit_income_year", {"year": income.fields["year"], "date": ctx.effective_date.isoformat(),
                                              "steps": done}))
    items = [ctx.evidence[k] for k in AGED_CHECKS if k in ctx.evidence]
    if items:
        since, dated = _checks_since(ctx), _checks_dated(ctx, items)
        failures += [("exit_check_stale", {"type": e.type, "date": dated[e.type], "since": since, "steps": done})
                     for e in items if e.type in dated and dated[e.type] < since]
    return put_right_by(ctx, failures)


def put_right_by(ctx: StepContext, failures: list) -> list:
    """An exit's failures after its proposal as the reader can act on them. Only the village's cadres put
    them right (a check visited again, an item replaced, the exit proposed again: the proposal's posts);
    a reader holding no post in the household's village (the county at its approval, the township) is told
    who must, by their posts and village (`roles`, `region`), and what they themselves can do (`can`): at a
    sign-off or a verification of theirs, reject with a reason or wait; else wait and tell them. The
    village's own cadres read the advice addressed to them (fail_next.<code>); the others fail_others.<code>."""
    if not failures or _steps_before(ctx) == 0 or any(a.region_code == ctx.case.region_code
                                                      for a in ctx.actor.assignments):
        return failures
    first = ctx.app.config.workflows[ctx.case.kind].procedures[ctx.procedure].steps[0]
    deciding = ctx.step.type in ("signoff", "verification") and ctx.actor.first_role(ctx.step.roles, ctx.case.region_code)
    can = Msg("others_can.reject" if deciding else "others_can.wait")
    said = {"region": ctx.case.region_code, "roles": ",".join(first.roles), "can": can,
            "steps": _steps_before(ctx)}
    return [(code, {**said, **params}) for code, params in failures]


def _steps_before(ctx: StepContext) -> int:
    """How many steps of the procedure come before this one: done, all relying on the proposal's items."""
    keys = [s.key for s in ctx.app.config.workflows[ctx.case.kind].procedures[ctx.procedure].steps]
    return keys.index(ctx.step.key) if ctx.step.key in keys else 0


# A housing measure of the plan in force and the housing record that says it is done: a household whose
# renovation (危房改造) or relocation (易地扶贫搬迁) is planned does not exit before it is accepted or
# its keys handed over, whatever grade a housing record says (an exit had closed the renovation's
# overdue deadline as if it were done: 数字脱贫).
PLANNED_HOUSING = {"housing": ("renovated_accepted", "renovation_pending"),
                   "relocation": ("relocated_keys_handed", "relocation_pending")}
_PLANNED = select(t.measures.c.category).where(
    t.measures.c.case_id == bindparam("case_id"), t.measures.c.category.in_(tuple(PLANNED_HOUSING)),
    measure_in_force()).distinct()


def _planned_housing_failures(ctx: StepContext, facts: dict[str, Any]) -> list:
    """The plan's renovation or relocation the housing the standard read (`exit_facts`) does not say done."""
    done = facts.get("housing") or {}
    planned = sorted(ctx.conn.execute(_PLANNED, {"case_id": ctx.case.id}).scalars())
    return [(PLANNED_HOUSING[c][1], {}) for c in planned if not done.get(PLANNED_HOUSING[c][0])]


def returned_to_poverty(ctx: StepContext) -> list[str]:
    per_capita, year, members = _per_capita(ctx, "income_assessment")
    line, source = ctx.income_line(year)
    if per_capita >= line:
        return [("income_not_under", _income(per_capita, members, year, line, source))]
    return []


def risk_eliminated(ctx: StepContext) -> list[str]:
    """风险消除: the household's income, assessed after its monitoring began (after its clue), stably
    above the monitoring line, and someone in it able to work. An income item recorded before the clue
    says nothing of the risk the clue found (a pre-illness exit income): it is refused, asking for a new
    assessment. The per capita and the line (its year) are recorded with the step (`risk_check`)."""
    if not ctx.case.attrs.get("monitoring"):      # nothing to eliminate: the income and line do not matter
        return [("not_monitored", {})]
    failures = []
    stale = _income_before_clue(ctx)
    if stale is not None:
        failures.append(stale)
    else:
        per_capita, year, members = _per_capita(ctx, "income_assessment")
        check = ctx.data["risk_check"] = _monitoring_check(ctx, per_capita, year, members)
        if per_capita <= check["line"]:
            failures.append(("under_monitoring_line", _income(per_capita, members, year, check["line"],
                                                              check["line_source"])))
    if not any(m.labour_ability in WORKING_LABOUR for m in ctx.members()):
        failures.append(("no_labour", {}))
    return failures


# What a risk elimination (风险消除) rests on besides the income (research §5.3: income stably above the
# range; 三保障 and water secured; the risk stably eliminated, no new one): the checks of 两不愁三保障 and
# water, each recorded since the monitoring began.
RISK_CHECKS = ("two_assurances", "housing_safety", "drinking_water")
# [LOCAL] defaults of the policy's parameters, for a policy installed before they were named
RISK_DEFAULTS = {"risk_elimination_min_months": 6, "risk_elimination_recent_months": 3}
_LAST_VISIT = (select(t.monitoring_visits.c.visit_date, t.monitoring_visits.c.risk)
               .where(t.monitoring_visits.c.case_id == bindparam("b_case"), t.visit_in_force(),
                      t.monitoring_visits.c.visit_date >= bindparam("b_since"))
               .order_by(t.monitoring_visits.c.visit_date.desc(), t.monitoring_visits.c.id.desc()).limit(1))
_MEASURES_IN_FORCE = select(func.count()).select_from(t.measures).where(
    t.measures.c.case_id == bindparam("case_id"), measure_in_force())


def risk_param(ctx: StepContext, key: str) -> int:
    """A risk elimination's [LOCAL] parameter, its default where the installed policy lacks it."""
    return int(ctx.params.get(key, RISK_DEFAULTS[key]))


def risk_elimination_ready(ctx: StepContext) -> list:
    """What a risk elimination needs besides the income over the line (`risk_eliminated`): monitored at
    least `risk_elimination_min_months`; the assistance measures of the monitoring in force (the plan
    revision it asked for approved); the income assessed within `risk_elimination_recent_months`; 两不愁三保障
    and water checked since the monitoring began and met; a visit since then, within the recent months,
    that found no new risk. Each unmet one is said with what puts it right (a number typed the same day as
    the identification had eliminated a risk: 数字消除)."""
    monitored = ctx.case.attrs.get("monitoring")
    if not monitored or not monitored.get("since"):
        return []                      # `risk_eliminated` says it is not monitored
    since = date.fromisoformat(monitored["since"])
    day, recent = ctx.effective_date, risk_param(ctx, "risk_elimination_recent_months")
    failures: list = []
    earliest = add_months(since, risk_param(ctx, "risk_elimination_min_months"))
    if day < earliest:
        failures.append(("monitored_too_short", {"since": since.isoformat(), "earliest": earliest.isoformat(),
                                                 "months": risk_param(ctx, "risk_elimination_min_months")}))
    asked = plan_asked(ctx.case, ctx.conn)
    if asked:
        failures.append(("monitoring_plan_missing", {"since": asked.get("since", "-")}))
    elif not ctx.conn.execute(_MEASURES_IN_FORCE, {"case_id": ctx.case.id}).scalar():
        failures.append(("no_measure_in_force", {}))
    oldest = add_months(day, -recent).isoformat()
    income = ctx.evidence.get("income_assessment")
    if income is not None:
        dated = _checks_dated(ctx, [income]).get("income_assessment")
        if dated and dated < oldest:
            failures.append(("risk_income_old", {"date": dated, "since": oldest, "months": recent}))
    failures += _risk_check_failures(ctx, since.isoformat())
    last = ctx.conn.execute(_LAST_VISIT, {"b_case": ctx.case.id, "b_since": since}).first()
    if last is None or last.visit_date.isoformat() < oldest:
        failures.append(("no_recent_visit", {"since": oldest, "months": recent,
                                             "last": last.visit_date.isoformat() if last else "-"}))
    elif last.risk:
        failures.append(("new_risk_found", {"date": last.visit_date.isoformat()}))
    return failures


def _risk_check_failures(ctx: StepContext, since: str) -> list:
    """两不愁三保障 and water for a risk elimination: each check on the case, recorded on or after the
    monitoring's start (`since`), and what they and the members' schooling and insurance say met."""
    missing = tuple(k for k in RISK_CHECKS if k not in ctx.evidence)
    failures: list = [("risk_check_missing", {"types": Codes("evidence", missing)})] if missing else []
    items = [ctx.evidence[k] for k in RISK_CHECKS if k in ctx.evidence]
    dated = _checks_dated(ctx, items)
    failures += [("risk_check_before_monitoring", {"type": Msg(f"evidence.{e.type}"), "date": dated[e.type],
                                                   "since": since})
                 for e in items if e.type in dated and dated[e.type] < since]
    facts = exit_facts(ctx)
    facts.pop("checks_since", None)         # their age is judged against the monitoring's start, above
    return failures + exit_fact_failures(facts, ctx.app.config.labels)


def monitoring_measured(ctx: StepContext) -> list[str]:
    """What a monitoring identification measured: the household's newest income assessment per head
    against the monitoring line (its year), recorded with the step (`monitoring_check`). It refuses
    nothing: a sudden-hardship household (突发严重困难户) may be over the line, and the type is the
    cadres' finding; an income of another year than the decision's or the one before is not measured."""
    income = ctx.evidence.get("income_assessment")
    if income is None:
        return []
    year = int(income.fields["year"])
    if year not in (ctx.effective_date.year, ctx.effective_date.year - 1):
        return []
    members = len(ctx.members()) or 1
    ctx.data["monitoring_check"] = _monitoring_check(ctx, float(income.fields["net_income"]) / members, year, members)
    return []


def _monitoring_check(ctx: StepContext, per_capita: float, year: int, members: int) -> dict[str, Any]:
    """The per capita against the monitoring line of the income's year (or the latest one, its year said)."""
    found = ctx.app.config.policy.monitoring_line_for(year, ctx.effective_date.year)
    if found is None:      # no line at all by then: the administrator installs one (`config check` says so)
        raise RuleViolation("risk.no_monitoring_line", year=year)
    line, source = found
    return {"per_capita": round(per_capita, 2), "members": members, "year": year, "line": line, "line_source": source}


def _income_before_clue(ctx: StepContext) -> tuple[str, dict] | None:
    """The unmet condition when the income item in force was recorded before the monitoring's clue."""
    income = ctx.evidence.get("income_assessment")
    if income is None:
        return None
    clue = ctx.conn.execute(NEWEST_ITEM, {"b_case": ctx.case.id, "b_type": "monitoring_clue"}).first()
    if clue is None or income.id > clue.id:
        return None
    members = len(ctx.members()) or 1
    return ("income_before_monitoring", {
        "year": income.fields.get("year", "-"), "per_capita": f"{float(income.fields['net_income']) / members:,.0f}",
        "clue_date": clue.fields.get("clue_date", "-"),
        "since": ctx.case.attrs["monitoring"].get("since", "-")})


def _open_pairings(ctx: StepContext) -> list:
    return ctx.conn.execute(_OPEN_PAIRINGS, {"case_id": ctx.case.id}).all()


def _pairings_in_force(ctx: StepContext) -> list:
    """The open pairings whose cadre is in office: one who left (deactivated) is nobody's pairing
    cadre until 调整帮扶责任人 names another."""
    return ctx.conn.execute(_IN_FORCE, {"case_id": ctx.case.id}).all()


def assistance_ready(ctx: StepContext) -> list[str]:
    failures = []
    if not any(p.kind == "first" for p in _pairings_in_force(ctx)):
        failures.append(("no_first_cadre", {}))
    # The plan of the procedure being approved: a measure of an earlier plan does not make this one.
    if not ctx.conn.execute(_MEASURE_COUNT, {"procedure_id": ctx.case.open_procedure_id}).scalar():
        failures.append(("no_measure", {}))
    return failures


def monitoring_clue_valid(ctx: StepContext) -> list[str]:
    """Not monitored already; the clue's monitoring type one of the three. A type is read as it is
    entered (边缘易致贫户 is edge): one stored before the type was one of its codes reads so too; one
    that names no type is said so, naming the types."""
    monitored = ctx.case.attrs.get("monitoring")
    if monitored:          # monitored already: its risk is eliminated (风险消除) before it is identified again
        kind = monitored.get("type", "unstable")
        return [("already_monitored", {"since": monitored.get("since", "-"),
                                       "kind": Msg(f"field.monitoring_type.{kind}")})]
    clue = ctx.evidence.get("monitoring_clue")
    kind = monitoring_type_code(clue.fields, ctx.app.config.labels) if clue is not None else None
    if clue is not None and kind is None:
        return [("monitoring_type", {"value": str(clue.fields.get("monitoring_type", ""))[:40],
                                     "known": Codes("field.monitoring_type", tuple(MONITORING_TYPES))})]
    return type_misplaced(kind, ctx.case.stage)


ORDINARY = "ordinary"        # the stage of a farm household never registered poor, entered to be monitored
ORDINARY_TYPES = ("edge", "sudden_hardship")    # the monitored types it may be: 边缘易致贫户, 突发严重困难户
EXITED_TYPES = ("unstable", "sudden_hardship")  # an exited household's: 脱贫不稳定户, 突发严重困难户


def types_for_stage(stage: str) -> tuple[str, ...]:
    """The monitoring types a household at `stage` may be (research §5.3): a farm household never
    registered poor is 边缘易致贫户 or 突发严重困难户; one that exited poverty 脱贫不稳定户 or 突发严重困难户."""
    return ORDINARY_TYPES if stage == ORDINARY else EXITED_TYPES


def type_misplaced(kind: str | None, stage: str) -> list:
    """A type the household's history rules out, said with the types it may be."""
    if kind == "unstable" and stage == ORDINARY:    # 脱贫不稳定户 is a household that exited poverty
        return [("unstable_never_poor", {"known": Codes("field.monitoring_type", ORDINARY_TYPES)})]
    if kind == "edge" and stage != ORDINARY:        # 边缘易致贫户 is one never registered poor
        return [("edge_exited", {"known": Codes("field.monitoring_type", EXITED_TYPES)})]
    return []


def own_pairing_cadre(ctx: StepContext) -> list[str]:
    """A pairing cadre acts for the households they are paired with, not for the whole village."""
    other_roles = [r for r in ctx.step.roles if r != "pairing_cadre"]
    if ctx.actor.first_role(other_roles, ctx.case.region_code) is not None:
        return []
    if not any(p.person_id == ctx.actor.person_id for p in _open_pairings(ctx)):
        return [("not_own_household", {"person": ctx.actor.code})]
    return []


def pairing_kept(ctx: StepContext) -> list[str]:
    if not any(p.kind == "first" for p in _pairings_in_force(ctx)):
        return [("no_pairing_kept", {})]
    return []


# --- step handlers ---------------------------------------------------------------------------

def pair_cadres(ctx: StepContext) -> None:
    wanted = _wanted_cadres(ctx)
    holding = persons_holding(ctx.conn, [c for _, c in wanted], ["pairing_cadre"], ctx.case.region_code)
    limits = {"first": int(ctx.params["first_cadre_max_households"]),
              "second": int(ctx.params["second_cadre_max_households"])}
    for kind, code in wanted:
        _within_load(ctx, kind, code, holding, limits[kind])
    for kind, code in wanted:
        ctx.batch[("pairing_load", holding[code], kind)] += 1
    pairs = [(kind, code, holding[code], limits[kind]) for kind, code in wanted]
    kept: set[tuple[int, str]] = set()      # (person, slot) paired before and again: filled as it writes
    ended: set[tuple[int, str]] = set()     # (person, slot) paired before and no longer
    ctx.writes.append(_pairing_writer(ctx.case.id, ctx.case.region_code, ctx.effective_date, ctx.actor.person_id,
                                      pairs, kept, ended))
    fresh = lambda: [(pid, kind) for kind, _, pid, _ in pairs if (pid, kind) not in kept]     # noqa: E731
    # each told whom they take over from, or hand over to
    ctx.writes.append(lambda conn: _tell_paired(ctx, conn, fresh(), counterpart=sorted(ended)))
    ctx.writes.append(lambda conn: _tell_paired(ctx, conn, sorted(ended), ended=True, counterpart=fresh()))
    ctx.data["cadres"] = {kind: code for kind, code in wanted}


def _tell_paired(ctx: StepContext, conn, cadres: list[tuple[int, str]], ended: bool = False,
                 reopened: str | None = None, counterpart: list[tuple[int, str]] = ()) -> None:
    """Each cadre of `cadres` (person, slot) newly paired, with `ended` no longer, or with `reopened`
    (the procedure) paired with a household back under assistance, hears of it at once over their
    channels (same transaction); one who keeps their slot through a change is not told. `counterpart`:
    the cadres (person, slot) the change ended, or paired anew: each is told who took their slot over
    (else who was newly paired), or whom they took it over from, by name, to hand the household over."""
    from engine.services.plugins import PairingMessage
    if not cadres:
        return
    app = ctx.app
    channels = app.plugins.channels_of(conn, [pid for pid, _ in cadres])
    names = dict(conn.execute(select(t.persons.c.id, t.persons.c.name).where(
        t.persons.c.id.in_(sorted({pid for pid, _ in counterpart})))).all()) if counterpart else {}
    for pid, kind in cadres:
        if channels.get(pid):
            other = [names[o] for o, slot in counterpart if slot == kind and o in names] or \
                ([names[o] for o, _ in counterpart if o in names] if ended else [])
            app.plugins.enqueue_pairing(app, conn, PairingMessage(ctx.case, kind, pid, ctx.actor.name,
                                                                  ctx.effective_date, ctx.procedure_id, ended,
                                                                  reopened, other="、".join(other) or None),
                                        channels[pid], app.clock.now())


def _wanted_cadres(ctx: StepContext) -> list[tuple[str, str]]:
    """[(slot, person code)]: a first cadre, and a second one who is someone else, if any."""
    inputs = ctx.inputs
    first, second = inputs.pairings.get(ctx.case.id, (inputs.first_cadre, inputs.second_cadre))
    if not first:
        raise BadInput("pairing.need_first", case=ctx.case.id)
    wanted = [("first", first)] + ([("second", second)] if second else [])
    if second == first:
        raise BadInput("pairing.same_person", person=first)
    return wanted


def _within_load(ctx: StepContext, kind: str, code: str, holding: dict, limit: int) -> None:
    """A pairing cadre over the village, paired with fewer households in this slot than the limit."""
    if code not in holding:
        raise RuleViolation("pairing.not_cadre", case=ctx.case.id, person=code)
    pid = holding[code]
    # Pairings planned earlier in the same list count too: they are not written yet.
    planned = ctx.batch.setdefault(("pairing_load", pid, kind), 0)
    count = ctx.conn.execute(_CADRE_LOAD, {"person": pid, "kind": kind, "case_id": ctx.case.id}).scalar() + planned
    if count >= limit:
        raise RuleViolation("pairing.capacity", case=ctx.case.id, person=code, slot=kind, count=count, maximum=limit,
                            room=with_room(ctx.conn, ctx.case.region_code, kind, limit, pid))


ROOM_NAMED = 3


def with_room(conn, village: str, kind: str, limit: int, but: int) -> Msg:
    """Who else may take a household in slot `kind`: up to ROOM_NAMED pairing cadres over the village with fewer
    than `limit` households in it, the least paired first (read only when a pairing is refused: a village
    has a few hundred cadres), or that none has and how to give the village another."""
    load = (select(func.count()).select_from(t.pairings).where(
        t.pairings.c.person_id == t.persons.c.id, t.pairings.c.kind == kind, t.pairings.c.end_date.is_(None))
        .correlate(t.persons).scalar_subquery())
    over = select(t.role_assignments.c.person_id).where(
        t.role_assignments.c.role == "pairing_cadre", t.role_assignments.c.revoked_at.is_(None),
        t.role_assignments.c.region_code.in_(ancestors_of(village)))
    found = conn.execute(select(t.persons.c.code, t.persons.c.name, load.label("n")).where(
        t.persons.c.id.in_(over), t.persons.c.active.is_(True), t.persons.c.id != but, load < limit)
        .order_by(load, t.persons.c.code).limit(ROOM_NAMED)).all()
    if not found:
        return Msg("s56.pairing.no_room", {"village": village})
    return Msg("s56.pairing.room", {"cadres": [Msg("s56.pairing.cadre", {"name": r.name, "code": r.code}) for r in found]})


def _pairing_writer(case_id: int, village: str, day: date, actor_id: int, pairs: list[tuple[str, str, int, int]],
                    kept: set[tuple[int, str]], ended: set[tuple[int, str]]):
    """Ends the household's pairings the new ones do not keep and writes the new ones: pairs of (slot,
    code, person id, limit). A cadre who stays in their slot keeps their pairing, and the day it began
    (`kept` gets their (person, slot): they are not told anew; `ended` those no longer paired)."""
    def write(conn) -> None:
        wanted = {(pid, kind) for kind, _, pid, _ in pairs}
        held = {(r.person_id, r.kind): r.id for r in conn.execute(_OPEN_PAIRINGS, {"case_id": case_id})}
        gone = {key: i for key, i in held.items() if key not in wanted}
        kept.update(wanted & set(held))
        ended.update(gone)
        if gone:
            conn.execute(update(t.pairings).where(t.pairings.c.id.in_(list(gone.values()))).values(end_date=day))
        fresh = [{"case_id": case_id, "person_id": pid, "kind": kind, "start_date": day, "assigned_by": actor_id}
                 for kind, _, pid, _ in pairs if (pid, kind) not in kept]
        if fresh:
            conn.execute(insert(t.pairings), fresh)
        # Checked again under the write lock (SQLite) or the cadre's row lock (PostgreSQL): a pairing
        # made at the same moment for another household cannot slip past the limit.
        for kind, code, pid, limit in pairs:
            conn.execute(_LOCK_PERSON, {"id": pid}).first()
            load = conn.execute(_CADRE_LOAD, {"person": pid, "kind": kind, "case_id": -1}).scalar()
            if load > limit:
                raise RuleViolation("pairing.capacity", case=case_id, person=code, slot=kind, count=load - 1,
                                    maximum=limit, room=with_room(conn, village, kind, limit, pid))
    return write


def record_plan(ctx: StepContext) -> None:
    if not ctx.inputs.measures:
        raise RuleViolation("plan.no_measure", case=ctx.case.id)
    rows = []
    for category, description in ctx.inputs.measures:
        code = measure_code(category)
        if code is None:
            raise BadInput("plan.bad_category", value=category, known=Codes("measure", tuple(MEASURES)))
        if not description or not description.strip():
            raise BadInput("plan.no_description", category=category)
        rows.append({"case_id": ctx.case.id, "category": code, "description": description.strip(),
                     "start_date": ctx.effective_date, "created_by": ctx.actor.person_id})
    # A measure the plan in force holds already, kept as it is by a revision, keeps the day it began.
    since = {(r.category, r.description): r.start_date for r in ctx.conn.execute(
        select(t.measures.c.category, t.measures.c.description, t.measures.c.start_date).where(
            t.measures.c.case_id == ctx.case.id, measure_in_force()))}
    rows = [{**r, "start_date": since.get((r["category"], r["description"]), r["start_date"])} for r in rows]
    # Proposed by this step's procedure: in force once it completes (adopt_plan).
    ctx.writes.append(lambda conn: conn.execute(insert(t.measures), [{**r, "procedure_id": ctx.procedure_id}
                                                                     for r in rows]))
    ctx.data["measures"] = [[r["category"], r["description"]] for r in rows]


# --- completion effects ----------------------------------------------------------------------

def record_assistance(ctx: StepContext, attrs: dict) -> None:
    attrs.setdefault("assisted_since", ctx.effective_date.isoformat())


def adopt_plan(ctx: StepContext, attrs: dict) -> None:
    """The plan the procedure approved comes into force: the measures in force until now end on the
    approval's date (kept on record, with the procedure that proposed each). A new plan asked for (a
    reopening, monitoring) is made; the day is kept (`plan_adopted_on`: a reopening or monitoring recorded
    before the marker was, plan_asked, is answered by it)."""
    attrs.pop(PLAN_NEEDED, None)
    attrs[PLAN_ADOPTED] = ctx.effective_date.isoformat()
    case_id, day = ctx.case.id, ctx.effective_date
    ctx.writes.append(lambda conn: conn.execute(_END_MEASURES, {"b_case": case_id, "b_procedure": ctx.procedure_id,
                                                                "end_date": day}))


def record_exit(ctx: StepContext, attrs: dict) -> None:
    """The exit's day, and the transition period (过渡期) that runs from it (DOMAIN §3: from exit, not from
    the consolidation that may follow)."""
    attrs["exited_on"] = ctx.effective_date.isoformat()
    attrs["exit_count"] = attrs.get("exit_count", 0) + 1
    start_transition_period(ctx, attrs)


def start_transition_period(ctx: StepContext, attrs: dict) -> None:
    """The transition period's last day, from the exit's day by the rules for its year (the exit wrote it;
    a consolidation writes the same day again, and the one of a household exited before the exit did)."""
    years = period_years(ctx.app.config.policy, ctx.case.province)
    if reckoned_from_year("exited", attrs, years):
        return     # imported as exited with its year only: its period is reckoned from that year, kept so
    exited = date.fromisoformat(attrs.get("exited_on", ctx.effective_date.isoformat()))
    attrs["transition_until"] = from_exit(exited, years).isoformat()


def correct_monitoring_type(ctx: StepContext) -> None:
    """A sign-off of a monitoring identification (the township's review, the county's decision) that
    corrects its type (`monitoring_type`): one of the types the household may be, another than the one
    it had, for a reason given; recorded on the step (from, to; its signer and date are the step's) and
    said as its reason wherever the step is shown. Another procedure's sign-off takes no type."""
    given = ctx.inputs.monitoring_type
    if given is None:
        return
    if ctx.procedure != "monitoring":
        raise BadInput("monitoring_type.not_here", procedure=Msg(f"procedure.{ctx.procedure}"))
    new = read_code(given, code_words("monitoring_type", tuple(MONITORING_TYPES), ctx.app.config.labels))
    if new is None:
        raise BadInput("monitoring_type.unknown", value=given[:40],
                       known=Codes("field.monitoring_type", types_for_stage(ctx.case.stage)))
    misplaced = type_misplaced(new, ctx.case.stage)
    if misplaced:
        code, params = misplaced[0]
        raise RuleViolation("monitoring_type.misplaced", case=ctx.case.id, details=Msg(f"fail.{code}", params))
    clue = ctx.evidence.get("monitoring_clue")
    was, _ = identified_type(ctx.conn, ctx.case, ctx.app.config.labels, clue.fields if clue else None)
    if new == was:
        raise BadInput("monitoring_type.same", type=Msg(f"field.monitoring_type.{new}"))
    reason = own_words(ctx.inputs.reason, missing="monitoring_type.reason_required").strip()
    was = was or "unstable"       # (a clue stored before its type was a code reads as the identification read it)
    ctx.data["monitoring_type"] = {"from": was, "to": new}
    ctx.data["recorded_reason"] = stored(Msg("step_reason.type_corrected", {
        "was": Msg(f"field.monitoring_type.{was}"), "now": Msg(f"field.monitoring_type.{new}"), "reason": reason}))


def start_monitoring(ctx: StepContext, attrs: dict) -> None:
    clue = ctx.evidence.get("monitoring_clue")
    corrected = (ctx.data.get("monitoring_type") or {}).get("to")      # at this very step, else at the township's
    kind = corrected or identified_type(ctx.conn, ctx.case, ctx.app.config.labels, clue.fields if clue else None)[0]
    attrs["monitoring"] = {"type": kind or "unstable", "since": ctx.effective_date.isoformat()}
    ask_new_plan(ctx, attrs)      # a monitored household's assistance measures (帮扶措施) are planned anew


def end_monitoring(ctx: StepContext, attrs: dict) -> None:
    if (attrs.get(PLAN_NEEDED) or {}).get("after") == "monitoring":    # its risk gone: no measures to plan for it
        attrs.pop(PLAN_NEEDED)
    ended = attrs.pop("monitoring", None)
    attrs.setdefault("monitoring_history", []).append(
        {**(ended or {}), "risk_eliminated_on": ctx.effective_date.isoformat()})


def end_monitoring_identified(ctx: StepContext, attrs: dict) -> None:
    """An ordinary household identified as poor (纳入建档立卡): the monitoring it was under ends with
    the identification (its history says when and by which procedure); it is assisted as poor now."""
    ended = attrs.pop("monitoring", None)
    if ended:
        attrs.pop(PLAN_NEEDED, None)      # the assistance plan of the identified household follows
        attrs.setdefault("monitoring_history", []).append(
            {**ended, "ended_on": ctx.effective_date.isoformat(), "ended_by": ctx.procedure})


def record_removal(ctx: StepContext, attrs: dict) -> None:
    attrs["removed"] = {"procedure": ctx.procedure, "on": ctx.effective_date.isoformat()}
    attrs.pop(PLAN_NEEDED, None)
    case_id, day = ctx.case.id, ctx.effective_date

    def write(conn) -> None:
        conn.execute(_END_PAIRINGS, {"b_case": case_id, "end_date": day})
        # Its people are no longer members of a registered household (and may be registered anew).
        conn.execute(update(t.household_members).where(t.household_members.c.case_id == case_id,
                                                       t.household_members.c.active == true())
                     .values(active=False, left_reason=stored(
                         Msg("left_reason.household_removed", {"procedure": ctx.procedure}))))
    ctx.writes.append(write)


def record_reopening(ctx: StepContext, attrs: dict) -> None:
    """The household is back under assistance; its exit stays on record, and so does a monitoring it
    was under (it ends with the reopening: its history says when and by which procedure)."""
    attrs.setdefault("reopenings", []).append(
        {"procedure": ctx.procedure, "on": ctx.effective_date.isoformat(), "exited_on": attrs.get("exited_on")})
    attrs.pop("transition_until", None)
    ended = attrs.pop("monitoring", None)
    if ended:
        attrs.setdefault("monitoring_history", []).append(
            {**ended, "ended_on": ctx.effective_date.isoformat(), "ended_by": ctx.procedure})
    ask_new_plan(ctx, attrs)      # back to assisted: a new plan before it may be proposed for exit again
    if hasattr(ctx, "writes"):    # its pairing cadres hear of it (a problem item's reopening: tell_reopened)
        ctx.writes.append(lambda conn: tell_reopened(ctx.app, conn, ctx.case, ctx.actor, ctx.effective_date,
                                                     ctx.procedure_id, ctx.procedure))


def tell_reopened(app, conn, case, actor, day, procedure_id: int, procedure: str) -> None:
    """A household back under assistance (返贫, 错退): its pairing cadres in office hear of it at once
    (same transaction), since they make the new plan with the village."""
    cadres = [(p.person_id, p.kind) for p in conn.execute(_IN_FORCE, {"case_id": case.id})]
    told = SimpleNamespace(app=app, case=case, actor=actor, effective_date=day, procedure_id=procedure_id)
    _tell_paired(told, conn, cadres, reopened=procedure)


# A household reopened (返贫, 错退) or newly monitored needs a new assistance plan (一户一策, DOMAIN
# §3: assisted means a plan in force for it): `plan_revision` is what it needs next, its exit waits for
# it, and the rule `assistance_plan_again` (config/deadlines.yaml) gives it a due date.
PLAN_NEEDED = "new_plan_needed"
NEW_PLAN = "plan_revision"


PLAN_ADOPTED = "plan_adopted_on"     # the day the last plan was approved (adopt_plan)


def ask_new_plan(ctx, attrs: dict) -> None:
    attrs[PLAN_NEEDED] = {"after": ctx.procedure, "since": ctx.effective_date.isoformat()}


def unmarked_ask(stage: str, attrs: dict | None) -> dict | None:
    """The new plan a household reopened or monitored before the marker was kept (stop 46) was never
    asked for in its attributes: {after, since} of its last reopening (assisted since, not exited again)
    or of the monitoring it is under (consolidated), unless a plan was approved since as far as the
    attributes know (`plan_adopted_on`); None when there is none to ask. Whether an earlier plan answered
    it is for `plan_asked` to look up."""
    attrs = attrs or {}
    if attrs.get(PLAN_NEEDED):
        return None
    reopened = (attrs.get("reopenings") or [None])[-1]
    monitored = attrs.get("monitoring")
    if stage == "assisted" and isinstance(reopened, dict) and reopened.get("on") \
            and str(attrs.get("exited_on") or "") <= str(reopened["on"]):
        asked = {"after": reopened.get("procedure") or "reopen_wrong_exit", "since": str(reopened["on"])}
    elif stage == "consolidated" and isinstance(monitored, dict) and monitored.get("since"):
        asked = {"after": "monitoring", "since": str(monitored["since"])}
    else:
        return None
    return None if str(attrs.get(PLAN_ADOPTED) or "") >= asked["since"] else asked


_PLANS_APPROVED = (select(func.max(t.steps.c.effective_date))
                   .select_from(t.steps.join(t.procedures, t.procedures.c.id == t.steps.c.procedure_id))
                   .where(t.procedures.c.case_id == bindparam("b_case"), t.procedures.c.status == "completed",
                          t.procedures.c.kind.in_(("assistance", NEW_PLAN)), t.steps.c.step_key == "plan_approval",
                          t.steps.c.voided_at.is_(None)))


def plan_asked(case, conn=None) -> dict | None:
    """The new plan the household waits for ({after, since}): its marker; or, reopened or monitored
    before the marker was kept (unmarked_ask), with no plan approved on that day or since (looked up on
    `conn`, through the procedures' (case, status) index; without `conn`, the marker alone)."""
    attrs = case.attrs or {}
    if attrs.get(PLAN_NEEDED):
        return attrs[PLAN_NEEDED]
    asked = unmarked_ask(case.stage, attrs) if conn is not None else None
    if asked is None:
        return None
    approved = conn.execute(_PLANS_APPROVED, {"b_case": case.id}).scalar()
    return None if approved is not None and str(approved)[:10] >= asked["since"] else asked


def figures(app, conn, case, lang: str = "zh", as_of: date | None = None) -> dict[str, Any]:
    """What `case next` and the case page say besides the next step: a household assisted or later with
    no first pairing cadre in office (imported without one, or their cadre left), and what to do; an
    assisted household whose registry planned its exit for a year (计划脱贫年度), that year, and whether its
    exit's proposal is on the lists of work yet (from that year on)."""
    said: dict[str, Any] = {}
    planned = (case.attrs or {}).get(PLANNED_EXIT_YEAR)
    if case.stage == "assisted" and planned:
        year = (as_of or app.clock.today()).year
        said["planned_exit_year"] = planned
        said.setdefault("lines", []).append(render_value(app.config, "why", Msg(
            "exit.planned_due" if int(planned) <= year else "exit.planned_later", {"year": planned}), lang))
    if case.stage not in PAIRED_STAGES or any(
            p.kind == "first" for p in conn.execute(_IN_FORCE, {"case_id": case.id})):
        return said
    why = Msg("pairing.none_in_force", {"case": case.id, "stage": case.stage})
    return {**said, "no_first_cadre": True, "lines": [render_value(app.config, "why", why, lang), *said.get("lines", [])]}


def needs(case, conn=None) -> tuple[str, Msg] | None:
    """The new plan a reopened or newly monitored household needs before anything else, and why."""
    asked = plan_asked(case, conn) if case.stage in ("assisted", "exited", "consolidated") else None
    if not asked:
        return None
    after = asked.get("after", "")
    return NEW_PLAN, Msg("plan_again.why_monitored" if after == "monitoring" else "plan_again.why",
                         {"procedure": after, "since": asked.get("since", "-")})


def new_plan_adopted(ctx: StepContext) -> list:
    """A household reopened proposed for exit only once a new plan for it is approved."""
    asked = plan_asked(ctx.case, ctx.conn)
    if asked:
        return [("new_plan_needed", {"procedure": asked.get("after", ""), "since": asked.get("since", "-")})]
    return []


_UPHELD = (select(t.objections.c.id, t.objections.c.resolved_at, t.objections.c.resolved_on,
                  t.objections.c.resolution_reason)
           .join(t.notices, t.notices.c.id == t.objections.c.notice_id)
           .where(t.objections.c.case_id == bindparam("b_case"), t.objections.c.resolution == "upheld",
                  t.notices.c.procedure_kind == bindparam("b_kind"))
           .order_by(t.objections.c.resolved_at.desc()).limit(1))
_CHECKED_SINCE = (select(t.evidence.c.id).where(
    t.evidence.c.case_id == bindparam("b_case"), t.evidence.c.type.in_(bindparam("b_types", expanding=True)),
    t.evidence.c.attached_at > bindparam("b_since")).limit(1))


def objection_answered(ctx: StepContext) -> list:
    """A household whose last such procedure ended on an objection upheld (the township found the
    village's facts wrong) is proposed again only on facts checked afresh: at least one of the step's
    items (income, 两不愁, housing, water) recorded after the ruling. Which fact the objection was about
    is the ruling's words, not a field: any one item checked again is asked for, and the refusal says
    the ruling's day and reason so the village knows what to check."""
    upheld = ctx.conn.execute(_UPHELD, {"b_case": ctx.case.id, "b_kind": ctx.procedure}).first()
    if upheld is None or not ctx.step.evidence:
        return []
    if ctx.conn.execute(_CHECKED_SINCE, {"b_case": ctx.case.id, "b_types": list(ctx.step.evidence),
                                         "b_since": upheld.resolved_at}).first() is not None:
        return []
    day = ruled_on(ctx.app.config, upheld)
    return [("objection_unanswered", {"objection": upheld.id, "date": day.isoformat() if day else "-",
                                      "reason": (upheld.resolution_reason or "-")[:100],
                                      "types": Codes("evidence", tuple(ctx.step.evidence))})]


# The latest ended procedure of the kind and, if a step rejected it, that step (its last not voided).
_LAST_ENDED = (select(t.procedures.c.status, t.steps.c.step_key, t.steps.c.role, t.steps.c.role_region,
                      t.steps.c.reason, t.steps.c.effective_date, t.steps.c.recorded_at)
               .select_from(t.procedures)
               .outerjoin(t.steps, and_(t.steps.c.procedure_id == t.procedures.c.id, t.steps.c.decision == "rejected",
                                        t.steps.c.voided_at.is_(None)))
               .where(t.procedures.c.case_id == bindparam("b_case"), t.procedures.c.kind == bindparam("b_kind"),
                      t.procedures.c.status != "open")
               .order_by(t.procedures.c.id.desc(), t.steps.c.id.desc()).limit(1))


def rejection_answered(ctx: StepContext) -> list:
    """A household whose last such procedure a township's or county's step rejected (the county: 收入不实)
    is proposed again only on facts checked afresh, as after an objection upheld: at least one of the
    step's items (income, 两不愁, housing, water) recorded after the rejection. The rejection's words say
    which fact it doubted, not a field: any one item checked again is asked for, and the refusal says
    who rejected it, when and why, so that `case next`, the village's list and its work show it. A
    village's own step that rejected (its vote) asks for nothing more: the village decides again."""
    last = ctx.conn.execute(_LAST_ENDED, {"b_case": ctx.case.id, "b_kind": ctx.procedure}).first()
    if (last is None or last.status != "rejected" or last.step_key is None or not ctx.step.evidence
            or last.role_region == ctx.case.region_code):
        return []
    if ctx.conn.execute(_CHECKED_SINCE, {"b_case": ctx.case.id, "b_types": list(ctx.step.evidence),
                                         "b_since": last.recorded_at}).first() is not None:
        return []
    return [("rejection_unanswered", {"step": last.step_key, "role": last.role,
                                      "date": last.effective_date.isoformat(), "reason": (last.reason or "-")[:100],
                                      "types": Codes("evidence", tuple(ctx.step.evidence))})]


def evidence_on_file(ctx: StepContext) -> list:
    """The step's evidence of a type that needs its file (a wrong inclusion's written finding) has one: an
    item attached before its type needed it, a typed reason alone, is to be replaced with its scan."""
    types = ctx.app.config.workflows[ctx.case.kind].evidence_types
    bare = tuple(e for e in ctx.step.evidence if e in types and types[e].file
                 and (row := ctx.evidence.get(e)) is not None and not row.file_sha256)
    return [("evidence_without_file", {"types": Codes("evidence", bare)})] if bare else []


def offered(case, procedure: str, conn=None) -> bool:
    """Monitoring is offered to a household not monitored, risk elimination to one that is; the exit
    is not offered while a new plan is needed."""
    monitored = bool((case.attrs or {}).get("monitoring"))
    if procedure == "exit" and plan_asked(case, conn):
        return False
    return {"monitoring": not monitored, "risk_elimination": monitored}.get(procedure, True)


RULES = WorkflowRules(
    checks={"identification_standard": identification_standard, "exit_standard": exit_standard,
            "exit_still_current": exit_still_current, "rejection_answered": rejection_answered,
            "income_current": income_current, "causes_given": causes_given,
            "returned_to_poverty": returned_to_poverty, "risk_eliminated": risk_eliminated,
            "assistance_ready": assistance_ready, "pairing_kept": pairing_kept,
            "monitoring_clue_valid": monitoring_clue_valid, "own_pairing_cadre": own_pairing_cadre,
            "monitoring_measured": monitoring_measured, "new_plan_adopted": new_plan_adopted,
            "risk_elimination_ready": risk_elimination_ready,
            "objection_answered": objection_answered, "evidence_on_file": evidence_on_file},
    who_checks=frozenset({"own_pairing_cadre"}),
    evidence_free=frozenset({"exit_still_current"}),
    handlers={"pairing": pair_cadres, "plan": record_plan, "signoff": correct_monitoring_type},
    effects={"record_assistance": record_assistance, "adopt_plan": adopt_plan, "record_exit": record_exit,
             "start_transition_period": start_transition_period,
             "start_monitoring": start_monitoring, "end_monitoring": end_monitoring,
             "end_monitoring_identified": end_monitoring_identified,
             "record_removal": record_removal, "record_reopening": record_reopening},
    offered=offered,
    needs=needs,
    figures=figures,
    # the income check an application comes with (收支核查表) is no income computation (收入核算明细表)
    not_instead={"income_assessment": ("income_check", "evidence.income_check_is_not_assessment")},
    fact_failures=exit_fact_failures,
    decides=decides,
)
