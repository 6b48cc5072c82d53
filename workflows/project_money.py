"""Fund projects' money paid out (支出) and the whole of a project as read (DOMAIN.md §5 "Fund project")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.uow import judged_again_when_lost
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, Msg, RuleViolation
from engine.reads.funds import SPENT_KINDS, money, project_figures, totals_now
from engine.services.case_actions import append_case_event
from engine.services.org import require_reader, require_role
from engine.domain.cases import CaseRow
from engine.adapters.repository import load_cases
from engine.domain.evidence import credit_code
from .project_base import (ASSETS, BENEFICIARIES, MILESTONES, PAYABLE_STAGES, PAYEE_KINDS, PAYER_ROLES, REGION,
                           checked_code, contract_of, contracts_of, in_force, name_key, paid_under_contract,
                           parse_amount, settled_cost)

# --- disbursements (支出) ----------------------------------------------------------------------------

@dataclass
class PaymentInput:
    amount: Any                     # yuan, a decimal string (or Decimal)
    payee_kind: str                 # contractor, beneficiary, retention, other
    payee: str
    paid_on: date | None = None     # default today
    reference: str | None = None    # voucher number (凭证号)
    from_retention: bool = False    # releases retention money held earlier to this payee
    payee_code: str | None = None   # a contractor's unified social credit code (统一社会信用代码)


class PaymentRecorded(NamedTuple):
    id: int
    paid_on: date
    # dated in a period a monthly report has covered already (补录): that report's date and period
    # start, and the day the next report's period starts (late_for); None: in no period reported
    late: dict[str, Any] | None
    # the contractor's name as its contract spells it, when the payee was typed otherwise (spaces,
    # full-width brackets) or found by its credit code; None: as typed
    recorded_as: str | None = None
    code: str | None = None         # the contractor's credit code the payment is recorded under


def record_disbursement(app: App, actor: Actor, case_id: int, pay: PaymentInput) -> int:
    """record_payment, its id."""
    return record_payment(app, actor, case_id, pay).id


@judged_again_when_lost
def record_payment(app: App, actor: Actor, case_id: int, pay: PaymentInput) -> PaymentRecorded:
    """Record money paid out of a project's allocated funds, with its audit event; returns its id.

    Never beyond the allocated funds, nor, once the final accounts are settled, beyond their final
    cost: everything recorded (spent, retention held, transfers) plus this payment must stay within
    them. Money counts as spent only when paid to the project's contractor (as its contractor notice
    recorded it, or a contractor change since; one it replaced is still paid what it is owed) or to one
    of its beneficiary households. Releasing retention money (after the
    completion is announced) moves it to the contractor (or beneficiary), where it counts as spent.
    The project's leader, who signs its milestones, does not record its money (four eyes).
    A payment dated on or before a monthly report already filed is recorded as it was paid (its
    voucher's date), entered late (补录): the filed report stays as it was, the next one lists it apart."""
    ok = _payment(app, pay)
    with app.transaction() as conn:
        case = _project_case(conn, case_id)
        assignment = require_role(app, actor, PAYER_ROLES, case.region_code, "project pay")
        if case.attrs.get("leader_id") == actor.person_id:
            raise RuleViolation("project.leader_pays", case=case_id)
        _payable(conn, case, ok)
        typed, ok = ok.payee, _contractor_named(case, ok)
        _payee_known(conn, case, ok)
        base = {"case_id": case_id, "paid_on": ok.paid_on, "payee": ok.payee[:200], "payee_code": ok.code,
                "reference": (pay.reference or "").strip()[:100] or None, "recorded_by": actor.person_id,
                "recorded_at": app.clock.now()}
        before = totals_now(conn, case_id)
        rows = _payment_rows(before, case_id, ok, base, settled_cost(conn, case_id))
        _within_contract(conn, case, ok)         # within the allocation (above), and within its contract
        _leaves_the_contract_in_force(conn, case, ok, before)
        late = late_for(conn, case_id, ok.paid_on)
        if base["reference"] is None and ok.kind in MONEY_OUT:
            raise BadInput("project.no_reference", kind=Msg(f"payee_kind.{ok.kind}"))
        ids = [conn.execute(insert(t.disbursements), row).inserted_primary_key[0] for row in rows]
        after = totals_now(conn, case_id)
        append_case_event(app, conn, actor, case, "disbursement_recorded", assignment.role,
                          disbursement=ids[-1], rows=ids, paid_on=ok.paid_on.isoformat(), amount=str(ok.amount),
                          payee_kind=ok.kind, payee=ok.payee, reference=base["reference"],
                          **({"payee_code": ok.code} if ok.code else {}),
                          **({"payee_typed": typed} if typed != ok.payee else {}),
                          from_retention=pay.from_retention, **({"entered_late": late} if late else {}),
                          **{k: str(after[k]) for k in ("allocated", "disbursed", "retention", "other", "carry_over")})
        return PaymentRecorded(ids[-1], ok.paid_on, late, ok.payee if typed != ok.payee else None, ok.code)


# The payments that pay money out (to the contractor, a beneficiary, anyone else, a retention release
# included): each names its voucher (凭证号), by which inspectors and auditors trace it to the books.
# Retention money held (质保金留存) pays nobody: it stays in the account until released, and may name one.
MONEY_OUT = ("contractor", "beneficiary", "other")


class _Payment(NamedTuple):
    """A payment's input as checked before anything is looked up."""
    kind: str
    amount: Decimal
    payee: str
    paid_on: date
    from_retention: bool
    code: str | None = None         # the contractor's credit code: given, or its contract's


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
    code = None
    if pay.payee_code not in (None, ""):
        if kind not in ("contractor", "retention"):
            raise BadInput("project.payee_code_not_contractor", kind=kind)
        try:
            code = credit_code(pay.payee_code)
        except ValueError:
            raise BadInput("project.payee_code_invalid", value=str(pay.payee_code)[:40]) from None
    return _Payment(kind, amount, payee, paid_on, pay.from_retention, code)


def _project_case(conn, case_id: int) -> CaseRow:
    case = load_cases(conn, [case_id])[case_id]
    if case.kind != "project":
        raise BadInput("project.not_project", case=case_id)
    return case


_ALLOCATED_ON = select(func.min(t.project_funds.c.on_date)).where(
    t.project_funds.c.case_id == bindparam("case_id"), t.project_funds.c.kind == "allocated",
    t.project_funds.c.superseded_on.is_(None))


def _payable(conn, case: CaseRow, ok: _Payment) -> None:
    """Funded, paid on or after the day its funds were allocated (资金下达), retention released only
    once the completion is announced (竣工验收, stage exited)."""
    if case.stage not in PAYABLE_STAGES:
        raise RuleViolation("project.not_funded", case=case.id, stage=case.stage, stage_kind=case.kind)
    allocated_on = conn.execute(_ALLOCATED_ON, {"case_id": case.id}).scalar()
    if allocated_on is not None and ok.paid_on < allocated_on:
        raise RuleViolation("project.paid_before_allocation", case=case.id, date=ok.paid_on, allocated_on=allocated_on)
    if ok.from_retention and case.stage not in RELEASE_STAGES:
        raise RuleViolation("project.retention_before_completion", case=case.id, stage=case.stage,
                            stage_kind=case.kind)


# Retention money (质保金) is released once the project is accepted and its completion announced.
RELEASE_STAGES = ("exited", "consolidated")


def _contractor_named(case: CaseRow, ok: _Payment) -> _Payment:
    """A payment to a contractor (or retention held for it) names one of the project's contracts: by its
    unified social credit code when given (the contract's name is recorded), else by its name as
    compared past spaces and full-width characters (name_key), recorded as its contract spells it, with
    its contract's code. Two contractors by that name with different codes: the code must be given."""
    if ok.kind not in ("contractor", "retention"):
        return ok
    contracts = contracts_of(case.attrs)
    if ok.code:
        found = [c for c in contracts if c[1] == ok.code]
        if not found:
            raise RuleViolation("project.payee_code_unknown", case=case.id, code=ok.code,
                                contractors=_contractors_said(contracts))
    else:
        found = [c for c in contracts if name_key(c[0]) == name_key(ok.payee)]
        codes = sorted({c[1] or "-" for c in found})
        if len(codes) > 1:
            raise RuleViolation("project.payee_same_name", case=case.id, payee=found[0][0], codes=", ".join(codes))
    return ok._replace(payee=found[0][0], code=found[0][1]) if found else ok


def _contractors_said(contracts: list[tuple[str, str | None]]) -> str:
    return ", ".join(f"{name} {code or '-'}" for name, code in contracts) or "-"


def _payee_known(conn, case: CaseRow, ok: _Payment) -> None:
    """Money counted as spent goes to the project's contractor or to one of its beneficiaries."""
    if ok.kind == "contractor":
        contractor = (case.attrs.get("contractor") or "").strip()
        # a contractor replaced (`contractor_change`) is still paid what is owed for its work
        if not any(name == ok.payee for name, _code in contracts_of(case.attrs)):
            raise RuleViolation("project.payee_not_contractor", case=case.id, payee=ok.payee,
                                contractor=contractor or "-")
    elif ok.kind == "beneficiary":
        households = conn.execute(BENEFICIARIES, {"case_id": case.id}).all()
        if not any(ok.payee in (h.title, str(h.id)) for h in households):
            raise RuleViolation("project.payee_not_beneficiary", case=case.id, payee=ok.payee,
                                beneficiaries=", ".join(f"{h.id} {h.title}" for h in households) or "-")


def _within_contract(conn, case: CaseRow, ok: _Payment) -> None:
    """Money paid to a contractor (retention money held for it included) stays within its contract's
    amount (合同金额), as its contractor notice or contract change recorded it; releasing retention moves
    money already counted. A contract recorded without an amount caps nothing."""
    if ok.from_retention or ok.kind not in ("contractor", "retention"):
        return
    contracted = contract_of(case.attrs, ok.payee, ok.code)
    if contracted is None:
        return
    paid = paid_under_contract(conn, case.id, ok.payee, ok.code)
    if paid + ok.amount > contracted:
        raise RuleViolation("project.over_contract", case=case.id, payee=ok.payee, contract=f"{contracted:,.2f}",
                            paid=f"{paid:,.2f}", amount=f"{ok.amount:,.2f}",
                            left=f"{max(contracted - paid, Decimal('0.00')):,.2f}")


def _leaves_the_contract_in_force(conn, case: CaseRow, ok: _Payment, before: dict) -> None:
    """A contractor replaced (`contractor_change`) is still paid what it is owed, but not out of the money
    the contract in force still needs: what is left of the allocation after the payment covers what that
    contract has not been paid yet. The two contracts together never exceed the money, when the new one
    is signed (contract_within_allocation) nor by a later payment to the one it replaced."""
    if ok.from_retention or ok.kind not in ("contractor", "retention"):
        return
    current = (case.attrs.get("contractor") or "").strip()
    if in_force(case.attrs, ok.payee, ok.code) or case.attrs.get("contract_amount") in (None, "") or not any(
            f.get("name") == ok.payee for f in case.attrs.get("former_contractors") or ()):
        return
    owed = max(Decimal(case.attrs["contract_amount"])
               - paid_under_contract(conn, case.id, current, case.attrs.get("contractor_code")), Decimal("0.00"))
    left = before["allocated"] - before["committed"] - owed
    if ok.amount > left:
        raise RuleViolation("project.former_over_contract_in_force", case=case.id, payee=ok.payee, contractor=current,
                            amount=f"{ok.amount:,.2f}", available=f"{before['available']:,.2f}", owed=f"{owed:,.2f}",
                            left=f"{max(left, Decimal('0.00')):,.2f}")


def _payment_rows(before: dict, case_id: int, ok: _Payment, base: dict,
                  final_cost: Decimal | None = None) -> list[dict[str, Any]]:
    """The disbursement rows of a payment: within the retention held, or within the allocated funds
    and the settled final cost."""
    if ok.from_retention:
        if ok.amount > before["retention"]:
            raise RuleViolation("project.retention_short", case=case_id, amount=ok.amount, held=before["retention"])
        return [{**base, "amount": -ok.amount, "payee_kind": "retention"},
                {**base, "amount": ok.amount, "payee_kind": ok.kind}]
    if final_cost is not None and before["committed"] + ok.amount > final_cost:
        raise RuleViolation("project.over_final_cost", case=case_id, amount=ok.amount, final_cost=final_cost,
                            committed=before["committed"], left=max(final_cost - before["committed"], Decimal("0.00")))
    if before["committed"] + ok.amount > before["allocated"]:
        raise RuleViolation("project.over_allocation", case=case_id, amount=ok.amount,
                            committed=before["committed"], allocated=before["allocated"],
                            available=before["available"])
    return [{**base, "amount": ok.amount, "payee_kind": ok.kind}]


# --- the monthly disbursement report (月度支出报告) -----------------------------------------------------
#
# A report covers the payments dated in its period (the day after the last report, the first: from the
# allocation, to its date) and, listed apart as entered late (补录), every payment recorded since the last
# report was filed but dated in a period already reported: the filed report is not changed (it is what
# was reported), and the late payment is reported once, by the next report, with its date and the report
# whose period it belongs to. A report keeps the last payment it had seen (`payments_through`, the
# highest disbursement id when it was filed): "recorded since" is judged by it, and, for a report filed
# before it was kept, by the time the report was recorded. Nothing is counted twice: the last report's
# spent to date + this period's + the late ones = this report's spent to date.

_REPORTS = (t.steps.c.case_id == bindparam("case_id"), t.steps.c.step_key == "disbursement_report",
            t.steps.c.voided_at.is_(None))
_LATEST_REPORT = select(t.steps.c.effective_date, t.steps.c.data).where(*_REPORTS).order_by(
    t.steps.c.effective_date.desc(), t.steps.c.id.desc()).limit(1)
# a project's reports (monthly: a few dozen in its life), by date, read by ix_steps_case_id
_REPORT_LIST = select(t.steps.c.effective_date, t.steps.c.recorded_at, t.steps.c.data).where(*_REPORTS).order_by(
    t.steps.c.effective_date, t.steps.c.id)
_SPENT_BETWEEN = select(func.sum(t.disbursements.c.amount)).where(
    t.disbursements.c.case_id == bindparam("case_id"), t.disbursements.c.payee_kind.in_(SPENT_KINDS),
    t.disbursements.c.paid_on >= bindparam("start"), t.disbursements.c.paid_on <= bindparam("end"))
_LAST_PAYMENT = select(func.max(t.disbursements.c.id)).where(t.disbursements.c.case_id == bindparam("case_id"))
_D = t.disbursements
# money paid out (a release's negative retention row is said by its payment) dated before a period
_PAID_BEFORE = select(_D.c.id, _D.c.paid_on, _D.c.amount, _D.c.payee_kind, _D.c.payee, _D.c.reference).where(
    _D.c.case_id == bindparam("case_id"), _D.c.paid_on < bindparam("start"), _D.c.amount > 0).order_by(
    _D.c.paid_on, _D.c.id)


def report_figures(conn, case_id: int, as_of: date) -> dict[str, Any]:
    """What a disbursement report dated `as_of` reports, from the recorded payments: the project's
    figures as of that day (allocated, spent to date and its rate, retention, carry-over), what was
    spent in its period, from the day after the last report (the first: from the allocation) to it,
    and the payments entered late (recorded since the last report, dated in a period reported)."""
    figures = project_figures(conn, [case_id], as_of).get(case_id) or {}
    return {**figures, "as_of": as_of, **report_period(conn, case_id, as_of),
            "payments_through": conn.execute(_LAST_PAYMENT, {"case_id": case_id}).scalar()}


def report_period(conn, case_id: int, as_of: date) -> dict[str, Any]:
    """A disbursement report's period, to `as_of`: from the day after the last report before it (the
    first report: from the allocation), what was spent in it (contractor and beneficiaries), and the
    payments entered late since the last report (`entered_late`, spent of them: `disbursed_late`)."""
    reports = [r for r in conn.execute(_REPORT_LIST, {"case_id": case_id}) if r.effective_date < as_of]
    last = reports[-1] if reports else None
    start = last.effective_date + timedelta(days=1) if last is not None \
        else conn.execute(_ALLOCATED_ON, {"case_id": case_id}).scalar()
    spent = conn.execute(_SPENT_BETWEEN, {"case_id": case_id, "start": start, "end": as_of}).scalar() \
        if start is not None else None
    late = _entered_late(conn, case_id, start, reports) if last is not None else []
    return {"period_from": start, "disbursed_period": money(spent), "entered_late": late,
            "disbursed_late": money(sum((Decimal(p["amount"]) for p in late if p["payee_kind"] in SPENT_KINDS),
                                        Decimal("0")))}


def _entered_late(conn, case_id: int, start: date, reports: list) -> list[dict[str, Any]]:
    """The payments recorded after the last of `reports` was filed and dated before `start` (in a period
    reported), each with the report whose period its date falls in."""
    last = reports[-1]
    through = (last.data or {}).get("payments_through", _NOT_KEPT)
    since = _PAID_BEFORE
    if through is _NOT_KEPT:            # a report filed before it kept its last payment: by its time
        since = since.where(_D.c.recorded_at > last.recorded_at)
    elif through is not None:
        since = since.where(_D.c.id > through)
    rows = conn.execute(since, {"case_id": case_id, "start": start}).all()
    return [{"paid_on": r.paid_on.isoformat(), "amount": str(money(r.amount)), "payee_kind": r.payee_kind,
             "payee": r.payee, "reference": r.reference, **_due_report(reports, r.paid_on)} for r in rows]


_NOT_KEPT = object()


def _due_report(reports: list, paid_on: date) -> dict[str, Any]:
    """The report whose period a date falls in (the first dated on or after it): its date and period."""
    due = next(r for r in reports if r.effective_date >= paid_on)
    return {"report": due.effective_date.isoformat(), "report_from": (due.data or {}).get("period_from")}


def entered_late(reports: list, payments: list) -> dict[int, dict[str, Any]]:
    """Of a project's `payments` (id, paid_on, recorded_at), those recorded after the first of its
    `reports` (by date) whose period has their date was filed: id -> that report's date and period."""
    late = {}
    for p in payments:
        due = next((r for r in reports if r.effective_date >= p.paid_on), None)
        through = (due.data or {}).get("payments_through", _NOT_KEPT) if due is not None else None
        if due is not None and (p.recorded_at > due.recorded_at if through is _NOT_KEPT
                                else through is None or p.id > through):
            late[p.id] = _due_report(reports, p.paid_on)
    return late


def late_for(conn, case_id: int, paid_on: date) -> dict[str, Any] | None:
    """A payment dated `paid_on` recorded now: None if no report has covered that day; else it is
    entered late (补录): the report whose period the day is in, and the day the next report's period
    starts (that report lists it apart)."""
    reports = list(conn.execute(_REPORT_LIST, {"case_id": case_id}))
    if not reports or reports[-1].effective_date < paid_on:
        return None
    return {**_due_report(reports, paid_on), "next_from": (reports[-1].effective_date + timedelta(days=1)).isoformat()}


def reported_by(conn, case_id: int, as_of: date) -> tuple[str, dict] | None:
    """Why a disbursement report dated `as_of` would have no period of its own, or None: the project's
    latest report is dated on or after it (the same day's again would report that one's payments twice;
    an earlier day's, days reported already), said with that report, its period and the first day a new
    one may be dated (workflows.project.report_period_open)."""
    latest = conn.execute(_LATEST_REPORT, {"case_id": case_id}).first()
    if latest is None or latest.effective_date < as_of:
        return None
    data = latest.data or {}
    spent = data.get("disbursed_period")
    return ("report_period_reported", {
        "last": latest.effective_date.isoformat(), "start": data.get("period_from") or "-", "date": as_of.isoformat(),
        "spent": f"{Decimal(spent):,.2f}" if spent not in (None, "") else "-",
        "next": (latest.effective_date + timedelta(days=1)).isoformat()})


def disbursement_report_preview(app: App, actor: Actor, case_id: int, as_of: date | None = None) -> dict[str, Any] | None:
    """The figures a disbursement report dated `as_of` (default today) would record, for its form; None
    when it would have no period (a report is dated that day or later: reported_by)."""
    as_of = as_of or app.clock.today()
    with app.engine.connect() as conn:
        case = _project_case(conn, case_id)
        require_reader(app, actor, case.region_code)
        return None if reported_by(conn, case_id, as_of) else report_figures(conn, case_id, as_of)


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
        late = entered_late(list(conn.execute(_REPORT_LIST, {"case_id": case_id})), held["paid"])
        figures = project_figures(conn, [case_id], as_of).get(case_id)
        # while it is under way: what a monthly disbursement report dated `as_of` would report for its period
        period = report_period(conn, case_id, as_of) \
            if case.stage == "assisted" and not reported_by(conn, case_id, as_of) else None   # none: reported
        region = conn.execute(REGION, {"code": case.region_code}).first()
        # what its contractor in force was paid under its contract (retention held for it included)
        contract_paid = paid_under_contract(conn, case_id, (case.attrs.get("contractor") or "").strip(),
                                            case.attrs.get("contractor_code")) \
            if case.attrs.get("contractor") else None
        leader = conn.execute(select(t.persons.c.name).where(t.persons.c.code == case.attrs.get("leader"))).scalar()
    return {**_case_part(case, region), "leader_name": leader, **_held_part(held, as_of, late), "as_of": as_of.isoformat(),
            "figures": figures, "contract_paid": contract_paid,
            "report_period": period and {"from": period["period_from"] and period["period_from"].isoformat(),
                                         "to": as_of.isoformat(), "disbursed": period["disbursed_period"],
                                         # recorded since the last report, dated in a period reported (补录)
                                         "entered_late": period["entered_late"],
                                         "disbursed_late": period["disbursed_late"]}}


def _case_part(case: CaseRow, region) -> dict[str, Any]:
    attrs = case.attrs
    return {
        "id": case.id, "title": case.title, "region": case.region_code, "region_name": region.name if region else None,
        "stage": case.stage, "version": case.version, "category": attrs.get("category"),
        "responsible_unit": attrs.get("responsible_unit"), "unit_head": attrs.get("unit_head"),
        "unit_head_name": attrs.get("unit_head_name"), "leader": attrs.get("leader"), "leader_name": attrs.get("leader_name"), "targets": attrs.get("targets", []), "complete_by": attrs.get("complete_by"),
        "proposed_on": attrs.get("proposed_on"), "contractor": attrs.get("contractor"),
        "contractor_code": attrs.get("contractor_code"),     # 统一社会信用代码; None: recorded without one
        "contract_amount": attrs.get("contract_amount"),        # yuan as text; None: recorded without one
        # since when (a contractor change's confirmation, else the funding), and those it replaced
        "contractor_since": attrs.get("contractor_since") or (attrs.get("funded_on") if attrs.get("contractor") else None),
        "former_contractors": [{k: f.get(k) for k in ("name", "since", "until", "replaced_by", "reason", "contract_no",
                                                      "contract_amount")}
                               for f in attrs.get("former_contractors") or ()],
        # supplementary contracts (补充合同) confirmed: on, contractor, contract_no, signed_on, old_amount,
        # contract_amount, added, reason
        "supplementary_contracts": [dict(s) for s in attrs.get("supplementary_contracts") or ()],
        "library_approval": {k: v for k, v in (attrs.get("library_approval") or {}).items() if k != "person_id"},
    }


def _held_part(held: dict[str, list], as_of: date, late: dict[int, dict]) -> dict[str, Any]:
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
                           "payee_kind": d.payee_kind, "payee": d.payee, "reference": d.reference,
                           # recorded after the report whose period has its date (补录): that report
                           "entered_late": late.get(d.id)}
                          for d in held["paid"]],
        "assets": [{"class": a.asset_class, "name": a.name, "value": money(a.value), "owner": a.owner,
                    "owner_case": a.owner_case_id, "handed_over_on": a.handed_over_on.isoformat()}
                   for a in held["assets"]],
    }
