"""Audit events: one per action, written in the same transaction as the change it records.

Each case's events form a hash chain (case_seq, prev_hash, hash); the hash covers a canonical
serialisation of every field, so a later edit of any field is detectable.

The canonical form is the JSON object of HASHED_FIELDS with sorted keys, no spaces, non-ASCII kept
as is, datetimes as naive-UTC isoformat with microseconds: exactly
``json.dumps({k: fields.get(k) for k in HASHED_FIELDS}, sort_keys=True, ensure_ascii=False,
separators=(",", ":"), default=json_default)``. It is built here from a fixed template, one value at a
time (the key order never changes), which gives the same bytes several times faster; `audit verify`
fills the same template straight from database rows.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from typing import Any

from engine.domain.json_text import encoder

HASHED_FIELDS = ("case_id", "case_seq", "at", "person_id", "person_code", "person_name", "role",
                 "region_code", "action", "from_stage", "to_stage", "procedure_id", "step_key",
                 "decision", "reason", "evidence_hashes", "policy_version", "detail", "prev_hash")
# The keys in the canonical form's order, and the form itself with a %s for each value.
SORTED_FIELDS = tuple(sorted(HASHED_FIELDS))
TEMPLATE = "{" + ",".join(f"{json.dumps(k)}:%s" for k in SORTED_FIELDS) + "}"


def json_default(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


_encode_json = encoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=json_default)
_encode_str = json.encoder.encode_basestring      # what that encoder does with a str, without its overhead


def encode_value(value: Any) -> str:
    """One value as the canonical form writes it (nested objects with sorted keys too)."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is int:
        return int.__repr__(value)
    if kind is datetime:     # an event's time: digits and -:T. only, nothing to escape
        return _time_text(value)
    if kind is list and not value:     # an event's evidence_hashes, most often
        return "[]"
    return _encode_json(value)


_last_time: tuple = (None, "")      # the time last encoded, and its text: a batch's events share one


def _time_text(value: datetime) -> str:
    global _last_time
    last = _last_time
    if last[0] is value:
        return last[1]
    text = f'"{json_default(value)}"'
    _last_time = (value, text)
    return text


_SCALARS = (str, int, float, bool, type(None))


def as_stored(value: Any) -> Any:
    """`json.loads(json.dumps(value, default=json_default))` (what a JSON column gives back), built
    without the text in between for what a detail holds: str-keyed dicts, lists, scalars and dates.
    Anything else (non-str keys, other types) takes the round trip itself."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict and all(type(k) is str for k in value):      # (scalars kept without a call: a list
        return {k: v if type(v) in _SCALARS else as_stored(v) for k, v in value.items()}   # step's thousand)
    if kind is list or kind is tuple:
        return [v if type(v) in _SCALARS else as_stored(v) for v in value]
    if kind is datetime or kind is date:
        return json_default(value)
    return json.loads(json.dumps(value, default=json_default))


def canonical(fields: dict[str, Any]) -> bytes:
    get = fields.get      # a text or nothing, the most of an event's fields, without a call each
    return (TEMPLATE % tuple([_encode_str(v) if type(v) is str else "null" if v is None else encode_value(v)
                              for v in map(get, SORTED_FIELDS)])).encode()


def event_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def make_event(*, actor, action: str, at: datetime, role: str | None = None,
               region_code: str | None = None, case_id: int | None = None,
               case_seq: int | None = None, prev_hash: str | None = None,
               from_stage: str | None = None, to_stage: str | None = None,
               procedure_id: int | None = None, step_key: str | None = None,
               decision: str | None = None, reason: str | None = None,
               evidence_hashes: list | None = None, policy_version: str | None = None,
               detail: dict | None = None) -> dict[str, Any]:
    row = {
        "case_id": case_id, "case_seq": case_seq, "at": at,
        "person_id": actor.person_id, "person_code": actor.code, "person_name": actor.name,
        "role": role, "region_code": region_code, "action": action,
        "from_stage": from_stage, "to_stage": to_stage, "procedure_id": procedure_id,
        "step_key": step_key, "decision": decision, "reason": reason,
        "evidence_hashes": evidence_hashes or [], "policy_version": policy_version,
        "detail": as_stored(detail or {}), "prev_hash": prev_hash,
    }
    row["hash"] = event_hash(row)
    return row
