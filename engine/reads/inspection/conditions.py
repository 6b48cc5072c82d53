"""A condition of the exit other than the income changed shortly before the exit decision
(fact_changed_before_exit): a member recorded back in school or insured (not one whose schooling or
insurance was recorded for the first time: not recorded, the standard asked for it), a member recorded as
leaving the household (a school-age child out of school, an uninsured member, or one whose share of
the income puts the income per head under the line: the household without them passes), a housing,
water or food-and-clothing item replaced, where the fact as it stood before the change fails the exit
standard.

A refused exit leaves nothing in the record (the step is refused, not written), so "refused" is read
from the facts: the decision recorded what its standard read (`exit_facts`, workflows/household_steps.py);
each change of those facts made within `figure_changed_days` before it is undone on that record and
the standard asked again (the workflow's `fact_failures`). A change that turned a failing fact into
a passing one is a lead: the fact may have been changed to get the exit through, as an income raised
over the line is (income.py). Decisions recorded before they recorded their facts are not read.
"""
from __future__ import annotations

import copy
from datetime import timedelta
from itertools import groupby
from typing import Any, Iterator

from sqlalchemy import and_, select

from config import Policy
from engine.adapters import tables as t
from engine.domain.errors import Msg
from engine.domain.members import age_from_id, member_changes
from .flag import Flag
from .query import Query, seqs, step_event, utc

# The changes read, and what of the recorded facts each undoes: a member's fields (their place in a
# member's record), or the facts an item of a type gave.
MEMBER_FIELDS = {"school_enrolment": 2, "insured_basic": 3, "insured_critical": 4}
ITEM_FACTS = {"housing_safety": ("housing",), "drinking_water": ("water",), "two_assurances": ("food", "clothing")}
CHANGES = ("member_updated", "evidence_replaced", "member_left")


def facts_changed(x: Query) -> Iterator[Flag]:
    judge = getattr(x.app.rules.get("household"), "fact_failures", None)
    if judge is None:
        return
    labels = x.app.config.labels
    leads = (row for row in x.stream(_changes(x)) if _refused_before(row, judge, labels))
    for _, group in groupby(leads, key=lambda r: (r.procedure_id, r.change_seq)):
        yield _flag(x, list(group), judge, labels)


def _changes(x: Query):
    """Each exit decision beside each change of its case made within the days before it, with the
    item a replacement replaced and the decision's own event, in decision and change order."""
    s, c, ae, p, pr = t.steps, t.cases, t.audit_events, t.persons, t.procedures
    change, old, new = t.audit_events.alias("change"), t.evidence.alias("old"), t.evidence.alias("new")
    gone = t.household_members.alias("gone")      # who left, as their row keeps them
    decided, changed = x.epoch(s.c.recorded_at), x.epoch(change.c.at)
    days = x.insp.figure_changed_days
    return (select(s.c.id.label("step_id"), s.c.procedure_id, s.c.case_id, s.c.step_key, s.c.data, s.c.recorded_at,
                   change.c.seq.label("change_seq"), change.c.at.label("changed_at"), change.c.action,
                   change.c.reason.label("change_reason"),
                   change.c.detail, old.c.type, old.c.fields.label("old_fields"), new.c.fields.label("new_fields"),
                   c.c.title, c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq,
                   s.c.effective_date, gone.c.id_number.label("gone_number"),
                   gone.c.school_enrolment.label("gone_school"), gone.c.insured_basic.label("gone_basic"),
                   gone.c.insured_critical.label("gone_critical"))
            .select_from(s.join(c, c.c.id == s.c.case_id)
                         .join(change, and_(change.c.case_id == s.c.case_id, change.c.action.in_(CHANGES)))
                         .outerjoin(old, old.c.id == change.c.detail["replaced"].as_integer())
                         .outerjoin(new, new.c.id == old.c.superseded_by)
                         .outerjoin(gone, and_(change.c.action == "member_left", gone.c.case_id == change.c.case_id,
                                               gone.c.name == change.c.detail["member"].as_string(),
                                               gone.c.active.is_(False)))
                         .join(p, p.c.id == change.c.person_id)
                         .join(pr, pr.c.id == s.c.procedure_id)
                         .outerjoin(ae, step_event(ae, s)))
            .where(x.region(), c.c.kind == "household", s.c.voided_at.is_(None), x.of_person(change.c.person_id),
                   x.changed_by(s.c.case_id, CHANGES),
                   s.c.data[("exit_check", "line")].as_float().isnot(None),
                   changed <= decided, changed >= decided - days * 86400)
            .order_by(s.c.procedure_id, change.c.seq, s.c.id, ae.c.seq))


