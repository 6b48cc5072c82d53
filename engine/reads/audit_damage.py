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
        if isinstance(values.get("changes"), (list, tuple)):       # (field, recorded, now) of a row's fields
            values["changes"] = ("；" if lang == "zh" else "; ").join(
                _text(labels, "audit.damage.field_changed", lang).format(
                    field=_text(labels, f"audit.field.{field}", lang), recorded=was, now=now)
                for field, was, now in values["changes"])
        return values

    def as_msg(self):
        """The finding as a text still to render (a refusal's parameter, said in its reader's language)."""
        from engine.domain.errors import Msg
        params = dict(self.params)
        return Msg("audit.damage.line", {"kind": Msg(f"audit.damage.kind.{self.kind}"),
                                         "where": Msg(f"audit.damage.place.{self.place}", params),
                                         "detail": Msg(f"audit.damage.{self.code}", params)})

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


# What follows from an event deleted from a case's chain (its "missing" finding, the root): the chain broken
# after it, the case's head and stage, the step whose event it was, a deadline that step closed, the
# responsibility it completed, and the checkpoint whose range lost it. Each is true, but not a finding of its own.
CONSEQUENCES = frozenset({"chain_broken", "case_head", "stage_unaccounted", "region_unaccounted", "step_event_deleted",
                          "deadline_closing_event_deleted", "responsible_changed",
                          "checkpoint_deleted_cases", "checkpoint_numbers_gone_cases"})


def by_cause(damage: list[Damage]) -> list[tuple[Damage, list[Damage]]]:
    """The findings, each root cause with what follows from it below it (CONSEQUENCES of an event missing
    from a case), in the order found; a finding caused by nothing else stands alone."""
    roots: dict[int, Damage] = {}
    for d in damage:
        case = dict(d.params).get("case")
        if d.code == "missing" and d.place == "case_event" and case not in roots:
            roots[case] = d
    caused: dict[int, list[Damage]] = {id(r): [] for r in roots.values()}
    for d in damage:
        root = _root_of(d, roots)
        if root is not None and root is not d:
            caused[id(root)].append(d)
    return [(d, caused.get(id(d), [])) for d in damage if _root_of(d, roots) in (None, d)]


def _root_of(d: Damage, roots: dict[int, Damage]) -> Damage | None:
    if d.code not in CONSEQUENCES:
        return d if d.code == "missing" and roots.get(dict(d.params).get("case")) is d else None
    params = dict(d.params)
    if d.place == "checkpoint":           # the cases its range lost events of, as ranges ("1801, 2040–2042")
        named = str(params.get("cases") or "")
        return next((r for case, r in roots.items() if str(case) in named.replace("–", ", ").split(", ")), None)
    return roots.get(params.get("case"))
