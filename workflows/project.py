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
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Sequence

from sqlalchemy import bindparam, delete, func, insert, select, update

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.services.case_actions import append_case_event
from engine.domain.errors import BadInput, Codes, Msg, NotFound, RuleViolation
from engine.reads.funds import money, project_figures, totals_now
from engine.services.org import require_reader, require_role
from engine.services.procedures import CaseRow, StepContext, WorkflowRules, load_cases, pending_for_stage
from engine.domain.regions import covers, level_of
from .household_codes import code_of

CATEGORIES = {  # 项目类别
    "industry": "产业发展", "infrastructure": "基础设施", "public_service": "公共服务", "employment": "就业扶贫",
    "education": "教育扶贫", "health": "健康扶贫", "housing": "危房改造", "relocation": "易地扶贫搬迁",
    "other": "其他",
}
FUND_SOURCES = {  # 资金来源
    "central": "中央财政", "provincial": "省级财政", "city": "市级财政", "county": "县级财政",
    "integrated": "统筹整合资金", "other": "其他",
}
PAYEE_KINDS = {  # 支付对象: only contractor and beneficiary count as spent (engine/funds.py)
    "contractor": "施工单位", "beneficiary": "受益农户", "retention": "质保金", "other": "其他",
}
ASSET_CLASSES = {"operating": "经营性资产", "public_welfare": "公益性资产", "household": "到户类资产"}
QUALITY = {"excellent": "优质", "pass": "合格", "fail": "不合格"}

# Beneficiaries are registered poor households (建档立卡), also once exited (transition period).
BENEFICIARY_STAGES = ("identified", "assisted", "exited", "consolidated")
REGISTRAR_ROLES = ("village_secretary", "village_director", "first_secretary", "resident_team_leader",
                   "township_staff", "township_head", "township_secretary", "county_office_staff",
                   "county_office_director", "unit_head")
# The head of the responsible unit: a county or city unit's head, a township government's head, or
# the poverty office's director for its own projects.
UNIT_HEAD_ROLES = ("unit_head", "township_head", "county_office_director")
# County treasury reimbursement (县级报账制), township finance paying the contractor, the unit itself.
PAYER_ROLES = ("county_office_staff", "county_office_director", "township_staff", "township_head", "unit_head")
PAYABLE_STAGES = ("assisted", "exited", "consolidated")
MAX_AMOUNT = Decimal("999999999999.99")   # Numeric(14, 2)


# --- amounts and code lists ----------------------------------------------------------------------

def parse_amount(value: Any, what: str | Msg, allow_zero: bool = False) -> Decimal:
    """An amount of yuan as an exact Decimal with at most two decimal places, or a clear refusal."""
    text = str(value if value is not None else "").strip().replace(",", "").replace("，", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BadInput("project.bad_amount", what=what, value=value) from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero) or amount > MAX_AMOUNT \
            or amount != amount.quantize(Decimal("0.01")):
        raise BadInput("project.bad_amount", what=what, value=value)
    return amount.quantize(Decimal("0.01"))


CODE_LABELS = {"fund_source": "fund_source", "category": "category", "asset_class": "asset_class",
               "payee_kind": "payee_kind"}   # a code list's field -> its label prefix in the catalogue


def _code(value: str, codes: dict[str, str], field: str) -> str:
    found = code_of(value, codes)
    if found is None:
        raise BadInput("project.bad_code", field=field, value=value, known=Codes(CODE_LABELS[field], tuple(codes)))
    return found


def _fund_lines(lines: Sequence[tuple[str, Any, str | None]], what: str) -> list[dict[str, Any]]:
    out = []
    for source, amount, document in lines:
        out.append({"source": _code(source, FUND_SOURCES, "fund_source"), "amount": parse_amount(amount, what),
                    "document": (document or "").strip() or None})
    return out


def _as_json(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**line, "amount": str(line["amount"])} for line in lines]


def _sum(lines: list[dict[str, Any]]) -> Decimal:
    return sum((line["amount"] for line in lines), Decimal("0.00"))


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


_PERSON = select(t.persons.c.id, t.persons.c.code, t.persons.c.name, t.persons.c.active).where(
    t.persons.c.code == bindparam("code"))
