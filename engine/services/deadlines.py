"""Deadlines and escalation (DOMAIN §6).

A deadline is a row, written in the transaction of the step (or stage change) that creates it and
closed in the transaction of the work that ends it (`after_steps`, `after_evidence`). Its row keeps
the escalation ladder in force with the time of every level, and which level is next
(`next_level`, `next_alert_at`), so the sweep is one range scan of the (status, next_alert_at)
index, in batches, whatever the number of open deadlines. No scheduler job exists per deadline.

The sweep writes at most one alert per (deadline, ladder level) (a unique constraint on the level's
stable key, so a ladder changed later neither repeats a level nor skips one) and the alert's
messages to the outbox in the same transaction; two sweeps at once, or a sweep killed half way and
run again, neither lose nor duplicate an alert. On PostgreSQL batches are claimed with
FOR UPDATE SKIP LOCKED; on SQLite a sweep batch takes the write lock before it reads.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from time import perf_counter
from types import SimpleNamespace
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Text, and_, bindparam, cast, exists, func, insert, literal_column, or_, select, text, update
from sqlalchemy.engine import Connection

from config import Config
from config.deadlines import DaysParam, DueOn, OwnerSpec, RuleDef, rung_key
from engine.adapters import tables as t
from engine.services.plugins import AlertMessage
from engine.domain.calendar import WorkCalendar, office_time
from engine.domain.regions import ancestors_of, covers, prefix

UTC = timezone.utc
BATCH = 1000


def aware(value: datetime | None) -> datetime | None:
    """The same moment in UTC, how every time is stored and compared. SQLite keeps no zone: it hands
    times back without one, and a time bound in another zone would be compared by its wall clock."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# --- the rules, compiled once per configuration ------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    due_on: date
    due_at: datetime
    ladder: list[dict[str, Any]]
    provisional: bool

    def next_from(self, level: int) -> tuple[int | None, datetime | None]:
        for entry in self.ladder:
            if entry["level"] >= level:
                return entry["level"], _parse_at(entry["at"])
        return None, None


def _parse_at(value: str) -> datetime:
    return aware(datetime.fromisoformat(value))


REMINDER = "reminder"
ENDED_STAGE = "removed"     # a case that leaves for good: its open work is cancelled, not done


def key_of(entry: dict) -> str:
    """A ladder level's stable key (ladders stored before keys existed derive it the same way)."""
    if entry["level"] < 0:
        return REMINDER
    return entry.get("key") or rung_key(entry["to"])


class Rules:
    """The deadline rules of one configuration, with its calendar, time zone and ladders."""

    def __init__(self, config: Config):
        self.config = config
        self.file = config.deadlines
        self.calendar = WorkCalendar(dict(self.file.calendar.years))
        self.tz = ZoneInfo(self.file.timezone)
        self.alert_time = time.fromisoformat(self.file.alert_time)
        self.rules: dict[str, RuleDef] = {n: r for n, r in self.file.rules.items() if r.kind in config.workflows}
        self.by_kind: dict[str, dict[str, RuleDef]] = defaultdict(dict)
        for name, rule in self.rules.items():
            self.by_kind[rule.kind][name] = rule
        self.evidence_closers = {n: r for n, r in self.rules.items() if any(u.evidence for u in r.until)}

    def days(self, rule: RuleDef, basis: str, start_on: date, province: str) -> int:
        kind, _, value = basis.partition(":")
        if kind == "days":
            return int(value)
        if kind == "param":
            return int(self.config.policy.params(province, start_on.year)[value])
        if kind == "level":
            return int(rule.days.by_level[value])
        raise ValueError(basis)

    def due_on(self, rule: RuleDef, basis: str, start_on: date, province: str,
               given: date | None = None) -> tuple[date, bool]:
        kind, _, value = basis.partition(":")
        if kind == "field":
            return given, False
        if kind == "date":
            month, day = (int(x) for x in value.split("-"))
            found = date(start_on.year, month, day)
            return (found if found >= start_on else date(start_on.year + 1, month, day)), False
        if kind == "monthly":
            first_next = (start_on.replace(day=1) + timedelta(days=32)).replace(day=1)
            return first_next.replace(day=int(value)), False
        counted = self.calendar.add(start_on, self.days(rule, basis, start_on, province), rule.counting)
        return counted.day, counted.provisional

    def ladder_for(self, rule: RuleDef, basis: str):
        kind, _, value = basis.partition(":")
        name = rule.ladder_by_level.get(value, rule.ladder) if kind == "level" else rule.ladder
        return self.file.ladders[name]

    def schedule(self, rule: RuleDef, basis: str, start_on: date, province: str,
                 given: date | None = None) -> Schedule:
        due_on, provisional = self.due_on(rule, basis, start_on, province, given)
        due_at = office_time(due_on + timedelta(days=1), time(0, 0), self.tz)
        entries = []
        if self.file.reminder_days:
            counted = self.calendar.add(due_on, -self.file.reminder_days, rule.counting)
            if counted.day > start_on:
                provisional = provisional or counted.provisional
                entries.append({"level": -1, "key": REMINDER, "after": -self.file.reminder_days, "to": "owner",
                                "at": office_time(counted.day, self.alert_time, self.tz).isoformat()})
        for level, step in enumerate(self.ladder_for(rule, basis)):
            counted = self.calendar.add(due_on, step.after, rule.counting)
            day = counted.day + timedelta(days=1)
            if rule.counting == "working":   # alerts reach people on a working morning
                following = self.calendar.next_workday_after(counted.day)
                day, provisional = following.day, provisional or following.provisional
            provisional = provisional or counted.provisional
            entries.append({"level": level, "key": step.rung_key, "after": step.after,
                            "to": "owner" if step.to == "owner" else list(step.to),
                            "at": office_time(day, self.alert_time, self.tz).isoformat()})
        return Schedule(due_on, due_at, entries, provisional)

    def role_level(self, roles: Iterable[str]) -> str:
        from engine.domain.regions import LEVEL_RANK
        levels = [self.config.roles[r].level for r in roles if r in self.config.roles]
        return max(levels, key=lambda lv: LEVEL_RANK[lv]) if levels else "village"


_COMPILED: dict[int, tuple[Config, Rules]] = {}


def compiled(config: Config) -> Rules | None:
    if config.deadlines is None:
        return None
    found = _COMPILED.get(id(config))
    if found is None or found[0] is not config:
        found = _COMPILED[id(config)] = (config, Rules(config))
    return found[1]


# --- creating and closing, in the transaction of the work ----------------------------------------

_OPEN_OF_CASES = select(t.deadlines.c.id, t.deadlines.c.case_id, t.deadlines.c.rule, t.deadlines.c.type,
                        t.deadlines.c.procedure_id, t.deadlines.c.step_key, t.deadlines.c.subject).where(
    t.deadlines.c.case_id.in_(bindparam("ids", expanding=True)), t.deadlines.c.status == "open")
