"""A single step's statements run on the driver's cursor (engine.adapters.direct): what they store is
what SQLAlchemy's own execution stores, and they keep its guards — texts checked, a number past 64 bits
bad input, a driver error raised as SQLAlchemy's with its parameters hidden, a lost connection
replaced — on every backend."""
from __future__ import annotations

import logging
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import Text, cast, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from engine.adapters import tables as t
from engine.adapters.db import make_engine
from engine.adapters.direct import Direct
from engine.adapters.repository import load_cases
from engine.domain.errors import BadInput, NotFound
from engine.reads.audit_verify import verify

AT = datetime(2019, 3, 1, 2, 30, 15, tzinfo=timezone.utc)
_STEP = insert(t.steps)
_DIRECT_STEP = Direct(_STEP)


def _step_row(case: int, procedure: int, data, reason: str | None) -> dict:
    return {"procedure_id": procedure, "case_id": case, "step_key": "application", "step_type": "record",
            "person_id": 1, "role": "village_secretary", "role_region": "360730100201", "decision": "approved",
            "reason": reason, "effective_date": AT.date(), "recorded_at": AT, "data": data,
            "evidence_hashes": [{"id": 1, "hash": "ab" * 32}], "notice_id": None, "policy_version": "v1",
            "voided_at": None, "voided_reason": None}


def _as_text(conn, row_id: int) -> tuple:
    """A step row as the database holds it, every column cast to text."""
    return tuple(conn.execute(select(*(func.coalesce(cast(c, Text), "-") for c in t.steps.columns if c.name != "id")
                                     ).where(t.steps.c.id == row_id)).one())


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2 ** 53, 2 ** 53) | st.text(max_size=8)
                           | st.floats(allow_nan=False, allow_infinity=False),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                        max_size=3), max_leaves=8)


def test_a_row_written_on_the_driver_is_stored_as_sqlalchemy_stores_it(world):
    world.on(date(2019, 3, 1))
    case = world.household()
    world.step("vs", "identification", "application", case)

    @settings(max_examples=25, deadline=None)
    @given(data=st.none() | st.dictionaries(st.text(max_size=6), json_values, max_size=4),
           reason=st.none() | st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                                      max_size=20))
    def written_alike(data, reason):
        with world.app.transaction() as conn:
            procedure = load_cases(conn, [case])[case].open_procedure_id
            ids = []
            for write in (lambda row: conn.execute(_STEP, row), lambda row: _DIRECT_STEP.rowcount(conn, row)):
                write(_step_row(case, procedure, data, reason))
                ids.append(conn.execute(select(func.max(t.steps.c.id))).scalar_one())
            sqlalchemys, ours = (_as_text(conn, i) for i in ids)
            read = [conn.execute(select(t.steps.c.data, t.steps.c.reason, t.steps.c.recorded_at,
                                        t.steps.c.evidence_hashes).where(t.steps.c.id == i)).one() for i in ids]
            conn.rollback()
        assert ours == sqlalchemys
        assert read[0] == read[1] and read[1].data == data and read[1].reason == reason

    written_alike()


def test_what_sqlalchemy_would_do_for_a_call_direct_does_or_refuses(world):
    """Numbers read back as the column's type says; a write left with a Python-side default to compute,
    or outside any transaction (it would never be committed), is refused instead of going wrong."""
    from decimal import Decimal
    from sqlalchemy import Numeric, literal
    amount = select(literal(Decimal("12.34"), Numeric(12, 2)).label("amount"), literal(7).label("n"))
    with world.app.transaction() as conn:
        assert Direct(amount).rows(conn, {}) == [tuple(conn.execute(amount).one())]
        assert Direct(amount).rows(conn, {})[0].amount == Decimal("12.34")
        with pytest.raises(ValueError):       # deadlines.subject and .provisional have Python-side defaults
            Direct(insert(t.deadlines)).rowcount(conn, {"case_id": 1, "rule": "r", "type": "waiting"})
    with world.app.engine.connect() as conn:
        with pytest.raises(RuntimeError):
            Direct(t.cases.update().values(title="x")).rowcount(conn, {})


def test_a_single_steps_text_is_checked_before_the_database(world):
    world.on(date(2019, 3, 1))
    case = world.household()
    with world.app.engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(t.audit_events)).scalar_one()
    with pytest.raises(BadInput) as refused:
        world.step("vs", "identification", "application", case, reason="见\x00证")
    assert refused.value.code == "input.control_char" and refused.value.params["field"] == "reason"
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.audit_events)).scalar_one() == events
        assert conn.execute(select(func.count()).select_from(t.steps).where(t.steps.c.case_id == case)).scalar() == 0
    assert verify(world.app).intact


def test_a_case_number_past_64_bits_is_bad_input_and_an_unknown_one_not_found(world):
    with world.app.transaction() as conn:
        with pytest.raises(BadInput) as refused:
            load_cases(conn, [10 ** 30])
        assert refused.value.code == "input.number_too_large"
    with world.app.transaction() as conn:
        with pytest.raises(NotFound):
            load_cases(conn, [2 ** 62])


