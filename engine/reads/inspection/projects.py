"""Fund projects handed over although their performance evaluation found the target not met
(project_target_missed, DOMAIN.md §9: a third-party or county evaluation is a source of findings).

The evaluation is signed and the project consolidated as the workflow allows: the engine does not
stop it, it points the inspector at it, with the evaluation's sign-off and its audit event, so that
a problem item can be opened (`problem add`) where the shortfall calls for one. One statement over
the region's projects (ix_cases_kind_region).
"""
from __future__ import annotations

from itertools import groupby
from typing import Iterator

from sqlalchemy import and_, false, select

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
            .order_by(missed.c.case_id, s.c.id, ae.c.seq))
