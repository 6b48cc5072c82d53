"""Fund projects (扶贫项目, DOMAIN.md §3-§5 "Fund project", domain-research.md §7).

A project is a case of its own (config/workflows/project.yaml): registered with its name, category,
site (a village or a township), responsible unit and that unit's head, project leader, budget and
funding sources, beneficiary households and performance target (no target: no project, let alone
a library entry) and planned completion date; entered into the county project library after
notices at the village and the township; funded (allocation on the boards, contractor notice,
milestones scheduled backward from the completion date); paid out (`record_disbursement`: only money
paid to a contractor or a beneficiary is spent, retention money is unspent, nothing beyond the
allocated funds); completed (township initial acceptance, county acceptance on a third-party report,
final accounts, completion announcement); and consolidated (assets registered by class and handed
over to a named owner, performance evaluated). A plan change (budget, completion date,
beneficiaries) goes back to the approving body of the library entry and is re-announced; the old
values stay in its steps and audit events.

Money is Decimal throughout; amounts in JSON (attributes, step data, audit events) are strings.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, Sequence

from sqlalchemy import String, bindparam, cast, func, insert, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, Msg, NotFound, RuleViolation
from engine.domain.regions import covers, level_of
from engine.reads.funds import totals_now
from engine.services.case_actions import append_case_event
from engine.services.org import require_role
from engine.domain.cases import CaseRow
from engine.services.context import StepContext, WorkflowRules
from engine.services.procedures import pending_for_stage
from .household_codes import code_of
from .project_base import (ASSET_CLASSES, BENEFICIARIES, BENEFICIARY_STAGES, CATEGORIES, FUND_SOURCES, MILESTONES,
                           PAYEE_KINDS, QUALITY, REGION, REGISTRAR_ROLES, UNIT_HEAD_ROLES, as_json, budget_lines,
                           check_beneficiaries, checked_code, contract_amount, contracts_of, fund_lines, name_key,
                           paid_under_contract,
                           parse_amount, sum_of, targets_of)
from .project_money import PaymentInput, PaymentRecorded, project_detail, record_disbursement, record_payment, reported_by
from .project_steps import (allocate, announcement, apply_contractor_change, apply_plan_change,
                            apply_supplementary_contract, change,
                            handover, milestone, record, record_completion, record_consolidation, record_funding,
                            record_library_entry, schedule)

# What importers read from here: the registration, the checks and RULES are defined below; the code
# lists (project_base) and the money and the project as read (project_money) are kept where they are.
__all__ = ["ASSET_CLASSES", "CATEGORIES", "FUND_SOURCES", "PAYEE_KINDS", "QUALITY", "PaymentInput", "PaymentRecorded",
           "ProjectInput", "RULES", "parse_amount", "project_detail", "record_disbursement", "record_payment",
           "register_project"]


# --- registration ----------------------------------------------------------------------------------

@dataclass
class ProjectInput:
    name: str
    category: str
    site: str                                   # a village or township code
    responsible_unit: str
    unit_head: str                              # person code: the responsible unit's head
    leader: str                                 # person code: the project leader (项目负责人)
    funds: Sequence[tuple[str, Any, str | None]]   # budget lines: (source, amount, document)
    beneficiaries: Sequence[int]                # household cases
    targets: Sequence[str]                      # performance targets (绩效目标)
    complete_by: date                           # planned completion date
    proposed_on: date | None = None             # default today
    description: str | None = None


_PERSON = select(t.persons.c.id, t.persons.c.code, t.persons.c.name, t.persons.c.active, t.persons.c.unit).where(
    t.persons.c.code == bindparam("code"))
_POSTS = select(t.role_assignments.c.role, t.role_assignments.c.region_code).where(
    t.role_assignments.c.person_id == bindparam("person_id"), t.role_assignments.c.revoked_at.is_(None))


def _named_person(app: App, conn, code: str, roles: Sequence[str] | None, site: str, what: str):
    """A person who holds one of `roles` (None: any signing role) over the site."""
    person = conn.execute(_PERSON, {"code": (code or "").strip()}).first()
    if person is None or not person.active:
        raise NotFound("person.unknown", code=code)
    defs = app.config.roles
    ok = [p for p in conn.execute(_POSTS, {"person_id": person.id})
          if covers(p.region_code, site) and p.role in defs and not (defs[p.role].read_only or defs[p.role].admin)
          and (roles is None or p.role in roles)]
    if not ok:
        place = conn.execute(REGION, {"code": site}).first()
        raise RuleViolation("project.person_cannot_act", person=Msg("words46.person", {"name": person.name, "code": person.code}),
                            what=Msg(f"basis.case.{what}_id"), region=place.name if place else site)
    return person



def register_project(app: App, actor: Actor, p: ProjectInput) -> int:
    """Record a proposed project with its budget and beneficiaries; returns its case id. All or nothing.

    A project without a performance target is refused before anything else is looked at [NAT]."""
    ok = _proposal(app, p)
    assignment = require_role(app, actor, REGISTRAR_ROLES, p.site, "project add")
    with app.transaction() as conn:
        people = _project_people(app, conn, p)
        households = sorted(check_beneficiaries(conn, p.beneficiaries, p.site))
        now = app.clock.now()
        case = _insert_project(app, conn, p.site, ok.name, _project_attrs(p, ok, *people), now)
        _insert_budget_and_beneficiaries(conn, case.id, ok, households, actor.person_id, now)
        append_case_event(app, conn, actor, case, "case_registered", assignment.role, name=ok.name,
                          category=ok.category, responsible_unit=ok.unit, unit_head=people[1].code,
                          leader=people[0].code, targets=ok.targets, budget=as_json(ok.budget),
                          budget_total=str(sum_of(ok.budget)), beneficiaries=households,
                          complete_by=p.complete_by.isoformat(), proposed_on=ok.proposed_on.isoformat())
        return case.id


def propose_project(app: App, actor: Actor, p: ProjectInput) -> int:
    """Register a project and submit it into the library (入库申报) in one act, as the village proposes it
    (`project add --submit`, the page /projects/new): the same two services as `project add` then `step
    library_entry submission`, dated the day it is proposed. Who may not submit is refused before anything
    is written; the proposal is then checked and registered (all or nothing), and what the submission checks
    again (target, budget, beneficiaries, a completion date ahead) was checked by the registration already."""
    from engine.domain.cases import StepInput
    from engine.services.procedures import perform_step
    submission = app.config.workflows["project"].procedures["library_entry"].steps[0]
    _proposal(app, p)                  # a bad proposal is refused as such, before who may submit it
    require_role(app, actor, submission.roles, p.site, f"library_entry.{submission.key}")
    case_id = register_project(app, actor, p)
    perform_step(app, actor, "library_entry", submission.key, [case_id], StepInput(date=p.proposed_on))
    return case_id


class _Proposal(NamedTuple):
    """A project's input as checked before anything is looked up."""
    name: str
    category: str
    unit: str
    targets: list[str]
    budget: list[dict[str, Any]]
    proposed_on: date


