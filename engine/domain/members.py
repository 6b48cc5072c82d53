"""A household's members as one digest, carried by every event that changes them.

`audit verify` re-computes it from the household_members rows and compares it with the last event's:
an ID number, a name or a bank account changed behind the engine's back is found on its case. The
digest covers every member row of the case (those who left too), in ID-number order.
"""
from __future__ import annotations

import hashlib
from datetime import date
from operator import attrgetter, itemgetter
from typing import Any, Iterable

FIELDS = ("id_number", "name", "relation", "labour_ability", "health", "school_enrolment", "insured_basic",
          "insured_critical", "phone", "bank_account")


def mask_id(number: str) -> str:
    """An ID number as a page or an error may show it: its county code and last four characters (the
    rest is the holder's birth date and sequence); a number too short for that, all hidden; one far too
    long (pasted twice, a cell's whole text) with at most 12 stars (the error says its length)."""
    compact = "".join((number or "").split())
    return compact[:6] + "*" * min(len(compact) - 10, 12) + compact[-4:] if len(compact) >= 12 else "*" * min(len(compact), 12)


def age_at(born: date, day: date) -> int:
    """Full years from a birth date to `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def age_from_id(number: str, day: date) -> int | None:
    """Full years on `day` of the holder of an 18-digit ID number (its 7th to 14th digits are the
    birth date); None for a number that gives no date."""
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except (TypeError, ValueError):
        return None
    return age_at(born, day)


def mask_account(value: str) -> str:
    """A bank account (or a phone, where only its end is shown) as a page may show it: its last four."""
    return "****" + value[-4:]


def members_digest(rows: Iterable[Any]) -> str:
    """The digest of a case's member rows (mappings or rows with FIELDS)."""
    lines = sorted(["\x1f".join([v if type(v) is str else "" if v is None else _text(v) for v in _values(r)])
                    for r in rows])
    return hashlib.sha256("\x1e".join(lines).encode()).hexdigest()[:32]


_BY_KEY, _BY_NAME = itemgetter(*FIELDS), attrgetter(*FIELDS)


def _values(row: Any) -> tuple:
    return _BY_KEY(row) if isinstance(row, dict) else _BY_NAME(row)


def _text(value: Any) -> str:
    """A field's text in the digest: nothing for None, 1 or 0 for a boolean (and a number 1 or 0)."""
    if value is None:
        return ""
    if isinstance(value, bool) or value in (0, 1) and not isinstance(value, str):
        return "1" if value else "0"
    return str(value)


# --- what a member event changed, as an inspector reads it --------------------------------------------

_MASKED = ("phone", "bank_account")        # contact details: their last four characters only


def member_changes(action: str, detail: dict | None) -> list[dict[str, Any]]:
    """Each change a member event made, as {member, field, old, new} (None: no value): a field's old
    and new values of an update, the relation of a member added, a member leaving (field `active`),
    every relation a change of head moved. Phones and bank accounts are masked."""
    d = detail or {}
    if action == "member_updated":
        old = d.get("old") or {}
        return [_change(d.get("member"), k, old.get(k), v) for k, v in (d.get("new") or {}).items()]
    if action == "member_added":
        return [_change(d.get("member"), "relation", None, d.get("relation"))]
    if action == "member_left":
        return [_change(d.get("member"), "active", True, False)]
    if action == "head_changed":
        moved = [_change(name, "relation", old, new) for name, old, new in d.get("relations") or ()]
        return moved + ([_change(d.get("former_head"), "active", True, False)] if d.get("former_left") else [])
    return []


def _change(member: Any, field: str, old: Any, new: Any) -> dict[str, Any]:
    if field in _MASKED:
        old, new = (None if v in (None, "") else mask_account(str(v)) for v in (old, new))
    return {"member": member, "field": field, "old": old, "new": new}
