"""Bulk writes for registry-sized imports: rows handed to the driver's executemany as tuples.

SQLAlchemy's executemany builds and processes a parameter dict per row (about 5 µs a row), which at
millions of rows costs more than the database does. Here each column's bind processor (the same
conversion SQLAlchemy would apply: JSON, datetimes, booleans on SQLite) is looked up once, applied
to the values that need it, and the statement compiled once per dialect — so what is stored is
exactly what an ordinary insert would store. On PostgreSQL the rows go in by `COPY … FROM STDIN`
(psycopg's copy, in the same transaction), several times faster than an executemany there.
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
    rows = rows if isinstance(rows, list) else list(rows)
    check_rows([table.c[c] for c in columns], rows)
    if dialect.name == "postgresql":
        _copy(conn, table, columns, rows)
        return
    processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    active = [(i, p) for i, p in enumerate(processors) if p is not None]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
    if active:
        rows = [_processed(row, active) for row in rows]
    conn.exec_driver_sql(sql, rows)


def _copy(conn: Connection, table: Table, columns: Sequence[str], rows: list) -> None:
    """The rows by COPY: JSON columns serialised as the dialect would (psycopg adapts the rest by
    their Python types, as it does for an INSERT's parameters)."""
    import json
    as_json = [i for i, c in enumerate(columns) if table.c[c].type._type_affinity.__name__ == "JSON"]
    serialise = conn.dialect._json_serializer or json.dumps
    with conn.connection.dbapi_connection.cursor() as cursor:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                if as_json:
                    row = list(row)
                    for i in as_json:
                        if row[i] is not None:
                            row[i] = serialise(row[i])
                copy.write_row(row)


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