def _proposal(app: App, p: ProjectInput) -> _Proposal:
    targets = [x.strip() for x in (p.targets or ()) if x and x.strip()]
    if not targets:
        raise RuleViolation("project.no_performance_target")
    name = (p.name or "").strip()
    if not name:
        raise BadInput("project.no_name")
    category = checked_code(p.category, CATEGORIES, "category")
    if level_of(p.site) not in ("village", "township"):
        raise BadInput("project.bad_site", region=p.site)
    unit = (p.responsible_unit or "").strip()
    if not unit:
        raise BadInput("project.no_unit")
    budget = fund_lines(p.funds or (), "budget")
    if not budget:
        raise BadInput("project.no_budget")
    if not p.beneficiaries:
        raise BadInput("project.no_beneficiaries")
    return _Proposal(name, category, unit, targets, budget, _proposed_on(app, p))


def _proposed_on(app: App, p: ProjectInput) -> date:
    today = app.clock.today()
    proposed_on = p.proposed_on or today
    if proposed_on > today:
        raise RuleViolation("date.future", date=proposed_on, today=today)
    if p.complete_by <= proposed_on:
        raise BadInput("project.completion_not_after", date=p.complete_by, proposed_on=proposed_on)
    return proposed_on


def _project_people(app: App, conn, p: ProjectInput) -> tuple:
    """(leader, unit head) on a known site."""
    if conn.execute(REGION, {"code": p.site}).first() is None:
        raise BadInput("region.unknown", code=p.site)
    leader = _named_person(app, conn, p.leader, None, p.site, "leader")
    head = _named_person(app, conn, p.unit_head, UNIT_HEAD_ROLES, p.site, "unit_head")
    _heads_the_unit(conn, head, p.responsible_unit.strip(), p.site)
    return leader, head


