"""Counting days: calendar days, or Chinese working days (public holidays and make-up working days).

Working days come from a year's schedule in configuration (config/deadlines.yaml `calendar.years`,
added by an office when the State Council publishes it) or else from the `chinese-calendar`
package. In a year that neither knows, only weekends are skipped and the result is marked
provisional: the caller stores and shows that mark, it is never a silent guess.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as _cc

PACKAGE = f"chinese-calendar {getattr(chinese_calendar, '__version__', '?')}"
PACKAGE_YEARS = frozenset(d.year for d in list(_cc.holidays) + list(_cc.workdays))


@dataclass(frozen=True)
class Counted:
    """A date found by counting, and whether a year on the way was unknown (weekends only)."""
    day: date
    provisional: bool = False


@dataclass
class WorkCalendar:
    years: dict = field(default_factory=dict)        # year -> config.deadlines.CalendarYear
    _cache: dict = field(default_factory=dict, repr=False)

    @cached_property
    def _configured(self) -> dict[int, tuple[frozenset, frozenset]]:
        return {y: (frozenset(c.holidays), frozenset(c.workdays)) for y, c in self.years.items()}

    def knows(self, year: int) -> bool:
        return year in self._configured or year in PACKAGE_YEARS

    def source(self, year: int) -> str:
        if year in self._configured:
            return "config"
        return PACKAGE if year in PACKAGE_YEARS else "weekends only (provisional)"

    @property
    def last_known_year(self) -> int:
        """The last year of the unbroken run of known years that contains the package's years."""
        year = max(PACKAGE_YEARS)
        while self.knows(year + 1):
            year += 1
        return year

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, was the year known)."""
        found = self._cache.get(day)
        if found is None:
            found = self._cache[day] = self._is_workday(day)
        return found

    def _is_workday(self, day: date) -> tuple[bool, bool]:
        configured = self._configured.get(day.year)
        if configured is not None:
            holidays, workdays = configured
            return (day in workdays or (day.weekday() < 5 and day not in holidays)), True
        if day.year in PACKAGE_YEARS:
            return chinese_calendar.is_workday(day), True
        return day.weekday() < 5, False

    def add(self, start: date, days: int, counting: str) -> Counted:
        """`days` after `start`: calendar days, or the `days`-th working day after it (negative: before)."""
        if counting == "calendar" or days == 0:
            return Counted(start + timedelta(days=days))
        step = 1 if days > 0 else -1
        left, day, provisional = abs(days), start, False
        while left:
            day += timedelta(days=step)
            working, known = self.is_workday(day)
            provisional = provisional or not known
            if working:
                left -= 1
        return Counted(day, provisional)

    def days_between(self, start: date, end: date, counting: str) -> tuple[int, bool]:
        """How many days `end` is after `start` in `counting` (negative when before), and whether a
        year on the way was unknown: calendar days, or the working days in (start, end]."""
        if counting == "calendar" or start == end:
            return (end - start).days, False
        low, high, sign = (start, end, 1) if end > start else (end, start, -1)
        count, provisional, day = 0, False, low
        while day < high:
            day += timedelta(days=1)
            working, known = self.is_workday(day)
            provisional = provisional or not known
            count += working
        return sign * count, provisional

    def next_workday_after(self, day: date) -> Counted:
        provisional = False
        while True:
            day += timedelta(days=1)
            working, known = self.is_workday(day)
            provisional = provisional or not known
            if working:
                return Counted(day, provisional)


def office_time(day: date, at: time, tz: ZoneInfo) -> datetime:
    """That office-time moment as an aware UTC datetime (how every time is stored)."""
    from datetime import timezone
    return datetime.combine(day, at, tz).astimezone(timezone.utc)