_POSTS = select(t.role_assignments.c.role, t.role_assignments.c.region_code).where(
    t.role_assignments.c.person_id == bindparam("person_id"), t.role_assignments.c.revoked_at.is_(None))
_REGION = select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code == bindparam("code"))


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
        raise RuleViolation("project.person_cannot_act", person=person.code, what=what, region=site)
    return person


def _check_beneficiaries(conn, case_ids: Sequence[int], site: str) -> dict[int, CaseRow]:
    """Household cases within the site, registered poor (not applicants, not removed)."""
    found = load_cases(conn, list(dict.fromkeys(case_ids))) if case_ids else {}
    for case in found.values():
        if case.kind != "household":
            raise BadInput("project.beneficiary_not_household", case=case.id)
        if not covers(site, case.region_code):
            raise RuleViolation("project.beneficiary_outside", case=case.id, site=site)
        if case.stage not in BENEFICIARY_STAGES:
            raise RuleViolation("project.beneficiary_not_registered", case=case.id, stage=case.stage)
    return found


def register_project(app: App, actor: Actor, p: ProjectInput) -> int:
    """Record a proposed project with its budget and beneficiaries; returns its case id. All or nothing.

    A project without a performance target is refused before anything else is looked at [NAT]."""
    targets = [x.strip() for x in (p.targets or ()) if x and x.strip()]
    if not targets:
        raise RuleViolation("project.no_performance_target")
    name = (p.name or "").strip()
    if not name:
        raise BadInput("project.no_name")
    category = _code(p.category, CATEGORIES, "category")
    if level_of(p.site) not in ("village", "township"):
        raise BadInput("project.bad_site", region=p.site)
    unit = (p.responsible_unit or "").strip()
    if not unit:
        raise BadInput("project.no_unit")
    budget = _fund_lines(p.funds or (), "budget")
    if not budget:
        raise BadInput("project.no_budget")
    if not p.beneficiaries:
        raise BadInput("project.no_beneficiaries")
    today = app.clock.today()
    proposed_on = p.proposed_on or today
    if proposed_on > today:
        raise RuleViolation("date.future", date=proposed_on, today=today)
    if p.complete_by <= proposed_on:
        raise BadInput("project.completion_not_after", date=p.complete_by, proposed_on=proposed_on)
    assignment = require_role(app, actor, REGISTRAR_ROLES, p.site, "project add")
    workflow = app.config.workflows["project"]
    with app.transaction() as conn:
        if conn.execute(_REGION, {"code": p.site}).first() is None:
            raise BadInput("region.unknown", code=p.site)
        leader = _named_person(app, conn, p.leader, None, p.site, "leader")
        head = _named_person(app, conn, p.unit_head, UNIT_HEAD_ROLES, p.site, "unit_head")
        households = _check_beneficiaries(conn, p.beneficiaries, p.site)
        now = app.clock.now()
        pending = pending_for_stage(workflow, workflow.initial)
        attrs = {"category": category, "description": (p.description or "").strip() or None,
                 "responsible_unit": unit, "unit_head": head.code, "unit_head_id": head.id,
                 "unit_head_name": head.name, "leader": leader.code, "leader_id": leader.id,
                 "leader_name": leader.name, "targets": targets, "complete_by": p.complete_by.isoformat(),
                 "proposed_on": proposed_on.isoformat(),
                 # its steps come after it was proposed: the engine's date-order rule starts here
                 "last_step_on": proposed_on.isoformat(), "last_step": "proposed"}
        case_id = conn.execute(insert(t.cases), {
            "kind": "project", "region_code": p.site, "title": name[:200], "stage": workflow.initial, "version": 1,
            "workflow_version": workflow.version, "attrs": attrs, "created_at": now, "updated_at": now,
            "event_count": 0, "last_event_hash": None, "open_procedure_id": None, "pending_procedure": pending[0],
            "pending_step": pending[1]}).inserted_primary_key[0]
        conn.execute(insert(t.project_funds), [
            {"case_id": case_id, "source": line["source"], "amount": line["amount"], "kind": "budget",
             "document": line["document"], "on_date": proposed_on, "recorded_by": actor.person_id,
             "recorded_at": now, "superseded_on": None} for line in budget])
        conn.execute(insert(t.project_beneficiaries),
                     [{"project_id": case_id, "case_id": h} for h in sorted(households)])
        case = CaseRow(case_id, "project", p.site, name[:200], workflow.initial, 1, attrs, 0, None)
        append_case_event(app, conn, actor, case, "case_registered", assignment.role, name=name, category=category,
                          responsible_unit=unit, unit_head=head.code, leader=leader.code, targets=targets,
                          budget=_as_json(budget), budget_total=str(_sum(budget)),
                          beneficiaries=sorted(households), complete_by=p.complete_by.isoformat(),
                          proposed_on=proposed_on.isoformat())
        return case_id