def _heads_the_unit(conn, head, unit: str, site: str) -> None:
    """The unit head carries the subject responsibility (主体责任) of his own unit's projects: a county
    unit's head (unit_head) is the head of the unit his record names (person add --unit, person unit),
    compared past spaces and full-width characters. A township head or the poverty office's director
    heads what their post names (the township government, the office) and is not asked."""
    posts = {p.role for p in conn.execute(_POSTS, {"person_id": head.id})
             if covers(p.region_code, site) and p.role in UNIT_HEAD_ROLES}
    if posts - {"unit_head"}:
        return
    person = Msg("words46.person", {"name": head.name, "code": head.code})
    if not (head.unit or "").strip():
        raise RuleViolation("project.unit_head_unit_unknown", person=person, unit=unit, code=head.code)
    if name_key(head.unit) != name_key(unit):
        raise RuleViolation("project.unit_head_other_unit", person=person, head_unit=head.unit.strip(), unit=unit)


def _project_attrs(p: ProjectInput, ok: _Proposal, leader, head) -> dict[str, Any]:
    return {"category": ok.category, "description": (p.description or "").strip() or None,
            "responsible_unit": ok.unit, "unit_head": head.code, "unit_head_id": head.id,
            "unit_head_name": head.name, "leader": leader.code, "leader_id": leader.id,
            "leader_name": leader.name, "targets": ok.targets, "complete_by": p.complete_by.isoformat(),
            "proposed_on": ok.proposed_on.isoformat(),
            # its steps come after it was proposed: the engine's date-order rule starts here
            "last_step_on": ok.proposed_on.isoformat(), "last_step": "proposed"}


def _insert_project(app: App, conn, site: str, name: str, attrs: dict[str, Any], now) -> CaseRow:
    workflow = app.config.workflows["project"]
    pending = pending_for_stage(workflow, workflow.initial)
    title = name[:200]
    case_id = conn.execute(insert(t.cases), {
        "kind": "project", "region_code": site, "title": title, "stage": workflow.initial, "version": 1,
        "workflow_version": workflow.version, "attrs": attrs, "created_at": now, "updated_at": now,
        "event_count": 0, "last_event_hash": None, "open_procedure_id": None, "pending_procedure": pending[0],
        "pending_step": pending[1]}).inserted_primary_key[0]
    return CaseRow(case_id, "project", site, title, workflow.initial, 1, attrs, 0, None)


def _insert_budget_and_beneficiaries(conn, case_id: int, ok: _Proposal, households: list[int], who: int,
                                     now) -> None:
    conn.execute(insert(t.project_funds), [
        {"case_id": case_id, "source": line["source"], "amount": line["amount"], "kind": "budget",
         "document": line["document"], "on_date": ok.proposed_on, "recorded_by": who,
         "recorded_at": now, "superseded_on": None} for line in ok.budget])
    conn.execute(insert(t.project_beneficiaries), [{"project_id": case_id, "case_id": h} for h in households])


# --- checks (each returns the unmet conditions, so `case next` shows them too) ---------------------

def proposal_complete(ctx: StepContext) -> list:
    """What a library entry needs [LOCAL mandatory fields]: target, budget, beneficiaries, a date ahead."""
    failures: list = []
    attrs = ctx.case.attrs
    if not targets_of(attrs):
        failures.append(("no_performance_target", {}))
    budget = budget_lines(ctx.conn, ctx.case.id)
    if sum_of(budget) <= 0:
        failures.append(("no_budget", {}))
    households = ctx.conn.execute(BENEFICIARIES, {"case_id": ctx.case.id}).all()
    failures += _beneficiary_failures(households)
    if date.fromisoformat(attrs["complete_by"]) <= ctx.effective_date:
        failures.append(("completion_passed", {"date": attrs["complete_by"]}))
    ctx.data.update(budget=as_json(budget), budget_total=str(sum_of(budget)),
                    beneficiaries=[h.id for h in households])
    return failures


