"""Errors a user sees. Each carries a message key (translated in config/labels.yaml) and params."""
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
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template


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
