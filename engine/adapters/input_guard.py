"""Every text a statement binds is checked before it reaches the database, alike on every backend.

SQLite stores a text of any length with a NUL byte in it; PostgreSQL refuses both with an error
whose report would carry the statement's parameters — ID numbers, phones, bank accounts. So each
string bound to a column of limited length is checked against that length, and every string for a
NUL byte, here, and refused as bad input naming the field and its limit, never the value. (The
engine is also made with `hide_parameters`, so no database error prints row values.)
"""
from __future__ import annotations

from typing import Any, Sequence
from weakref import WeakKeyDictionary

from sqlalchemy import String, event
from sqlalchemy.engine import Engine

from engine.domain.errors import BadInput

_TEXT_BINDS: "WeakKeyDictionary[Any, tuple]" = WeakKeyDictionary()


def guard(engine: Engine) -> None:
    event.listen(engine, "before_cursor_execute", _check_statement)
    event.listen(engine, "handle_error", _number_too_large)


def _number_too_large(context) -> BadInput | None:
    """A number past the database's 64-bit integers (a case id of 30 digits typed or sent): bad input
    on every backend instead of a crash. Nothing is looked for on the happy path."""
    return BadInput("input.number_too_large") if number_too_large(context.original_exception) else None


def number_too_large(error: BaseException) -> bool:
    """Was this driver error a number past 64-bit integers? SQLite's driver raises OverflowError
    binding it, PostgreSQL refuses to store it."""
    return isinstance(error, OverflowError) or type(error).__name__ == "NumericValueOutOfRange"


def _check_statement(_conn, _cursor, _statement, _parameters, context, _executemany) -> None:
    compiled = getattr(context, "compiled", None)
    if compiled is None or getattr(context, "_jz_checked", False):
        return                    # an executemany sent in batches is checked whole, once
    context._jz_checked = True
    binds = text_binds(compiled)
    if binds:
        for params in context.compiled_parameters:
            for name, limit in binds:
                check_text(name, params.get(name), limit)


def text_binds(compiled) -> tuple[tuple[str, int | None], ...]:
    """(bind name, length limit or None) of a compiled statement's text parameters, found once: a
    value written to a column (an INSERT's or UPDATE's parameter named after its column) has the
    column's limit; any other text (a comparison's bound, say) is only checked for NUL bytes."""
    found = _TEXT_BINDS.get(compiled)
    if found is None:
        columns = _written_columns(compiled)
        found = _TEXT_BINDS[compiled] = tuple(
            (name, getattr(columns[name].type, "length", None) if name in columns else None)
            for name, bind in getattr(compiled, "binds", {}).items() if isinstance(bind.type, String))
    return found


def _written_columns(compiled) -> dict[str, Any]:
    if not (getattr(compiled, "isinsert", False) or getattr(compiled, "isupdate", False)):
        return {}
    table = getattr(compiled.statement, "table", None)
    return {c.key: c for c in table.c if isinstance(c.type, String)} if table is not None else {}


def check_text(name: str, value: Any, limit: int | None) -> None:
    if type(value) is str and ((limit is not None and len(value) > limit) or "\x00" in value):
        if "\x00" in value:
            raise BadInput("input.control_char", field=_field(name))
        raise BadInput("input.too_long", field=_field(name), limit=limit)


def check_rows(columns: Sequence[Any], rows: Sequence[Sequence[Any]]) -> None:
    """The same checks for rows handed to the driver directly (engine.adapters.bulk): a column at a
    time first (a registry's batch holds some 20,000 texts), and only if one is refused, row by row,
    for the first refused as a statement's check finds it."""
    limits = [(i, c.name, getattr(c.type, "length", None) or _NO_LIMIT) for i, c in enumerate(columns)
              if isinstance(c.type, String)]
    if not limits or not rows:
        return
    values = list(zip(*rows))
    if not any(_refused(values[i], limit) for i, _name, limit in limits):
        return
    for row in rows:
        for i, name, limit in limits:
            value = row[i]
            if type(value) is str and (len(value) > limit or "\x00" in value):
                check_text(name, value, None if limit is _NO_LIMIT else limit)


def _refused(values: tuple, limit: float) -> bool:
    """Whether a text of a column may be too long or hold a NUL byte (then each row is checked)."""
    if None in values:
        if values.count(None) == len(values):
            return False
        values = [v for v in values if v is not None]
    try:
        joined = "".join(values)
    except TypeError:        # not all texts: the texts alone
        values = [v for v in values if isinstance(v, str)]
        joined = "".join(values)
    return "\x00" in joined or (limit is not _NO_LIMIT and bool(values) and max(map(len, values)) > limit)


_NO_LIMIT = float("inf")


def _field(name: str) -> str:
    """A bind's name as the field it fills (an expanded IN's `ids_1` is `ids`)."""
    return name.rsplit("_", 1)[0] if name[-1:].isdigit() and "_" in name else name