def _beneficiary_failures(households: list) -> list:
    failures: list = []
    if not households:
        failures.append(("no_beneficiaries", {}))
    for h in households:
        if h.stage not in BENEFICIARY_STAGES:
            failures.append(("beneficiary_not_registered", {"case": h.id, "stage": h.stage}))
    return failures


def performance_target(ctx: StepContext) -> list:
    """No performance target: no library entry; the target is approved together with the budget [NAT]."""
    targets = targets_of(ctx.case.attrs)
    ctx.data["targets"] = targets
    return [] if targets else [("no_performance_target", {})]


def is_project_leader(ctx: StepContext) -> list:
    if ctx.case.attrs.get("leader_id") != ctx.actor.person_id:
        attrs = ctx.case.attrs
        return [("not_project_leader", {"leader": Msg("words46.person", {"name": attrs.get("leader_name") or "-",
                                                                          "code": attrs.get("leader", "-")})})]
    return []


def milestones_done(ctx: StepContext) -> list:
    rows = ctx.conn.execute(MILESTONES, {"case_id": ctx.case.id}).all()
    if not rows:
        return [("no_milestones", {})]
    return [("milestone_open", {"name": r.name, "due": r.due_date.isoformat()}) for r in rows if r.done_on is None]


def acceptance_passed(ctx: StepContext) -> list:
    report = ctx.evidence.get("acceptance_report")
    if report is None:
        return []           # the step's evidence rule says so first
    quality = code_of(str(report.fields.get("quality", "")), QUALITY)
    if quality is None:
        return [("acceptance_quality_unknown", {"value": report.fields.get("quality"), "known": ", ".join(QUALITY)})]
    ctx.data.update(quality=quality, report_no=report.fields.get("report_no"), firm=report.fields.get("firm"))
    if quality == "fail":
        return [("acceptance_failed", {"report": report.fields.get("report_no")})]
    return []


def final_accounts_settled(ctx: StepContext) -> list:
    """The settled cost is within the allocated funds and covers what was already paid out."""
    accounts = ctx.evidence.get("final_accounts")
    if accounts is None:
        return []
    try:
        cost = parse_amount(accounts.fields.get("final_cost"), "final_cost", allow_zero=True)
    except BadInput:
        return [("final_cost_not_amount", {"value": accounts.fields.get("final_cost")})]
    money_now = totals_now(ctx.conn, ctx.case.id)
    failures = []
    if cost > money_now["allocated"]:
        failures.append(("cost_over_allocation", {"cost": cost, "allocated": money_now["allocated"]}))
    if money_now["committed"] > cost:
        failures.append(("paid_over_cost", {"paid": money_now["committed"], "cost": cost}))
    ctx.data.update(final_cost=str(cost), **{k: str(money_now[k]) for k in
                                             ("allocated", "disbursed", "retention", "other", "carry_over")})
    return failures + _cost_within_contract(ctx, cost, money_now["committed"])


def _cost_within_contract(ctx: StepContext, cost: Decimal, committed: Decimal) -> list:
    """The final accounts (决算) settle the contractor's work within its contract's amount (合同金额, as a
    supplementary contract may have raised it), the rest being what was paid to anyone else (a contractor
    it replaced, beneficiaries, transfers; retention held included): work beyond the contract without a
    supplementary contract has no basis to be settled (无合同依据), and could not be paid either. A
    contract recorded without an amount bounds nothing."""
    attrs = ctx.case.attrs
    contractor = (attrs.get("contractor") or "").strip()
    if not contractor or attrs.get("contract_amount") in (None, ""):
        return []
    contract = Decimal(attrs["contract_amount"])
    others = committed - paid_under_contract(ctx.conn, ctx.case.id, contractor, attrs.get("contractor_code"))
    ctx.data["contract_amount"] = str(contract)
    bound = contract + max(others, Decimal("0.00"))
    if cost <= bound:
        return []
    said = {"cost": f"{cost:,.2f}", "contract": f"{contract:,.2f}", "contractor": contractor,
            "over": f"{cost - bound:,.2f}"}
    if others <= 0:
        return [("final_cost_over_contract", said)]
    return [("final_cost_over_contracts", {**said, "others": f"{others:,.2f}", "bound": f"{bound:,.2f}"})]


