"""The assessment's figures as SQL aggregates over one region (DOMAIN §8): each a GROUP BY on a
prefix of the 12-digit region code (the prefix is the level), never the cases loaded one by one.

Every function takes an open connection and a region code and returns plain rows (dicts)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal_column, or_, select, true

from engine.adapters import tables as t
from engine.domain.deadline_rules import aware
from engine.domain.regions import LEVEL_DIGITS
from engine.reads.exits import imported_in
from engine.reads.indicators import POOR_STAGES, REGISTERED_STAGES
from engine.reads.case_lists import region_range
from engine.reads.standing import standing_of

c, m, p = t.cases.c, t.household_members.c, t.procedures.c
NONE = "-"


def key_of(column, level: str):
    """The code of the region of `level` holding `column`'s region, as its prefix (e.g. 6 digits)."""
    return func.substr(column, literal_column("1"), literal_column(str(LEVEL_DIGITS[level])))


def full(code: str) -> str:
    """A prefix back to a 12-digit code."""
    return str(code).ljust(12, "0")


def within(region: str, column=c.region_code) -> list:
    rng = region_range(region, column)
    return [] if rng is None else [rng]


# --- a past year's stages ------------------------------------------------------------------------

def cases_at(region: str, cutoff: datetime | None, kind: str):
    """The cases of `kind` in `region` with the stage each was in: now (cutoff None), or just before
    `cutoff` (a past year's assessment, as of its last day): the stage the last procedure completed
    before it moved the case to (one that moves no case, monitoring, is passed over), else the stage
    the case's first procedure started from, else the case's own (a stage changes only by a
    procedure). Cases registered after the cutoff are left out. A household applicant whose
    identification was rejected, with no procedure open, stands apart as not identified (standing).
    A subquery of (id, region_code, stage, attrs), each case's procedures read by their index; attrs
    are today's (persons too: members carry no dates)."""
    if cutoff is None:
        stage = standing_of(c.id, c.stage, c.open_procedure_id) if kind == "household" else c.stage
        return (select(c.id, c.region_code, stage.label("stage"), c.attrs).where(c.kind == kind, *within(region))
                .subquery(f"{kind}_cases"))
    last, first = t.procedures.alias("last_completed"), t.procedures.alias("first_started")
    moved = (select(last.c.to_stage).where(last.c.case_id == c.id, last.c.status == "completed",
                                           last.c.to_stage.isnot(None), last.c.ended_at < cutoff)
             .order_by(last.c.ended_at.desc(), last.c.id.desc()).limit(1).scalar_subquery())
    started = select(first.c.from_stage).where(first.c.case_id == c.id).order_by(first.c.id).limit(1).scalar_subquery()
    then = (select(c.id, c.region_code, func.coalesce(moved, started, c.stage).label("stage"), c.attrs)
            .where(c.kind == kind, c.created_at < cutoff, *within(region)).subquery(f"{kind}_then"))
    stage = standing_of(then.c.id, then.c.stage, cutoff=cutoff) if kind == "household" else then.c.stage
    return select(then.c.id, then.c.region_code, stage.label("stage"), then.c.attrs).subquery(f"{kind}_cases")


# --- households and persons by stage -------------------------------------------------------------

def by_stage(conn, region: str, level: str | None, cutoff: datetime | None = None) -> list[dict[str, Any]]:
    """[{unit, stage, households, persons}]: per region of `level` (None: the whole region); as of
    `cutoff` for a past year (see cases_at)."""
    h = cases_at(region, cutoff, "household")
    # Each household's active members counted first (grouped by the case, in the join's order), then
    # the households summed per unit and stage: a count(DISTINCT case) over the joined members sorted
    # a city's 2,000,000 member rows (spilled to disk on PostgreSQL) where this groups 1,000,000 cases.
    each = (select(h.c.region_code, h.c.stage, func.count(m.id).label("n"))
            .select_from(h.outerjoin(t.household_members, and_(m.case_id == h.c.id, m.active == true())))
            .group_by(h.c.id, h.c.region_code, h.c.stage).subquery("household_persons"))
    keys = [key_of(each.c.region_code, level).label("unit")] if level else []
    q = (select(*keys, each.c.stage, func.count().label("households"), func.sum(each.c.n).label("persons"))
         .group_by(*keys, each.c.stage).order_by(*keys, each.c.stage))
    return [{"unit": full(r.unit) if level else None, "stage": r.stage, "households": r.households,
             "persons": int(r.persons or 0)} for r in conn.execute(q)]