def test_a_driver_error_is_sqlalchemys_and_hides_the_row(world):
    secret = "13912345678"
    bad = Direct(insert(t.procedures))
    with pytest.raises(IntegrityError) as failed:
        with world.app.transaction() as conn:
            bad.rowcount(conn, {"case_id": 2 ** 40, "kind": secret, "status": "open", "from_stage": "candidate",
                                "to_stage": None, "started_by": 1, "started_at": AT, "policy_version": "v1"})
    assert secret not in str(failed.value) and isinstance(failed.value, DBAPIError)
    assert verify(world.app).intact      # the transaction was rolled back; the next one works


def test_a_lost_connection_is_replaced_for_the_next_step(world):
    """The database server dropped the connection (a restart): the step under way fails as a lost
    connection, and the next one gets a new connection and succeeds."""
    if world.app.engine.dialect.name != "postgresql":
        pytest.skip("a server connection to drop is PostgreSQL's")
    world.on(date(2019, 3, 1))
    first, second = world.household(), world.household()
    with world.app.transaction() as conn:        # the thread's kept connection, and its server process
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with world.app.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.commit()
    with pytest.raises(DBAPIError) as lost:
        world.step("vs", "identification", "application", first)
    assert lost.value.connection_invalidated
    world.step("vs", "identification", "application", second)
    world.step("vs", "identification", "application", first)
    assert verify(world.app).intact


def test_a_list_of_sixty_cases_is_bumped_whole_and_a_case_moved_on_under_it_named(world):
    """A list at least COPY_FROM long (its events go in by COPY on PostgreSQL), bumped under its versions."""
    from engine.adapters.uow import CaseEvent
    from engine.domain.errors import CaseChanged
    world.on(date(2019, 3, 1))
    cases = [world.household(members=1) for _ in range(60)]
    with world.app.engine.connect() as conn:
        stale = load_cases(conn, cases)
        events = conn.execute(select(func.count()).select_from(t.audit_events)).scalar_one()
    with world.app.unit_of_work() as uow:       # another writer moves the 37th on
        uow.append_case_event(world["vd"], load_cases(uow.conn, [cases[36]])[cases[36]], action="visit_recorded",
                              role="village_director")

    def visits(rows) -> list:
        return [CaseEvent(rows[c], {"action": "visit_recorded", "role": "village_secretary"},
                          {"attrs": {**rows[c].attrs, "visited": i, "note": "走访「入户」"}, "pending_step": f"s{i}",
                           "updated_at": AT}) for i, c in enumerate(cases)]
    with pytest.raises(CaseChanged) as changed:
        with world.app.unit_of_work() as uow:
            uow.append_case_events(world["vs"], visits(stale))
    assert changed.value.params["case"] == cases[36]
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.audit_events)).scalar_one() == events + 1
        assert load_cases(conn, cases)[cases[0]].version == stale[cases[0]].version
    with world.app.unit_of_work() as uow:
        fresh = load_cases(uow.conn, cases)
        uow.append_case_events(world["vs"], visits(fresh))
    with world.app.engine.connect() as conn:
        stored = conn.execute(select(t.cases.c.id, t.cases.c.version, t.cases.c.attrs, t.cases.c.pending_step,
                                     t.cases.c.updated_at, t.cases.c.last_event_hash)
                              .where(t.cases.c.id.in_(cases)).order_by(t.cases.c.id)).all()
    for i, row in enumerate(stored):
        assert row.version == fresh[row.id].version and row.last_event_hash == fresh[row.id].last_event_hash
        assert row.attrs["visited"] == i and row.attrs["note"] == "走访「入户」" and row.pending_step == f"s{i}"
        assert (row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=timezone.utc)) == AT
    assert verify(world.app).intact


def test_steps_read_ahead_for_another_procedure_are_read_again_for_the_cases_own(world):
    """A case's open procedure's steps are read with the case (one round trip); if what was read
    belongs to another procedure (another writer moved the case on in between), the case row's own
    procedure's steps are read instead."""
    from engine.adapters.repository import SqlCaseRepository, load_open_procedures
    world.on(date(2019, 3, 1))
    first, second = world.household(), world.household()
    for case in (first, second):
        world.step("vs", "identification", "application", case)
    with world.app.transaction() as conn:
        repo = SqlCaseRepository(conn, read_ahead=True)
        row = repo.cases([first])[first]
        ahead = repo.open_procedures([row])[first]
        other = load_cases(conn, [second])[second]
        foreign = conn.execute(select(  # the other case's steps, as the read ahead gives them
            t.steps.c.procedure_id, t.steps.c.id, t.steps.c.step_key, t.steps.c.step_type, t.steps.c.person_id,
            t.steps.c.decision, t.steps.c.effective_date, t.steps.c.data, t.steps.c.evidence_hashes,
            t.steps.c.notice_id).where(t.steps.c.case_id == second)).all()
        mixed = load_open_procedures(conn, [row], foreign)[first]
    assert [s.step_key for s in ahead.steps] == ["application"] and ahead.id == row.open_procedure_id
    assert other.open_procedure_id != row.open_procedure_id and foreign and foreign[0].procedure_id != row.open_procedure_id
    assert mixed.steps == ahead.steps


def test_a_connection_is_made_without_a_warning_from_the_driver(world, caplog):
    """The JSON columns' writer is one psycopg can keep a dumper for (it warns of a leak for a closure)."""
    caplog.set_level(logging.WARNING)
    engine = make_engine(world.app.settings)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
