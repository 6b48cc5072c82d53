"""Fund projects' money paid out (支出) and the whole of a project as read (DOMAIN.md §5 "Fund project")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.uow import judged_again_when_lost
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, RuleViolation
from engine.reads.funds import money, project_figures, totals_now
from engine.services.case_actions import append_case_event
from engine.services.org import require_reader, require_role
from engine.domain.cases import CaseRow
from engine.adapters.repository import load_cases
from .project_base import (ASSETS, BENEFICIARIES, MILESTONES, PAYABLE_STAGES, PAYEE_KINDS, PAYER_ROLES, REGION,
                           checked_code, parse_amount)

# --- disbursements (支出) ----------------------------------------------------------------------------

@dataclass
class PaymentInput:
    amount: Any                     # yuan, a decimal string (or Decimal)
    payee_kind: str                 # contractor, beneficiary, retention, other
    payee: str
    paid_on: date | None = None     # default today
    reference: str | None = None    # voucher number (凭证号)
    from_retention: bool = False    # releases retention money held earlier to this payee


@judged_again_when_lost
def record_disbursement(app: App, actor: Actor, case_id: int, pay: PaymentInput) -> int:
    """Record money paid out of a project's allocated funds, with its audit event; returns its id.

    Never beyond the allocated funds: everything recorded (spent, retention held, transfers) plus
    this payment must stay within them. Releasing retention money moves it to the contractor (or
    beneficiary), where it counts as spent."""
    ok = _payment(app, pay)
    with app.transaction() as conn:
        case = _project_case(conn, case_id)
        assignment = require_role(app, actor, PAYER_ROLES, case.region_code, "project pay")
        _payable(case, ok.paid_on)
        base = {"case_id": case_id, "paid_on": ok.paid_on, "payee": ok.payee[:200],
                "reference": (pay.reference or "").strip()[:100] or None, "recorded_by": actor.person_id,
                "recorded_at": app.clock.now()}
        rows = _payment_rows(totals_now(conn, case_id), case_id, ok, base)
        ids = [conn.execute(insert(t.disbursements), row).inserted_primary_key[0] for row in rows]
        after = totals_now(conn, case_id)
        append_case_event(app, conn, actor, case, "disbursement_recorded", assignment.role,
                          disbursement=ids[-1], rows=ids, paid_on=ok.paid_on.isoformat(), amount=str(ok.amount),
                          payee_kind=ok.kind, payee=ok.payee, reference=base["reference"],
                          from_retention=pay.from_retention,
                          **{k: str(after[k]) for k in ("allocated", "disbursed", "retention", "other", "carry_over")})
        return ids[-1]


class _Payment(NamedTuple):
    """A payment's input as checked before anything is looked up."""
    kind: str
    amount: Decimal
    payee: str
    paid_on: date
    from_retention: bool


def _payment(app: App, pay: PaymentInput) -> _Payment:
    kind = checked_code(pay.payee_kind, PAYEE_KINDS, "payee_kind")
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
    return _Payment(kind, amount, payee, paid_on, pay.from_retention)


def _project_case(conn, case_id: int) -> CaseRow:
    case = load_cases(conn, [case_id])[case_id]
    if case.kind != "project":
        raise BadInput("project.not_project", case=case_id)
    return case


def _payable(case: CaseRow, paid_on: date) -> None:
    """Funded, and paid on or after the day it was funded."""
    if case.stage not in PAYABLE_STAGES:
        raise RuleViolation("project.not_funded", case=case.id, stage=case.stage, stage_kind=case.kind)
    funded_on = case.attrs.get("funded_on")
    if funded_on and paid_on < date.fromisoformat(funded_on):
        raise RuleViolation("project.paid_before_funding", case=case.id, date=paid_on, funded_on=funded_on)


