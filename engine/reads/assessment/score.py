"""The sample-check rates (national formulas, DOMAIN §8), the county exit gate, the county score
from configurable weights, the city's result as the average of its counties, and the ranking.

A rate whose denominator is not wholly recorded (villages with no population) is not a rate: None,
with how much is missing said beside it, never a figure over the villages that happen to be recorded.

Shares are exact fractions until they are shown (4 of 200 is 2%, which is not below 2%)."""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from engine.reads.indicators import percent, share

PARTS = ("exit_progress", "incidence", "wrong_exit", "missed", "approval", "coverage", "disbursement",
         "rectification")
# A part with nothing to measure (no problem items to close): left out of the score, which is scaled
# to the weights of the parts that are scored (折算), as assessment rules do with 不涉及的指标.
NOT_APPLICABLE = "not_applicable"
VERDICTS = ("confirmed", "wrong_exit")
SURVEY = ("approving", "not_approving")


def ratio(part: int | Fraction, whole: int | Fraction | None) -> Fraction | None:
    return Fraction(part) / Fraction(whole) if whole else None


# --- sample checks -------------------------------------------------------------------------------

@dataclass
class Samples:
    """What the sample checks of one county found, and its rates."""
    county: str
    checked_households: int = 0
    checked_persons: int = 0          # sampled exited persons (households with a verdict)
    wrong_households: int = 0
    wrong_persons: int = 0
    missed_persons: int = 0
    unregistered: int | None = None   # unregistered rural persons of the sampled villages
    unrecorded: int = 0               # sampled villages whose population is not recorded
    surveyed: int = 0
    approving: int = 0
    villages: set = field(default_factory=set)

    def add(self, row: dict[str, Any]) -> None:
        self.villages.add(row["village"])
        kind, n, persons = row["finding"], row["households"], row["persons"]
        if kind in VERDICTS:
            self.checked_households, self.checked_persons = self.checked_households + n, self.checked_persons + persons
        if kind == "wrong_exit":
            self.wrong_households, self.wrong_persons = self.wrong_households + n, self.wrong_persons + persons
        self.missed_persons += persons if kind == "missed" else 0
        self.surveyed += n if kind in SURVEY else 0
        self.approving += n if kind == "approving" else 0

    @property
    def wrong_exit_rate(self) -> Fraction | None:
        return ratio(self.wrong_persons, self.checked_persons)

    @property
    def missed_rate(self) -> Fraction | None:
        """None when a sampled village's population is missing from the denominator, unless no missed
        person was found: 0 of any number is 0."""
        if self.unrecorded and self.missed_persons:
            return None
        return ratio(self.missed_persons, self.unregistered)

    @property
    def approval_rate(self) -> Fraction | None:
        return ratio(self.approving, self.surveyed)

    def to_dict(self) -> dict[str, Any]:
        return {"county": self.county, "checked_households": self.checked_households,
                "checked_persons": self.checked_persons, "wrong_households": self.wrong_households,
                "wrong_persons": self.wrong_persons, "wrong_exit_pct": percent(self.wrong_exit_rate),
                "missed_persons": self.missed_persons, "unregistered": self.unregistered,
                "villages_unrecorded": self.unrecorded,
                "missed_pct": percent(self.missed_rate), "surveyed": self.surveyed, "approving": self.approving,
                "approval_pct": percent(self.approval_rate), "villages": len(self.villages)}


def samples_by_county(rows: list[dict[str, Any]], persons: dict[str, dict[str, int]],
                      populations: dict[str, int | None]) -> dict[str, Samples]:
    """The findings' counts rolled up per county, with the unregistered persons of the sampled villages."""
    found: dict[str, Samples] = {}
    for row in rows:
        found.setdefault(row["county"], Samples(row["county"])).add(row)
    for s in found.values():
        known = [v for v in s.villages if populations.get(v)]
        s.unrecorded = len(s.villages) - len(known)
        s.unregistered = sum(max(0, populations[v] - persons.get(v, {}).get("registered", 0)) for v in known) \
            if known else None
    return found


# --- the exit gate -------------------------------------------------------------------------------

def _below(value: Fraction | None, limit: Fraction) -> bool | None:
    return None if value is None else value < limit


def gate(incidence: Fraction | None, samples: Samples | None, limits: dict[str, Any]) -> dict[str, Any]:
    """Whether a county passes the exit gate: incidence, 错退 and 漏评 under their limits, approval at
    least its minimum. passes: True, False, or None when a figure is not recorded (and none fails)."""
    s = samples or Samples("")
    approval = s.approval_rate
    checks = {"incidence": _below(incidence, share(limits["incidence"])),
              "wrong_exit": _below(s.wrong_exit_rate, share(limits["wrong_exit_rate"])),
              "missed": _below(s.missed_rate, share(limits["missed_rate"])),
              "approval": None if approval is None else approval >= share(limits["approval_min"])}
    passes = False if False in checks.values() else (None if None in checks.values() else True)
    return {"checks": checks, "passes": passes, "limits_pct": {k: percent(share(v)) for k, v in limits.items()}}


# --- the county score ----------------------------------------------------------------------------

def under_limit(rate: Fraction | None, limit: Fraction) -> Fraction | None:
    """1 at a rate of 0, 0 at the limit or above it."""
    return None if rate is None else max(Fraction(0), 1 - rate / limit)


def capped(value: Fraction | None) -> Fraction | None:
    return None if value is None else min(Fraction(1), value)


def score(parts: dict[str, Fraction | str | None], weights: dict[str, Any]) -> dict[str, Any]:
    """100 x the weighted mean of the parts (each 0..1): a part not recorded or not wholly recorded
    (None) scores 0 and is named (not_recorded); a part NOT_APPLICABLE is left out, the score scaled
    to the weights of the others (scored_weight of full_weight) and named (not_applicable)."""
    full = {k: Fraction(str(w)) for k, w in weights.items()}
    scored = {k: w for k, w in full.items() if parts.get(k) != NOT_APPLICABLE}
    total = sum(scored.values())
    got = sum((w * (parts.get(k) or 0) for k, w in scored.items()), Fraction(0))
    return {"score": round(float(100 * got / total), 2) if total else None,
            "parts": {k: percent(parts.get(k)) if k in scored else None for k in weights},
            "not_recorded": [k for k in scored if parts.get(k) is None],
            "not_applicable": [k for k in full if k not in scored],
            "scored_weight": _number(total), "full_weight": _number(sum(full.values()))}


def _number(value: Fraction) -> int | float:
    """A weight as configured: 90, not 90.0; 7.5 as it is."""
    return int(value) if value.denominator == 1 else float(value)


def ranked(rows: list[dict[str, Any]], key: str = "score") -> list[dict[str, Any]]:
    """The rows by score, highest first, each with its rank (equal scores share a rank)."""
    order = sorted(rows, key=lambda r: (-(r[key] if r[key] is not None else -1), r["code"]))
    for i, row in enumerate(order):
        same = i and order[i - 1][key] == row[key]
        row["rank"] = order[i - 1]["rank"] if same else i + 1
    return order


def city_results(counties: list[dict[str, Any]], cities: dict[str, str]) -> list[dict[str, Any]]:
    """Each city's result: the average of its counties' scores (the seed's rule)."""
    found = []
    for code, name in cities.items():
        scores = [r["score"] for r in counties if r["code"][:4] == code[:4] and r["score"] is not None]
        found.append({"code": code, "name": name, "counties": len(scores),
                      "score": round(sum(scores) / len(scores), 2) if scores else None})
    return ranked(found)
