"""A fund project's money and plan in words, for the inspector's trace (web, text, API, printed
dossier): a payment's amount, payee and its kind, retention, voucher and date, and the project's
money after it (the `disbursement_recorded` event, workflows/project_money.record_disbursement);
and what a project step recorded in its data (workflows/project_steps): the allocation by source
with its fund documents, the schedule's milestones, a plan change's old → new, a change of
contractor, the monthly report's figures, the assets handed over. Amounts as the project pages show money: 12,345.00 元.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from engine.domain.errors import joined, render_text

# Step data keys holding an amount of money (a decimal's text), labelled `funds.KEY` or `trace.money.KEY`
# (else `field.KEY`).
MONEY_KEYS = ("budget", "allocated", "disbursed", "retention", "other", "carry_over", "final_cost",
              "allocated_total", "budget_total", "old_total", "new_total", "disbursed_period", "contract_amount",
              "paid_to_others",
              "disbursed_late")
# Evidence fields holding an amount of money, said with its unit wherever a value is said (the case page,
# the trace, the dossier, a notice): 52,000.00 元, never a bare 52,000. A project's are text
# (project.yaml: a final cost, a contract's amount), a poor village's numbers (village.yaml: its
# collective income, its per capita income and the province's).
EVIDENCE_MONEY = frozenset({"final_cost", "contract_amount", "collective_income", "per_capita_income",
                            "provincial_income"})
# Keys a project step records that are said with another (the milestone counts with `milestones`)
# or are row ids.
SAID_WITH_OTHERS = frozenset({"milestones_done", "milestones_behind", "replaces", "payments_through"})
# The money a payment's event records after it, in this order.
AFTER = ("allocated", "disbursed", "retention", "other", "carry_over")


def yuan(config, value: Any, lang: str = "zh") -> str:
    """An amount as a page shows money: "12,345.00 元" / "12,345.00 yuan" (typed with separators, as an
    evidence field keeps it: 12,345 or 12，345, alike); not an amount: as it is."""
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, ValueError):
        return "-" if value is None else str(value)
    if not amount.is_finite():
        return str(value)
    return _said(config, "trace.money.yuan", lang, amount=f"{amount:,.2f}")


def _said(config, key: str, lang: str, **params: Any) -> str:
    return render_text(config, key, params, lang) or ""


def _label(config, keys: tuple[str, ...], lang: str, fallback: str) -> str:
    return next((config.label(k, lang) for k in keys if k in config.labels), fallback)


def _code(config, prefix: str, code: Any, lang: str) -> str:
    key = f"{prefix}.{code}"
    return config.label(key, lang) if key in config.labels else str(code or "-")


def money_label(config, key: str, lang: str = "zh") -> str:
    return _label(config, (f"funds.{key}", f"trace.money.{key}", f"field.{key}"), lang, key)


def fund_line(config, line: dict, lang: str = "zh") -> str:
    """One source's amount and its fund document: "县级财政 200,000.00 元（文件 宁财农〔2019〕30号）"."""
    params = {"fund": _code(config, "fund_source", line.get("source"), lang),
              "amount": yuan(config, line.get("amount"), lang)}
    if line.get("document"):
        return _said(config, "trace.money.fund_line", lang, document=line["document"], **params)
    return _said(config, "trace.money.fund_line_no_document", lang, **params)


