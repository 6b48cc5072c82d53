"""Decisions dated earlier than they were made (decision_backdated), told apart from paper files entered
late, and sign-offs by a recorded relative of the household (relative_signed).

A paper procedure entered afterwards has every step recorded long after its stated date, its first step
included: that is how a county enters its files, not a lead (Query.paper). A procedure that ran live (its
first step recorded within late_entry_days of its date) and then has a sign-off recorded later than that
after the date it states was decided, or at least written down, later than it says: a backdated decision.
Evidence the decision relied on that is dated after it is evidence_after_signoff's flag.
"""
from __future__ import annotations

from itertools import groupby
from typing import Iterator

from sqlalchemy import and_, not_, select

from engine.adapters import tables as t
from engine.domain.kin import kin_shown
from .flag import Flag
from .query import Query, seqs, step_event

BACKDATED_TYPES = ("signoff",)


# --- decision_backdated -----------------------------------------------------------------------

def backdated_decisions(x: Query) -> Iterator[Flag]:
    for _, group in groupby(x.stream(_backdated_rows(x)), key=lambda r: r.id):
        rows = list(group)
        r = rows[0]
        yield Flag("decision_backdated", "detail", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"procedure": r.procedure, "step": r.step_key, "step_id": r.id,
                    "date": r.effective_date.isoformat(), "recorded": x.local_text(r.recorded_at),
                    "days": int(r.gap), "limit": x.insp.late_entry_days}, seqs(rows))


def _backdated_rows(x: Query):
    s, c, p, pr, ae = t.steps, t.cases, t.persons, t.procedures, t.audit_events
    late = (select(s.c.id, s.c.case_id, s.c.procedure_id, s.c.step_key, s.c.person_id, s.c.effective_date,
                   s.c.recorded_at, x.entry_gap(s).label("gap"))
            .join(c, c.c.id == s.c.case_id)
            .where(x.region(), s.c.step_type.in_(BACKDATED_TYPES), x.of_person(s.c.person_id), s.c.voided_at.is_(None),
                   x.late(s),
                   not_(x.paper(s.c.procedure_id)))).cte("backdated")
    return (select(late, c.c.title, c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq)
            .join(c, c.c.id == late.c.case_id).join(p, p.c.id == late.c.person_id)
            .join(pr, pr.c.id == late.c.procedure_id).outerjoin(ae, step_event(ae, late))
            .order_by(late.c.id, ae.c.seq))


# --- relative_signed --------------------------------------------------------------------------

def relatives_signed(x: Query) -> Iterator[Flag]:
    """A signing step by a person recorded as the household's relative (recorded after it: the engine
    refuses a known relative), with the step's event and the event that recorded the relation."""
    for _, group in groupby(x.stream(_relative_rows(x)), key=lambda r: (r.case_id, r.code)):
        rows = list(group)
        r = rows[0]
        steps = {row.id: (row.procedure, row.step_key, row.effective_date.isoformat()) for row in rows}
        yield Flag("relative_signed", "detail", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"relation": kin_shown(r.relation), "signed": [list(v) for v in steps.values()], "step_ids": list(steps)},
                   seqs(rows, "seq", "relation_seq"))


def _relative_rows(x: Query):
    s, c, p, pr, rel, ae = t.steps, t.cases, t.persons, t.procedures, t.relatives, t.audit_events
    noted = t.audit_events.alias("relation_event")
    return (select(s.c.id, s.c.case_id, s.c.step_key, s.c.effective_date, rel.c.relation, c.c.title,
                   c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq,
                   noted.c.seq.label("relation_seq"))
            .join(rel, and_(rel.c.case_id == s.c.case_id, rel.c.person_id == s.c.person_id))
            .join(c, c.c.id == s.c.case_id).join(p, p.c.id == s.c.person_id)
            .join(pr, pr.c.id == s.c.procedure_id).outerjoin(ae, step_event(ae, s))
            .outerjoin(noted, and_(noted.c.case_id == s.c.case_id, noted.c.action == "relative_recorded",
                                   noted.c.detail["person"].as_string() == p.c.code))
            .where(x.region(), x.signing(s), x.of_person(s.c.person_id), s.c.voided_at.is_(None))
            .order_by(s.c.case_id, p.c.code, s.c.id, ae.c.seq, noted.c.seq))
