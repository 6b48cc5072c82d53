"""Bulk writes for registry-sized imports: rows handed to the driver's executemany as tuples.

SQLAlchemy's executemany builds and processes a parameter dict per row (about 5 µs a row), which at
millions of rows costs more than the database does. Here each column's bind processor (the same
conversion SQLAlchemy would apply: JSON, datetimes, booleans on SQLite) is looked up once, applied
to the values that need it, and the statement compiled once per dialect — so what is stored is
exactly what an ordinary insert would store.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection

from engine.adapters.input_guard import check_rows


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """INSERT the rows (tuples in `columns`' order) into `table`, in one executemany, in `conn`'s
    transaction."""
    dialect = conn.dialect
    processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    active = [(i, p) for i, p in enumerate(processors) if p is not None]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
    rows = rows if isinstance(rows, list) else list(rows)
    check_rows([table.c[c] for c in columns], rows)
    if active:
        rows = [_processed(row, active) for row in rows]
    conn.exec_driver_sql(sql, rows)


def _processed(row: Sequence[Any], active: list) -> tuple:
    values = list(row)
    for i, process in active:
        if values[i] is not None:
            values[i] = process(values[i])
    return tuple(values)


def next_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """`count` new primary keys for `table`, reserved for this transaction: from the sequence on
    PostgreSQL; on SQLite (one writer at a time) after the current largest, once this transaction
    holds the write lock."""
    if conn.dialect.name == "postgresql":
        return list(conn.execute(text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                                      "FROM generate_series(1, :n)"), {"n": count}).scalars())
    conn.execute(text(f"UPDATE {table.name} SET id = id WHERE 0"))     # takes the write lock
    start = conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table.name}")).scalar_one() + 1
    return list(range(start, start + count))