# The evidence types of a contract, a procedure's own first: a new contract (contractor_change), a
# supplementary contract (supplementary_contract), the contractor notice's (funding).
CONTRACTS = ("new_contract", "supplementary_contract", "contractor_selection")


def contract_within_allocation(ctx: StepContext) -> list:
    """A contract's amount (合同金额) is not above the money allocated to the project and in force less
    what was paid out of it to anyone else (retention held included): a contractor it replaces, the
    beneficiaries, transfers. So a new contract (new_contract) is checked against what the replaced
    contractor has not been paid, and two contracts together never exceed the money; a supplementary
    contract (补充合同) raises the amount of the contract in force, whose own payments stay under it;
    the contractor notice's contract (contractor_selection) comes before any payment. Judged when the
    contract is recorded and again when the county confirms it (payments may be made in between).
    A contract recorded before contracts had an amount is not checked (nothing to read)."""
    own = [e for e in ctx.step.evidence if e in CONTRACTS] or [
        e for e in CONTRACTS if e in ctx.app.config.workflows[ctx.case.kind].procedures[ctx.procedure].evidence_types()]
    etype = next((e for e in own if e in ctx.evidence), None)
    if etype is None:
        return []           # the step's evidence rule says so first
    item = ctx.evidence[etype]
    try:
        amount = contract_amount(item.fields)
    except BadInput:
        return [("contract_amount_not_amount", {"value": item.fields.get("contract_amount")})]
    if amount is None:
        return []
    # a supplementary contract is the contract in force's; the others name their contractor
    named = ctx.case.attrs if etype == "supplementary_contract" else item.fields
    contractor = str(named.get("contractor") or "").strip()
    money_now = totals_now(ctx.conn, ctx.case.id)
    allocated = money_now["allocated"]
    code = named.get("contractor_code" if etype == "supplementary_contract" else "credit_code")
    others = money_now["committed"] - paid_under_contract(ctx.conn, ctx.case.id, contractor, code)
    ctx.data.update(contract_amount=str(amount), allocated=str(allocated))
    if others > 0:
        ctx.data["paid_to_others"] = str(others)
    if amount > allocated - others:
        said = {"amount": f"{amount:,.2f}", "allocated": f"{allocated:,.2f}"}
        if others <= 0:
            return [("contract_over_allocation", said)]
        return [("contract_over_money_left", {**said, "others": f"{others:,.2f}",
                                              "left": f"{max(allocated - others, Decimal('0.00')):,.2f}"})]
    return []


def contractor_identified(ctx: StepContext) -> list:
    """A contract recorded now names its contractor's unified social credit code (统一社会信用代码, on its
    business licence; the evidence field checks its check character): payments are matched to the
    contractor by it, not by a name two firms may share or a typist spell differently. A contract
    recorded before contracts kept the code stays as it was (its payments matched by the name)."""
    etype = next((e for e in ctx.step.evidence if e in ("contractor_selection", "new_contract")), None)
    item = ctx.evidence.get(etype) if etype else None
    if item is None:
        return []
    contractor = str(item.fields.get("contractor") or "-")
    if not item.fields.get("credit_code"):
        return [("contractor_code_missing", {"contractor": contractor, "etype": etype, "case": ctx.case.id})]
    other = code_held_by_another(ctx.conn, ctx.case.id, ctx.case.attrs, contractor, item.fields["credit_code"])
    if other is None:
        return []
    return [("contractor_code_taken", {"code": item.fields["credit_code"], "contractor": contractor, "other": other[0],
                                       "other_case": other[1], "other_title": other[2], "etype": etype,
                                       "case": ctx.case.id})]


# The projects whose attributes mention a credit code (its contractor, or one it replaced): the few a
# code can be on, found by the projects' index (kind) and the text, then read exactly (contracts_of).
_PROJECTS_WITH_CODE = (select(t.cases.c.id, t.cases.c.title, t.cases.c.attrs)
                       .where(t.cases.c.kind == "project", cast(t.cases.c.attrs, String).contains(bindparam("code")))
                       .order_by(t.cases.c.id))


