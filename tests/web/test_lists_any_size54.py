"""A list of any size on SQLite (y2): SQLite refuses a statement with more parameters than its
SQLITE_LIMIT_VARIABLE_NUMBER — 250,000 in Debian's build, 32,766 in SQLite's own default build (python.org's
Python, Windows) — and a county's "all waiting" can hold more households than that. Here each new SQLite
connection takes at most 100, and lists of a few hundred households go through the command line's
`step --region`, the page's 为全部 button, the API's /steps/each and the list's summary: each done as
it is done with no limit (one batch, every household told), not refused for "too many SQL variables"."""
from __future__ import annotations

import re
import sqlite3
from datetime import date

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.pool import Pool

from engine.adapters import tables as t
from tests.test_accountability import cli
from tests.world import COUNTY, VILLAGE

LIMIT, LIST = 40, 130


@pytest.fixture
def few_variables(world, monkeypatch):
    """Every SQLite connection made from here on takes at most LIMIT parameters a statement, as a build
    with a lower limit does (SQLAlchemy pages a many-row INSERT under its dialect's own bound, 32,700
    against the default build's 32,766: lowered alike)."""
    def lowered(dbapi_conn, _record):
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, LIMIT)
    event.listen(Pool, "connect", lowered)
    world.app.engine.dispose()            # connections made before: made again, lowered
    monkeypatch.setattr(SQLiteDialect, "insertmanyvalues_max_parameters", LIMIT - 1)
    yield world
    event.remove(Pool, "connect", lowered)


def _waiting(world, count: int) -> list[int]:
    cases = [world.household() for _ in range(count)]
    world.on(date(2019, 3, 1))
    return cases


def _applications(world) -> dict[int, int]:
    with world.app.engine.connect() as conn:
        return dict(conn.execute(select(t.steps.c.case_id, func.count()).where(
            t.steps.c.step_key == "application").group_by(t.steps.c.case_id)).all())


def _batches(world) -> set:
    with world.app.engine.connect() as conn:
        return {e.detail.get("batch") for e in conn.execute(select(t.audit_events.c.detail).where(
            t.audit_events.c.action == "step", t.audit_events.c.step_key == "application"))}


def test_step_region_does_a_list_of_hundreds_in_one_batch(few_variables):
    world = few_variables
    cases = _waiting(world, LIST)
    said = cli(world, "vs", "step", "identification", "application", "--region", VILLAGE, "--date", "2019-03-01")
    assert said.code == 0, said.err[-2000:]
    assert "too many" not in said.err and said.out.count("\n") >= LIST, said.out[-500:]
    assert _applications(world) == {c: 1 for c in cases}
    assert len(_batches(world)) == 1 and None not in _batches(world)


def test_the_pages_all_waiting_and_the_lists_summary_take_hundreds(few_variables, world_clients):
    world = few_variables
    cases = _waiting(world, LIST)
    page, _api = world_clients
    client = page("vs")
    query = "kind=household&procedure=identification&step=application"
    holds = client.get(f"/villages/{VILLAGE}/list/holds?{query}")
    assert holds.status_code == 200, holds.text[-2000:]
    assert re.search(rf"现在可以办理 {LIST} 户", holds.text), holds.text[-2000:]
    answer = client.post(f"/villages/{VILLAGE}/list", data={
        "csrf": client.csrf, "kind": "household", "procedure": "identification", "step": "application",
        "all": "1", "date": "2019-03-01"})
    assert answer.status_code == 200, answer.text[-2000:]
    assert f'data-done="{LIST}" data-refused="0"' in answer.text
    assert _applications(world) == {c: 1 for c in cases}
    assert len(_batches(world)) == 1


def test_the_apis_list_step_of_a_region_takes_hundreds(few_variables, world_clients):
    world = few_variables
    cases = _waiting(world, LIST)
    _page, api = world_clients
    answer = api("vs").post("/api/v1/steps/each", json={
        "procedure": "identification", "step": "application", "region": VILLAGE, "date": "2019-03-01"})
    assert answer.status_code == 200, answer.text[-2000:]
    assert sorted(d["case_id"] for d in answer.json()["done"]) == sorted(cases)
    assert _applications(world) == {c: 1 for c in cases}


def test_a_county_approves_all_its_waiting_households_through_every_step_before_it(few_variables, world_clients):
    """The identification walked as lists (meetings, notices, the township's review: all or none), then the
    county office's 为全部 on the county's list: every household approved, in one batch."""
    world = few_variables
    cases = _waiting(world, LIST)
    world.up_to_county_approval(cases)
    world.on(date(2019, 3, 15))
    page, _api = world_clients
    client = page("cd")
    query = "kind=household&procedure=identification&step=county_approval"
    holds = client.get(f"/villages/{COUNTY}/list/holds?{query}")
    assert holds.status_code == 200 and re.search(rf"现在可以办理 {LIST} 户", holds.text), holds.text[-2000:]
    answer = client.post(f"/villages/{COUNTY}/list", data={
        "csrf": client.csrf, "kind": "household", "procedure": "identification", "step": "county_approval",
        "all": "1", "decision": "approve", "date": "2019-03-15"})
    assert answer.status_code == 200, answer.text[-2000:]
    assert f'data-done="{LIST}" data-refused="0"' in answer.text
    with world.app.engine.connect() as conn:
        approved = conn.execute(select(t.steps.c.case_id).where(t.steps.c.step_key == "county_approval")).scalars()
        assert sorted(approved) == sorted(cases)
