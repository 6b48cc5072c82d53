"""Configuration: roles, workflow definitions, policy parameters and labels, loaded from YAML.

Everything loaded is validated; an error names the file, the key and the problem.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_DIR = Path(__file__).resolve().parent
LEVELS = ("country", "province", "city", "county", "township", "village")
STEP_TYPES = ("evidence", "appraisal", "verification", "acknowledgement", "notice",
              "signoff", "announcement", "pairing", "plan", "record")
FIELD_KINDS = ("str", "int", "number", "bool", "date")


class ConfigError(Exception):
    """A configuration file is missing or wrong; the message names file, key and problem."""


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
    type: Literal[STEP_TYPES]  # type: ignore[valid-type]
    roles: tuple[str, ...] = Field(min_length=1)
    evidence: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    scope: Optional[Literal["village", "township", "county"]] = None
    days: Optional[str] = None          # key under policy notice_days
    verifiers: Optional[str] = None     # key under policy verifiers_min
    verifier_roles: tuple[str, ...] = ()


class ProcedureDef(_Strict):
    name: str = ""
    sources: tuple[str, ...] = Field(alias="from", min_length=1)
    to: Optional[str]
    steps: tuple[StepDef, ...] = Field(min_length=1)
    on_complete: tuple[str, ...] = ()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def step(self, key: str) -> StepDef:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def evidence_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for s in self.steps for t in s.evidence))


class EvidenceTypeDef(_Strict):
    fields: dict[str, str] = {}
    file: bool = False

    @field_validator("fields")
    @classmethod
    def _kinds(cls, value: dict[str, str]) -> dict[str, str]:
        for name, kind in value.items():
            if kind.rstrip("?") not in FIELD_KINDS:
                raise ValueError(f"field {name!r}: kind {kind!r} is not one of {', '.join(FIELD_KINDS)}")
        return value


class WorkflowDef(_Strict):
    kind: str
    version: int
    initial: str
    stages: tuple[str, ...]
    procedures: dict[str, ProcedureDef]
    evidence_types: dict[str, EvidenceTypeDef]
    main_path: dict[str, str] = {}     # stage -> the procedure a case normally runs next
    village_roles: Any = None
    township_signers: Any = None
    county_approvers: Any = None

    def procedure(self, name: str) -> ProcedureDef:
        return self.procedures[name]


class ProvinceDef(_Strict):
    name: str
    west: bool = False
    income_line: dict[int, float] = {}
    params: dict[str, Any] = {}
    years: dict[int, dict[str, Any]] = {}


class PolicyFile(_Strict):
    version: str
    national_income_line: dict[int, float]
    monitoring_line: dict[int, float] = {}
    defaults: dict[str, Any]
    west_params: dict[str, Any] = {}
    provinces: dict[str, ProvinceDef]


REQUIRED_PARAMS = ("notice_days", "verifiers_min", "appraisal_quorum", "first_cadre_max_households",
                   "second_cadre_max_households", "transition_period_years",
                   "assistance_plan_due_days", "monitoring_identification_days",
                   "village_incidence_threshold", "education_ages")


@dataclass(frozen=True)
class Policy:
    """The policy parameters file (the rules version covering it is Config.version)."""
    data: PolicyFile

    def params(self, province: str, year: int) -> dict[str, Any]:
        merged = dict(self.data.defaults)
        prov = self.data.provinces.get(province)
        if prov and prov.west:
            merged.update(self.data.west_params)
        if prov:
            merged.update(prov.params)
            merged.update(prov.years.get(year, {}))
        return merged

    def income_line(self, province: str, year: int) -> tuple[float, str] | None:
        """The exit/identification line for a province and year, and where it came from."""
        prov = self.data.provinces.get(province)
        if prov and year in prov.income_line:
            return prov.income_line[year], f"province {province} ({prov.name}) {year}"
        if year in self.data.national_income_line:
            return self.data.national_income_line[year], f"national {year}"
        return None

    def monitoring_line(self, year: int) -> float | None:
        known = [y for y in self.data.monitoring_line if y <= year]
        return self.data.monitoring_line[max(known)] if known else None


@dataclass(frozen=True)
class Config:
    roles: dict[str, RoleDef]
    workflows: dict[str, WorkflowDef]
    policy: Policy
    labels: dict[str, dict[str, str]]
    directory: Path

    def label(self, key: str, lang: str = "zh") -> str:
        entry = self.labels.get(key)
        if entry is None:
            return key.rsplit(".", 1)[-1]
        return entry.get(lang) or entry.get("zh") or key

    def role_label(self, role: str, lang: str = "zh") -> str:
        r = self.roles.get(role)
        return (r.zh if lang == "zh" else r.en) if r else role

    @property
    def rules(self) -> dict[str, Any]:
        """Everything a decision depends on: roles, workflows and policy (labels are only text)."""
        return {"roles": {k: v.model_dump() for k, v in self.roles.items()},
                "workflows": {k: v.model_dump(by_alias=True, exclude={"village_roles", "township_signers",
                                                                     "county_approvers"})
                              for k, v in self.workflows.items()},
                "policy": self.policy.data.model_dump(mode="json")}

    @property
    def version(self) -> str:
        """`policy version#hash of all the rules`: what every step records it was checked against."""
        canonical = json.dumps(self.rules, sort_keys=True, ensure_ascii=False, default=str)
        return f"{self.policy.data.version}#{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "rules_version": self.version,
            "roles": {k: v.model_dump() for k, v in self.roles.items()},
            "workflows": {k: v.model_dump(by_alias=True, exclude={"village_roles", "township_signers", "county_approvers"})
                          for k, v in self.workflows.items()},
            "policy": self.policy.data.model_dump(),
        }


def _read_yaml(path: Path) -> tuple[Any, bytes]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    try:
        return yaml.safe_load(raw), raw
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def _parse(model: type[BaseModel], path: Path, data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{path}: key {key}: {err['msg']}{more}") from None


def _check_workflow(path: Path, wf: WorkflowDef, roles: dict[str, RoleDef], policy: PolicyFile) -> None:
    def fail(key: str, problem: str) -> None:
        raise ConfigError(f"{path}: key {key}: {problem}")

    if wf.initial not in wf.stages:
        fail("initial", f"stage {wf.initial!r} is not listed in stages")
    for stage, name in wf.main_path.items():
        if stage not in wf.stages or name not in wf.procedures:
            fail(f"main_path.{stage}", f"unknown stage or procedure {name!r}")
    for name, proc in wf.procedures.items():
        for i, src in enumerate(proc.sources):
            if src not in wf.stages:
                fail(f"procedures.{name}.from.{i}", f"unknown stage {src!r}")
        if proc.to is not None and proc.to not in wf.stages:
            fail(f"procedures.{name}.to", f"unknown stage {proc.to!r}")
        keys = [s.key for s in proc.steps]
        if len(set(keys)) != len(keys):
            fail(f"procedures.{name}.steps", "step keys must be unique")
        for i, step in enumerate(proc.steps):
            where = f"procedures.{name}.steps.{i}"
            for role in step.roles + step.verifier_roles:
                if role not in roles:
                    fail(f"{where}.roles", f"unknown role {role!r} (not in roles.yaml)")
                elif roles[role].read_only or roles[role].admin:
                    fail(f"{where}.roles", f"role {role!r} is read-only or administrative and cannot sign a step")
            for ev in step.evidence:
                if ev not in wf.evidence_types:
                    fail(f"{where}.evidence", f"unknown evidence type {ev!r}")
            if step.type == "notice":
                if not step.days or step.days not in policy.defaults.get("notice_days", {}):
                    fail(f"{where}.days", "a notice step needs `days` naming a key of policy defaults.notice_days")
                if not step.scope:
                    fail(f"{where}.scope", "a notice step needs a scope (village, township or county)")
            if step.type == "verification":
                if not step.verifiers or step.verifiers not in policy.defaults.get("verifiers_min", {}):
                    fail(f"{where}.verifiers", "a verification step needs `verifiers` naming a key of policy defaults.verifiers_min")
                if not step.verifier_roles:
                    fail(f"{where}.verifier_roles", "a verification step needs verifier_roles")


def _positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _fraction(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1


def _mapping_of(test):
    return lambda v: isinstance(v, dict) and bool(v) and all(test(x) for x in v.values())


# What each parameter must be; a wrong value is refused when the configuration loads, not mid-step.
PARAM_RULES = {
    "notice_days": (_mapping_of(_positive_int), "a mapping of notice kinds to whole days > 0"),
    "verifiers_min": (_mapping_of(_positive_int), "a mapping of procedures to whole numbers > 0"),
    "appraisal_quorum": (lambda v: _fraction(v) and v < 1, "a share from 0 to below 1"),
    "first_cadre_max_households": (_positive_int, "a whole number > 0"),
    "second_cadre_max_households": (_positive_int, "a whole number > 0"),
    "transition_period_years": (_positive_int, "a whole number > 0"),
    "assistance_plan_due_days": (_positive_int, "a whole number > 0"),
    "monitoring_identification_days": (_positive_int, "a whole number > 0"),
    "village_incidence_threshold": (_fraction, "a share from 0 to 1"),
    "county_exit_gate": (_mapping_of(_fraction), "a mapping of shares from 0 to 1"),
    "industry_coverage_target": (_mapping_of(_fraction), "a mapping of years to shares from 0 to 1"),
    "land_transfer_min": (_fraction, "a share from 0 to 1"),
    "inpatient_reimbursement_target": (_fraction, "a share from 0 to 1"),
    "chronic_outpatient_reimbursement_target": (_fraction, "a share from 0 to 1"),
    "education_ages": (lambda v: isinstance(v, list) and len(v) == 2 and all(_positive_int(x) for x in v)
                       and v[0] <= v[1], "two ages [from, to]"),
}


def _check_params(path: Path, where: str, params: dict[str, Any]) -> None:
    for key, value in params.items():
        rule = PARAM_RULES.get(key)
        if rule is None:
            raise ConfigError(f"{path}: key {where}.{key}: unknown parameter (known: {', '.join(PARAM_RULES)})")
        if not rule[0](value):
            raise ConfigError(f"{path}: key {where}.{key}: must be {rule[1]}, got {value!r}")


def _check_policy(path: Path, policy: PolicyFile) -> None:
    _check_params(path, "defaults", policy.defaults)     # a misspelt key is named as such first
    for key in REQUIRED_PARAMS:
        if key not in policy.defaults:
            raise ConfigError(f"{path}: key defaults.{key}: required parameter is missing")
    _check_params(path, "west_params", policy.west_params)
    for code, prov in policy.provinces.items():
        _check_params(path, f"provinces.{code}.params", prov.params)
        for year, params in prov.years.items():
            _check_params(path, f"provinces.{code}.years.{year}", params)
    for year, value in policy.national_income_line.items():
        if value <= 0:
            raise ConfigError(f"{path}: key national_income_line.{year}: must be positive")
    for code, prov in policy.provinces.items():
        if len(code) != 2 or not code.isdigit():
            raise ConfigError(f"{path}: key provinces.{code}: a province key is its 2-digit division code")
        for year, value in prov.income_line.items():
            if value <= 0:
                raise ConfigError(f"{path}: key provinces.{code}.income_line.{year}: must be positive")


def load_config(directory: Path | str | None = None) -> Config:
    """Load and validate every configuration file of `directory` (the packaged one by default)."""
    base = Path(directory) if directory else CONFIG_DIR
    roles_path, policy_path, labels_path = base / "roles.yaml", base / "policy.yaml", base / "labels.yaml"
    roles = _parse(RolesFile, roles_path, _read_yaml(roles_path)[0]).roles
    policy_data, policy_raw = _read_yaml(policy_path)
    policy_file = _parse(PolicyFile, policy_path, policy_data)
    _check_policy(policy_path, policy_file)
    policy = Policy(policy_file)
    workflows: dict[str, WorkflowDef] = {}
    for path in sorted((base / "workflows").glob("*.yaml")):
        wf = _parse(WorkflowDef, path, _read_yaml(path)[0])
        _check_workflow(path, wf, roles, policy_file)
        workflows[wf.kind] = wf
    if "household" not in workflows:
        raise ConfigError(f"{base / 'workflows'}: no workflow of kind 'household' found")
    labels_data = _read_yaml(labels_path)[0] or {}
    if not isinstance(labels_data, dict):
        raise ConfigError(f"{labels_path}: key (top level): must be a mapping of label keys")
    labels: dict[str, dict[str, str]] = {}
    for key, value in labels_data.items():
        if not isinstance(value, dict) or "zh" not in value or "en" not in value:
            raise ConfigError(f"{labels_path}: key {key}: needs both zh and en text")
        labels[str(key)] = {"zh": str(value["zh"]), "en": str(value["en"])}
    return Config(roles, workflows, policy, labels, base)
