"""A household's monitoring (防返贫监测, DOMAIN §3) and its transition period (过渡期, 5 years from exit),
as its case keeps them and as its readers are shown them.

The household's rules keep them in the case's attributes (workflows/household_steps.py): `monitoring`
{type, since} while monitored, `monitoring_history` [{type, since, risk_eliminated_on}] of the earlier
monitorings, `transition_until` the transition period's last day. The case row keeps beside them what
the lists filter and the figures count by (`cases.monitoring`: the type monitored now;
`cases.transition_until`), each with its index, written from the attributes whenever a procedure completes.

A household imported as exited (or consolidated) already has no exit day, only the year its registry
noted (`exit_year`, engine/domain/exit_years.py): its transition period is reckoned from that year, to
the last day of the year it ends in (exited in 2017, a 5-year period: until 2022-12-31), so that it is
never said to be over while it may still run; it is said to be reckoned from the year. A household
imported exited with no year has no transition end until a county office notes the year.

The domain describes no procedure at the end of the transition period: the household stays
consolidated; its record says the period ended, and supervisors list the households whose period ends in
a year (the policies kept during it are re-examined then, outside the engine).
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Callable

from engine.domain.exit_years import EXITED_STAGES, IMPORTED_YEAR

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


# The transition period's length in years for an exit year (the rules of the household's province:
# policy.yaml's `transition_period_years`); None where only what the attributes record is read.
PeriodYears = Callable[[int], int]


def period_years(policy, province: str) -> PeriodYears:
    """The transition period's length for an exit year, under `policy` (config's Policy) in `province`."""
    return lambda year: int(policy.params(province, year)["transition_period_years"])


def reckoned_from_year(stage: str, attrs: dict | None, years: PeriodYears | None) -> tuple[date, int] | None:
    """A household imported as exited (or consolidated) with only its exit year noted, no exit day and no
    transition recorded: the period's last day (the last day of the year it ends in) and that exit year."""
    attrs = attrs or {}
    if years is None or stage not in EXITED_STAGES or attrs.get("exited_on") or attrs.get("transition_until"):
        return None
    try:
        year = int(attrs.get(IMPORTED_YEAR))
    except (TypeError, ValueError):
        return None
    return date(year + years(year), 12, 31), year


def from_exit(exited: date, years: PeriodYears) -> date:
    """The last day of a transition period that runs from an exit on `exited` (the exit procedure's day):
    the same day `years(exit year)` years later (a 29 February exit: 365 days a year)."""
    n = years(exited.year)
    return exited.replace(year=exited.year + n) if not (exited.month == 2 and exited.day == 29) \
        else exited + timedelta(days=365 * n)


def transition_end(stage: str, attrs: dict | None, years: PeriodYears | None) -> date | None:
    """The transition period's last day: with `years` (the rules in force), reckoned from the exit's day
    for a household exited through the procedure (from the day it exits, whether consolidated yet or not),
    else from an imported exit year; without them, or with neither, as the attributes record it (the exit
    or consolidation wrote it under the rules of its day). None for a household removed or reopened."""
    if stage in GONE:
        return None
    attrs = attrs or {}
    exited = _day(attrs.get("exited_on")) if years is not None and stage in EXITED_STAGES else None
    if exited is not None:
        return from_exit(exited, years)
    reckoned = reckoned_from_year(stage, attrs, years)
    return reckoned[0] if reckoned else _day(attrs.get("transition_until"))


def columns(stage: str, attrs: dict | None, years: PeriodYears | None = None) -> dict[str, Any]:
    """The case row's columns the attributes give: the type monitored now, the transition's last day
    (None for a household removed; reckoned from an imported exit year when `years` is given)."""
    attrs = attrs or {}
    if stage in GONE:
        return {"monitoring": None, "transition_until": None}
    current = attrs.get("monitoring") or None
    kind = (current.get("type") or "unstable") if isinstance(current, dict) else None
    return {"monitoring": str(kind)[:20] if kind else None, "transition_until": transition_end(stage, attrs, years)}


def shown(stage: str, attrs: dict | None, today: date, years: PeriodYears | None = None) -> dict[str, Any] | None:
    """What a household's reader is shown of its monitoring and transition period: {current: {type,
    since} | None, history: [{type, since, risk_eliminated_on}], transition_until, transition_over,
    and, for a period reckoned from an imported exit year, transition_from_year}; None when there is
    nothing to show (a household never exited nor monitored)."""
    attrs = attrs or {}
    current = attrs.get("monitoring") if stage not in GONE else None
    history = [{"type": h.get("type") or "unstable", "since": h.get("since"),
                "risk_eliminated_on": h.get("risk_eliminated_on"),
                # a monitoring ended by a reopening (返贫): when, and by which procedure
                **{k: h[k] for k in ("ended_on", "ended_by") if h.get(k)}}
               for h in attrs.get("monitoring_history") or () if isinstance(h, dict)]
    until = transition_end(stage, attrs, years)
    reckoned = reckoned_from_year(stage, attrs, years) if until else None
    if not current and not history and until is None:
        return None
    return {"current": {"type": current.get("type") or "unstable", "since": current.get("since")}
            if isinstance(current, dict) and current else None,
            "history": history,
            "transition_until": until.isoformat() if until else None,
            "transition_over": bool(until and until < today),
            # an imported exit's period, reckoned from its exit year to that year's end: the year it is from
            **({"transition_from_year": reckoned[1]} if reckoned else {})}
