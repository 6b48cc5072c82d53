"""Poor villages (贫困村): registration, population, resident work team, and the checks of village.yaml.

A village case lives on its village's region code, one per village. Its exit is gated by live
household data: the poverty incidence is computed from the village's household cases at the moment
of every check (engine/indicators.py), so a household reopened after a wrong exit puts the village
back above the threshold at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any, NamedTuple, Sequence

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.services.case_actions import append_case_event
from engine.domain.errors import BadInput, Codes, RuleViolation, joined, translator
from engine.reads.indicators import (Coverage, coverage_target, industry_coverage, percent, poor_households, share,
                               village_incidence)
from engine.services.org import persons_holding, require_role
from engine.domain.cases import CaseRow
from engine.services.context import StepContext, WorkflowRules
from engine.adapters.repository import load_cases
from engine.services.procedures import pending_for_stage
from engine.domain.regions import level_of
from engine.adapters.one_of import one_of
from .household_steps import record_assistance, record_exit, start_transition_period

# The village applies (村两委); the township or the county poverty office may register it for them.
REGISTRAR_ROLES = ("village_secretary", "village_director", "township_staff", "township_head",
                   "county_office_staff", "county_office_director")
# Who dispatches and rotates resident work teams (驻村工作领导小组: organisation department, poverty
# office, township Party committee).
TEAM_APPOINTERS = ("organisation_officer", "county_office_director", "township_secretary")
# A team role (village_team.role) and the posts over the village that may fill it.
TEAM_POSTS = {
    "first_secretary": ("first_secretary",),
    "leader": ("resident_team_leader", "first_secretary"),
    "member": ("resident_team_member", "resident_team_leader", "first_secretary"),
}
BLOCKING_LIST_LIMIT = 20      # households `case next` names; the rest are counted


# --- registration and population ----------------------------------------------------------------

_REGION_NAME = select(t.regions.c.name).where(t.regions.c.code == bindparam("code"))
_VILLAGE_CASE = select(t.cases.c.id).where(t.cases.c.kind == "village", t.cases.c.region_code == bindparam("code"))


def _population(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadInput("village.bad_population", value=value)
    return value


def _figure_year(app: App, year: int | None) -> int:
    today = app.clock.today()
    year = today.year if year is None else int(year)
    if year > today.year or year < 1949:
        raise BadInput("village.bad_year", year=year, today=today)
    return year


def register_village(app: App, actor: Actor, village: str, population: int, year: int | None = None) -> int:
    """Open a village case (stage `candidate`) with its rural registered population; returns its id."""
    if level_of(village) != "village":
        raise BadInput("household.not_village", region=village)
    population = _population(population)
    year = _figure_year(app, year)
    assignment = require_role(app, actor, REGISTRAR_ROLES, village, "village add")
    workflow = app.config.workflows["village"]
    pending = pending_for_stage(workflow, workflow.initial)
    now = app.clock.now()
    try:
        with app.transaction() as conn:
            name = conn.execute(_REGION_NAME, {"code": village}).scalar()
            if name is None:
                raise BadInput("region.unknown", code=village)
            existing = conn.execute(_VILLAGE_CASE, {"code": village}).scalar()
            if existing is not None:
                raise RuleViolation("village.exists", region=village, case=existing)
            attrs = {"population": population, "population_year": year}
            case_id = conn.execute(insert(t.cases), {
                "kind": "village", "region_code": village, "title": name, "stage": workflow.initial, "version": 1,
                "workflow_version": workflow.version, "attrs": attrs, "created_at": now, "updated_at": now,
                "event_count": 0, "last_event_hash": None, "open_procedure_id": None,
                "pending_procedure": pending[0], "pending_step": pending[1]}).inserted_primary_key[0]
            case = CaseRow(case_id, "village", village, name, workflow.initial, 1, attrs, 0, None)
            append_case_event(app, conn, actor, case, "case_registered", assignment.role, population=population,
                              population_year=year)
            return case_id
    except IntegrityError:   # registered by someone else at the same moment (unique index on the region)
        raise RuleViolation("village.exists", region=village, case="?") from None


def _village_case(conn, case_id: int) -> CaseRow:
    case = load_cases(conn, [case_id])[case_id]
    if case.kind != "village":
        raise BadInput("village.not_village_case", case=case_id)
    return case


def update_population(app: App, actor: Actor, case_id: int, population: int, reason: str,
                      year: int | None = None) -> None:
    """Correct or update the village's registered population; the audit event keeps the old value.

    No sign-off is voided: every exit check reads the population at its own moment and records it.
    """
    population = _population(population)
    year = _figure_year(app, year)
    if not (reason and reason.strip()):
        raise BadInput("village.reason_required")
    with app.transaction() as conn:
        case = _village_case(conn, case_id)
        assignment = require_role(app, actor, REGISTRAR_ROLES, case.region_code, "village population")
        old = {"population": case.attrs.get("population"), "population_year": case.attrs.get("population_year")}
        case.attrs.update(population=population, population_year=year)
        conn.execute(update(t.cases).where(t.cases.c.id == case_id).values(attrs=case.attrs))
        append_case_event(app, conn, actor, case, "population_updated", assignment.role, reason=reason.strip(),
                          old=old, new={"population": population, "population_year": year})


# --- the resident work team (驻村工作队) ---------------------------------------------------------

@dataclass(frozen=True)
class TeamMemberInput:
    person: str          # person code
    role: str            # first_secretary, leader, member
    unit: str = ""       # the dispatching unit (派出单位); needed for a member joining


_CURRENT_TEAM = (
    select(t.village_team.c.id, t.village_team.c.person_id, t.village_team.c.role, t.village_team.c.unit,
           t.village_team.c.start_date, t.village_team.c.end_date, t.persons.c.code, t.persons.c.name)
    .join(t.persons, t.persons.c.id == t.village_team.c.person_id)
    .where(t.village_team.c.case_id == bindparam("case_id"), t.village_team.c.left_on.is_(None))
    .order_by(t.village_team.c.id))
_ON_OTHER_TEAMS = select(t.village_team.c.person_id, t.village_team.c.case_id).where(
    one_of(t.village_team.c.person_id), t.village_team.c.left_on.is_(None),
    t.village_team.c.case_id != bindparam("case_id"))
_PERSONS = select(t.persons.c.id, t.persons.c.code, t.persons.c.name, t.persons.c.active).where(
    t.persons.c.code.in_(bindparam("codes", expanding=True)))


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:       # 29 February
        return day.replace(year=day.year + years, day=28) + timedelta(days=1)


def current_team(conn, case_id: int, on: date | None = None) -> list:
    """The team members in post (not left); with `on`, only those whose term covers that day."""
    rows = conn.execute(_CURRENT_TEAM, {"case_id": case_id}).all()
    return [r for r in rows if on is None or r.start_date <= on <= r.end_date]


def _composition(params: dict, roles: list[str]) -> None:
    """A team of at least N people with exactly one first secretary and at most one leader [NAT 2017]."""
    minimum = int(params["village_team_min_members"])
    if len(roles) < minimum:
        raise RuleViolation("village.team_too_small", count=len(roles), minimum=minimum)
    if roles.count("first_secretary") != 1:
        raise RuleViolation("village.team_first_secretary", count=roles.count("first_secretary"))
    if roles.count("leader") > 1:
        raise RuleViolation("village.team_two_leaders", count=roles.count("leader"))


def set_team(app: App, actor: Actor, case_id: int, members: Sequence[TeamMemberInput], start: date, end: date,
             reason: str | None = None) -> dict[str, list]:
    """Put the village's resident work team in place, or rotate it (召回调整): `members` is the whole team
    from `start`. Members already in post in the same role keep their term; new ones serve from `start`
    to `end` (at least the configured years); those not listed leave on `start`. All or nothing."""
    wanted = _wanted_team(members)
    _not_in_future(app, start)
    now = app.clock.now()
    with app.transaction() as conn:
        case = _team_case(conn, case_id)
        assignment = require_role(app, actor, TEAM_APPOINTERS, case.region_code, "village team")
        params = app.config.policy.params(case.province, start.year)
        people = _team_people(conn, case, wanted)
        change = _team_change(conn, case_id, wanted, start)
        _check_team_change(params, wanted, change, start, end)
        _write_team(conn, case_id, people, change, _TeamTerm(start, end, actor.person_id, now))
        summary = _team_summary(wanted, change, start, end)
        append_case_event(app, conn, actor, case, "team_set", assignment.role,
                          reason=(reason or "").strip() or None, **summary)
        return summary


class _TeamChange(NamedTuple):
    joining: list            # TeamMemberInput of those who join
    leaving: list            # rows of current_team who leave


class _TeamTerm(NamedTuple):
    start: date
    end: date
    assigned_by: int
    assigned_at: datetime


def _wanted_team(members: Sequence[TeamMemberInput]) -> dict[str, TeamMemberInput]:
    """The team as asked for, by person code: known roles, each person once."""
    if not members:
        raise BadInput("village.team_empty")
    wanted: dict[str, TeamMemberInput] = {}
    for m in members:
        if m.role not in TEAM_POSTS:
            raise BadInput("village.team_bad_role", role=m.role, known=Codes("team_role", tuple(TEAM_POSTS)))
        if m.person in wanted:
            raise BadInput("village.team_duplicate", person=m.person)
        wanted[m.person] = m
    return wanted


def _not_in_future(app: App, start: date) -> None:
    today = app.clock.today()
    if start > today:
        raise RuleViolation("date.future", date=start, today=today)


def _team_case(conn, case_id: int) -> CaseRow:
    case = _village_case(conn, case_id)
    if case.stage == "candidate":
        raise RuleViolation("village.team_stage", case=case_id, stage=case.stage, stage_kind=case.kind)
    return case


def _team_people(conn, case: CaseRow, wanted: dict[str, TeamMemberInput]) -> dict:
    """The persons asked for: known and active, holding a post for their team role, on no other team."""
    people = {r.code: r for r in conn.execute(_PERSONS, {"codes": list(wanted)})}
    for code in wanted:
        if code not in people or not people[code].active:
            raise BadInput("person.unknown", code=code)
    for code, m in wanted.items():
        _holds_team_post(conn, case, code, m.role)
    elsewhere = conn.execute(_ON_OTHER_TEAMS, {"ids": [p.id for p in people.values()], "case_id": case.id}).first()
    if elsewhere is not None:
        code = next(c for c, p in people.items() if p.id == elsewhere.person_id)
        raise RuleViolation("village.team_elsewhere", person=code, case=elsewhere.case_id)
    return people


def _holds_team_post(conn, case: CaseRow, code: str, role: str) -> None:
    if code not in persons_holding(conn, [code], TEAM_POSTS[role], case.region_code):
        raise RuleViolation("village.team_post", person=code, role=role, region=case.region_code,
                            posts=", ".join(TEAM_POSTS[role]))


def _team_change(conn, case_id: int, wanted: dict[str, TeamMemberInput], start: date) -> _TeamChange:
    """Who joins and who leaves: those in post in the same role stay (and keep their term); one whose
    term ended before `start` leaves, and listed again serves a new term (a team renewed: it was
    'unchanged', and the village without a team in post)."""
    current = current_team(conn, case_id)
    staying = [r for r in current if r.code in wanted and wanted[r.code].role == r.role and r.end_date >= start]
    leaving = [r for r in current if r not in staying]
    joining = [m for code, m in wanted.items() if not any(r.code == code for r in staying)]
    if not joining and not leaving:
        raise BadInput("village.team_unchanged", case=case_id)
    return _TeamChange(joining, leaving)


def _check_team_change(params: dict, wanted: dict[str, TeamMemberInput], change: _TeamChange, start: date,
                       end: date) -> None:
    _composition(params, [m.role for m in wanted.values()])
    years = int(params["village_team_min_term_years"])
    if change.joining and end < years_after(start, years):
        raise RuleViolation("village.team_term_short", start=start, end=end, years=years)
    for m in change.joining:
        if not m.unit.strip():
            raise BadInput("village.team_no_unit", person=m.person)
    for r in change.leaving:
        if start < r.start_date:
            raise RuleViolation("village.team_date_order", person=r.code, date=start, since=r.start_date)


def _write_team(conn, case_id: int, people: dict, change: _TeamChange, term: _TeamTerm) -> None:
    if change.leaving:
        conn.execute(update(t.village_team).where(t.village_team.c.id.in_([r.id for r in change.leaving]))
                     .values(left_on=term.start))
    if change.joining:
        conn.execute(insert(t.village_team), [
            {"case_id": case_id, "person_id": people[m.person].id, "role": m.role, "unit": m.unit.strip(),
             "start_date": term.start, "end_date": term.end, "left_on": None, "assigned_by": term.assigned_by,
             "assigned_at": term.assigned_at} for m in change.joining])


def _team_summary(wanted: dict[str, TeamMemberInput], change: _TeamChange, start: date, end: date) -> dict[str, list]:
    return {"joined": [[m.person, m.role, m.unit.strip(), start.isoformat(), end.isoformat()] for m in change.joining],
            "left": [[r.code, r.role, start.isoformat()] for r in change.leaving],
            "team": [[code, m.role] for code, m in wanted.items()]}


# --- checks ------------------------------------------------------------------------------------

def _year_failures(code: str, year: int, day: date) -> list:
    """Figures must be of the decision's year or the one before."""
    if year not in (day.year, day.year - 1):
        return [(code, {"year": year, "date": day.isoformat()})]
    return []


