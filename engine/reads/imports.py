"""A file imported before: the very same file (by its SHA-256) imported whole already, found by the
organisation event its import wrote (`households_imported`, `evidence_imported`). Importing it again
would only repeat each of its rows' "registered already" or "holds this already"; a file imported in
part (rows left out with --skip-bad, perhaps for another's jurisdiction) may be imported again."""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.domain.deadline_rules import wall_clock
from engine.domain.errors import BadInput

# The event's count of what a file's import left out, by the event's action.
LEFT_OUT = {"households_imported": "skipped_households", "evidence_imported": "skipped_rows"}


def imported_before(conn, action: str, source: dict, same: Callable[[Any], bool] | None = None):
    """The event (seq, case_seq: its place in the activity log, at, person_code, region_code, detail) of the first import on record of the file
    `source` names (file, sha256), whole, that `same` accepts (an evidence sheet: imported the same
    way, by a reader who may see it); None when there is none."""
    if not source.get("sha256"):
        return None
    e = t.audit_events.c
    imports = conn.execute(select(e.seq, e.case_seq, e.at, e.person_code, e.region_code, e.detail).where(
        e.case_id.is_(None), e.action == action, e.detail["sha256"].as_string() == source["sha256"]
    ).order_by(e.seq))
    return next((i for i in imports if not (i.detail or {}).get(LEFT_OUT[action]) and (same is None or same(i))),
                None)


# The event a list file's import writes, by what the web's import page imports (engine: the files'
# own events; a file the page imports otherwise: not counted)
IMPORT_EVENTS = {"households": "households_imported", "evidence": "evidence_imported"}


def imports_of(app, what: str, sha256: str) -> int | None:
    """How many imports of the file with this SHA-256 as `what` (IMPORT_EVENTS) are on record (their
    organisation events), read before and after a run to say whether it wrote anything (a list checked
    again, every household registered as it gives it, writes nothing); None for another kind of file."""
    if what not in IMPORT_EVENTS:
        return None
    e = t.audit_events.c
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.audit_events).where(
            e.case_id.is_(None), e.action == IMPORT_EVENTS[what], e.detail["sha256"].as_string() == sha256)).scalar()


def refuse_imported_before(config, conn, action: str, source: dict, code: str) -> None:
    """Refuse (BadInput `code`: file, seq, person, at) the file `source` names (file, sha256) when an
    import of it, whole, is on record already; when is said on the office's clock."""
    before = imported_before(conn, action, source)
    if before is not None:
        raise BadInput(code, file=source["file"], seq=before.seq, place=before.case_seq, person=before.person_code,
                       at=wall_clock(config, before.at))


def imported_from(conn, events) -> dict[int, dict]:
    """The list file each case moved in from a registry was registered from (`households_imported`:
    file, sha256), by the seq of its first event among `events` (rows with seq, case_id, action,
    detail; `case_registered` of an import): the first such organisation event after it, if its cases
    take this one in (it closes the import's transaction). One import's cases share one look-up."""
    e = t.audit_events.c
    found: dict[int, dict] = {}
    last = None          # (seq, detail) of the organisation event found last
    for event in sorted((r for r in events if r.action == "case_registered" and (r.detail or {}).get("imported")
                         and r.case_id is not None), key=lambda r: r.seq):
        if last is None or not (last[0] > event.seq and _takes_in(last[1], event.case_id)):
            last = conn.execute(select(e.seq, e.detail).where(
                e.case_id.is_(None), e.action == "households_imported", e.seq > event.seq).order_by(e.seq).limit(1)
            ).first()
        if last is not None and _takes_in(last[1], event.case_id):
            found[event.seq] = {"file": last[1].get("file"), "sha256": last[1].get("sha256")}
    return found


def _takes_in(detail: dict | None, case_id: int) -> bool:
    return bool(detail) and (detail.get("first_case") or 0) <= case_id <= (detail.get("last_case") or 0)
