"""Deadline rules compiled for one configuration, and the ladder arithmetic (DOMAIN §6).

No database here: the due date and escalation ladder of a deadline from its rule, basis, start
and province (`Rules.schedule`), a ladder level's stable key, which level comes next after a
ladder changed, and the nearest holder of a role over a region.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Sequence, TYPE_CHECKING
from zoneinfo import ZoneInfo

from config import Config
from engine.domain.calendar import WorkCalendar, office_time
from engine.domain.regions import LEVEL_RANK, covers, prefix, province_of

if TYPE_CHECKING:      # the configuration's models (pydantic): imported where a rule is read
    from config.deadlines import RuleDef

UTC = timezone.utc


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
                return entry["level"], parse_at(entry["at"])
        return None, None


def parse_at(value: str) -> datetime:
    return aware(datetime.fromisoformat(value))


REMINDER = "reminder"
ENDED_STAGE = "removed"     # a case that leaves for good: its open work is cancelled, not done


def key_of(entry: dict) -> str:
    """A ladder level's stable key (ladders stored before keys existed derive it the same way)."""
    from config.deadlines import rung_key     # with the models: not for a read's start-up
    if entry["level"] < 0:
        return REMINDER
    return entry.get("key") or rung_key(entry["to"])


def whom(entry: dict) -> str:
    """To whom a ladder level goes: "owner", or its roles joined by "+"."""
    return "owner" if entry["to"] == "owner" else "+".join(entry["to"])


def reached(ladder: Sequence[dict] | None, key: str | None) -> str | None:
    """To whom the level `key` of a deadline's ladder went (see `whom`): a level with a key of its
    own is found by it; a key no longer in the ladder is given back as it is."""
    if key is None:
        return None
    return next((whom(e) for e in ladder or () if key_of(e) == key), key)


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
        self.limited = {kind: limited_procedures(kind_rules) for kind, kind_rules in self.by_kind.items()}

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
        entries = [self._reminder(rule, due_on, start_on)] if self.file.reminder_days else []
        entries = [e for e in entries if e is not None]
        entries += [self._level(rule, due_on, level, step) for level, step in enumerate(self.ladder_for(rule, basis))]
        flags = [e.pop("provisional") for e in entries]     # the ladder stored keeps no such key
        provisional = provisional or any(flags)
        return Schedule(due_on, due_at, entries, provisional)

    def _reminder(self, rule: RuleDef, due_on: date, start_on: date) -> dict[str, Any] | None:
        """The due-soon reminder, unless it would come on or before the start."""
        counted = self.calendar.add(due_on, -self.file.reminder_days, rule.counting)
        if counted.day <= start_on:
            return None
        return {"level": -1, "key": REMINDER, "after": -self.file.reminder_days, "to": "owner",
                "at": office_time(counted.day, self.alert_time, self.tz).isoformat(),
                "provisional": counted.provisional}

    def _level(self, rule: RuleDef, due_on: date, level: int, step) -> dict[str, Any]:
        """A ladder level: the morning after its day (the next working morning for working days)."""
        counted = self.calendar.add(due_on, step.after, rule.counting)
        day, provisional = counted.day + timedelta(days=1), counted.provisional
        if rule.counting == "working":   # alerts reach people on a working morning
            following = self.calendar.next_workday_after(counted.day)
            day, provisional = following.day, provisional or following.provisional
        return {"level": level, "key": step.rung_key, "after": step.after,
                "to": "owner" if step.to == "owner" else list(step.to),
                "at": office_time(day, self.alert_time, self.tz).isoformat(), "provisional": provisional}

    def role_level(self, roles: Iterable[str]) -> str:
        levels = [self.config.roles[r].level for r in roles if r in self.config.roles]
        return max(levels, key=lambda lv: LEVEL_RANK[lv]) if levels else "village"


_COMPILED: dict[int, tuple[Config, Rules]] = {}


OFFICE_ZONE = "Asia/Shanghai"      # without a deadlines.yaml (its `timezone` says otherwise)


def office_span(config: Config, first: date, after: date) -> tuple[datetime, datetime]:
    """From the start of day `first` to the start of day `after`, office time, in UTC."""
    rules = compiled(config)
    tz = rules.tz if rules is not None else None
    return aware(datetime.combine(first, time(), tz)), aware(datetime.combine(after, time(), tz))


def month_spans(config: Config, year: int) -> list[tuple[datetime, datetime]]:
    """The twelve months of `year`, each an office-time span (a report's exits by month)."""
    firsts = [date(year, m, 1) for m in range(1, 13)] + [date(year + 1, 1, 1)]
    return [office_span(config, lo, hi) for lo, hi in zip(firsts, firsts[1:])]


def office_zone(config: Config) -> ZoneInfo:
    """The office's time zone: deadlines.yaml's `timezone`, else China's."""
    rules = compiled(config)
    return rules.tz if rules is not None else ZoneInfo(OFFICE_ZONE)


