"""Errors a user sees. Each carries a message key (translated in the message catalogue, config/locale/) and params."""
from __future__ import annotations

from typing import Any


class JingzhunError(Exception):
    exit_code = 1
    prefix = "refused"

    def __init__(self, code: str, /, **params: Any):
        self.code = code
        self.params = params
        super().__init__(f"{code} {params}")

    def render(self, labels: Any = None, lang: str = "zh") -> str:
        template = None
        if labels is not None:
            entry = labels.labels.get(f"msg.{self.code}")
            if entry:
                template = entry.get(lang) or entry.get("zh")
        if template is None:
            return f"{self.code}: " + ", ".join(f"{k}={v}" for k, v in self.params.items())
        try:
            return template.format(**self._labelled(labels, lang))
        except (KeyError, IndexError):
            return template

    # Parameters that name a step, procedure, stage, evidence type or role are shown by label.
    _LABELLED = {"step": "step", "expected": "step", "procedure": "procedure", "open": "procedure",
                 "wanted": "procedure", "stage": "stage", "type": "evidence", "types": "evidence"}

    def _labelled(self, labels: Any, lang: str) -> dict[str, Any]:
        params = dict(self.params)
        if "failures" in params:
            params["details"] = "; ".join(render_failure(labels, f, lang) for f in params["failures"])
        for key, prefix in self._LABELLED.items():
            if isinstance(params.get(key), str):
                params[key] = ", ".join(labels.label(f"{prefix}.{v.strip()}", lang) if f"{prefix}.{v.strip()}"
                                        in labels.labels else v for v in params[key].split(","))
        if isinstance(params.get("roles"), str) and hasattr(labels, "role_label"):
            params["roles"] = ", ".join(labels.role_label(r.strip(), lang) for r in params["roles"].split(","))
        return params


class RuleViolation(JingzhunError):
    """A rule of the domain refuses the action (exit code 1); `code` names the rule."""


class AuthError(RuleViolation):
    """Authentication or authorisation refused."""


class CaseChanged(RuleViolation):
    """Optimistic lock: somebody else changed the case first."""

    def __init__(self, case_id: int, **params: Any):
        super().__init__("case.changed", case=case_id, **params)


class BadInput(JingzhunError):
    """Malformed input or wrong usage (exit code 2)."""
    exit_code = 2


class NotFound(BadInput):
    pass


class SchemaOutdated(JingzhunError):
    exit_code = 2


def render_failure(labels: Any, failure: tuple[str, dict], lang: str = "zh") -> str:
    """One unmet condition of a policy check, e.g. ("income_not_above", {...}), in the user's language."""
    code, params = failure
    entry = labels.labels.get(f"fail.{code}") if labels is not None else None
    if entry is None:
        return f"{code} {params}"
    try:
        return (entry.get(lang) or entry["zh"]).format(**params)
    except (KeyError, IndexError):
        return entry.get(lang) or entry["zh"]