def project_data_words(config, data: dict, key: str, value: Any, lang: str = "zh") -> list[list[str]] | None:
    """[label, value] pairs of one key of a fund project step's data, or None when `key` is not one
    of a project's (the caller says it as any other). An empty list: said with another key."""
    if key in SAID_WITH_OTHERS:
        return []
    if key == "disbursed_late" and not data.get("entered_late"):    # a report with nothing entered late
        return []
    if key in MONEY_KEYS and isinstance(value, (str, int, float, Decimal)) and not isinstance(value, bool):
        return [[money_label(config, key, lang), yuan(config, value, lang)]]
    if key == "rate" and (value is None or isinstance(value, (str, int, float, Decimal))):
        shown = "-" if value is None else f"{Decimal(str(value)) * 100:.2f}".rstrip("0").rstrip(".") + "%"
        return [[config.label("funds.rate", lang), shown]]
    if key in ("allocation", "budget") and isinstance(value, list):
        return [[config.label("funds.allocated" if key == "allocation" else "funds.budget", lang), _listed(
            [fund_line(config, line, lang) for line in value if isinstance(line, dict)], lang)]]
    if key == "milestones" and isinstance(value, list):
        return [[config.label("step_input.milestones", lang), _listed([_said(
            config, "trace.money.milestone_line", lang, seq=m.get("seq"), name=m.get("name") or "-",
            due=m.get("due_date") or "-") for m in value if isinstance(m, dict)], lang)]]
    if key == "milestones" and isinstance(value, int) and not isinstance(value, bool):
        return [[config.label("trace.money.milestones", lang), _said(
            config, "trace.money.milestone_count", lang, n=value, done=data.get("milestones_done", "-"),
            behind=data.get("milestones_behind", "-"))]]
    if key == "beneficiaries" and isinstance(value, list):
        return [[config.label("trace.money.beneficiaries", lang), joined((f"#{c}" for c in value), lang) or "-"]]
    if key == "changes" and isinstance(value, dict):
        return change_words(config, value, lang)
    if key == "entered_late" and isinstance(value, list):     # a monthly report's payments entered late (补录)
        return [[config.label("latepay49.entered_late", lang), _listed(late_lines(config, value, lang), lang)]]
    if key == "assets" and isinstance(value, list):
        return [[config.label("trace.money.assets", lang), _listed([_said(
            config, "trace.money.asset_line", lang, asset_class=_code(config, "asset_class", a.get("asset_class"), lang),
            name=a.get("name") or "-", value=yuan(config, a.get("value"), lang), owner=a.get("owner") or "-")
            for a in value if isinstance(a, dict)], lang)]]
    if key == "original_approval" and isinstance(value, dict):
        post = config.role_label(value["role"], lang) if value.get("role") else "-"
        if value.get("name"):         # by name, the code and post in brackets, as the trace names signers
            line = _said(config, "words47.approval_line", lang, name=value["name"], code=value.get("person") or "-",
                         post=post, on=value.get("on") or "-")
        else:
            line = _said(config, "trace.money.approval_line", lang, person=value.get("person") or "-", post=post,
                         on=value.get("on") or "-")
        return [[config.label("trace.money.original_approval", lang), line]]
    if key == "contractor_change" and isinstance(value, dict):
        return contractor_change_words(config, value, lang)
    if key == "supplementary_contract" and isinstance(value, dict):
        return supplementary_contract_words(config, value, lang)
    if key == "same_person" and isinstance(value, bool):
        return [[config.label("trace.money.same_person", lang), config.label("web.yes" if value else "web.no", lang)]]
    return None


def supplementary_contract_words(config, supplement: dict, lang: str = "zh") -> list[list[str]]:
    """A supplementary contract (补充合同, workflows/project_steps): its contractor, number, date, the
    contract's amount old → new and what it adds, and why, as [label, value] pairs."""
    shown = [[config.label("contract50.contractor", lang), supplement.get("contractor") or "-"]]
    for key in ("contract_no", "signed_on"):
        if supplement.get(key):
            shown.append([config.label(f"field.{key}", lang), str(supplement[key])])
    if supplement.get("contract_amount"):
        amount = yuan(config, supplement["contract_amount"], lang)
        if supplement.get("old_amount"):
            amount = _said(config, "trace.money.old_new", lang, old=yuan(config, supplement["old_amount"], lang),
                           new=amount)
        shown.append([config.label("field.contract_amount", lang), amount])
    if supplement.get("added"):
        shown.append([config.label("contract50.added", lang), yuan(config, supplement["added"], lang)])
    if supplement.get("reason"):
        shown.append([config.label("contract50.reason", lang), supplement["reason"]])
    return shown


def change_words(config, changes: dict, lang: str = "zh") -> list[list[str]]:
    """A plan change's old → new, as [label, value] pairs: the budget (totals, and the new one by source),
    the completion date, the beneficiary households added and removed."""
    shown = []
    budget = changes.get("budget")
    if isinstance(budget, dict):
        shown.append([config.label("trace.money.change_budget", lang), _said(
            config, "trace.money.old_new", lang, old=yuan(config, budget.get("old_total"), lang),
            new=yuan(config, budget.get("new_total"), lang))])
        lines = [fund_line(config, line, lang) for line in budget.get("new") or [] if isinstance(line, dict)]
        if lines:
            shown.append([config.label("trace.money.new_budget", lang), _listed(lines, lang)])
    completion = changes.get("complete_by")
    if isinstance(completion, dict):
        shown.append([config.label("trace.money.change_complete_by", lang), _said(
            config, "trace.money.old_new", lang, old=completion.get("old") or "-", new=completion.get("new") or "-")])
    people = changes.get("beneficiaries")
    if isinstance(people, dict):
        cases = lambda ids: joined((f"#{i}" if isinstance(i, int) else str(i) for i in ids or []), lang) or "-"  # noqa: E731
        shown.append([config.label("trace.money.change_beneficiaries", lang), _said(
            config, "trace.money.beneficiaries_changed", lang, added=cases(people.get("added")),
            removed=cases(people.get("removed")))])
    return shown


