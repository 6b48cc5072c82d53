"""Who has visited (四个不摘: a pairing cadre keeps visiting, at least once in the policy's interval,
`visit_interval_days`): each pairing cadre of a region with their households, each household's last visit
(the day, who made it) and whether it is overdue, the longest unvisited first, a page at a time. A
household's last visit is read by the visits' (case, day) index, one household at a time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterator

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, NotFound, render_stored
from engine.domain.regions import province_of
from engine.reads.case_lists import region_range
from engine.reads.case_record import person_names, visits_shown
from engine.services.org import require_reader

VISITED_STAGES = ("assisted", "exited", "consolidated", "ordinary")   # the stages a household is visited in
# (an ordinary household: one monitored, whose risk elimination asks for a visit)
PAGE = 100


@dataclass(frozen=True)
class VisitFilter:
    region: str
    overdue: bool = False

    @classmethod
    def asked(cls, actor: Actor, region: str | None, overdue: bool = False) -> "VisitFilter":
        """The filter a reader asks for: their first post's region when they name none."""
        code = (region or "").strip()[:12] or (actor.assignments[0].region_code if actor.assignments else "")
        return cls(code, overdue)


def visit_interval(app: App, region: str, on: date) -> int:
    """The most days a paired household may go unvisited (the region's province's policy)."""
    return int(app.config.policy.params(province_of(region), on.year)["visit_interval_days"])


def _query(app: App, where: VisitFilter, today: date, interval: int):
    p, c = t.pairings.c, t.cases.c
    v = t.monitoring_visits
    last = aliased(v, name="last_visit")
    cadre, visitor = aliased(t.persons, name="cadre"), aliased(t.persons, name="visitor")
    last_id = (select(v.c.id).where(v.c.case_id == p.case_id, t.visit_in_force(v))
               .order_by(v.c.visit_date.desc(), v.c.id.desc()).limit(1).correlate(t.pairings).scalar_subquery())
    since = func.coalesce(last.c.visit_date, p.start_date).label("since")
    q = (select(p.id.label("pairing"), p.kind, p.start_date, cadre.c.code.label("cadre_code"),
                cadre.c.name.label("cadre_name"), c.id.label("case_id"), c.title, c.region_code,
                last.c.visit_date.label("last_visit"), visitor.c.name.label("visitor_name"),
                visitor.c.code.label("visitor_code"), since)
         .select_from(t.pairings)
         .join(t.cases, c.id == p.case_id)
         .join(cadre, cadre.c.id == p.person_id)
         .outerjoin(last, last.c.id == last_id)
         .outerjoin(visitor, visitor.c.id == last.c.person_id)
         .where(p.end_date.is_(None), c.stage.in_(VISITED_STAGES)))
    scope = region_range(where.region)
    if scope is not None:
        q = q.where(scope)
    if where.overdue:
        q = q.where(since < today - timedelta(days=interval))
    return q, since, p.id


def _rows(app: App, rows, today: date, interval: int, lang: str) -> list[dict[str, Any]]:
    cut = today - timedelta(days=interval)
    return [{"case": r.case_id, "title": render_stored(app.config, r.title, lang), "region": r.region_code,
             "cadre": r.cadre_code, "cadre_name": r.cadre_name, "kind": r.kind, "paired_since": r.start_date,
             "last_visit": r.last_visit, "visitor": r.visitor_code, "visitor_name": r.visitor_name,
             "days": (today - r.since).days, "overdue": r.since < cut} for r in rows]


def _checked(app: App, actor: Actor, where: VisitFilter) -> None:
    with app.engine.connect() as conn:
        known = conn.execute(select(t.regions.c.code).where(t.regions.c.code == where.region)).first()
    if known is None:
        raise NotFound("region.unknown", code=where.region[:12])
    require_reader(app, actor, where.region)


def visit_page(app: App, actor: Actor, where: VisitFilter, after: str | None = None, size: int = PAGE,
               lang: str = "zh", count: bool = True) -> dict[str, Any]:
    """A page of the region's pairings, the longest unvisited first (never visited: since paired), from
    after `after` (the cursor a page gives as `next`): {rows, next, interval, today, overdue (how many
    in all, whatever the filter)}."""
    _checked(app, actor, where)
    today = app.clock.today()
    interval = visit_interval(app, where.region, today)
    q, since, pid = _query(app, where, today, interval)
    if after:
        try:
            day, _, last_pid = after.partition("~")
            at, last = date.fromisoformat(day), int(last_pid)
        except ValueError:
            raise BadInput("visits.bad_after", after=after[:30]) from None
        q = q.where(or_(since > at, and_(since == at, pid > last)))
    counted, _, _ = _query(app, VisitFilter(where.region, True), today, interval)
    with app.engine.connect() as conn:
        found = conn.execute(q.order_by(since, pid).limit(size + 1)).all()
        overdue = conn.execute(select(func.count()).select_from(counted.subquery())).scalar() if count else None
    more = len(found) > size
    found = found[:size]
    return {"rows": _rows(app, found, today, interval, lang), "interval": interval, "today": today,
            "overdue": overdue,
            "next": f"{found[-1].since.isoformat()}~{found[-1].pairing}" if more else None}


def case_visits(app: App, actor: Actor, case_id: int) -> dict[str, Any]:
    """A household's visits as its record lists them (case_record.visits_shown: by their day, each with the
    measure it concerns, and, corrected or withdrawn, by which and why), the case in the reader's reach:
    {case, visits}. One household's visits are few (a quarter's or a month's over its years): read whole."""
    with app.engine.connect() as conn:
        case = conn.execute(select(t.cases.c.id, t.cases.c.region_code).where(t.cases.c.id == case_id)).first()
        if case is None:
            raise NotFound("case.unknown", case=case_id)
        require_reader(app, actor, case.region_code)
        v = t.monitoring_visits
        visits = conn.execute(select(v, t.visit_in_force().label("in_force")).where(v.c.case_id == case_id)
                              .order_by(v.c.id)).all()
        wanted = sorted({r.measure_id for r in visits if r.measure_id is not None})
        measures = conn.execute(select(t.measures).where(t.measures.c.id.in_(wanted))).all() if wanted else []
        names = person_names(conn, [r.person_id for r in visits])
    return {"case": case_id, "visits": visits_shown(visits, measures, lambda pid: names.get(pid, ("?", "?"))[0],
                                                     lambda pid: names.get(pid, ("?", "?"))[1])}


def visit_rows(app: App, actor: Actor, where: VisitFilter, lang: str = "zh", batch: int = 1000) -> Iterator[dict]:
    """Every row of the region's pairings as visit_page orders them, read `batch` at a time (a download);
    a region out of reach refused at once, before any row."""
    _checked(app, actor, where)
    return _batches(app, actor, where, lang, batch)


def _batches(app: App, actor: Actor, where: VisitFilter, lang: str, batch: int) -> Iterator[dict]:
    after = None
    while True:
        found = visit_page(app, actor, where, after, batch, lang, count=False)
        yield from found["rows"]
        after = found["next"]
        if after is None:
            return