# --- exits over time -----------------------------------------------------------------------------

def exits_by_month(conn, region: str, spans: list[tuple[datetime, datetime]], level: str) -> list[dict[str, Any]]:
    """[{unit, months: [count per span], persons}]: completed household exits per span, per region of `level`."""
    unit = key_of(c.region_code, level).label("unit")
    months = [func.count(func.distinct(case((and_(p.ended_at >= lo, p.ended_at < hi), p.id)))).label(f"m{i}")
              for i, (lo, hi) in enumerate(spans)]
    persons = func.count(m.id).label("persons")
    q = (select(unit, persons, *months)
         .select_from(t.procedures.join(t.cases, c.id == p.case_id)
                      .outerjoin(t.household_members, and_(m.case_id == c.id, m.active == true())))
         .where(p.to_stage == "exited", p.status == "completed", c.kind == "household",
                p.ended_at >= spans[0][0], p.ended_at < spans[-1][1], *within(region))
         .group_by(unit).order_by(unit))
    return [{"unit": full(r.unit), "persons": r.persons, "months": [int(x) for x in r[2:]]} for r in conn.execute(q)]


def imported_exits(conn, region: str, year: int, level: str) -> list[dict[str, Any]]:
    """[{unit, households, persons}]: households imported as exited in `year` (the year their registry
    noted, with no month: they count in the year, not in a month), per region of `level`."""
    unit = key_of(c.region_code, level).label("unit")
    q = (select(unit, func.count(func.distinct(c.id)).label("households"), func.count(m.id).label("persons"))
         .select_from(t.cases.outerjoin(t.household_members, and_(m.case_id == c.id, m.active == true())))
         .where(imported_in(year), *within(region)).group_by(unit).order_by(unit))
    return [{"unit": full(r.unit), "households": r.households, "persons": r.persons} for r in conn.execute(q)]


# --- villages: poor and registered persons, population -------------------------------------------

def village_persons(conn, region: str, cutoff: datetime | None = None) -> dict[str, dict[str, int]]:
    """village code -> {poor (not yet exited), registered (every registered poor person)}; as of
    `cutoff` for a past year (see cases_at)."""
    h = cases_at(region, cutoff, "household")
    poor = func.sum(case((h.c.stage.in_(POOR_STAGES), 1), else_=0)).label("poor")
    q = (select(h.c.region_code, poor, func.count(m.id).label("registered"))
         .select_from(h.join(t.household_members, and_(m.case_id == h.c.id, m.active == true())))
         .where(h.c.stage.in_(REGISTERED_STAGES)).group_by(h.c.region_code))
    return {r.region_code: {"poor": int(r.poor or 0), "registered": int(r.registered)} for r in conn.execute(q)}


def village_populations(conn, region: str) -> dict[str, int | None]:
    """village code -> its rural registered population (kept on its village case; None: not recorded)."""
    population = cast(c.attrs["population"].as_string(), Integer)
    q = select(c.region_code, population.label("population")).where(c.kind == "village", *within(region))
    return {r.region_code: r.population for r in conn.execute(q)}


# --- sample checks -------------------------------------------------------------------------------

def sample_counts(conn, region: str, year: int) -> list[dict[str, Any]]:
    """[{county, village, finding, households, persons}] of the findings of draws checking `year`'s exits."""
    f, d = t.sample_findings.c, t.sample_draws.c
    county = key_of(f.region_code, "county").label("county")
    drawn_in = d.period == year
    q = (select(county, f.region_code.label("village"), f.finding, func.count(func.distinct(f.case_id)).label("n"),
                func.sum(f.persons).label("persons"))
         .select_from(t.sample_findings.join(t.sample_draws, d.id == f.draw_id))
         .where(drawn_in, *within(region, f.region_code)).group_by(county, f.region_code, f.finding))
    return [{"county": full(r.county), "village": r.village, "finding": r.finding, "households": r.n,
             "persons": int(r.persons or 0)} for r in conn.execute(q)]