def _before(row) -> dict[str, Any] | None:
    """The decision's recorded facts with the change undone; None when the change touched none of them."""
    facts = (row.data or {}).get("exit_facts")
    if not isinstance(facts, dict):
        return None
    before, detail = copy.deepcopy(facts), row.detail or {}
    if row.action == "member_left":          # the member back in the household, as their row keeps them
        name = detail.get("member")
        age = age_from_id(row.gone_number, row.effective_date) if row.gone_number else None
        if age is None or any(m[0] == name for m in before.get("members") or []):
            return None
        before.setdefault("members", []).append([name, age, row.gone_school, row.gone_basic, row.gone_critical])
        return before
    if row.action == "member_updated":
        # a fact recorded for the first time (its old value NULL: not recorded) was not changed back: the
        # standard asked for it, and the cadre gave it
        old = {k: v for k, v in (detail.get("old") or {}).items() if k in MEMBER_FIELDS and v is not None}
        name = (detail.get("new") or {}).get("name") or detail.get("member")
        member = next((m for m in before.get("members") or [] if m[0] == name), None)
        if not old or member is None:
            return None
        for field, value in old.items():
            member[MEMBER_FIELDS[field]] = value
        return before
    if row.type not in ITEM_FACTS or row.old_fields is None:
        return None
    old = row.old_fields
    if row.type == "housing_safety":
        before["housing"] = {"grade": old.get("grade") or "", **{
            k: old[k] for k in ("renovated_accepted", "relocated_keys_handed") if old.get(k) is not None}}
    elif row.type == "drinking_water":
        before["water"] = old.get("safe")
    else:
        before["food"], before["clothing"] = old.get("food"), old.get("clothing")
    return before


def _failures_before(row, judge, labels) -> list | None:
    """What the exit standard fails with the change undone (None when it touched none of the facts):
    for a member who left, the income per head too, over one more member against the decision's line
    (the per capita it recorded is rounded to the fen: within half a fen of the line either way)."""
    before = _before(row)
    if before is None:
        return None
    failures = judge(before, labels)
    if row.action == "member_left":
        failures = failures + _income_with_one_more(row.data)
    return failures


def _income_with_one_more(data: dict) -> list:
    check, members = data.get("exit_check") or {}, len((data.get("exit_facts") or {}).get("members") or ())
    per_capita, line, source = check.get("per_capita"), check.get("line"), check.get("line_source") or ""
    if not members or per_capita is None or line is None:
        return []
    back = per_capita * members / (members + 1)
    if back > line:
        return []
    key, params = Policy.line_source(source)
    return [("income_not_above", {"per_capita": f"{back:,.0f}", "members": members + 1, "year": params.get("year", ""),
                                  "line": f"{line:,.0f}", "source": Msg(key, params)})]


def _refused_before(row, judge, labels) -> bool:
    return bool(_failures_before(row, judge, labels)) and not judge(row.data["exit_facts"], labels)


def _flag(x: Query, rows: list, judge, labels) -> Flag:
    r = rows[0]                           # the first decision the change came before (the proposal)
    hours = (utc(r.recorded_at) - utc(r.changed_at)) / timedelta(hours=1)
    detail: dict[str, Any] = {"procedure": r.procedure, "step": r.step_key, "step_id": r.step_id,
                              "changed": x.local_text(r.changed_at), "days_before": round(hours / 24, 1),
                              "failures": [[code, params] for code, params in _failures_before(r, judge, labels)]}
    if r.action == "member_left":
        detail.update({"member": (r.detail or {}).get("member"), "reason": r.change_reason or ""})
        variant = "member_left"
    elif r.action == "member_updated":
        detail["changes"] = [c for c in member_changes(r.action, r.detail) if c["field"] in MEMBER_FIELDS]
        variant = "member"
    else:
        detail.update({"type": r.type, "old": (r.detail or {}).get("replaced"), "old_fields": r.old_fields,
                       "new_fields": r.new_fields})
        variant = "evidence"
    return Flag("fact_changed_before_exit", variant, r.case_id, r.title, r.region_code, (r.code, r.name), detail,
                seqs(rows, "seq", "change_seq"))