# --- what a project holds -------------------------------------------------------------------------

_BUDGET_NOW = select(t.project_funds).where(
    t.project_funds.c.case_id == bindparam("case_id"), t.project_funds.c.kind == "budget",
    t.project_funds.c.superseded_on.is_(None)).order_by(t.project_funds.c.id)
_BENEFICIARIES = (select(t.cases.c.id, t.cases.c.title, t.cases.c.stage, t.cases.c.region_code)
                  .join(t.project_beneficiaries, t.project_beneficiaries.c.case_id == t.cases.c.id)
                  .where(t.project_beneficiaries.c.project_id == bindparam("case_id")).order_by(t.cases.c.id))
_MILESTONES = select(t.project_milestones).where(
    t.project_milestones.c.case_id == bindparam("case_id")).order_by(t.project_milestones.c.seq)
_ASSETS = select(t.project_assets).where(
    t.project_assets.c.case_id == bindparam("case_id")).order_by(t.project_assets.c.id)


def _budget_lines(conn, case_id: int) -> list[dict[str, Any]]:
    return [{"source": r.source, "amount": money(r.amount), "document": r.document}
            for r in conn.execute(_BUDGET_NOW, {"case_id": case_id})]


def _targets(attrs: dict) -> list[str]:
    return [x for x in attrs.get("targets") or [] if str(x).strip()]


# --- checks (each returns the unmet conditions, so `case next` shows them too) ---------------------

def proposal_complete(ctx: StepContext) -> list:
    """What a library entry needs [LOCAL mandatory fields]: target, budget, beneficiaries, a date ahead."""
    failures: list = []
    attrs = ctx.case.attrs
    if not _targets(attrs):
        failures.append(("no_performance_target", {}))
    budget = _budget_lines(ctx.conn, ctx.case.id)
    if _sum(budget) <= 0:
        failures.append(("no_budget", {}))
    households = ctx.conn.execute(_BENEFICIARIES, {"case_id": ctx.case.id}).all()
    if not households:
        failures.append(("no_beneficiaries", {}))
    for h in households:
        if h.stage not in BENEFICIARY_STAGES:
            failures.append(("beneficiary_not_registered", {"case": h.id, "stage": h.stage}))
    if date.fromisoformat(attrs["complete_by"]) <= ctx.effective_date:
        failures.append(("completion_passed", {"date": attrs["complete_by"]}))
    ctx.data.update(budget=_as_json(budget), budget_total=str(_sum(budget)),
                    beneficiaries=[h.id for h in households])
    return failures


def performance_target(ctx: StepContext) -> list:
    """No performance target: no library entry; the target is approved together with the budget [NAT]."""
    targets = _targets(ctx.case.attrs)
    ctx.data["targets"] = targets
    return [] if targets else [("no_performance_target", {})]


def is_project_leader(ctx: StepContext) -> list:
    if ctx.case.attrs.get("leader_id") != ctx.actor.person_id:
        return [("not_project_leader", {"leader": ctx.case.attrs.get("leader", "-")})]
    return []


def milestones_done(ctx: StepContext) -> list:
    rows = ctx.conn.execute(_MILESTONES, {"case_id": ctx.case.id}).all()
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
    return failures


def assets_registered(ctx: StepContext) -> list:
    count = ctx.conn.execute(select(func.count()).select_from(t.project_assets).where(
        t.project_assets.c.case_id == ctx.case.id)).scalar()
    return [] if count else [("no_assets_handed_over", {})]


