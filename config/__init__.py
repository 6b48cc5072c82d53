"""Configuration: roles, workflow definitions, policy parameters and labels, loaded from YAML.

Everything loaded is validated; an error names the file, the key and the problem.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

from config.base import FIELD_KINDS, ConfigError, parse, read_yaml
from config.catalogue import LANGUAGES, load_catalogue  # noqa: F401  (LANGUAGES re-exported)
from engine.domain.errors import Msg

if TYPE_CHECKING:
    from config.models import (BurstDef, EvidenceTypeDef, InspectionDef, PolicyFile, ProcedureDef, ProvinceDef,
                               RoleDef, RolesFile, StepDef, WorkflowDef, WorkingHoursDef, parse_timezone)

# The pydantic models (config/models.py) are imported when first named, not with the package: a
# command that only prints its help never builds them (the CLI's start-up, issue 12).
_MODELS = ("BurstDef", "EvidenceTypeDef", "InspectionDef", "PolicyFile", "ProcedureDef", "ProvinceDef", "RoleDef",
           "RolesFile", "StepDef", "WorkflowDef", "WorkingHoursDef", "parse_timezone")


def __getattr__(name: str) -> Any:
    if name in _MODELS:
        from config import models
        return getattr(models, name)
    raise AttributeError(f"module 'config' has no attribute {name!r}")

__all__ = ["CONFIG_DIR", "FIELD_KINDS", "LEVELS", "BurstDef", "Config", "ConfigError",
           "EvidenceTypeDef", "InspectionDef", "Policy", "PolicyFile", "ProcedureDef", "ProvinceDef", "RoleDef",
           "RolesFile", "StepDef", "WorkflowDef", "WorkingHoursDef", "load_catalogue", "load_config",
           "parse_timezone"]

CONFIG_DIR = Path(__file__).resolve().parent
LEVELS = ("country", "province", "city", "county", "township", "village")
ANCHOR_KEYS = {"village_roles", "township_signers", "county_approvers", "aliases"}
# DOMAIN §5: the kinds of responsibility a completed transition hands out, and who may carry them
# besides role holders: everyone who signed or verified a step, and the case's pairing cadres.
RESPONSIBILITY_TYPES = ("main_leadership", "important_leadership", "subject", "direct")
RESPONSIBILITY_SELECTORS = ("signers", "pairing_cadres", "work_team")   # work_team: a village's resident team
# ... and `case:<attribute>`: the person whose id the case keeps under that attribute (a project's leader).
CASE_PERSON_SELECTOR = "case:"
# How a notice step's text reads (StepDef.wording; engine/services/notices.py and its templates): a
# household list's, or a fund project's.
NOTICE_WORDINGS = ("household", "project", "village")


LAST_QUARTER = 10         # from October on, `config check` warns of the coming year's missing income lines
REQUIRED_PARAMS = ("notice_days", "verifiers_min", "appraisal_quorum", "first_cadre_max_households",
                   "second_cadre_max_households", "transition_period_years",
                   "assistance_plan_due_days", "monitoring_identification_days",
                   "village_incidence_threshold", "education_ages", "exit_check_months",
                   "exit_income_prior_year_months",
                   "village_identification_criteria", "village_exit_minimums", "village_exit_approver_level",
                   "village_team_min_members", "village_team_min_term_years", "visit_interval_days")


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
        """The exit/identification line for a province and year, and where it came from: a code,
        `province:36:江西:2019`, `national:2019`, or `national:2020:36:江西` when the national line
        stands in for a provincial line the file lacks (shown with `line_source`)."""
        prov = self.data.provinces.get(province)
        if prov and year in prov.income_line:
            return prov.income_line[year], f"province:{province}:{prov.name}:{year}"
        if year in self.data.national_income_line:
            lacking = f":{province}:{prov.name}" if self.lacks_income_line(province, year) else ""
            return self.data.national_income_line[year], f"national:{year}{lacking}"
        return None

    def lacks_income_line(self, province: str, year: int) -> bool:
        """Whether a province that gives its own income lines has none for `year`, a year of the
        national table from its first line on (its 2020 line not yet added): the national line stands
        in for it, and its office is told to add it. A province giving none follows the national line."""
        prov = self.data.provinces.get(province)
        return bool(prov and prov.income_line) and year in self.data.national_income_line \
            and year not in prov.income_line and year >= min(prov.income_line)

    def missing_income_lines(self) -> list[tuple[str, str, int]]:
        """(province code, its name, year) of every provincial line lacking (see lacks_income_line)."""
        return [(code, prov.name, year) for code, prov in self.data.provinces.items()
                for year in sorted(self.data.national_income_line) if self.lacks_income_line(code, year)]

    def lines_lacking(self, provinces, today: date) -> list[tuple[str, str, int]]:
        """(province code, its name, year) for each of `provinces` with no income line at all (neither
        its own nor the national one) for this year or, in its last quarter, the next: the exits and
        identifications judged in that year are refused until an administrator installs rules with it."""
        years = [today.year] + ([today.year + 1] if today.month >= LAST_QUARTER else [])
        return [(code, prov.name if (prov := self.data.provinces.get(code)) else code, year)
                for code in sorted(provinces) for year in years if self.income_line(code, year) is None]

    @staticmethod
    def line_source(source: str) -> tuple[str, dict[str, Any]]:
        """A source code of `income_line` as a catalogue key and params (`line_source.*`)."""
        parts = source.split(":")
        if parts[0] == "province" and len(parts) == 4:
            return "line_source.province", {"province": parts[1], "name": parts[2], "year": parts[3]}
        if parts[0] == "national" and len(parts) == 2:
            return "line_source.national", {"year": parts[1]}
        if parts[0] == "national" and len(parts) == 4:
            return "line_source.national_standing_in", {"year": parts[1], "province": parts[2], "name": parts[3]}
        if parts[0] == "monitoring" and len(parts) == 2:
            return "line_source.monitoring", {"year": parts[1]}
        if parts[0] == "monitoring" and len(parts) == 3:
            return "line_source.monitoring_standing_in", {"year": parts[1], "income_year": parts[2]}
        return "line_source.other", {"source": source}

    def monitoring_line(self, year: int) -> float | None:
        known = [y for y in self.data.monitoring_line if y <= year]
        return self.data.monitoring_line[max(known)] if known else None

    def monitoring_line_for(self, year: int, decided: int) -> tuple[float, str] | None:
        """The monitoring line (防返贫监测线) an income of `year` is held to by a decision of the year
        `decided`, and where it came from (`line_source`): the line of the income's year; without it,
        the latest configured by the decision's year, which stands in for it (`monitoring:2021:2022`,
        the 2021 line for a 2022 income, said so). None: no line by the decision's year at all."""
        if year in self.data.monitoring_line:
            return self.data.monitoring_line[year], f"monitoring:{year}"
        known = [y for y in self.data.monitoring_line if y <= max(year, decided)]
        if not known:
            return None
        used = max(known)
        return self.data.monitoring_line[used], f"monitoring:{used}:{year}"

    def monitoring_lines_lacking(self, today: date) -> list[tuple[int, int | None]]:
        """(year, the year of the line standing in for it, or None) for this year or, in its last
        quarter, the next, when the monitoring line has no value of its own for it: the monitoring
        decisions of that year are held to the latest line (said so), or refused when there is none."""
        years = [today.year] + ([today.year + 1] if today.month >= LAST_QUARTER else [])
        lacking = []
        for year in years:
            if year not in self.data.monitoring_line:
                known = [y for y in self.data.monitoring_line if y <= year]
                lacking.append((year, max(known) if known else None))
        return lacking


