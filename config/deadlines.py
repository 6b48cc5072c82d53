"""Deadline rules, escalation ladders and the working-day calendar (config/deadlines.yaml, DOMAIN §6).

Loaded and validated with the rest of the configuration; part of the rules version, so every
deadline records the rules it was computed under. A rule for a case kind that has no workflow yet
(e.g. fund projects) is kept but dormant, and `config check` says so.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal, Optional, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

from config.base import ConfigError, ConfigValueError, parse, read_yaml
from engine.domain.errors import Msg, stored

COUNTINGS = ("calendar", "working")
OWNER_KINDS = ("step_roles", "pairing_cadre")
# Rules whose deadline waits for a step and can follow it: a step waited for, a procedure (its next
# step), a stage (the next step of the stage's main procedure).
STEP_OWNED = ("waiting", "procedure", "stage")
LEVEL_NAMES = ("village", "township", "county", "city", "province")
_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalendarYear(_Strict):
    """A year's schedule as the State Council publishes it: public holidays and make-up working days."""
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()      # 调休上班: weekend days that are working days


class CalendarDef(_Strict):
    years: dict[int, CalendarYear] = {}


class LevelDef(_Strict):
    after: int = Field(ge=0)             # days after the due date (the rule's counting)
    to: Union[Literal["owner"], tuple[str, ...]]
    key: Optional[str] = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,39}$")   # see rung_key

    @property
    def rung_key(self) -> str:
        """What the level is, kept when levels are inserted before it or its days change: its own
        `key`, else who it goes to. Alerts are unique per (deadline, key), so a changed ladder
        neither alerts a level twice nor skips one (a level whose roles change is a new level
        unless it keeps its `key`)."""
        return self.key or rung_key(self.to)


def rung_key(to) -> str:
    return "owner" if to == "owner" else "+".join(sorted(to))


_TRIGGER_KEYS = ("enters", "waiting", "starts", "step", "measure", "outcome", "risk_visit", "sample_waiting",
                 "objection")


class Trigger(_Strict):
    """When a deadline starts; exactly one of the keys below the comment is given."""
    enters: Optional[str] = None         # the case enters this stage …
    source: tuple[str, ...] = Field(default=(), alias="from")   # … coming from one of these (any if empty)
    waiting: Optional[tuple[str, ...]] = None   # the case now waits for a step of these types ("any": all)
    after_notice: Optional[bool] = None  # with `waiting`: only right after a notice (True) / never (False)
    starts: Optional[str] = None         # a procedure of this name starts
    step: Optional[str] = None           # a step with this key is done (not rejected) …
    procedure: Optional[str] = None      # … in this procedure (any if not given)
    items: Optional[str] = None          # with `step`: one deadline per item of this list in the step's data
    measure: Optional[str] = None        # an assistance plan records a measure of this category
    outcome: Optional[tuple[str, ...]] = None   # an accountability outcome of these kinds is recorded on a problem item
    risk_visit: Optional[bool] = None    # a visit finds a risk of poverty: the first clue of the procedure the
    #                                      rule `starts` (its clock runs from the visit, before that procedure)
    sample_waiting: Optional[bool] = None   # a procedure of the household ends and a sample check's wrong exit
    #                                      recorded while it was under way still has no problem item (it waits
    #                                      for the county office's `problem add`); closed when one is registered
    objection: Optional[bool] = None     # an objection is filed on a notice listing the case; closed by its ruling

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_serializer(mode="wrap")
    def _dump(self, handler) -> dict[str, Any]:
        """As recorded in the rules version: a trigger that is no sample check's as before triggers could be."""
        data = handler(self)
        for key in ("sample_waiting", "objection"):      # as recorded before these triggers were
            if getattr(self, key) is None:
                data.pop(key, None)
        return data

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in _TRIGGER_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ConfigValueError("exactly_one", names=", ".join(_TRIGGER_KEYS))
        if self.source and self.enters is None:
            raise ConfigValueError("goes_with", name="from", other="enters")
        if self.after_notice is not None and self.waiting is None:
            raise ConfigValueError("goes_with", name="after_notice", other="waiting")
        if (self.items or self.procedure) and self.step is None:
            raise ConfigValueError("items_with_step")
        return self

    @property
    def type(self) -> str:
        return {"enters": "stage", "waiting": "waiting", "starts": "procedure", "step": "step", "measure": "measure",
                "outcome": "outcome", "risk_visit": "visit",
                "sample_waiting": "sample", "objection": "objection"}[
            next(k for k in _TRIGGER_KEYS if getattr(self, k) is not None)]


