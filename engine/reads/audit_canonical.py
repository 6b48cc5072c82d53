"""Reading the audit log fast: rows as plain DBAPI tuples streamed from the cursor, and each
row's canonical bytes built from the tuple (`Canonical`: the same bytes `audit.canonical` gives for
the row read through SQLAlchemy). Used by `audit verify` (engine/reads/audit_verify.py)."""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, cast

from engine.adapters import tables as t
from engine.domain.audit import SORTED_FIELDS, TEMPLATE, encode_value, json_default

BATCH = 5000                # rows fetched at a time

EVENT_COLUMNS = [t.audit_events.c[name] for name in SORTED_FIELDS] + [t.audit_events.c.seq, t.audit_events.c.hash,
                                                                     t.audit_events.c.key_id, t.audit_events.c.mac]
FIELDS = len(SORTED_FIELDS)
CASE_ID, CASE_SEQ = SORTED_FIELDS.index("case_id"), SORTED_FIELDS.index("case_seq")
PREV_HASH, TO_STAGE = SORTED_FIELDS.index("prev_hash"), SORTED_FIELDS.index("to_stage")
EVIDENCE_HASHES = SORTED_FIELDS.index("evidence_hashes")
DETAIL, REGION = SORTED_FIELDS.index("detail"), SORTED_FIELDS.index("region_code")
ACTION = SORTED_FIELDS.index("action")
SEQ, HASH, KEY_ID, MAC = FIELDS, FIELDS + 1, FIELDS + 2, FIELDS + 3
_server_cursors = iter(range(1, 1 << 62))


def _json_as_text(dialect) -> bool:
    """Read JSON columns as text and decode them here? Where the driver would decode them with
    json.loads itself (psycopg, psycopg2), doing it here lets repeated texts skip it."""
    return (dialect.name == "postgresql" and dialect.driver in ("psycopg", "psycopg2")
            and getattr(dialect, "_json_deserializer", None) is None)


@contextmanager
def stream_rows(conn, statement) -> Iterator[Iterator[tuple]]:
    """The statement's rows as plain DBAPI tuples, streamed (a server-side cursor on PostgreSQL)."""
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.driver in ("psycopg", "psycopg2"):
        cursor = dbapi.cursor(f"jz_audit_verify_{os.getpid()}_{next(_server_cursors)}")
        cursor.itersize = BATCH
    else:
        cursor = dbapi.cursor()       # SQLite steps through the result as it is read
    try:
        cursor.execute(sql)
        yield iter(cursor)
    finally:
        cursor.close()


_AT_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}").fullmatch
_scan_json = json.JSONDecoder().scan_once
_ESCAPED = bytes(range(0x20)) + b'"\\'    # what the canonical form escapes in a string, and the quote
_CACHED_TEXT = 200          # JSON texts up to this long keep their canonical form for the next event
_CACHE_SIZE = 4096
_AT, _DETAIL = SORTED_FIELDS.index("at"), SORTED_FIELDS.index("detail")


