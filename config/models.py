"""The pydantic models of the configuration files: roles, workflows and policy (validated as
loaded; the cross-file checks are in config/__init__.py)."""
from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
from typing import Any, Literal, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, field_validator, model_serializer,
                      model_validator)

from config.base import FIELD_KINDS, ConfigValueError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleDef(_Strict):
    level: Literal["village", "township", "county", "city", "province"]
    zh: str
    en: str
    admin: bool = False
    read_only: bool = False
    assign_below: bool = False   # may be assigned over a region below its level


class RolesFile(_Strict):
    roles: dict[str, RoleDef]


class StepDef(_Strict):
    key: str
    type: str = Field(min_length=1)    # a registered step type (checked by the engine: steptypes.check_config)
    roles: tuple[str, ...] = Field(min_length=1)
    evidence: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    scope: Optional[Literal["village", "township", "county"]] = None
    days: Optional[str] = None          # key under policy notice_days
    verifiers: Optional[str] = None     # key under policy verifiers_min
    verifier_roles: tuple[str, ...] = ()
    # A policy parameter naming the level (county, city…) whose roles among `roles` may do the step,
    # where that level differs by province (the approver of a village's exit).
    level_param: Optional[str] = None
    # An earlier step of the procedure that the act this step's evidence records follows (the household
    # confirms the village's proposal): none of that evidence's dates may be before that step's date.
    follows: Optional[str] = None
    # What a notice names beside each case, each `SOURCE.FIELD`: an evidence type of the workflow and one
    # of its fields (the case's item in force when the notice was posted: a contractor notice says who was
    # chosen, how and when: contractor_selection.contractor), or an earlier step of the procedure and a
    # key of what it recorded (a change of contractor's notice: whom it replaces and why). One, or a list.
    shows: Optional[tuple[str, ...]] = None
    # A notice's wording and columns (NOTICE_WORDINGS): `household` (the default: the households'
    # appraisal, their village and size) or `project` (a fund project's own opening and its place,
    # unit and leader, money by source with its documents, completion date and beneficiaries).
    wording: Optional[str] = None
    # A rejection here ends the procedure (the default), or, false, is a finding recorded in the signer's
    # name that goes on up: the steps after it are still done and a later sign-off decides (a village's
    # 不同意 at a monitoring's verification: the township reviews it, the county decides, 县级审定).
    reject_ends: bool = True

    @field_validator("shows", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_serializer(mode="wrap")
    def _dump(self, handler) -> dict[str, Any]:
        """As recorded in the rules version: a step that names no wording as it was before steps could."""
        data = handler(self)
        if self.wording is None:
            data.pop("wording", None)
        if self.shows is not None and len(self.shows) == 1:      # one, as it was recorded when it could name one
            data["shows"] = self.shows[0]
        return data


class ProcedureDef(_Strict):
    name: str = ""
    sources: tuple[str, ...] = Field(alias="from", min_length=1)
    to: Optional[str]
    steps: tuple[StepDef, ...] = Field(min_length=1)
    on_complete: tuple[str, ...] = ()
    on_reject: tuple[str, ...] = ()
    reject_to: Optional[str] = None     # a rejection sends the case back to this stage
    # An administrative procedure of one step that changes no stage (调整帮扶责任人) may run while another
    # procedure is open: done and completed at once, the open one left as it was (config check: one step, `to: null`).
    beside_open: bool = False
    # responsibility type -> who carries it: `signers`, `pairing_cadres`, or holders of a role
    # over the case's region when the transition completes.
    responsibility: dict[str, tuple[str, ...]] = {}

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def step(self, key: str) -> StepDef:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def evidence_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for s in self.steps for t in s.evidence))

    @model_serializer(mode="wrap")
    def _dump(self, handler) -> dict[str, Any]:
        """As recorded in the rules version: a procedure that runs only alone, as before it could run beside."""
        data = handler(self)
        if not self.beside_open:
            data.pop("beside_open", None)
        return data


