"""An inspection flag: what it points at, and its text in the catalogue's language."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.domain.errors import render_failure
from engine.domain.kin import kin_said
from engine.reads.words import change_words, replaced_words


# In the order they are listed.
KINDS = ("signoff_off_hours", "signoff_burst", "short_notice", "notice_backdated", "evidence_after_signoff",
         "override_chain", "exit_near_line", "figure_changed_before_decision", "fact_changed_before_exit",
         "decision_backdated", "relative_signed", "project_target_missed", "payment_entered_late",
         "final_cost_over_contract")

# A burst can be a whole county's list signed at once: it keeps at most this many case ids and event
# seqs (its count stays whole), so that memory does not grow with the cases of one flag either.
LIST_LIMIT = 1000
SHOWN_CASES = 20        # in the text; the JSON has all that were kept


@dataclass(frozen=True)
class Flag:
    kind: str
    variant: str                           # which text of the kind: label flag.<kind>.<variant>
    case_id: int | None
    case_title: str | None
    region: str | None
    person: tuple[str, str] | None         # (code, name) of the person the flag is about
    detail: dict[str, Any] = field(default_factory=dict)
    events: tuple[int, ...] = ()           # audit_events.seq behind the flag
    weight: float = 1.0                    # how much it is worth reading (policy inspection.weights)

    def text(self, config, lang: str = "zh") -> str:
        template = config.label(f"flag.{self.kind}.{self.variant}", lang)
        params = _labelled(config, self.detail, lang)
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            return f"{template} {self.detail}"

    def to_dict(self, config, lang: str = "zh") -> dict[str, Any]:
        return {"kind": self.kind, "label": config.label(f"flag.{self.kind}", lang), "variant": self.variant,
                "case": self.case_id, "title": self.case_title, "region": self.region,
                "person": {"code": self.person[0], "name": self.person[1]} if self.person else None,
                "detail": self.detail, "text": self.text(config, lang), "events": list(self.events),
                "weight": self.weight}


def weight_of(weights: dict[str, float], flag: Flag) -> float:
    """The flag's weight: its kind.variant's, else its kind's, else 1."""
    return weights.get(f"{flag.kind}.{flag.variant}", weights.get(flag.kind, 1.0))


def _labelled(config, detail: dict[str, Any], lang: str) -> dict[str, Any]:
    params = dict(detail)
    for key, label_prefix in (("step", "step"), ("next_step", "step"), ("procedure", "procedure"),
                              ("type", "evidence"), ("cause", "flag.cause"), ("field", "field")):
        if isinstance(params.get(key), str):
            params[key] = config.label(f"{label_prefix}.{params[key]}", lang)
    if "relation" in params:        # a cadre's kinship to the household
        params["relation"] = kin_said(config, params["relation"], lang)
    if "weekday" in params:
        params["weekday"] = config.label(f"flag.weekday.{params['weekday']}", lang)
    if isinstance(params.get("steps"), list):
        voided = config.label("flag.voided", lang)
        params["steps"] = ", ".join(config.label(f"step.{key}", lang) + (f" ({voided})" if void else "")
                                    for key, void in params["steps"])
    if isinstance(params.get("signed"), list):     # [procedure, step, date] of each step signed
        params["signed"] = ", ".join(f"{config.label('procedure.' + p, lang)}·{config.label('step.' + k, lang)} ({d})"
                                     for p, k, d in params["signed"])
    sep = "；" if lang == "zh" else "; "
    if isinstance(params.get("changes"), list):    # a member's fields, old → new
        params["changes"] = sep.join(change_words(config, params["changes"], lang))
    if isinstance(detail.get("old_fields"), dict):  # an item's fields, old → new
        params["changes"] = sep.join(replaced_words(config, detail["old_fields"], detail.get("new_fields"),
                                                    detail.get("type", ""), lang))
    if isinstance(params.get("failures"), list):   # the conditions of a policy check unmet
        params["failures"] = sep.join(render_failure(config, tuple(f), lang) for f in params["failures"])
    if isinstance(params.get("cases"), list):
        cases = params["cases"]
        more = max(len(cases), params.get("count", 0)) - SHOWN_CASES
        params["cases"] = ", ".join(str(c) for c in cases[:SHOWN_CASES]) + (f" … (+{more})" if more > 0 else "")
    for key, value in params.items():
        if isinstance(value, float) and value.is_integer():
            params[key] = int(value)
    return params
