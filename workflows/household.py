"""Households (贫困户): registration, members, and the policy checks named in household.yaml.

Each check reads the structured evidence and member data of the case and returns the list of
unmet conditions (empty when the standard is met), so `case next` can show the same reasons.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterator, Sequence

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from config import Policy
from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.services.case_actions import append_case_event, void_signed_steps
from engine.domain.errors import BadInput, Codes, Msg, RuleViolation, stored
from engine.services.org import persons_holding, require_role
from engine.services.procedures import CaseRow, StepContext, WorkflowRules, pending_for_stage
from engine.domain.regions import level_of
from .household_codes import (CAUSES, HEALTH, HOUSEHOLD_TYPES, HOUSING_GRADES, LABEL_PREFIX, LABOUR, MEASURES,
                              MONITORING_TYPES, RELATIONS, SCHOOL, WORKING_LABOUR, code_of, id_problem)

REGISTRAR_ROLES = ("village_secretary", "village_director", "first_secretary", "resident_team_leader",
                   "resident_team_member", "township_staff")


@dataclass
class MemberInput:
    name: str
    id_number: str
    relation: str = "head"
    labour_ability: str = "normal"
    health: str = "healthy"
    school_enrolment: str = "none"
    insured_basic: bool = True
    insured_critical: bool = True
    phone: str | None = None             # contact details: for cadres only, never on a notice
    bank_account: str | None = None


PHONE_CHARS, ACCOUNT_CHARS = set("0123456789+- "), set("0123456789 ")


def age_on(id_number: str, day: date) -> int:
    born = ric.get_birth_date(id_number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _member_row(m: MemberInput, index: int) -> dict[str, Any]:
    where = Msg("where.member", {"index": index, "name": m.name or "?"})
    if not m.name or not m.name.strip():
        raise BadInput("member.no_name", member=index)
    try:
        id_number = ric.validate(m.id_number)
    except ValidationError as exc:
        raise BadInput("member.bad_id", member=where, id=m.id_number, problem=id_problem(exc, m.id_number)) from None
    fields = {}
    for field, codes in (("relation", RELATIONS), ("labour_ability", LABOUR), ("health", HEALTH),
                         ("school_enrolment", SCHOOL)):
        code = code_of(getattr(m, field), codes)
        if code is None:
            raise BadInput("member.bad_code", member=where, field=field, value=getattr(m, field),
                           known=Codes(LABEL_PREFIX[field], tuple(codes)))
        fields[field] = code
    phone, account = (m.phone or "").strip() or None, (m.bank_account or "").strip() or None
    if phone and not (set(phone) <= PHONE_CHARS and 7 <= sum(c.isdigit() for c in phone) <= 15):
        raise BadInput("member.bad_phone", member=where, value=phone)
    if account and not (set(account) <= ACCOUNT_CHARS and 8 <= sum(c.isdigit() for c in account) <= 30):
        raise BadInput("member.bad_account", member=where)
    return {"name": m.name.strip(), "id_number": id_number, **fields,
            "insured_basic": bool(m.insured_basic), "insured_critical": bool(m.insured_critical),
            "phone": phone, "bank_account": account.replace(" ", "") if account else None, "active": True}


_REGION = select(t.regions.c.code).where(t.regions.c.code == bindparam("code"))
_REGISTERED_IDS = (select(t.household_members.c.id_number, t.household_members.c.case_id)
                   .join(t.cases, t.cases.c.id == t.household_members.c.case_id)
                   .where(t.household_members.c.id_number.in_(bindparam("ids", expanding=True)),
                          t.household_members.c.active.is_(True), t.cases.c.stage != "removed"))
_OPEN_PAIRINGS = select(t.pairings).where(t.pairings.c.case_id == bindparam("case_id"), t.pairings.c.end_date.is_(None))
_MEASURE_COUNT = select(func.count()).select_from(t.measures).where(t.measures.c.case_id == bindparam("case_id"))
_CADRE_LOAD = select(func.count()).select_from(t.pairings).where(
    t.pairings.c.person_id == bindparam("person"), t.pairings.c.kind == bindparam("kind"),
    t.pairings.c.end_date.is_(None), t.pairings.c.case_id != bindparam("case_id"))
_LOCK_PERSON = select(t.persons.c.id).where(t.persons.c.id == bindparam("id")).with_for_update()
_END_PAIRINGS = update(t.pairings).where(t.pairings.c.case_id == bindparam("b_case"), t.pairings.c.end_date.is_(None))


def _refuse_registered_ids(conn, id_numbers: Sequence[str], except_case: int | None = None) -> None:
    rows = conn.execute(_REGISTERED_IDS, {"ids": list(id_numbers)}).all()
    for r in rows:
        if r.case_id != except_case:
            raise RuleViolation("member.already_registered", id=r.id_number[:6] + "********" + r.id_number[-4:],
                                case=r.case_id)


@dataclass
class HouseholdInput:
    members: Sequence[MemberInput]
    causes: Sequence[str]
    household_type: str = "general"


def register_household(app: App, actor: Actor, village: str, members: Sequence[MemberInput],
                       causes: Sequence[str], household_type: str = "general") -> int:
    """Open a household case (stage `candidate`) with its members and causes of poverty."""
    return register_households(app, actor, village, [HouseholdInput(members, causes, household_type)])[0]


def register_households(app: App, actor: Actor, village: str, households: Sequence[HouseholdInput]) -> list[int]:
    """Register a village's households in one transaction (all or none); returns their case ids."""
    if level_of(village) != "village":
        raise BadInput("household.not_village", region=village)
    if not households:
        raise BadInput("household.no_members")
    checked = [_checked(h, n) for n, h in enumerate(households, start=1)]
    all_ids = [r["id_number"] for rows, _, _ in checked for r in rows]
    if len(set(all_ids)) != len(all_ids):
        raise BadInput("household.duplicate_member")
    assignment = require_role(app, actor, REGISTRAR_ROLES, village, "household add")
    workflow = app.config.workflows["household"]
    pending = pending_for_stage(workflow, workflow.initial)
    now = app.clock.now()
    case_ids = []
    with _one_household_per_person(), app.transaction() as conn:
        if conn.execute(_REGION, {"code": village}).first() is None:
            raise BadInput("region.unknown", code=village)
        _refuse_registered_ids(conn, all_ids)
        for rows, cause_codes, htype in checked:
            head = next(r for r in rows if r["relation"] == "head")
            attrs = {"causes": cause_codes, "household_type": htype}
            case_id = conn.execute(insert(t.cases), {
                "kind": "household", "region_code": village, "title": head["name"], "stage": workflow.initial,
                "version": 1, "workflow_version": workflow.version, "attrs": attrs, "created_at": now,
                "updated_at": now, "event_count": 0, "last_event_hash": None, "open_procedure_id": None,
                "pending_procedure": pending[0], "pending_step": pending[1]}).inserted_primary_key[0]
            conn.execute(insert(t.household_members), [{"case_id": case_id, **r} for r in rows])
            case = CaseRow(case_id, "household", village, head["name"], workflow.initial, 1, attrs, 0, None)
            append_case_event(app, conn, actor, case, "case_registered", assignment.role, members=len(rows),
                              causes=cause_codes, household_type=htype)
            case_ids.append(case_id)
    return case_ids