def _province_source(ctx: StepContext) -> str:
    """Where the parameters came from, as a code: `defaults:2019` or `province:36:江西[:west]:2019`."""
    prov = ctx.app.config.policy.data.provinces.get(ctx.case.province)
    year = ctx.effective_date.year
    if prov is None:
        return f"defaults:{year}"
    return f"province:{ctx.case.province}:{prov.name}{':west' if prov.west else ''}:{year}"


def village_identification_standard(ctx: StepContext) -> list:
    """一高一低一无 [NAT]: incidence at least N times the province's, farmers' income under a share of the
    province's, no collective income (multiples and shares: policy village_identification_criteria)."""
    profile = ctx.evidence.get("village_profile")
    if profile is None:
        return []
    f, criteria = profile.fields, ctx.params["village_identification_criteria"]
    population = ctx.case.attrs.get("population")
    failures = _year_failures("village_profile_year", f["year"], ctx.effective_date)
    if not 0 < f["provincial_incidence"] < 1:
        return failures + [("village_bad_share", {"field": "provincial_incidence", "value": f["provincial_incidence"]})]
    if f["poor_persons"] > population:
        return failures + [("village_poor_over_population",
                            {"poor_persons": f["poor_persons"], "population": population})]
    rate = Fraction(f["poor_persons"], population)
    required = share(criteria["incidence_multiple"]) * share(f["provincial_incidence"])
    income_max = share(criteria["income_share_max"]) * share(f["provincial_income"])
    ctx.data["identification_check"] = {
        "incidence_pct": percent(rate), "required_pct": percent(required), "income_max": float(income_max),
        "population": population, "criteria": dict(criteria), "source": _province_source(ctx)}
    if rate < required:
        failures.append(("village_incidence_not_high", {
            "incidence": percent(rate), "poor_persons": f["poor_persons"], "population": population,
            "multiple": criteria["incidence_multiple"], "provincial": percent(share(f["provincial_incidence"])),
            "required": percent(required)}))
    if share(f["per_capita_income"]) >= income_max:
        failures.append(("village_income_not_low", {
            "income": f["per_capita_income"], "provincial": f["provincial_income"],
            "share": percent(share(criteria["income_share_max"]), 0), "maximum": round(float(income_max), 2)}))
    if f["collective_income"] > criteria["collective_income_max"]:
        failures.append(("village_has_collective_income", {"income": f["collective_income"],
                                                           "maximum": criteria["collective_income_max"]}))
    return failures