class Canonical:
    """A raw audit row (`columns`, SORTED_FIELDS order, then seq and hash) to its canonical bytes.

    The same bytes as reading the row through SQLAlchemy's types, then `audit.canonical`. The
    exact way (`_exact`): values the driver hands back ready (ints, strings, psycopg's datetimes)
    are encoded as they are, the others go through the column type's own result processor; JSON
    that psycopg would decode with json.loads is fetched as text and decoded here the same way. A
    value that cannot be read at all (not JSON, not a time) makes the row None: changed.

    The short way (`row`), tried first: one %-format per "shape" of row (which columns hold a
    str, an int, None), with the values put in as they are; `at` as the canonical form writes it
    (SQLite's text in SQLAlchemy's storage format with its "T", which is what the processor's
    naive datetime gives; a datetime as `json_default` gives it); the JSON columns' canonical text,
    kept for texts that repeat ("[]"). That is the canonical form unless a string needed
    escaping: then the bytes hold more quotes, backslashes or control characters than the shape
    and the JSON put there, and the row goes the exact way.
    """

    def __init__(self, dialect) -> None:
        self.json_as_text = _json_as_text(dialect)
        self.columns = [cast(c, Text) if self.json_as_text and isinstance(c.type, JSON) else c for c in EVENT_COLUMNS]
        self.special: list[tuple[int, Callable[[Any], str]]] = []
        self._json: Callable[[Any], Any] | None = None        # how SQLAlchemy would read the JSON columns
        self._json_fast = getattr(dialect, "_json_deserializer", None) in (None, json.loads)
        self._cache: dict[str, tuple[str, int] | None] = {}
        self._shapes: dict[tuple, tuple[str, int] | None] = {}
        self._at_text = False          # `at` comes as SQLite text in SQLAlchemy's storage format
        short = True                   # no processors but those the short way stands in for
        for i, name in enumerate(SORTED_FIELDS):
            column = t.audit_events.c[name]
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if isinstance(column.type, JSON) and self.json_as_text:
                process = json.loads    # what the driver does with it (json_as_text: only then)
            if process is None:
                continue
            if isinstance(column.type, JSON):
                self._json = process
                self.special.append((i, self._json_text(process) if self._json_fast else
                                     lambda value, process=process: encode_value(process(value))))
                short = short and self._json_fast
            elif i == _AT and process("2019-03-01 02:00:00.000000") == datetime(2019, 3, 1, 2):
                self.special.append((i, self._at_processed(process)))
                self._at_text = True
            else:
                self.special.append((i, lambda value, process=process: encode_value(process(value))))
                short = False
        self.row = self._short_way() if short else self._exact      # a row's canonical bytes, or None

    def _short_way(self) -> Callable[[tuple], bytes | None]:
        """__call__ for text-returning databases: the short way first."""
        shapes, shape_of, cache = self._shapes, self._shape, self._cache
        json_entry, exact = self._json_entry, self._exact
        at_cache: dict[Any, str] = {}       # an action's events often share their time
        at_text = self._at_text

        def at_of(value) -> str:            # `at` as the canonical form has it, without quotes ("": unsure)
            if type(value) is str:
                return f"{value[:10]}T{value[11:]}" if at_text and _AT_TEXT(value) else ""
            return json_default(value) if type(value) is datetime and not at_text else ""

        def canonical(row) -> bytes | None:
            shape = shapes.get(tuple(map(type, row)), False)
            if shape is False:
                shape = shape_of(row)
            if shape is not None:
                detail = cache.get(row[_DETAIL]) or json_entry(row[_DETAIL])
                evidence = cache.get(row[EVIDENCE_HASHES]) or json_entry(row[EVIDENCE_HASHES])
                at = at_cache.get(row[_AT])
                if at is None:
                    at = at_of(row[_AT])
                    if len(at_cache) >= _CACHE_SIZE:
                        at_cache.clear()
                    at_cache[row[_AT]] = at
                if detail and evidence and at:
                    values = list(row[:FIELDS])
                    values[_AT], values[_DETAIL], values[EVIDENCE_HASHES] = at, detail[0], evidence[0]
                    text = (shape[0] % tuple(values)).encode()
                    if len(text) - len(text.translate(None, _ESCAPED)) == shape[1] + detail[1] + evidence[1]:
                        return text
            return exact(row)
        return canonical

    def _exact(self, row) -> bytes | None:
        try:
            values = list(map(encode_value, row[:FIELDS]))
            for i, encode in self.special:
                values[i] = encode(row[i])
            return (TEMPLATE % tuple(values)).encode()
        except (TypeError, ValueError):
            return None

    def _shape(self, row) -> tuple[str, int] | None:
        """The format for rows with these types, and the quotes it puts in; None: not for the short way."""
        specs, quotes = [], 2 * FIELDS                   # each key's quotes
        for i, value in enumerate(row[:FIELDS]):
            kind = type(value)
            if i in (_DETAIL, EVIDENCE_HASHES):
                if kind is not str:
                    break
                specs.append("%s")
            elif kind is str or (i == _AT and kind is datetime):
                specs.append('"%s"')
                quotes += 2
            elif i == _AT:
                break
            elif kind is int:
                specs.append("%d")
            elif value is None:
                specs.append("null%.0s")
            else:
                break
        shape = (TEMPLATE % tuple(specs), quotes) if len(specs) == FIELDS else None
        if len(self._shapes) >= _CACHE_SIZE:
            self._shapes.clear()
        self._shapes[tuple(map(type, row))] = shape
        return shape

    def _json_entry(self, value) -> tuple[str, int] | None:
        """A JSON text's canonical form and the quotes and backslashes in it; None if it is not JSON text."""
        if type(value) is not str:
            return None
        try:
            text = encode_value(_loads(value))
        except (TypeError, ValueError):
            return None
        entry = (text, text.count('"') + text.count("\\"))
        if len(value) <= _CACHED_TEXT:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[value] = entry
        return entry

    def decode_json(self, value):
        """A JSON column's value as SQLAlchemy would return it."""
        if self._json is None or value is None:
            return value
        if self._json_fast and type(value) is str:
            return _loads(value)
        return self._json(value)

    @staticmethod
    def _at_processed(process) -> Callable[[Any], str]:
        def encode(value) -> str:
            if type(value) is str and _AT_TEXT(value):
                return f'"{value[:10]}T{value[11:]}"'
            return encode_value(process(value))
        return encode

    def _json_text(self, process) -> Callable[[Any], str]:
        def encode(value) -> str:
            if type(value) is not str:
                return encode_value(process(value))
            return (self._cache.get(value) or self._json_entry(value) or (encode_value(_loads(value)),))[0]
        return encode


def _loads(text: str):
    """json.loads, without its overhead for the usual case of a text that is only the value."""
    try:
        value, end = _scan_json(text, 0)
        if end == len(text):
            return value
    except (StopIteration, ValueError):
        pass
    return json.loads(text)


# --- PostgreSQL: plain rows as COPY text ---------------------------------------------------------

def copy_lines(conn, statement) -> Iterator[bytes]:
    """The statement's rows as COPY text lines (fields between tabs, NULL as \\N, a backslash, tab or
    newline in a value escaped by a backslash), streamed: for rows of numbers and hex digits, which
    COPY sends at a third of the cost of a server-side cursor's rows."""
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
            rest = b""
            for block in copy:
                lines = (rest + bytes(block)).split(b"\n")
                rest = lines.pop()
                yield from lines
    finally:
        cursor.close()


def copies(conn) -> bool:
    """Whether rows can be read as COPY text here (PostgreSQL through psycopg 3)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"