@contextmanager
def _one_household_per_person() -> Iterator[None]:
    """The unique index caught what the check before it could not see: a registration at the same time."""
    try:
        yield
    except IntegrityError as exc:
        if "id_number" not in str(exc.orig) and "uq_household_members_active_id" not in str(exc.orig):
            raise
        raise RuleViolation("member.registered_meanwhile") from None


def _checked(household: HouseholdInput, number: int) -> tuple[list[dict], list[str], str]:
    if not household.members:
        raise BadInput("household.no_members")
    rows = [_member_row(m, i) for i, m in enumerate(household.members, start=1)]
    if sum(1 for r in rows if r["relation"] == "head") != 1:
        raise BadInput("household.one_head")
    if len({r["id_number"] for r in rows}) != len(rows):
        raise BadInput("household.duplicate_member")
    cause_codes = []
    for c in household.causes:
        code = code_of(c, CAUSES)
        if code is None:
            raise BadInput("household.bad_cause", value=c, known=Codes("cause", tuple(CAUSES)))
        cause_codes.append(code)
    if not cause_codes:
        raise BadInput("household.no_cause")
    htype = code_of(household.household_type, HOUSEHOLD_TYPES)
    if htype is None:
        raise BadInput("household.bad_type", value=household.household_type, known=Codes("household_type", tuple(HOUSEHOLD_TYPES)))
    return rows, cause_codes, htype


