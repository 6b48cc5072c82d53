"""Bulk writes for registry-sized imports: rows handed to the driver's executemany as tuples.

SQLAlchemy's executemany builds and processes a parameter dict per row (about 5 µs a row), which at
millions of rows costs more than the database does. Here each column's bind processor (the same
conversion SQLAlchemy would apply: JSON, datetimes, booleans on SQLite) is looked up once, applied
to the values that need it, and the statement compiled once per dialect — so what is stored is
exactly what an ordinary insert would store. On PostgreSQL a batch of rows goes in by `COPY … FROM
STDIN` (psycopg's copy, in the same transaction), several times faster than an executemany there.
A list step's steps and audit events take this path (`insert_many`); a single step's row or two
keep SQLAlchemy's cached INSERT, the cheaper for so few.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import ARRAY, Table, bindparam, func, select, text, true
from sqlalchemy.engine import Connection

from engine.adapters.direct import Direct
from engine.adapters.input_guard import check_rows


COPY_FROM = 50      # rows on PostgreSQL: fewer go in as SQLAlchemy's insert (a COPY costs a round trip more)


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """INSERT the rows (tuples in `columns`' order) into `table`, in one executemany, in `conn`'s
    transaction."""
    dialect = conn.dialect
    rows = rows if isinstance(rows, list) else list(rows)
    sql, checked, active = _plan(table, tuple(columns), dialect)
    check_rows(checked, rows)
    if dialect.name == "postgresql":      # a batch by COPY; a step's row or two as SQLAlchemy inserts them
        if len(rows) >= COPY_FROM:         # (psycopg prepares those; an executemany of one row costs more)
            _copy(conn, table, columns, rows)
        else:
            conn.execute(table.insert(), [dict(zip(columns, row)) for row in rows])
        return
    if active and rows:
        rows = _processed(rows, active)
    conn.exec_driver_sql(sql, rows)


def insert_many(conn: Connection, statement, table: Table, columns: Sequence[str], rows: list[dict]) -> None:
    """Rows as dicts: a list's (COPY_FROM or more) as tuples by insert_rows, a single step's row on
    the driver (engine.adapters.direct), a few by the compiled `statement` (SQLAlchemy's cached INSERT
    is the cheaper for a few)."""
    if len(rows) >= COPY_FROM:
        insert_rows(conn, table, columns, [list(map(r.get, columns)) for r in rows])
    elif len(rows) == 1:
        found = _SINGLE.get(statement)
        if found is None or found[1] is not columns:
            found = _SINGLE[statement] = (found[0] if found else Direct(statement), columns, frozenset(columns))
        single, _columns, names = found
        row = rows[0]      # (a row naming the columns and no others goes as it is)
        single.rowcount(conn, row if len(row) == len(names) and row.keys() == names else {c: row.get(c) for c in columns})
    else:
        conn.execute(statement, rows)


_SINGLE: dict[Any, tuple] = {}     # by the statement each caller keeps: (Direct, its columns, as a set)


_PLANS: dict[tuple, tuple[str, list, list]] = {}


def _plan(table: Table, columns: tuple[str, ...], dialect) -> tuple[str, list, list]:
    """The INSERT, the columns to check and the bind processors, made once per table, columns and
    dialect (a step inserts a row or two: looking them up each time cost more than the insert)."""
    key = (table.name, columns, dialect.name, dialect.paramstyle)
    if key not in _PLANS:
        processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
        _PLANS[key] = (sql, [table.c[c] for c in columns], [(i, p) for i, p in enumerate(processors) if p is not None])
    return _PLANS[key]


def _copy(conn: Connection, table: Table, columns: Sequence[str], rows: list) -> None:
    """The rows by COPY: JSON columns serialised as the dialect would (psycopg adapts the rest by
    their Python types, as it does for an INSERT's parameters)."""
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


def _processed(rows: list, active: list) -> list[tuple]:
    """The rows with the values of the columns in `active` as their bind processors make them (None
    kept), a column at a time: a value that is the same object as the row before's (a batch's one
    time, True) is processed once."""
    columns = list(zip(*rows))
    for i, process in active:
        columns[i] = _column_processed(columns[i], process)
    return list(zip(*columns))


def _column_processed(values: Sequence[Any], process) -> list:
    done, last, text = [], None, None
    for value in values:
        if value is not last:
            last, text = value, None if value is None else process(value)
        done.append(text)
    return done


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


LOOKUP_BATCH = 5000      # keys a statement: SQLite takes at most 32,766 parameters in one statement


def lookup(conn: Connection, key, found, keys: Iterable[Any], *where, source=None) -> Iterator[tuple]:
    """(key, found) for each of `keys` that a row of `source` (default: key's table) meeting `where`
    has — a batch's ID numbers or household codes checked against what is registered, in batches.

    Each key is looked up through its index, whatever the planner knows of the table. On SQLite an
    IN list does that. PostgreSQL's planner, asked for hundreds of keys in a table it holds no
    statistics of (the rows a long import has written in its own transaction), takes them for most
    of the table and scans it — an import of a million rows turned quadratic — so there each key
    is a LATERAL lookup of one row, which can only be planned on the index."""
    return rows_with(conn, key, (key, found), keys, *where, per_key=1, source=source)


def rows_with(conn: Connection, key, columns: Sequence, keys: Iterable[Any], *where, per_key: int,
              source=None) -> Iterator[tuple]:
    """The `columns` of the rows of `source` (default: key's table) whose `key` is one of `keys` and
    that meet `where`, at most `per_key` rows a key, each key read through its index (see `lookup`)."""
    keys = list(dict.fromkeys(keys))
    source = key.table if source is None else source
    for i in range(0, len(keys), LOOKUP_BATCH):
        chunk = keys[i:i + LOOKUP_BATCH]
        if conn.dialect.name != "postgresql":
            yield from conn.execute(select(*columns).select_from(source).where(key.in_(chunk), *where))
            continue
        wanted = (func.unnest(bindparam("keys", chunk, type_=ARRAY(key.type))).table_valued("value")
                  .render_derived(name="wanted"))
        hit = select(*columns).select_from(source).where(key == wanted.c.value, *where).limit(per_key).lateral("hit")
        yield from conn.execute(select(*hit.c).select_from(wanted.join(hit, true())))


ANALYSE_FROM = 500       # rows written: a village's list of a few dozen is left to autovacuum


def analyse(engine, tables: Sequence[Table], written: int) -> None:
    """After a registry-sized import (`written` rows, ANALYSE_FROM or more), PostgreSQL's planner
    statistics of the tables it grew, at once: until autovacuum gets to them the planner takes the
    new rows for a few and plans every later read (an export, a township's list) as scans of whole
    tables. A small import is left alone (analysing a table of millions costs about a second).
    SQLite plans by its indexes without statistics."""
    if engine.dialect.name != "postgresql" or written < ANALYSE_FROM:
        return
    with engine.connect() as conn:
        conn.exec_driver_sql(f"ANALYZE {', '.join(t.name for t in tables)}")
        conn.commit()