def contractor_change_words(config, change: dict, lang: str = "zh") -> list[list[str]]:
    """A change of contractor (workflows/project_steps): the contractor replaced (since when), the new one,
    its contract (number, signed on, how chosen, its amount, old → new) and why, as [label, value] pairs."""
    old = change.get("old") or "-"
    if change.get("old_since"):
        old = _said(config, "words47.since", lang, name=old, date=change["old_since"])
    shown = [[config.label("words47.old_contractor", lang), old],
             [config.label("words47.new_contractor", lang), change.get("new") or "-"]]
    if change.get("new_code"):          # the new contractor's 统一社会信用代码, as its contract records it
        shown.append([config.label("field.credit_code", lang), change["new_code"]])
    for key in ("contract_no", "signed_on", "method"):
        if change.get(key):
            shown.append([config.label(f"field.{key}", lang), str(change[key])])
    if change.get("contract_amount"):       # the new contract's amount, and the one it replaces
        amount = yuan(config, change["contract_amount"], lang)
        if change.get("old_amount"):
            amount = _said(config, "trace.money.old_new", lang, old=yuan(config, change["old_amount"], lang), new=amount)
        shown.append([config.label("field.contract_amount", lang), amount])
    if change.get("reason"):
        shown.append([config.label("words47.change_reason", lang), change["reason"]])
    return shown


def disbursement_lines(config, detail: dict, lang: str = "zh") -> list[str]:
    """A payment's event in words: what was paid to whom (their kind), when, on which voucher; whether
    it was held as retention money or released from it; the project's money after it."""
    held = detail.get("payee_kind") == "retention" and not detail.get("from_retention")
    lines = [_said(config, "trace.money.held" if held else "trace.money.paid", lang,
                   amount=yuan(config, detail.get("amount"), lang), payee=detail.get("payee") or "-",
                   payee_kind=_code(config, "payee_kind", detail.get("payee_kind"), lang),
                   date=detail.get("paid_on") or "-",
                   reference=detail.get("reference") or config.label(
                       "s56q1.held_no_reference" if held else "trace.money.no_reference", lang))]
    if detail.get("from_retention"):
        lines.append(config.label("trace.money.from_retention", lang))
    if isinstance(detail.get("entered_late"), dict):
        lines.append(entered_late_words(config, detail.get("paid_on"), detail["entered_late"], lang))
    after = [f"{money_label(config, k, lang)} {yuan(config, detail[k], lang)}" for k in AFTER if k in detail]
    if after:
        lines.append(_said(config, "trace.money.after", lang, figures=" · ".join(after)))
    return lines


def entered_late_words(config, paid_on: Any, late: dict, lang: str = "zh") -> str:
    """A payment dated in a period a monthly report covered already (补录, workflows/project_money.late_for):
    that report and its period, which stays as filed, and the next report, which lists it apart."""
    return _said(config, "latepay49.payment_late", lang, date=paid_on or "-", report=late.get("report") or "-",
                 start=late.get("report_from") or "-", next=late.get("next_from") or "-")


def late_lines(config, payments: list, lang: str = "zh") -> list[str]:
    """The payments a monthly report lists as entered late: each with its date, payee, amount, voucher
    and the report (and period) it belongs to."""
    return [_said(config, "latepay49.late_line", lang, date=p.get("paid_on") or "-", payee=p.get("payee") or "-",
                  payee_kind=_code(config, "payee_kind", p.get("payee_kind"), lang),
                  amount=yuan(config, p.get("amount"), lang),
                  reference=p.get("reference") or config.label("trace.money.no_reference", lang),
                  report=p.get("report") or "-", start=p.get("report_from") or "-")
            for p in payments if isinstance(p, dict)]


def _listed(items: list[str], lang: str) -> str:
    return ("；" if lang == "zh" else "; ").join(items) or "-"
