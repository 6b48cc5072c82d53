"""A case's steps as their audit events recorded them: each step row paired with its own `step` event,
and a row that differs from it (a signer, post, decision, reason or date changed, or voided or not, in the
database behind the engine) shown as the event recorded it, the row's own values beside it marked as not
the record. Every view that names who did a step reads it so: the inspector's trace (engine.reads.trace)
and the case page, `case show` and the API's case read (engine.reads.case_record) of a damaged case.
"""
from __future__ import annotations

from typing import Any

from engine.domain.errors import Codes, Msg, render_stored, render_text


def step_events(procedures: list, events) -> dict[int, Any]:
    """Each step row of the trace's procedures (by its dict's id()) with its own event: the step events
    of the same procedure and step, in order (a step row without one is left out)."""
    by_step: dict[tuple, list] = {}
    for e in events:
        if e.action == "step":
            by_step.setdefault((e.procedure_id, e.step_key), []).append(e)
    paired = {}
    for proc in procedures:
        for step in proc["steps"]:
            queue = by_step.get((proc["id"], step["step"]), [])
            if queue:
                paired[id(step)] = queue.pop(0)
    return paired


# A step's values its event records, and the words its database value is said in where it differs.
_RECORDED_SHOWN = ("person", "person_name", "role", "decision", "reason", "stored_reason", "date", "voided")


def as_recorded(config, procedures: list, events, paired: dict[int, Any], lang: str) -> None:
    """Each step row that differs from its own event (a signer, post, decision, reason or date changed,
    or voided or not, in the database behind the engine) shown as its event recorded it: the trace's
    rows, its summary of who proposed, checked and approved, the text trace and the printed dossier
    name whom the log names. The row's own values stay beside it (`database`, the fields that differ
    in `differs`, said in words in `database_said`, with the event's seq), marked as not the record;
    a row no event records is marked so (`differs`: ["unrecorded"])."""
    voiding = {v.get("id"): e for e in events if e.action != "step"
               for v in ((e.detail or {}).get("voided_steps") or []) if isinstance(v, dict)}
    for proc in procedures:
        for step in proc["steps"]:
            step.update(database=None, differs=[], event_seq=None, database_said=None)
            event = paired.get(id(step))
            if event is None:       # a row written into the database: no act the log records
                step.update(database={k: step[k] for k in _RECORDED_SHOWN}, differs=["unrecorded"],
                            database_said=render_text(config, "trace.step.database_only", {}, lang))
                continue
            voiding_event = voiding.get(step["id"])
            voided = (None if voiding_event is None else step["voided"]     # voided as recorded: the row's words
                      or render_stored(config, voiding_event.reason, lang) or "-")
            recorded = {"person": event.person_code, "person_name": event.person_name, "role": event.role,
                        "decision": event.decision, "stored_reason": event.reason,
                        "reason": render_stored(config, event.reason, lang),
                        "date": str((event.detail or {}).get("effective_date")),
                        "voided": voided}
            differs = [k for k in ("person", "role", "decision", "stored_reason", "date") if recorded[k] != step[k]]
            differs += ["voided"] if bool(recorded["voided"]) != bool(step["voided"]) else []
            if not differs:
                continue
            step["database"] = {k: step[k] for k in _RECORDED_SHOWN}
            step["differs"] = ["reason" if k == "stored_reason" else k for k in differs]
            step["event_seq"] = event.seq
            step["database_said"] = render_text(config, "trace.step.database_differs", {
                "seq": event.seq, "values": [_database_words(step, k) for k in step["differs"]]}, lang)
            step.update({k: recorded[k] for k in _RECORDED_SHOWN})


def _database_words(step: dict, field: str) -> Msg:
    """One value of a step's database row that differs from its event, in words."""
    row = step["database"]
    if field == "person":
        return Msg("trace.step.db_person", {"name": row["person_name"], "person": row["person"]})
    if field == "voided":
        return Msg("trace.step.db_voided", {"why": row["voided"]}) if row["voided"] else Msg("trace.step.db_not_voided", {})
    if field == "decision":
        return Msg("trace.step.db_decision", {"decision": Codes("decision", (row["decision"],))})
    return Msg(f"trace.step.db_{field}", {field: row[field] or "-"})
