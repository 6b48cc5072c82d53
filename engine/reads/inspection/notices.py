"""Notices that ran short or were entered late (short_notice, notice_backdated)."""
from __future__ import annotations

from itertools import groupby
from typing import Iterator

from sqlalchemy import and_, func, or_, select

from engine.adapters import tables as t
from .flag import Flag
from .query import Query, event_person, one_case, seqs, step_event


# --- 3. short_notice, notice_backdated --------------------------------------------------------

def short_or_late_notices(x: Query) -> Iterator[Flag]:
    """Notices that ran fewer days than their rule, or were entered long after their start date in a
    procedure that ran live (a notice of a paper procedure entered afterwards is not backdated)."""
    for _, group in groupby(x.stream(_bad_notice_rows(x)), key=lambda r: r.id):
        yield from _bad_notice_flags(x, list(group))


def _bad_notice_rows(x: Query):
    """Each short or late notice with each of its cases, who posted it, and the audit events of its steps."""
    n, nc, s, c, p, ae = t.notices, t.notice_cases, t.steps, t.cases, t.persons, t.audit_events
    length = x.days_between(n.c.end_date, n.c.start_date)
    entered = x.days_between(x.local_date(n.c.posted_at), n.c.start_date)
    bad = (select(n.c.id, n.c.procedure_kind, n.c.step_key, n.c.start_date, n.c.end_date, n.c.days_required,
                  n.c.posted_at, n.c.posted_by, length.label("length"), entered.label("entered_after"))
           .where(or_(length < n.c.days_required, entered > x.insp.notice_backdated_days),
                  x.of_person(n.c.posted_by), x.posted(n.c.id))).cte("bad_notices")
    return (select(bad, nc.c.case_id, c.c.title, c.c.region_code, p.c.code, p.c.name, ae.c.seq,
                   x.paper(s.c.procedure_id).label("paper"))
            .join(nc, nc.c.notice_id == bad.c.id).join(c, c.c.id == nc.c.case_id).join(p, p.c.id == bad.c.posted_by)
            .outerjoin(s, and_(s.c.notice_id == bad.c.id, s.c.case_id == nc.c.case_id))
            .outerjoin(ae, step_event(ae, s))
            .where(x.region())
            .order_by(bad.c.id, nc.c.case_id, ae.c.seq))


def _bad_notice_flags(x: Query, rows: list) -> Iterator[Flag]:
    late = x.insp.notice_backdated_days
    r = rows[0]
    cases = {row.case_id for row in rows}
    one = one_case(cases, rows)
    base = {"notice": r.id, "procedure": r.procedure_kind, "step": r.step_key, "start": r.start_date.isoformat(),
            "end": r.end_date.isoformat(), "cases": sorted(cases)}
    if r.length < r.days_required:
        yield Flag("short_notice", "rule", *one, (r.code, r.name),
                   {**base, "days": int(r.length), "required": r.days_required}, seqs(rows))
    # Entered late for paper procedures only (the step before it late too) is a county entering its files.
    if r.entered_after > late and not all(row.paper for row in rows):
        yield Flag("notice_backdated", "detail", *one, (r.code, r.name),
                   {**base, "posted": x.local_text(r.posted_at), "days": int(r.entered_after), "limit": late},
                   seqs(rows))


def relied_early(x: Query) -> Iterator[Flag]:
    """The step after a notice (the one relying on it), dated before the notice's end."""
    for _, group in groupby(x.stream(_relied_early_rows(x)), key=lambda r: r.notice_step):
        rows = list(group)
        r = rows[0]
        yield Flag("short_notice", "relied_early", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"notice": r.notice_id, "procedure": r.procedure, "step": r.notice_key, "next_step": r.next_key,
                    "date": r.effective_date.isoformat(), "end": r.end_date.isoformat()}, seqs(rows))


def _notice_steps(x: Query):
    """Each notice step with the step that follows it in its procedure (not voided)."""
    s, c = t.steps, t.cases
    later = t.steps.alias("later")
    nxt = select(func.min(later.c.id)).where(later.c.procedure_id == s.c.procedure_id, later.c.id > s.c.id,
                                             later.c.voided_at.is_(None)).scalar_subquery()
    return (select(s.c.id.label("notice_step"), s.c.case_id, s.c.procedure_id, s.c.notice_id,
                   s.c.step_key.label("notice_key"), s.c.person_id.label("notice_person"), nxt.label("next_id"))
            .join(c, c.c.id == s.c.case_id)
            .where(x.region(), x.of_type(s) == "notice", s.c.voided_at.is_(None),
                   s.c.notice_id.isnot(None), x.signed_in(s.c.procedure_id))).cte("notice_steps")


def _relied_early_rows(x: Query):
    c, n, p, pr, ae = t.cases, t.notices, t.persons, t.procedures, t.audit_events
    notice_steps, nx = _notice_steps(x), t.steps.alias("next_step")
    early = (select(notice_steps, nx.c.step_key.label("next_key"), nx.c.person_id.label("next_person"),
                    nx.c.effective_date, n.c.end_date)
             .join(nx, nx.c.id == notice_steps.c.next_id).join(n, n.c.id == notice_steps.c.notice_id)
             .where(nx.c.effective_date < n.c.end_date, x.of_person(nx.c.person_id))).cte("relied_early")
    return (select(early, c.c.title, c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq)
            .join(c, c.c.id == early.c.case_id).join(p, p.c.id == early.c.next_person)
            .join(pr, pr.c.id == early.c.procedure_id)
            .outerjoin(ae, _notice_or_next_event(ae, early))
            .order_by(early.c.notice_step, ae.c.seq))


def _notice_or_next_event(ae, early):
    """The audit event of the notice step or of the step after it."""
    return and_(ae.c.case_id == early.c.case_id, ae.c.procedure_id == early.c.procedure_id, ae.c.action == "step",
                or_(and_(ae.c.step_key == early.c.notice_key, event_person(ae) == early.c.notice_person),
                    and_(ae.c.step_key == early.c.next_key, event_person(ae) == early.c.next_person)))