def wall_clock(config: Config, moment: datetime | str | None) -> str:
    """A stored time (a datetime or its ISO text; without a zone it is UTC, as stored) on the office's
    clock, to the minute: how every page and list shows a time. Nothing: ''."""
    if moment is None or moment == "":
        return ""
    when = aware(moment if isinstance(moment, datetime) else datetime.fromisoformat(moment))
    return when.astimezone(office_zone(config)).strftime("%Y-%m-%d %H:%M")


def compiled(config: Config) -> Rules | None:
    if config.deadlines is None:
        return None
    found = _COMPILED.get(id(config))
    if found is None or found[0] is not config:
        found = _COMPILED[id(config)] = (config, Rules(config))
    return found[1]


def overdue_by(config: Config, due_on: date, today: date, counting: str) -> int:
    """Days `today` is past `due_on`, in the deadline's own kind of days (`counting`: calendar or
    working), 0 when not past: the one figure a mail, the overdue page and /work give, the unit named."""
    rules = compiled(config)
    if rules is None or counting == "calendar":
        return max(0, (today - due_on).days)
    return max(0, rules.calendar.days_between(due_on, today, counting)[0])


def owner_when(owner_id: int | None, changes: Sequence[dict] | None, moment: datetime) -> int | None:
    """Who held a deadline at `moment`: the owner a change after it took it from (`owner_changes`, oldest
    first: {at, from, to, ...}), else its owner now."""
    for change in changes or ():
        if aware(datetime.fromisoformat(change["at"])) > moment:
            return change.get("from")
    return owner_id


def handed_to(owner_id: int | None, changes: Sequence[dict] | None, due_at: datetime | None = None,
              now: datetime | None = None) -> dict[str, Any] | None:
    """How an open deadline's owner came to hold it when it was handed to them (the one before left, lost
    the post or the household's pairing changed, or they filled the vacant post; a step done, which hands a
    deadline to the next step's posts, is no hand-over): {at (aware), came_from (person id of whoever held
    it last before them, through a vacancy; None: nobody ever did), lapsed_under (when it was past due at
    `due_at` before it came to them: the person id who held it then, None for nobody; the key absent when it
    lapsed in their hands or is not overdue)}. None: they held it from the start or by a step."""
    changes = list(changes or ())
    if owner_id is None or not changes:
        return None
    last = max((i for i, c in enumerate(changes) if c.get("to") == owner_id), default=None)
    if last is None or str(changes[last].get("reason") or "").startswith("step:"):
        return None
    first = last
    while first > 0 and changes[first].get("from") is None and changes[first - 1].get("to") is None:
        first -= 1
    at = aware(datetime.fromisoformat(changes[last]["at"]))
    found: dict[str, Any] = {"at": at, "came_from": changes[first].get("from")}
    if due_at is not None and aware(due_at) < at and (now is None or aware(due_at) <= aware(now)):
        found["lapsed_under"] = owner_when(owner_id, changes, aware(due_at))
    return found


def lapse(config: Config, d: Any) -> dict[str, Any] | None:
    """A deadline closed after its due time (met late, or ended with its procedure once overdue): the office
    day it closed, by how many of its own days (`counting`: calendar or working) it was late, and who held it
    when it lapsed (a person id); None for one open or closed in time (or on the rest days after it). `d` has the deadline's status,
    due_on, due_at, closed_at, counting, owner_id and owner_changes: data every deadline keeps; and `met_on`, the
    date borne by a step entered after the fact that closed it (a paper file's), by which it is judged instead."""
    if d.status == "open" or d.closed_at is None or aware(d.closed_at) <= aware(d.due_at):
        return None
    # closed by a step entered after the fact: judged by the date that step bears (`met_on`), not its entry
    closed_on = getattr(d, "met_on", None) or aware(d.closed_at).astimezone(office_zone(config)).date()
    if closed_on <= d.due_on:
        return None
    late_by = overdue_by(config, d.due_on, closed_on, d.counting)      # 0: closed on a rest day after it
    return {"closed_on": closed_on, "late_by": late_by,
            "held_by": owner_when(d.owner_id, d.owner_changes, aware(d.due_at))} if late_by else None


def basis_of(rule: RuleDef, level: str | None = None) -> str:
    from config.deadlines import DaysParam, DueOn     # with the models: not for a read's start-up
    if isinstance(rule.days, int):
        return f"days:{rule.days}"
    if isinstance(rule.days, DaysParam):
        return f"param:{rule.days.param}" if rule.days.param else f"level:{level or 'village'}"
    if isinstance(rule.due, str):
        return f"date:{rule.due}"
    if isinstance(rule.due, DueOn) and rule.due.monthly:
        return f"monthly:{rule.due.monthly}"
    return f"field:{rule.due.field}"


def value_of(name: str, data: dict, attrs: dict, item: dict | None = None):
    for source in (item or {}, data or {}, attrs or {}):
        if source.get(name) not in (None, ""):
            return source[name]
    return None


