"""Fund projects' step handlers (by step type) and the effects when a procedure completes (project.yaml)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from engine.adapters import tables as t
from engine.domain.errors import BadInput, Msg, RuleViolation
from engine.reads.funds import totals_now
from engine.services.context import StepContext
from .project_money import report_figures
from .project_base import (ASSET_CLASSES, ASSETS, BENEFICIARIES, MILESTONES, as_json, budget_lines,
                           check_beneficiaries, checked_code, contract_amount, fund_lines, parse_amount, same_contractor,
                           settled_cost, sum_of)

# --- step handlers (by step type) -----------------------------------------------------------------

_ALLOCATED_NOW = select(t.project_funds.c.id).where(
    t.project_funds.c.case_id == bindparam("case_id"), t.project_funds.c.kind == "allocated",
    t.project_funds.c.superseded_on.is_(None))


def allocate(ctx: StepContext) -> None:
    """Funds allocated (资金下达) from their sources, within the approved budget."""
    lines = fund_lines(ctx.inputs.funds, "allocation")
    if not lines:
        raise BadInput("project.no_funds")
    budget = sum_of(budget_lines(ctx.conn, ctx.case.id))
    total = sum_of(lines)
    if total > budget:
        raise RuleViolation("project.over_budget", case=ctx.case.id, allocated=total, budget=budget)
    # An earlier funding procedure that did not complete (an objection upheld) left its allocation:
    # this one replaces it (kept on record, superseded from today).
    earlier = [r.id for r in ctx.conn.execute(_ALLOCATED_NOW, {"case_id": ctx.case.id})]
    ctx.data.update(allocation=as_json(lines), allocated_total=str(total), budget_total=str(budget),
                    replaces=earlier)
    ctx.writes.append(_allocation_writer(ctx, lines, earlier))


def _allocation_writer(ctx: StepContext, lines: list[dict[str, Any]], earlier: list[int]):
    case_id, day, who, now = ctx.case.id, ctx.effective_date, ctx.actor.person_id, ctx.app.clock.now()

    def write(conn) -> None:
        if earlier:
            conn.execute(update(t.project_funds).where(t.project_funds.c.id.in_(earlier)).values(superseded_on=day))
        conn.execute(insert(t.project_funds), [
            {"case_id": case_id, "source": line["source"], "amount": line["amount"], "kind": "allocated",
             "document": line["document"], "on_date": day, "recorded_by": who, "recorded_at": now,
             "superseded_on": None} for line in lines])
    return write


def schedule(ctx: StepContext) -> None:
    """倒排工期: milestones counted back from the planned completion date, each before it and in order.

    A milestone's date is a date, or `-N`: N days before the completion date."""
    complete_by = date.fromisoformat(ctx.case.attrs["complete_by"])
    if not ctx.inputs.milestones:
        raise BadInput("project.no_milestones")
    if ctx.conn.execute(MILESTONES, {"case_id": ctx.case.id}).first() is not None:
        raise RuleViolation("project.already_scheduled", case=ctx.case.id)
    items = _milestone_items(ctx.inputs.milestones, complete_by, ctx.effective_date)
    ctx.data.update(milestones=items, complete_by=complete_by.isoformat())
    case_id, who = ctx.case.id, ctx.actor.person_id

    def write(conn) -> None:
        conn.execute(insert(t.project_milestones), [
            {"case_id": case_id, "seq": i["seq"], "name": i["name"], "due_date": date.fromisoformat(i["due_date"]),
             "done_on": None, "recorded_by": who} for i in items])
    ctx.writes.append(write)


def _milestone_items(milestones, complete_by: date, today: date) -> list[dict[str, Any]]:
    """Each milestone named once, due after today and by the completion date, later than the one before."""
    items, names, previous = [], set(), None
    for seq, (name, when) in enumerate(milestones, start=1):
        name = (name or "").strip()
        if not name or name in names:
            raise BadInput("project.bad_milestone_name", name=name or "-")
        names.add(name)
        due = _milestone_due(name, when, complete_by)
        _milestone_in_order(name, due, complete_by, today, previous)
        previous = due
        items.append({"seq": seq, "name": name, "due_date": due.isoformat(),
                      "days_before_completion": (complete_by - due).days})
    return items