# --- overdue work, rectification --------------------------------------------------------------------

def overdue(conn, region: str, now: datetime, cutoff: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """{unit: [{key, count}], person: [{key, name, count}]}: open deadlines past due, most first; for
    a past year, those that were open and past due at `cutoff`, the end of its last day. Each is counted
    for whom it was then (`cutoff`), or this year for whom it was when it lapsed (its due time): a
    successor appointed to a leaver's post took over work already overdue, and the assessment had
    counted the leaver's lapse against him (a13 #4)."""
    dl = t.deadlines.c
    if cutoff is None:
        where = [dl.status == "open", dl.due_at <= now]
    else:
        # due by the end of the year's last day is due at `cutoff` itself (31 December's deadline ends at the
        # next midnight, office time): past due only when due before it
        where = [or_(dl.status == "open", dl.closed_at > cutoff), dl.due_at < cutoff, dl.created_at < cutoff]
    where += within(region, dl.region_code)
    return _overdue_then(conn, where, cutoff)


def _most_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (-r["count"], r["key"]))


def _overdue_then(conn, where: list, cutoff: datetime | None) -> dict[str, list[dict[str, Any]]]:
    """`overdue` counted for whom each deadline was then (owner and post at `cutoff`; None: at its due
    time, when it lapsed), not whom it moved to since (the work carried on, a leaver's handed over:
    `owner_changes`, each with the owner and post it took the work from). Counted as the rows stream:
    memory of the people, not the rows."""
    from collections import Counter
    dl = t.deadlines.c
    units, people = Counter(), Counter()
    rows = conn.execute(select(dl.owner_id, dl.owner_role, dl.owner_changes, dl.due_at).where(*where)
                        .execution_options(yield_per=5000))
    for owner, role, changes, due_at in rows:
        then = aware(cutoff or due_at)
        later = sorted((c for c in changes or () if aware(datetime.fromisoformat(c["at"])) > then),
                       key=lambda c: aware(datetime.fromisoformat(c["at"])))
        if later:            # the first change after that moment took it from whom it was then
            owner, role = later[0].get("from"), later[0].get("from_role", role)
        units[role or NONE] += 1
        people[owner] += 1
    ids = sorted(p for p in people if p is not None)
    names = {r.id: (r.code, r.name) for r in conn.execute(
        select(t.persons.c.id, t.persons.c.code, t.persons.c.name).where(t.persons.c.id.in_(ids)))} if ids else {}
    return {"unit": _most_first([{"key": k, "count": n} for k, n in units.items()]),
            "person": _most_first([{"key": names.get(p, (NONE, None))[0], "name": names.get(p, (None, None))[1], "count": n}
                             for p, n in people.items()])}


def rectification(conn, region: str, today: date, cutoff: datetime | None = None) -> list[dict[str, Any]]:
    """[{county, open, overdue, closed}] of the problem items per county; for a past year, those
    registered by its end as they stood then (`cutoff`; `today` its last day)."""
    p_ = cases_at(region, cutoff, "problem")
    county = key_of(p_.c.region_code, "county").label("county")
    closed = p_.c.stage == "closed"
    late = and_(~closed, p_.c.attrs["due_on"].as_string() < today.isoformat())
    q = (select(county, func.sum(case((closed, 0), else_=1)).label("open"),
                func.sum(case((late, 1), else_=0)).label("overdue"),
                func.sum(case((closed, 1), else_=0)).label("closed"))
         .group_by(county).order_by(county))
    return [{"county": full(r.county), "open": int(r.open or 0), "overdue": int(r.overdue or 0),
             "closed": int(r.closed or 0)} for r in conn.execute(q)]


# --- names and the regions of a level --------------------------------------------------------------

def regions_of(conn, region: str, level: str) -> dict[str, str]:
    """code -> name of the regions of `level` within `region` (the region itself when it is of that level)."""
    r = t.regions.c
    q = select(r.code, r.name).where(r.level == level, *within(region, r.code)).order_by(r.code)
    return dict(conn.execute(q).all())


def names(conn, codes) -> dict[str, str]:
    wanted = sorted({code for code in codes if code})
    if not wanted:
        return {}
    return dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code.in_(wanted))).all())


