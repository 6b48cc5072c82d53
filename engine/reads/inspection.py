"""Inspection flags (DOMAIN.md §9, §11): patterns in the record that an inspector should look at.

A flag is not a finding: it points at steps, notices and evidence worth a second look, each with
the audit event seqs behind it so the inspector can read them (`case show`, the audit log).
Thresholds live in config/policy.yaml `inspection:`.

Each kind is found by one or two SQL statements over the whole region (joins, GROUP BY, window
functions), read as a stream: nothing is looked up case by case, and memory holds one flag's rows
at a time. Times are judged in the configured time zone (inspection.timezone); what differs between
SQLite and PostgreSQL (local time, epoch seconds, JSON arrays) is in _Query.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from itertools import groupby
from typing import Any, Callable, Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import (JSON, BigInteger, Date, Integer, String, and_, case, cast, column, distinct, extract,
                        false, func, literal_column, not_, or_, select, true, type_coerce, union_all)
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.errors import BadInput
from engine.services.org import require_reader
from engine.domain.regions import check_code, covers, prefix

# In the order they are listed.
KINDS = ("signoff_off_hours", "signoff_burst", "short_notice", "notice_backdated", "evidence_after_signoff",
         "override_chain", "exit_near_line", "figure_changed_before_decision")

# What a policy check records with the step that decided on income (workflows/household.py):
# {"per_capita": ..., "line": ...}; exit_check must be above the line, income_check under it.
INCOME_DECISIONS = (("exit_check", "up"), ("income_check", "down"))
INCOME_FIELD = "net_income"
EVIDENCE_EVENTS = ("evidence_attached", "evidence_replaced")
# A burst can be a whole county's list signed at once: it keeps at most this many case ids and event
# seqs (its count stays whole), so that memory does not grow with the cases of one flag either.
LIST_LIMIT = 1000
SHOWN_CASES = 20        # in the text; the JSON has all that were kept


@dataclass(frozen=True)
class Flag:
    kind: str
    variant: str                           # which text of the kind: label flag.<kind>.<variant>
    case_id: int | None
    case_title: str | None
    region: str | None
    person: tuple[str, str] | None         # (code, name) of the person the flag is about
    detail: dict[str, Any] = field(default_factory=dict)
    events: tuple[int, ...] = ()           # audit_events.seq behind the flag

    def text(self, config, lang: str = "zh") -> str:
        template = config.label(f"flag.{self.kind}.{self.variant}", lang)
        params = _labelled(config, self.detail, lang)
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            return f"{template} {self.detail}"

    def to_dict(self, config, lang: str = "zh") -> dict[str, Any]:
        return {"kind": self.kind, "label": config.label(f"flag.{self.kind}", lang), "variant": self.variant,
                "case": self.case_id, "title": self.case_title, "region": self.region,
                "person": {"code": self.person[0], "name": self.person[1]} if self.person else None,
                "detail": self.detail, "text": self.text(config, lang), "events": list(self.events)}


def _labelled(config, detail: dict[str, Any], lang: str) -> dict[str, Any]:
    params = dict(detail)
    for key, label_prefix in (("step", "step"), ("next_step", "step"), ("procedure", "procedure"),
                              ("type", "evidence"), ("cause", "flag.cause"), ("field", "field")):
        if isinstance(params.get(key), str):
            params[key] = config.label(f"{label_prefix}.{params[key]}", lang)
    if "weekday" in params:
        params["weekday"] = config.label(f"flag.weekday.{params['weekday']}", lang)
    if isinstance(params.get("steps"), list):
        voided = config.label("flag.voided", lang)
        params["steps"] = ", ".join(config.label(f"step.{key}", lang) + (f" ({voided})" if void else "")
                                    for key, void in params["steps"])
    if isinstance(params.get("cases"), list):
        cases = params["cases"]
        more = max(len(cases), params.get("count", 0)) - SHOWN_CASES
        params["cases"] = ", ".join(str(c) for c in cases[:SHOWN_CASES]) + (f" … (+{more})" if more > 0 else "")
    for key, value in params.items():
        if isinstance(value, float) and value.is_integer():
            params[key] = int(value)
    return params


def flags(app: App, actor: Actor, region: str | None = None,
          kinds: Sequence[str] | None = None) -> Iterator[Flag]:
    """The flags over `region` (default: the actor's jurisdiction), streamed kind by kind.

    Anyone who may read the region may run it (inspectors and auditors over their county, say).
    The region and kinds are checked, and refused, at the call, before the first flag.
    """
    wanted = list(dict.fromkeys(kinds)) if kinds else list(KINDS)
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise BadInput("flag.unknown_kind", kind=", ".join(unknown), known=", ".join(KINDS))
    if region:
        check_code(region)
        require_reader(app, actor, region)
        scopes = [region]
    else:
        codes = sorted({a.region_code for a in actor.assignments})
        scopes = [c for c in codes if not any(o != c and covers(o, c) for o in codes)]
    if not scopes:
        return iter(())
    return _stream(app, scopes, set(wanted))


def _stream(app: App, scopes: list[str], wanted: set[str]) -> Iterator[Flag]:
    with app.engine.connect() as conn:
        x = _Query(app, conn, scopes)
        for produces, producer in _PRODUCERS:
            if wanted & set(produces):
                for flag in producer(x):
                    if flag.kind in wanted:
                        yield flag


# --- what every query shares ------------------------------------------------------------------

def _utc(value: datetime) -> datetime:
    # SQLite hands back the naive UTC it stored; PostgreSQL an aware timestamp.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _fixed_minutes(zone: tzinfo) -> int | None:
    """The zone's offset from UTC in minutes when it never changes (China's has not since 1991)."""
    offsets = {zone.utcoffset(datetime(year, month, 1)) for year in range(1992, 2041) for month in (1, 7)}
    if len(offsets) != 1:
        return None
    return int(offsets.pop().total_seconds() // 60)


class _Query:
    """The connection, the region, the thresholds, and the few expressions that differ by database."""

    def __init__(self, app: App, conn: Connection, scopes: list[str]):
        self.app, self.conn = app, conn
        self.insp = app.config.policy.data.inspection
        self.zone = self.insp.zone()
        self.fixed = _fixed_minutes(self.zone)
        self.pg = conn.dialect.name == "postgresql"
        self.prefixes = [prefix(code) for code in scopes]
        self.signing = list(self.insp.signing_step_types)
        if not self.pg and self.fixed is None:
            zone = self.zone

            def local(value):
                if value is None:
                    return None
                at = datetime.fromisoformat(value).replace(tzinfo=timezone.utc).astimezone(zone)
                return at.strftime("%Y-%m-%d %H:%M:%S")
            conn.connection.driver_connection.create_function("jz_local", 1, local, deterministic=True)

    def region(self, cases=t.cases):
        if any(p == "" for p in self.prefixes):
            return true()
        return or_(*(and_(cases.c.region_code >= p, cases.c.region_code < p[:-1] + chr(ord(p[-1]) + 1))
                     for p in self.prefixes))

    def stream(self, statement) -> Iterable:
        return self.conn.execute(statement.execution_options(yield_per=1000))

    def local_text(self, value: datetime) -> str:
        return _utc(value).astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

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

    def elements(self, col, name: str):
        """A JSON array column as rows with one JSON `value` each."""
        fn = func.json_array_elements(col) if self.pg else func.json_each(col)
        return fn.table_valued(column("value", JSON), name=name)


def _event_person(ae):
    # Wrapped so that the database looks the event up by its case (a few dozen events), never by
    # the person's index: one county officer has an event on every case of the county.
    return func.coalesce(ae.c.person_id, 0)


def _step_event(ae, s):
    """The audit event of a step (a redo by the same person of the same step matches both)."""
    return and_(ae.c.case_id == s.c.case_id, ae.c.procedure_id == s.c.procedure_id, ae.c.step_key == s.c.step_key,
                _event_person(ae) == s.c.person_id, ae.c.action == "step")


def _seqs(rows, *names: str) -> tuple[int, ...]:
    names = names or ("seq",)
    return tuple(sorted({getattr(r, n) for r in rows for n in names if getattr(r, n) is not None}))


def _one_case(case_ids: set[int], rows) -> tuple[int | None, str | None, str | None]:
    if len(case_ids) != 1:
        return None, None, None
    r = rows[0]
    return r.case_id, r.title, r.region_code


# --- 1. signoff_off_hours ---------------------------------------------------------------------

def _off_hours(x: _Query) -> Iterator[Flag]:
    s, c, p, pr, ae = t.steps, t.cases, t.persons, t.procedures, t.audit_events
    hours = x.insp.working_hours
    local = x.local(s.c.recorded_at)
    hm = x.hour_minute(local)
    working = and_(hm >= hours.start, hm < hours.end, x.weekday_in(local, hours.days))
    off = (select(s.c.id, s.c.case_id, s.c.procedure_id, s.c.step_key, s.c.person_id, s.c.recorded_at,
                  s.c.voided_at)
           .join(c, c.c.id == s.c.case_id)
           .where(x.region(), s.c.step_type.in_(x.signing), not_(working))).cte("off_hours")
    q = (select(off, c.c.title, c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq)
         .join(c, c.c.id == off.c.case_id).join(p, p.c.id == off.c.person_id)
         .join(pr, pr.c.id == off.c.procedure_id).outerjoin(ae, _step_event(ae, off))
         .order_by(off.c.id, ae.c.seq))
    for _, group in groupby(x.stream(q), key=lambda r: r.id):
        rows = list(group)
        r = rows[0]
        at = _utc(r.recorded_at).astimezone(x.zone)
        yield Flag("signoff_off_hours", "detail", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"step": r.step_key, "procedure": r.procedure, "step_id": r.id,
                    "local_time": at.strftime("%Y-%m-%d %H:%M"), "weekday": at.isoweekday(),
                    "voided": r.voided_at is not None}, _seqs(rows))


# --- 2. signoff_burst -------------------------------------------------------------------------

def _bursts(x: _Query) -> Iterator[Flag]:
    """Windows of `minutes` in which one person signed `count` or more distinct cases.

    Per person, in time order: a row starts a qualifying window when the rows from it to `minutes`
    later number `count` or more; a row is in a burst when such a window covers it; overlapping
    windows make one burst. Re-signing a case already signed within `minutes` is not counted again
    (a case re-signed further apart inside one long burst is). A list signed in one go counts each case.
    """
    s, c, p, ae = t.steps, t.cases, t.persons, t.audit_events
    span, need = x.insp.burst.minutes * 60, x.insp.burst.count
    signed = (select(s.c.id, s.c.case_id, s.c.person_id, s.c.procedure_id, s.c.step_key, s.c.recorded_at,
                     x.epoch(s.c.recorded_at).label("secs"))
              .join(c, c.c.id == s.c.case_id)
              .where(x.region(), s.c.step_type.in_(x.signing))).cte("signed")
    lagged = select(signed, func.lag(signed.c.secs).over(
        partition_by=(signed.c.person_id, signed.c.case_id), order_by=(signed.c.secs, signed.c.id)).label("prev")
    ).cte("signed_lag")
    kept = select(lagged).where(or_(lagged.c.prev.is_(None), lagged.c.secs - lagged.c.prev > span)).cte("signed_once")
    counted = select(kept, func.count().over(partition_by=kept.c.person_id, order_by=kept.c.secs,
                                             range_=(0, span)).label("n")).cte("signed_windows")
    covered = select(counted, func.max(case((counted.c.n >= need, counted.c.secs))).over(
        partition_by=counted.c.person_id, order_by=counted.c.secs, range_=(-span, 0)).label("cover")
    ).cte("signed_bursts")
    q = (select(covered.c.id, covered.c.case_id, covered.c.person_id, covered.c.recorded_at, covered.c.secs,
                covered.c.n, p.c.code, p.c.name, ae.c.seq)
         .join(p, p.c.id == covered.c.person_id).outerjoin(ae, _step_event(ae, covered))
         .where(covered.c.cover.isnot(None))
         .order_by(covered.c.person_id, covered.c.secs, covered.c.id, ae.c.seq))
    burst: dict[str, Any] | None = None
    for r in x.stream(q):
        if burst is None or r.person_id != burst["person_id"] or r.secs > burst["end"]:
            if burst is not None:
                yield _burst_flag(x, burst)
            burst = {"person_id": r.person_id, "person": (r.code, r.name), "end": r.secs, "first": r.recorded_at,
                     "last": r.recorded_at, "count": 0, "step": None, "cases": set(), "seqs": set()}
        if r.n >= need:
            burst["end"] = max(burst["end"], r.secs + span)
        burst["last"] = r.recorded_at
        if r.id != burst["step"]:          # one row per step and event: count the step once
            burst["step"], burst["count"] = r.id, burst["count"] + 1
            if len(burst["cases"]) < LIST_LIMIT:
                burst["cases"].add(r.case_id)
        if r.seq is not None and len(burst["seqs"]) < LIST_LIMIT:
            burst["seqs"].add(r.seq)
    if burst is not None:
        yield _burst_flag(x, burst)


def _burst_flag(x: _Query, burst: dict) -> Flag:
    cases = sorted(burst["cases"])
    detail = {"count": burst["count"], "from": x.local_text(burst["first"]), "to": x.local_text(burst["last"]),
              "minutes": x.insp.burst.minutes, "threshold": x.insp.burst.count, "cases": cases}
    if burst["count"] > len(cases) or len(burst["seqs"]) >= LIST_LIMIT:
        detail["truncated"] = True          # only the first LIST_LIMIT cases and events are listed
    return Flag("signoff_burst", "detail", None, None, None, burst["person"], detail, tuple(sorted(burst["seqs"])))


# --- 3. short_notice, notice_backdated --------------------------------------------------------

def _notices(x: _Query) -> Iterator[Flag]:
    """Notices that ran fewer days than their rule, or were entered long after their start date."""
    n, nc, s, c, p, ae = t.notices, t.notice_cases, t.steps, t.cases, t.persons, t.audit_events
    late = x.insp.notice_backdated_days
    length = x.days_between(n.c.end_date, n.c.start_date)
    entered = x.days_between(x.local_date(n.c.posted_at), n.c.start_date)
    bad = (select(n.c.id, n.c.procedure_kind, n.c.step_key, n.c.start_date, n.c.end_date, n.c.days_required,
                  n.c.posted_at, n.c.posted_by, length.label("length"), entered.label("entered_after"))
           .where(or_(length < n.c.days_required, entered > late))).cte("bad_notices")
    q = (select(bad, nc.c.case_id, c.c.title, c.c.region_code, p.c.code, p.c.name, ae.c.seq)
         .join(nc, nc.c.notice_id == bad.c.id).join(c, c.c.id == nc.c.case_id).join(p, p.c.id == bad.c.posted_by)
         .outerjoin(s, and_(s.c.notice_id == bad.c.id, s.c.case_id == nc.c.case_id))
         .outerjoin(ae, _step_event(ae, s))
         .where(x.region())
         .order_by(bad.c.id, nc.c.case_id, ae.c.seq))
    for _, group in groupby(x.stream(q), key=lambda r: r.id):
        rows = list(group)
        r = rows[0]
        cases = {row.case_id for row in rows}
        one = _one_case(cases, rows)
        base = {"notice": r.id, "procedure": r.procedure_kind, "step": r.step_key, "start": r.start_date.isoformat(),
                "end": r.end_date.isoformat(), "cases": sorted(cases)}
        if r.length < r.days_required:
            yield Flag("short_notice", "rule", *one, (r.code, r.name),
                       {**base, "days": int(r.length), "required": r.days_required}, _seqs(rows))
        if r.entered_after > late:
            yield Flag("notice_backdated", "detail", *one, (r.code, r.name),
                       {**base, "posted": x.local_text(r.posted_at), "days": int(r.entered_after), "limit": late},
                       _seqs(rows))


def _relied_early(x: _Query) -> Iterator[Flag]:
    """The step after a notice (the one relying on it), dated before the notice's end."""
    s, c, n, p, pr, ae = t.steps, t.cases, t.notices, t.persons, t.procedures, t.audit_events
    later = t.steps.alias("later")
    nxt = select(func.min(later.c.id)).where(later.c.procedure_id == s.c.procedure_id, later.c.id > s.c.id,
                                             later.c.voided_at.is_(None)).scalar_subquery()
    notice_steps = (select(s.c.id.label("notice_step"), s.c.case_id, s.c.procedure_id, s.c.notice_id,
                           s.c.step_key.label("notice_key"), s.c.person_id.label("notice_person"),
                           nxt.label("next_id"))
                    .join(c, c.c.id == s.c.case_id)
                    .where(x.region(), s.c.step_type == "notice", s.c.voided_at.is_(None),
                           s.c.notice_id.isnot(None))).cte("notice_steps")
    nx = t.steps.alias("next_step")
    early = (select(notice_steps, nx.c.step_key.label("next_key"), nx.c.person_id.label("next_person"),
                    nx.c.effective_date, n.c.end_date)
             .join(nx, nx.c.id == notice_steps.c.next_id).join(n, n.c.id == notice_steps.c.notice_id)
             .where(nx.c.effective_date < n.c.end_date)).cte("relied_early")
    q = (select(early, c.c.title, c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq)
         .join(c, c.c.id == early.c.case_id).join(p, p.c.id == early.c.next_person)
         .join(pr, pr.c.id == early.c.procedure_id)
         .outerjoin(ae, and_(ae.c.case_id == early.c.case_id, ae.c.procedure_id == early.c.procedure_id,
                             ae.c.action == "step",
                             or_(and_(ae.c.step_key == early.c.notice_key, _event_person(ae) == early.c.notice_person),
                                 and_(ae.c.step_key == early.c.next_key, _event_person(ae) == early.c.next_person))))
         .order_by(early.c.notice_step, ae.c.seq))
    for _, group in groupby(x.stream(q), key=lambda r: r.notice_step):
        rows = list(group)
        r = rows[0]
        yield Flag("short_notice", "relied_early", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"notice": r.notice_id, "procedure": r.procedure, "step": r.notice_key, "next_step": r.next_key,
                    "date": r.effective_date.isoformat(), "end": r.end_date.isoformat()}, _seqs(rows))


