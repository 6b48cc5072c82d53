"""Final accounts (决算) settled above the contract (final_cost_over_contract, DOMAIN.md §9, research §7):
a project whose settled final cost is more than its contractor's contract (合同金额, as supplemented) and
what was paid to anyone else (a contractor it replaced, beneficiaries, transfers). Since stop 50 the
final accounts step refuses such a cost; a project settled before that, or on a release that did not
check it, keeps it, and this lead points the inspector at it: the project, the contract, the final cost
and the excess, with the final accounts' step and its audit event (who settled it).

One statement over the region's projects (ix_cases_kind_region), each one's final accounts step by
its case (ix_steps_case_id) and its payments to others by ix_disbursements_case_id; the comparison is
narrowed in SQL (cost above the contract alone) and made exact with decimals here.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Iterator

from sqlalchemy import Numeric, and_, cast, func, not_, or_, select

from engine.adapters import tables as t
from engine.reads.funds import money
from .flag import Flag
from .query import Query, step_event

_UNDER_CONTRACT = ("contractor", "retention")     # paid to the contractor, or held for it


def settled_over_contract(x: Query) -> Iterator[Flag]:
    for r in x.stream(_over_rows(x)):
        try:
            cost, contract = Decimal(str(r.cost)), Decimal(str(r.contract))
        except (InvalidOperation, ValueError):
            continue
        others = max(money(r.others), Decimal("0.00"))
        excess = cost - contract - others
        if excess <= 0:
            continue
        yield Flag("final_cost_over_contract", "others" if others > 0 else "detail", r.case_id, r.title,
                   r.region_code, (r.code, r.name) if r.code else None,
                   {"date": r.effective_date.isoformat(), "contractor": r.contractor or "-",
                    "contract": f"{contract:,.2f}", "cost": f"{cost:,.2f}", "others": f"{others:,.2f}",
                    "excess": f"{excess:,.2f}"}, (r.seq,) if r.seq is not None else ())


def _over_rows(x: Query):
    c, s, d, p, ae = t.cases, t.steps, t.disbursements, t.persons, t.audit_events
    contractor = func.trim(c.c.attrs["contractor"].as_string())
    contract_text = func.nullif(func.trim(c.c.attrs["contract_amount"].as_string()), "")
    cost_text = func.nullif(func.trim(s.c.data["final_cost"].as_string()), "")
    code = func.coalesce(c.c.attrs["contractor_code"].as_string(), "")
    # paid under the contract: to its contractor by its credit code, or by its name before payments kept one
    under = and_(d.c.payee_kind.in_(_UNDER_CONTRACT), or_(
        d.c.payee_code == code, and_(d.c.payee_code.is_(None), d.c.payee == contractor)))
    others = select(func.sum(d.c.amount)).where(d.c.case_id == c.c.id, not_(under)).scalar_subquery()
    settled = and_(s.c.case_id == c.c.id, s.c.step_key == "final_accounts", s.c.voided_at.is_(None))
    return (select(c.c.id.label("case_id"), c.c.title, c.c.region_code, contractor.label("contractor"),
                   contract_text.label("contract"), cost_text.label("cost"), others.label("others"),
                   s.c.effective_date, p.c.code, p.c.name, ae.c.seq)
            .join(s, settled).outerjoin(p, p.c.id == s.c.person_id).outerjoin(ae, step_event(ae, s))
            .where(c.c.kind == "project", x.region(), contract_text.is_not(None),
                   cast(cost_text, Numeric(18, 2)) > cast(contract_text, Numeric(18, 2)))
            .order_by(c.c.id, s.c.id, ae.c.seq))
