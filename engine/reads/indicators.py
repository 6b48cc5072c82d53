"""Figures computed across cases (DOMAIN.md §8), each with one aggregate query at the moment it is asked.

- poverty incidence of a village (贫困发生率): registered poor persons not yet exited — the current
  members of the village's household cases in `identified` or `assisted` — over the village's rural
  registered population (户籍人口, kept on its village case);
- industry coverage (产业带动率): the share of registered poor households (identified, assisted,
  exited, consolidated) with at least one industry measure, or listed as beneficiaries of an industry
  fund project that has been funded, per village and rolled up per county.

Shares are compared as exact fractions: 4 persons of 200 is 2%, which is not below a 2% threshold.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import ceil
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, or_, select, true
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.repository import measure_in_force
from engine.domain.regions import ancestor, prefix

POOR_STAGES = ("identified", "assisted")                            # registered, not yet exited
REGISTERED_STAGES = ("identified", "assisted", "exited", "consolidated")   # registered poor households
INDUSTRY = "industry"                      # measure category and project category (attrs["category"])
# A project drives its beneficiaries once it is funded: proposed or merely in the library, it has
# done nothing for them yet.
DRIVING_PROJECT_STAGES = ("assisted", "exited", "consolidated")


def share(value: Any) -> Fraction:
    """A configured share (0.02) as the exact fraction it was written as (1/50)."""
    return Fraction(str(value))


def percent(value: Fraction | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value) * 100, digits)


# --- poverty incidence ------------------------------------------------------------------------

_members = t.household_members
_POOR_OF_VILLAGE = (
    select(func.count(_members.c.id), func.count(func.distinct(t.cases.c.id)))
    .select_from(t.cases.join(_members, and_(_members.c.case_id == t.cases.c.id, _members.c.active == true())))
    .where(t.cases.c.kind == "household", t.cases.c.stage.in_(POOR_STAGES),
           t.cases.c.region_code == bindparam("village")))
_persons = func.count(_members.c.id).label("persons")
_POOR_HOUSEHOLDS = (
    select(t.cases.c.id, t.cases.c.stage, t.cases.c.title,
           func.max(case((_members.c.relation == "head", _members.c.name))).label("head"), _persons)
    .select_from(t.cases.join(_members, and_(_members.c.case_id == t.cases.c.id, _members.c.active == true())))
    .where(t.cases.c.kind == "household", t.cases.c.stage.in_(POOR_STAGES),
           t.cases.c.region_code == bindparam("village"))
    .group_by(t.cases.c.id, t.cases.c.stage, t.cases.c.title)
    .order_by(_persons.desc(), t.cases.c.id).limit(bindparam("limit")).offset(bindparam("offset")))


@dataclass(frozen=True)
class Incidence:
    village: str
    poor_persons: int
    households: int
    population: int | None
    threshold: Fraction

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.poor_persons, self.population) if self.population else None

    @property
    def below(self) -> bool:
        """Below the threshold: what an exit needs (at the threshold is not below)."""
        return self.rate is not None and self.rate < self.threshold

    @property
    def persons_to_exit(self) -> int:
        """How many of the poor persons must exit before the incidence is below the threshold."""
        if not self.population:
            return self.poor_persons
        allowed = ceil(self.threshold * self.population) - 1   # the most poor persons still below it
        return max(0, self.poor_persons - max(allowed, 0))

    def to_dict(self) -> dict[str, Any]:
        return {"village": self.village, "poor_persons": self.poor_persons, "households": self.households,
                "population": self.population, "incidence_pct": percent(self.rate),
                "threshold_pct": percent(self.threshold), "below_threshold": self.below,
                "persons_to_exit": self.persons_to_exit}


def village_incidence(conn: Connection, village: str, population: int | None, threshold: Any) -> Incidence:
    """The incidence now, from the live household cases (one aggregate query)."""
    persons, households = conn.execute(_POOR_OF_VILLAGE, {"village": village}).one()
    return Incidence(village, int(persons or 0), int(households or 0), population, share(threshold))


def poor_households(conn: Connection, village: str, limit: int = 20, offset: int = 0) -> list[dict[str, Any]]:
    """The village's households not yet exited, largest first, with their head and current members
    counted: at most `limit` of them (past the first `offset`), chosen by the database (a big village
    is never loaded whole)."""
    return [{"case": r.id, "stage": r.stage, "head": r.head or r.title, "persons": int(r.persons)}
            for r in conn.execute(_POOR_HOUSEHOLDS, {"village": village, "limit": limit, "offset": offset})]


def poor_households_page(app, actor, case_id: int, page: int, size: int = 20) -> dict[str, Any]:
    """One page (from 1) of a poor village's households not yet exited, as `poor_households` orders
    them, for its case page: {rows, page, more}. The case must be a village the actor may read."""
    from engine.reads.case_record import require_case_reader
    village = require_case_reader(app, actor, case_id)
    with app.engine.connect() as conn:
        rows = poor_households(conn, village, size + 1, (page - 1) * size)
    return {"rows": rows[:size], "page": page, "more": len(rows) > size}


# --- industry coverage ------------------------------------------------------------------------

_project = t.cases.alias("project")
_INDUSTRY_MEASURE = exists().where(t.measures.c.case_id == t.cases.c.id, t.measures.c.category == INDUSTRY,
                                   measure_in_force())      # of the plan in force, not one proposed or replaced
_INDUSTRY_PROJECT = exists().where(
    t.project_beneficiaries.c.case_id == t.cases.c.id, _project.c.id == t.project_beneficiaries.c.project_id,
    _project.c.kind == "project", _project.c.stage.in_(DRIVING_PROJECT_STAGES),
    _project.c.attrs["category"].as_string() == INDUSTRY)
_COVERED = func.sum(case((or_(_INDUSTRY_MEASURE, _INDUSTRY_PROJECT), 1), else_=0))


def _coverage_query(regions: list[str]):
    """One GROUP BY over the registered poor households of `regions` (codes; the root means all)."""
    conditions = [t.cases.c.kind == "household", t.cases.c.stage.in_(REGISTERED_STAGES)]
    ranges = []
    for code in regions:
        p = prefix(code)
        if not p:
            ranges = []
            break
        ranges.append(and_(t.cases.c.region_code >= p, t.cases.c.region_code < p[:-1] + chr(ord(p[-1]) + 1)))
    if ranges:
        conditions.append(or_(*ranges))
    return (select(t.cases.c.region_code, func.count().label("households"), _COVERED.label("covered"))
            .where(*conditions).group_by(t.cases.c.region_code).order_by(t.cases.c.region_code))


@dataclass(frozen=True)
class Coverage:
    region: str
    level: str                 # village or county
    households: int
    covered: int
    target: Fraction | None
    target_year: int | None

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.covered, self.households) if self.households else None

    @property
    def households_short(self) -> int | None:
        """How many more households an industry measure or project must reach to meet the target."""
        if self.target is None:
            return None
        return max(0, ceil(self.target * self.households) - self.covered)

    @property
    def gap_points(self) -> float | None:
        """Percentage points below the target (0 when met)."""
        if self.target is None or self.rate is None:
            return None
        return max(0.0, round(float(self.target - self.rate) * 100, 2))

    def to_dict(self, names: dict[str, str] | None = None) -> dict[str, Any]:
        return {"region": self.region, "name": (names or {}).get(self.region), "level": self.level,
                "households": self.households, "covered": self.covered, "coverage_pct": percent(self.rate),
                "target_pct": percent(self.target), "target_year": self.target_year,
                "gap_points": self.gap_points, "households_short": self.households_short}


def coverage_target(targets: dict | None, year: int) -> tuple[Fraction | None, int | None]:
    """The target of `year`, or of the latest configured year before it; (None, None) if none."""
    known = [int(y) for y in (targets or {}) if int(y) <= year]
    if not known:
        return None, None
    chosen = max(known)
    value = targets.get(chosen, targets.get(str(chosen)))
    return share(value), chosen


def industry_coverage(conn: Connection, regions: list[str], target_of) -> list[Coverage]:
    """Village rows (region order), then one row per county summing its villages.

    `target_of(region code)` gives (target, year) for a row: targets are per province and year.
    """
    villages: list[Coverage] = []
    counties: dict[str, list[int]] = {}
    for r in conn.execute(_coverage_query(regions)):
        covered = int(r.covered or 0)
        villages.append(Coverage(r.region_code, "village", int(r.households), covered, *target_of(r.region_code)))
        totals = counties.setdefault(ancestor(r.region_code, "county"), [0, 0])
        totals[0] += int(r.households)
        totals[1] += covered
    return villages + [Coverage(code, "county", h, c, *target_of(code)) for code, (h, c) in sorted(counties.items())]


def coverage_report(app, actor, region: str | None = None, year: int | None = None) -> list[dict[str, Any]]:
    """`report coverage`: industry coverage per village and per county within `region` (default: the
    reader's jurisdiction), against the target of each row's province for `year` (default this year)."""
    from engine.services.org import require_reader
    from engine.domain.regions import check_code, covers, province_of
    year = year or app.clock.today().year
    if region:
        check_code(region)
        require_reader(app, actor, region)
        regions = [region]
    else:
        mine = sorted({a.region_code for a in actor.assignments}, key=lambda c: (len(prefix(c)), c))
        regions = [c for i, c in enumerate(mine) if not any(covers(o, c) for o in mine[:i])]
        if not regions:
            return []
    policy = app.config.policy
    with app.engine.connect() as conn:
        rows = industry_coverage(conn, regions, lambda code: coverage_target(
            policy.params(province_of(code), year).get("industry_coverage_target"), year))
        # A county row only where the whole county was asked for (not the sum of one township's villages).
        rows = [r for r in rows if r.level == "village" or any(covers(q, r.region) for q in regions)]
        codes = [r.region for r in rows]
        names = dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code.in_(codes)))
                     .all()) if codes else {}
    return [r.to_dict(names) for r in rows]