# --- 4. evidence_after_signoff ----------------------------------------------------------------

def _date_fields(app: App) -> list[tuple[str, str, str]]:
    """(case kind, evidence type, field) of every date field of every evidence type."""
    return [(kind, etype, name) for kind, wf in app.config.workflows.items()
            for etype, definition in wf.evidence_types.items()
            for name, fkind in definition.fields.items() if fkind.rstrip("?") == "date"]


def _dated_types_so_far(app: App, signing: Sequence[str]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(kind, procedure, step, dated evidence types required up to that step) for signing steps."""
    dated = {(kind, etype) for kind, etype, _ in _date_fields(app)}
    found = []
    for kind, wf in app.config.workflows.items():
        for name, proc in wf.procedures.items():
            so_far: list[str] = []
            for step in proc.steps:
                so_far += [e for e in step.evidence if (kind, e) in dated and e not in so_far]
                if step.type in signing and so_far:
                    found.append((kind, name, step.key, tuple(so_far)))
    return found


def _evidence_after(x: _Query) -> Iterator[Flag]:
    """Evidence a signing step relied on that was attached after it, or is dated after it.

    Relied on: the items the step recorded (evidence_hashes); a step that recorded none relied on
    the items of its procedure's types up to it that were current when it was recorded.
    """
    s, c, e, pr, p, ae = t.steps, t.cases, t.evidence, t.procedures, t.persons, t.audit_events
    fields = _date_fields(x.app)
    dated_late = or_(*(and_(c.c.kind == kind, e.c.type == etype,
                            e.c.fields[name].as_string() > cast(s.c.effective_date, String))
                       for kind, etype, name in fields)) if fields else false()
    relied = x.elements(s.c.evidence_hashes, "relied")
    recorded = (select(s.c.id.label("step_id"), e.c.id.label("evidence_id"))
                .select_from(s.join(c, c.c.id == s.c.case_id).join(relied, true())
                             .join(e, e.c.id == relied.c.value["id"].as_integer()))
                .where(x.region(), s.c.step_type.in_(x.signing), s.c.voided_at.is_(None),
                       or_(e.c.attached_at > s.c.recorded_at, dated_late)))
    parts = [recorded]
    so_far = _dated_types_so_far(x.app, x.signing)
    if so_far and fields:
        successor = t.evidence.alias("successor")
        required = or_(*(and_(c.c.kind == kind, pr.c.kind == proc, s.c.step_key == step, e.c.type.in_(types))
                         for kind, proc, step, types in so_far))
        parts.append(
            select(s.c.id.label("step_id"), e.c.id.label("evidence_id"))
            .select_from(s.join(c, c.c.id == s.c.case_id).join(pr, pr.c.id == s.c.procedure_id)
                         .join(e, e.c.case_id == s.c.case_id).outerjoin(successor, successor.c.id == e.c.superseded_by))
            .where(x.region(), s.c.step_type.in_(x.signing), s.c.voided_at.is_(None),
                   func.json_array_length(s.c.evidence_hashes) == 0, required,
                   e.c.attached_at <= s.c.recorded_at,
                   or_(successor.c.id.is_(None), successor.c.attached_at > s.c.recorded_at), dated_late))
    late = union_all(*parts).cte("late_evidence") if len(parts) > 1 else parts[0].cte("late_evidence")
    attach = t.audit_events.alias("attach_event")
    q = (select(late.c.step_id, late.c.evidence_id, s.c.case_id, s.c.step_key, s.c.effective_date, s.c.recorded_at,
                e.c.type, e.c.fields, e.c.attached_at, c.c.title, c.c.region_code, c.c.kind.label("case_kind"),
                p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq, attach.c.seq.label("attach_seq"))
         .select_from(late.join(s, s.c.id == late.c.step_id).join(e, e.c.id == late.c.evidence_id)
                      .join(c, c.c.id == s.c.case_id).join(p, p.c.id == s.c.person_id)
                      .join(pr, pr.c.id == s.c.procedure_id)
                      .outerjoin(ae, _step_event(ae, s))
                      .outerjoin(attach, and_(attach.c.case_id == e.c.case_id, attach.c.action.in_(EVIDENCE_EVENTS),
                                              attach.c.evidence_hashes[(0, "id")].as_integer() == e.c.id)))
         .order_by(late.c.step_id, late.c.evidence_id, ae.c.seq, attach.c.seq))
    date_names = {}
    for kind, etype, name in fields:
        date_names.setdefault((kind, etype), []).append(name)
    for _, group in groupby(x.stream(q), key=lambda r: (r.step_id, r.evidence_id)):
        rows = list(group)
        r = rows[0]
        base = {"step": r.step_key, "procedure": r.procedure, "step_id": r.step_id, "evidence": r.evidence_id,
                "type": r.type, "date": r.effective_date.isoformat()}
        if _utc(r.attached_at) > _utc(r.recorded_at):
            variant = "attached"
            base.update(attached=x.local_text(r.attached_at), recorded=x.local_text(r.recorded_at))
        else:
            variant = "dated"
            day = r.effective_date.isoformat()
            name = next((n for n in date_names.get((r.case_kind, r.type), [])
                         if str((r.fields or {}).get(n) or "") > day), "?")
            base.update(field=name, value=(r.fields or {}).get(name))
        yield Flag("evidence_after_signoff", variant, r.case_id, r.title, r.region_code, (r.code, r.name), base,
                   _seqs(rows, "seq", "attach_seq"))


# --- 5. override_chain ------------------------------------------------------------------------

def _repeated_signers(x: _Query) -> Iterator[Flag]:
    """One person in two or more steps of one procedure, voided steps counted too."""
    s, c, p, pr, ae = t.steps, t.cases, t.persons, t.procedures, t.audit_events
    twice = (select(s.c.procedure_id, s.c.person_id).join(c, c.c.id == s.c.case_id).where(x.region())
             .group_by(s.c.procedure_id, s.c.person_id)
             .having(func.count(distinct(s.c.step_key)) >= 2)).cte("repeated_signers")
    q = (select(s.c.id, s.c.procedure_id, s.c.person_id, s.c.case_id, s.c.step_key, s.c.voided_at, c.c.title,
                c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq)
         .join(twice, and_(twice.c.procedure_id == s.c.procedure_id, twice.c.person_id == s.c.person_id))
         .join(c, c.c.id == s.c.case_id).join(p, p.c.id == s.c.person_id).join(pr, pr.c.id == s.c.procedure_id)
         .outerjoin(ae, _step_event(ae, s))
         .order_by(s.c.procedure_id, s.c.person_id, s.c.id, ae.c.seq))
    for _, group in groupby(x.stream(q), key=lambda r: (r.procedure_id, r.person_id)):
        rows = list(group)
        r = rows[0]
        steps = list({row.id: [row.step_key, row.voided_at is not None] for row in rows}.values())
        yield Flag("override_chain", "repeated", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"procedure": r.procedure, "procedure_id": r.procedure_id, "steps": steps,
                    "voided": sum(1 for _, v in steps if v)}, _seqs(rows))


def _voider_signs(x: _Query) -> Iterator[Flag]:
    """The person whose change voided sign-offs, then doing a later step of the same procedure."""
    s, c, p, pr, ae = t.steps, t.cases, t.persons, t.procedures, t.audit_events
    cause = t.audit_events.alias("cause")
    voidings = (select(cause.c.seq, cause.c.case_id, cause.c.procedure_id, cause.c.person_id, cause.c.at,
                       cause.c.action)
                .join(c, c.c.id == cause.c.case_id)
                .where(x.region(), cause.c.procedure_id.isnot(None), cause.c.action != "step",
                       cause.c.detail[("voided_steps", 0, "id")].as_integer().isnot(None))).cte("voidings")
    q = (select(voidings.c.seq.label("cause_seq"), voidings.c.action, voidings.c.at, s.c.id.label("step_id"),
                s.c.step_key, s.c.case_id, c.c.title, c.c.region_code, p.c.code, p.c.name,
                pr.c.kind.label("procedure"), ae.c.seq)
         .select_from(voidings.join(s, and_(s.c.procedure_id == voidings.c.procedure_id,
                                            s.c.person_id == voidings.c.person_id,
                                            s.c.recorded_at >= voidings.c.at,
                                            or_(s.c.voided_at.is_(None), s.c.voided_at > voidings.c.at)))
                      .join(c, c.c.id == s.c.case_id).join(p, p.c.id == s.c.person_id)
                      .join(pr, pr.c.id == s.c.procedure_id).outerjoin(ae, _step_event(ae, s)))
         .order_by(voidings.c.seq, s.c.id, ae.c.seq))
    for _, group in groupby(x.stream(q), key=lambda r: (r.cause_seq, r.step_id)):
        rows = list(group)
        r = rows[0]
        yield Flag("override_chain", "voider", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"procedure": r.procedure, "step": r.step_key, "step_id": r.step_id, "cause": r.action,
                    "cause_at": x.local_text(r.at)}, _seqs(rows, "cause_seq", "seq"))


# --- 6. exit_near_line ------------------------------------------------------------------------

def _near_line(x: _Query) -> Iterator[Flag]:
    """Completed exits whose per-capita income, as the last exit check computed it, is just above the line."""
    s, c, p, pr, ae = t.steps, t.cases, t.persons, t.procedures, t.audit_events
    margin = x.insp.exit_near_line_margin
    key = INCOME_DECISIONS[0][0]
    per_capita, line = s.c.data[(key, "per_capita")].as_float(), s.c.data[(key, "line")].as_float()
    ranked = (select(s.c.id, s.c.procedure_id, s.c.case_id, s.c.person_id, s.c.step_key,
                     per_capita.label("per_capita"), line.label("line"),
                     func.row_number().over(partition_by=s.c.procedure_id, order_by=s.c.id.desc()).label("rn"))
              .join(pr, and_(pr.c.id == s.c.procedure_id, pr.c.status == "completed"))
              .join(c, c.c.id == s.c.case_id)
              .where(x.region(), s.c.voided_at.is_(None), per_capita.isnot(None))).cte("exit_checks")
    near = select(ranked).where(ranked.c.rn == 1, ranked.c.per_capita < ranked.c.line * (1 + margin)).cte("near_line")
    checks = t.steps.alias("checks")
    q = (select(near, c.c.title, c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq)
         .join(c, c.c.id == near.c.case_id).join(p, p.c.id == near.c.person_id)
         .join(pr, pr.c.id == near.c.procedure_id)
         .outerjoin(checks, and_(checks.c.procedure_id == near.c.procedure_id, checks.c.voided_at.is_(None),
                                 checks.c.data[(key, "per_capita")].as_float().isnot(None)))
         .outerjoin(ae, _step_event(ae, checks))
         .order_by(near.c.procedure_id, ae.c.seq))
    for _, group in groupby(x.stream(q), key=lambda r: r.procedure_id):
        rows = list(group)
        r = rows[0]
        above = (r.per_capita / r.line - 1) * 100 if r.line else 0.0
        yield Flag("exit_near_line", "detail", r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"procedure": r.procedure, "procedure_id": r.procedure_id, "step": r.step_key,
                    "per_capita": round(r.per_capita, 2), "line": r.line, "above_pct": round(above, 1),
                    "margin_pct": round(margin * 100, 1)}, _seqs(rows))


# --- 7. figure_changed_before_decision ---------------------------------------------------------

def _figures_changed(x: _Query) -> Iterator[Flag]:
    for key, direction in INCOME_DECISIONS:
        yield from _figure_changed(x, key, direction)


def _figure_changed(x: _Query, key: str, direction: str) -> Iterator[Flag]:
    """An income item replaced within `days` before a decision on it, from one side of the line to the other.

    The decision recorded the per-capita income and line it used; the members it divided by follow
    from the item it relied on (net income / per capita), so the old item's per capita is
    old net income x per capita / relied net income.
    """
    s, c, p, pr, ae = t.steps, t.cases, t.persons, t.procedures, t.audit_events
    relied, old, new = t.evidence.alias("relied"), t.evidence.alias("old"), t.evidence.alias("new")
    days = x.insp.figure_changed_days
    per_capita, line = s.c.data[(key, "per_capita")].as_float(), s.c.data[(key, "line")].as_float()
    relied_net, old_net = relied.c.fields[INCOME_FIELD].as_float(), old.c.fields[INCOME_FIELD].as_float()
    if direction == "up":     # decided above the line; the old figure was under it
        crossed = and_(per_capita > line, old_net * per_capita < line * relied_net)
    else:                     # decided under the line; the old figure was not under it
        crossed = and_(per_capita < line, old_net * per_capita >= line * relied_net)
    decided, changed = x.epoch(s.c.recorded_at), x.epoch(new.c.attached_at)
    refs = x.elements(s.c.evidence_hashes, "refs")
    found = (select(s.c.id.label("step_id"), s.c.procedure_id, s.c.case_id, s.c.step_key, s.c.person_id,
                    per_capita.label("per_capita"), line.label("line"), relied_net.label("relied_net"),
                    old_net.label("old_net"), old.c.id.label("old_id"), old.c.type, new.c.id.label("new_id"),
                    new.c.attached_at, new.c.attached_by, s.c.recorded_at)
             .select_from(s.join(c, c.c.id == s.c.case_id).join(refs, true())
                          .join(relied, relied.c.id == refs.c.value["id"].as_integer())
                          .join(old, and_(old.c.case_id == relied.c.case_id, old.c.type == relied.c.type,
                                          old.c.id < relied.c.id, old.c.superseded_by.isnot(None)))
                          .join(new, new.c.id == old.c.superseded_by))
             .where(x.region(), s.c.voided_at.is_(None), per_capita.isnot(None), relied_net > 0,
                    old_net.isnot(None), changed <= decided, changed >= decided - days * 86400, crossed)
             ).cte(f"figure_changed_{direction}")
    replaced = t.audit_events.alias("replace_event")
    q = (select(found, c.c.title, c.c.region_code, p.c.code, p.c.name, pr.c.kind.label("procedure"), ae.c.seq,
                replaced.c.seq.label("replace_seq"))
         .join(c, c.c.id == found.c.case_id).join(p, p.c.id == found.c.attached_by)
         .join(pr, pr.c.id == found.c.procedure_id)
         .outerjoin(ae, _step_event(ae, found))
         .outerjoin(replaced, and_(replaced.c.case_id == found.c.case_id, replaced.c.action == "evidence_replaced",
                                   replaced.c.evidence_hashes[(0, "id")].as_integer() == found.c.new_id))
         .order_by(found.c.procedure_id, found.c.old_id, found.c.step_id, ae.c.seq))
    for _, group in groupby(x.stream(q), key=lambda r: (r.procedure_id, r.old_id)):
        rows = list(group)
        r = rows[0]
        hours = (_utc(r.recorded_at) - _utc(r.attached_at)) / timedelta(hours=1)
        yield Flag("figure_changed_before_decision", direction, r.case_id, r.title, r.region_code, (r.code, r.name),
                   {"procedure": r.procedure, "step": r.step_key, "step_id": r.step_id, "type": r.type,
                    "old": r.old_id, "new": r.new_id,
                    "old_per_capita": round(r.old_net * r.per_capita / r.relied_net, 2),
                    "per_capita": round(r.per_capita, 2), "line": r.line, "changed": x.local_text(r.attached_at),
                    "days_before": round(hours / 24, 1)}, _seqs(rows, "seq", "replace_seq"))


_PRODUCERS: tuple[tuple[tuple[str, ...], Callable[[_Query], Iterator[Flag]]], ...] = (
    (("signoff_off_hours",), _off_hours),
    (("signoff_burst",), _bursts),
    (("short_notice", "notice_backdated"), _notices),
    (("short_notice",), _relied_early),
    (("evidence_after_signoff",), _evidence_after),
    (("override_chain",), _repeated_signers),
    (("override_chain",), _voider_signs),
    (("exit_near_line",), _near_line),
    (("figure_changed_before_decision",), _figures_changed),
)