def incidence_now(ctx: StepContext):
    return village_incidence(ctx.conn, ctx.case.region_code, ctx.case.attrs.get("population"),
                             ctx.params["village_incidence_threshold"])


def village_exit_standard(ctx: StepContext) -> list:
    """Incidence below the threshold of the village's province and year, from the live household cases;
    the LOCAL checklist at or above the configured minimums (policy village_exit_minimums)."""
    incidence = incidence_now(ctx)
    ctx.data["incidence_check"] = {**incidence.to_dict(), "source": _province_source(ctx)}
    failures = []
    if not incidence.population:
        failures.append(("village_no_population", {}))
    elif not incidence.below:
        failures.append(("village_incidence_not_below", {
            "incidence": percent(incidence.rate), "threshold": percent(incidence.threshold),
            "poor_persons": incidence.poor_persons, "households": incidence.households,
            "population": incidence.population, "persons_to_exit": incidence.persons_to_exit}))
    checklist = ctx.evidence.get("village_exit_checklist")
    if checklist is not None:
        failures += _checklist_failures(ctx, checklist.fields)
    return failures


def _checklist_failures(ctx: StepContext, f: dict) -> list:
    """The checklist against the minimums, in the checklist's order."""
    minimums = ctx.params["village_exit_minimums"]
    ctx.data["checklist_check"] = {"minimums": dict(minimums), "source": _province_source(ctx)}
    failures = _year_failures("village_checklist_year", f["year"], ctx.effective_date)
    if f["collective_income"] < minimums["collective_income"]:
        failures.append(("village_collective_income", {"income": f["collective_income"],
                                                       "minimum": minimums["collective_income"]}))
    failures += [(f"village_{item}", {}) for item in ("road", "drinking_water") if minimums[item] and not f[item]]
    if not 0 <= f["electricity"] <= 1:
        failures.append(("village_bad_share", {"field": "electricity", "value": f["electricity"]}))
    elif share(f["electricity"]) < share(minimums["electricity"]):
        failures.append(("village_electricity", {"share": percent(share(f["electricity"])),
                                                 "minimum": percent(share(minimums["electricity"]))}))
    if minimums["clinic"] and not f["clinic"]:
        failures.append(("village_clinic", {}))
    return failures


