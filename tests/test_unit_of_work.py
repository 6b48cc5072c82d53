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


def test_a_number_past_64_bits_reaching_the_database_is_bad_input(world):
    """Whatever entry point let it through, the engine refuses it as bad input, on every backend."""
    import pytest
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.domain.errors import BadInput
    with pytest.raises(BadInput) as refused:
        with world.app.transaction() as conn:
            conn.execute(t.cases.insert().values(id=10 ** 30, kind="household", region_code="360730100201", title="x",
                                                 stage="candidate", version=1, workflow_version=1, attrs={},
                                                 created_at=world.app.clock.now(), updated_at=world.app.clock.now(),
                                                 event_count=0))
    assert refused.value.code == "input.number_too_large"
    with world.app.engine.connect() as conn:      # a lookup by such a number finds nothing, or is refused alike
        try:
            assert conn.execute(select(t.cases.c.id).where(t.cases.c.id == 10 ** 30)).first() is None
        except BadInput as exc:
            assert exc.code == "input.number_too_large"
