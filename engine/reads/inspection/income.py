"""Exits just above the line (exit_near_line) and income figures changed shortly before a decision
(figure_changed_before_decision)."""
from __future__ import annotations

from datetime import timedelta
from itertools import groupby
from typing import Iterator

from sqlalchemy import and_, func, select, true

from engine.adapters import tables as t
from .flag import Flag
from .query import Query, seqs, step_event, utc

# What a policy check records with the step that decided on income (workflows/household_steps.py):
# {"per_capita": ..., "line": ...}; exit_check must be above the line, income_check under it, and
# risk_check (风险消除) above the monitoring line. Each with the flag's variant that says so.
INCOME_DECISIONS = (("exit_check", "up"), ("income_check", "down"))
DECIDED_ON_INCOME = (*((key, direction, direction) for key, direction in INCOME_DECISIONS),
                     ("risk_check", "up", "monitoring_up"))
INCOME_FIELD = "net_income"


# --- 6. exit_near_line ------------------------------------------------------------------------

def near_line(x: Query) -> Iterator[Flag]:
    """Completed exits whose per-capita income, as the last exit check computed it, is just above the line."""
    margin = x.insp.exit_near_line_margin
    for _, group in groupby(x.stream(_near_line_rows(x, margin)), key=lambda r: r.procedure_id):
        rows = list(group)
        r = rows[0]
        above = (r.per_capita / r.line - 1) * 100 if r.line else 0.0
        yield Flag("exit_near_line", "detail", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"procedure": r.procedure, "procedure_id": r.procedure_id, "step": r.step_key,
                    "per_capita": round(r.per_capita, 2), "line": r.line, "above_pct": round(above, 1),
                    "margin_pct": round(margin * 100, 1)}, seqs(rows))


def _last_exit_checks(x: Query, key: str):
    """The last exit check of each completed procedure, with the per capita and line it recorded."""
    s, c, pr = t.steps, t.cases, t.procedures
    per_capita, line = s.c.data[(key, "per_capita")].as_float(), s.c.data[(key, "line")].as_float()
    return (select(s.c.id, s.c.procedure_id, s.c.case_id, s.c.person_id, s.c.step_key,
                   per_capita.label("per_capita"), line.label("line"),
                   func.row_number().over(partition_by=s.c.procedure_id, order_by=s.c.id.desc()).label("rn"))
            .join(pr, and_(pr.c.id == s.c.procedure_id, pr.c.status == "completed"))
            .join(c, c.c.id == s.c.case_id)
            .where(x.region(), s.c.voided_at.is_(None), per_capita.isnot(None), x.signed_in(s.c.procedure_id))
            ).cte("exit_checks")


def _near_line_rows(x: Query, margin: float):
    c, p, pr, ae = t.cases, t.persons, t.procedures, t.audit_events
    key = INCOME_DECISIONS[0][0]
    ranked = _last_exit_checks(x, key)
    near = select(ranked).where(ranked.c.rn == 1, ranked.c.per_capita < ranked.c.line * (1 + margin),
                                x.of_person(ranked.c.person_id)).cte("near_line")
    checks = t.steps.alias("checks")
    return (select(near, c.c.title, c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq)
            .join(c, c.c.id == near.c.case_id).join(p, p.c.id == near.c.person_id)
            .join(pr, pr.c.id == near.c.procedure_id)
            .outerjoin(checks, and_(checks.c.procedure_id == near.c.procedure_id, checks.c.voided_at.is_(None),
                                    checks.c.data[(key, "per_capita")].as_float().isnot(None)))
            .outerjoin(ae, step_event(ae, checks))
            .order_by(near.c.procedure_id, ae.c.seq))


# --- 7. figure_changed_before_decision ---------------------------------------------------------

def figures_changed(x: Query) -> Iterator[Flag]:
    for key, direction, variant in DECIDED_ON_INCOME:
        yield from _figure_changed(x, key, direction, variant)


