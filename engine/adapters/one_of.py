"""`column IN (:ids)` for a list of keys, as each database takes a long list best.

SQLAlchemy's expanding IN renders one parameter per key. On PostgreSQL a list step's statements
then carry a thousand parameters each: psycopg parses such a statement afresh every time (it caches
only short ones) and the server plans it afresh — about 15 ms of a list step of 1,000 cases. There
the same condition is `column = ANY(:ids)`, the list sent as one array: one statement text whatever
the list's length, so it is parsed once and served by the same index. Elsewhere (SQLite) it stays
the expanding IN. The statement's parameter is the list either way.
"""
from __future__ import annotations

from json import dumps

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.sql.visitors import InternalTraversal


class OneOf(ColumnElement):
    """The key column is one of the list given as the statement's parameter `name` (a condition for a
    WHERE: typed as nothing, since a Boolean alone in a WHERE is compared with 1 on SQLite)."""
    type = NullType()
    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("name", InternalTraversal.dp_string)]

    def __init__(self, column, name: str):
        self.column, self.name = column, name


def one_of(column, name: str = "ids") -> OneOf:
    return OneOf(column, name)


@compiles(OneOf)
def _expanding_in(element: OneOf, compiler, **kw) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(OneOf, "postgresql")
def _any_array(element: OneOf, compiler, **kw) -> str:
    from sqlalchemy.dialects.postgresql import ARRAY   # loaded by then: not imported on SQLite
    return compiler.process(element.column == any_(bindparam(element.name, type_=ARRAY(element.column.type))), **kw)


# ---- a list of any length on SQLite -------------------------------------------------------------------

LONG_LIST = 50
"""Keys a SQLite statement binds one by one, at most; a longer list is bound as one JSON text."""


class AnyLengthCompiler(SQLiteCompiler):
    """SQLite's compiler, with every expanding IN (`one_of`, `.in_(list)`, `bindparam(expanding=True)`)
    of more than LONG_LIST keys bound as ONE parameter: `column IN (SELECT value FROM json_each(?))`.

    SQLite refuses a statement binding more parameters than its SQLITE_LIMIT_VARIABLE_NUMBER: 32,766 in
    SQLite's own default build (python.org's Python, Windows, many distributions; 250,000 in Debian's),
    and a county's "all waiting" list can hold more households than that. Each list a step, a list's
    summary or a lookup reads goes through here, so no caller chunks its own lists, and a list is read
    whole in one statement (the step stays one transaction, all or none). The key's index still serves
    it (EXPLAIN QUERY PLAN: `SEARCH ... (id=?)` over a `LIST SUBQUERY` of json_each; tests/test_query_plans).

    Short lists keep the expanding IN. Measured (y2; rows of a 20,000-row table by their key, SQLAlchemy's
    execute, best of 3x100 runs): 10 keys 120 µs expanding / 153 µs json_each; 50: 142 / 119; 100: 246 / 217;
    300: 622 / 408; 1,000: 3,164 / 1,955; 5,000: 20,581 / 12,825. One statement text, which sqlite3's
    statement cache keeps, against a text of its own for each length that SQLite parses and plans again,
    and no parameter dict of a thousand entries to build: json_each is the faster from about 50 keys on.
    Only plain keys go as JSON: whole numbers, and texts without a NUL byte, of a type SQLite binds
    unprocessed (an Integer, a String); anything else (dates, tuples) keeps the expanding IN.
    """

    def _literal_execute_expanding_parameter(self, name, parameter, values, *args, **kw):
        if len(values) > LONG_LIST and not parameter.literal_execute and _plain_keys(values) \
                and parameter.type._unwrapped_dialect_impl(self.dialect).bind_processor(self.dialect) is None:
            key = f"{name}_json"
            taken = kw.get("taken_names")
            while taken is not None and key in taken:
                key += "_"
            if taken is not None:
                taken.add(key)
            return [(key, dumps(values))], f"SELECT value FROM json_each({self.bindtemplate % {'name': key}})"
        return super()._literal_execute_expanding_parameter(name, parameter, values, *args, **kw)


def _plain_keys(values) -> bool:
    kind = type(values[0])
    if kind is int:
        return all(type(v) is int for v in values)
    return kind is str and all(type(v) is str and "\x00" not in v for v in values)


def lists_of_any_length(engine) -> None:
    """Make a SQLite engine bind a long list as one parameter (AnyLengthCompiler); before its first statement."""
    if engine.dialect.name == "sqlite":
        engine.dialect.statement_compiler = AnyLengthCompiler
