"""The assessment's figures as SQL aggregates over one region (DOMAIN §8): each a GROUP BY on a
prefix of the 12-digit region code (the prefix is the level), never the cases loaded one by one.

Every function takes an open connection and a region code and returns plain rows (dicts)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal_column, select, true

from engine.adapters import tables as t
from engine.domain.regions import LEVEL_DIGITS
from engine.reads.indicators import POOR_STAGES, REGISTERED_STAGES
from engine.reads.queries import region_range
from engine.services.sampling import EXITED_STAGES

c, m, p = t.cases.c, t.household_members.c, t.procedures.c
NONE = "-"
_NONE = literal_column(f"'{NONE}'")


def key_of(column, level: str):
    """The code of the region of `level` holding `column`'s region, as its prefix (e.g. 6 digits)."""
    return func.substr(column, literal_column("1"), literal_column(str(LEVEL_DIGITS[level])))


def full(code: str) -> str:
    """A prefix back to a 12-digit code."""
    return str(code).ljust(12, "0")


def within(region: str, column=c.region_code) -> list:
    rng = region_range(region, column)
    return [] if rng is None else [rng]


def _member_join():
    return t.cases.outerjoin(t.household_members, and_(m.case_id == c.id, m.active == true()))


# --- households and persons by stage -------------------------------------------------------------

def by_stage(conn, region: str, level: str | None) -> list[dict[str, Any]]:
    """[{unit, stage, households, persons}]: per region of `level` (None: the whole region)."""
    keys = [key_of(c.region_code, level).label("unit")] if level else []
    q = (select(*keys, c.stage, func.count(func.distinct(c.id)).label("households"), func.count(m.id).label("persons"))
         .select_from(_member_join()).where(c.kind == "household", *within(region))
         .group_by(*keys, c.stage).order_by(*keys, c.stage))
    return [{"unit": full(r.unit) if level else None, "stage": r.stage, "households": r.households,
             "persons": r.persons} for r in conn.execute(q)]


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


# --- villages: poor and registered persons, population -------------------------------------------

def village_persons(conn, region: str) -> dict[str, dict[str, int]]:
    """village code -> {poor (not yet exited), registered (every registered poor person)}."""
    poor = func.sum(case((c.stage.in_(POOR_STAGES), 1), else_=0)).label("poor")
    q = (select(c.region_code, poor, func.count(m.id).label("registered"))
         .select_from(t.cases.join(t.household_members, and_(m.case_id == c.id, m.active == true())))
         .where(c.kind == "household", c.stage.in_(REGISTERED_STAGES), *within(region)).group_by(c.region_code))
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

def overdue(conn, region: str, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """{unit: [{key, count}], person: [{key, name, count}]}: open deadlines past due, most first."""
    dl = t.deadlines.c
    where = [dl.status == "open", dl.due_at <= now, *within(region, dl.region_code)]
    unit = func.coalesce(dl.owner_role, _NONE).label("key")
    units = conn.execute(select(unit, func.count().label("n")).where(*where).group_by(unit)).all()
    person = func.coalesce(t.persons.c.code, _NONE).label("key")
    people = conn.execute(select(person, func.max(t.persons.c.name).label("name"), func.count().label("n"))
                          .select_from(t.deadlines.outerjoin(t.persons, t.persons.c.id == dl.owner_id))
                          .where(*where).group_by(person)).all()
    order = lambda rows: sorted(rows, key=lambda r: (-r["count"], r["key"]))   # noqa: E731
    return {"unit": order([{"key": r.key, "count": r.n} for r in units]),
            "person": order([{"key": r.key, "name": r.name, "count": r.n} for r in people])}


def rectification(conn, region: str, today: date) -> list[dict[str, Any]]:
    """[{county, open, overdue, closed}] of the problem items per county."""
    county = key_of(c.region_code, "county").label("county")
    closed = c.stage == "closed"
    late = and_(~closed, c.attrs["due_on"].as_string() < today.isoformat())
    q = (select(county, func.sum(case((closed, 0), else_=1)).label("open"),
                func.sum(case((late, 1), else_=0)).label("overdue"),
                func.sum(case((closed, 1), else_=0)).label("closed"))
         .where(c.kind == "problem", *within(region)).group_by(county).order_by(county))
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


def exited_households(conn, region: str) -> int:
    q = select(func.count()).select_from(t.cases).where(c.kind == "household", c.stage.in_(EXITED_STAGES),
                                                        *within(region))
    return int(conn.execute(q).scalar() or 0)