def _figure_changed(x: Query, key: str, direction: str, variant: str) -> Iterator[Flag]:
    """An income item replaced within `days` before a decision on it, from one side of the line to the other.

    The decision recorded the per-capita income and line it used; the members it divided by follow
    from the item it relied on (net income / per capita, rounded to whole members), so the old
    item's per capita is old net income / members.
    """
    q = _changed_rows(_changed_figures(x, key, direction))
    for _, group in groupby(x.stream(q), key=lambda r: (r.procedure_id, r.old_id)):
        yield _changed_flag(x, variant, list(group))


def _changed_figures(x: Query, key: str, direction: str):
    """(decision step, old item, new item) where the replaced item was on the other side of the line:
    the side it would have been refused on, the line itself included (an exit needs an income strictly
    above it, an identification one strictly under it)."""
    s, c = t.steps, t.cases
    relied, old, new = t.evidence.alias("relied"), t.evidence.alias("old"), t.evidence.alias("new")
    days = x.insp.figure_changed_days
    per_capita, line = s.c.data[(key, "per_capita")].as_float(), s.c.data[(key, "line")].as_float()
    relied_net, old_net = relied.c.fields[INCOME_FIELD].as_float(), old.c.fields[INCOME_FIELD].as_float()
    members = _whole_members(relied_net, per_capita)
    # the same year's figure changed (or its year too, to an earlier one); a later year's item in its
    # place is a new measure, not a change
    year_of = lambda item: func.coalesce(item.c.fields["year"].as_integer(), -1)  # noqa: E731
    not_later = year_of(new) <= year_of(old)
    if direction == "up":     # decided above the line; the old figure was not above it
        crossed = and_(per_capita > line, old_net <= line * members)
    else:                     # decided under the line; the old figure was not under it
        crossed = and_(per_capita < line, old_net >= line * members)
    decided, changed = x.epoch(s.c.recorded_at), x.epoch(new.c.attached_at)
    refs = x.elements(s.c.evidence_hashes, "refs")
    return (select(s.c.id.label("step_id"), s.c.procedure_id, s.c.case_id, s.c.step_key, s.c.person_id,
                   per_capita.label("per_capita"), line.label("line"), members.label("members"),
                   old_net.label("old_net"), old.c.id.label("old_id"), old.c.type, new.c.id.label("new_id"),
                   new.c.attached_at, new.c.attached_by, s.c.recorded_at)
            .select_from(s.join(c, c.c.id == s.c.case_id).join(refs, true())
                         .join(relied, relied.c.id == refs.c.value["id"].as_integer())
                         .join(old, and_(old.c.case_id == relied.c.case_id, old.c.type == relied.c.type,
                                         old.c.id < relied.c.id, old.c.superseded_by.isnot(None)))
                         .join(new, new.c.id == old.c.superseded_by))
            .where(x.region(), s.c.voided_at.is_(None), per_capita.isnot(None), relied_net > 0, members > 0,
                   old_net.isnot(None), changed <= decided, changed >= decided - days * 86400, crossed, not_later,
                   x.of_person(new.c.attached_by), x.changed_by(s.c.case_id, ("evidence_replaced",)))
            ).cte(f"figure_changed_{key}")


def _whole_members(net, per_capita):
    """The members a decision divided the income it relied on by, whole (the per capita it recorded is
    rounded to the fen): an old figure exactly on the line is compared as the check compared it, not a
    fen off."""
    return func.round(net / func.nullif(per_capita, 0))


def _changed_rows(found):
    """Each change with its case, who replaced the item, and the audit events of the decision and the replacement."""
    c, p, pr, ae = t.cases, t.persons, t.procedures, t.audit_events
    replaced = t.audit_events.alias("replace_event")
    return (select(found, c.c.title, c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq,
                   replaced.c.seq.label("replace_seq"))
            .join(c, c.c.id == found.c.case_id).join(p, p.c.id == found.c.attached_by)
            .join(pr, pr.c.id == found.c.procedure_id)
            .outerjoin(ae, step_event(ae, found))
            .outerjoin(replaced, and_(replaced.c.case_id == found.c.case_id, replaced.c.action == "evidence_replaced",
                                      replaced.c.evidence_hashes[(0, "id")].as_integer() == found.c.new_id))
            .order_by(Query.sort_key(found.c.procedure_id), found.c.old_id, found.c.step_id, ae.c.seq))