@dataclass(frozen=True)
class Config:
    roles: dict[str, RoleDef]
    workflows: dict[str, WorkflowDef]
    policy: Policy
    labels: dict[str, dict[str, str]]
    directory: Path
    deadlines: Any = None                # config/deadlines.py DeadlinesFile, or None without deadlines.yaml
    notes: tuple[str, ...] = ()          # what `config check` should say that is no error (stored texts)

    def label(self, key: str, lang: str = "zh") -> str:
        entry = self.labels.get(key)
        if entry is None:
            return key.rsplit(".", 1)[-1]
        return entry.get(lang) or entry.get("zh") or key

    def stage_label(self, stage: str, kind: str | None, lang: str = "zh") -> str:
        """A case's stage in its kind's own words where the catalogue has them (a project's `exited`
        is 已竣工验收, a village's 已出列), else in the household's (`stage.exited`: 已脱贫)."""
        own = f"stage.{kind}.{stage}"
        return self.label(own if own in self.labels else f"stage.{stage}", lang)

    def role_label(self, role: str, lang: str = "zh") -> str:
        r = self.roles.get(role)
        return (r.zh if lang == "zh" else r.en) if r else role

    @property
    def rules(self) -> dict[str, Any]:
        """Everything a decision depends on: roles, workflows and policy (labels are only text)."""
        return {"roles": {k: v.model_dump() for k, v in self.roles.items()},
                "workflows": {k: v.model_dump(by_alias=True, exclude=ANCHOR_KEYS)
                              for k, v in self.workflows.items()},
                "policy": self.policy.data.model_dump(mode="json", exclude={"inspection", "assessment"}),
                **self._deadline_rules()}

    def _deadline_rules(self) -> dict[str, Any]:
        """Deadline rules, ladders and the office-added calendar decide when people are alerted."""
        return {} if self.deadlines is None else {"deadlines": self.deadlines.model_dump(mode="json", by_alias=True)}

    @property
    def version(self) -> str:
        """`policy version#hash of all the rules`: what every step records it was checked against."""
        known = self.__dict__.get("_version")
        if known is None:
            canonical = json.dumps(self.rules, sort_keys=True, ensure_ascii=False, default=str)
            known = f"{self.policy.data.version}#{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"
            object.__setattr__(self, "_version", known)       # its parts never change (frozen)
        return known

    # Kept (pickled: load_config's cache) with its models apart, as bytes read back when one of them
    # is first asked for, and with its version: a command that reads cases needs only the labels and
    # the version, and never loads pydantic and the models (a fifth of a direct command's start-up).
    _PARTS = ("roles", "workflows", "policy", "deadlines")

    def __reduce__(self):
        import pickle
        models = pickle.dumps(tuple(getattr(self, name) for name in self._PARTS), protocol=pickle.HIGHEST_PROTOCOL)
        return _kept_config, (models, self.labels, self.directory, self.notes, self.version)

    def __getattr__(self, name: str) -> Any:
        # only for a field not yet set: the models of a configuration read back from its cache
        models = self.__dict__.get("_models")
        if name not in self._PARTS or models is None:
            raise AttributeError(name)
        import pickle
        for field_name, value in zip(self._PARTS, pickle.loads(models)):
            object.__setattr__(self, field_name, value)
        object.__setattr__(self, "_models", None)
        return self.__dict__[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "rules_version": self.version,
            "roles": {k: v.model_dump() for k, v in self.roles.items()},
            "workflows": {k: v.model_dump(by_alias=True, exclude=ANCHOR_KEYS)
                          for k, v in self.workflows.items()},
            "policy": self.policy.data.model_dump(),
            **self._deadline_rules(),
        }