class Until(_Strict):
    """What else closes a deadline besides its own work being done; one key each."""
    enters: Optional[tuple[str, ...]] = None    # the case enters one of these stages
    leaves: Optional[str] = None                # the case leaves this stage
    step: Optional[str] = None                  # a step with this key is done …
    match: Optional[str] = None                 # … whose data[match] names the deadline's item
    evidence: Optional[str] = None              # TYPE.FIELD: evidence with this field true is attached

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in ("enters", "leaves", "step", "evidence") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ConfigValueError("exactly_one", names="enters, leaves, step, evidence")
        if self.match and self.step is None:
            raise ConfigValueError("goes_with", name="match", other="step")
        return self


class DaysParam(_Strict):
    param: Optional[str] = None                 # a policy parameter (per province and year)
    by_level: Optional[dict[str, int]] = None   # days by the approval level of the awaited step

    @model_validator(mode="after")
    def _one(self):
        if (self.param is None) == (self.by_level is None):
            raise ConfigValueError("exactly_one", names="param, by_level")
        for level, days in (self.by_level or {}).items():
            if level not in LEVEL_NAMES:
                raise ConfigValueError("unknown_level", name=level, known=", ".join(LEVEL_NAMES))
            if days < 0:
                raise ConfigValueError("days_negative_for", name=level)
        return self


class DueOn(_Strict):
    field: Optional[str] = None                 # a date in the step's data / the item / the case's attributes
    monthly: Optional[int] = Field(default=None, ge=1, le=28)   # day of the following month

    @model_validator(mode="after")
    def _one(self):
        if (self.field is None) == (self.monthly is None):
            raise ConfigValueError("exactly_one", names="field, monthly")
        return self


class OwnerSpec(_Strict):
    field: Optional[str] = None                 # a person id in the step's data / the case's attributes …
    roles: Optional[tuple[str, ...]] = None     # … else holders of these roles over the case's region, in order

    @model_validator(mode="after")
    def _some(self):
        if self.roles is None and self.field is None:
            raise ConfigValueError("field_or_roles")
        return self


