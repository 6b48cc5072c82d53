"""Evidence attached or dated after the sign-off that relied on it (evidence_after_signoff)."""
from __future__ import annotations

from itertools import groupby
from typing import Iterator, Sequence

from sqlalchemy import String, and_, cast, false, func, or_, select, true, union_all

from engine.adapters import tables as t
from engine.adapters.app import App
from .flag import Flag
from .query import Query, seqs, step_event, utc

EVIDENCE_EVENTS = ("evidence_attached", "evidence_replaced")


# --- 4. evidence_after_signoff ----------------------------------------------------------------

def _date_fields(app: App) -> list[tuple[str, str, str]]:
    """(case kind, evidence type, field) of every date field of every evidence type."""
    return [(kind, etype, name) for kind, wf in app.config.workflows.items()
            for etype, definition in wf.evidence_types.items()
            for name, fkind in definition.fields.items() if fkind.rstrip("?") == "date"]


def _dated_types_so_far(app: App, signing: Sequence[str]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(kind, procedure, step, dated evidence types required up to that step) for signing steps."""
    dated = {(kind, etype) for kind, etype, _ in _date_fields(app)}
    found = []
    for kind, wf in app.config.workflows.items():
        for name, proc in wf.procedures.items():
            so_far: list[str] = []
            for step in proc.steps:
                so_far += [e for e in step.evidence if (kind, e) in dated and e not in so_far]
                if step.type in signing and so_far:
                    found.append((kind, name, step.key, tuple(so_far)))
    return found


def evidence_after(x: Query) -> Iterator[Flag]:
    """Evidence a signing step relied on that was attached after it, or is dated after it.

    Relied on: the items the step recorded (evidence_hashes); a step that recorded none relied on
    the items of its procedure's types up to it that were current when it was recorded.
    """
    fields = _date_fields(x.app)
    q = _late_rows(_late_evidence(x, fields))
    date_names = {}
    for kind, etype, name in fields:
        date_names.setdefault((kind, etype), []).append(name)
    for _, group in groupby(x.stream(q), key=lambda r: (r.step_id, r.evidence_id)):
        yield _late_flag(x, list(group), date_names)


def _dated_late(fields: list[tuple[str, str, str]]):
    """An evidence item with a date field later than the step's date."""
    s, c, e = t.steps, t.cases, t.evidence
    return or_(*(and_(c.c.kind == kind, e.c.type == etype,
                      e.c.fields[name].as_string() > cast(s.c.effective_date, String))
                 for kind, etype, name in fields)) if fields else false()


def _late_evidence(x: Query, fields: list[tuple[str, str, str]]):
    """(step_id, evidence_id) of the late items: recorded by the step, or current for a step that recorded none."""
    dated_late = _dated_late(fields)
    parts = [_late_recorded(x, dated_late)]
    so_far = _dated_types_so_far(x.app, x.signing_types)
    if so_far and fields:
        parts.append(_late_current(x, so_far, dated_late))
    return union_all(*parts).cte("late_evidence") if len(parts) > 1 else parts[0].cte("late_evidence")


def _late_recorded(x: Query, dated_late):
    s, c, e = t.steps, t.cases, t.evidence
    relied = x.elements(s.c.evidence_hashes, "relied")
    return (select(s.c.id.label("step_id"), e.c.id.label("evidence_id"))
            .select_from(s.join(c, c.c.id == s.c.case_id).join(relied, true())
                         .join(e, e.c.id == relied.c.value["id"].as_integer()))
            .where(x.region(), x.signing(s), x.of_person(s.c.person_id), s.c.voided_at.is_(None),
                   or_(e.c.attached_at > s.c.recorded_at, dated_late)))


def _late_current(x: Query, so_far: list, dated_late):
    s, c, e, pr = t.steps, t.cases, t.evidence, t.procedures
    successor = t.evidence.alias("successor")
    required = or_(*(and_(c.c.kind == kind, pr.c.kind == proc, s.c.step_key == step, e.c.type.in_(types))
                     for kind, proc, step, types in so_far))
    return (select(s.c.id.label("step_id"), e.c.id.label("evidence_id"))
            .select_from(s.join(c, c.c.id == s.c.case_id).join(pr, pr.c.id == s.c.procedure_id)
                         .join(e, e.c.case_id == s.c.case_id).outerjoin(successor, successor.c.id == e.c.superseded_by))
            .where(x.region(), x.signing(s), x.of_person(s.c.person_id), s.c.voided_at.is_(None),
                   func.json_array_length(s.c.evidence_hashes) == 0, required,
                   e.c.attached_at <= s.c.recorded_at,
                   or_(successor.c.id.is_(None), successor.c.attached_at > s.c.recorded_at), dated_late))


def _late_rows(late):
    """Each late item with its step, case, signer, and the audit events of the step and of the attachment."""
    s, c, e, pr, p, ae = t.steps, t.cases, t.evidence, t.procedures, t.persons, t.audit_events
    attach = t.audit_events.alias("attach_event")
    return (select(late.c.step_id, late.c.evidence_id, s.c.case_id, s.c.step_key, s.c.effective_date,
                   s.c.recorded_at, e.c.type, e.c.fields, e.c.attached_at, c.c.title, c.c.region_code,
                   c.c.kind.label("case_kind"), p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq,
                   attach.c.seq.label("attach_seq"))
            .select_from(late.join(s, s.c.id == late.c.step_id).join(e, e.c.id == late.c.evidence_id)
                         .join(c, c.c.id == s.c.case_id).join(p, p.c.id == s.c.person_id)
                         .join(pr, pr.c.id == s.c.procedure_id)
                         .outerjoin(ae, step_event(ae, s))
                         .outerjoin(attach, and_(attach.c.case_id == e.c.case_id,
                                                 attach.c.action.in_(EVIDENCE_EVENTS),
                                                 attach.c.evidence_hashes[(0, "id")].as_integer() == e.c.id)))
            .order_by(late.c.step_id, late.c.evidence_id, ae.c.seq, attach.c.seq))


def _late_flag(x: Query, rows: list, date_names: dict) -> Flag:
    r = rows[0]
    base = {"step": r.step_key, "procedure": r.procedure, "step_id": r.step_id, "evidence": r.evidence_id,
            "type": r.type, "date": r.effective_date.isoformat()}
    if utc(r.attached_at) > utc(r.recorded_at):
        variant = "attached"
        base.update(attached=x.local_text(r.attached_at), recorded=x.local_text(r.recorded_at))
    else:
        variant = "dated"
        day = r.effective_date.isoformat()
        name = next((n for n in date_names.get((r.case_kind, r.type), [])
                     if str((r.fields or {}).get(n) or "") > day), "?")
        base.update(field=name, value=(r.fields or {}).get(name))
    return Flag("evidence_after_signoff", variant, r.case_id, r.title, r.region_code, (r.code, r.name), base,
                seqs(rows, "seq", "attach_seq"))