# --- policy checks ---------------------------------------------------------------------------

def _per_capita(ctx: StepContext, evidence_type: str) -> tuple[float, int, int]:
    ev = ctx.evidence.get(evidence_type)
    if ev is None:
        raise RuleViolation("evidence.missing", case=ctx.case.id, step=ctx.step.key, types=evidence_type)
    members = len(ctx.members()) or 1
    year = int(ev.fields["year"])
    # The income must be the decision's year or the one before, so the line it is held to is that year's.
    if year not in (ctx.effective_date.year, ctx.effective_date.year - 1):
        raise RuleViolation("income.wrong_year", case=ctx.case.id, type=evidence_type, year=year,
                            date=ctx.effective_date)
    return float(ev.fields["net_income"]) / members, year, members


def _income(per_capita: float, members: int, year: int, line: float, source: str) -> dict[str, Any]:
    return {"per_capita": f"{per_capita:,.0f}", "members": members, "year": year, "line": f"{line:,.0f}",
            "source": Msg(*Policy.line_source(source))}


def _assurance_failures(ctx: StepContext) -> list[str]:
    """两不愁三保障 and safe drinking water, from evidence and member records."""
    failures = []
    ev = ctx.evidence
    two = ev.get("two_assurances")
    if two is not None:
        if not two.fields.get("food"):
            failures.append(("food", {}))
        if not two.fields.get("clothing"):
            failures.append(("clothing", {}))
    low, high = ctx.params["education_ages"]
    for m in ctx.members():
        age = age_on(m.id_number, ctx.effective_date)
        if low <= age <= high and m.school_enrolment not in ("enrolled", "exempt"):
            failures.append(("education", {"name": m.name, "age": age}))
        if not (m.insured_basic and m.insured_critical):
            failures.append(("medical", {"name": m.name}))
    housing = ev.get("housing_safety")
    if housing is not None:
        grade = str(housing.fields.get("grade", "")).upper()
        safe = grade in ("A", "B") or housing.fields.get("relocated_keys_handed") or (
            grade in ("C", "D") and housing.fields.get("renovated_accepted"))
        if grade not in HOUSING_GRADES and not housing.fields.get("relocated_keys_handed"):
            failures.append(("housing_grade", {"grade": grade}))
        elif not safe:
            failures.append(("housing_unsafe", {"grade": grade}))
    water = ev.get("drinking_water")
    if water is not None and not water.fields.get("safe"):
        failures.append(("water", {}))
    return failures


def identification_standard(ctx: StepContext) -> list[str]:
    per_capita, year, members = _per_capita(ctx, "income_check")
    line, source = ctx.income_line(year)
    ctx.data["income_check"] = {"per_capita": round(per_capita, 2), "line": line, "line_source": source}
    if per_capita >= line:
        return [("income_not_under", _income(per_capita, members, year, line, source))]
    return []


def exit_standard(ctx: StepContext) -> list[str]:
    per_capita, year, members = _per_capita(ctx, "income_assessment")
    line, source = ctx.income_line(year)
    ctx.data["exit_check"] = {"per_capita": round(per_capita, 2), "line": line, "line_source": source}
    failures = []
    if per_capita <= line:
        failures.append(("income_not_above", _income(per_capita, members, year, line, source)))
    return failures + _assurance_failures(ctx)


def returned_to_poverty(ctx: StepContext) -> list[str]:
    per_capita, year, members = _per_capita(ctx, "income_assessment")
    line, source = ctx.income_line(year)
    if per_capita >= line:
        return [("income_not_under", _income(per_capita, members, year, line, source))]
    return []


def risk_eliminated(ctx: StepContext) -> list[str]:
    failures = []
    if not ctx.case.attrs.get("monitoring"):
        failures.append(("not_monitored", {}))
    per_capita, year, _ = _per_capita(ctx, "income_assessment")
    line = ctx.app.config.policy.monitoring_line(year)
    if line is None:
        raise RuleViolation("policy.no_monitoring_line", year=year)
    if per_capita <= line:
        failures.append(("monitoring_line", {"per_capita": round(per_capita), "line": line, "year": year}))
    if not any(m.labour_ability in WORKING_LABOUR for m in ctx.members()):
        failures.append(("no_labour", {}))
    return failures


