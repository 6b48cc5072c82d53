"""SQLite prepares a step's statements once per connection, not at every step.

A statement that compares a bound parameter with the WHERE of a partial index (the open deadlines'
`status = 'open'`) is planned by SQLite for the value bound, and prepared again each time it is bound:
a single step's read of its open deadlines, and each row of a list's executemany. SQLite's authorizer
is asked about every table and column while a statement is prepared, so it tells when one is.
"""
from __future__ import annotations

import sqlite3
from datetime import date

import pytest


@pytest.fixture
def prepared(world):
    """The tables and columns of the statements SQLite prepares from now on ((action, table, column))."""
    if world.app.engine.dialect.name != "sqlite":
        pytest.skip("prepared statements are SQLite's (psycopg prepares its own)")
    seen: list[tuple] = []

    def authorizer(action, table, column, _database, _trigger):
        if action != sqlite3.SQLITE_TRANSACTION:      # the driver's own BEGIN and COMMIT
            seen.append((action, table, column))
        return sqlite3.SQLITE_OK

    with world.app.transaction() as conn:      # the connection this thread's steps run on
        # (setting an authorizer makes SQLite prepare every statement once more: the first step does)
        conn.connection.dbapi_connection.set_authorizer(authorizer)
    return seen


def test_a_step_on_another_case_prepares_no_statement_again(world, prepared):
    world.on(date(2019, 3, 1))
    first, second = world.household(), world.household()
    world.step("vs", "identification", "application", first)
    prepared.clear()
    world.step("vs", "identification", "application", second)
    assert prepared == []


def test_a_list_closing_its_cases_deadlines_prepares_no_statement_for_each_case(world, prepared):
    world.on(date(2019, 3, 1))
    warm, counted = [world.household() for _ in range(3)], [world.household() for _ in range(3)]
    world.up_to_first_notice(warm + counted)     # each case waits for its review once the notice has run
    world.on(date(2019, 3, 8))
    world.step("ts1", "identification", "township_review", warm, decision="approve")   # a list as long
    prepared.clear()
    world.step("ts1", "identification", "township_review", counted, decision="approve")
    assert prepared == []