_OPEN_OF_CASE = select(  # one case (the common one): a plain `=`, not an expanding IN re-compiled at each call
    *_OPEN_OF_CASES.selected_columns).where(t.deadlines.c.case_id == bindparam("id"),
                                                               t.deadlines.c.status == "open")
_CLOSE = update(t.deadlines).where(t.deadlines.c.id == bindparam("b_id"), t.deadlines.c.status == "open").values(
    status=bindparam("b_status"), closed_at=bindparam("b_at"), closed_reason=bindparam("b_reason"))
_INSERT = insert(t.deadlines)
_HOLDERS = (select(t.role_assignments.c.person_id, t.role_assignments.c.role, t.role_assignments.c.region_code)
            .join(t.persons, t.persons.c.id == t.role_assignments.c.person_id)
            .where(t.role_assignments.c.role.in_(bindparam("roles", expanding=True)),
                   t.role_assignments.c.region_code.in_(bindparam("regions", expanding=True)),
                   t.role_assignments.c.revoked_at.is_(None), t.persons.c.active.is_(True))
            .order_by(t.role_assignments.c.person_id))
_FIRST_CADRES = select(t.pairings.c.case_id, t.pairings.c.person_id).where(
    t.pairings.c.case_id.in_(bindparam("ids", expanding=True)), t.pairings.c.end_date.is_(None),
    t.pairings.c.kind == "first").order_by(t.pairings.c.id)


@dataclass
class _Draft:
    rule_name: str
    rule: RuleDef
    case_id: int
    region_code: str
    start_on: date
    basis: str
    procedure_id: int | None = None
    step_key: str | None = None
    subject: str = ""
    given_due: date | None = None
    owner: tuple = ()                   # ("roles", roles, exclude) | ("person", id) | ("pairing",)
    owner_id: int | None = None
    owner_role: str | None = None


def _basis(rule: RuleDef, level: str | None = None) -> str:
    if isinstance(rule.days, int):
        return f"days:{rule.days}"
    if isinstance(rule.days, DaysParam):
        return f"param:{rule.days.param}" if rule.days.param else f"level:{level or 'village'}"
    if isinstance(rule.due, str):
        return f"date:{rule.due}"
    if isinstance(rule.due, DueOn) and rule.due.monthly:
        return f"monthly:{rule.due.monthly}"
    return f"field:{rule.due.field}"


def _value(name: str, data: dict, attrs: dict, item: dict | None = None):
    for source in (item or {}, data or {}, attrs or {}):
        if source.get(name) not in (None, ""):
            return source[name]
    return None


