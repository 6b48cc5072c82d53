"""What every configuration file shares: the error that names file, key and problem (defined in
config/catalogue.py with the message catalogue it reads), the YAML reader and the pydantic
validation that turns its first problem into that error. (The step types a configuration may name
are the engine's registry: engine/services/steptypes.py `check_config`.)"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.catalogue import ConfigError, ConfigValueError

if TYPE_CHECKING:
    from pydantic import BaseModel

# year: from 1949 to this year; code: one of the codes the evidence type lists for the field (`codes`)
FIELD_KINDS = ("str", "int", "year", "number", "bool", "date", "code")


def read_yaml(path: Path) -> tuple[Any, bytes]:
    import yaml
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, None, "file_not_found") from None
    try:
        return yaml.safe_load(raw), raw
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, "not_yaml", detail=str(exc)) from None


def parse(model: type[BaseModel], path: Path, data: Any) -> Any:
    from pydantic import ValidationError
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
