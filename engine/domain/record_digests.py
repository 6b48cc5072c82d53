"""Digests of projected rows that their events carry, so `audit verify` can compare the rows with the log.

A case's attributes (`cases.attrs`) are written by many services; every case event records the
digest of the attributes as they stand after it (`attrs_digest`), and the last event's digest must
match the row. A notice's own fields (dates, days, scope) are recorded by the step that posts it
(`notice_digest`), and its text as posted by a `notice_posted` organisation event (`text_digest`).
Events written before they carried a digest set no expectation.
"""
from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from engine.domain.json_text import encoder

NOTICE_FIELDS = ("id", "scope", "region_code", "procedure_kind", "step_key", "start_date", "end_date",
                 "days_required", "working_days")


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def attrs_digest(attrs: Any) -> str:
    """The digest of a case's attributes (a JSON object: keys sorted, so its order does not count)."""
    return hashlib.sha256(_attrs_json(attrs or {}).encode()).hexdigest()[:32]


# json.dumps(attrs, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_text), its encoder made once
_attrs_json = encoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_text)


def notice_digest(row: Any) -> str:
    """The digest of a notice row's own fields (a mapping or a row with NOTICE_FIELDS)."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    values = [get(f) for f in NOTICE_FIELDS]
    values[-1] = bool(values[-1])
    return hashlib.sha256("\x1f".join(map(_text, values)).encode()).hexdigest()[:32]


def text_digest(text: str | None) -> str:
    """The digest of a text as kept (a notice as posted: `notice_posted` events carry it)."""
    return hashlib.sha256((text or "").encode()).hexdigest()[:32]