def _milestone_due(name: str, when: Any, complete_by: date) -> date:
    spec = str(when).strip()
    try:
        return complete_by - timedelta(days=int(spec[1:])) if spec.startswith("-") else date.fromisoformat(spec)
    except ValueError:
        raise BadInput("project.bad_milestone_date", name=name, value=spec) from None


def _milestone_in_order(name: str, due: date, complete_by: date, today: date, previous: date | None) -> None:
    if due <= today:
        raise RuleViolation("project.milestone_not_ahead", name=name, due=due, date=today)
    if due > complete_by:
        raise RuleViolation("project.milestone_after_completion", name=name, due=due, complete_by=complete_by)
    if previous is not None and due <= previous:
        raise RuleViolation("project.milestones_out_of_order", name=name, due=due, previous=previous)


def milestone(ctx: StepContext) -> None:
    """A milestone of the schedule is reached, in order; how late it was is recorded."""
    wanted = (ctx.inputs.milestone or "").strip()
    if not wanted:
        raise BadInput("project.milestone_required")
    row = _next_milestone(ctx.conn.execute(MILESTONES, {"case_id": ctx.case.id}).all(), wanted)
    ctx.data.update(name=row.name, seq=row.seq, due_date=row.due_date.isoformat(),
                    days_late=max(0, (ctx.effective_date - row.due_date).days))
    milestone_id, day = row.id, ctx.effective_date
    ctx.writes.append(lambda conn: conn.execute(
        update(t.project_milestones).where(t.project_milestones.c.id == milestone_id).values(done_on=day)))


def _next_milestone(rows: list, wanted: str):
    """The milestone named (or numbered) `wanted`: on the schedule, not done, every earlier one done."""
    row = next((r for r in rows if r.name == wanted or str(r.seq) == wanted), None)
    if row is None:
        raise BadInput("project.unknown_milestone", milestone=wanted,
                       known=", ".join(f"{r.seq} {r.name}" for r in rows) or "-")
    if row.done_on is not None:
        raise RuleViolation("project.milestone_done", milestone=row.name, on=row.done_on)
    earlier = [r for r in rows if r.seq < row.seq and r.done_on is None]
    if earlier:
        raise RuleViolation("project.milestone_order", milestone=row.name, earlier=earlier[0].name)
    return row


def record(ctx: StepContext) -> None:
    """The monthly disbursement report records the project's figures as of its date; a change of
    contractor, the contractor it replaces and the new contract."""
    if ctx.step.key == "contractor_change_request":
        _contractor_change(ctx)
        return
    if ctx.step.key == "supplementary_contract_request":
        _supplementary_contract(ctx)
        return
    if ctx.step.key != "disbursement_report":
        return
    figures = report_figures(ctx.conn, ctx.case.id, ctx.effective_date)
    ctx.data.update({k: (str(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, date) else v)
                     for k, v in figures.items()})


def _reason_and_contract(ctx: StepContext, no_reason: str, etype: str) -> tuple[str, Any]:
    """A contract's step: why (required, else `no_reason`), and its contract (evidence `etype`, None: the
    step's evidence rule says so first)."""
    reason = (ctx.inputs.reason or "").strip()
    if not reason:
        raise BadInput(no_reason)
    return reason, ctx.evidence.get(etype)


def _contractor_change(ctx: StepContext) -> None:
    """更换施工单位: why, and the new contract (its contractor, number, date, how chosen), naming another
    contractor than the one in force; the old one is recorded beside it."""
    reason, contract = _reason_and_contract(ctx, "project.contractor_change_reason", "new_contract")
    if contract is None:
        return              # the step's evidence rule says so first
    current = (ctx.case.attrs.get("contractor") or "").strip()
    new = str(contract.fields.get("contractor") or "").strip()
    amount, old_amount = contract_amount(contract.fields), ctx.case.attrs.get("contract_amount")
    # the same contractor under a new amount is a supplementary contract (补充合同), with its own procedure;
    # the same by its credit code where both have one, else by its name past spaces and full-width brackets
    if same_contractor((current, ctx.case.attrs.get("contractor_code")), (new, contract.fields.get("credit_code"))):
        raise RuleViolation("project.same_contractor", case=ctx.case.id, contractor=new)
    ctx.data["contractor_change"] = {
        "old": current or None, "old_since": ctx.case.attrs.get("contractor_since") or ctx.case.attrs.get("funded_on"),
        "new": new, "contract_no": contract.fields.get("contract_no"),
        **({"old_code": ctx.case.attrs["contractor_code"]} if ctx.case.attrs.get("contractor_code") else {}),
        **({"new_code": contract.fields["credit_code"]} if contract.fields.get("credit_code") else {}),
        "signed_on": str(contract.fields.get("signed_on") or "") or None, "method": contract.fields.get("method"),
        "reason": reason}
    if amount is not None:      # a contract recorded before contracts had an amount: as it was recorded then
        ctx.data["contractor_change"].update(contract_amount=str(amount), old_amount=old_amount)