def _as_date(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def after_steps(app, conn: Connection, workflow, procedure: str, step, plans: Sequence, outcomes: Sequence,
                now: datetime) -> None:
    """Close the deadlines this step's work ends and create the ones it starts; a handful of
    statements for the whole list (the step's own transaction)."""
    rules = compiled(app.config)
    if rules is None or not rules.by_kind.get(workflow.kind):
        return
    kind_rules = rules.by_kind[workflow.kind]
    proc_def = workflow.procedures[procedure]
    case_ids = [o.case_id for o in outcomes]
    open_rows = (conn.execute(_OPEN_OF_CASE, {"id": case_ids[0]}) if len(case_ids) == 1
                 else conn.execute(_OPEN_OF_CASES, {"ids": case_ids})).all()
    open_by_case: dict[int, list] = defaultdict(list)
    for r in open_rows:
        open_by_case[r.case_id].append(r)
    closes: dict[int, dict] = {}
    drafts: list[_Draft] = []
    renewals: list[tuple] = []

    def close(row, status: str, reason: str) -> None:
        closes.setdefault(row.id, {"b_id": row.id, "b_status": status, "b_at": now, "b_reason": reason[:80]})

    def left(row, to_stage: str) -> None:   # the case moved on: its work is done, unless it left for good
        close(row, "cancelled" if to_stage == ENDED_STAGE else "done", f"stage:{to_stage}")

    for p, o in zip(plans, outcomes):
        moved = o.to_stage != o.from_stage
        ended = o.procedure_status != "open"
        effective = p.ctx.effective_date
        for d in open_by_case.get(o.case_id, ()):
            rule = kind_rules.get(d.rule)
            if d.type == "waiting":
                if d.procedure_id == o.procedure_id and d.step_key == step.key:
                    close(d, "done", f"step:{step.key}")
                else:   # the case now waits for something else (a step voided, another procedure)
                    close(d, "cancelled", "no longer waiting")
            elif d.type == "procedure" and d.procedure_id == o.procedure_id and ended:
                close(d, "done" if o.procedure_status == "completed" else "cancelled", f"procedure:{o.procedure_status}")
            elif d.type == "stage" and moved and rule is not None and \
                    any(tr.enters == o.from_stage for tr in rule.when):
                left(d, o.to_stage)
            if rule is None or d.id in closes:
                continue
            for until in rule.until:
                if until.enters and moved and o.to_stage in until.enters:
                    left(d, o.to_stage)
                elif until.leaves and moved and o.from_stage == until.leaves:
                    left(d, o.to_stage)
                elif until.step == step.key and o.decision != "rejected" and (
                        until.match is None or str(p.data.get(until.match, "")) == d.subject):
                    close(d, "done", f"step:{step.key}")
                    if rule.renew:
                        renewals.append((d.rule, rule, p, o))
        for name, rule in kind_rules.items():
            drafts.extend(_started(rules, name, rule, procedure, proc_def, step, p, o, moved, effective))
        for name, rule, p_, o_ in [r for r in renewals if r[2] is p]:
            drafts.append(_Draft(name, rule, o_.case_id, p_.case.region_code, effective, _basis(rule),
                                 owner=_owner_spec(rule, p_, None)))
    if drafts:
        # Work started again while an older deadline for it is still open: the new one replaces it.
        fresh = {(d.case_id, d.rule_name, d.subject) for d in drafts}
        for r in open_rows:
            if r.id not in closes and (r.case_id, r.rule, r.subject) in fresh:
                close(r, "cancelled", "superseded")
        drafts = list({(d.case_id, d.rule_name, d.subject): d for d in drafts}.values())
        _find_owners(conn, rules, drafts, plans)
    if closes:
        conn.execute(_CLOSE, list(closes.values()))
    if drafts:
        conn.execute(_INSERT, [_row(rules, d, now, app.policy_version) for d in drafts])


def _started(rules: Rules, name: str, rule: RuleDef, procedure: str, proc_def, step, p, o, moved: bool,
             effective: date) -> list[_Draft]:
    found = []
    for trig in rule.when:
        region = p.case.region_code
        if trig.enters is not None:
            if moved and o.to_stage == trig.enters and (not trig.source or o.from_stage in trig.source):
                found.append(_Draft(name, rule, o.case_id, region, effective, _basis(rule),
                                    given_due=_as_date(_value(rule.due.field, p.data, p.case.attrs))
                                    if isinstance(rule.due, DueOn) and rule.due.field else None,
                                    owner=_owner_spec(rule, p, None)))
        elif trig.waiting is not None:
            if o.procedure_status != "open":
                continue
            done = (len(p.open_proc.steps) if p.open_proc else 0) + 1
            nxt = proc_def.steps[done]
            after_notice = step.type == "notice"
            if trig.after_notice is not None and trig.after_notice != after_notice:
                continue
            if "any" not in trig.waiting and nxt.type not in trig.waiting:
                continue
            start = effective + timedelta(days=p.notice_days or 0) if after_notice else effective
            level = rules.role_level(nxt.roles)
            exclude = set(_participants(p))
            found.append(_Draft(name, rule, o.case_id, region, start, _basis(rule, level), o.procedure_id,
                                nxt.key, f"{o.procedure_id}:{nxt.key}",
                                owner=("roles", tuple(nxt.roles), frozenset(exclude))
                                if rule.owner == "step_roles" else _owner_spec(rule, p, None, exclude)))
        elif trig.starts is not None:
            if p.open_proc is None and procedure == trig.starts and o.procedure_status == "open":
                start = effective
                if rule.start_from:   # e.g. the clue's own date: the 15 days run from the first clue
                    etype, _, fname = rule.start_from.partition(".")
                    ev = p.ctx.evidence.get(etype)
                    start = (_as_date(ev.fields.get(fname)) if ev is not None else None) or effective
                found.append(_Draft(name, rule, o.case_id, region, start, _basis(rule), o.procedure_id,
                                    subject=str(o.procedure_id), owner=_owner_spec(rule, p, None)))
        elif trig.step is not None:
            if step.key != trig.step or trig.procedure not in (None, procedure) or o.decision == "rejected":
                continue
            items = p.data.get(trig.items) or [] if trig.items else [None]
            for item in items:
                subject = str(item.get("name", "")) if isinstance(item, dict) else ""
                given = _as_date(_value(rule.due.field, p.data, p.case.attrs, item)) \
                    if isinstance(rule.due, DueOn) and rule.due.field else None
                if isinstance(rule.due, DueOn) and rule.due.field and given is None:
                    continue
                found.append(_Draft(name, rule, o.case_id, region, effective, _basis(rule), subject=subject,
                                    given_due=given, owner=_owner_spec(rule, p, item)))
        elif trig.measure is not None:
            if step.type == "plan" and o.decision != "rejected" and any(
                    m[0] == trig.measure for m in p.data.get("measures", [])):
                found.append(_Draft(name, rule, o.case_id, region, effective, _basis(rule), subject=trig.measure,
                                    owner=_owner_spec(rule, p, None)))
    return found


def _participants(p) -> list[int]:
    ids = [p.ctx.actor.person_id] + list(p.data.get("verifier_ids", []))
    for s in (p.open_proc.steps if p.open_proc else []):
        ids.append(s.person_id)
        ids.extend(s.data.get("verifier_ids", []))
    return ids


def _owner_spec(rule: RuleDef, p, item: dict | None, exclude: Iterable[int] = ()) -> tuple:
    if rule.owner == "pairing_cadre":
        return ("pairing",)
    if isinstance(rule.owner, OwnerSpec) and rule.owner.field:
        value = _value(rule.owner.field, p.data, p.case.attrs, item)
        if value is not None:
            return ("person", int(value))
    if isinstance(rule.owner, OwnerSpec) and rule.owner.roles:
        return ("roles", tuple(rule.owner.roles), frozenset(exclude))
    return ()


def _find_owners(conn: Connection, rules: Rules, drafts: list[_Draft], plans) -> None:
    """A named person for every new deadline: a few queries for the whole list."""
    wanted_roles = sorted({r for d in drafts if d.owner and d.owner[0] == "roles" for r in d.owner[1]})
    holders = []
    if wanted_roles:
        regions = sorted({a for d in drafts for a in ancestors_of(d.region_code)})
        holders = conn.execute(_HOLDERS, {"roles": wanted_roles, "regions": regions}).all()
    cadres: dict[int, int] = {}
    pairing_cases = [d.case_id for d in drafts if d.owner == ("pairing",)]
    if pairing_cases:
        for r in conn.execute(_FIRST_CADRES, {"ids": pairing_cases}):
            cadres.setdefault(r.case_id, r.person_id)
    for d in drafts:
        if not d.owner:
            continue
        if d.owner[0] == "person":
            d.owner_id = d.owner[1]
        elif d.owner[0] == "pairing":
            d.owner_id, d.owner_role = cadres.get(d.case_id), "pairing_cadre"
        else:
            d.owner_id, d.owner_role = _nearest_owner(holders, d.owner[1], d.region_code, d.owner[2])


def _nearest_owner(holders, roles: Sequence[str], region_code: str, exclude=frozenset()) -> tuple[int | None, str]:
    """The first of `roles` held over the region, by its nearest holder (the lowest id among equals)."""
    eligible = [h for h in holders if h.role in roles and covers(h.region_code, region_code)
                and h.person_id not in exclude]
    if not eligible:
        return None, roles[0]
    best = min(eligible, key=lambda h: (roles.index(h.role), -len(prefix(h.region_code)), h.person_id))
    return best.person_id, best.role


def _row(rules: Rules, d: _Draft, now: datetime, version: str) -> dict[str, Any]:
    sched = rules.schedule(d.rule, d.basis, d.start_on, d.region_code[:2], d.given_due)
    level, at = sched.next_from(-1)
    return {"case_id": d.case_id, "procedure_id": d.procedure_id, "step_key": d.step_key, "subject": d.subject,
            "rule": d.rule_name, "type": d.rule.type, "region_code": d.region_code, "owner_id": d.owner_id,
            "owner_role": d.owner_role, "owner_changes": None, "basis": d.basis, "start_on": d.start_on, "due_on": sched.due_on,
            "due_at": sched.due_at, "counting": d.rule.counting, "provisional": sched.provisional,
            "ladder": sched.ladder, "next_level": level, "next_alert_at": at, "status": "open",
            "created_at": now, "closed_at": None, "closed_reason": None, "rules_version": version}


_EVIDENCE_FIELDS = select(t.evidence.c.case_id, t.evidence.c.type, t.evidence.c.fields).where(
    t.evidence.c.id.in_(bindparam("ids", expanding=True)))
_OPEN_OF_RULES = select(t.deadlines.c.id, t.deadlines.c.case_id, t.deadlines.c.rule).where(
    t.deadlines.c.case_id.in_(bindparam("ids", expanding=True)), t.deadlines.c.status == "open")


def after_evidence(app, conn: Connection, evidence_ids: Sequence[int], types: Iterable[str]) -> None:
    """Evidence that shows the work done (keys handed over, renovation accepted) closes its deadline."""
    rules = compiled(app.config)
    if rules is None or not rules.evidence_closers:
        return
    wanted = {u.evidence.partition(".")[0] for r in rules.evidence_closers.values() for u in r.until if u.evidence}
    if not wanted & set(types):
        return
    met: set[tuple[int, str]] = set()
    for ev in conn.execute(_EVIDENCE_FIELDS, {"ids": list(evidence_ids)}):
        for name, rule in rules.evidence_closers.items():
            for u in rule.until:
                etype, _, fname = (u.evidence or "").partition(".")
                if etype == ev.type and ev.fields.get(fname) is True:
                    met.add((ev.case_id, name))
    if not met:
        return
    now = app.clock.now()
    rows = conn.execute(_OPEN_OF_RULES, {"ids": sorted({c for c, _ in met})}).all()
    closes = [{"b_id": r.id, "b_status": "done", "b_at": now, "b_reason": "evidence"} for r in rows
              if (r.case_id, r.rule) in met]
    if closes:
        conn.execute(_CLOSE, closes)


# --- a changed rule moves open due times ---------------------------------------------------------

_PROVINCE = func.substr(t.deadlines.c.region_code, literal_column("1"), literal_column("2"))   # same SQL twice
_LADDER_TEXT = cast(t.deadlines.c.ladder, Text)     # deadlines of a group share their stored ladder
_GROUPS = select(t.deadlines.c.rule, t.deadlines.c.basis, t.deadlines.c.start_on, t.deadlines.c.due_on,
                 _PROVINCE.label("province"), t.deadlines.c.next_level,
                 t.deadlines.c.due_at, t.deadlines.c.next_alert_at, t.deadlines.c.provisional,
                 _LADDER_TEXT.label("ladder_text"), func.count().label("n")).where(
    t.deadlines.c.status == "open").group_by(
    t.deadlines.c.rule, t.deadlines.c.basis, t.deadlines.c.start_on, t.deadlines.c.due_on,
    _PROVINCE, t.deadlines.c.next_level, t.deadlines.c.due_at,
    t.deadlines.c.next_alert_at, t.deadlines.c.provisional, _LADDER_TEXT)
# Its equalities on (rule, status, due_on, start_on) use the index ix_deadlines_rule_due.
_MOVE = update(t.deadlines).where(
    t.deadlines.c.rule == bindparam("b_rule"), t.deadlines.c.status == "open",
    t.deadlines.c.due_on == bindparam("b_due"), t.deadlines.c.start_on == bindparam("b_start"),
    t.deadlines.c.basis == bindparam("b_basis"), t.deadlines.c.region_code.like(bindparam("b_province")),
    or_(t.deadlines.c.next_level == bindparam("b_level"),
        and_(t.deadlines.c.next_level.is_(None), bindparam("b_level_null"))),
    _LADDER_TEXT == bindparam("b_ladder", type_=Text)
).values(basis=bindparam("basis"), due_on=bindparam("due_on"), due_at=bindparam("due_at"), ladder=bindparam("ladder"),
         next_level=bindparam("next_level"), next_alert_at=bindparam("next_alert_at"),
         provisional=bindparam("provisional"), rules_version=bindparam("rules_version"))
_RETIRE = update(t.deadlines).where(t.deadlines.c.status == "open", t.deadlines.c.rule == bindparam("b_rule")).values(
    status="cancelled", closed_at=bindparam("b_at"), closed_reason="rule removed")


def next_after_passed(old_ladder: list[dict], old_next: int | None, new_ladder: list[dict]) -> dict | None:
    """The level of `new_ladder` to alert next: the first one whose key was not passed in the old
    ladder (levels before `old_next` were alerted, or skipped as a reminder too late to send). A
    level inserted before them is alerted, not skipped; one already alerted is not alerted again."""
    passed = {key_of(e) for e in old_ladder if old_next is None or e["level"] < old_next}
    return next((e for e in new_ladder if key_of(e) not in passed), None)


def reschedule(conn: Connection, config: Config, now: datetime) -> dict[str, int]:
    """Recompute every open deadline's due time and ladder under `config`: one UPDATE statement
    (run for each group of deadlines that share a start, basis, ladder and level). Levels already
    alerted stay alerted, whatever their new position; a level new to the ladder is alerted at its
    time (at the next sweep if that has passed); a moved level is alerted at its new time."""
    rules = compiled(config)
    moves, retired, seen = [], 0, set()
    for g in conn.execute(_GROUPS).all():
        seen.add(g.rule)
        rule = rules.rules.get(g.rule) if rules else None
        if rule is None:
            continue
        basis = g.basis
        if basis.startswith("days:") and isinstance(rule.days, int):
            basis = f"days:{rule.days}"
        if basis.startswith("date:") and isinstance(rule.due, str):
            basis = f"date:{rule.due}"
        sched = rules.schedule(rule, basis, g.start_on, g.province, g.due_on if basis.startswith("field:") else None)
        old_ladder = json.loads(g.ladder_text)
        nxt = next_after_passed(old_ladder, g.next_level, sched.ladder)
        level, at = (nxt["level"], _parse_at(nxt["at"])) if nxt else (None, None)
        if (basis, sched.due_on, sched.provisional, aware(sched.due_at), sched.ladder, level, at) == \
                (g.basis, g.due_on, bool(g.provisional), aware(g.due_at), old_ladder, g.next_level,
                 aware(g.next_alert_at)):
            continue
        moves.append({"b_rule": g.rule, "b_basis": g.basis, "b_start": g.start_on, "b_due": g.due_on,
                      "b_province": g.province + "%", "b_level": g.next_level,
                      "b_level_null": g.next_level is None, "b_ladder": g.ladder_text, "basis": basis,
                      "due_on": sched.due_on, "due_at": sched.due_at,
                      "ladder": sched.ladder, "next_level": level, "next_alert_at": at,
                      "provisional": sched.provisional, "rules_version": config.version})
    moved = 0
    if moves:
        moved = conn.execute(_MOVE, moves).rowcount
    gone = [r for r in seen if rules is None or r not in rules.rules]
    if gone:
        retired = conn.execute(_RETIRE, [{"b_rule": r, "b_at": now} for r in gone]).rowcount
    return {"groups": len(moves), "moved": max(moved, 0), "retired": max(retired, 0)}


# --- the sweep ---------------------------------------------------------------------------------

_DUE = (select(t.deadlines).where(t.deadlines.c.status == "open", t.deadlines.c.next_alert_at <= bindparam("now"))
        .order_by(t.deadlines.c.next_alert_at).limit(bindparam("limit")))
_CASES = select(t.cases.c.id, t.cases.c.title, t.cases.c.kind, t.cases.c.stage, t.cases.c.region_code,
                t.cases.c.open_procedure_id, t.cases.c.pending_procedure, t.cases.c.pending_step).where(
    t.cases.c.id.in_(bindparam("ids", expanding=True)))
_MOVE_ON = update(t.deadlines).where(t.deadlines.c.id == bindparam("b_id"), t.deadlines.c.status == "open",
                                     t.deadlines.c.next_level == bindparam("b_old")).values(
    next_level=bindparam("b_next"), next_alert_at=bindparam("b_next_at"))
_PERSONS = select(t.persons.c.id, t.persons.c.code, t.persons.c.name).where(
    t.persons.c.id.in_(bindparam("ids", expanding=True)))
_REGION_NAMES = select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code.in_(bindparam("codes", expanding=True)))
MODES = ("all", "overdue", "reminders")


