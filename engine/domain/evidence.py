"""Evidence as the domain sees it: typed fields checked against their definition, and the hash that
a sign-off relies on."""
from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from config import EvidenceTypeDef
from engine.domain.errors import BadInput


def content_hash(etype: str, fields: dict[str, Any], file_sha256: str | None) -> str:
    payload = json.dumps({"type": etype, "fields": fields, "file": file_sha256},
                         sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


_TRUE = {"true", "yes", "1", "y", "是"}
_FALSE = {"false", "no", "0", "n", "否"}


def coerce_fields(etype: str, definition: EvidenceTypeDef, raw: dict[str, Any]) -> dict[str, Any]:
    """Check and convert fields to their declared kinds; unknown or missing fields are refused."""
    out: dict[str, Any] = {}
    for name in raw:
        if name not in definition.fields:
            raise BadInput("evidence.unknown_field", type=etype, field=name,
                           known=", ".join(definition.fields) or "-")
    for name, kind in definition.fields.items():
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        if name not in raw or raw[name] in (None, ""):
            if optional:
                continue
            raise BadInput("evidence.missing_field", type=etype, field=name)
        value = raw[name]
        try:
            if kind == "int":
                value = int(value)
            elif kind == "number":
                value = float(value)
                if value != value or value in (float("inf"), float("-inf")):
                    raise ValueError
            elif kind == "bool":
                if not isinstance(value, bool):
                    text = str(value).strip().lower()
                    if text not in _TRUE | _FALSE:
                        raise ValueError
                    value = text in _TRUE
            elif kind == "date":
                value = value.isoformat() if isinstance(value, date) else date.fromisoformat(str(value)).isoformat()
            else:
                value = str(value)
        except (TypeError, ValueError):
            raise BadInput("evidence.bad_field", type=etype, field=name, value_kind=kind.rstrip("?"), value=raw[name]) from None
        out[name] = value
    return out
