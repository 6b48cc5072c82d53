"""Region codes: 12-digit administrative division codes (GB/T 2260 + township 3 + village 3).

A code's level follows from where its significant digits end, so jurisdiction is a prefix test
and never needs a walk of the region tree.
"""
from __future__ import annotations

from functools import lru_cache

from engine.domain.errors import BadInput

ROOT = "000000000000"
LEVEL_DIGITS = {"country": 0, "province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
LEVEL_ORDER = ("village", "township", "county", "city", "province")
LEVEL_RANK = {name: i for i, name in enumerate(LEVEL_ORDER)}


def level_of(code: str) -> str:
    check_code(code)
    if code == ROOT:
        return "country"
    if code[9:] != "000":
        return "village"
    if code[6:9] != "000":
        return "township"
    if code[4:6] != "00":
        return "county"
    if code[2:4] != "00":
        return "city"
    return "province"


def ascii_digits(text: str) -> bool:
    """True for a non-empty text of the digits 0-9 only (`str.isdigit` also takes ³, ٣ or ７)."""
    return bool(text) and text.isascii() and text.isdigit()


def check_code(code: str) -> str:
    if not isinstance(code, str) or len(code) != 12 or not ascii_digits(code):
        raise BadInput("region.bad_code", code=code)
    return code


def prefix(code: str) -> str:
    return code[:LEVEL_DIGITS[level_of(code)]]


def covers(jurisdiction: str, code: str) -> bool:
    """True when `code` is `jurisdiction` itself or lies under it."""
    return code.startswith(_prefix_kept(jurisdiction) if type(jurisdiction) is str else prefix(jurisdiction))


# A jurisdiction's prefix, kept: a list step or a page asks it of the same few posts for every case
# (bounded: a code refused is raised each time, never kept).
_prefix_kept = lru_cache(maxsize=4096)(prefix)


def highest(codes) -> list[str]:
    """The codes without those lying under another of them, sorted: a jurisdiction's top regions."""
    codes = sorted(set(codes))
    return [c for c in codes if not any(o != c and covers(o, c) for o in codes)]


def common_ancestor(codes) -> str:
    """The lowest region that covers every one of `codes` (at least one)."""
    codes = list(codes)
    return next(a for a in ancestors_of(codes[0]) if all(covers(a, c) for c in codes))


def posts_region(codes) -> str | None:
    """Where an event about a person is filed: the lowest region covering their posts' regions (its
    inspectors read it), None for a person without a post."""
    codes = list(codes)
    return common_ancestor(codes) if codes else None


def parent_of(code: str) -> str | None:
    level = level_of(code)
    if level == "country":
        return None
    order = ["country", "province", "city", "county", "township", "village"]
    parent_level = order[order.index(level) - 1]
    digits = LEVEL_DIGITS[parent_level]
    return code[:digits] + "0" * (12 - digits)


def ancestor(code: str, level: str) -> str:
    digits = LEVEL_DIGITS[level]
    return code[:digits] + "0" * (12 - digits)


def province_of(code: str) -> str:
    return code[:2]


def ancestors_of(code: str) -> list[str]:
    """The code itself and every region above it, up to the root."""
    found = []
    current: str | None = code
    while current is not None:
        found.append(current)
        current = parent_of(current)
    return found
