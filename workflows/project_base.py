"""What every part of a fund project shares: its code lists, amounts of money, and the queries on what it holds.

Money is Decimal throughout; amounts in JSON (attributes, step data, audit events) are strings.
"""
from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any, Sequence

from sqlalchemy import and_, bindparam, func, or_, select

from engine.adapters import tables as t
from engine.domain.errors import BadInput, Codes, Msg, RuleViolation
from engine.domain.regions import covers
from engine.reads.funds import money
from engine.domain.cases import CaseRow
from engine.adapters.repository import load_cases
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


def checked_code(value: str, codes: dict[str, str], field: str) -> str:
    found = code_of(value, codes)
    if found is None:
        raise BadInput("project.bad_code", field=field, value=value, known=Codes(CODE_LABELS[field], tuple(codes), typed=True))
    return found


def fund_lines(lines: Sequence[tuple[str, Any, str | None]], what: str) -> list[dict[str, Any]]:
    out = []
    for source, amount, document in lines:
        out.append({"source": checked_code(source, FUND_SOURCES, "fund_source"), "amount": parse_amount(amount, what),
                    "document": (document or "").strip() or None})
    return out


def as_json(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**line, "amount": str(line["amount"])} for line in lines]


def sum_of(lines: list[dict[str, Any]]) -> Decimal:
    return sum((line["amount"] for line in lines), Decimal("0.00"))


REGION = select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code == bindparam("code"))


def check_beneficiaries(conn, case_ids: Sequence[int], site: str) -> dict[int, CaseRow]:
    """Household cases within the site, registered poor (not applicants, not removed)."""
    found = load_cases(conn, list(dict.fromkeys(case_ids))) if case_ids else {}
    for case in found.values():
        if case.kind != "household":
            raise BadInput("project.beneficiary_not_household", case=case.id)
        if not covers(site, case.region_code):
            place = conn.execute(REGION, {"code": site}).first()
            raise RuleViolation("project.beneficiary_outside", case=case.id, site=place.name if place else site)
        if case.stage not in BENEFICIARY_STAGES:
            raise RuleViolation("project.beneficiary_not_registered", case=case.id, stage=case.stage)
    return found


# --- what a project holds -------------------------------------------------------------------------

BUDGET_NOW = select(t.project_funds).where(
    t.project_funds.c.case_id == bindparam("case_id"), t.project_funds.c.kind == "budget",
    t.project_funds.c.superseded_on.is_(None)).order_by(t.project_funds.c.id)
BENEFICIARIES = (select(t.cases.c.id, t.cases.c.title, t.cases.c.stage, t.cases.c.region_code)
                  .join(t.project_beneficiaries, t.project_beneficiaries.c.case_id == t.cases.c.id)
                  .where(t.project_beneficiaries.c.project_id == bindparam("case_id")).order_by(t.cases.c.id))
MILESTONES = select(t.project_milestones).where(
    t.project_milestones.c.case_id == bindparam("case_id")).order_by(t.project_milestones.c.seq)
ASSETS = select(t.project_assets).where(
    t.project_assets.c.case_id == bindparam("case_id")).order_by(t.project_assets.c.id)


def budget_lines(conn, case_id: int) -> list[dict[str, Any]]:
    return [{"source": r.source, "amount": money(r.amount), "document": r.document}
            for r in conn.execute(BUDGET_NOW, {"case_id": case_id})]


def targets_of(attrs: dict) -> list[str]:
    return [x for x in attrs.get("targets") or [] if str(x).strip()]

_FINAL_ACCOUNTS = (select(t.steps.c.data).where(
    t.steps.c.case_id == bindparam("case_id"), t.steps.c.step_key == "final_accounts", t.steps.c.voided_at.is_(None))
    .order_by(t.steps.c.id.desc()).limit(1))