def _check_workflow(path: Path, wf: WorkflowDef, roles: dict[str, RoleDef], policy: PolicyFile) -> None:
    def fail(key: str, problem: str, **params: Any) -> None:
        raise ConfigError(path, key, problem, **params)

    if wf.initial not in wf.stages:
        fail("initial", "stage_not_listed", name=wf.initial)
    for stage, name in wf.main_path.items():
        if stage not in wf.stages or name not in wf.procedures:
            fail(f"main_path.{stage}", "unknown_stage_or_procedure", name=name)
    for name, proc in wf.procedures.items():
        for i, src in enumerate(proc.sources):
            if src not in wf.stages:
                fail(f"procedures.{name}.from.{i}", "unknown_stage", name=src)
        if proc.to is not None and proc.to not in wf.stages:
            fail(f"procedures.{name}.to", "unknown_stage", name=proc.to)
        if proc.reject_to is not None and proc.reject_to not in wf.stages:
            fail(f"procedures.{name}.reject_to", "unknown_stage", name=proc.reject_to)
        if proc.beside_open and (len(proc.steps) != 1 or proc.to is not None or proc.reject_to is not None):
            fail(f"procedures.{name}.beside_open", "beside_open_one_step")
        for rtype, who in proc.responsibility.items():
            if rtype not in RESPONSIBILITY_TYPES:
                fail(f"procedures.{name}.responsibility.{rtype}",
                     "unknown_responsibility", known=", ".join(RESPONSIBILITY_TYPES))
            for entry in who:
                if entry.startswith(CASE_PERSON_SELECTOR) and len(entry) > len(CASE_PERSON_SELECTOR):
                    continue
                if entry not in RESPONSIBILITY_SELECTORS and entry not in roles:
                    fail(f"procedures.{name}.responsibility.{rtype}",
                         "unknown_selector", name=entry, known=", ".join(RESPONSIBILITY_SELECTORS))
        keys = [s.key for s in proc.steps]
        if len(set(keys)) != len(keys):
            fail(f"procedures.{name}.steps", "step_keys_unique")
        for i, step in enumerate(proc.steps):
            where = f"procedures.{name}.steps.{i}"
            for role in step.roles + step.verifier_roles:
                if role not in roles:
                    fail(f"{where}.roles", "unknown_role", name=role)
                elif roles[role].read_only or roles[role].admin:
                    fail(f"{where}.roles", "role_cannot_sign", name=role)
            for ev in step.evidence:
                if ev not in wf.evidence_types:
                    fail(f"{where}.evidence", "unknown_evidence_type", name=ev)
            if step.follows is not None and step.follows not in keys[:i]:
                fail(f"{where}.follows", "follows_earlier", name=step.follows, known=", ".join(keys[:i]) or "-")
            for shown in step.shows or ():
                source, _, fname = shown.partition(".")
                evidence = wf.evidence_types.get(source)
                if step.type not in ("notice", "announcement") or not fname or (
                        fname not in evidence.fields if evidence is not None else source not in keys[:i]):
                    fail(f"{where}.shows", "notice_shows_source", name=shown, known=", ".join(keys[:i]) or "-")
            if step.wording is not None and (step.type != "notice" or step.wording not in NOTICE_WORDINGS):
                fail(f"{where}.wording", "notice_wording", name=step.wording, known=", ".join(NOTICE_WORDINGS))
            if step.type == "notice":
                if not step.days or step.days not in policy.defaults.get("notice_days", {}):
                    fail(f"{where}.days", "notice_days")
                if not step.scope:
                    fail(f"{where}.scope", "notice_scope")
            if step.type == "verification":
                if not step.verifiers or step.verifiers not in policy.defaults.get("verifiers_min", {}):
                    fail(f"{where}.verifiers", "verifiers")
                if not step.verifier_roles:
                    fail(f"{where}.verifier_roles", "verifier_roles")
            if step.level_param is not None:
                _check_level_param(fail, f"{where}.level_param", step, roles, policy)


