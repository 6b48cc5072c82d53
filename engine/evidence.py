"""Evidence: typed structured fields and/or a file kept under its SHA-256."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from config import EvidenceTypeDef
from .errors import BadInput


class EvidenceStore:
    """Files stored by content: evidence/ab/abcdef... A stored file is never overwritten."""

    def __init__(self, root: Path):
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> tuple[str, bool]:
        """Store a file; returns its SHA-256 and whether it was new to the store."""
        if not source.is_file():
            raise BadInput("evidence.no_file", path=str(source))
        digest = sha256_file(source)
        target = self.path_for(digest)
        if target.exists():
            return digest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent)
        os.close(fd)
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        return digest, True

    def discard(self, digests: list[str]) -> None:
        for digest in digests:
            self.path_for(digest).unlink(missing_ok=True)

    def intact(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        return path.is_file() and sha256_file(path) == sha256


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
            raise BadInput("evidence.bad_field", type=etype, field=name, kind=kind, value=raw[name]) from None
        out[name] = value
    return out