def _open_pairings(ctx: StepContext) -> list:
    return ctx.conn.execute(_OPEN_PAIRINGS, {"case_id": ctx.case.id}).all()


def assistance_ready(ctx: StepContext) -> list[str]:
    failures = []
    if not any(p.kind == "first" for p in _open_pairings(ctx)):
        failures.append(("no_first_cadre", {}))
    if not ctx.conn.execute(_MEASURE_COUNT, {"case_id": ctx.case.id}).scalar():
        failures.append(("no_measure", {}))
    return failures


def monitoring_clue_valid(ctx: StepContext) -> list[str]:
    clue = ctx.evidence.get("monitoring_clue")
    if clue is not None and code_of(clue.fields.get("monitoring_type", ""), MONITORING_TYPES) is None:
        return [("monitoring_type", {"value": clue.fields.get("monitoring_type"), "known": ", ".join(MONITORING_TYPES)})]
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
    if not any(p.kind == "first" for p in _open_pairings(ctx)):
        return [("no_pairing_kept", {})]
    return []


# --- step handlers ---------------------------------------------------------------------------

def pair_cadres(ctx: StepContext) -> None:
    inputs, params = ctx.inputs, ctx.params
    first, second = inputs.pairings.get(ctx.case.id, (inputs.first_cadre, inputs.second_cadre))
    if not first:
        raise BadInput("pairing.need_first", case=ctx.case.id)
    wanted = [("first", first)] + ([("second", second)] if second else [])
    if second == first:
        raise BadInput("pairing.same_person", person=first)
    holding = persons_holding(ctx.conn, [c for _, c in wanted], ["pairing_cadre"], ctx.case.region_code)
    limits = {"first": int(params["first_cadre_max_households"]),
              "second": int(params["second_cadre_max_households"])}
    for kind, code in wanted:
        if code not in holding:
            raise RuleViolation("pairing.not_cadre", case=ctx.case.id, person=code)
        pid = holding[code]
        # Pairings planned earlier in the same list count too: they are not written yet.
        planned = ctx.batch.setdefault(("pairing_load", pid, kind), 0)
        count = ctx.conn.execute(_CADRE_LOAD, {"person": pid, "kind": kind, "case_id": ctx.case.id}).scalar() + planned
        if count >= limits[kind]:
            raise RuleViolation("pairing.capacity", case=ctx.case.id, person=code, slot=kind, count=count,
                                maximum=limits[kind])
    for kind, code in wanted:
        ctx.batch[("pairing_load", holding[code], kind)] += 1
    case_id, day, actor_id = ctx.case.id, ctx.effective_date, ctx.actor.person_id

    def write(conn) -> None:
        conn.execute(_END_PAIRINGS, {"b_case": case_id, "end_date": day})
        conn.execute(insert(t.pairings), [
            {"case_id": case_id, "person_id": holding[code], "kind": kind, "start_date": day,
             "assigned_by": actor_id} for kind, code in wanted])
        # Checked again under the write lock (SQLite) or the cadre's row lock (PostgreSQL): a pairing
        # made at the same moment for another household cannot slip past the limit.
        for kind, code in wanted:
            conn.execute(_LOCK_PERSON, {"id": holding[code]}).first()
            load = conn.execute(_CADRE_LOAD, {"person": holding[code], "kind": kind, "case_id": -1}).scalar()
            if load > limits[kind]:
                raise RuleViolation("pairing.capacity", case=case_id, person=code, slot=kind, count=load - 1,
                                    maximum=limits[kind])
    ctx.writes.append(write)
    ctx.data["cadres"] = {kind: code for kind, code in wanted}


