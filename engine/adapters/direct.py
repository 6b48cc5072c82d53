"""The few statements a single step runs every time, run on the driver's own cursor.

SQLAlchemy's `Connection.execute` spends 50–100 µs of Python on each statement (its cache key, a
parameter dict built and processed, events, result metadata): on SQLite more than the database
spends, and a single step runs seven statements. A `Direct` statement is a Core statement compiled
once per dialect by SQLAlchemy — the same SQL, the same bind and result processors — then run on
the DBAPI cursor of the connection, inside the transaction SQLAlchemy opened on it. It keeps what
the engine's listeners do for every other statement: texts checked by the input guard, a number
past 64 bits refused as bad input, a driver error raised as SQLAlchemy's (with parameters hidden),
a lost connection invalidated. Lists and everything else keep `Connection.execute`.
"""
from __future__ import annotations

from collections import namedtuple
from contextlib import contextmanager
from datetime import date, datetime
from operator import itemgetter
from typing import Any, Callable, Iterator

from sqlalchemy import TypeDecorator, exc as sa_exc
from sqlalchemy.engine import Connection

from engine.adapters.input_guard import check_text, number_too_large, text_binds
from engine.domain.errors import BadInput


# Called with each statement and its parameters as sent (tests read these statements' query plans,
# which SQLAlchemy's before_cursor_execute no longer sees).
WATCHERS: list[Callable[[str, Any], None]] = []


