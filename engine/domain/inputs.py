"""Pure parsers of what a person types: codes or their labels, and dates in the common forms.

No framework here: the command line and the web server both turn text into codes with these.
A value that cannot be read raises BadInput naming what is accepted.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Iterable, Mapping

from engine.domain.errors import BadInput

_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_BRACKETS = "(（"


def parse_date(text: str) -> date:
    """`2019-03-02`, `2019-3-2`, `2019/3/2`, `2019.3.2` or `2019年3月2日`."""
    found = _DATE.match(text or "")
    try:
        return date(*(int(part) for part in found.groups())) if found else date.fromisoformat(text)
    except (ValueError, TypeError):
        # written as a date, yet no such day (2020-02-30): said so, not told the form it already has
        raise BadInput("input.no_such_day" if found else "input.bad_date", value=text) from None


def label_forms(label: str) -> set[str]:
    """A label and, for `巩固期(过渡期)`, the part before the bracket: both name the code."""
    cut = min((i for i in (label.find(b) for b in _BRACKETS) if i > 0), default=len(label))
    return {label.strip(), label[:cut].strip()} - {""}


def parse_code(value: str, labels: Mapping[str, Iterable[str]], what: str = "") -> str:
    """The code `value` names: the code itself, one of its labels, or a label's part before a bracket.

    `labels` maps each accepted code to its labels (any language)."""
    text = (value or "").strip()
    if text in labels:
        return text
    for code, names in labels.items():
        if any(text.lower() in {f.lower() for f in label_forms(n)} for n in names):
            return code
    raise BadInput("input.unknown_code", what=what, value=value, known=accepted(labels))


def accepted(labels: Mapping[str, Iterable[str]]) -> str:
    """The accepted values, for a message: `code (label/label)`, comma-separated."""
    return ", ".join(_with_labels(code, names) for code, names in labels.items())


def _with_labels(code: str, names: Iterable[str]) -> str:
    shown = list(dict.fromkeys(n for n in names if n != code))
    return f"{code} ({'/'.join(shown)})" if shown else code


def codes_with_prefix(catalogue: Mapping[str, Mapping[str, str]], prefix: str) -> dict[str, list[str]]:
    """From a message catalogue (key -> {lang: text}): code -> labels for every key `prefix.code`."""
    start = prefix + "."
    return {key[len(start):]: [t for t in texts.values() if t] for key, texts in catalogue.items()
            if key.startswith(start) and "." not in key[len(start):]}


def to_code(value: str, labels: Mapping[str, Iterable[str]]) -> str:
    """Like parse_code, but a value naming no known code is returned as it is (the service that
    takes it checks it and says what it accepts)."""
    try:
        return parse_code(value, labels)
    except BadInput:
        return value

def split(value: str, sep: str, least: int, most: int, code: str) -> list[str]:
    parts = [p.strip() for p in value.split(sep, most - 1)]
    if not least <= len(parts) <= most or not all(parts[:least]):
        raise BadInput(code, value=value)
    return parts


def field(value: str) -> tuple[str, str]:
    if "=" not in value:
        raise BadInput("input.field", value=value)
    k, val = value.split("=", 1)
    return k.strip(), val


def pairing(value: str) -> tuple[int, tuple[str, str | None]]:
    parts = value.split(":")
    if len(parts) not in (2, 3) or not (parts[0].isascii() and parts[0].isdigit()) or not parts[1]:
        raise BadInput("input.pairing", value=value)
    return int(parts[0]), (parts[1], parts[2] if len(parts) == 3 and parts[2] else None)


def vote(value: str) -> tuple[int, tuple[int, int]]:
    """CASE:FOR:AGAINST, a household's own votes at a list's appraisal (the colons full-width too)."""
    parts = value.replace("：", ":").split(":")
    if len(parts) != 3 or not all(p.strip().isascii() and p.strip().isdigit() and len(p.strip()) <= 12 for p in parts):
        raise BadInput("input.vote", value=value[:40])
    case, votes_for, votes_against = (int(p) for p in parts)
    return case, (votes_for, votes_against)


def measure(value: str) -> tuple[str, str]:
    """CATEGORY:DESCRIPTION, the colon half- or full-width (a Chinese keyboard types ：)."""
    at = min((i for i in (value.find(":"), value.find("：")) if i >= 0), default=-1)
    if at < 0:
        raise BadInput("input.measure", value=value)
    return value[:at].strip(), value[at + 1:].strip()


def fund_line(value: str) -> tuple[str, str, str | None]:
    """SOURCE:AMOUNT[:DOCUMENT], the colons as a Chinese keyboard types them too (县级财政：80000)."""
    parts = split(value.replace("：", ":"), ":", 2, 3, "input.fund_source_line")
    return parts[0], parts[1], (parts[2] if len(parts) == 3 else None) or None


def milestone_spec(value: str) -> tuple[str, str]:
    if ":" not in value:
        raise BadInput("input.milestone", value=value)
    name, when = value.rsplit(":", 1)
    return name.strip(), when.strip()


def asset_spec(value: str) -> tuple[str, str, str, str, int | None]:
    parts = [p.strip() for p in value.split(":")]
    if len(parts) not in (4, 5) or (len(parts) == 5 and not (parts[4].isascii() and parts[4].isdigit())):
        raise BadInput("input.asset", value=value)
    return parts[0], parts[1], parts[2], parts[3], int(parts[4]) if len(parts) == 5 else None


def published_head(value: str) -> tuple[int, str]:
    """A published head of the audit log, SEQ:HASH (what `audit verify --against`, the inspector's page
    and the API check the log against)."""
    seq, _, digest = value.partition(":")
    if not (seq.isascii() and seq.isdigit()) or len(digest) != 64:
        raise BadInput("input.head", value=value)
    return int(seq), digest