def code_held_by_another(conn, case_id: int, attrs: dict, contractor: str, code: str) -> tuple[str, int, str] | None:
    """A unified social credit code is one legal person's (GB 32100-2015): the contractor of another name
    that a project's contract (this one's, or another project's) already holds it for, as (name, project
    case, project title); None when no other contractor has it. Payments are matched to a contractor by
    it, so two firms under one code would be counted as one."""
    for row in conn.execute(_PROJECTS_WITH_CODE, {"code": code}):
        held = contracts_of(attrs if row.id == case_id else row.attrs)
        other = next((name for name, known in held if known == code and name_key(name) != name_key(contractor)), None)
        if other is not None:
            return other, row.id, row.title
    return None


def assets_registered(ctx: StepContext) -> list:
    count = ctx.conn.execute(select(func.count()).select_from(t.project_assets).where(
        t.project_assets.c.case_id == ctx.case.id)).scalar()
    return [] if count else [("no_assets_handed_over", {})]


def original_approver(ctx: StepContext) -> list:
    """A plan change goes back to the body that approved the library entry: a holder of that post."""
    approval = ctx.case.attrs.get("library_approval")
    if not approval:
        return [("no_library_approval", {})]
    ctx.data["original_approval"] = {k: approval.get(k) for k in ("person", "name", "role", "on")}
    ctx.data["same_person"] = approval.get("person_id") == ctx.actor.person_id
    if ctx.actor.first_role([approval["role"]], ctx.case.region_code) is None:
        name = ctx.conn.execute(select(t.persons.c.name).where(t.persons.c.id == approval.get("person_id"))).scalar()
        person = Msg("words46.person", {"name": name, "code": approval.get("person")}) if name else approval.get("person", "-")
        return [("not_original_approver", {"role": approval["role"], "person": person})]
    return []


def report_period_open(ctx: StepContext) -> list:
    """A monthly disbursement report covers the days since the last report: one dated on or before the
    latest report has none of its own."""
    failure = reported_by(ctx.conn, ctx.case.id, ctx.effective_date)
    return [failure] if failure else []


_REPORT_OVERDUE = (select(func.min(t.deadlines.c.due_on)).where(
    t.deadlines.c.case_id == bindparam("case_id"), t.deadlines.c.rule == "disbursement_report",
    t.deadlines.c.status == "open", t.deadlines.c.due_on < bindparam("on")))


def reports_missing(conn, case_id: int, on: date) -> list[str]:
    """The months (YYYY-MM) whose monthly disbursement report was due by `on` and is not filed: from the
    first report overdue (its deadline still open) to the last one due before `on`."""
    first = conn.execute(_REPORT_OVERDUE, {"case_id": case_id, "on": on}).scalar()
    months, day = [], first
    while day is not None and day < on:
        months.append(f"{day.year:04d}-{day.month:02d}")
        day = date(day.year + day.month // 12, day.month % 12 + 1, min(day.day, 28))
    return months


def decides(app, conn, case, procedure: str, on) -> list[tuple[str, Msg]]:
    """Completion and final accounts (竣工验收, 决算) with monthly disbursement reports not filed: a warning
    naming the months, and who files them. Not a refusal: the report is the county's, already overdue on its
    own ladder, and the works are done whether or not it was filed (README: fund projects)."""
    if procedure != "completion":
        return []
    months = reports_missing(conn, case.id, on)
    if not months:
        return []
    return [("warning", Msg("project.reports_missing", dict(count=len(months), months=", ".join(months),
                                                             case=case.id)))]


RULES = WorkflowRules(
    checks={"proposal_complete": proposal_complete, "performance_target": performance_target,
            "is_project_leader": is_project_leader, "milestones_done": milestones_done,
            "acceptance_passed": acceptance_passed, "final_accounts_settled": final_accounts_settled,
            "assets_registered": assets_registered, "original_approver": original_approver,
            "report_period_open": report_period_open, "contract_within_allocation": contract_within_allocation,
            "contractor_identified": contractor_identified},
    who_checks=frozenset({"is_project_leader", "original_approver"}),
    handlers={"allocate": allocate, "schedule": schedule, "milestone": milestone, "record": record,
              "handover": handover, "change": change, "announcement": announcement},
    effects={"record_library_entry": record_library_entry, "record_funding": record_funding,
             "record_completion": record_completion, "record_consolidation": record_consolidation,
             "apply_plan_change": apply_plan_change, "apply_contractor_change": apply_contractor_change,
             "apply_supplementary_contract": apply_supplementary_contract},
    decides=decides,
)