def team_in_place(ctx: StepContext) -> list:
    """A resident work team in post on the step's date: at least N members, one a first secretary."""
    team = current_team(ctx.conn, ctx.case.id, ctx.effective_date)
    minimum = int(ctx.params["village_team_min_members"])
    ctx.data["team"] = [[r.code, r.role, r.end_date.isoformat()] for r in team]
    failures = []
    if len(team) < minimum:
        failures.append(("village_team_too_small", {"count": len(team), "minimum": minimum}))
    if not any(r.role == "first_secretary" for r in team):
        failures.append(("village_team_no_first_secretary", {}))
    return failures


RULES_CHECKS = {"village_identification_standard": village_identification_standard,
                "village_exit_standard": village_exit_standard, "team_in_place": team_in_place}


# --- what `case next` shows besides the next step ----------------------------------------------

def coverage_of_village(app: App, conn, village: str, year: int) -> Coverage:
    rows = industry_coverage(conn, [village], lambda code: coverage_target(
        app.config.policy.params(code[:2], year).get("industry_coverage_target"), year))
    found = [r for r in rows if r.level == "village"]
    if found:
        return found[0]
    target = coverage_target(app.config.policy.params(village[:2], year).get("industry_coverage_target"), year)
    return Coverage(village, "village", 0, 0, *target)