def as_date(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None

def roles_at(config: Config, step, region_code: str, day: date) -> tuple[str, ...]:
    """The roles that may do `step` on a case of `region_code` on `day`. A step whose approver level is
    configuration (`level_param`, e.g. county or city by province) keeps only the roles of that level: a
    village's exit approved by the county in Jiangxi, by the city in Shaanxi, so the deadline that waits for
    it is the county's (its days, its owner, its ladder) or the city's."""
    if step.level_param is None:
        return step.roles
    level = config.policy.params(province_of(region_code), day.year)[step.level_param]
    return tuple(r for r in step.roles if config.roles[r].level == level)


def participants(p) -> list[int]:
    ids = [p.ctx.actor.person_id] + list(p.data.get("verifier_ids", []))
    for s in (p.open_proc.steps if p.open_proc else []):
        ids.append(s.person_id)
        ids.extend(s.data.get("verifier_ids", []))
    return ids


def owner_spec(rule: RuleDef, p, item: dict | None, exclude: Iterable[int] = ()) -> tuple:
    from config.deadlines import OwnerSpec     # with the models: not for a read's start-up
    if rule.owner == "pairing_cadre":
        return ("pairing",)
    if isinstance(rule.owner, OwnerSpec) and rule.owner.field:
        value = value_of(rule.owner.field, p.data, p.case.attrs, item)
        if value is not None:
            return ("person", int(value))
    if isinstance(rule.owner, OwnerSpec) and rule.owner.roles:
        return ("roles", tuple(rule.owner.roles), frozenset(exclude))
    return ()


def nearest_owner(holders, roles: Sequence[str], region_code: str, exclude=frozenset()) -> tuple[int | None, str]:
    """The first of `roles` held over the region, by its nearest holder (the lowest id among equals)."""
    eligible = [h for h in holders if h.role in roles and covers(h.region_code, region_code)
                and h.person_id not in exclude]
    if not eligible:
        return None, roles[0]
    best = min(eligible, key=lambda h: (roles.index(h.role), -len(prefix(h.region_code)), h.person_id))
    return best.person_id, best.role


def post_held(posts, region_code: str, roles: Sequence[str] = ()) -> str | None:
    """The role of the post a person named as owner holds over the region: the first of `roles` (the
    rule's) they hold there, else their nearest post; None when they hold none there."""
    over = [p for p in posts if covers(p.region_code, region_code)]
    if not over:
        return None
    rank = {role: i for i, role in enumerate(roles)}
    return min(over, key=lambda p: (rank.get(p.role, len(rank)), -len(prefix(p.region_code)), p.role)).role


def awaited_procedure(workflow, rule: RuleDef, stage: str | None) -> str | None:
    """The procedure whose step a rule's `until` names, among those a case at `stage` may start: the one its
    deadline waits in (a new plan after a reopening or once monitored: the plan's revision, not the exit that
    is the stage's main path and is refused until that plan is approved). None when the rule names no step."""
    if workflow is None:
        return None
    for until in rule.until:
        for name, proc in workflow.procedures.items():
            if until.step and stage in proc.sources and any(s.key == until.step for s in proc.steps):
                return name
    return None


def waits_in(workflow, rule: RuleDef, stage: str | None) -> str | None:
    """The procedure a stage's deadline waits in: the one holding the step that closes it, else the stage's
    main procedure (a plan after identification: the assistance, from its pairing)."""
    found = awaited_procedure(workflow, rule, stage)
    return found or (workflow.main_path.get(stage) if workflow is not None else None)


def dates_waiting(rule: RuleDef, step, before) -> bool:
    """Whether one of the rule's `waiting` triggers dates `step` once `before`, the step ahead of it, is done
    (a procedure's first step waits for nobody's: it is not dated so)."""
    after_notice = before.type == "notice"
    return any(tr.waiting is not None and ("any" in tr.waiting or step.type in tr.waiting)
               and tr.after_notice in (None, after_notice) for tr in rule.when)


def limited_procedures(kind_rules: dict[str, RuleDef]) -> frozenset[str]:
    """The procedures a rule of their own dates from their start to their end (`starts`: a monitored household
    identified within 15 days of the first clue): each of their steps is dated by that limit alone, never by a
    `waiting` rule too, so a late step is one lapse, on that limit, in every count, list and alert."""
    return frozenset(tr.starts for rule in kind_rules.values() for tr in rule.when if tr.starts)


def next_after_passed(old_ladder: list[dict], old_next: int | None, new_ladder: list[dict]) -> dict | None:
    """The level of `new_ladder` to alert next: the first one whose key was not passed in the old
    ladder (levels before `old_next` were alerted, or skipped as a reminder too late to send). A
    level inserted before them is alerted, not skipped; one already alerted is not alerted again."""
    passed = {key_of(e) for e in old_ladder if old_next is None or e["level"] < old_next}
    return next((e for e in new_ladder if key_of(e) not in passed), None)



def clear_compiled() -> None:
    """Forget the rules compiled so far (after the calendar's known years changed, in tests)."""
    _COMPILED.clear()
