"""A file imported before: the very same file (by its SHA-256) imported whole already, found by the
organisation event its import wrote (`households_imported`, `evidence_imported`). Importing it again
would only repeat each of its rows' "registered already" or "holds this already"; a file imported in
part (rows left out with --skip-bad, perhaps for another's jurisdiction) may be imported again."""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.deadline_rules import wall_clock
from engine.domain.errors import BadInput

# The event's count of what a file's import left out, by the event's action.
LEFT_OUT = {"households_imported": "skipped_households", "evidence_imported": "skipped_rows"}


def imported_before(conn, action: str, source: dict, same: Callable[[Any], bool] | None = None):
    """The event (seq, at, person_code, region_code, detail) of the first import on record of the file
    `source` names (file, sha256), whole, that `same` accepts (an evidence sheet: imported the same
    way, by a reader who may see it); None when there is none."""
    if not source.get("sha256"):
        return None
    e = t.audit_events.c
    imports = conn.execute(select(e.seq, e.at, e.person_code, e.region_code, e.detail).where(
        e.case_id.is_(None), e.action == action, e.detail["sha256"].as_string() == source["sha256"]
    ).order_by(e.seq))
    return next((i for i in imports if not (i.detail or {}).get(LEFT_OUT[action]) and (same is None or same(i))),
                None)


def refuse_imported_before(config, conn, action: str, source: dict, code: str) -> None:
    """Refuse (BadInput `code`: file, seq, person, at) the file `source` names (file, sha256) when an
    import of it, whole, is on record already; when is said on the office's clock."""
    before = imported_before(conn, action, source)
    if before is not None:
        raise BadInput(code, file=source["file"], seq=before.seq, person=before.person_code,
                       at=wall_clock(config, before.at))
