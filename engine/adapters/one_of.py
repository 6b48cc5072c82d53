"""`column IN (:ids)` for a list of keys, as each database takes a long list best.

SQLAlchemy's expanding IN renders one parameter per key. On PostgreSQL a list step's statements
then carry a thousand parameters each: psycopg parses such a statement afresh every time (it caches
only short ones) and the server plans it afresh — about 15 ms of a list step of 1,000 cases. There
the same condition is `column = ANY(:ids)`, the list sent as one array: one statement text whatever
the list's length, so it is parsed once and served by the same index. Elsewhere (SQLite) it stays
the expanding IN. The statement's parameter is the list either way.
"""
from __future__ import annotations

from sqlalchemy import any_, bindparam
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
