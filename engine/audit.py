"""Audit events: one per action, written in the same transaction as the change it records.

Each case's events form a hash chain (case_seq, prev_hash, hash); the hash covers a canonical
serialisation of every field, so a later edit of any field is detectable.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from typing import Any

HASHED_FIELDS = ("case_id", "case_seq", "at", "person_id", "person_code", "person_name", "role",
                 "region_code", "action", "from_stage", "to_stage", "procedure_id", "step_key",
                 "decision", "reason", "evidence_hashes", "policy_version", "detail", "prev_hash")


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps({k: fields.get(k) for k in HASHED_FIELDS}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=_default).encode()


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
        "detail": json.loads(json.dumps(detail or {}, default=_default)), "prev_hash": prev_hash,
    }
    row["hash"] = event_hash(row)
    return row