def _changed_flag(x: Query, variant: str, rows: list) -> Flag:
    r = rows[0]
    hours = (utc(r.recorded_at) - utc(r.attached_at)) / timedelta(hours=1)
    return Flag("figure_changed_before_decision", variant, r.case_id, r.title, r.region_code, (r.code, r.name),
                {"procedure": r.procedure, "step": r.step_key, "step_id": r.step_id, "type": r.type,
                 "old": r.old_id, "new": r.new_id,
                 "old_per_capita": round(r.old_net / r.members, 2),
                 "per_capita": round(r.per_capita, 2), "line": r.line, "changed": x.local_text(r.attached_at),
                 "days_before": round(hours / 24, 1)}, seqs(rows, "seq", "replace_seq"))


# --- 7c. a member added shortly before a decision that the household is under the line -------------

def members_added(x: Query) -> Iterator[Flag]:
    """挂户: a member recorded as joining the household within `days` before the decision that its income
    per head is under the line, where without them it was not under it (the decision divided the income
    it relied on by one member more)."""
    for _, group in groupby(x.stream(_added_rows(x)), key=lambda r: (r.procedure_id, r.added_seq)):
        rows = list(group)
        r = rows[0]
        hours = (utc(r.recorded_at) - utc(r.added_at)) / timedelta(hours=1)
        yield Flag("figure_changed_before_decision", "member_added", r.case_id, r.title, r.region_code,
                   (r.code, r.name),
                   {"procedure": r.procedure, "step": r.step_key, "step_id": r.step_id,
                    "member": (r.detail or {}).get("member"), "reason": r.reason or "",
                    "old_per_capita": round(r.relied_net / (r.members - 1), 2), "per_capita": round(r.per_capita, 2),
                    "line": r.line, "changed": x.local_text(r.added_at), "days_before": round(hours / 24, 1)},
                   seqs(rows, "seq", "added_seq"))


def _added_rows(x: Query):
    s, c, p, pr, ae = t.steps, t.cases, t.persons, t.procedures, t.audit_events
    key = INCOME_DECISIONS[1][0]
    relied, added = t.evidence.alias("relied"), t.audit_events.alias("added")
    per_capita, line = s.c.data[(key, "per_capita")].as_float(), s.c.data[(key, "line")].as_float()
    relied_net = relied.c.fields[INCOME_FIELD].as_float()
    members = _whole_members(relied_net, per_capita)
    decided, joined = x.epoch(s.c.recorded_at), x.epoch(added.c.at)
    days = x.insp.figure_changed_days
    refs = x.elements(s.c.evidence_hashes, "refs")
    return (select(s.c.id.label("step_id"), s.c.procedure_id, s.c.case_id, s.c.step_key, s.c.recorded_at,
                   per_capita.label("per_capita"), line.label("line"), members.label("members"),
                   relied_net.label("relied_net"), added.c.seq.label("added_seq"), added.c.at.label("added_at"),
                   added.c.reason, added.c.detail, c.c.title, c.c.region_code, p.c.code, p.c.name,
                   pr.c.kind.label("procedure"), ae.c.seq)
            .select_from(s.join(c, c.c.id == s.c.case_id).join(refs, true())
                         .join(relied, and_(relied.c.id == refs.c.value["id"].as_integer(), relied.c.type == key))
                         .join(added, and_(added.c.case_id == s.c.case_id, added.c.action == "member_added"))
                         .join(p, p.c.id == added.c.person_id)
                         .join(pr, pr.c.id == s.c.procedure_id)
                         .outerjoin(ae, step_event(ae, s)))
            .where(x.region(), s.c.voided_at.is_(None), per_capita.isnot(None), per_capita < line, relied_net > 0,
                   members > 1, relied_net >= line * (members - 1), x.of_person(added.c.person_id),
                   x.changed_by(s.c.case_id, ("member_added",)),
                   joined <= decided, joined >= decided - days * 86400)
            .order_by(Query.sort_key(s.c.procedure_id), added.c.seq, s.c.id, ae.c.seq))