def original_approver(ctx: StepContext) -> list:
    """A plan change goes back to the body that approved the library entry: a holder of that post."""
    approval = ctx.case.attrs.get("library_approval")
    if not approval:
        return [("no_library_approval", {})]
    ctx.data["original_approval"] = {k: approval.get(k) for k in ("person", "role", "on")}
    ctx.data["same_person"] = approval.get("person_id") == ctx.actor.person_id
    if ctx.actor.first_role([approval["role"]], ctx.case.region_code) is None:
        return [("not_original_approver", {"role": approval["role"], "person": approval.get("person", "-")})]
    return []


# --- step handlers (by step type) -----------------------------------------------------------------

_ALLOCATED_NOW = select(t.project_funds.c.id).where(
    t.project_funds.c.case_id == bindparam("case_id"), t.project_funds.c.kind == "allocated",
    t.project_funds.c.superseded_on.is_(None))


def allocate(ctx: StepContext) -> None:
    """Funds allocated (资金下达) from their sources, within the approved budget."""
    lines = _fund_lines(ctx.inputs.funds, "allocation")
    if not lines:
        raise BadInput("project.no_funds")
    budget = _sum(_budget_lines(ctx.conn, ctx.case.id))
    total = _sum(lines)
    if total > budget:
        raise RuleViolation("project.over_budget", case=ctx.case.id, allocated=total, budget=budget)
    # An earlier funding procedure that did not complete (an objection upheld) left its allocation:
    # this one replaces it (kept on record, superseded from today).
    earlier = [r.id for r in ctx.conn.execute(_ALLOCATED_NOW, {"case_id": ctx.case.id})]
    ctx.data.update(allocation=_as_json(lines), allocated_total=str(total), budget_total=str(budget),
                    replaces=earlier)
    case_id, day, who, now = ctx.case.id, ctx.effective_date, ctx.actor.person_id, ctx.app.clock.now()

    def write(conn) -> None:
        if earlier:
            conn.execute(update(t.project_funds).where(t.project_funds.c.id.in_(earlier)).values(superseded_on=day))
        conn.execute(insert(t.project_funds), [
            {"case_id": case_id, "source": line["source"], "amount": line["amount"], "kind": "allocated",
             "document": line["document"], "on_date": day, "recorded_by": who, "recorded_at": now,
             "superseded_on": None} for line in lines])
    ctx.writes.append(write)


def schedule(ctx: StepContext) -> None:
    """倒排工期: milestones counted back from the planned completion date, each before it and in order.

    A milestone's date is a date, or `-N`: N days before the completion date."""
    complete_by = date.fromisoformat(ctx.case.attrs["complete_by"])
    if not ctx.inputs.milestones:
        raise BadInput("project.no_milestones")
    if ctx.conn.execute(_MILESTONES, {"case_id": ctx.case.id}).first() is not None:
        raise RuleViolation("project.already_scheduled", case=ctx.case.id)
    items, names, previous = [], set(), None
    for seq, (name, when) in enumerate(ctx.inputs.milestones, start=1):
        name = (name or "").strip()
        if not name or name in names:
            raise BadInput("project.bad_milestone_name", name=name or "-")
        names.add(name)
        spec = str(when).strip()
        try:
            due = complete_by - timedelta(days=int(spec[1:])) if spec.startswith("-") else date.fromisoformat(spec)
        except ValueError:
            raise BadInput("project.bad_milestone_date", name=name, value=spec) from None
        if due <= ctx.effective_date:
            raise RuleViolation("project.milestone_not_ahead", name=name, due=due, date=ctx.effective_date)
        if due > complete_by:
            raise RuleViolation("project.milestone_after_completion", name=name, due=due, complete_by=complete_by)
        if previous is not None and due <= previous:
            raise RuleViolation("project.milestones_out_of_order", name=name, due=due, previous=previous)
        previous = due
        items.append({"seq": seq, "name": name, "due_date": due.isoformat(),
                      "days_before_completion": (complete_by - due).days})
    ctx.data.update(milestones=items, complete_by=complete_by.isoformat())
    case_id, who = ctx.case.id, ctx.actor.person_id

    def write(conn) -> None:
        conn.execute(insert(t.project_milestones), [
            {"case_id": case_id, "seq": i["seq"], "name": i["name"], "due_date": date.fromisoformat(i["due_date"]),
             "done_on": None, "recorded_by": who} for i in items])
    ctx.writes.append(write)