def _payment_rows(before: dict, case_id: int, ok: _Payment, base: dict) -> list[dict[str, Any]]:
    """The disbursement rows of a payment: within the retention held, or within the allocated funds."""
    if ok.from_retention:
        if ok.amount > before["retention"]:
            raise RuleViolation("project.retention_short", case=case_id, amount=ok.amount, held=before["retention"])
        return [{**base, "amount": -ok.amount, "payee_kind": "retention"},
                {**base, "amount": ok.amount, "payee_kind": ok.kind}]
    if before["committed"] + ok.amount > before["allocated"]:
        raise RuleViolation("project.over_allocation", case=case_id, amount=ok.amount,
                            committed=before["committed"], allocated=before["allocated"],
                            available=before["available"])
    return [{**base, "amount": ok.amount, "payee_kind": ok.kind}]


# --- reading a project --------------------------------------------------------------------------------

_FUNDS = select(t.project_funds).where(t.project_funds.c.case_id == bindparam("case_id")).order_by(t.project_funds.c.id)
_PAID = select(t.disbursements).where(t.disbursements.c.case_id == bindparam("case_id")).order_by(
    t.disbursements.c.paid_on, t.disbursements.c.id)


def project_detail(app: App, actor: Actor, case_id: int, as_of: date | None = None) -> dict[str, Any]:
    """A project with its money, beneficiaries, milestones, payments and assets, and its figures."""
    as_of = as_of or app.clock.today()
    with app.engine.connect() as conn:
        case = _project_case(conn, case_id)
        require_reader(app, actor, case.region_code)
        held = {name: conn.execute(query, {"case_id": case_id}).all() for name, query in (
            ("funds", _FUNDS), ("beneficiaries", BENEFICIARIES), ("milestones", MILESTONES), ("paid", _PAID),
            ("assets", ASSETS))}
        figures = project_figures(conn, [case_id], as_of).get(case_id)
        region = conn.execute(REGION, {"code": case.region_code}).first()
    return {**_case_part(case, region), **_held_part(held, as_of), "as_of": as_of.isoformat(), "figures": figures}


def _case_part(case: CaseRow, region) -> dict[str, Any]:
    attrs = case.attrs
    return {
        "id": case.id, "title": case.title, "region": case.region_code, "region_name": region.name if region else None,
        "stage": case.stage, "version": case.version, "category": attrs.get("category"),
        "responsible_unit": attrs.get("responsible_unit"), "unit_head": attrs.get("unit_head"),
        "leader": attrs.get("leader"), "targets": attrs.get("targets", []), "complete_by": attrs.get("complete_by"),
        "proposed_on": attrs.get("proposed_on"), "contractor": attrs.get("contractor"),
        "library_approval": {k: v for k, v in (attrs.get("library_approval") or {}).items() if k != "person_id"},
    }


def _held_part(held: dict[str, list], as_of: date) -> dict[str, Any]:
    return {
        "funds": [{"id": f.id, "kind": f.kind, "source": f.source, "amount": money(f.amount), "document": f.document,
                   "on": f.on_date.isoformat(),
                   "superseded_on": f.superseded_on.isoformat() if f.superseded_on else None}
                  for f in held["funds"]],
        "beneficiaries": [{"case": h.id, "title": h.title, "stage": h.stage} for h in held["beneficiaries"]],
        "milestones": [{"seq": m.seq, "name": m.name, "due": m.due_date.isoformat(),
                        "done": m.done_on.isoformat() if m.done_on else None,
                        "behind": m.done_on is None and m.due_date < as_of} for m in held["milestones"]],
        "disbursements": [{"id": d.id, "paid_on": d.paid_on.isoformat(), "amount": money(d.amount),
                           "payee_kind": d.payee_kind, "payee": d.payee, "reference": d.reference}
                          for d in held["paid"]],
        "assets": [{"class": a.asset_class, "name": a.name, "value": money(a.value), "owner": a.owner,
                    "owner_case": a.owner_case_id, "handed_over_on": a.handed_over_on.isoformat()}
                   for a in held["assets"]],
    }