def figures(app: App, conn, case: CaseRow, lang: str = "zh", as_of: date | None = None) -> dict[str, Any]:
    """Incidence against the threshold with the households keeping the village from exiting (at most
    BLOCKING_LIST_LIMIT named, the rest counted), the team in post, and industry coverage against its
    target; computed now, and said in words (`lines`)."""
    L = translator(app.config, lang)
    today = as_of or app.clock.today()
    params = app.config.policy.params(case.province, today.year)
    incidence = village_incidence(conn, case.region_code, case.attrs.get("population"),
                                  params["village_incidence_threshold"])
    blocking = [] if incidence.below or not incidence.poor_persons else \
        poor_households(conn, case.region_code, BLOCKING_LIST_LIMIT)
    posted = current_team(conn, case.id)
    team = [r for r in posted if r.start_date <= today <= r.end_date]
    coverage = coverage_of_village(app, conn, case.region_code, today.year)
    lines = (_incidence_lines(app, L, case, incidence, blocking, lang) + [_team_line(app, L, team, posted, today, lang)]
             + [_coverage_line(L, coverage, today.year)])
    return {"incidence": {**incidence.to_dict(), "blocking_households": blocking,
                          "households_not_listed": incidence.households - len(blocking) if blocking else 0},
            "team": [{"person": r.code, "name": r.name, "role": r.role, "unit": r.unit,
                      "start": r.start_date.isoformat(), "end": r.end_date.isoformat()} for r in team],
            "coverage": coverage.to_dict(), "lines": lines}