def milestone(ctx: StepContext) -> None:
    """A milestone of the schedule is reached, in order; how late it was is recorded."""
    wanted = (ctx.inputs.milestone or "").strip()
    if not wanted:
        raise BadInput("project.milestone_required")
    rows = ctx.conn.execute(_MILESTONES, {"case_id": ctx.case.id}).all()
    row = next((r for r in rows if r.name == wanted or str(r.seq) == wanted), None)
    if row is None:
        raise BadInput("project.unknown_milestone", milestone=wanted,
                       known=", ".join(f"{r.seq} {r.name}" for r in rows) or "-")
    if row.done_on is not None:
        raise RuleViolation("project.milestone_done", milestone=row.name, on=row.done_on)
    earlier = [r for r in rows if r.seq < row.seq and r.done_on is None]
    if earlier:
        raise RuleViolation("project.milestone_order", milestone=row.name, earlier=earlier[0].name)
    ctx.data.update(name=row.name, seq=row.seq, due_date=row.due_date.isoformat(),
                    days_late=max(0, (ctx.effective_date - row.due_date).days))
    milestone_id, day = row.id, ctx.effective_date
    ctx.writes.append(lambda conn: conn.execute(
        update(t.project_milestones).where(t.project_milestones.c.id == milestone_id).values(done_on=day)))


def record(ctx: StepContext) -> None:
    """The monthly disbursement report records the project's figures as of its date."""
    if ctx.step.key != "disbursement_report":
        return
    figures = project_figures(ctx.conn, [ctx.case.id], ctx.effective_date)[ctx.case.id]
    ctx.data.update(as_of=ctx.effective_date.isoformat(),
                    **{k: (str(v) if isinstance(v, Decimal) else v) for k, v in figures.items()})


def handover(ctx: StepContext) -> None:
    """确权移交: each asset by class, with its value and a named owner (a household asset: a beneficiary)."""
    existing = ctx.conn.execute(_ASSETS, {"case_id": ctx.case.id}).all()
    if not ctx.inputs.assets and not existing:
        raise BadInput("project.no_assets")
    seen = {(r.asset_class, r.name) for r in existing}
    beneficiaries = {r.id for r in ctx.conn.execute(_BENEFICIARIES, {"case_id": ctx.case.id})}
    items = []
    for cls, name, value, owner, owner_case in ctx.inputs.assets:
        cls = _code(cls, ASSET_CLASSES, "asset_class")
        name, owner = (name or "").strip(), (owner or "").strip()
        if not name or not owner:
            raise BadInput("project.asset_incomplete", name=name or "-")
        amount = parse_amount(value, Msg("amount_of.asset", {"name": name}))
        if (cls, name) in seen:
            raise BadInput("project.asset_duplicate", name=name, asset_class=cls)
        seen.add((cls, name))
        if cls == "household":
            if owner_case is None or int(owner_case) not in beneficiaries:
                raise RuleViolation("project.asset_owner_not_beneficiary", name=name, case=owner_case or "-")
        elif owner_case is not None:
            raise BadInput("project.asset_owner_case", name=name)
        items.append({"asset_class": cls, "name": name, "value": amount, "owner": owner,
                      "owner_case_id": int(owner_case) if owner_case is not None else None})
    ctx.data.update(assets=[{**i, "value": str(i["value"])} for i in items])
    case_id, day, who, now = ctx.case.id, ctx.effective_date, ctx.actor.person_id, ctx.app.clock.now()
    if items:
        ctx.writes.append(lambda conn: conn.execute(insert(t.project_assets), [
            {"case_id": case_id, **i, "handed_over_on": day, "recorded_by": who, "recorded_at": now} for i in items]))