def record_plan(ctx: StepContext) -> None:
    if not ctx.inputs.measures:
        raise RuleViolation("plan.no_measure", case=ctx.case.id)
    rows = []
    for category, description in ctx.inputs.measures:
        code = code_of(category, MEASURES)
        if code is None:
            raise BadInput("plan.bad_category", value=category, known=Codes("measure", tuple(MEASURES)))
        if not description or not description.strip():
            raise BadInput("plan.no_description", category=category)
        rows.append({"case_id": ctx.case.id, "category": code, "description": description.strip(),
                     "start_date": ctx.effective_date, "created_by": ctx.actor.person_id})
    ctx.writes.append(lambda conn: conn.execute(insert(t.measures), rows))
    ctx.data["measures"] = [[r["category"], r["description"]] for r in rows]


# --- completion effects ----------------------------------------------------------------------

def record_assistance(ctx: StepContext, attrs: dict) -> None:
    attrs.setdefault("assisted_since", ctx.effective_date.isoformat())


def record_exit(ctx: StepContext, attrs: dict) -> None:
    attrs["exited_on"] = ctx.effective_date.isoformat()
    attrs["exit_count"] = attrs.get("exit_count", 0) + 1


def start_transition_period(ctx: StepContext, attrs: dict) -> None:
    years = int(ctx.params["transition_period_years"])
    exited = date.fromisoformat(attrs.get("exited_on", ctx.effective_date.isoformat()))
    attrs["transition_until"] = exited.replace(year=exited.year + years).isoformat() \
        if not (exited.month == 2 and exited.day == 29) else (exited + timedelta(days=365 * years)).isoformat()


def start_monitoring(ctx: StepContext, attrs: dict) -> None:
    clue = ctx.evidence.get("monitoring_clue")
    kind = code_of(clue.fields.get("monitoring_type", ""), MONITORING_TYPES) if clue else None
    attrs["monitoring"] = {"type": kind or "unstable", "since": ctx.effective_date.isoformat()}


def end_monitoring(ctx: StepContext, attrs: dict) -> None:
    ended = attrs.pop("monitoring", None)
    attrs.setdefault("monitoring_history", []).append(
        {**(ended or {}), "risk_eliminated_on": ctx.effective_date.isoformat()})


def record_removal(ctx: StepContext, attrs: dict) -> None:
    attrs["removed"] = {"procedure": ctx.procedure, "on": ctx.effective_date.isoformat()}
    case_id, day = ctx.case.id, ctx.effective_date

    def write(conn) -> None:
        conn.execute(_END_PAIRINGS, {"b_case": case_id, "end_date": day})
        # Its people are no longer members of a registered household (and may be registered anew).
        conn.execute(update(t.household_members).where(t.household_members.c.case_id == case_id,
                                                       t.household_members.c.active.is_(True))
                     .values(active=False, left_reason=stored(
                         Msg("left_reason.household_removed", {"procedure": ctx.procedure}))))
    ctx.writes.append(write)


def record_reopening(ctx: StepContext, attrs: dict) -> None:
    attrs.setdefault("reopenings", []).append(
        {"procedure": ctx.procedure, "on": ctx.effective_date.isoformat(), "exited_on": attrs.get("exited_on")})
    attrs.pop("transition_until", None)
    attrs.pop("monitoring", None)


RULES = WorkflowRules(
    checks={"identification_standard": identification_standard, "exit_standard": exit_standard,
            "returned_to_poverty": returned_to_poverty, "risk_eliminated": risk_eliminated,
            "assistance_ready": assistance_ready, "pairing_kept": pairing_kept,
            "monitoring_clue_valid": monitoring_clue_valid, "own_pairing_cadre": own_pairing_cadre},
    handlers={"pairing": pair_cadres, "plan": record_plan},
    effects={"record_assistance": record_assistance, "record_exit": record_exit, "start_transition_period": start_transition_period,
             "start_monitoring": start_monitoring, "end_monitoring": end_monitoring,
             "record_removal": record_removal, "record_reopening": record_reopening},
)


# --- member changes (自然增减): each keeps the old values in the audit event ----------------------

MEMBER_EDITABLE = {"relation": RELATIONS, "labour_ability": LABOUR, "health": HEALTH, "school_enrolment": SCHOOL}
_MEMBER_BY_ID = select(t.household_members).where(t.household_members.c.case_id == bindparam("case_id"),
                                                  t.household_members.c.id_number == bindparam("id_number"))