def _check_level_param(fail, key: str, step: StepDef, roles: dict[str, RoleDef], policy: PolicyFile) -> None:
    """Every level the parameter takes, anywhere in the policy, must leave the step someone to do it."""
    if step.level_param not in PARAM_RULES or step.level_param not in policy.defaults:
        fail(key, "level_param_unknown", name=step.level_param)
    values = [("defaults", policy.defaults), ("west_params", policy.west_params)] + [
        (f"provinces.{code}", params) for code, prov in policy.provinces.items()
        for params in (prov.params, *prov.years.values())]
    for where, params in values:
        level = params.get(step.level_param)
        if level is not None and not any(roles[r].level == level for r in step.roles):
            fail(key, "level_param_level", name=f"{where}.{step.level_param}", value=level)


def _positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _fraction(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1


def _positive_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


def _amount(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _record_of(v: Any, fields: dict) -> bool:
    """A mapping with exactly these keys, each passing its test."""
    return isinstance(v, dict) and set(v) == set(fields) and all(test(v[k]) for k, test in fields.items())


def _mapping_of(test):
    return lambda v: isinstance(v, dict) and bool(v) and all(test(x) for x in v.values())


# What each parameter must be (its description: `param_rule.<code>` in the catalogue); a wrong value is
# refused when the configuration loads, not mid-step.
PARAM_RULES = {
    "notice_days": (_mapping_of(_positive_int), "mapping_days"),
    "notice_working_days": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
                            "notice_kinds"),
    "verifiers_min": (_mapping_of(_positive_int), "mapping_procedures"),
    "appraisal_quorum": (lambda v: _fraction(v) and v < 1, "quorum"),
    "first_cadre_max_households": (_positive_int, "positive_int"),
    "second_cadre_max_households": (_positive_int, "positive_int"),
    "transition_period_years": (_positive_int, "positive_int"),
    "visit_interval_days": (_positive_int, "positive_int"),
    "assistance_plan_due_days": (_positive_int, "positive_int"),
    "monitoring_identification_days": (_positive_int, "positive_int"),
    "village_incidence_threshold": (_fraction, "share"),
    "county_exit_gate": (_mapping_of(_fraction), "mapping_shares"),
    "industry_coverage_target": (_mapping_of(_fraction), "mapping_years"),
    "land_transfer_min": (_fraction, "share"),
    "inpatient_reimbursement_target": (_fraction, "share"),
    "chronic_outpatient_reimbursement_target": (_fraction, "share"),
    "exit_check_months": (_positive_int, "positive_int"),
    "risk_elimination_min_months": (_positive_int, "positive_int"),
    "risk_elimination_recent_months": (_positive_int, "positive_int"),
    "exit_income_prior_year_months": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 11,
                                      "months_in_year"),
    "education_ages": (lambda v: isinstance(v, list) and len(v) == 2 and all(_positive_int(x) for x in v)
                       and v[0] <= v[1], "two_ages"),
    # the ages a member may be in school at (学前 to 研究生): an import's 在校生 outside them is to confirm
    "school_ages": (lambda v: isinstance(v, list) and len(v) == 2 and all(_positive_int(x) for x in v)
                    and v[0] <= v[1], "two_ages"),
    # villages (workflows/village.py)
    "village_identification_criteria": (
        lambda v: _record_of(v, {"incidence_multiple": _positive_number, "income_share_max": _fraction,
                                 "collective_income_max": _amount}),
        "village_criteria"),
    "village_exit_minimums": (
        lambda v: _record_of(v, {"collective_income": _amount, "road": _bool, "drinking_water": _bool,
                                 "electricity": _fraction, "clinic": _bool}),
        "village_minimums"),
    "village_exit_approver_level": (lambda v: v in ("county", "city", "province"), "approver_level"),
    "village_team_min_members": (_positive_int, "positive_int"),
    "village_team_min_term_years": (_positive_int, "positive_int"),
}