def _incidence_lines(app: App, L, case: CaseRow, incidence, blocking: list[dict], lang: str) -> list[str]:
    if not incidence.population:
        return [L("figure.no_population")]
    inc = incidence.to_dict()
    lines = [L("figure.incidence", incidence=inc["incidence_pct"], poor_persons=incidence.poor_persons,
               households=incidence.households, population=incidence.population, threshold=inc["threshold_pct"])]
    if not blocking:
        return lines + [L("figure.below")] if incidence.below else lines
    if case.stage in ("exited", "consolidated"):
        lines.append(L("figure.back_above", incidence=inc["incidence_pct"], threshold=inc["threshold_pct"]))
    lines.append(L("figure.blocking", persons_to_exit=incidence.persons_to_exit))
    lines += ["  " + L("figure.household", case=h["case"], head=h["head"], persons=h["persons"],
                       stage=app.config.label("stage." + h["stage"], lang)) for h in blocking]
    rest = incidence.households - len(blocking)
    if rest > 0:
        lines.append("  " + L("figure.more", count=rest,
                              persons=incidence.poor_persons - sum(h["persons"] for h in blocking)))
    return lines


def _team_line(app: App, L, team: list, posted: list, today: date, lang: str) -> str:
    if not team:        # a team whose terms all ended is no team "yet": said with the day they ended
        ended = [r.end_date for r in posted if r.end_date < today]
        return L("figure.team_ended", end=max(ended).isoformat()) if ended else L("figure.no_team")
    return L("figure.team", count=len(team), members=joined((
        L("figure.team_member", name=r.name, code=r.code, role=app.config.label("team_role." + r.role, lang),
          end=r.end_date.isoformat()) for r in team), lang))


def _coverage_line(L, coverage: Coverage, year: int) -> str:
    cov = coverage.to_dict()
    base = dict(coverage=cov["coverage_pct"] or 0, covered=coverage.covered, households=coverage.households)
    if coverage.target is None:
        return L("figure.coverage_no_target", year=year, **base)
    if coverage.households_short:
        return L("figure.coverage_gap", year=coverage.target_year, target=cov["target_pct"], gap=cov["gap_points"],
                 short=coverage.households_short, **base)
    return L("figure.coverage_met", year=coverage.target_year, target=cov["target_pct"], **base)


RULES = WorkflowRules(
    checks=RULES_CHECKS,
    handlers={},
    effects={"record_assistance": record_assistance, "record_exit": record_exit,
             "start_transition_period": start_transition_period},
    figures=figures,
)
