"""Whether one case's record is as it was written, checked on every view of the case (its page and
timeline, `case show`, the API's case read, the inspector's trace) by what `audit verify` checks of that
case (audit_verify.verify_case: its events' hash chain and MACs, its head and stage, the evidence and
its files, the members, the attributes, its steps against their events). A record altered in the
database behind the engine is then never shown as sound to whoever reads it; the findings read as
`audit verify` says them, with the numbers of the damaged events.
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.errors import Msg, render_text
from engine.reads.audit_verify import verify_case


# What the trace says in its own words, step by step (with what each event recorded): said once.
STEPS_SAID = frozenset({"step_changed", "step_unrecorded", "responsible_changed"})


def case_integrity(app: App, conn: Connection, case, lang: str = "zh", events: list | None = None,
                   more: Iterable[Msg] | None = None) -> dict[str, Any]:
    """The case's integrity: how many events it has and their head (`events`: its events in case_seq
    order, else the case row's count and head when its check found them to be its events', read only
    when it did not), whether all is intact, whether the MACs could be checked, the damage in `lang`
    (`more`: the reader's own findings on the steps and those named responsible, e.g. the trace's rows
    against their events, said after the others instead of the check's STEPS_SAID) and the numbers of
    the damaged events."""
    damage, macs_checked = verify_case(app, conn, case.id)
    if more is not None:
        damage = [d for d in damage if d.kind not in STEPS_SAID]
    if events is not None:
        count, head = len(events), events[-1].hash if events else None
    elif not damage:        # the check compared the case's count and head with its events: the same
        count, head = case.event_count or 0, case.last_event_hash
    else:
        hashes = conn.execute(select(t.audit_events.c.hash).where(t.audit_events.c.case_id == case.id)
                              .order_by(t.audit_events.c.case_seq)).scalars().all()
        count, head = len(hashes), hashes[-1] if hashes else None
    more = list(more or ())
    return {"events": count, "head": head,
            "intact": not damage and not more, "macs_checked": macs_checked,
            "damage": [d.render(app.config.labels, lang) for d in damage]
            + [render_text(app.config, m.key, m.params, lang) for m in more],
            "damaged_events": _numbers(damage)}


def _numbers(damage) -> list[int]:
    """The case's event numbers a finding names: the event found wrong, or those missing before it."""
    numbers: set[int] = set()
    for d in damage:
        where = dict(d.params)
        if d.place == "case_event" and isinstance(where.get("case_seq"), int):
            numbers.add(where["case_seq"])
            if d.kind == "missing" and isinstance(where.get("expected"), int):
                numbers.update(range(where["expected"], where["case_seq"]))
    return sorted(numbers)
