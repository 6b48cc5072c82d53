"""A household's monitoring (防返贫监测, DOMAIN §3) and its transition period (过渡期, 5 years from exit),
as its case keeps them and as its readers are shown them.

The household's rules keep them in the case's attributes (workflows/household_steps.py): `monitoring`
{type, since} while monitored, `monitoring_history` [{type, since, risk_eliminated_on}] of the earlier
monitorings, `transition_until` the transition period's last day. The case row keeps beside them what
the lists filter and the figures count by (`cases.monitoring`: the type monitored now;
`cases.transition_until`), each with its index, written from the attributes whenever a procedure completes.

The domain describes no procedure at the end of the transition period: the household stays
consolidated; its record says the period ended, and supervisors list the households whose period ends in
a year (the policies kept during it are re-examined then, outside the engine).
"""
from __future__ import annotations

from datetime import date
from typing import Any

ANY = "any"                  # the list filter for a household monitored now, of whichever type
GONE = ("removed",)          # a household removed is no longer monitored, nor in its transition period
MONITORING_TYPE = ("monitoring_clue", "monitoring_type")    # the evidence field that names the types


def monitoring_types(workflow) -> tuple[str, ...]:
    """The monitored object types of a household workflow (its clue's codes), in their order."""
    evidence = workflow.evidence_types.get(MONITORING_TYPE[0])
    return tuple(evidence.codes.get(MONITORING_TYPE[1], ())) if evidence is not None else ()


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def columns(stage: str, attrs: dict | None) -> dict[str, Any]:
    """The case row's columns the attributes give: the type monitored now, the transition's last day
    (None for a household removed)."""
    attrs = attrs or {}
    if stage in GONE:
        return {"monitoring": None, "transition_until": None}
    current = attrs.get("monitoring") or None
    kind = (current.get("type") or "unstable") if isinstance(current, dict) else None
    return {"monitoring": str(kind)[:20] if kind else None, "transition_until": _day(attrs.get("transition_until"))}


def shown(stage: str, attrs: dict | None, today: date) -> dict[str, Any] | None:
    """What a household's reader is shown of its monitoring and transition period: {current: {type,
    since} | None, history: [{type, since, risk_eliminated_on}], transition_until, transition_over}; None
    when there is nothing to show (a household never exited nor monitored)."""
    attrs = attrs or {}
    current = attrs.get("monitoring") if stage not in GONE else None
    history = [{"type": h.get("type") or "unstable", "since": h.get("since"),
                "risk_eliminated_on": h.get("risk_eliminated_on"),
                # a monitoring ended by a reopening (返贫): when, and by which procedure
                **{k: h[k] for k in ("ended_on", "ended_by") if h.get(k)}}
               for h in attrs.get("monitoring_history") or () if isinstance(h, dict)]
    until = _day(attrs.get("transition_until")) if stage not in GONE else None
    if not current and not history and until is None:
        return None
    return {"current": {"type": current.get("type") or "unstable", "since": current.get("since")}
            if isinstance(current, dict) and current else None,
            "history": history,
            "transition_until": until.isoformat() if until else None,
            "transition_over": bool(until and until < today)}