def _due_statement(conn: Connection, mode: str):
    stmt = _DUE
    if mode == "overdue":   # a reminder whose moment passed unsent is skipped, not sent late
        stmt = stmt.where(or_(t.deadlines.c.next_level >= 0, t.deadlines.c.due_at <= bindparam("now")))
    elif mode == "reminders":
        stmt = stmt.where(t.deadlines.c.next_level == -1, t.deadlines.c.due_at > bindparam("now"))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt


def take_write_lock(conn: Connection) -> None:
    """SQLite: take the database's write lock before reading, so two sweeps run one after the other."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("UPDATE deadlines SET id = id WHERE 0 = 1"))


@dataclass
class SweepResult:
    alerts: int = 0
    messages: int = 0
    reminders: int = 0
    cancelled: int = 0
    batches: int = 0
    by_level: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"alerts": self.alerts, "messages": self.messages, "reminders": self.reminders,
                "cancelled": self.cancelled, "batches": self.batches,
                "by_level": {str(k): v for k, v in sorted(self.by_level.items())}}


def sweep(app, now: datetime | None = None, mode: str = "all", batch: int = BATCH,
          stop_after: int | None = None, timings: dict | None = None) -> SweepResult:
    """Alert every ladder level that has fallen due, once; batches of `batch` deadlines, each
    committed with its alerts and their messages. `stop_after` (batches) is for tests;
    `timings` (a dict) gets the seconds spent selecting due deadlines (for the benchmark)."""
    if mode not in MODES:
        from engine.domain.errors import BadInput
        raise BadInput("alerts.bad_mode", mode=mode, known=", ".join(MODES))
    now = aware(now or app.clock.now())
    rules = compiled(app.config)
    result = SweepResult()
    if rules is None:
        return result
    while stop_after is None or result.batches < stop_after:
        with app.transaction() as conn:
            take_write_lock(conn)
            began = perf_counter()
            rows = conn.execute(_due_statement(conn, mode), {"now": now, "limit": batch}).all()
            if timings is not None:
                timings["select"] = timings.get("select", 0.0) + perf_counter() - began
            if not rows:
                break
            _alert_batch(app, conn, rules, rows, now, mode, result)
        result.batches += 1
        if len(rows) < batch:
            break
    return result


def _alert_batch(app, conn: Connection, rules: Rules, rows: list, now: datetime, mode: str,
                 result: SweepResult) -> None:
    cases = {c.id: c for c in conn.execute(_CASES, {"ids": sorted({r.case_id for r in rows})})}
    moves, cancels, alerts = [], [], []
    rows = [SimpleNamespace(**r._asdict()) for r in rows]     # the owner may be re-found below
    for r in rows:
        case = cases.get(r.case_id)
        reason = _stale(rules, r, case)
        if reason:
            cancels.append({"b_id": r.id, "b_status": "cancelled", "b_at": now, "b_reason": reason})
            continue
        due_at = aware(r.due_at)
        handled, nxt = [], None
        for entry in r.ladder:
            if entry["level"] < r.next_level:
                continue
            at = _parse_at(entry["at"])
            if entry["level"] < 0:
                if due_at <= now:
                    continue      # the reminder's moment passed unswept: it is overdue now, say that
                if mode == "overdue" or at > now:
                    nxt = entry
                    break
            elif mode == "reminders" or at > now:
                nxt = entry
                break
            handled.append(entry)
        alerts.extend((r, e) for e in handled)
        moves.append({"b_id": r.id, "b_old": r.next_level, "b_next": nxt["level"] if nxt else None,
                      "b_next_at": _parse_at(nxt["at"]) if nxt else None})
    if cancels:
        conn.execute(_CLOSE, cancels)
        result.cancelled += len(cancels)
    if alerts:
        _refind_owners(app, conn, rules, {r.id: r for r, e in alerts if e["to"] == "owner"}.values(), cases, now)
        recipients = _recipients(conn, [(r, e, cases[r.case_id]) for r, e in alerts])
        channels = app.plugins.channels_of(conn, [p[0] for ps in recipients.values() for p in ps])
        created = _insert_alerts(conn, [
            {"deadline_id": r.id, "level": e["level"], "rung": key_of(e), "case_id": r.case_id, "rule": r.rule,
             "region_code": r.region_code, "created_at": now, "due_at": aware(r.due_at),
             "provisional": bool(r.provisional),
             "recipients": [list(p) for p in recipients[(r.id, e["level"])]],
             "detail": {"to": e["to"], "after": e["after"], "at": e["at"], "due_on": r.due_on.isoformat(),
                        "owner_id": r.owner_id, "step": r.step_key}}
            for r, e in alerts])
        by_key = {(r.id, key_of(e)): (r, e) for r, e in alerts}
        messages = []
        for alert_id, deadline_id, rung in created:
            r, e = by_key[(deadline_id, rung)]
            level = e["level"]
            messages.append(AlertMessage(alert_id, r, e, cases[r.case_id], recipients[(deadline_id, level)]))
            result.by_level[level] += 1
            if level < 0:
                result.reminders += 1
        result.alerts += len(created)
        result.messages += app.plugins.enqueue_alerts(app, conn, messages, now, channels)
    if moves:
        conn.execute(_MOVE_ON, moves)


def _stale(rules: Rules, r, case) -> str | None:
    """A deadline whose work no longer applies is cancelled by the sweep instead of alerted."""
    if case is None:
        return "case gone"
    rule = rules.rules.get(r.rule)
    if rule is None:
        return None
    if r.type == "waiting" and (case.open_procedure_id != r.procedure_id or case.pending_step != r.step_key):
        return "no longer waiting"
    if r.type == "stage" and case.stage not in {tr.enters for tr in rule.when if tr.enters}:
        return f"stage:{case.stage}"
    return None


# --- the owner, as of the alert ------------------------------------------------------------------

_POSTS_OF = (select(t.role_assignments.c.person_id, t.role_assignments.c.role, t.role_assignments.c.region_code)
             .where(t.role_assignments.c.person_id.in_(bindparam("ids", expanding=True)),
                    t.role_assignments.c.revoked_at.is_(None)))
_ACTIVE = select(t.persons.c.id, t.persons.c.active).where(t.persons.c.id.in_(bindparam("ids", expanding=True)))
_SIGNERS = select(t.steps.c.procedure_id, t.steps.c.person_id, t.steps.c.data).where(
    t.steps.c.procedure_id.in_(bindparam("ids", expanding=True)), t.steps.c.voided_at.is_(None))
_SET_OWNER = update(t.deadlines).where(t.deadlines.c.id == bindparam("b_id")).values(
    owner_id=bindparam("b_owner"), owner_role=bindparam("b_role"), owner_changes=bindparam("b_changes"))


def _refind_owners(app, conn: Connection, rules: Rules, rows: Iterable, cases: dict, now: datetime) -> None:
    """An owner is named when the deadline is made; when their alert falls due they may have left
    the post over the case's region (or be inactive, or no longer the household's first pairing
    cadre). Then the owner is found again as at creation, from the rule's owner roles (the nearest
    holder), and the change is recorded on the deadline. A deadline that had nobody gets someone
    once a post is filled. A person named with no role to find another by (a rectification's
    assignee) stays the owner until the work is assigned again."""
    rows = list(rows)
    if not rows:
        return
    ids = sorted({r.owner_id for r in rows if r.owner_id is not None})
    posts: dict[int, list] = defaultdict(list)
    active: dict[int, bool] = {}
    if ids:
        for p in conn.execute(_POSTS_OF, {"ids": ids}):
            posts[p.person_id].append(p)
        active = {p.id: bool(p.active) for p in conn.execute(_ACTIVE, {"ids": ids})}
    pairing = [r.case_id for r in rows if rules.rules.get(r.rule) is not None
               and rules.rules[r.rule].owner == "pairing_cadre"]
    cadres: dict[int, int] = {}
    if pairing:
        for c in conn.execute(_FIRST_CADRES, {"ids": sorted(set(pairing))}):
            cadres.setdefault(c.case_id, c.person_id)

    def why_not(r) -> str | None:
        rule = rules.rules.get(r.rule)
        if r.owner_id is None:
            return "no owner"
        if not active.get(r.owner_id, False):
            return "inactive"
        if rule is not None and rule.owner == "pairing_cadre" and cadres.get(r.case_id) != r.owner_id:
            return "pairing changed"
        if not any(covers(p.region_code, r.region_code) and (r.owner_role is None or p.role == r.owner_role)
                   for p in posts.get(r.owner_id, ())):
            return "post ended"
        return None

    lost = [(r, reason) for r in rows if (reason := why_not(r))]
    if not lost:
        return
    wanted = {r.id: _owner_roles(app, rules, r, cases.get(r.case_id)) for r, _ in lost}
    roles = sorted({role for spec in wanted.values() if spec for role in spec})
    holders = conn.execute(_HOLDERS, {"roles": roles, "regions": sorted(
        {a for r, _ in lost for a in ancestors_of(r.region_code)})}).all() if roles else []
    waiting = sorted({r.procedure_id for r, _ in lost if r.type == "waiting" and r.procedure_id})
    took_part: dict[int, set] = defaultdict(set)
    for s in (conn.execute(_SIGNERS, {"ids": waiting}) if waiting else ()):
        took_part[s.procedure_id].add(s.person_id)        # who took part may not review (as at creation)
        took_part[s.procedure_id].update((s.data or {}).get("verifier_ids", []))
    changes = []
    for r, reason in lost:
        rule = rules.rules.get(r.rule)
        if rule is not None and rule.owner == "pairing_cadre":
            owner, role = cadres.get(r.case_id), "pairing_cadre"
        elif wanted[r.id]:
            owner, role = _nearest_owner(holders, wanted[r.id], r.region_code,
                                         frozenset(took_part.get(r.procedure_id, ())))
        else:   # a named person and no role to find another by (a rectification's assignee): kept
            continue
        if owner == r.owner_id:
            continue
        record = {"at": now.isoformat(), "from": r.owner_id, "to": owner, "role": role, "reason": reason}
        r.owner_changes = list(r.owner_changes or []) + [record]
        r.owner_id, r.owner_role = owner, role
        changes.append({"b_id": r.id, "b_owner": owner, "b_role": role, "b_changes": r.owner_changes})
    if changes:
        conn.execute(_SET_OWNER, changes)


def _owner_roles(app, rules: Rules, r, case) -> tuple[str, ...] | None:
    rule = rules.rules.get(r.rule)
    if rule is None:
        return None
    if rule.owner == "step_roles":
        workflow = app.config.workflows.get(case.kind) if case is not None else None
        procedure = workflow.procedures.get(case.pending_procedure) if workflow and case.pending_procedure else None
        step = next((s for s in procedure.steps if s.key == r.step_key), None) if procedure else None
        return tuple(step.roles) if step else None
    if isinstance(rule.owner, OwnerSpec) and rule.owner.roles:
        return tuple(rule.owner.roles)
    return None


def _recipients(conn: Connection, items: list) -> dict[tuple[int, int], list[tuple[int, str, str]]]:
    """(deadline, level) -> [(person id, code, name)]: the owner, or for each of the level's roles its
    nearest holders over the case (a county inspector, not also the province's)."""
    roles = sorted({role for _, e, _ in items if e["to"] != "owner" for role in e["to"]})
    holders = []
    if roles:
        regions = sorted({a for r, _, _ in items for a in ancestors_of(r.region_code)})
        holders = conn.execute(_HOLDERS, {"roles": roles, "regions": regions}).all()
    depth = {h.region_code: len(prefix(h.region_code)) for h in holders}
    found: dict[tuple[int, int], list[int]] = {}
    for r, e, _ in items:
        if e["to"] == "owner":
            ids = [r.owner_id] if r.owner_id is not None else []
        else:
            ids = []
            for role in e["to"]:
                over = [h for h in holders if h.role == role and covers(h.region_code, r.region_code)]
                nearest = max((depth[h.region_code] for h in over), default=None)
                ids.extend(h.person_id for h in over if depth[h.region_code] == nearest)
            ids = list(dict.fromkeys(ids))
        found[(r.id, e["level"])] = ids
    all_ids = sorted({i for ids in found.values() for i in ids})
    people = {p.id: (p.id, p.code, p.name) for p in conn.execute(_PERSONS, {"ids": all_ids})} if all_ids else {}
    return {k: [people[i] for i in ids if i in people] for k, ids in found.items()}


def _insert_alerts(conn: Connection, rows: list[dict]) -> list[tuple[int, int, str]]:
    """Insert alerts that do not exist yet; returns (id, deadline id, rung) of those inserted."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(t.alerts).on_conflict_do_nothing(index_elements=["deadline_id", "rung"]).returning(
        t.alerts.c.id, t.alerts.c.deadline_id, t.alerts.c.rung)
    return [tuple(r) for r in conn.execute(stmt, rows)]


# --- the daily digest ----------------------------------------------------------------------------

_OVERDUE_GROUPS = select(t.deadlines.c.region_code, t.deadlines.c.rule, t.deadlines.c.provisional,
                         func.count().label("n"), func.min(t.deadlines.c.due_at).label("oldest")).where(
    t.deadlines.c.status == "open", t.deadlines.c.due_at <= bindparam("now")).group_by(
    t.deadlines.c.region_code, t.deadlines.c.rule, t.deadlines.c.provisional)
_OLDEST_IN = (select(t.deadlines.c.id, t.deadlines.c.case_id, t.deadlines.c.rule, t.deadlines.c.step_key,
                     t.deadlines.c.due_on, t.deadlines.c.owner_id, t.deadlines.c.provisional, t.deadlines.c.next_level,
                     t.cases.c.title)
              .join(t.cases, t.cases.c.id == t.deadlines.c.case_id)
              .where(t.deadlines.c.status == "open", t.deadlines.c.due_at <= bindparam("now"),
                     t.deadlines.c.region_code.like(bindparam("prefix")))
              .order_by(t.deadlines.c.due_at, t.deadlines.c.id).limit(10))


def digest(app, now: datetime | None = None) -> dict[str, int]:
    """One message per supervisor and day: what is overdue in their jurisdiction (idempotent per day)."""
    now = aware(now or app.clock.now())
    rules = compiled(app.config)
    if rules is None or not rules.file.digest_roles:
        return {"supervisors": 0, "messages": 0, "unreachable": []}
    day = now.astimezone(rules.tz).date()
    with app.transaction() as conn:
        take_write_lock(conn)
        groups = conn.execute(_OVERDUE_GROUPS, {"now": now}).all()
        if not groups:
            return {"supervisors": 0, "messages": 0, "unreachable": []}
        supervisors = conn.execute(
            select(t.role_assignments.c.person_id, t.role_assignments.c.role, t.role_assignments.c.region_code,
                   t.persons.c.code, t.persons.c.name)
            .join(t.persons, t.persons.c.id == t.role_assignments.c.person_id)
            .where(t.role_assignments.c.role.in_(list(rules.file.digest_roles)),
                   t.role_assignments.c.revoked_at.is_(None), t.persons.c.active.is_(True))
            .order_by(t.role_assignments.c.person_id)).all()
        posts: dict[int, dict] = {}
        for s in supervisors:
            entry = posts.setdefault(s.person_id, {"person": (s.person_id, s.code, s.name), "regions": set()})
            entry["regions"].add(s.region_code)
        digests = []
        for pid, entry in posts.items():
            mine = [g for g in groups if any(covers(reg, g.region_code) for reg in entry["regions"])]
            if not mine:
                continue
            by_rule = Counter()
            provisional = 0
            for g in mine:
                by_rule[g.rule] += g.n
                provisional += g.n if g.provisional else 0
            oldest = []
            for reg in sorted(entry["regions"]):
                oldest += conn.execute(_OLDEST_IN, {"now": now, "prefix": prefix(reg) + "%"}).all()
            oldest = sorted({o.id: o for o in oldest}.values(), key=lambda o: (o.due_on, o.id))[:10]
            digests.append({"person": entry["person"], "total": sum(by_rule.values()), "by_rule": dict(by_rule),
                            "provisional": provisional, "oldest": oldest})
        sent, unreachable = app.plugins.enqueue_digests(app, conn, digests, day, now)
    return {"supervisors": len(digests), "messages": sent, "unreachable": unreachable}


# --- reading -------------------------------------------------------------------------------------

def deadline_rows(app, actor, *, mine: bool = False, status: str | None = "open", overdue: bool = False,
                  region: str | None = None, rule: str | None = None, case_id: int | None = None,
                  limit: int | None = None) -> list[dict[str, Any]]:
    """Deadlines in the reader's jurisdiction, oldest due first."""
    now = aware(app.clock.now())
    q = (select(t.deadlines, t.cases.c.title, t.persons.c.code.label("owner_code"), t.persons.c.name.label("owner_name"))
         .join(t.cases, t.cases.c.id == t.deadlines.c.case_id)
         .outerjoin(t.persons, t.persons.c.id == t.deadlines.c.owner_id)
         .order_by(t.deadlines.c.due_at, t.deadlines.c.id))
    if status:
        q = q.where(t.deadlines.c.status == status)
    if overdue:
        q = q.where(t.deadlines.c.due_at <= now)
    if region:
        q = q.where(t.deadlines.c.region_code.like(prefix(region) + "%"))
    if rule:
        q = q.where(t.deadlines.c.rule == rule)
    if case_id:
        q = q.where(t.deadlines.c.case_id == case_id)
    if mine:
        q = q.where(t.deadlines.c.owner_id == actor.person_id)
    found = []
    with app.engine.connect() as conn:
        for r in conn.execute(q.execution_options(yield_per=BATCH)):
            if not any(covers(a.region_code, r.region_code) for a in actor.assignments):
                continue
            due_at = aware(r.due_at)
            found.append({
                "id": r.id, "case": r.case_id, "title": r.title, "rule": r.rule, "step": r.step_key,
                "subject": r.subject or None, "region": r.region_code, "owner": r.owner_code, "owner_name": r.owner_name,
                "owner_role": r.owner_role, "start_on": r.start_on.isoformat(), "due_on": r.due_on.isoformat(),
                "counting": r.counting, "provisional": bool(r.provisional), "status": r.status,
                "overdue": r.status == "open" and due_at <= now,
                "next_level": r.next_level, "next_alert_at": aware(r.next_alert_at).isoformat() if r.next_alert_at else None,
                "closed_reason": r.closed_reason, "rules_version": r.rules_version})
            if limit and len(found) >= limit:
                break
    return found


ALERT_STATUSES = ("pending", "delivered", "failed")
_OF_ALERT = t.outbox.c.alert_id == t.alerts.c.id
_N_RECIPIENTS = func.json_array_length(t.alerts.c.recipients)
# Failed: a message failed for good, a recipient no channel reaches (fewer people messaged than
# named), or nobody to send it to. Pending: else, a message still waits (or is being sent).
_FAILED = or_(exists().where(_OF_ALERT, t.outbox.c.status == "failed"), _N_RECIPIENTS == 0,
              select(func.count(t.outbox.c.person_id.distinct())).where(_OF_ALERT).scalar_subquery() < _N_RECIPIENTS)
_WAITING = exists().where(_OF_ALERT, t.outbox.c.status.in_(("pending", "sending")))
_ALERT_MESSAGES = select(t.outbox.c.alert_id, t.outbox.c.person_id, t.outbox.c.channel, t.outbox.c.status,
                         t.outbox.c.attempts, t.outbox.c.last_error).where(
    t.outbox.c.alert_id.in_(bindparam("ids", expanding=True))).order_by(t.outbox.c.id)


def alert_rows(app, actor, *, mine: bool = False, level: int | None = None, status: str | None = None,
               region: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Alerts in the reader's jurisdiction, newest first, with how their messages fared; every
    filter is in the query, which is read in batches and stops at `limit`.

    status: pending (a message still waits), delivered (all delivered), failed (a message failed
    for good, or a recipient has no channel to reach them)."""
    if not actor.assignments:
        return []
    q = (select(t.alerts, t.deadlines.c.owner_id, t.deadlines.c.due_on, t.deadlines.c.status.label("deadline_status"),
                t.deadlines.c.step_key, t.cases.c.title)
         .join(t.deadlines, t.deadlines.c.id == t.alerts.c.deadline_id)
         .join(t.cases, t.cases.c.id == t.alerts.c.case_id)
         .where(or_(*[t.alerts.c.region_code.like(prefix(a.region_code) + "%")
                      for a in actor.assignments]))
         .order_by(t.alerts.c.id.desc()))
    if level is not None:
        q = q.where(t.alerts.c.level == level)
    if region:
        q = q.where(t.alerts.c.region_code.like(prefix(region) + "%"))
    if status == "failed":
        q = q.where(_FAILED)
    elif status == "pending":
        q = q.where(~_FAILED, _WAITING)
    elif status == "delivered":
        q = q.where(~_FAILED, ~_WAITING)
    if mine:   # the recipients are JSON [[id, code, name], …]: the text narrows, Python confirms
        q = q.where(or_(t.deadlines.c.owner_id == actor.person_id,
                        cast(t.alerts.c.recipients, Text).like(f"%[{int(actor.person_id)},%")))
    elif limit:
        q = q.limit(limit)
    rows: list[dict[str, Any]] = []
    with app.engine.connect() as conn:
        for part in conn.execute(q.execution_options(yield_per=BATCH)).partitions():
            if mine:
                part = [r for r in part if r.owner_id == actor.person_id
                        or any(p[0] == actor.person_id for p in r.recipients)]
            if limit:
                part = part[:limit - len(rows)]
            rows += _alert_dicts(conn, part)
            if limit and len(rows) >= limit:
                break
        if status == "failed" and (not limit or len(rows) < limit):
            rows += _failed_digests(conn, actor, mine, limit - len(rows) if limit else None)
    return rows


def _alert_dicts(conn: Connection, part: Sequence) -> list[dict[str, Any]]:
    if not part:
        return []
    messages: dict[int, list] = defaultdict(list)
    for m in conn.execute(_ALERT_MESSAGES, {"ids": [r.id for r in part]}):
        messages[m.alert_id].append(m)
    owner_ids = sorted({r.owner_id for r in part if r.owner_id})
    owners = {p.id: p.code for p in conn.execute(_PERSONS, {"ids": owner_ids})} if owner_ids else {}
    found = []
    for r in part:
        msgs = messages.get(r.id, [])
        reached = {m.person_id for m in msgs}
        unreachable = [p[1] for p in r.recipients if p[0] not in reached]
        if any(m.status == "failed" for m in msgs) or unreachable or not r.recipients:
            state = "failed"
        elif any(m.status in ("pending", "sending") for m in msgs):
            state = "pending"
        else:
            state = "delivered"
        found.append({
            "id": r.id, "deadline": r.deadline_id, "level": r.level, "case": r.case_id, "title": r.title,
            "rule": r.rule, "step": r.step_key, "region": r.region_code, "owner": owners.get(r.owner_id),
            "due_on": r.due_on.isoformat(), "overdue_since": aware(r.due_at).isoformat(),
            "created_at": aware(r.created_at).isoformat(), "provisional": bool(r.provisional),
            "recipients": [p[1] for p in r.recipients], "unreachable": unreachable, "status": state,
            "deadline_status": r.deadline_status,
            "messages": [{"person": m.person_id, "channel": m.channel, "status": m.status, "attempts": m.attempts,
                          "error": m.last_error} for m in msgs]})
    return found


def _failed_digests(conn: Connection, actor, mine: bool, limit: int | None = None) -> list[dict[str, Any]]:
    q = (select(t.outbox, t.persons.c.code).join(t.persons, t.persons.c.id == t.outbox.c.person_id)
         .where(t.outbox.c.alert_id.is_(None), t.outbox.c.status == "failed").order_by(t.outbox.c.id.desc()))
    admin_like = any(a.region_code == "000000000000" for a in actor.assignments)
    if mine or not admin_like:
        q = q.where(t.outbox.c.person_id == actor.person_id)
    if limit:
        q = q.limit(limit)
    return [{"id": None, "kind": "digest", "outbox": m.id, "recipients": [m.code], "status": "failed",
             "created_at": aware(m.created_at).isoformat(), "provisional": False, "level": None,
             "messages": [{"person": m.person_id, "channel": m.channel, "status": m.status,
                           "attempts": m.attempts, "error": m.last_error}]}
            for m in conn.execute(q)]


def provisional_open(app) -> int:
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.deadlines).where(
            t.deadlines.c.status == "open", t.deadlines.c.provisional.is_(True))).scalar()


def calendar_warnings(config: Config, today: date) -> list[str]:
    """Working-day rules that reach into a year no calendar knows (their deadlines are provisional)."""
    rules = compiled(config)
    if rules is None:
        return []
    working = [n for n, r in rules.rules.items() if r.counting == "working"]
    if not working:
        return []
    reach = 0
    for name in working:
        rule = rules.rules[name]
        days = rule.days.by_level.values() if isinstance(rule.days, DaysParam) and rule.days.by_level else \
            [rule.days] if isinstance(rule.days, int) else [60]
        ladders = [rules.file.ladders[rule.ladder]] + [rules.file.ladders[n] for n in rule.ladder_by_level.values()]
        reach = max(reach, max(days, default=0) + max((lv.after for ld in ladders for lv in ld), default=0))
    # Working days are at most 5 of 7 calendar days; holidays stretch that a little more.
    horizon = today + timedelta(days=reach * 7 // 5 + 14)
    unknown = [y for y in range(today.year, horizon.year + 1) if not rules.calendar.knows(y)]
    if not unknown:
        return []
    return [f"working-day rules ({', '.join(working)}) count into {', '.join(map(str, unknown))}, which neither "
            f"the calendar package (knows to {rules.calendar.last_known_year}) nor deadlines.yaml calendar.years "
            f"knows: such deadlines are computed on weekends alone and marked provisional. Add the year's "
            f"schedule to calendar.years when the State Council publishes it and `config install` it, or "
            f"upgrade the chinese-calendar package and run `jingzhun deadline reschedule`."]