def change(ctx: StepContext) -> None:
    """A plan change requested: new budget, completion date and/or beneficiaries, with the old values."""
    inputs, case, conn = ctx.inputs, ctx.case, ctx.conn
    if not (inputs.reason and inputs.reason.strip()):
        raise BadInput("project.change_reason_required")
    if not (inputs.funds or inputs.completion or inputs.add_beneficiaries or inputs.remove_beneficiaries):
        raise BadInput("project.no_change")
    changes: dict[str, Any] = {}
    if inputs.funds:
        new = _fund_lines(inputs.funds, "budget")
        old = _budget_lines(conn, case.id)
        allocated = totals_now(conn, case.id)["allocated"]
        if _sum(new) < allocated:
            raise RuleViolation("project.budget_below_allocation", budget=_sum(new), allocated=allocated)
        changes["budget"] = {"old": _as_json(old), "new": _as_json(new), "old_total": str(_sum(old)),
                             "new_total": str(_sum(new))}
    if inputs.completion:
        old_date = date.fromisoformat(case.attrs["complete_by"])
        if inputs.completion <= ctx.effective_date:
            raise RuleViolation("project.completion_not_ahead", date=inputs.completion, today=ctx.effective_date)
        open_due = [r.due_date for r in conn.execute(_MILESTONES, {"case_id": case.id}) if r.done_on is None]
        if open_due and inputs.completion < max(open_due):
            raise RuleViolation("project.completion_before_milestone", date=inputs.completion, due=max(open_due))
        changes["complete_by"] = {"old": old_date.isoformat(), "new": inputs.completion.isoformat()}
    if inputs.add_beneficiaries or inputs.remove_beneficiaries:
        current = [r.id for r in conn.execute(_BENEFICIARIES, {"case_id": case.id})]
        added = [c for c in dict.fromkeys(inputs.add_beneficiaries) if c not in current]
        _check_beneficiaries(conn, added, case.region_code)
        removed = list(dict.fromkeys(inputs.remove_beneficiaries))
        unknown = [c for c in removed if c not in current]
        if unknown:
            raise BadInput("project.not_beneficiary", case=", ".join(map(str, unknown)))
        if not ((set(current) - set(removed)) | set(added)):
            raise RuleViolation("project.no_beneficiaries_left")
        changes["beneficiaries"] = {"old": current, "added": added, "removed": removed}
    ctx.data["changes"] = changes


_REQUEST_OF = select(t.steps.c.data).where(t.steps.c.procedure_id == bindparam("procedure_id"),
                                           t.steps.c.step_key == "change_request", t.steps.c.voided_at.is_(None))


def announcement(ctx: StepContext) -> None:
    """The changed plan announced: the changes requested (and approved) are what takes effect."""
    if ctx.step.key != "change_announcement":
        return
    request = ctx.conn.execute(_REQUEST_OF, {"procedure_id": ctx.case.open_procedure_id}).scalar()
    ctx.data["changes"] = (request or {}).get("changes", {})


# --- effects when a procedure completes -------------------------------------------------------------

def record_library_entry(ctx: StepContext, attrs: dict) -> None:
    post = ctx.actor.first_role(ctx.step.roles, ctx.case.region_code)
    attrs["library_approval"] = {"person_id": ctx.actor.person_id, "person": ctx.actor.code,
                                 "name": ctx.actor.name, "role": post.role if post else None,
                                 "on": ctx.effective_date.isoformat()}
    attrs["in_library_on"] = ctx.effective_date.isoformat()


def record_funding(ctx: StepContext, attrs: dict) -> None:
    attrs["funded_on"] = ctx.effective_date.isoformat()
    contractor = ctx.evidence.get("contractor_selection")
    if contractor is not None:
        attrs["contractor"] = contractor.fields.get("contractor")


def record_completion(ctx: StepContext, attrs: dict) -> None:
    attrs["completed_on"] = ctx.effective_date.isoformat()


def record_consolidation(ctx: StepContext, attrs: dict) -> None:
    attrs["consolidated_on"] = ctx.effective_date.isoformat()
    evaluation = ctx.evidence.get("performance_evaluation")
    if evaluation is not None:
        attrs["target_met"] = evaluation.fields.get("target_met")


