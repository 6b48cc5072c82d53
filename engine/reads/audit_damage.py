"""What `audit verify` finds: a kind of damage, its place and what is wrong, each a code with its
parameters, rendered in the reader's language from the message catalogue (audit.po)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from config import CONFIG_DIR, load_catalogue

Labels = Mapping[str, Mapping[str, str]]      # key -> {"zh": text, "en": text}, e.g. Config.labels
_LABELLED = {"type": "evidence", "stage": "stage", "led_to": "stage",   # parameters that are codes with labels
             "step": "step", "rule": "rule", "slot": "pairing_slot", "before": "event", "after": "event"}


@lru_cache(maxsize=1)
def packaged_labels() -> Labels:
    """The packaged message catalogue (what a Damage says when no configuration is at hand)."""
    return load_catalogue(CONFIG_DIR)


def _text(labels: Labels, key: str, lang: str) -> str:
    entry = labels.get(key) or {}
    return entry.get(lang) or entry.get("zh") or key


@dataclass(frozen=True)
class Damage:
    kind: str          # changed, chain_broken, missing, order, case_head, stage_unaccounted, evidence_*
    place: str         # where it is: audit.damage.place.<place> (case_event, case, evidence…)
    code: str          # what is wrong: audit.damage.<code>
    params: tuple[tuple[str, Any], ...] = ()    # fill both texts (a tuple: a Damage is hashable)

    @property
    def where(self) -> str:
        """The position as a stable locator, e.g. "case 12, event 5 (seq 1234)" (JSON, scripts)."""
        return _text(packaged_labels(), f"audit.damage.place.{self.place}", "en").format(**dict(self.params))

    @property
    def text(self) -> str:
        """The whole finding in Chinese, the default language."""
        return self.render(packaged_labels(), "zh")

    @property
    def detail(self) -> str:
        return self.render_detail(packaged_labels(), "zh")

    def render_detail(self, labels: Labels, lang: str = "zh") -> str:
        return _text(labels, f"audit.damage.{self.code}", lang).format(**self._values(labels, lang))

    def render(self, labels: Labels, lang: str = "zh") -> str:
        """The finding in `lang` ("zh" or "en"), from `labels` (Config.labels, or load_catalogue's)."""
        values = self._values(labels, lang)
        return _text(labels, "audit.damage.line", lang).format(
            kind=_text(labels, f"audit.damage.kind.{self.kind}", lang),
            where=_text(labels, f"audit.damage.place.{self.place}", lang).format(**values),
            detail=_text(labels, f"audit.damage.{self.code}", lang).format(**values))

    def _values(self, labels: Labels, lang: str) -> dict[str, Any]:
        values = dict(self.params)
        for name, prefix in _LABELLED.items():
            if f"{prefix}.{values.get(name)}" in labels:
                values[name] = _text(labels, f"{prefix}.{values[name]}", lang)
        return values

    def __str__(self) -> str:
        return self.text


RANGES_SHOWN = 20       # ranges of numbers named in one finding; "…" for the rest


def number_ranges(ranges: list[tuple[int, int]]) -> str:
    """Ranges of numbers said compactly ("2040, 54176–54180"), the first RANGES_SHOWN of them."""
    shown = ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in ranges[:RANGES_SHOWN])
    return shown + (" …" if len(ranges) > RANGES_SHOWN else "")


def found(kind: str, place: str, code: str | None = None, **params: Any) -> Damage:
    """A Damage of `kind` at `place`; its text is audit.damage.<code> (by default the kind's own)."""
    return Damage(kind, place, code or kind, tuple(params.items()))
