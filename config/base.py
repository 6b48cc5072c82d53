"""What every configuration file shares: the error that names file, key and problem (defined in
config/catalogue.py with the message catalogue it reads), the YAML reader and the pydantic
validation that turns its first problem into that error. (The step types a configuration may name
are the engine's registry: engine/services/steptypes.py `check_config`.)"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.catalogue import ConfigError, ConfigValueError
from engine.domain.errors import Msg

if TYPE_CHECKING:
    from pydantic import BaseModel

# year: from 1949 to this year; code: one of the codes the evidence type lists for the field (`codes`)
FIELD_KINDS = ("str", "int", "year", "number", "share", "bool", "date", "code", "money", "credit_code")


def read_yaml(path: Path) -> tuple[Any, bytes]:
    import yaml
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, None, "file_not_found") from None
    except OSError:            # a folder, or a file this user may not read
        raise ConfigError(path, None, "unreadable") from None
    try:
        return yaml.safe_load(raw), raw
    except yaml.YAMLError as exc:
        problem, params = _yaml_problem(exc, raw)
        raise ConfigError(path, None, problem, **params) from None


# What the YAML parser says (its own words are English), as a problem of ours: where in the file, what
# is wrong there, how to fix it. Told by the parser's problem text (PyYAML's wording, stable for years).
_UNCLOSED = {"while scanning a quoted scalar": ("yaml_unclosed_quote", {}),
             "while parsing a flow sequence": ("yaml_unclosed_bracket", {"open": "[", "close": "]"}),
             "while parsing a flow mapping": ("yaml_unclosed_bracket", {"open": "{", "close": "}"})}


def _yaml_problem(exc: Exception, raw: bytes) -> tuple[str, dict[str, Any]]:
    import re
    import yaml
    from engine.domain.scans import scan_kind
    if isinstance(exc, yaml.reader.ReaderError):
        kind = scan_kind(raw[:1024])
        if kind is not None:
            return "not_text", {"kind": kind.upper()}
        if isinstance(exc.character, int) and exc.encoding != "unicode":     # bytes that are no UTF-8
            return "not_utf8", {"line": raw[:exc.position].count(b"\n") + 1}
        text = raw.decode("utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", "replace")
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        return "control_char", {"line": text[:exc.position].count("\n") + 1,
                                "char": "NUL" if code == 0 else f"U+{code:04X}"}
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return "yaml_syntax_file", {}
    problem, context = getattr(exc, "problem", None) or "", getattr(exc, "context", None) or ""
    at = {"line": mark.line + 1, "column": mark.column + 1}
    if "end of stream" in problem or "<stream end>" in problem:
        start = getattr(exc, "context_mark", None)
        code, params = _UNCLOSED.get(context, ("yaml_ends_early", {}))
        return code, {**params, "start": (start.line if start else mark.line) + 1, "line": mark.line + 1}
    if problem.startswith("found character '\\t'"):
        return "yaml_tab", at
    if problem.startswith("could not determine a constructor for the tag"):
        found = re.search(r"tag '([^']*)'", problem)
        tag = found.group(1).replace("tag:yaml.org,2002:", "!!") if found else "!"
        return "yaml_tag", {**at, "tag": tag}
    if problem.startswith("found character") and "cannot start any token" in problem:
        found = re.search(r"character '(.+)' that", problem)
        return "yaml_bad_start", {**at, "char": found.group(1) if found else "?"}
    if problem.startswith("mapping values are not allowed"):
        return "yaml_colon", at
    if problem.startswith("expected <block end>"):
        return "yaml_indent", at
    if problem.startswith("found undefined alias"):
        found = re.search(r"alias '([^']*)'", problem)
        return "yaml_alias", {**at, "name": found.group(1) if found else "?"}
    return "yaml_syntax", at


# A pydantic error's type, as our text of what the value should be (`config_invalid.<text>`).
_INVALID = {"int_type": "int", "int_parsing": "int", "int_from_float": "int", "float_type": "number",
            "float_parsing": "number", "string_type": "text", "bool_type": "bool", "bool_parsing": "bool",
            "literal_error": "one_of", "dict_type": "mapping", "model_type": "mapping", "model_attributes_type": "mapping",
            "list_type": "list", "tuple_type": "list", "too_short": "too_short", "date_type": "date",
            "date_parsing": "date", "date_from_datetime_parsing": "date", "date_from_datetime_inexact": "date",
            "greater_than_equal": "at_least", "string_pattern_mismatch": "pattern"}


def parse(model: type[BaseModel], path: Path, data: Any) -> Any:
    from pydantic import ValidationError
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        err = _misspelt(errors) or errors[0]
        loc = [str(p) for p in err["loc"]]
        if not loc:         # the file as a whole is no mapping of keys (empty, a text, a list)
            raise _not_mapping(path, data) from None
        more = len(errors) - (2 if err["type"] == "misspelt" else 1)      # a misspelling is one problem
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ConfigValueError):
            raise ConfigError(path, ".".join(loc), "invalid_more" if more else "invalid",
                              detail=cause.msg, more=more) from None
        of_key = loc[-1] == "[key]"
        key = ".".join(loc[:-1] if of_key else loc)
        raise ConfigError(path, key, "wrong_more" if more else "wrong", detail=_invalid(err, of_key),
                          more=more) from None


def _misspelt(errors: list[dict]) -> dict | None:
    """A key the model does not know where it lacks one key beside it (`zn:` for `zh:`): that key, told
    as a misspelling of the one lacking (pydantic names the lacking one first)."""
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    missing = [e for e in errors if e["type"] == "missing"]
    if len(unknown) != 1 or len(missing) != 1 or unknown[0]["loc"][:-1] != missing[0]["loc"][:-1]:
        return None
    return {**unknown[0], "type": "misspelt", "ctx": {"name": str(missing[0]["loc"][-1])}}


def _invalid(err: dict, of_key: bool) -> Msg:
    """What is wrong with one value, in our words (pydantic's are English)."""
    import re
    kind = err["type"]
    if kind == "missing":
        return Msg("config_invalid.missing")
    if kind == "extra_forbidden":
        return Msg("config_invalid.unknown_key")
    ctx = err.get("ctx") or {}
    if kind == "misspelt":
        return Msg("config_invalid.misspelt", {"name": ctx["name"]})
    value = repr(err.get("input"))
    params: dict[str, Any] = {"value": value if len(value) <= 40 else value[:39] + "…"}
    text = _INVALID.get(kind, "other")
    if of_key:
        text = "key_" + ("int" if text in ("int", "number") else "other")
    elif text == "one_of":
        params["known"] = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", "")))) or "-"
    elif text == "too_short":
        params["min"] = ctx.get("min_length", 1)
    elif text == "at_least":
        params["limit"] = ctx.get("ge", 0)
    return Msg(f"config_invalid.{text}", params)


def _not_mapping(path: Path, data: Any) -> ConfigError:
    """A file that is empty, or holds a text, a number or a list where keys and values belong; a link
    is named as one (its target may be anything: /etc/passwd)."""
    if path.is_symlink():
        import os
        return ConfigError(path, None, "not_mapping_link", target=os.readlink(path))
    if data is None:
        return ConfigError(path, None, "file_empty")
    kind = "list" if isinstance(data, list) else "number" if isinstance(data, (int, float)) else "text"
    return ConfigError(path, None, "not_mapping", found=Msg(f"config_found.{kind}"))
