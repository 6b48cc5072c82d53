"""A data home's whole database copied from SQLite into an empty PostgreSQL database (`move-database`).

The rows go over as the application reads them on SQLite and writes them on PostgreSQL: each table in
its foreign keys' order, in primary-key order, streamed from one read of the source (its writers held
off, so no step is taken there meanwhile and lost) a batch of rows at a time, one COPY each: memory
does not grow with a table, here or in the server's queue of foreign-key checks. JSON is copied as the
text it was written as; a time, which SQLite keeps without its zone, as the UTC the application wrote.
The caller runs all of it in one transaction on the target, with the schema made first and the checks
after: a failure or Ctrl-C leaves the target as it was.
"""
from __future__ import annotations

from datetime import timezone
from itertools import chain
from typing import Any, Callable, Iterable

from sqlalchemy import JSON, DateTime, Table, Text, func, inspect, select, text, type_coerce
from sqlalchemy.engine import Connection

from engine.adapters.tables import metadata

BATCH = 5000           # rows read from the source and written into the COPY at a time
TABLES = tuple(metadata.sorted_tables)          # parents before children
OURS = frozenset(metadata.tables) | {"alembic_version"}


def tables_held(conn: Connection) -> list[str]:
    """The Jingzhun tables a database already holds (a target must hold none)."""
    return sorted(OURS & set(inspect(conn).get_table_names()))


def hold_writers(conn: Connection) -> None:
    """A SQLite source read at one moment, its writers waiting until `conn` rolls back (nothing of the
    source is changed): a step taken meanwhile would be in the old database only."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def rows_in(conn: Connection, table: Table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


def copy_table(source: Connection, target: Connection, table: Table,
               told: Callable[[int], None] | None = None) -> int:
    """Every row of `table` from `source` into `target` by COPY; returns how many (`told` hears the
    count so far after each batch)."""
    columns = list(table.columns)
    read = [type_coerce(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in columns]
    fixes = [_fix(c.type) for c in columns]
    quote = target.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) FROM STDIN"
    found = source.execution_options(yield_per=BATCH).execute(
        select(*read).order_by(*table.primary_key.columns))
    batches: Iterable[Iterable[Any]] = found.partitions()    # a COPY each: its foreign keys checked as it ends
    if any(key.column.table is table for key in table.foreign_keys):
        batches = [chain.from_iterable(batches)]        # one COPY: a row may name a later row of its own table
    copied = 0
    with target.connection.driver_connection.cursor() as cursor:
        for rows in batches:
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([fix(value) if fix and value is not None else value
                                    for fix, value in zip(fixes, row)])
                    copied += 1
            if told is not None:
                told(copied)
    return copied


def _fix(kind: Any) -> Callable[[Any], Any] | None:
    """What a value read on SQLite needs to be written on PostgreSQL as the application writes it."""
    if isinstance(kind, DateTime) and kind.timezone:
        return lambda value: value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return None


def set_sequences(target: Connection) -> None:
    """Each table's id sequence past the ids copied, so the next row takes the next id."""
    quote = target.dialect.identifier_preparer.quote
    for table in TABLES:
        column = table.autoincrement_column
        if column is None:
            continue
        target.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:table, :column), coalesce(max({quote(column.name)}), 0) + 1, "
            f"false) FROM {quote(table.name)}"), {"table": table.name, "column": column.name})
