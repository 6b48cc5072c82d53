"""The projections replayed by engine.reads.audit_records: what an older home's events did not record
sets no expectation, and what the engine writes now always verifies."""
from __future__ import annotations

from sqlalchemy import insert, update

from engine.adapters import tables as t
from engine.domain.cases import CaseRow
from engine.domain.record_digests import attrs_digest, notice_digest
from engine.reads.audit_verify import verify
from tests.world import VILLAGE


def _old_case(world, attrs: dict) -> int:
    """A case whose events were written before events carried the attributes' digest."""
    now = world.clock.now()
    with world.app.unit_of_work() as uow:
        case_id = uow.conn.execute(insert(t.cases), {
            "kind": "household", "region_code": VILLAGE, "title": "旧户", "stage": "candidate", "version": 1,
            "workflow_version": 1, "attrs": attrs, "created_at": now, "updated_at": now, "event_count": 0,
            "last_event_hash": None}).inserted_primary_key[0]
        case = CaseRow(case_id, "household", VILLAGE, "旧户", "candidate", 1, attrs, 0, None)
        uow.append_case_event(world["admin"], case, action="visit_recorded", role="admin", detail={"visit": 1})
    return case_id


def test_an_older_homes_case_attributes_set_no_expectation(world):
    case = _old_case(world, {"causes": ["illness"]})
    with world.app.transaction() as conn:      # changed later by old code, without an event that says so
        conn.execute(update(t.cases).where(t.cases.c.id == case).values(attrs={"causes": ["disability"]}))
    assert verify(world.app).intact


def test_the_digests_do_not_depend_on_key_order_or_date_types():
    from datetime import date
    assert attrs_digest({"b": 1, "a": [1, {"y": 2, "x": 3}]}) == attrs_digest({"a": [1, {"x": 3, "y": 2}], "b": 1})
    assert attrs_digest(None) == attrs_digest({})
    row = {"id": 3, "scope": "village", "region_code": VILLAGE, "procedure_kind": "identification",
           "step_key": "first_notice", "start_date": date(2019, 3, 1), "end_date": date(2019, 3, 8),
           "days_required": 7, "working_days": 0}
    assert notice_digest(row) == notice_digest({**row, "start_date": "2019-03-01", "end_date": "2019-03-08",
                                                "working_days": False})
    assert notice_digest(row) != notice_digest({**row, "end_date": date(2019, 3, 7)})
