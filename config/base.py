"""What every configuration file shares: the error that names file, key and problem, the YAML
reader and the pydantic validation that turns its first problem into that error. (The step types a
configuration may name are the engine's registry: engine/services/steptypes.py `check_config`.)"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

FIELD_KINDS = ("str", "int", "number", "bool", "date")


class ConfigError(Exception):
    """A configuration file is missing or wrong; the message names file, key and problem."""


def read_yaml(path: Path) -> tuple[Any, bytes]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    try:
        return yaml.safe_load(raw), raw
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def parse(model: type[BaseModel], path: Path, data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{path}: key {key}: {err['msg']}{more}") from None
