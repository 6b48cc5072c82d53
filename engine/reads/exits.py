"""A year's household exits, as SQL (DOMAIN §8): what the sample check of a year draws from, what the
supervision figures and the assessment count.

A household exited in a year when an exit procedure of its case completed in that year (office
time), or when it was imported as exited already with that year noted (`cases.attrs.exit_year`,
engine/domain/exit_years.py). An imported exit has a year and no day: it counts in its year, never in
a month (the monthly figures leave it out and say how many they left out).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Integer, and_, case, cast, exists, func, literal_column, or_

from engine.adapters import tables as t
from engine.domain.deadline_rules import office_span
from engine.domain.exit_years import EXITED_STAGES, IMPORTED_YEAR

c, p = t.cases.c, t.procedures.c
# The year an imported household exited, as the registry it came from noted it (NULL: none noted).
IMPORTED = c.attrs[IMPORTED_YEAR].as_integer()
# The year of a household's last exit, as an export states it beside its stage (exited or
# consolidated only: a household reopened is no longer exited): its exit procedure's day, else the year
# its registry noted (known_exit_year, in SQL).
KNOWN_YEAR = case((and_(c.kind == "household", c.stage.in_(EXITED_STAGES)),
                   func.coalesce(cast(func.substr(c.attrs["exited_on"].as_string(), literal_column("1"),
                                                  literal_column("4")), Integer), IMPORTED)))


@dataclass(frozen=True)
class ExitYear:
    """A calendar year and its span in office time (from its first day to the next year's)."""
    year: int
    start: datetime
    end: datetime

    @classmethod
    def of(cls, config, year: int) -> "ExitYear":
        return cls(year, *office_span(config, date(year, 1, 1), date(year + 1, 1, 1)))


def completed_between(start: datetime, end: datetime):
    """A case (t.cases) whose exit procedure completed in [start, end): read by the procedures' case index."""
    return exists().where(p.case_id == c.id, p.to_stage == "exited", p.status == "completed",
                          p.ended_at >= start, p.ended_at < end)


def exited_in(year: ExitYear):
    """A household (t.cases) that exited in `year`: through its exit procedure, or imported so."""
    return or_(completed_between(year.start, year.end), IMPORTED == year.year)


def imported_in(year: int):
    """A household imported as exited in `year` (the year its registry noted)."""
    return and_(c.kind == "household", IMPORTED == year)