def _load_case_for_member_change(app: App, conn, actor: Actor, case_id: int, action: str):
    from engine.services.procedures import load_cases
    case = load_cases(conn, [case_id])[case_id]
    if case.kind != "household":
        raise BadInput("household.not_household", case=case_id)
    if case.stage == "removed":
        raise RuleViolation("member.case_removed", case=case_id)
    return case, require_role(app, actor, REGISTRAR_ROLES, case.region_code, action)


def add_member(app: App, actor: Actor, case_id: int, member: MemberInput, reason: str,
               void_signoffs: bool = False) -> None:
    """A birth, marriage or return: a new member of the household."""
    if not (reason and reason.strip()):
        raise BadInput("member.reason_required")
    row = _member_row(member, 1)
    with _one_household_per_person(), app.transaction() as conn:
        case, assignment = _load_case_for_member_change(app, conn, actor, case_id, "member add")
        _refuse_registered_ids(conn, [row["id_number"]])
        voided, pending, proc = void_signed_steps(app, conn, case, "members", void_signoffs, reason.strip())
        conn.execute(insert(t.household_members), {"case_id": case_id, **row})
        append_case_event(app, conn, actor, case, "member_added", assignment.role, reason=reason.strip(),
                          pending=pending, procedure_id=proc, member=row["name"], relation=row["relation"],
                          voided_steps=voided)


def update_member(app: App, actor: Actor, case_id: int, id_number: str, changes: dict[str, Any],
                  reason: str, void_signoffs: bool = False) -> None:
    """Correct or update a member's record; the audit event keeps the old and new values."""
    if not (reason and reason.strip()):
        raise BadInput("member.reason_required")
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if field in ("insured_basic", "insured_critical"):
            values[field] = str(value).strip().lower() in ("yes", "true", "1", "y", "是")
        elif field in MEMBER_EDITABLE:
            code = code_of(str(value), MEMBER_EDITABLE[field])
            if code is None:
                raise BadInput("member.bad_code", member=id_number[-4:], field=field, value=value,
                               known=Codes(LABEL_PREFIX[field], tuple(MEMBER_EDITABLE[field])))
            values[field] = code
        elif field == "name" and str(value).strip():
            values[field] = str(value).strip()
        else:
            raise BadInput("member.unknown_field", field=field,
                           known=Codes("field", ("name", "insured_basic", "insured_critical", *MEMBER_EDITABLE)))
    with app.transaction() as conn:
        case, assignment = _load_case_for_member_change(app, conn, actor, case_id, "member update")
        current = conn.execute(_MEMBER_BY_ID, {"case_id": case_id, "id_number": id_number}).first()
        if current is None or not current.active:
            raise BadInput("member.unknown", case=case_id)
        old = {k: getattr(current, k) for k in values}
        voided, pending, proc = void_signed_steps(app, conn, case, "members", void_signoffs, reason.strip())
        conn.execute(update(t.household_members).where(t.household_members.c.id == current.id).values(**values))
        append_case_event(app, conn, actor, case, "member_updated", assignment.role, reason=reason.strip(),
                          pending=pending, procedure_id=proc, member=current.name, old=old, new=values,
                          voided_steps=voided)


def member_leaves(app: App, actor: Actor, case_id: int, id_number: str, reason: str,
                  void_signoffs: bool = False) -> None:
    """A death, marriage out or move: the member stays on record, no longer counted."""
    if not (reason and reason.strip()):
        raise BadInput("member.reason_required")
    with app.transaction() as conn:
        case, assignment = _load_case_for_member_change(app, conn, actor, case_id, "member leave")
        current = conn.execute(_MEMBER_BY_ID, {"case_id": case_id, "id_number": id_number}).first()
        if current is None or not current.active:
            raise BadInput("member.unknown", case=case_id)
        if current.relation == "head":
            raise RuleViolation("member.head_leaves", case=case_id)
        voided, pending, proc = void_signed_steps(app, conn, case, "members", void_signoffs, reason.strip())
        conn.execute(update(t.household_members).where(t.household_members.c.id == current.id)
                     .values(active=False, left_reason=reason.strip()))
        append_case_event(app, conn, actor, case, "member_left", assignment.role, reason=reason.strip(),
                          pending=pending, procedure_id=proc, member=current.name, voided_steps=voided)
