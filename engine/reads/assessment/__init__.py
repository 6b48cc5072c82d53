"""The assessment (考核, DOMAIN §8): for a region (village up to province) and a year, every figure
the province scores a county on, computed from the case data with one aggregate query per figure.

`assessment(app, actor, region, period)` returns plain data (JSON-ready): households and persons by
stage, exits against the year's plan and per month (households imported as exited in the year count in
its total, `imported`, and in no month), poverty incidence per village, the sample-check
rates and each county's exit gate, industry coverage, funds per county, overdue work by unit and
person, rectification items, each county's score and the ranking, and each city's result (the
average of its counties). What the engine does not record is said so ("not_recorded"), never guessed;
a county's incidence needs the population of every village it has (villages_unrecorded: how many
lack one), else it is None, not a rate over the villages that have one.
"""
from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.deadline_rules import aware, month_spans
from engine.domain.errors import BadInput
from engine.domain.exit_years import FIRST_EXIT_YEAR
from engine.domain.regions import LEVEL_RANK, check_code, covers, level_of, prefix, province_of
from engine.reads import funds as fund_figures
from engine.reads.standing import standings
from engine.reads.indicators import coverage_target, industry_coverage, percent, share
from engine.services.org import require_reader

from . import figures as fig
from .score import (NOT_APPLICABLE, PARTS, Samples, capped, city_results, gate, ranked, ratio,
                    samples_by_county, score, under_limit)

CHILD = {"country": "province", "province": "city", "city": "county", "county": "township", "township": "village"}
NOT_RECORDED = "not_recorded"
__all__ = ["assessment", "parse_period", "top_regions", "PARTS", "NOT_RECORDED"]


def parse_period(period: str | int | None, today: date) -> int:
    """A period is a calendar year (YYYY) from 2013, when 精准扶贫 began (no year before it has anything
    to assess), to this one (a year to come has no figures yet: it read as this year's); none: this year."""
    if period is None or str(period).strip() == "":
        return today.year
    text = str(period).strip()
    if not (len(text) == 4 and (text.isascii() and text.isdigit()) and FIRST_EXIT_YEAR <= int(text) <= today.year):
        raise BadInput("assess.bad_period", period=text[:20], first=FIRST_EXIT_YEAR, last=today.year)
    return int(text)


def top_regions(actor: Actor) -> list[str]:
    """The reader's jurisdictions that no other of theirs covers, widest first."""
    mine = sorted({a.region_code for a in actor.assignments}, key=lambda code: (len(prefix(code)), code))
    return [code for code in mine if not any(o != code and covers(o, code) for o in mine)]


def _scope(app: App, actor: Actor, region: str | None) -> str:
    if region is not None:
        check_code(region)
        require_reader(app, actor, region)
        return region
    tops = top_regions(actor)
    if len(tops) != 1:
        raise BadInput("assess.region_needed", regions=", ".join(tops) or "-")
    return tops[0]


def assessment(app: App, actor: Actor, region: str | None = None, period: str | int | None = None) -> dict[str, Any]:
    """Every figure of the assessment for `region` (default: the reader's jurisdiction) and `period`."""
    region = _scope(app, actor, region)
    year = parse_period(period, app.clock.today())
    with app.engine.connect() as conn:
        return _Build(app, conn, region, year).result()