def _check_params(path: Path, where: str, params: dict[str, Any]) -> None:
    for key, value in params.items():
        rule = PARAM_RULES.get(key)
        if rule is None:
            raise ConfigError(path, f"{where}.{key}", "unknown_param", known=", ".join(PARAM_RULES))
        if not rule[0](value):
            raise ConfigError(path, f"{where}.{key}", "param_value", wanted_value=Msg(f"param_rule.{rule[1]}"),
                              value=repr(value))


def _check_policy(path: Path, policy: PolicyFile) -> None:
    _check_params(path, "defaults", policy.defaults)     # a misspelt key is named as such first
    for key in REQUIRED_PARAMS:
        if key not in policy.defaults:
            raise ConfigError(path, f"defaults.{key}", "param_missing")
    _check_params(path, "west_params", policy.west_params)
    for code, prov in policy.provinces.items():
        _check_params(path, f"provinces.{code}.params", prov.params)
        for year, params in prov.years.items():
            _check_params(path, f"provinces.{code}.years.{year}", params)
    for year, value in policy.national_income_line.items():
        if value <= 0:
            raise ConfigError(path, f"national_income_line.{year}", "not_positive")
    for code, prov in policy.provinces.items():
        if len(code) != 2 or not (code.isascii() and code.isdigit()):
            raise ConfigError(path, f"provinces.{code}", "province_code")
        for year, value in prov.income_line.items():
            if value <= 0:
                raise ConfigError(path, f"provinces.{code}.income_line.{year}", "not_positive")
    _check_inspection(path, policy.inspection)


