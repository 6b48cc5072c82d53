"""One person signing twice in a procedure, or after voiding sign-offs (override_chain)."""
from __future__ import annotations

from itertools import groupby
from typing import Iterator

from sqlalchemy import and_, distinct, exists, func, or_, select

from engine.adapters import tables as t
from .flag import Flag
from .query import Query, seqs, step_event


# --- 5. override_chain ------------------------------------------------------------------------

def repeated_signers(x: Query) -> Iterator[Flag]:
    """One person in two or more steps of one procedure, voided steps counted too."""
    for _, group in groupby(x.stream(_repeated_rows(x)), key=lambda r: (r.procedure_id, r.person_id)):
        rows = list(group)
        r = rows[0]
        steps = list({row.id: [row.step_key, row.voided_at is not None] for row in rows}.values())
        yield Flag("override_chain", "repeated", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"procedure": r.procedure, "procedure_id": r.procedure_id, "steps": steps,
                    "voided": sum(1 for _, v in steps if v)}, seqs(rows))


def _repeated_rows(x: Query):
    s, c, p, pr, ae = t.steps, t.cases, t.persons, t.procedures, t.audit_events
    twice = (select(s.c.procedure_id, s.c.person_id).join(c, c.c.id == s.c.case_id)
             .where(x.region(), x.of_person(s.c.person_id))
             .group_by(s.c.procedure_id, s.c.person_id)
             .having(func.count(distinct(s.c.step_key)) >= 2)).cte("repeated_signers")
    return (select(s.c.id, s.c.procedure_id, s.c.person_id, s.c.case_id, s.c.step_key, s.c.voided_at, c.c.title,
                   c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq)
            .join(twice, and_(twice.c.procedure_id == s.c.procedure_id, twice.c.person_id == s.c.person_id))
            .join(c, c.c.id == s.c.case_id).join(p, p.c.id == s.c.person_id).join(pr, pr.c.id == s.c.procedure_id)
            .outerjoin(ae, step_event(ae, s))
            .order_by(s.c.procedure_id, s.c.person_id, s.c.id, ae.c.seq))


def voider_signs(x: Query) -> Iterator[Flag]:
    """The person whose change voided sign-offs, then doing a later step of the same procedure: one
    that was not theirs before (a cadre whose correction voided the proposal on, doing her own voided
    step again, overrides nobody)."""
    for _, group in groupby(x.stream(_voider_rows(x)), key=lambda r: (r.cause_seq, r.step_id)):
        rows = list(group)
        r = rows[0]
        yield Flag("override_chain", "voider", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"procedure": r.procedure, "step": r.step_key, "step_id": r.step_id, "cause": r.action,
                    "cause_at": x.local_text(r.at)}, seqs(rows, "cause_seq", "seq"))


def _voidings(x: Query):
    """Audit events other than steps that voided sign-offs of a procedure."""
    c, cause = t.cases, t.audit_events.alias("cause")
    return (select(cause.c.seq, cause.c.case_id, cause.c.procedure_id, cause.c.person_id, cause.c.at,
                   cause.c.action)
            .join(c, c.c.id == cause.c.case_id)
            .where(x.region(), x.of_person(cause.c.person_id), cause.c.procedure_id.isnot(None),
                   cause.c.action != "step",
                   cause.c.detail[("voided_steps", 0, "id")].as_integer().isnot(None))).cte("voidings")


def _voider_rows(x: Query):
    """Steps of the same procedure recorded by the voider after the voiding (and not voided before it),
    but for a step the voider had done before it was voided (their own, done again)."""
    s, c, p, pr, ae = t.steps, t.cases, t.persons, t.procedures, t.audit_events
    own = t.steps.alias("own_before")
    voidings = _voidings(x)
    redone = exists().where(own.c.procedure_id == s.c.procedure_id, own.c.person_id == s.c.person_id,
                            own.c.step_key == s.c.step_key, own.c.id < s.c.id, own.c.voided_at.isnot(None))
    return (select(voidings.c.seq.label("cause_seq"), voidings.c.action, voidings.c.at, s.c.id.label("step_id"),
                   s.c.step_key, s.c.case_id, c.c.title, c.c.region_code, p.c.code, p.c.name,
                   pr.c.kind.label("procedure"), ae.c.seq)
            .select_from(voidings.join(s, and_(s.c.procedure_id == voidings.c.procedure_id,
                                               s.c.person_id == voidings.c.person_id,
                                               s.c.recorded_at >= voidings.c.at,
                                               or_(s.c.voided_at.is_(None), s.c.voided_at > voidings.c.at),
                                               ~redone))
                         .join(c, c.c.id == s.c.case_id).join(p, p.c.id == s.c.person_id)
                         .join(pr, pr.c.id == s.c.procedure_id).outerjoin(ae, step_event(ae, s)))
            .order_by(voidings.c.seq, s.c.id, ae.c.seq))