class RuleDef(_Strict):
    kind: str
    when: tuple[Trigger, ...] = Field(min_length=1)
    days: Union[int, DaysParam, None] = None
    due: Union[str, DueOn, None] = None         # "MM-DD" (the next such day), or a field, or monthly
    counting: Literal["calendar", "working"] = "calendar"
    start_from: Optional[str] = None            # TYPE.FIELD: the clock starts at this evidence date
    owner: Union[Literal["step_roles", "pairing_cadre"], OwnerSpec]
    until: tuple[Until, ...] = ()
    renew: bool = False                         # monthly: the closing step starts the next month's
    ladder: str = "standard"
    ladder_by_level: dict[str, str] = {}        # waiting rules: another ladder for steps of this level

    @model_validator(mode="before")
    @classmethod
    def _listify(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("when", "until"):
                if isinstance(data.get(key), dict):
                    data = {**data, key: [data[key]]}
        return data

    @model_validator(mode="after")
    def _due(self):
        if (self.days is None) == (self.due is None):
            raise ConfigValueError("exactly_one", names="days, due")
        if isinstance(self.days, int) and self.days < 0:
            raise ConfigValueError("days_negative")
        if isinstance(self.due, str) and not _MONTH_DAY.match(self.due):
            raise ConfigValueError("due_format", value=self.due)
        if self.renew and not (isinstance(self.due, DueOn) and self.due.monthly):
            raise ConfigValueError("renew_monthly")
        types = {t.type for t in self.when}
        if len(types) > 1 and types not in ({"stage", "step"}, {"procedure", "visit"}):
            raise ConfigValueError("triggers_of_kinds")
        if types == {"visit"}:      # a risk seen leads to a procedure: the rule names which one it starts
            raise ConfigValueError("goes_with", name="risk_visit", other="starts")
        return self

    @property
    def type(self) -> str:
        types = [t.type for t in self.when]
        return "step" if "step" in types else "procedure" if "procedure" in types else types[0]

    @property
    def started_procedure(self) -> Optional[str]:
        """The procedure a `starts` trigger names (the one a risk visit leads to), if any."""
        return next((t.starts for t in self.when if t.starts), None)


class DeadlinesFile(_Strict):
    timezone: str = "Asia/Shanghai"
    alert_time: str = "08:00"                   # alerts go out at this office time
    reminder_days: int = Field(default=2, ge=0)   # due-soon reminder this many days before (0: none)
    digest_roles: tuple[str, ...] = ()
    calendar: CalendarDef = CalendarDef()
    ladders: dict[str, tuple[LevelDef, ...]]
    rules: dict[str, RuleDef] = {}


def check_deadlines(path: Path, data: DeadlinesFile, roles: dict, workflows: dict, params: dict) -> list[str]:
    """Cross-file checks; raises ConfigError for a wrong reference, returns notes (dormant rules) as
    stored texts (engine.domain.errors.stored)."""
    fail = _failer(path)
    _check_clock(data, roles, fail)
    for year, cal in data.calendar.years.items():
        _check_calendar_year(year, cal, fail)
    if "standard" not in data.ladders:
        fail("ladders", "standard_ladder")
    for name, ladder in data.ladders.items():
        _check_ladder(f"ladders.{name}", ladder, roles, fail)
    notes = []
    for name, rule in data.rules.items():
        where = f"rules.{name}"
        _check_references(where, rule, data, roles, params, fail)
        wf = workflows.get(rule.kind)
        if wf is None:
            notes.append(stored(Msg("config_note.dormant_rule", {"name": name, "kind": rule.kind})))
            continue
        _check_against_workflow(where, rule, wf, fail)
    return notes


def _failer(path: Path):
    def fail(key: str, problem: str, **params: Any) -> None:
        raise ConfigError(path, key, problem, **params)
    return fail


def _check_clock(data: DeadlinesFile, roles: dict, fail) -> None:
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        fail("timezone", "unknown_timezone", value=data.timezone)
    if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", data.alert_time):
        fail("alert_time", "alert_time", value=data.alert_time)
    for role in data.digest_roles:
        if role not in roles:
            fail("digest_roles", "unknown_role", name=role)


def _check_calendar_year(year: int, cal: CalendarYear, fail) -> None:
    for name in ("holidays", "workdays"):
        for d in getattr(cal, name):
            if d.year != year:
                fail(f"calendar.years.{year}.{name}", "date_not_in_year", day=d, year=year)
    for d in cal.workdays:
        if d.weekday() < 5:
            fail(f"calendar.years.{year}.workdays", "workday_weekday", day=d)
    both = set(cal.holidays) & set(cal.workdays)
    if both:
        fail(f"calendar.years.{year}", "holiday_and_workday", day=min(both))


def _check_ladder(where: str, ladder: tuple[LevelDef, ...], roles: dict, fail) -> None:
    if not ladder or ladder[0].to != "owner":
        fail(where, "level0_owner")
    afters = [lv.after for lv in ladder]
    if afters != sorted(afters):
        fail(where, "levels_order")
    keys = [lv.rung_key for lv in ladder]
    for i, key in enumerate(keys):
        if key in keys[:i] or key == "reminder":
            fail(f"{where}.{i}", "levels_same_key", name=key)
    for i, lv in enumerate(ladder):
        for role in (() if lv.to == "owner" else lv.to):
            if role not in roles:
                fail(f"{where}.{i}.to", "unknown_role", name=role)


def _check_references(where: str, rule: RuleDef, data: DeadlinesFile, roles: dict, params: dict, fail) -> None:
    """A rule's ladders, roles and policy parameter exist (its step types: steptypes.check_config)."""
    if rule.ladder not in data.ladders:
        fail(f"{where}.ladder", "unknown_ladder", name=rule.ladder)
    for level, ladder in rule.ladder_by_level.items():
        if level not in LEVEL_NAMES or ladder not in data.ladders:
            fail(f"{where}.ladder_by_level.{level}", "unknown_level_or_ladder", name=ladder)
    for role in (rule.owner.roles or () if isinstance(rule.owner, OwnerSpec) else ()):
        if role not in roles:
            fail(f"{where}.owner.roles", "unknown_role", name=role)
    if isinstance(rule.days, DaysParam) and rule.days.param and rule.days.param not in params:
        fail(f"{where}.days.param", "unknown_policy_param", name=rule.days.param)


def _check_against_workflow(where: str, rule: RuleDef, wf, fail) -> None:
    """A rule's stages, procedures, steps and evidence fields exist in its kind's workflow."""
    steps = {s.key: s for p in wf.procedures.values() for s in p.steps}
    for i, trig in enumerate(rule.when):
        _check_trigger(f"{where}.when.{i}", trig, rule.kind, wf, steps, fail)
    for i, until in enumerate(rule.until):
        _check_until(f"{where}.until.{i}", until, rule.kind, wf, steps, fail)
    if rule.start_from:
        _evidence_field(wf, rule.start_from, f"{where}.start_from", fail)
    if rule.owner == "step_roles" and rule.type not in STEP_OWNED and not any(tr.enters for tr in rule.when):
        fail(f"{where}.owner", "step_roles_owner_of")     # a stage's rule a step starts too: as a stage's


def _check_trigger(where: str, trig: Trigger, kind: str, wf, steps: dict, fail) -> None:
    for stage in ([trig.enters] if trig.enters else []) + list(trig.source):
        if stage not in wf.stages:
            fail(where, "unknown_stage_of", name=stage, kind=kind)
    if trig.starts and trig.starts not in wf.procedures:
        fail(f"{where}.starts", "unknown_procedure_of", name=trig.starts, kind=kind)
    if trig.procedure and trig.procedure not in wf.procedures:
        fail(f"{where}.procedure", "unknown_procedure_of", name=trig.procedure, kind=kind)
    if trig.step and trig.step not in steps:
        fail(f"{where}.step", "unknown_step_of", name=trig.step, kind=kind)


def _check_until(where: str, until: Until, kind: str, wf, steps: dict, fail) -> None:
    for stage in list(until.enters or ()) + ([until.leaves] if until.leaves else []):
        if stage not in wf.stages:
            fail(where, "unknown_stage_of", name=stage, kind=kind)
    if until.step and until.step not in steps:
        fail(f"{where}.step", "unknown_step_of", name=until.step, kind=kind)
    if until.evidence:
        _evidence_field(wf, until.evidence, f"{where}.evidence", fail)


def _evidence_field(wf, spec: str, key: str, fail) -> None:
    etype, _, field = spec.partition(".")
    if etype not in wf.evidence_types or field not in wf.evidence_types[etype].fields:
        fail(key, "evidence_field", name=spec, kind=wf.kind)


def load_deadlines(base: Path, roles: dict, workflows: dict, params: dict):
    """The parsed deadlines file of a configuration folder (None when it has none) and its notes."""
    path = base / "deadlines.yaml"
    if not path.is_file():
        return None, [stored(Msg("config_note.no_deadlines", {"path": str(path)}))]
    data = parse(DeadlinesFile, path, read_yaml(path)[0])
    return data, check_deadlines(path, data, roles, workflows, params)
