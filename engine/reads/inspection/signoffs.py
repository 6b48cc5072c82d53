"""Sign-offs out of working hours (signoff_off_hours) and in bursts (signoff_burst)."""
from __future__ import annotations

from itertools import groupby
from typing import Any, Iterator

from sqlalchemy import String, and_, case, cast, func, not_, or_, select

from engine.adapters import tables as t
from .flag import LIST_LIMIT, Flag
from .query import Query, seqs, step_event, utc


# --- 1. signoff_off_hours ---------------------------------------------------------------------

def off_hours(x: Query) -> Iterator[Flag]:
    """Signing steps recorded out of hours; a step entered late (a paper file) says nothing by its hour."""
    for _, group in groupby(x.stream(_off_hours_rows(x)), key=lambda r: r.id):
        rows = list(group)
        r = rows[0]
        at = utc(r.recorded_at).astimezone(x.zone)
        yield Flag("signoff_off_hours", "detail", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"step": r.step_key, "procedure": r.procedure, "step_id": r.id,
                    "local_time": at.strftime("%Y-%m-%d %H:%M"), "weekday": at.isoweekday(),
                    "voided": r.voided_at is not None}, seqs(rows))


def _off_hours_rows(x: Query):
    """Signing steps recorded outside the working hours and days, with their audit events."""
    s, c, p, pr, ae = t.steps, t.cases, t.persons, t.procedures, t.audit_events
    hours = x.insp.working_hours
    local = x.local(s.c.recorded_at)
    hm = x.hour_minute(local)
    working = and_(hm >= hours.start, hm < hours.end, x.weekday_in(local, hours.days))
    off = (select(s.c.id, s.c.case_id, s.c.procedure_id, s.c.step_key, s.c.person_id, s.c.recorded_at,
                  s.c.voided_at)
           .join(c, c.c.id == s.c.case_id)
           .where(x.region(), x.signing(s), x.of_person(s.c.person_id), not_(working), not_(x.late(s)))).cte("off_hours")
    return (select(off, c.c.title, c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq)
            .join(c, c.c.id == off.c.case_id).join(p, p.c.id == off.c.person_id)
            .join(pr, pr.c.id == off.c.procedure_id).outerjoin(ae, step_event(ae, off))
            .order_by(off.c.id, ae.c.seq))


# --- 2. signoff_burst -------------------------------------------------------------------------

def bursts(x: Query) -> Iterator[Flag]:
    """Windows of `minutes` in which one person signed `count` or more distinct cases.

    Per person, in time order: a row starts a qualifying window when the rows from it to `minutes`
    later number `count` or more; a row is in a burst when such a window covers it; overlapping
    windows make one burst. Re-signing a case already signed within `minutes` is not counted again
    (a case re-signed further apart inside one long burst is). A list signed in one go is one act (its
    steps share a batch id in their audit events, engine/services/procedures.py): it counts once.
    """
    span, need = x.insp.burst.minutes * 60, x.insp.burst.count
    burst: dict[str, Any] | None = None
    for r in x.stream(_burst_rows(x, span, need)):
        if burst is None or r.person_id != burst["person_id"] or r.secs > burst["end"]:
            if burst is not None:
                yield _burst_flag(x, burst)
            burst = {"person_id": r.person_id, "person": (r.code, r.name), "end": r.secs, "first": r.recorded_at,
                     "last": r.recorded_at, "count": 0, "step": None, "cases": set(), "seqs": set()}
        _add_to_burst(burst, r, span, need)
    if burst is not None:
        yield _burst_flag(x, burst)


def _burst_rows(x: Query, span: int, need: int):
    """The signing steps covered by a qualifying window, per person in time order, with their audit events."""
    p, ae = t.persons, t.audit_events
    covered = _covered_signings(x, span, need)
    return (select(covered.c.id, covered.c.case_id, covered.c.person_id, covered.c.recorded_at, covered.c.secs,
                   covered.c.n, p.c.code, p.c.name, ae.c.seq)
            .join(p, p.c.id == covered.c.person_id).outerjoin(ae, step_event(ae, covered))
            .where(covered.c.cover.isnot(None))
            .order_by(covered.c.person_id, covered.c.secs, covered.c.id, ae.c.seq))


def _covered_signings(x: Query, span: int, need: int):
    s, c, ae = t.steps, t.cases, t.audit_events
    batch = select(func.max(ae.c.detail["batch"].as_string())).where(step_event(ae, s)).scalar_subquery()
    acts = (select(s.c.id, s.c.case_id, s.c.person_id, s.c.procedure_id, s.c.step_key, s.c.recorded_at,
                   x.epoch(s.c.recorded_at).label("secs"),
                   func.row_number().over(partition_by=(s.c.person_id, func.coalesce(batch, cast(s.c.id, String))),
                                          order_by=s.c.id).label("in_act"))
            .join(c, c.c.id == s.c.case_id)
            .where(x.signing_acts(s))).cte("signing_acts")
    signed = select(acts).where(acts.c.in_act == 1).cte("signed")     # one row per act: a list counts once
    lagged = select(signed, func.lag(signed.c.secs).over(
        partition_by=(signed.c.person_id, signed.c.case_id), order_by=(signed.c.secs, signed.c.id)).label("prev")
    ).cte("signed_lag")
    kept = select(lagged).where(or_(lagged.c.prev.is_(None), lagged.c.secs - lagged.c.prev > span)).cte("signed_once")
    counted = select(kept, func.count().over(partition_by=kept.c.person_id, order_by=kept.c.secs,
                                             range_=(0, span)).label("n")).cte("signed_windows")
    return select(counted, func.max(case((counted.c.n >= need, counted.c.secs))).over(
        partition_by=counted.c.person_id, order_by=counted.c.secs, range_=(-span, 0)).label("cover")
    ).cte("signed_bursts")


def _add_to_burst(burst: dict, r, span: int, need: int) -> None:
    if r.n >= need:
        burst["end"] = max(burst["end"], r.secs + span)
    burst["last"] = r.recorded_at
    if r.id != burst["step"]:          # one row per step and event: count the step once
        burst["step"], burst["count"] = r.id, burst["count"] + 1
        if len(burst["cases"]) < LIST_LIMIT:
            burst["cases"].add(r.case_id)
    if r.seq is not None and len(burst["seqs"]) < LIST_LIMIT:
        burst["seqs"].add(r.seq)


def _burst_flag(x: Query, burst: dict) -> Flag:
    cases = sorted(burst["cases"])
    detail = {"count": burst["count"], "from": x.local_text(burst["first"]), "to": x.local_text(burst["last"]),
              "minutes": x.insp.burst.minutes, "threshold": x.insp.burst.count, "cases": cases}
    if burst["count"] > len(cases) or len(burst["seqs"]) >= LIST_LIMIT:
        detail["truncated"] = True          # only the first LIST_LIMIT cases and events are listed
    return Flag("signoff_burst", "detail", None, None, None, burst["person"], detail, tuple(sorted(burst["seqs"])))