def _supplementary_contract(ctx: StepContext) -> None:
    """补充合同: the same contractor, more work, a higher contract amount (the contract's whole amount
    after it: contract_within_allocation has checked it against the money), why, and the supplementary
    contract's number and date; the amount it raises is recorded beside it."""
    reason, item = _reason_and_contract(ctx, "project.supplement_reason", "supplementary_contract")
    if item is None:
        return              # the step's evidence rule says so first
    contractor = (ctx.case.attrs.get("contractor") or "").strip()
    amount, old = contract_amount(item.fields), ctx.case.attrs.get("contract_amount")
    if amount is not None and old not in (None, "") and amount <= Decimal(old):
        raise RuleViolation("project.supplement_not_higher", case=ctx.case.id, amount=f"{amount:,.2f}",
                            old=f"{Decimal(old):,.2f}")
    ctx.data["supplementary_contract"] = {
        "contractor": contractor or None, "contract_no": item.fields.get("contract_no"),
        "signed_on": str(item.fields.get("signed_on") or "") or None, "reason": reason,
        "contract_amount": None if amount is None else str(amount), "old_amount": old or None,
        "added": None if amount is None or old in (None, "") else str(amount - Decimal(old))}


def handover(ctx: StepContext) -> None:
    """确权移交: each asset by class, with its value and a named owner (a household asset: a beneficiary)."""
    existing = ctx.conn.execute(ASSETS, {"case_id": ctx.case.id}).all()
    if not ctx.inputs.assets and not existing:
        raise BadInput("project.no_assets")
    seen = {(r.asset_class, r.name) for r in existing}
    beneficiaries = {r.id for r in ctx.conn.execute(BENEFICIARIES, {"case_id": ctx.case.id})}
    items = [_asset(asset, seen, beneficiaries) for asset in ctx.inputs.assets]
    _assets_within_cost(ctx, existing, items)
    ctx.data.update(assets=[{**i, "value": str(i["value"])} for i in items])
    case_id, day, who, now = ctx.case.id, ctx.effective_date, ctx.actor.person_id, ctx.app.clock.now()
    if items:
        ctx.writes.append(lambda conn: conn.execute(insert(t.project_assets), [
            {"case_id": case_id, **i, "handed_over_on": day, "recorded_by": who, "recorded_at": now} for i in items]))


def _assets_within_cost(ctx: StepContext, existing: list, items: list[dict[str, Any]]) -> None:
    """The assets handed over are what the project's money built: together no more than its settled
    final cost (决算). A project's money is its allocation, settled by its final accounts before its
    assets are registered (DOMAIN §4 "Fund project"): an asset worth more is a figure to correct."""
    cost = settled_cost(ctx.conn, ctx.case.id)
    if cost is None:
        return
    total = sum((r.value for r in existing), Decimal("0.00")) + sum((i["value"] for i in items), Decimal("0.00"))
    if total > cost:
        raise RuleViolation("project.assets_over_cost", case=ctx.case.id, total=total, final_cost=cost,
                            earlier=sum((r.value for r in existing), Decimal("0.00")))


