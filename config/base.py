"""What every configuration file shares: the error that names file, key and problem (defined in
config/catalogue.py with the message catalogue it reads), the YAML reader and the pydantic
validation that turns its first problem into that error, and the step types a workflow or a
deadline rule may name."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from config.catalogue import ConfigError, ConfigValueError

STEP_TYPES = ("evidence", "appraisal", "verification", "acknowledgement", "notice",
              "signoff", "announcement", "pairing", "plan", "record", "assign",
              # fund projects: allocate funds, schedule milestones, a milestone done, hand assets over,
              # change the plan (workflows/project.py)
              "allocate", "schedule", "milestone", "handover", "change")
FIELD_KINDS = ("str", "int", "number", "bool", "date")


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