class EvidenceTypeDef(_Strict):
    fields: dict[str, str] = {}
    file: bool = False
    # A `code` field's codes (field -> codes), each labelled `field.<field>.<code>` in the catalogue:
    # the field takes one of them, read from what a person writes (engine/domain/evidence.py read_code).
    codes: dict[str, tuple[str, ...]] = {}
    # An item of the procedure whose step it came with (a meeting's minutes, a signed confirmation):
    # a later procedure's item of the type is a new one, the earlier one stays that procedure's record.
    # Else a fact of the case, which a newer item of the type replaces (a new year's income, housing).
    per_procedure: bool = False

    @field_validator("fields")
    @classmethod
    def _kinds(cls, value: dict[str, str]) -> dict[str, str]:
        for name, kind in value.items():
            if kind.rstrip("?") not in FIELD_KINDS:
                raise ConfigValueError("field_kind", name=name, value=kind, known=", ".join(FIELD_KINDS))
        return value

    @model_validator(mode="after")
    def _codes(self) -> "EvidenceTypeDef":
        coded = {name for name, kind in self.fields.items() if kind.rstrip("?") == "code"}
        for name in sorted(coded ^ set(self.codes)):      # a code field without codes, codes of no code field
            raise ConfigValueError("field_codes", name=name)
        for name, codes in self.codes.items():
            if not codes or len(set(codes)) != len(codes):
                raise ConfigValueError("field_codes", name=name)
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler) -> dict[str, Any]:
        """As recorded in the rules version: a type without code fields, or a fact of the case, as it
        was before they were."""
        data = handler(self)
        if not self.codes:
            data.pop("codes", None)
        if not self.per_procedure:
            data.pop("per_procedure", None)
        return data


class WorkflowDef(_Strict):
    kind: str
    version: int
    initial: str
    stages: tuple[str, ...]
    procedures: dict[str, ProcedureDef]
    evidence_types: dict[str, EvidenceTypeDef]
    main_path: dict[str, str] = {}     # stage -> the procedure a case normally runs next
    village_roles: Any = None          # YAML anchors of household.yaml
    township_signers: Any = None
    county_approvers: Any = None
    aliases: Any = None                # YAML anchors of any workflow file

    def procedure(self, name: str) -> ProcedureDef:
        return self.procedures[name]

    def per_procedure_types(self) -> frozenset[str]:
        """The evidence types each procedure needs its own item of (`per_procedure`)."""
        return frozenset(k for k, d in self.evidence_types.items() if d.per_procedure)


class ProvinceDef(_Strict):
    name: str
    west: bool = False
    income_line: dict[int, float] = {}
    params: dict[str, Any] = {}
    years: dict[int, dict[str, Any]] = {}


class WorkingHoursDef(_Strict):
    start: StrictStr = "08:00"          # "HH:MM", local time, quoted (YAML reads 18:00 as a number)
    end: StrictStr = "18:00"
    days: tuple[StrictInt, ...] = (1, 2, 3, 4, 5)   # ISO weekdays: 1 Monday ... 7 Sunday


class BurstDef(_Strict):
    count: StrictInt = 30               # this many sign-offs on distinct cases ...
    minutes: StrictInt = 10             # ... within this many minutes


class InspectionDef(_Strict):
    """Thresholds of the inspection flags (engine/inspection.py). They choose what inspectors are
    shown and decide nothing, so they are not part of the rules version a decision records."""
    timezone: StrictStr = "Asia/Shanghai"   # an IANA name, or a fixed offset like "+08:00"
    signing_step_types: tuple[str, ...] = ("signoff", "announcement", "verification")
    working_hours: WorkingHoursDef = WorkingHoursDef()
    burst: BurstDef = BurstDef()
    notice_backdated_days: StrictInt = 3
    exit_near_line_margin: StrictFloat = 0.10
    figure_changed_days: StrictInt = 30
    late_entry_days: StrictInt = 3          # a step entered more than this many days after its stated date
    weights: dict[str, float] = {}          # flag kind (or kind.variant) -> weight; the list is ranked by it

    def zone(self) -> tzinfo:
        return parse_timezone(self.timezone)


_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{2}):(\d{2})$")


def parse_timezone(value: str) -> tzinfo:
    """An IANA time zone name (Asia/Shanghai) or a fixed offset from UTC (+08:00); ValueError if neither."""
    found = _OFFSET.match(value)
    if found:
        sign, hours, minutes = found.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta > timedelta(hours=14):
            raise ValueError(value)
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(value) from None


class PolicyFile(_Strict):
    version: str
    national_income_line: dict[int, float]
    monitoring_line: dict[int, float] = {}
    defaults: dict[str, Any]
    west_params: dict[str, Any] = {}
    provinces: dict[str, ProvinceDef]
    inspection: InspectionDef = InspectionDef()
    assessment: dict[str, Any] = {}      # the assessment's weights and plans (engine/reads/assessment.py)