def _asset(asset: tuple, seen: set, beneficiaries: set[int]) -> dict[str, Any]:
    """One asset handed over: class, name and owner given, not listed before; adds it to `seen`."""
    cls, name, value, owner, owner_case = asset
    cls = checked_code(cls, ASSET_CLASSES, "asset_class")
    name, owner = (name or "").strip(), (owner or "").strip()
    if not name or not owner:
        raise BadInput("project.asset_incomplete", name=name or "-")
    amount = parse_amount(value, Msg("amount_of.asset", {"name": name}))
    if (cls, name) in seen:
        raise BadInput("project.asset_duplicate", name=name, asset_class=cls)
    seen.add((cls, name))
    _asset_owner(cls, name, owner_case, beneficiaries)
    return {"asset_class": cls, "name": name, "value": amount, "owner": owner,
            "owner_case_id": int(owner_case) if owner_case is not None else None}


def _asset_owner(cls: str, name: str, owner_case, beneficiaries: set[int]) -> None:
    """A household asset belongs to a beneficiary household; no other asset names a household."""
    if cls == "household":
        if owner_case is None or int(owner_case) not in beneficiaries:
            raise RuleViolation("project.asset_owner_not_beneficiary", name=name, case=owner_case or "-")
    elif owner_case is not None:
        raise BadInput("project.asset_owner_case", name=name)


def change(ctx: StepContext) -> None:
    """A plan change requested: new budget, completion date and/or beneficiaries, with the old values."""
    inputs = ctx.inputs
    if not (inputs.reason and inputs.reason.strip()):
        raise BadInput("project.change_reason_required")
    if not (inputs.funds or inputs.completion or inputs.add_beneficiaries or inputs.remove_beneficiaries):
        raise BadInput("project.no_change")
    changes: dict[str, Any] = {}
    if inputs.funds:
        changes["budget"] = _budget_change(ctx)
    if inputs.completion:
        changes["complete_by"] = _completion_change(ctx)
    if inputs.add_beneficiaries or inputs.remove_beneficiaries:
        changes["beneficiaries"] = _beneficiaries_change(ctx)
    ctx.data["changes"] = changes


def _budget_change(ctx: StepContext) -> dict[str, Any]:
    """The new budget, never below the funds already allocated."""
    new = fund_lines(ctx.inputs.funds, "budget")
    old = budget_lines(ctx.conn, ctx.case.id)
    allocated = totals_now(ctx.conn, ctx.case.id)["allocated"]
    if sum_of(new) < allocated:
        raise RuleViolation("project.budget_below_allocation", budget=sum_of(new), allocated=allocated)
    return {"old": as_json(old), "new": as_json(new), "old_total": str(sum_of(old)), "new_total": str(sum_of(new))}


def _completion_change(ctx: StepContext) -> dict[str, str]:
    """The new completion date: ahead, and not before a milestone still open."""
    completion, case = ctx.inputs.completion, ctx.case
    old_date = date.fromisoformat(case.attrs["complete_by"])
    if completion <= ctx.effective_date:
        raise RuleViolation("project.completion_not_ahead", date=completion, today=ctx.effective_date)
    open_due = [r.due_date for r in ctx.conn.execute(MILESTONES, {"case_id": case.id}) if r.done_on is None]
    if open_due and completion < max(open_due):
        raise RuleViolation("project.completion_before_milestone", date=completion, due=max(open_due))
    return {"old": old_date.isoformat(), "new": completion.isoformat()}


def _beneficiaries_change(ctx: StepContext) -> dict[str, list]:
    """Households added (registered poor, on the site) and removed (beneficiaries now); one at least left."""
    inputs, case, conn = ctx.inputs, ctx.case, ctx.conn
    current = [r.id for r in conn.execute(BENEFICIARIES, {"case_id": case.id})]
    added = [c for c in dict.fromkeys(inputs.add_beneficiaries) if c not in current]
    check_beneficiaries(conn, added, case.region_code)
    removed = list(dict.fromkeys(inputs.remove_beneficiaries))
    unknown = [c for c in removed if c not in current]
    if unknown:
        raise BadInput("project.not_beneficiary", case=", ".join(map(str, unknown)))
    if not ((set(current) - set(removed)) | set(added)):
        raise RuleViolation("project.no_beneficiaries_left")
    return {"old": current, "added": added, "removed": removed}


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
        if contractor.fields.get("credit_code"):        # 统一社会信用代码: payments are matched by it
            attrs["contractor_code"] = contractor.fields["credit_code"]
        amount = contract_amount(contractor.fields)     # checked by contract_within_allocation
        if amount is not None:
            attrs["contract_amount"] = str(amount)


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
            _replace_budget(conn, case_id, changes["budget"]["new"], day, who, now)
        if "beneficiaries" in changes:
            _change_beneficiaries(conn, case_id, changes["beneficiaries"])
    ctx.writes.append(write)