def contract_amount(fields: dict | None) -> Decimal | None:
    """A contract's amount (合同金额, yuan) as its evidence item (contractor_selection, new_contract) gives
    it; None for a contract recorded before contracts had one. Not an amount: BadInput."""
    value = (fields or {}).get("contract_amount")
    if value is None or str(value).strip() == "":
        return None
    return parse_amount(value, "contract_amount")


def contract_of(attrs: dict, payee: str, code: str | None = None) -> Decimal | None:
    """The amount of the contract under which `payee` (credit `code`) is paid: the project's contractor's
    in force, else the last one of the contractors it replaced; None where no amount was recorded."""
    if in_force(attrs, payee, code):
        amount = attrs.get("contract_amount")
    else:
        amount = next((f.get("contract_amount") for f in reversed(attrs.get("former_contractors") or ())
                       if same_contractor((f.get("name") or "", f.get("credit_code")), (payee, code))), None)
    return Decimal(amount) if amount not in (None, "") else None


# What a contractor was paid under its contract: paid to it, and retention money held for it; by its
# unified social credit code where its contract has one (a payment recorded before payments kept the
# code: by the name), else by its name.
_UNDER_CONTRACT = (t.disbursements.c.case_id == bindparam("case_id"),
                   t.disbursements.c.payee_kind.in_(("contractor", "retention")))
PAID_UNDER_CONTRACT = select(func.sum(t.disbursements.c.amount)).where(
    *_UNDER_CONTRACT, t.disbursements.c.payee == bindparam("payee"))
_PAID_UNDER_CODE = select(func.sum(t.disbursements.c.amount)).where(*_UNDER_CONTRACT, or_(
    t.disbursements.c.payee_code == bindparam("code"),
    and_(t.disbursements.c.payee_code.is_(None), t.disbursements.c.payee == bindparam("payee"))))


def name_key(name: Any) -> str:
    """A contractor's name as compared: full-width letters, digits and brackets read as half-width
    (（ ）→ ( )), spaces of any width dropped, letters in one case; 宁都县农建公司（有限） and
    宁都县农建公司 (有限) are one name."""
    return "".join(unicodedata.normalize("NFKC", str(name or "")).split()).casefold()


def contracts_of(attrs: dict) -> list[tuple[str, str | None]]:
    """The project's contractors as (name, credit code or None): the one in force first, then those it
    replaced, the latest first."""
    found = [((attrs.get("contractor") or "").strip(), attrs.get("contractor_code") or None)] \
        if (attrs.get("contractor") or "").strip() else []
    return found + [(f.get("name") or "", f.get("credit_code") or None)
                    for f in reversed(attrs.get("former_contractors") or ())]


def same_contractor(one: tuple[str, str | None], other: tuple[str, str | None]) -> bool:
    """Two contractors are one by their credit codes where both have one, else by their names as compared."""
    if one[1] and other[1]:
        return one[1] == other[1]
    return name_key(one[0]) == name_key(other[0])


def in_force(attrs: dict, payee: str, code: str | None = None) -> bool:
    """Whether `payee` (credit `code`) is the project's contractor in force."""
    current = (attrs.get("contractor") or "").strip()
    return bool(current) and same_contractor((current, attrs.get("contractor_code")), (payee, code))


def paid_under_contract(conn, case_id: int, payee: str, code: str | None = None) -> Decimal:
    """What `payee` was paid under its contract (retention money held for it included): by its credit
    `code` where its contract has one, the payments recorded before payments kept it by the name."""
    if code:
        return money(conn.execute(_PAID_UNDER_CODE, {"case_id": case_id, "payee": payee, "code": code}).scalar())
    return money(conn.execute(PAID_UNDER_CONTRACT, {"case_id": case_id, "payee": payee}).scalar())


def settled_cost(conn, case_id: int) -> Decimal | None:
    """The final cost the project's final accounts (决算) settled, once that step is done; else None."""
    data = conn.execute(_FINAL_ACCOUNTS, {"case_id": case_id}).scalar()
    cost = (data or {}).get("final_cost")
    return Decimal(cost) if cost is not None else None