def apply_plan_change(ctx: StepContext, attrs: dict) -> None:
    """The approved and announced changes take effect; the replaced budget stays on record."""
    changes = ctx.data.get("changes") or {}
    case_id, day, who, now = ctx.case.id, ctx.effective_date, ctx.actor.person_id, ctx.app.clock.now()
    if "complete_by" in changes:
        attrs["complete_by"] = changes["complete_by"]["new"]
    attrs.setdefault("plan_changes", []).append({"on": day.isoformat(), "changed": sorted(changes)})

    def write(conn) -> None:
        if "budget" in changes:
            conn.execute(update(t.project_funds).where(
                t.project_funds.c.case_id == case_id, t.project_funds.c.kind == "budget",
                t.project_funds.c.superseded_on.is_(None)).values(superseded_on=day))
            conn.execute(insert(t.project_funds), [
                {"case_id": case_id, "source": line["source"], "amount": Decimal(line["amount"]), "kind": "budget",
                 "document": line["document"], "on_date": day, "recorded_by": who, "recorded_at": now,
                 "superseded_on": None} for line in changes["budget"]["new"]])
        if "beneficiaries" in changes:
            removed, added = changes["beneficiaries"]["removed"], changes["beneficiaries"]["added"]
            if removed:
                conn.execute(delete(t.project_beneficiaries).where(
                    t.project_beneficiaries.c.project_id == case_id, t.project_beneficiaries.c.case_id.in_(removed)))
            if added:
                conn.execute(insert(t.project_beneficiaries), [{"project_id": case_id, "case_id": c} for c in added])
    ctx.writes.append(write)


RULES = WorkflowRules(
    checks={"proposal_complete": proposal_complete, "performance_target": performance_target,
            "is_project_leader": is_project_leader, "milestones_done": milestones_done,
            "acceptance_passed": acceptance_passed, "final_accounts_settled": final_accounts_settled,
            "assets_registered": assets_registered, "original_approver": original_approver},
    handlers={"allocate": allocate, "schedule": schedule, "milestone": milestone, "record": record,
              "handover": handover, "change": change, "announcement": announcement},
    effects={"record_library_entry": record_library_entry, "record_funding": record_funding,
             "record_completion": record_completion, "record_consolidation": record_consolidation,
             "apply_plan_change": apply_plan_change},
)


# --- disbursements (支出) ----------------------------------------------------------------------------

@dataclass
class PaymentInput:
    amount: Any                     # yuan, a decimal string (or Decimal)
    payee_kind: str                 # contractor, beneficiary, retention, other
    payee: str
    paid_on: date | None = None     # default today
    reference: str | None = None    # voucher number (凭证号)
    from_retention: bool = False    # releases retention money held earlier to this payee


def record_disbursement(app: App, actor: Actor, case_id: int, pay: PaymentInput) -> int:
    """Record money paid out of a project's allocated funds, with its audit event; returns its id.

    Never beyond the allocated funds: everything recorded (spent, retention held, transfers) plus
    this payment must stay within them. Releasing retention money moves it to the contractor (or
    beneficiary), where it counts as spent."""
    kind = _code(pay.payee_kind, PAYEE_KINDS, "payee_kind")
    amount = parse_amount(pay.amount, "amount")
    payee = (pay.payee or "").strip()
    if not payee:
        raise BadInput("project.no_payee")
    if pay.from_retention and kind not in ("contractor", "beneficiary"):
        raise BadInput("project.release_to_payee", kind=kind)
    today = app.clock.today()
    paid_on = pay.paid_on or today
    if paid_on > today:
        raise RuleViolation("date.future", date=paid_on, today=today)
    with app.transaction() as conn:
        case = load_cases(conn, [case_id])[case_id]
        if case.kind != "project":
            raise BadInput("project.not_project", case=case_id)
        assignment = require_role(app, actor, PAYER_ROLES, case.region_code, "project pay")
        if case.stage not in PAYABLE_STAGES:
            raise RuleViolation("project.not_funded", case=case_id, stage=case.stage)
        funded_on = case.attrs.get("funded_on")
        if funded_on and paid_on < date.fromisoformat(funded_on):
            raise RuleViolation("project.paid_before_funding", case=case_id, date=paid_on, funded_on=funded_on)
        before = totals_now(conn, case_id)
        now = app.clock.now()
        base = {"case_id": case_id, "paid_on": paid_on, "payee": payee[:200],
                "reference": (pay.reference or "").strip()[:100] or None, "recorded_by": actor.person_id,
                "recorded_at": now}
        if pay.from_retention:
            if amount > before["retention"]:
                raise RuleViolation("project.retention_short", case=case_id, amount=amount, held=before["retention"])
            rows = [{**base, "amount": -amount, "payee_kind": "retention"},
                    {**base, "amount": amount, "payee_kind": kind}]
        else:
            if before["committed"] + amount > before["allocated"]:
                raise RuleViolation("project.over_allocation", case=case_id, amount=amount,
                                    committed=before["committed"], allocated=before["allocated"],
                                    available=before["available"])
            rows = [{**base, "amount": amount, "payee_kind": kind}]
        ids = [conn.execute(insert(t.disbursements), row).inserted_primary_key[0] for row in rows]
        after = totals_now(conn, case_id)
        append_case_event(app, conn, actor, case, "disbursement_recorded", assignment.role,
                          disbursement=ids[-1], rows=ids, paid_on=paid_on.isoformat(), amount=str(amount),
                          payee_kind=kind, payee=payee, reference=base["reference"], from_retention=pay.from_retention,
                          **{k: str(after[k]) for k in ("allocated", "disbursed", "retention", "other", "carry_over")})
        return ids[-1]


