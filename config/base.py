"""What every configuration file shares: the error that names file, key and problem, the YAML
reader and the pydantic validation that turns its first problem into that error, and the step
types a workflow or a deadline rule may name."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from engine.domain.errors import Msg, render_text

STEP_TYPES = ("evidence", "appraisal", "verification", "acknowledgement", "notice",
              "signoff", "announcement", "pairing", "plan", "record", "assign",
              # fund projects: allocate funds, schedule milestones, a milestone done, hand assets over,
              # change the plan (workflows/project.py)
              "allocate", "schedule", "milestone", "handover", "change")
FIELD_KINDS = ("str", "int", "number", "bool", "date")


class ConfigError(Exception):
    """A configuration file is missing or wrong: `msg` names the file, the key path in it (None for
    the whole file) and the problem (catalogue keys `config_error.*` and `config_problem.<problem>`).
    str() is its Chinese text; `render(labels, lang)` gives it in a reader's language."""

    def __init__(self, path: Any, key: str | None, problem: str, /, **params: Any):
        where = {"path": str(path)} if key is None else {"path": str(path), "at": key}
        self.msg = Msg("config_error.at" if key is not None else "config_error.file",
                       {**where, "problem": Msg(f"config_problem.{problem}", params)})
        super().__init__(self.render())

    def render(self, labels: Any = None, lang: str = "zh") -> str:
        text = render_text(labels if labels is not None else _packaged(), self.msg.key, self.msg.params, lang)
        return text or f"{self.msg.params['path']}: {self.msg.params.get('at', '')}: {self.msg.params['problem']}"


class ConfigValueError(ValueError):
    """A validator's refusal inside a pydantic model: the problem as a catalogue key
    (`config_problem.<problem>`) and params, which `parse` puts into the ConfigError."""

    def __init__(self, problem: str, /, **params: Any):
        self.msg = Msg(f"config_problem.{problem}", params)
        super().__init__(f"{problem} {params}")


@cache
def _packaged() -> Any:
    """The packaged message catalogue (what str() of a ConfigError reads), or None when it is unusable."""
    from config import CONFIG_DIR, load_catalogue
    try:
        return SimpleNamespace(labels=load_catalogue(CONFIG_DIR))
    except ConfigError:
        return None


def read_yaml(path: Path) -> tuple[Any, bytes]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, None, "file_not_found") from None
    try:
        return yaml.safe_load(raw), raw
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, "not_yaml", detail=str(exc)) from None


def parse(model: type[BaseModel], path: Path, data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        more = len(exc.errors()) - 1
        problem = "invalid_more" if more else "invalid"
        cause = (err.get("ctx") or {}).get("error")
        detail = cause.msg if isinstance(cause, ConfigValueError) else err["msg"]
        raise ConfigError(path, key or None, problem, detail=detail, more=more) from None