def _check_inspection(path: Path, insp: InspectionDef) -> None:
    def fail(key: str, problem: str, **params: Any) -> None:
        raise ConfigError(path, f"inspection.{key}", problem, **params)

    try:
        insp.zone()
    except ValueError:
        fail("timezone", "inspection_timezone", value=insp.timezone)
    if not insp.signing_step_types:
        fail("signing_step_types", "no_step_type")
    hours = insp.working_hours
    for key in ("start", "end"):
        value = getattr(hours, key)
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            fail(f"working_hours.{key}", "hour_format", value=value)
    if hours.start >= hours.end:
        fail("working_hours.end", "end_before_start", start=hours.start, value=hours.end)
    if not hours.days or any(not 1 <= d <= 7 for d in hours.days) or len(set(hours.days)) != len(hours.days):
        fail("working_hours.days", "weekdays", value=list(hours.days))
    if insp.burst.count < 2:
        fail("burst.count", "at_least_2", value=insp.burst.count)
    if insp.burst.minutes < 1:
        fail("burst.minutes", "minutes_positive", value=insp.burst.minutes)
    if insp.notice_backdated_days < 0:
        fail("notice_backdated_days", "days_not_negative", value=insp.notice_backdated_days)
    if not 0 <= insp.exit_near_line_margin <= 1:
        fail("exit_near_line_margin", "share", value=insp.exit_near_line_margin)
    if insp.figure_changed_days < 1:
        fail("figure_changed_days", "days_positive", value=insp.figure_changed_days)
    if insp.late_entry_days < 0:
        fail("late_entry_days", "days_not_negative", value=insp.late_entry_days)
    for name, weight in insp.weights.items():
        if weight < 0:
            fail(f"weights.{name}", "weight_negative", value=weight)


# A field's default is also a class attribute, which a configuration read back from its cache would
# find before its own deadlines (Config.__getattr__ is asked only for what is found nowhere); the
# default stays __init__'s.
del Config.deadlines


def _kept_config(models: bytes, labels, directory, notes, version) -> Config:
    """A configuration read back from its cache, its models still bytes (see Config.__reduce__)."""
    config = object.__new__(Config)
    for name, value in (("labels", labels), ("directory", directory), ("notes", notes), ("_models", models),
                        ("_version", version)):
        object.__setattr__(config, name, value)
    return config


def load_config(directory: Path | str | None = None) -> Config:
    """Load and validate every configuration file of `directory` (the packaged one by default).

    What was loaded is kept, pickled, in the folder's __pycache__ (as Python keeps compiled modules)
    under a digest of every file it was read from and of this code: a command that finds its rules
    unchanged skips parsing YAML and catalogues (the CLI's start-up)."""
    base = Path(directory) if directory else CONFIG_DIR
    key = _cache_key(base)
    loaded = _LOADED.get(key)
    if loaded is not None:
        return loaded
    config = _cached(base, key)
    if config is None:
        config = _load(base)
        _keep(base, key, config)
    _LOADED.clear()             # the last one only: a process holds one configuration, or a new one
    _LOADED[key] = config
    return config


# The configuration this process last loaded, under its digest: loaded again (a test's every App, a
# server's rules reloaded unchanged) it is the same frozen object, not another unpickling of 0.9 MB.
_LOADED: dict[str, Config] = {}


def forget_loaded() -> None:
    """Load from the files (or their cache on disk) next time, not the configuration last loaded here."""
    _LOADED.clear()


_CODE = Path(__file__).resolve().parent


def _sources(base: Path) -> list[Path]:
    own = sorted((base / "locale").glob("*/LC_MESSAGES/*.po")) if base.resolve() != _CODE else []
    return [base / "roles.yaml", base / "policy.yaml", base / "deadlines.yaml",     # the packaged texts, then the
            *sorted((base / "workflows").glob("*.yaml")), *sorted((_CODE / "locale").glob("*/LC_MESSAGES/*.po")),
            *own,                                                                   # folder's own over them
            *sorted(_CODE.glob("*.py")), _CODE.parent / "engine" / "domain" / "errors.py"]   # the code of what is kept


def _cache_key(base: Path) -> str:
    """A digest of everything the loaded configuration depends on: the files' contents (not their
    times, which a quick rewrite may leave unchanged), where they are, and this Python."""
    import sys
    digest = hashlib.sha256(f"{sys.version}\n{base}\n{base.resolve()}\n".encode())
    for path in _sources(base):
        try:
            content = path.read_bytes()
        except OSError:
            content = b"-missing-"
        digest.update(f"{path}\n{len(content)}\n".encode())
        digest.update(content)
    return digest.hexdigest()


