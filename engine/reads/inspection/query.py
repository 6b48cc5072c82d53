"""What every inspection query shares: the region, the thresholds, the few expressions that differ by
database (local time, epoch seconds, JSON arrays), and how a flag finds the audit events behind it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import (JSON, BigInteger, Date, Integer, and_, cast, column, extract, false, func, literal_column,
                        or_, select, true, type_coerce)
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.regions import prefix


def utc(value: datetime) -> datetime:
    # SQLite hands back the naive UTC it stored; PostgreSQL an aware timestamp.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _fixed_minutes(zone: tzinfo) -> int | None:
    """The zone's offset from UTC in minutes when it never changes (China's has not since 1991)."""
    offsets = {zone.utcoffset(datetime(year, month, 1)) for year in range(1992, 2041) for month in (1, 7)}
    if len(offsets) != 1:
        return None
    return int(offsets.pop().total_seconds() // 60)


DAY = timedelta(days=1)


class Query:
    """The connection, the region, the thresholds, and the few expressions that differ by database."""

    def __init__(self, app: App, conn: Connection, scopes: list[str], case: int | None = None,
                 person: int | None = None):
        self.app, self.conn, self.case, self.person = app, conn, case, person
        self.insp = app.config.policy.data.inspection
        self.zone = self.insp.zone()
        self.fixed = _fixed_minutes(self.zone)
        self.pg = conn.dialect.name == "postgresql"
        self.prefixes = [prefix(code) for code in scopes]
        self.signing_types = list(self.insp.signing_step_types)
        if self.pg:
            # PostgreSQL takes json_array_elements for 100 rows a step, so a flag query over a county
            # looks costly enough to compile to machine code (JIT), and the compiling cost more than the
            # query: evidence_after_signoff 1.2 of its 1.6 s on the demo county. For this transaction only.
            conn.exec_driver_sql("SET LOCAL jit = off")
        if not self.pg and self.fixed is None:
            zone = self.zone

            def local(value):
                if value is None:
                    return None
                at = datetime.fromisoformat(value).replace(tzinfo=timezone.utc).astimezone(zone)
                return at.strftime("%Y-%m-%d %H:%M:%S")
            conn.connection.driver_connection.create_function("jz_local", 1, local, deterministic=True)

    def region(self, cases=t.cases):
        """The cases a flag is looked for in: the region's, or the one case asked for (`case`)."""
        if self.case is not None:
            return and_(self.scopes(cases), cases.c.id == self.case)
        return self.scopes(cases)

    def scopes(self, cases=t.cases):
        """The region's cases, whatever case was asked for."""
        if any(p == "" for p in self.prefixes):
            return true()
        return or_(*(and_(cases.c.region_code >= p, cases.c.region_code < p[:-1] + chr(ord(p[-1]) + 1))
                     for p in self.prefixes))

    def of_person(self, col):
        """The rows of the person asked for (`person`: the one a lead is about, by its column `col`: the
        signer, the poster, who changed a figure), read by that person's index; all when none was asked."""
        return true() if self.person is None else col == self.person

    def changed_by(self, case_col, actions: Sequence[str]):
        """With a person asked for, the cases where that person did one of `actions` (the change a lead
        is about: a figure replaced, a member added), by their own events' index: a decision is then
        looked for only where they changed something, not in every case of the region."""
        if self.person is None:
            return true()
        ae = t.audit_events
        return case_col.in_(select(ae.c.case_id).where(ae.c.person_id == self.person, ae.c.action.in_(list(actions))))

    def signed_in(self, procedure_col):
        """With a person asked for, the procedures where that person took a step, by their steps' index
        (a procedure's last exit check is theirs only where they checked it)."""
        if self.person is None:
            return true()
        s = t.steps
        return procedure_col.in_(select(s.c.procedure_id).where(s.c.person_id == self.person))

    def posted(self, notice_col):
        """With a person asked for, the notices that person posted, by their notice steps (a notice is
        posted by its step, engine.services.procedures) on their steps' index: the notices table has no
        index by poster, and a county's notices are not read to find one person's."""
        if self.person is None:
            return true()
        s = t.steps
        return notice_col.in_(select(s.c.notice_id).where(s.c.person_id == self.person, s.c.notice_id.is_not(None)))

    def of_type(self, steps):
        """A step's type: by its type's index, but not when a person's steps are read (by their own
        index: a county officer's 150,000 steps are fewer than the region's signing steps)."""
        return steps.c.step_type if self.person is None else steps.c.step_type.op("||")("")

    def signing(self, steps):
        """A signing step (of_type)."""
        return self.of_type(steps).in_(self.signing_types)

    def signing_acts(self, steps, cases=t.cases):
        """The signing steps a pattern across cases (a burst) is looked for in: the region's; with a
        `case`, only those of the persons who signed a step of it, within a day of one of theirs on it (a
        burst is a run of sign-offs minutes apart, which nobody keeps up for a day): a burst covering the
        case is found whole from the signers' own index, not from every signing step of the region."""
        if self.case is None:
            return and_(self.region(cases), self.signing(steps), self.of_person(steps.c.person_id))
        own = self.conn.execute(select(t.steps.c.person_id, t.steps.c.recorded_at).where(
            t.steps.c.case_id == self.case, t.steps.c.person_id.is_not(None)).order_by(
            t.steps.c.person_id, t.steps.c.recorded_at)).all()
        windows: list[list] = []           # [person, from, to], a person's overlapping days made one
        for person, at in own:
            if windows and windows[-1][0] == person and at - DAY <= windows[-1][2]:
                windows[-1][2] = at + DAY
            else:
                windows.append([person, at - DAY, at + DAY])
        if not windows:
            return false()
        return and_(self.scopes(cases), steps.c.step_type.op("||")("").in_(self.signing_types),   # not by its type's index
                    self.of_person(steps.c.person_id),
                    or_(*(and_(steps.c.person_id == person, steps.c.recorded_at.between(lo, hi))
                          for person, lo, hi in windows)))

    def stream(self, statement) -> Iterable:
        return self.conn.execute(statement.execution_options(yield_per=1000))

    def local_text(self, value: datetime) -> str:
        return utc(value).astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    @staticmethod
    def sort_key(col):
        """`col` as a sort key that no index can give: the flags are few, so sorting them costs nothing,
        while walking steps in their procedure index's order (to spare that sort) reads every step of the
        database and every event of each step's case, not the region's (SQLite's planner, which has no
        statistics, chose so: 0.5 s of the demo county's figure_changed_before_decision)."""
        return col + 0

    # -- dialect-specific expressions
    def epoch(self, col):
        """Seconds since 1970 (UTC), as a whole number, so that windows can range over it."""
        if self.pg:
            return cast(extract("epoch", col), BigInteger)
        return cast(func.strftime("%s", col), BigInteger)

    def local(self, col):
        """The local wall-clock time of a UTC timestamp column."""
        if self.pg:
            if isinstance(self.zone, ZoneInfo):
                return func.timezone(self.zone.key, col)
            return func.timezone("UTC", col) + literal_column(f"interval '{int(self.fixed)} minutes'")
        if self.fixed is not None:
            return func.datetime(col, f"{self.fixed:+d} minutes")
        return func.jz_local(col)

    def hour_minute(self, local):
        return func.to_char(local, "HH24:MI") if self.pg else func.strftime("%H:%M", local)

    def weekday_in(self, local, days: Sequence[int]):
        if self.pg:
            return cast(extract("isodow", local), Integer).in_(list(days))
        return func.strftime("%w", local).in_([str(d % 7) for d in days])   # %w: 0 is Sunday

    def local_date(self, col):
        return cast(self.local(col), Date) if self.pg else func.date(self.local(col))

    def days_between(self, later, earlier):
        if self.pg:
            return type_coerce(later - earlier, Integer)
        return func.julianday(later) - func.julianday(earlier)

    def entry_gap(self, steps):
        """Days between a step's stated date and the local day it was recorded."""
        return self.days_between(self.local_date(steps.c.recorded_at), steps.c.effective_date)

    def late(self, steps):
        """The step was entered more than late_entry_days after its stated date."""
        return self.entry_gap(steps) > self.insp.late_entry_days

    def paper(self, procedure_id):
        """The procedure's first step was entered late: a paper file entered afterwards."""
        first = t.steps.alias("first_step")
        gap = (select(self.entry_gap(first)).where(first.c.procedure_id == procedure_id)
               .order_by(first.c.id).limit(1).scalar_subquery())
        return gap > self.insp.late_entry_days

    def elements(self, col, name: str):
        """A JSON array column as rows with one JSON `value` each."""
        fn = func.json_array_elements(col) if self.pg else func.json_each(col)
        return fn.table_valued(column("value", JSON), name=name)


def event_person(ae):
    # Wrapped so that the database looks the event up by its case (a few dozen events), never by
    # the person's index: one county officer has an event on every case of the county.
    return func.coalesce(ae.c.person_id, 0)


def step_event(ae, s):
    """The audit event of a step (a redo by the same person of the same step matches both)."""
    return and_(ae.c.case_id == s.c.case_id, ae.c.procedure_id == s.c.procedure_id, ae.c.step_key == s.c.step_key,
                event_person(ae) == s.c.person_id, ae.c.action == "step")


def seqs(rows, *names: str) -> tuple[int, ...]:
    names = names or ("seq",)
    return tuple(sorted({getattr(r, n) for r in rows for n in names if getattr(r, n) is not None}))


def one_case(case_ids: set[int], rows) -> tuple[int | None, str | None, str | None]:
    if len(case_ids) != 1:
        return None, None, None
    r = rows[0]
    return r.case_id, r.title, r.region_code
