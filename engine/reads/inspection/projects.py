"""Fund projects handed over although their performance evaluation found the target not met
(project_target_missed, DOMAIN.md §9: a third-party or county evaluation is a source of findings);
payments recorded after a monthly disbursement report but dated in its period (payment_entered_late,
补录: money the filed report did not show, reported by the next one; the voucher's date and why it
came late are worth a look).

The evaluation is signed and the project consolidated as the workflow allows: the engine does not
stop it, it points the inspector at it, with the evaluation's sign-off and its audit event, so that
a problem item can be opened (`problem add`) where the shortfall calls for one. One statement over
the region's projects (ix_cases_kind_region).
"""
from __future__ import annotations

from itertools import groupby
from typing import Iterator

from sqlalchemy import and_, false, select

from engine.reads.funds import money

from engine.adapters import tables as t
from .flag import Flag
from .query import Query, seqs, step_event


def targets_missed(x: Query) -> Iterator[Flag]:
    for _, group in groupby(x.stream(_missed_rows(x)), key=lambda r: r.case_id):
        rows = list(group)
        r = rows[0]
        yield Flag("project_target_missed", "detail", r.case_id, r.title, r.region_code,
                   (r.code, r.name) if r.code else None,
                   {"date": r.effective_date.isoformat() if r.effective_date else "-",
                    "step": "performance_evaluation"}, seqs(rows))


def _missed_rows(x: Query):
    c, s, p, ae = t.cases, t.steps, t.persons, t.audit_events
    missed = (select(c.c.id.label("case_id"), c.c.title, c.c.region_code)
              .where(c.c.kind == "project", x.region(), c.c.attrs["target_met"].as_boolean() == false())
              .cte("missed"))
    signed = and_(s.c.case_id == missed.c.case_id, s.c.step_key == "performance_evaluation", s.c.voided_at.is_(None))
    return (select(missed, s.c.effective_date, p.c.code, p.c.name, ae.c.seq)
            .outerjoin(s, signed).outerjoin(p, p.c.id == s.c.person_id).outerjoin(ae, step_event(ae, s))
            .where(x.of_person(s.c.person_id))
            .order_by(missed.c.case_id, s.c.id, ae.c.seq))


def payments_entered_late(x: Query) -> Iterator[Flag]:
    """A payment's event that says it was entered late (workflows/project_money.late_for): one flag each,
    about the person who recorded it. The region's projects, then each one's payment events by
    ix_audit_events_case_action."""
    for r in x.stream(_late_rows(x)):
        yield Flag("payment_entered_late", "detail", r.case_id, r.title, r.region_code,
                   (r.code, r.name) if r.code else None,
                   {"date": r.paid_on or "-", "amount": f"{money(r.amount):,.2f}" if r.amount else "-",
                    "payee": r.payee or "-", "report": r.report, "start": r.start or "-",
                    "recorded": x.local_text(r.at)}, (r.seq,))


def _late_rows(x: Query):
    c, ae, p = t.cases, t.audit_events, t.persons
    detail = ae.c.detail
    report = detail[("entered_late", "report")].as_string()
    return (select(c.c.id.label("case_id"), c.c.title, c.c.region_code, ae.c.seq, ae.c.at, p.c.code, p.c.name,
                   detail["paid_on"].as_string().label("paid_on"), detail["amount"].as_string().label("amount"),
                   detail["payee"].as_string().label("payee"), report.label("report"),
                   detail[("entered_late", "report_from")].as_string().label("start"))
            .join(ae, and_(ae.c.case_id == c.c.id, ae.c.action == "disbursement_recorded"))
            .outerjoin(p, p.c.id == ae.c.person_id)
            .where(c.c.kind == "project", x.region(), report.is_not(None), x.of_person(ae.c.person_id))
            .order_by(c.c.id, ae.c.seq))