def _cache_file(base: Path) -> Path:
    return base / "__pycache__" / "jingzhun-config.pickle"


def _cached(base: Path, key: str) -> Config | None:
    import pickle
    try:
        with open(_cache_file(base), "rb") as fh:
            if fh.read(64).decode("ascii", "replace") != key:
                return None
            return pickle.load(fh)
    except Exception:      # none yet, unreadable or from another version: load the files
        return None


def _keep(base: Path, key: str, config: Config) -> None:
    import os
    import pickle
    import tempfile
    staging = None
    try:
        folder = _cache_file(base).parent
        folder.mkdir(mode=0o700, exist_ok=True)
        fd, staging = tempfile.mkstemp(dir=folder, prefix=".config-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.encode("ascii"))
            pickle.dump(config, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(staging, _cache_file(base))
    except Exception:      # a read-only folder (an installed package): no cache, only slower
        if staging is not None and os.path.exists(staging):
            os.unlink(staging)


def _load(base: Path) -> Config:
    from config.deadlines import load_deadlines
    from config.models import PolicyFile, RolesFile, WorkflowDef
    roles_path, policy_path = base / "roles.yaml", base / "policy.yaml"
    roles = parse(RolesFile, roles_path, read_yaml(roles_path)[0]).roles
    policy_data, policy_raw = read_yaml(policy_path)
    policy_file = parse(PolicyFile, policy_path, policy_data)
    _check_policy(policy_path, policy_file)
    policy = Policy(policy_file)
    workflows: dict[str, WorkflowDef] = {}
    for path in sorted((base / "workflows").glob("*.yaml")):
        wf = parse(WorkflowDef, path, read_yaml(path)[0])
        _check_workflow(path, wf, roles, policy_file)
        workflows[wf.kind] = wf
    if "household" not in workflows:
        raise ConfigError(base / "workflows", None, "no_household")
    labels = load_catalogue(base)
    deadlines, notes = load_deadlines(base, roles, workflows, set(PARAM_RULES) | set(policy_file.defaults))
    return Config(roles, workflows, policy, labels, base, deadlines, tuple(notes))


def add_required_params(folder: Path | str) -> list[tuple[str, Any]]:
    """Bring an installed policy up to this version: each REQUIRED_PARAMS key its `defaults` lack (a
    parameter a later release made required, `exit_check_months`), written under `defaults:` with the
    packaged policy's value and a comment saying so, the rest of the file (comments, order) untouched.
    [(key, value)] added; [] when nothing lacks, or the file is not one this can safely add to (it is
    then refused as before, naming the key). `jingzhun init`, the upgrade, calls it before loading the
    rules; the rules version changes, and init records it."""
    import os
    import yaml
    path = Path(folder) / "policy.yaml"
    try:
        text = path.read_text(encoding="utf-8")
        installed = yaml.safe_load(text)
        packaged = yaml.safe_load((CONFIG_DIR / "policy.yaml").read_text(encoding="utf-8"))["defaults"]
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
        return []
    defaults = installed.get("defaults") if isinstance(installed, dict) else None
    heading = re.search(r"^defaults:[ \t]*(#.*)?$", text, re.M)
    if not isinstance(defaults, dict) or heading is None:
        return []
    added = [(key, packaged[key]) for key in REQUIRED_PARAMS if key not in defaults and key in packaged]
    if not added:
        return []
    after = text[heading.end() + 1:]
    indent = next((m.group(1) for m in re.finditer(r"^([ \t]+)[^\s#]", after, re.M)), "  ")
    lines = "".join(f"{indent}{key}: {json.dumps(value, ensure_ascii=False)}   # added by `jingzhun init`: required "
                    f"since this version; the packaged value\n" for key, value in added)
    new = text[:heading.end() + 1] + lines + after
    check = yaml.safe_load(new)
    if not all(check["defaults"].get(key) == value for key, value in added):
        return []
    temporary = path.with_name(f".{path.name}.adding")
    temporary.write_text(new, encoding="utf-8")
    os.chmod(temporary, os.stat(path).st_mode & 0o777)
    os.replace(temporary, path)
    return added