class _Build:
    """One assessment, section by section, on one connection."""

    def __init__(self, app: App, conn, region: str, year: int):
        self.app, self.conn, self.region, self.year = app, conn, region, year
        self.level = level_of(region)
        today = app.clock.today()
        self.as_of = min(today, date(year, 12, 31))
        self.today, self.now = today, aware(app.clock.now())
        self.spans = month_spans(app.config, year)
        # a past year is read as it stood at its end (stages, incidence, overdue work), not as today
        self.cutoff = self.spans[-1][1] if self.as_of < today else None
        self.assessment = app.config.policy.data.assessment or {}

    def params(self, code: str) -> dict[str, Any]:
        return self.app.config.policy.params(province_of(code), self.year)

    def plan(self, code: str) -> int | None:
        plans = (self.assessment.get("exit_plan") or {}).get(code) or {}
        value = plans.get(self.year, plans.get(str(self.year)))
        return int(value) if value is not None else None

    def result(self) -> dict[str, Any]:
        villages = self.villages()
        exits = self.exits()
        counties = self.counties(villages, exits) if LEVEL_RANK.get(self.level, 9) >= LEVEL_RANK["county"] else []
        units = self.units()       # read once: the stages are their sums (a city's cases grouped once, not thrice)
        codes = [self.region] + [r["unit"] for r in units]
        return {"region": self.region, "name": fig.names(self.conn, [self.region]).get(self.region),
                "level": self.level, "period": self.year, "as_of": self.as_of.isoformat(),
                "stages": self.stages(units), "units": units, "unit_names": fig.names(self.conn, codes),
                "exits": exits["total"], "villages": villages,
                "villages_above": [v for v in villages if v["above"]],
                "villages_unrecorded": [v for v in villages if not v["recorded"]], "counties": ranked(counties),
                "cities": self.cities(counties), "overdue": fig.overdue(self.conn, self.region, self.now, self.cutoff),
                "rectification": self.rectification_total(),
                "medical_reimbursement": {"status": NOT_RECORDED},
                "weights": dict(self.assessment.get("weights") or {})}

    # --- households, exits -------------------------------------------------------------------

    def stages(self, units: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The region's households and persons by stage: the sums of its `units` (by_stage per child
        region), read on their own only for a region with no child level (a village)."""
        order = {s: i for i, s in enumerate(standings(self.app.config.workflows["household"].stages))}
        if CHILD.get(self.level):
            summed: dict[str, dict[str, Any]] = {}
            for r in units:
                row = summed.setdefault(r["stage"], {"unit": None, "stage": r["stage"], "households": 0, "persons": 0})
                row["households"] += r["households"]
                row["persons"] += r["persons"]
            rows = list(summed.values())
        else:
            rows = fig.by_stage(self.conn, self.region, None, self.cutoff)
        return sorted(rows, key=lambda r: (order.get(r["stage"], len(order)), r["stage"]))

    def units(self) -> list[dict[str, Any]]:
        child = CHILD.get(self.level)
        return fig.by_stage(self.conn, self.region, child, self.cutoff) if child else []

    def exits(self) -> dict[str, Any]:
        """The year's exits: per month those of the exit procedure; `imported` those imported as exited
        in the year (no month: in the year's total and each unit's, not in a month's or the curve's)."""
        level = "county" if LEVEL_RANK.get(self.level, 9) >= LEVEL_RANK["county"] else self.level
        monthly = fig.exits_by_month(self.conn, self.region, self.spans, level)
        by_unit = {r["unit"]: {**r, "imported": 0} for r in monthly}
        for r in fig.imported_exits(self.conn, self.region, self.year, level):
            row = by_unit.setdefault(r["unit"], {"unit": r["unit"], "persons": 0, "months": [0] * 12, "imported": 0})
            row["imported"], row["persons"] = r["households"], row["persons"] + r["persons"]
        rows = list(by_unit.values())
        months = [sum(r["months"][i] for r in rows) for i in range(12)]
        imported = sum(r["imported"] for r in rows)
        households, plan = sum(months) + imported, self.plan(self.region)
        total = {"households": households, "persons": sum(r["persons"] for r in rows), "months": months,
                 "imported": imported, "cumulative": [sum(months[:i + 1]) for i in range(12)], "plan": plan,
                 "progress_pct": percent(capped(ratio(households, plan)))}
        return {"total": total, "by_unit": by_unit}

    # --- villages ----------------------------------------------------------------------------

    def villages(self) -> list[dict[str, Any]]:
        self.persons = fig.village_persons(self.conn, self.region, self.cutoff)
        self.populations = fig.village_populations(self.conn, self.region)
        codes = sorted(set(self.persons) | set(self.populations))
        names = fig.names(self.conn, codes)
        return [self.village(code, names.get(code)) for code in codes]

    def village(self, code: str, name: str | None) -> dict[str, Any]:
        poor = self.persons.get(code, {}).get("poor", 0)
        population = self.populations.get(code)
        threshold = share(self.params(code)["village_incidence_threshold"])
        rate = ratio(poor, population)
        return {"code": code, "name": name, "poor_persons": poor, "population": population,
                "incidence_pct": percent(rate), "threshold_pct": percent(threshold),
                # None: not known (no population recorded), neither above nor below its threshold
                "above": None if rate is None else rate >= threshold, "recorded": rate is not None}

    # --- counties ----------------------------------------------------------------------------

    def counties(self, villages: list[dict[str, Any]], exits: dict[str, Any]) -> list[dict[str, Any]]:
        counties = fig.regions_of(self.conn, self.region, "county")
        samples = samples_by_county(fig.sample_counts(self.conn, self.region, self.year),
                                    self.persons, self.populations)
        coverage = {r.region: r for r in industry_coverage(self.conn, [self.region], lambda code: coverage_target(
            self.params(code).get("industry_coverage_target"), self.year)) if r.level == "county"}
        funds = {r["code"]: r for r in fund_figures._rollup(
            self.conn, fund_figures._projects(self.as_of, self.region), "county")}
        rect = {r.pop("county"): r for r in fig.rectification(self.conn, self.region, self.as_of, self.cutoff)}
        context = (villages, exits["by_unit"], samples, coverage, funds, rect)
        return [self.county(code, name, *context) for code, name in counties.items()]

    def county(self, code, name, villages, exits, samples, coverage, funds, rect) -> dict[str, Any]:
        mine = [v for v in villages if v["code"].startswith(code[:6])]
        recorded = [v for v in mine if v["recorded"]]
        unrecorded = len(mine) - len(recorded)       # a village without its population: no county rate
        poor = sum(v["poor_persons"] for v in recorded)
        incidence = None if unrecorded else ratio(poor, sum(v["population"] for v in recorded))
        s = samples.get(code)
        limits = self.params(code)["county_exit_gate"]
        exited = exits.get(code, {})
        row = {"code": code, "name": name, "exits": sum(exited.get("months", [])) + exited.get("imported", 0),
               "plan": self.plan(code),
               "incidence_pct": percent(incidence), "villages": len(mine), "villages_unrecorded": unrecorded,
               "villages_above": sum(1 for v in recorded if v["above"]),
               "samples": (s or Samples(code)).to_dict(), "gate": gate(incidence, s, limits),
               "coverage": _coverage(coverage.get(code)), "funds": _funds(funds.get(code)),
               "rectification": rect.get(code, {"open": 0, "overdue": 0, "closed": 0})}
        parts = self.parts(row, s, limits, coverage.get(code), funds.get(code))
        return {**row, **score(parts, self.assessment.get("weights") or {p: 1 for p in PARTS})}

    def parts(self, row, s: Samples | None, limits, coverage, funds) -> dict[str, Fraction | str | None]:
        """Each part 0..1; None when its figures are not (wholly) recorded, NOT_APPLICABLE when there is
        nothing to measure (no problem items: none to close, which is no 100% closed)."""
        s = s or Samples(row["code"])
        rect = row["rectification"]
        items = rect["open"] + rect["closed"]
        target = coverage.target if coverage else None
        cov = coverage.rate if coverage else None
        villages = None if row["villages_unrecorded"] else row["villages"]
        return {"exit_progress": capped(ratio(row["exits"], row["plan"])),
                "incidence": ratio(row["villages"] - row["villages_above"], villages),
                "wrong_exit": under_limit(s.wrong_exit_rate, share(limits["wrong_exit_rate"])),
                "missed": under_limit(s.missed_rate, share(limits["missed_rate"])),
                "approval": s.approval_rate,
                "coverage": capped(cov / target) if cov is not None and target else cov,
                "disbursement": Fraction(funds["rate"]) if funds and funds["rate"] is not None else None,
                "rectification": ratio(rect["closed"], items) if items else NOT_APPLICABLE}

    def cities(self, counties: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if LEVEL_RANK.get(self.level, 9) < LEVEL_RANK["city"]:
            return []
        return city_results(counties, fig.regions_of(self.conn, self.region, "city"))

    def rectification_total(self) -> dict[str, int]:
        rows = fig.rectification(self.conn, self.region, self.as_of, self.cutoff)
        return {k: sum(r[k] for r in rows) for k in ("open", "overdue", "closed")}


def _coverage(row) -> dict[str, Any]:
    if row is None:
        return {"households": 0, "covered": 0, "coverage_pct": None, "target_pct": None}
    return {"households": row.households, "covered": row.covered, "coverage_pct": percent(row.rate),
            "target_pct": percent(row.target)}


def _funds(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        return {"projects": 0, "allocated": "0.00", "disbursed": "0.00", "carry_over": "0.00", "rate_pct": None,
                "projects_behind": 0}
    rate = row["rate"]
    return {"projects": row["projects"], "allocated": str(row["allocated"]), "disbursed": str(row["disbursed"]),
            "carry_over": str(row["carry_over"]), "rate_pct": float(rate * 100) if rate is not None else None,
            "projects_behind": row["projects_behind"]}