class _Plan:
    __slots__ = ("sql", "order", "literals", "binds", "checks", "columns", "results", "row", "in_order",
                 "processed_at")

    def __init__(self, statement, dialect, keys: tuple[str, ...] | None):
        compiled = statement.compile(dialect=dialect, column_keys=keys)
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            # SQLAlchemy would compute the left-out columns' Python-side defaults for each call
            raise ValueError(f"{statement}: Direct needs a value for every column with a Python-side default")
        self.sql = compiled.string
        self.order = tuple(compiled.positiontup) if compiled.positional else None
        self.in_order = _getter(self.order) if self.order is not None else None    # the parameters' values, in order
        self.literals = {name: b.effective_value for name, b in compiled.binds.items() if not b.required}
        self.binds = [(name, _once_a_value(p, bind.type, dialect)) for name, bind in compiled.binds.items()
                      if (p := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None]
        # A positional statement without literal binds: each position's processor, to apply to the
        # values in order (no dict made for them)
        processors = dict(self.binds)
        self.processed_at = [(i, processors[name]) for i, name in enumerate(self.order) if name in processors] \
            if self.order is not None and not self.literals else None
        self.checks = text_binds(compiled)
        self.columns = list(getattr(statement, "selected_columns", ()) or ()) or \
            list(getattr(compiled, "returning", None) or ())
        self.results: list | None = None     # found from the first result's column types, as SQLAlchemy does
        self.row = namedtuple("Row", [c.key for c in self.columns], rename=True) if self.columns else None

    def processors(self, dialect, description) -> list:
        if self.results is None:
            self.results = [(i, p) for i, (c, d) in enumerate(zip(self.columns, description))
                            if (p := c.type.dialect_impl(dialect).result_processor(dialect, d[1])) is not None]
        return self.results


class Direct:
    """A Core statement run on the driver's cursor (see the module's note); `params` by bind name.
    It writes only inside a transaction SQLAlchemy began (a unit of work), which commits it."""

    __slots__ = ("statement", "_dml", "_plans")

    def __init__(self, statement):
        self.statement = statement
        # An INSERT or UPDATE sets the columns its parameters name: compiled once per set of them.
        self._dml = bool(getattr(statement, "is_dml", False))
        self._plans: dict[Any, _Plan] = {}

    def _plan(self, dialect, params: dict[str, Any]) -> _Plan:
        # Found by the parameters' names in the order given (a caller gives them in the same order each
        # time), compiled once per set of names (sorted).
        given = (dialect.name, dialect.driver, tuple(params) if self._dml else None)
        plan = self._plans.get(given)
        if plan is None:
            keys = tuple(sorted(params)) if self._dml else None
            plan = self._plans.get((dialect.name, dialect.driver, keys))
            if plan is None:
                plan = self._plans[dialect.name, dialect.driver, keys] = _Plan(self.statement, dialect, keys)
            self._plans[given] = plan
        return plan

    def rows(self, conn: Connection, params: dict[str, Any]) -> list:
        """The statement's rows (a SELECT's, or an INSERT's RETURNING), as named tuples."""
        return self.send(conn, params).rows()

    def send(self, conn: Connection, params: dict[str, Any]) -> "Sent":
        """Run the statement; its rows are read from what this returns (inside a `together` block:
        after the block)."""
        plan, cursor = self._run(conn, params)
        return Sent(plan, cursor, conn.dialect)

    def rowcount(self, conn: Connection, params: dict[str, Any]) -> int:
        """The rows a DML statement touched."""
        cursor = self._run(conn, params)[1]
        count = cursor.rowcount
        cursor.close()
        return count

    def rowcount_many(self, conn: Connection, many: list[dict[str, Any]]) -> int:
        """The rows a DML statement touched, run once for each of `many` (which name the same
        parameters) in one executemany: a list's version-checked UPDATE of its cases."""
        cursor = self._run(conn, many[0], many)[1]
        count = cursor.rowcount
        cursor.close()
        return count

    def _run(self, conn: Connection, params: dict[str, Any], many: list[dict[str, Any]] | None = None):
        if self._dml and not conn.in_transaction():
            raise RuntimeError("Direct writes only inside a transaction SQLAlchemy began (App.unit_of_work)")
        dialect = conn.dialect
        plan = self._plan(dialect, params)
        bound = [self._bound(plan, p) for p in many] if many is not None else None
        first = self._bound(plan, params) if bound is None else bound[0]
        for watch in WATCHERS:
            watch(plan.sql, first)
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            if bound is None:
                cursor.execute(plan.sql, first)
            else:
                cursor.executemany(plan.sql, bound)
        except (OverflowError, dialect.loaded_dbapi.Error) as error:
            cursor.close()
            _raise(conn, dialect, plan.sql, error)
        return plan, cursor

    @staticmethod
    def _bound(plan: _Plan, params: dict[str, Any]):
        for name, limit in plan.checks:
            value = params.get(name)       # (check_text's own test, inlined: it raises, or does nothing)
            if type(value) is str and ((limit is not None and len(value) > limit) or "\x00" in value):
                check_text(name, value, limit)
        if plan.processed_at is not None:       # positional, every value given: processed in place
            try:
                values = plan.in_order(params)
            except KeyError:            # a value left out (None if it has a processor): as below
                pass
            else:
                if plan.processed_at:
                    values = list(values)
                    for i, process in plan.processed_at:
                        values[i] = process(values[i])
                return values
        if plan.binds or plan.literals:
            params = {**plan.literals, **params}
            for name, process in plan.binds:     # None too, as SQLAlchemy does (a JSON None is 'null')
                params[name] = process(params.get(name))
        return plan.in_order(params) if plan.order is not None else params


class Sent:
    """A statement sent, whose rows are still to be read (once)."""

    __slots__ = ("plan", "cursor", "dialect")

    def __init__(self, plan: _Plan, cursor, dialect):
        self.plan, self.cursor, self.dialect = plan, cursor, dialect

    def rows(self) -> list:
        plan, cursor = self.plan, self.cursor
        try:
            fetched = cursor.fetchall()
            processors = plan.processors(self.dialect, cursor.description)
        finally:
            cursor.close()
        if processors:
            fetched = [_processed(r, processors) for r in fetched]
        return [plan.row._make(r) for r in fetched]


@contextmanager
def together(conn: Connection) -> Iterator[None]:
    """The statements `Direct.send` sends in the block reach the server together, in one round trip
    where the driver can (psycopg's pipeline mode; the transaction's BEGIN goes with them), and their
    rows are read after the block. Elsewhere each runs as it is sent. For reads: a write's rowcount
    or error would only be known after the block."""
    dialect = conn.dialect
    if dialect.driver != "psycopg" or not dialect.loaded_dbapi.Pipeline.is_supported():
        yield
        return
    try:
        with conn.connection.dbapi_connection.pipeline():
            yield
    except dialect.loaded_dbapi.Error as error:
        _raise(conn, dialect, "(statements sent together)", error)


def _getter(names: tuple[str, ...]) -> Callable[[dict], tuple]:
    """A function giving a dict's values for `names`, as a tuple in their order."""
    if len(names) > 1:
        return itemgetter(*names)
    if names:
        return lambda params: (params[names[0]],)
    return lambda params: ()


# The last value each kind of date or time processor was given, and what it made: a step binds its
# one moment to three or four columns (a date and a time are immutable: the same object, the same text).
_LAST_MADE: dict[tuple, list] = {}


def _once_a_value(process: Callable, type_, dialect) -> Callable:
    """`process`, remembering what it made of the last date or time it was given (by identity: two
    equal moments in different time zones are stored differently); other types' processors as they are."""
    impl = type_.dialect_impl(dialect)
    try:
        immutable = type_.python_type in (datetime, date) and not isinstance(impl, TypeDecorator)
    except NotImplementedError:
        immutable = False
    if not immutable:          # (a decorated type may process each value its own way)
        return process
    # one cell for every processor of that kind (a pair replaced whole: threads may share it)
    cell = _LAST_MADE.setdefault((dialect.name, dialect.driver, type(impl), getattr(impl, "_storage_format", None)),
                                 [(None, None)])

    def once(value):
        last, made = cell[0]
        if value is last and value is not None:
            return made
        made = process(value)
        cell[0] = (value, made)
        return made
    return once


def _processed(row, processors: list[tuple[int, Callable]]) -> list:
    values = list(row)
    for i, process in processors:
        values[i] = process(values[i])
    return values


def _raise(conn: Connection, dialect, sql: str, error: Exception):
    """The driver's error as SQLAlchemy would raise it (a number past 64 bits as bad input, as the
    engine's handle_error makes it); a lost connection invalidated first."""
    if number_too_large(error):
        raise BadInput("input.number_too_large") from None
    lost = dialect.is_disconnect(error, conn.connection.dbapi_connection, None)
    if lost:
        conn.invalidate(error)
    raise sa_exc.DBAPIError.instance(sql, None, error, dialect.loaded_dbapi.Error, hide_parameters=True,
                                     dialect=dialect, connection_invalidated=lost) from error