_CONTRACTOR_REQUEST = select(t.steps.c.data).where(
    t.steps.c.procedure_id == bindparam("procedure_id"), t.steps.c.step_key == "contractor_change_request",
    t.steps.c.voided_at.is_(None)).order_by(t.steps.c.id.desc()).limit(1)


def apply_contractor_change(ctx: StepContext, attrs: dict) -> None:
    """The new contractor, announced and confirmed, is the one paid from now; the one it replaces is
    kept in the project's history with its dates (what was paid to it stays spent)."""
    request = ctx.conn.execute(_CONTRACTOR_REQUEST, {"procedure_id": ctx.case.open_procedure_id}).scalar()
    change = (request or {}).get("contractor_change")
    if not change:
        return
    day = ctx.effective_date.isoformat()
    if change.get("old"):
        former = {"name": change["old"], "since": change.get("old_since"), "until": day, "replaced_by": change["new"],
                  "reason": change.get("reason"), "contract_no": change.get("contract_no")}
        if change.get("old_code"):
            former["credit_code"] = change["old_code"]
        if attrs.get("contract_amount") is not None:     # what it was contracted for: what it may still be paid
            former["contract_amount"] = attrs["contract_amount"]
        attrs.setdefault("former_contractors", []).append(former)
    attrs["contractor"] = change["new"]
    attrs["contractor_since"] = day
    if change.get("new_code"):
        attrs["contractor_code"] = change["new_code"]
    else:                       # a new contract recorded without a code: its payments matched by the name
        attrs.pop("contractor_code", None)
    if change.get("contract_amount") is not None:
        attrs["contract_amount"] = change["contract_amount"]
    else:                       # a new contract recorded without an amount caps nothing
        attrs.pop("contract_amount", None)


_SUPPLEMENT_REQUEST = select(t.steps.c.data).where(
    t.steps.c.procedure_id == bindparam("procedure_id"), t.steps.c.step_key == "supplementary_contract_request",
    t.steps.c.voided_at.is_(None)).order_by(t.steps.c.id.desc()).limit(1)


def apply_supplementary_contract(ctx: StepContext, attrs: dict) -> None:
    """A supplementary contract, announced and confirmed, raises the amount of the contract in force:
    what its contractor may be paid from now, and what the final accounts may settle; each is kept in
    the project's history (number, date, old → new amount, why)."""
    request = ctx.conn.execute(_SUPPLEMENT_REQUEST, {"procedure_id": ctx.case.open_procedure_id}).scalar()
    supplement = (request or {}).get("supplementary_contract")
    if not supplement or supplement.get("contract_amount") is None:
        return
    attrs["contract_amount"] = supplement["contract_amount"]
    attrs.setdefault("supplementary_contracts", []).append({
        "on": ctx.effective_date.isoformat(), **{k: supplement.get(k) for k in (
            "contractor", "contract_no", "signed_on", "old_amount", "contract_amount", "added", "reason")}})


def _replace_budget(conn, case_id: int, lines: list[dict[str, Any]], day: date, who: int, now) -> None:
    conn.execute(update(t.project_funds).where(
        t.project_funds.c.case_id == case_id, t.project_funds.c.kind == "budget",
        t.project_funds.c.superseded_on.is_(None)).values(superseded_on=day))
    conn.execute(insert(t.project_funds), [
        {"case_id": case_id, "source": line["source"], "amount": Decimal(line["amount"]), "kind": "budget",
         "document": line["document"], "on_date": day, "recorded_by": who, "recorded_at": now,
         "superseded_on": None} for line in lines])


def _change_beneficiaries(conn, case_id: int, change: dict[str, list]) -> None:
    removed, added = change["removed"], change["added"]
    if removed:
        conn.execute(delete(t.project_beneficiaries).where(
            t.project_beneficiaries.c.project_id == case_id, t.project_beneficiaries.c.case_id.in_(removed)))
    if added:
        conn.execute(insert(t.project_beneficiaries), [{"project_id": case_id, "case_id": c} for c in added])
