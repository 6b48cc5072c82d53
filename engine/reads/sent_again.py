"""A step form sent again after it was done (a double tap on a slow phone, a plain form sent twice, a
page left open and its button pressed again): since the version the form was drawn at, the case holds
that very step, by the same person. The refusal then says so (done by you at…, nothing written twice),
not that somebody else changed the case. Read by the unique index of a case's events (case_id, case_seq):
a case's version is one past its events' count, so the events written since version v are those from
case_seq v on."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engine.adapters import tables as t

_e, _p = t.audit_events.c, t.procedures.c


def own_step_since(app, actor, case_id: int, version: int, procedure: str, step: str) -> datetime | None:
    """When the reader did `procedure`'s `step` on the case since its version `version`; None: they did not."""
    with app.engine.connect() as conn:
        return conn.execute(select(_e.at).select_from(t.audit_events.join(t.procedures, _p.id == _e.procedure_id))
                            .where(_e.case_id == case_id, _e.case_seq >= version, _e.action == "step",
                                   _e.person_id == actor.person_id, _e.step_key == step, _p.kind == procedure)
                            .order_by(_e.case_seq).limit(1)).scalar()
