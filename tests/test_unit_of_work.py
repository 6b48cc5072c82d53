"""The unit of work: one transaction, the only writer of audit events (both chains)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.adapters.uow import CaseEvent
from engine.domain.audit import event_hash
from engine.domain.errors import CaseChanged
from engine.reads.audit_verify import verify
from engine.adapters.repository import load_cases


def _events(world) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.audit_events)).scalar()


def test_a_list_of_case_events_is_chained_and_bumps_each_version(world):
    cases = [world.household(), world.household()]
    with world.app.unit_of_work() as uow:
        rows = load_cases(uow.conn, cases)
        before = {c: (rows[c].version, rows[c].event_count, rows[c].last_event_hash) for c in cases}
        events = uow.append_case_events(world["vs"], [
            CaseEvent(rows[c], {"action": "visit_recorded", "role": "village_secretary", "detail": {"n": i}})
            for i, c in enumerate(cases)])
    for event, c in zip(events, cases):
        version, count, previous = before[c]
        assert (event["case_id"], event["case_seq"], event["prev_hash"]) == (c, count + 1, previous)
        assert event["hash"] == event_hash(event)
        assert (rows[c].version, rows[c].event_count, rows[c].last_event_hash) == (version + 1, count + 1,
                                                                                   event["hash"])
    with world.app.engine.connect() as conn:
        stored = load_cases(conn, cases)
    assert all(stored[c].version == rows[c].version and stored[c].last_event_hash == rows[c].last_event_hash
               for c in cases)
    assert verify(world.app).intact


def test_a_case_changed_under_a_list_is_named_and_nothing_is_written(world):
    cases = [world.household(), world.household()]
    with world.app.engine.connect() as conn:
        stale = load_cases(conn, cases)
    # Another writer moves the second case on before this list is written.
    with world.app.unit_of_work() as uow:
        uow.append_case_event(world["vd"], load_cases(uow.conn, [cases[1]])[cases[1]], action="visit_recorded",
                              role="village_director")
    events = _events(world)
    with pytest.raises(CaseChanged) as changed:
        with world.app.unit_of_work() as uow:
            uow.append_case_events(world["vs"], [CaseEvent(stale[c], {"action": "visit_recorded",
                                                                      "role": "village_secretary"})
                                                 for c in cases])
    assert changed.value.params["case"] == cases[1]
    assert _events(world) == events


def test_organisation_events_move_the_organisation_head(world):
    with world.app.engine.connect() as conn:
        head = conn.execute(select(t.audit_heads).where(t.audit_heads.c.name == "organisation")).one()
    with world.app.unit_of_work() as uow:
        event = uow.append_org_event(world["admin"], "channels_changed", "admin", "360000000000", persons=0)
    assert (event["case_id"], event["case_seq"], event["prev_hash"]) == (None, head.events + 1, head.hash)
    with world.app.engine.connect() as conn:
        moved = conn.execute(select(t.audit_heads).where(t.audit_heads.c.name == "organisation")).one()
    assert (moved.events, moved.hash) == (head.events + 1, event["hash"])
    assert verify(world.app).intact