# --- reading a project --------------------------------------------------------------------------------

def project_detail(app: App, actor: Actor, case_id: int, as_of: date | None = None) -> dict[str, Any]:
    """A project with its money, beneficiaries, milestones, payments and assets, and its figures."""
    as_of = as_of or app.clock.today()
    with app.engine.connect() as conn:
        case = load_cases(conn, [case_id])[case_id]
        if case.kind != "project":
            raise BadInput("project.not_project", case=case_id)
        require_reader(app, actor, case.region_code)
        funds = conn.execute(select(t.project_funds).where(t.project_funds.c.case_id == case_id)
                             .order_by(t.project_funds.c.id)).all()
        households = conn.execute(_BENEFICIARIES, {"case_id": case_id}).all()
        milestones = conn.execute(_MILESTONES, {"case_id": case_id}).all()
        paid = conn.execute(select(t.disbursements).where(t.disbursements.c.case_id == case_id)
                            .order_by(t.disbursements.c.paid_on, t.disbursements.c.id)).all()
        assets = conn.execute(_ASSETS, {"case_id": case_id}).all()
        figures = project_figures(conn, [case_id], as_of).get(case_id)
        region = conn.execute(_REGION, {"code": case.region_code}).first()
    attrs = case.attrs
    return {
        "id": case.id, "title": case.title, "region": case.region_code, "region_name": region.name if region else None,
        "stage": case.stage, "version": case.version, "category": attrs.get("category"),
        "responsible_unit": attrs.get("responsible_unit"), "unit_head": attrs.get("unit_head"),
        "leader": attrs.get("leader"), "targets": attrs.get("targets", []), "complete_by": attrs.get("complete_by"),
        "proposed_on": attrs.get("proposed_on"), "contractor": attrs.get("contractor"),
        "library_approval": {k: v for k, v in (attrs.get("library_approval") or {}).items() if k != "person_id"},
        "funds": [{"id": f.id, "kind": f.kind, "source": f.source, "amount": money(f.amount), "document": f.document,
                   "on": f.on_date.isoformat(),
                   "superseded_on": f.superseded_on.isoformat() if f.superseded_on else None}
                  for f in funds],
        "beneficiaries": [{"case": h.id, "title": h.title, "stage": h.stage} for h in households],
        "milestones": [{"seq": m.seq, "name": m.name, "due": m.due_date.isoformat(),
                        "done": m.done_on.isoformat() if m.done_on else None,
                        "behind": m.done_on is None and m.due_date < as_of} for m in milestones],
        "disbursements": [{"id": d.id, "paid_on": d.paid_on.isoformat(), "amount": money(d.amount),
                           "payee_kind": d.payee_kind, "payee": d.payee, "reference": d.reference} for d in paid],
        "assets": [{"class": a.asset_class, "name": a.name, "value": money(a.value), "owner": a.owner,
                    "owner_case": a.owner_case_id, "handed_over_on": a.handed_over_on.isoformat()} for a in assets],
        "as_of": as_of.isoformat(), "figures": figures,
    }
