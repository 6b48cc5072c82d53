"""Households (贫困户): registration and members (their ID numbers, codes and changes).

The policy checks, step handlers and completion effects named in household.yaml are in
household_steps.py.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import bindparam, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from stdnum.exceptions import ValidationError

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.bulk import lookup
from engine.domain.auth import Actor
from engine.services.case_actions import append_case_event, void_relying_steps
from engine.domain.errors import BadInput, CaseChanged, Codes, JingzhunError, Msg, RuleViolation, own_words
from engine.services.org import refuse_read_only, require_role
from engine.domain.cases import CaseRow
from engine.services.procedures import pending_for_stage
from engine.domain.members import mask_id, members_digest
from engine.domain.inputs import to_code
from engine.domain.regions import level_of
from .household_steps import MEMBER_FACTS
from .household_codes import (NO_WORDS, YES_WORDS, birth_date, checked_id, county_code_to_confirm, CAUSES, HEALTH,
                              HOUSEHOLD_TYPES, LABEL_PREFIX, LABOUR, RELATIONS, SCHOOL, code_of, compact_id, id_problem)

REGISTRAR_ROLES = ("village_secretary", "village_director", "first_secretary", "resident_team_leader",
                   "resident_team_member", "township_staff")


@dataclass
class MemberInput:
    name: str
    id_number: str
    relation: str = "head"
    labour_ability: str = "normal"
    health: str = "healthy"
    school_enrolment: str | None = None   # None or blank: not recorded (a school-age child's is asked
                                          # for by the exit standard, never assumed out of school)
    insured_basic: bool | str | None = None      # yes/no, or words (是/否); None: not recorded yet (not
    insured_critical: bool | str | None = None   # given: the exit standard asks for it, never assumes it)
    phone: str | None = None             # contact details: for cadres only, never on a notice
    bank_account: str | None = None
    id_confirmed: bool | None = None     # what the list says of the ID number (an export's 身份证号待核实):
                                         # True, checked against the card there (否): not marked to confirm
                                         # again; False, still to confirm there (是): marked, its question
                                         # kept (id_check "in_file"); None, the list says nothing


PHONE_CHARS, ACCOUNT_CHARS = set("0123456789+- "), set("0123456789 ")


def stored_member(m: MemberInput, index: int) -> dict[str, Any]:
    """A member's row as stored (index 0: the one member of a change, said as such, not "member 1"),
    its ID number marked for the cadre to check against the card where its county code asks for it
    (`id_check`: county_code_to_confirm's reason)."""
    where = _where(index)
    _name_of(m, index)
    id_number = _id_of(m, where)
    fields = _member_codes(m, where)
    phone, account = _contact(m, where)
    return {"name": m.name.strip(), "id_number": id_number, **fields,
            "insured_basic": _insured(m, "insured_basic", where),
            "insured_critical": _insured(m, "insured_critical", where),
            "phone": phone, "bank_account": account, "active": True, "id_check": county_code_to_confirm(id_number)}


def _insured(m: MemberInput, field: str, where: Msg | str) -> bool | None:
    """Insured or not (yes/no in either language), or None: not recorded (a blank cell)."""
    value = getattr(m, field)
    if value is None or isinstance(value, bool):
        return value
    words = str(value).strip().lower()
    if not words:
        return None
    if words not in YES_WORDS and words not in NO_WORDS:
        raise BadInput("member.bad_yes_no", member=where, field=field)
    return words in YES_WORDS


MEMBER_ADDED = ("name", "id_number", "relation", "labour_ability", "health", "school_enrolment", "insured_basic",
                "insured_critical", "phone", "bank_account")       # what a page's form gives of a member added


def member_of(values: dict[str, str]) -> MemberInput:
    """A member from its fields as typed (a `--member` spec, a page's form): a field left empty takes
    its default (insurance and schooling: not recorded); name and ID number are kept, empty or not, to be refused."""
    return MemberInput(**{k: v for k, v in values.items() if v or k in ("name", "id_number")})


def _where(index: int) -> Msg:
    return Msg("where.member", {"index": index}) if index else Msg("where.the_member", {})


def _name_of(m: MemberInput, index: int) -> str:
    if not m.name or not m.name.strip():
        raise BadInput("member.no_name", member=_where(index))
    return _a_name(m.name.strip(), _where(index))


FORMULA_STARTS = ("=", "+", "-", "@")      # what a spreadsheet takes for a formula: no person's name begins so


def _a_name(name: str, where: Any) -> str:
    """A person's name as typed, unless it is a spreadsheet's formula or its like (=1+1, @SUM(A1),
    =HYPERLINK(…)): a cell pasted whole, never a name, and one an export would hand to Excel to run."""
    if name.startswith(FORMULA_STARTS):
        raise BadInput("member.name_formula", member=where)
    return name


def _id_of(m: MemberInput, where: Msg) -> str:
    try:
        number = checked_id(m.id_number)
    except ValidationError as exc:
        raise BadInput("member.bad_id", member=where, id=mask_id(compact_id(m.id_number)),
                       problem=id_problem(exc, m.id_number)) from None
    born, today = birth_date(number), date.today()
    if born > today or born.year < today.year - OLDEST:
        raise BadInput("member.impossible_age", member=where)
    return number


OLDEST = 120     # years: a birth date further back is a typing error, not a person


def registered_refusals(app: App, actor: Actor, id_numbers: Sequence[str]) -> dict[str, RuleViolation]:
    """The refusal of each of these ID numbers registered already (active members of live cases)."""
    with app.engine.connect() as conn:
        regions: dict[int, str] = {}
        return {number: already_registered(conn, actor, number, case_id, regions)
                for number, case_id in list(registered_ids(conn, id_numbers))}


CODED_FIELDS = (("relation", RELATIONS), ("labour_ability", LABOUR), ("health", HEALTH), ("school_enrolment", SCHOOL))


def _member_codes(m: MemberInput, where: Msg) -> dict[str, str]:
    return {field: _code(m, field, codes, where) for field, codes in CODED_FIELDS}


# The coded facts a member may have not recorded (NULL): not given is said so, never assumed.
MAY_BE_UNRECORDED = frozenset({"school_enrolment"})


def _code(m: MemberInput, field: str, codes: dict[str, str], where: Msg) -> str | None:
    value = getattr(m, field)
    if field in MAY_BE_UNRECORDED and (value is None or not str(value).strip()):
        return None
    code = code_of(value, codes)
    if code is None:
        raise BadInput("member.bad_code", member=where, field=field, value=getattr(m, field),
                       known=Codes(LABEL_PREFIX[field], tuple(codes)))
    return code


def member_problems(m: MemberInput, index: int = 1) -> list[tuple[str, BadInput]]:
    """Every problem of one member's fields, as (column, error): a list file reports them all at once
    rather than the first one per run."""
    return _every_problem(m, index)


def checked_member(m: MemberInput, index: int = 1) -> tuple[dict[str, Any] | None, list[tuple[str, BadInput]]]:
    """A member's row as stored, or None and every problem of its fields as (column, error)."""
    try:
        return stored_member(m, index), []
    except BadInput:
        return None, _every_problem(m, index)


def _every_problem(m: MemberInput, index: int) -> list[tuple[str, BadInput]]:
    where = _where(index)
    found = []
    for column, check in (("name", lambda: _name_of(m, index)), ("id_number", lambda: _id_of(m, where)),
                          *[(f, lambda f=f, c=c: _code(m, f, c, where)) for f, c in CODED_FIELDS],
                          *[(f, lambda f=f: _insured(m, f, where)) for f in ("insured_basic", "insured_critical")],
                          ("phone", lambda: _phone(m, where)), ("bank_account", lambda: _account(m, where))):
        try:
            check()
        except BadInput as exc:
            found.append((column, exc))
    return found


def _contact(m: MemberInput, where: Msg) -> tuple[str | None, str | None]:
    """(phone, bank account) as given, each checked when given."""
    return _phone(m, where), _account(m, where)


def _phone(m: MemberInput, where: Msg) -> str | None:
    phone = (m.phone or "").strip() or None
    if phone and not (set(phone) <= PHONE_CHARS and 7 <= sum(c.isdigit() for c in phone) <= 15):
        raise BadInput("member.bad_phone", member=where)
    return phone


def _account(m: MemberInput, where: Msg) -> str | None:
    """A bank account as stored (its digits, without the spaces it is often typed with), checked."""
    account = (m.bank_account or "").strip() or None
    if account and not (set(account) <= ACCOUNT_CHARS and 8 <= sum(c.isdigit() for c in account) <= 30):
        raise BadInput("member.bad_account", member=where)
    return account.replace(" ", "") if account else None


_REGION = select(t.regions.c.code).where(t.regions.c.code == bindparam("code"))
_MEMBERS_OF_CASES = t.household_members.join(t.cases, t.cases.c.id == t.household_members.c.case_id)


def registered_ids(conn, id_numbers: Iterable[str]) -> Iterator[tuple[str, int]]:
    """(ID number, case) of those of these ID numbers registered already: active members of live cases."""
    return lookup(conn, t.household_members.c.id_number, t.household_members.c.case_id, id_numbers,
                  t.household_members.c.active == true(), t.cases.c.stage != "removed", source=_MEMBERS_OF_CASES)


def refuse_registered_ids(conn, actor: Actor, id_numbers: Sequence[str], except_case: int | None = None) -> None:
    for number, case_id in list(registered_ids(conn, id_numbers)):
        if case_id != except_case:
            raise already_registered(conn, actor, number, case_id)


def already_registered(conn, actor: Actor, number: str, case_id: int,
                       regions: dict[int, str] | None = None) -> RuleViolation:
    """The refusal of an ID number registered in `case_id` already: it names the case only to a reader
    whose jurisdiction holds it. Elsewhere it says only that the person is registered in another
    household (one person is in one household), never which or where. `regions`: case -> region,
    kept across calls."""
    regions = {} if regions is None else regions
    if case_id not in regions:
        regions[case_id] = conn.execute(select(t.cases.c.region_code).where(t.cases.c.id == case_id)).scalar()
    if actor.roles_over(regions[case_id]):
        return RuleViolation("member.already_registered", id=mask_id(number), case=case_id)
    return RuleViolation("member.registered_elsewhere", id=mask_id(number))


@dataclass
class HouseholdInput:
    members: Sequence[MemberInput]
    causes: Sequence[str]
    household_type: str = "general"
    ordinary: bool = False     # a farm household never registered poor, entered to be monitored (stage `ordinary`)


def register_household(app: App, actor: Actor, village: str, members: Sequence[MemberInput],
                       causes: Sequence[str], household_type: str = "general", ordinary: bool = False) -> int:
    """Open a household case (stage `candidate`) with its members and causes of poverty; `ordinary`: a
    farm household never registered poor, entered to be monitored (stage `ordinary`, no causes)."""
    return register_households(app, actor, village, [HouseholdInput(members, causes, household_type, ordinary)])[0]


def register_households(app: App, actor: Actor, village: str, households: Sequence[HouseholdInput],
                        warnings: list | None = None, source: dict | None = None) -> list[int]:
    """Register a village's households in one transaction (all or none); returns their case ids.
    `warnings` receives what the cadre should confirm (an ID number whose county code is younger
    than its holder), which is registered all the same; `source` (file name, sha256) names the list
    file in one organisation event."""
    refuse_read_only(app, actor, "household add")
    checked, all_ids = _checked_households(village, households)
    if warnings is not None:
        warnings.extend(Msg(f"warning.id_county_{r['id_check']}", {"household": n, "member": i,
                                                                   "code": r["id_number"][:6]})
                        for n, (rows, *_rest) in enumerate(checked, start=1) for i, r in enumerate(rows, start=1)
                        if r["id_check"])
    assignment = require_role(app, actor, REGISTRAR_ROLES, village, "household add")
    now = app.clock.now()
    with _one_household_per_person(), app.transaction() as conn:
        if conn.execute(_REGION, {"code": village}).first() is None:
            raise BadInput("region.unknown", code=village)
        refuse_registered_ids(conn, actor, all_ids)
        case_ids = [_insert_household(app, conn, actor, assignment.role, village, one, now) for one in checked]
        if source is not None:   # a list file: one event names it, its hash and the cases it made
            app.work_on(conn).append_org_event(actor, "households_imported", assignment.role, village, **source,
                                               households=len(case_ids), members=len(all_ids),
                                               first_case=case_ids[0], last_case=case_ids[-1])
    return case_ids


def _checked_households(village: str, households: Sequence[HouseholdInput]) -> tuple[list[tuple], list[str]]:
    """Each household checked, and the ID numbers of all their members (each once in the list)."""
    if level_of(village) != "village":
        raise BadInput("household.not_village", region=village)
    if not households:
        raise BadInput("household.no_members")
    checked = [_checked(h, n) for n, h in enumerate(households, start=1)]
    all_ids = [r["id_number"] for rows, *_rest in checked for r in rows]
    if len(set(all_ids)) != len(all_ids):
        raise BadInput("household.duplicate_member")
    return checked, all_ids


def _insert_household(app: App, conn, actor: Actor, role: str, village: str, checked: tuple, now) -> int:
    rows, cause_codes, htype, ordinary = checked
    workflow = app.config.workflows["household"]
    stage = ORDINARY if ordinary else workflow.initial
    pending = pending_for_stage(workflow, stage)
    head = next(r for r in rows if r["relation"] == "head")
    attrs = {"causes": cause_codes, "household_type": htype}
    case_id = conn.execute(insert(t.cases), {
        "kind": "household", "region_code": village, "title": head["name"], "stage": stage,
        "version": 1, "workflow_version": workflow.version, "attrs": attrs, "created_at": now,
        "updated_at": now, "event_count": 0, "last_event_hash": None, "open_procedure_id": None,
        "pending_procedure": pending[0], "pending_step": pending[1]}).inserted_primary_key[0]
    conn.execute(insert(t.household_members), [{"case_id": case_id, **r} for r in rows])
    case = CaseRow(case_id, "household", village, head["name"], stage, 1, attrs, 0, None)
    to_confirm = [i for i, r in enumerate(rows, start=1) if r["id_check"]]
    append_case_event(app, conn, actor, case, "case_registered", role, members=len(rows),
                      members_digest=members_digest(rows),
                      causes=cause_codes, household_type=htype, **({"stage": stage} if ordinary else {}),
                      **({"ids_to_confirm": to_confirm} if to_confirm else {}))
    return case_id


@contextmanager
def _one_household_per_person() -> Iterator[None]:
    """The unique index caught what the check before it could not see: a registration at the same time."""
    try:
        yield
    except IntegrityError as exc:
        if "id_number" not in str(exc.orig) and "uq_household_members_active_id" not in str(exc.orig):
            raise
        raise RuleViolation("member.registered_meanwhile") from None


def household_problems(households: Sequence[HouseholdInput]) -> list[tuple[int, int | None, str, JingzhunError]]:
    """Every problem of a list of households at once, as (household, member or None, field, error):
    each member's fields, each household's head, causes and type, an ID number given twice in the
    list. (What `register_households` would refuse at its first; the registered elsewhere are
    checked against the database by `registered_refusals`.)"""
    found: list[tuple[int, int | None, str, JingzhunError]] = []
    first: dict[str, tuple[int, int]] = {}
    for n, h in enumerate(households, start=1):
        for i, m in enumerate(h.members, start=1):
            problems = member_problems(m, i)
            found += [(n, i, column, exc) for column, exc in problems]
            if not problems:
                number = checked_id(m.id_number)
                if number in first:
                    found.append((n, i, "id_number", BadInput("household.same_id_in_list", household=first[number][0],
                                                              member=first[number][1])))
                first.setdefault(number, (n, i))
        if not h.members:
            found.append((n, None, "members", BadInput("household.no_members")))
        found += [(n, None, column, exc) for column, exc in household_field_problems(
            h.members, h.causes, h.household_type, lambda heads: BadInput("household.one_head"), h.ordinary)]
    return found


def household_field_problems(members: Sequence[MemberInput], causes: Sequence[str], household_type: str,
                             heads_error: Callable[[int], BadInput], ordinary: bool = False) -> list[tuple[str, BadInput]]:
    """The household's own fields, as (field, error): one head (`heads_error(count)` else; a relation
    that is no relation is told as such, not also as a missing head), its causes, its type."""
    found = []
    relations = [code_of(m.relation, RELATIONS) for m in members]
    heads = relations.count("head")
    if members and heads != 1 and None not in relations:
        found.append(("relation", heads_error(heads)))
    for column, check in (("causes", lambda: ordinary_causes(causes) if ordinary else cause_codes(causes)),
                          ("household_type", lambda: ordinary_type(household_type) if ordinary
                           else household_type_code(household_type))):
        try:
            check()
        except BadInput as exc:
            found.append((column, exc))
    return found


def _checked(household: HouseholdInput, number: int) -> tuple[list[dict], list[str], str | None, bool]:
    if not household.members:
        raise BadInput("household.no_members")
    rows = [stored_member(m, i) for i, m in enumerate(household.members, start=1)]
    if sum(1 for r in rows if r["relation"] == "head") != 1:
        raise BadInput("household.one_head")
    if len({r["id_number"] for r in rows}) != len(rows):
        raise BadInput("household.duplicate_member")
    if household.ordinary:
        return rows, ordinary_causes(household.causes), ordinary_type(household.household_type), True
    return rows, cause_codes(household.causes), household_type_code(household.household_type), False


ORDINARY = "ordinary"    # the stage of a farm household never registered poor (household.yaml)


def ordinary_causes(causes: Sequence[str]) -> list[str]:
    """An ordinary household has no causes of poverty: none, or refused saying so."""
    if any(str(c).strip() for c in causes):
        raise BadInput("household.ordinary_causes")
    return []


def ordinary_type(value: str) -> str | None:
    """An ordinary household's type: none (一般贫困户, the default, is a poor household's), or 低保户 or
    五保户, which a household never registered poor may be; a poor household's type is refused."""
    htype = household_type_code(value)
    if htype == "general":
        return None
    if htype not in ORDINARY_HOUSEHOLD_TYPES:
        raise BadInput("household.ordinary_type", value=value,
                       known=Codes("household_type", ORDINARY_HOUSEHOLD_TYPES))
    return htype


ORDINARY_HOUSEHOLD_TYPES = ("dibao", "wubao")


def cause_codes(causes: Sequence[str]) -> list[str]:
    """The causes of poverty as codes, one at least."""
    cause_codes = []
    for c in causes:
        code = code_of(c, CAUSES)
        if code is None:
            raise BadInput("household.bad_cause", value=c, known=Codes("cause", tuple(CAUSES)))
        if code not in cause_codes:        # said twice (on each row of the household): once
            cause_codes.append(code)
    if not cause_codes:
        raise BadInput("household.no_cause")
    return cause_codes


def household_type_code(value: str) -> str:
    htype = code_of(value, HOUSEHOLD_TYPES)
    if htype is None:
        raise BadInput("household.bad_type", value=value, known=Codes("household_type", tuple(HOUSEHOLD_TYPES)))
    return htype


# --- member changes (自然增减): each keeps the old values in the audit event ----------------------

MEMBER_EDITABLE = {"relation": RELATIONS, "labour_ability": LABOUR, "health": HEALTH, "school_enrolment": SCHOOL}
_MEMBER_BY_ID = select(t.household_members).where(t.household_members.c.case_id == bindparam("case_id"),
                                                  t.household_members.c.id_number == bindparam("id_number"))


def _load_case_for_member_change(app: App, conn, actor: Actor, case_id: int, action: str):
    from engine.adapters.repository import load_cases
    case = load_cases(conn, [case_id])[case_id]
    if case.kind != "household":
        raise BadInput("household.not_household", case=case_id)
    if case.stage == "removed":
        raise RuleViolation("member.case_removed", case=case_id)
    return case, require_role(app, actor, REGISTRAR_ROLES, case.region_code, action)


def add_member(app: App, actor: Actor, case_id: int, member: MemberInput, reason: str,
               void_signoffs: bool = False) -> Msg | None:
    """A birth, marriage or return: a new member of the household. Returns what the cadre should
    confirm of the member's ID number (its county code; registered all the same), if anything."""
    own_words(reason, "member.reason_required")
    with _one_household_per_person(), app.transaction() as conn:
        case, assignment = _load_case_for_member_change(app, conn, actor, case_id, "member add")
        row = stored_member(member, 0)      # checked once the person may change the case at all
        refuse_registered_ids(conn, actor, [row["id_number"]])
        voided, pending, proc = _void_relying(app, conn, case, void_signoffs, reason.strip())
        conn.execute(insert(t.household_members), {"case_id": case_id, **row})
        append_case_event(app, conn, actor, case, "member_added", assignment.role, reason=reason.strip(),
                          members_digest=_digest_of(conn, case_id),
                          pending=pending, procedure_id=proc, member=row["name"], relation=row["relation"],
                          voided_steps=voided, **({"id_to_confirm": row["id_check"]} if row["id_check"] else {}))
    return id_warning(row["id_number"], row["id_check"])


def id_warning(number: str, issue: str | None) -> Msg | None:
    """What a cadre is asked to confirm of one member's ID number (its county code), if anything (its
    county code alone: no personal data on a terminal)."""
    return Msg(f"warning.member_id_county_{issue}", {"code": number[:6]}) if issue else None


def update_member(app: App, actor: Actor, case_id: int, id_number: str, changes: dict[str, Any],
                  reason: str, void_signoffs: bool = False) -> Msg | None:
    """Correct or update a member's record; the audit event keeps the old and new values (an ID
    number masked). An ID number corrected is checked as at registration, and its county code judged
    afresh: returns what the cadre should confirm of the new number, if anything."""
    own_words(reason, "member.reason_required")
    with _one_household_per_person(), app.transaction() as conn:
        case, assignment = _load_case_for_member_change(app, conn, actor, case_id, "member update")
        # checked once the person may change the case at all (a read-only inspector is told that first)
        keys = {field: _member_field(app, field) for field in changes}
        values = {keys[field]: _member_value(id_number, keys[field], value) for field, value in changes.items()}
        current = _active_member(conn, case_id, id_number)
        values = {k: v for k, v in values.items() if getattr(current, k) != v}
        if not values:          # the record as it is: no event saying a name became itself
            raise BadInput("member.unchanged", case=case_id)
        if "relation" in values and "head" in (values["relation"], current.relation):
            raise RuleViolation("member.head_change", case=case_id)     # one head at every moment: see change_head
        old = {k: getattr(current, k) for k in values}
        checked = {}
        if "id_number" in values:         # one person in one household: this one's other members too
            refuse_registered_ids(conn, actor, [values["id_number"]])
            checked = {"id_check": county_code_to_confirm(values["id_number"])}
        voided, pending, proc = _void_relying(app, conn, case, void_signoffs, reason.strip(), frozenset(values))
        conn.execute(update(t.household_members).where(t.household_members.c.id == current.id)
                     .values(**values, **checked))
        if current.relation == "head" and values.get("name", current.name) != current.name:
            _retitle(conn, case_id, values["name"])      # the household is known by its head's name
        shown = lambda v: {k: mask_id(x) if k == "id_number" else x for k, x in v.items()}  # noqa: E731
        append_case_event(app, conn, actor, case, "member_updated", assignment.role, reason=reason.strip(),
                          members_digest=_digest_of(conn, case_id),
                          pending=pending, procedure_id=proc, member=current.name, old=shown(old), new=shown(values),
                          voided_steps=voided, **({"id_to_confirm": checked["id_check"]}
                                                  if checked.get("id_check") else {}))
    return id_warning(values["id_number"], checked["id_check"]) if checked else None


def confirm_member_id(app: App, actor: Actor, case_id: int, id_number: str) -> str:
    """The cadre checked a member's ID number against the card and found it right: its mark is
    cleared and a case event names the member, the number (masked) and who confirmed it. A number
    with nothing to confirm is refused. Returns the member's name."""
    with app.transaction() as conn:
        case, assignment = _load_case_for_member_change(app, conn, actor, case_id, "member id confirm")
        current = _active_member(conn, case_id, compact_id(id_number or ""))
        if current.id_check is None:
            raise RuleViolation("member.id_not_to_confirm", case=case_id, id=mask_id(current.id_number))
        done = conn.execute(update(t.household_members).where(t.household_members.c.id == current.id,
                                                              t.household_members.c.id_check.is_not(None))
                            .values(id_check=None)).rowcount
        if done != 1:            # confirmed meanwhile (a second tab): said as not to confirm
            raise RuleViolation("member.id_not_to_confirm", case=case_id, id=mask_id(current.id_number))
        append_case_event(app, conn, actor, case, "member_id_confirmed", assignment.role, member=current.name,
                          id=mask_id(current.id_number), id_check=current.id_check)
    return current.name


_TO_CONFIRM = select(t.household_members).where(
    t.household_members.c.case_id == bindparam("case_id"), t.household_members.c.active.is_(True),
    t.household_members.c.id_check.is_not(None)).order_by(t.household_members.c.id)


def confirm_member_ids(app: App, actor: Actor, case_id: int) -> list[str]:
    """The cadre checked every ID number of the household still to confirm against the cards and found
    them right (an elder born before the county's code existed, as most of a county's adults may be):
    all cleared in one act, each member's confirmation recorded as one alone is (its event names the
    member, the number masked, who confirmed it and when, `at_once` saying it was one act). A household
    with nothing to confirm is refused. Returns the members' names."""
    with app.transaction() as conn:
        return _confirm_household(app, conn, actor, case_id)


def confirm_households_ids(app: App, actor: Actor, case_ids: Sequence[int]) -> dict[int, list[str]]:
    """`confirm_member_ids` for every household of a list (the cadre's list of numbers to confirm, checked
    against the cards village by village), all or none: one act, each member's check recorded. Returns
    each household's members confirmed."""
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        raise BadInput("bulk.none_chosen")
    with app.transaction() as conn:
        return {case_id: _confirm_household(app, conn, actor, case_id) for case_id in ids}


def _confirm_household(app: App, conn, actor: Actor, case_id: int) -> list[str]:
    case, assignment = _load_case_for_member_change(app, conn, actor, case_id, "member id confirm")
    members = conn.execute(_TO_CONFIRM, {"case_id": case_id}).all()
    if not members:
        raise RuleViolation("member.ids_none_to_confirm", case=case_id)
    done = conn.execute(update(t.household_members).where(
        t.household_members.c.id.in_([m.id for m in members]), t.household_members.c.id_check.is_not(None))
        .values(id_check=None)).rowcount
    if done != len(members):        # one confirmed meanwhile (a second tab): the household read again
        raise CaseChanged(case_id)
    for m in members:
        append_case_event(app, conn, actor, case, "member_id_confirmed", assignment.role, member=m.name,
                          id=mask_id(m.id_number), id_check=m.id_check, at_once=len(members))
    return [m.name for m in members]


def confirm_member_id_row(app: App, actor: Actor, case_id: int, member_id: int) -> str:
    """confirm_member_id for the member of row `member_id` of the case (a page's button)."""
    return confirm_member_id(app, actor, case_id, _number_of_row(app, case_id, member_id))


def change_head(app: App, actor: Actor, case_id: int, new_head: str, reason: str, *,
                former_relation: str | None = None, former_leaves: bool = False,
                relations: dict[str, str] | None = None, void_signoffs: bool = False) -> str:
    """A new head of household (户主变更: the head died, moved out or handed over), in one change:
    the member of ID number `new_head` becomes the head; the former head takes `former_relation` to
    the new head or, with `former_leaves`, leaves the household (kept on record); `relations` gives
    other members' relations to the new head (ID number -> relation; the others keep theirs). The
    case takes the new head's name (returned). One audit event says every relation that changed."""
    own_words(reason, "member.reason_required")
    if former_relation is not None and former_leaves:
        raise BadInput("member.former_head", case=case_id)
    with app.transaction() as conn:
        case, assignment = _load_case_for_member_change(app, conn, actor, case_id, "change head")
        active = {r.id_number: r for r in conn.execute(select(t.household_members).where(
            t.household_members.c.case_id == case_id, t.household_members.c.active == true()))}
        heir = active.get(new_head.strip())
        if heir is None:
            raise BadInput("member.unknown", case=case_id)
        # none where a relation edit of old took the head's away: the change of head mends the household
        former = next((r for r in active.values() if r.relation == "head"), None)
        if former is not None and heir.id == former.id:
            raise RuleViolation("member.already_head", case=case_id)
        if former is not None and former_relation is None and not former_leaves:
            raise BadInput("member.former_head", case=case_id)
        wanted = {heir.id_number: "head"}
        if former is not None and not former_leaves:
            wanted[former.id_number] = _relation_to_heir(former.id_number, former_relation)
        for number, relation in (relations or {}).items():
            member = active.get(number.strip())
            if member is None:
                raise BadInput("member.unknown", case=case_id)
            if member.id == heir.id or (former is not None and member.id == former.id):
                raise BadInput("member.relations_heads", case=case_id)
            wanted[member.id_number] = _relation_to_heir(member.id_number, relation)
        changed = {n: (active[n].relation, r) for n, r in wanted.items() if active[n].relation != r}
        voided, pending, proc = _void_relying(app, conn, case, void_signoffs, reason.strip(),
                                              frozenset({"members" if former_leaves else "relation"}))
        for number, (_, relation) in changed.items():
            conn.execute(update(t.household_members).where(t.household_members.c.id == active[number].id)
                         .values(relation=relation))
        if former is not None and former_leaves:
            conn.execute(update(t.household_members).where(t.household_members.c.id == former.id)
                         .values(active=False, left_reason=reason.strip()))
        _retitle(conn, case_id, heir.name)
        append_case_event(app, conn, actor, case, "head_changed", assignment.role, reason=reason.strip(),
                          members_digest=_digest_of(conn, case_id), pending=pending, procedure_id=proc,
                          head=heir.name, former_head=former.name if former else None,
                          former_left=bool(former and former_leaves),
                          relations=[[active[n].name, old, new] for n, (old, new) in changed.items()],
                          voided_steps=voided)
    return heir.name


def change_head_row(app: App, actor: Actor, case_id: int, heir_id: int, reason: str, former: str,
                    relations: dict[int, str], void_signoffs: bool = False) -> str:
    """change_head for members named by their rows (a page's form); `former` is the former head's
    relation, or "left"; the new head's own line among `relations` is left out."""
    numbers = {r.id: r.id_number for r in _rows_of(app, case_id)}
    if heir_id not in numbers or any(row not in numbers for row in relations):
        raise BadInput("member.unknown", case=case_id)
    left = former == "left"
    return change_head(app, actor, case_id, numbers[heir_id], reason, former_relation=None if left or not former else former,
                       former_leaves=left, void_signoffs=void_signoffs,
                       relations={numbers[row]: rel for row, rel in relations.items() if row != heir_id})


def _rows_of(app: App, case_id: int) -> list:
    with app.engine.connect() as conn:
        return conn.execute(select(t.household_members.c.id, t.household_members.c.id_number).where(
            t.household_members.c.case_id == case_id)).all()


def _relation_to_heir(id_number: str, value: str | None) -> str:
    relation = _member_value(id_number, "relation", value or "")
    if relation == "head":
        raise BadInput("household.one_head")
    return relation


def _retitle(conn, case_id: int, name: str) -> None:
    conn.execute(update(t.cases).where(t.cases.c.id == case_id).values(title=name))


MEMBER_UPDATABLE = ("name", "id_number", "insured_basic", "insured_critical", *MEMBER_EDITABLE, "phone", "bank_account")


def update_member_row(app: App, actor: Actor, case_id: int, member_id: int, changes: dict[str, Any], reason: str,
                      void_signoffs: bool = False) -> Msg | None:
    """update_member for the member of row `member_id` of the case (a page names a member by its row,
    never by its ID number)."""
    return update_member(app, actor, case_id, _number_of_row(app, case_id, member_id), changes, reason, void_signoffs)


def member_leaves_row(app: App, actor: Actor, case_id: int, member_id: int, reason: str,
                      void_signoffs: bool = False) -> None:
    """member_leaves for the member of row `member_id` of the case."""
    member_leaves(app, actor, case_id, _number_of_row(app, case_id, member_id), reason, void_signoffs)


def _number_of_row(app: App, case_id: int, member_id: int) -> str:
    with app.engine.connect() as conn:
        number = conn.execute(select(t.household_members.c.id_number).where(
            t.household_members.c.id == member_id, t.household_members.c.case_id == case_id)).scalar()
    if number is None:
        raise BadInput("member.unknown", case=case_id)
    return number


def _member_field(app: App, field: str) -> str:
    """A field by its key or by its label in either language (联系电话, phone), as the refusal lists them."""
    return to_code(field, {key: [app.config.label(f"field.{key}", lang) for lang in ("zh", "en")]
                           for key in MEMBER_UPDATABLE})


def _member_value(id_number: str, field: str, value: Any) -> Any:
    """A member field's new value as stored: yes/no, a code, or a name."""
    if field in ("insured_basic", "insured_critical"):      # yes, no, or blank: not recorded
        return _insured(MemberInput("", "", **{field: value}), field, id_number[-4:])
    if field in MEMBER_EDITABLE:
        code = code_of(str(value), MEMBER_EDITABLE[field])
        if code is None:
            raise BadInput("member.bad_code", member=id_number[-4:], field=field, value=value,
                           known=Codes(LABEL_PREFIX[field], tuple(MEMBER_EDITABLE[field])))
        return code
    if field == "name" and str(value).strip():
        return _a_name(str(value).strip(), id_number[-4:])
    if field == "id_number":         # a number the card shows otherwise: checked as at registration
        return _id_of(MemberInput("", str(value)), id_number[-4:])
    if field == "phone":             # contact details: checked as at registration; empty clears them
        return _phone(MemberInput("", "", phone=str(value)), id_number[-4:])
    if field == "bank_account":
        return _account(MemberInput("", "", bank_account=str(value)), id_number[-4:])
    raise BadInput("member.unknown_field", field=field, known=Codes("field", MEMBER_UPDATABLE))


# A member's contact details: where to reach them and pay them, read by no standard nor decision.
CONTACT_FIELDS = frozenset({"phone", "bank_account"})


def _void_relying(app: App, conn, case: CaseRow, void_signoffs: bool, reason: str,
                  changed: frozenset[str] = frozenset({"members"})) -> tuple[list[dict], tuple | None, int | None]:
    """The steps of the open procedure that relied on the members voided, if confirmed (else refused):
    its sign-offs, and the steps whose checks read what `changed` (who belongs, `members`, or member
    fields: household_steps.MEMBER_FACTS). Contact details alone void nothing: no step relied on them."""
    if changed <= CONTACT_FIELDS:
        return [], None, None
    reading = frozenset(check for check, facts in MEMBER_FACTS.items() if facts & changed)
    return void_relying_steps(app, conn, case, "members", void_signoffs, reason, reading)


def _digest_of(conn, case_id: int) -> str:
    """The digest of the case's member rows as this transaction leaves them (engine.domain.members)."""
    return members_digest(conn.execute(select(t.household_members).where(t.household_members.c.case_id == case_id)))


def _active_member(conn, case_id: int, id_number: str):
    current = conn.execute(_MEMBER_BY_ID, {"case_id": case_id, "id_number": id_number}).first()
    if current is None or not current.active:
        raise BadInput("member.unknown", case=case_id)
    return current


def member_leaves(app: App, actor: Actor, case_id: int, id_number: str, reason: str,
                  void_signoffs: bool = False) -> None:
    """A death, marriage out or move: the member stays on record, no longer counted."""
    own_words(reason, "member.reason_required")
    with app.transaction() as conn:
        case, assignment = _load_case_for_member_change(app, conn, actor, case_id, "member leave")
        current = _active_member(conn, case_id, id_number)
        if current.relation == "head":
            raise RuleViolation("member.head_leaves", case=case_id)
        voided, pending, proc = _void_relying(app, conn, case, void_signoffs, reason.strip())
        conn.execute(update(t.household_members).where(t.household_members.c.id == current.id)
                     .values(active=False, left_reason=reason.strip()))
        append_case_event(app, conn, actor, case, "member_left", assignment.role, reason=reason.strip(),
                          members_digest=_digest_of(conn, case_id),
                          pending=pending, procedure_id=proc, member=current.name, voided_steps=voided)
