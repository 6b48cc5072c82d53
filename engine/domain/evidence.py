"""Evidence as the domain sees it: typed fields checked against their definition, and the hash that
a sign-off relies on."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date
from typing import Any, Mapping, TYPE_CHECKING

from engine.domain.errors import BadInput, Codes, Msg, render_text, stored_msg
from engine.domain.json_text import encoder

if TYPE_CHECKING:      # the configuration's models (pydantic) are loaded only where used
    from config import EvidenceTypeDef


def content_hash(etype: str, fields: dict[str, Any], file_sha256: str | None) -> str:
    payload = _content_json({"type": etype, "fields": fields, "file": file_sha256})
    return hashlib.sha256(payload.encode()).hexdigest()


_content_json = encoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_TRUE = {"true", "yes", "1", "y", "是", "√", "✓", "✔"}      # a sheet's tick is yes, its cross no
_FALSE = {"false", "no", "0", "n", "否", "×", "✗", "✘"}
# What a yes/no field's column takes besides yes and no, as the national forms fill it in.
FIELD_WORDS = {"renovated_accepted": {"已验收": True, "未验收": False},
               "relocated_keys_handed": {"已交钥匙": True, "未交钥匙": False}}


# Fields a sheet comes with filled in for each household (the cadre may change them): the applicant
# (申请人) with the household's head's name, the applicant in nearly every case.
PREFILLED_WITH_HEAD = ("applicant",)


def prefilled(fields: Any, head: str | None) -> dict[str, str]:
    """The cells of a sheet with `fields` (a type's field names) filled in for a household whose head
    is `head` (its case's title)."""
    head = (head or "").strip()
    return {f: head for f in PREFILLED_WITH_HEAD if f in fields} if head else {}


def left_as_prefilled(given: dict[str, str], head: str | None) -> bool:
    """Whether a sheet's row gives only what the sheet came with (its applicant the head's name): a row
    left unfilled, passed over as a blank one is."""
    return bool(given) and {k: v.strip() for k, v in given.items()} == prefilled(given, head)


FIRST_YEAR = 1949       # a year field's earliest; its latest is this year (a record of a year not begun is no record)


Labels = Mapping[str, Mapping[str, str]]      # the catalogue: key -> {lang: text}


def coerce_fields(etype: str, definition: EvidenceTypeDef, raw: dict[str, Any], today: date | None = None,
                  labels: Labels | None = None) -> dict[str, Any]:
    """Check and convert fields to their declared kinds; unknown or missing fields are refused (the
    first problem raised; `field_problems` gives every one). `today`: the office's date, the latest
    a year or date field may give; `labels`: the catalogue, whose labels of a code field's codes are
    read as those codes (B级 is grade B)."""
    out: dict[str, Any] = {}
    for name, value, problem in _coerced(etype, definition, raw, today, labels):
        if problem is not None:
            raise problem
        if name is not None:
            out[name] = value
    return out


OTHER = "other"      # a code field's "none of these" code, its `<field>_note` (if the type has one) then required


def field_problems(etype: str, definition: EvidenceTypeDef, raw: dict[str, Any], today: date | None = None,
                   labels: Labels | None = None) -> list[BadInput]:
    """Every problem of the fields at once (a sheet's row reports them all), in the fields' order."""
    return [problem for _name, _value, problem in _coerced(etype, definition, raw, today, labels)
            if problem is not None]


def _coerced(etype: str, definition: EvidenceTypeDef, raw: dict[str, Any], today: date | None = None,
             labels: Labels | None = None):
    """(name, value, None) for each field converted, (None, None, problem) for each one refused."""
    for name in raw:
        if name not in definition.fields:
            yield None, None, BadInput("evidence.unknown_field", type=etype, field=name,
                                       known=", ".join(definition.fields) or "-")
    for name, kind in definition.fields.items():
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        if name not in raw or raw[name] in (None, ""):
            if not optional:
                yield None, None, BadInput("evidence.missing_field", type=etype, field=name)
            continue
        if kind == "code":
            codes = definition.codes[name]
            code = read_code(raw[name], code_words(name, codes, labels))
            yield (name, code, None) if code is not None else (None, None, BadInput(
                "evidence.bad_code", type=etype, field=name, value=str(raw[name])[:40],
                known=Codes(f"field.{name}", codes)))
            note = f"{name}_note"       # 其他 (a clue's channel none of the listed): said in words, never bare
            if code == OTHER and note in definition.fields and str(raw.get(note) or "").strip() == "":
                yield None, None, BadInput("s55_m2.other_needs_note", type=etype, field=name,
                                           note=Msg(f"field.{note}"))
            continue
        try:
            words = FIELD_WORDS.get(name, {}) if kind == "bool" else {}
            given = compared(raw[name]) if words else None
            value = words[given] if given in words else converted(kind, raw[name], today)
        except (TypeError, ValueError):
            serial = _date_serial(raw[name]) if kind == "date" else None
            yield None, None, BadInput("evidence.bad_field", type=etype, field=name, value_kind=kind, value=raw[name]) \
                if serial is None else BadInput("roundtrip.date_serial", type=etype, field=name, value=raw[name],
                                                date=serial)
            continue
        if kind == "str" and stored_msg(value.strip()) is not None:    # would be shown as the engine's words
            yield None, None, BadInput("input.engine_text")
            continue
        if kind == "date" and today is not None and value > today.isoformat():    # signed on a day not yet come
            yield None, None, BadInput("evidence.date_future", type=etype, field=name, value=value, today=today)
            continue
        yield name, value, None


def _date_serial(value: Any) -> str | None:
    """The day a spreadsheet's date serial names (43473: 2019-01-08, days since 1899-12-30, as Excel and
    WPS count them), a date column in a General or Number cell; None for a value that is none (a
    serial of 1927 to 2119 only: a number further off is no date anyone meant)."""
    from datetime import timedelta
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not (text.isascii() and text.isdigit()) or not 10000 <= int(text) <= 80000:
        return None
    return (date(1899, 12, 30) + timedelta(days=int(text))).isoformat()


_NOTE = re.compile(r"\(([^()]*)\)$")     # a label's note in brackets, once compared: A级（安全）


def compared(text: Any) -> str:
    """A code or a label as compared: full-width letters and brackets as ASCII ones (Ｂ, （）), without
    spaces, in any case."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


_WORDS: dict[tuple, tuple[Any, dict[str, str]]] = {}


def code_words(field: str, codes: tuple[str, ...], labels: Labels | None = None) -> dict[str, str]:
    """What a person may write for each code of a code field, as compared: the code, and each of its
    labels (`field.<field>.<code>`, either language) whole, without its note in brackets (B级) and
    the note alone (基本安全). Built once per field and catalogue."""
    key = (field, codes, id(labels))
    cached = _WORDS.get(key)
    if cached is not None and cached[0] is labels:
        return cached[1]
    words: dict[str, str] = {}
    for code in codes:
        for text in (code, *((labels or {}).get(f"field.{field}.{code}") or {}).values()):
            whole = compared(text)
            note = _NOTE.search(whole)
            for word in (whole, *((whole[:note.start()], note.group(1)) if note else ())):
                if word:
                    words.setdefault(word, code)
    _WORDS[key] = (labels, words)
    return words


def read_code(value: Any, words: dict[str, str]) -> str | None:
    """The code `value` names (`words`: code_words), read as cadres write it — b, Ｂ, B 级, B级（基本安全）
    — or None when it names none."""
    given = compared(value)
    if given in words:
        return words[given]
    bare = _NOTE.sub("", given)
    return words.get(bare) if bare else None


# The largest number a field takes: a trillion (元, persons, mu) is past any household's or project's,
# and every sum of such numbers stays exact in a float.
NUMBER_MAX = 10 ** 12
_THOUSANDS = re.compile(r"-?\d{1,3}(?:[,，]\d{3})+(?:\.\d+)?")


_WAN = re.compile(r"(-?\d+(?:\.\d+)?)\s*万")


def _number_text(value: Any) -> Any:
    """A number as a spreadsheet or a person writes it: 2,100 or 2，100 (thousands), ¥8,500 or 8500元
    (yuan), 1.2万 or 1.2 万元 (ten thousands: 12000, reckoned in decimal, never a float's 11999.999…),
    spaces around; a comma anywhere else (1,5, a list 2，3) or any other word is left for the number's
    check to refuse."""
    if not isinstance(value, str):
        return value
    value = value.strip().removeprefix("¥").removeprefix("￥").strip()
    if value.endswith("元"):         # 12,000元 is 12000; 1.2万元 is 1.2万
        value = value[:-1].strip()
    if _THOUSANDS.fullmatch(value):
        value = value.replace(",", "").replace("，", "")
    if wan := _WAN.fullmatch(value):
        from decimal import Decimal
        value = format((Decimal(wan.group(1)) * 10000).normalize(), "f")
    return value


_TIME = re.compile(r"(?:[ T]|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_WHOLE = re.compile(r"(-?\d+)\.0+")


def _whole(value: Any) -> Any:
    """A whole number as a spreadsheet may give it (2019.0, the float 2019.0) as an int; a fraction
    (2019.5) refused, not cut."""
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    if isinstance(value, str) and (whole := _WHOLE.fullmatch(value.strip())):
        return whole.group(1)
    return value


def _share(value: Any) -> float:
    """A rate (贫困发生率, 通电率) stored as a share 0-1: written as a percentage (2.5%, 2.5％) or as the
    share itself (0.025); a bare number past 1 (a percentage without its sign, 5 for 5%) is refused, not
    stored as 500%."""
    if isinstance(value, bool):
        raise ValueError(value)
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text[-1:] in ("%", "％"):
        number = float(text[:-1].strip()) / 100
    else:
        number = float(text)
    if not 0 <= number <= 1:      # NaN too
        raise ValueError(value)
    return number


def bare_rates(workflows: Any, etype: str, fields: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The rates of an item of `etype` typed as a bare number (0.5, no % sign), which is read as a share
    (50%) though a cadre may have meant 0.5%: (field, as typed, as read: "50%"), to be said back once
    the item is accepted so that such a mistake is seen. A rate typed with its sign, or 0, is not
    ambiguous; one that is no rate is the field's own refusal. `workflows`: the configuration's."""
    kinds = next((w.evidence_types[etype].fields for w in workflows.values() if etype in w.evidence_types), {})
    said = []
    for name, value in fields.items():
        if str(kinds.get(name, "")).rstrip("?") != "share" or value is None or isinstance(value, bool):
            continue
        typed = value.strip() if isinstance(value, str) else str(value)
        if typed[-1:] in ("%", "％"):
            continue
        try:
            number = _share(typed)
        except (TypeError, ValueError):
            continue
        if number:
            said.append((name, typed, f"{round(number * 100, 6):g}%"))
    return said


def rates_read(config: Any, etype: str, fields: dict[str, Any], lang: str) -> list[str]:
    """`bare_rates` said in the reader's language, one sentence a rate (「全省贫困发生率」填的是 0.5，已按比例
    读作 50%…), as every entrypoint that accepts the item says it back: `evidence add` and `evidence import`,
    the case page's evidence form, a village's evidence sheet and the JSON API's answer."""
    said = [render_text(config, "rate_read.page", {"field": name, "typed": typed, "percent": read}, lang) or ""
            for name, typed, read in bare_rates(config.workflows, etype, fields)]
    return [s[:1].upper() + s[1:] for s in said]       # a sentence, in English too (a field's label is lower case)


def converted(kind: str, value: Any, today: date | None = None) -> Any:
    """A field's value stored as its kind (int, year, number, bool, date, text); ValueError when it is not one."""
    if kind in ("int", "number"):
        value = _number_text(value)
    if kind in ("int", "year"):
        value = _whole(value)
    if kind == "int":
        number = int(value)
        if abs(number) > NUMBER_MAX:
            raise ValueError
        return number
    if kind == "year":       # 2019, 2019年, 2019年度
        year = int(str(value).strip().removesuffix("年度").removesuffix("年") if isinstance(value, str) else value)
        if not FIRST_YEAR <= year <= (today.year if today else 2100):
            raise ValueError
        return year
    if kind == "number":
        number = float(value)
        if number != number or abs(number) > NUMBER_MAX:      # NaN, infinite, 1e308
            raise ValueError
        return number
    if kind == "share":
        return _share(value)
    if kind == "money":      # an amount in yuan, kept as typed: its workflow reads it exactly (a Decimal)
        return str(value).strip()
    if kind == "credit_code":
        return credit_code(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in _TRUE | _FALSE:
            raise ValueError
        return text in _TRUE
    if kind == "date":       # 2019-03-02, 2019/3/2, 2019.3.2, 2019年3月2日, as every date the CLI takes
        if isinstance(value, date):
            return value.isoformat()
        from engine.domain.inputs import parse_date
        try:          # a spreadsheet's date-time (2020-09-01 00:00:00): its day
            return parse_date(_TIME.sub("", str(value).strip())).isoformat()
        except BadInput:
            raise ValueError(value) from None
    return str(value)


def credit_code(value: Any) -> str:
    """A unified social credit code (统一社会信用代码, GB 32100-2015: 18 characters, the last a check
    character) as stored: full-width characters, spaces and hyphens read past, letters upper case;
    ValueError when it is not one (its length, its characters or its check character)."""
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError
    try:
        return uscc.validate(unicodedata.normalize("NFKC", str(value)))
    except ValidationError:
        raise ValueError(value) from None


def year_of(fields: Mapping[str, Any]) -> int | None:
    """An item's `year` field as a whole year, or None (none, or one that is no year)."""
    try:
        return int(str(fields.get("year", "")).strip())
    except (TypeError, ValueError):
        return None


def next_year(fields: Mapping[str, Any], held: Mapping[str, Any]) -> int | None:
    """The year of a new item of a type kept year by year (its fields have a year: an income check),
    when it is later than the year of the item the household holds: a new year's record, which takes
    the held one's place without a reason asked (that one stays in the record, superseded by it), on
    every way in (`evidence add`, the case page, the API, a village's sheet). None otherwise: an item
    of the same year, or of a type without one, replaces the held one only as a correction, with a reason."""
    if "year" not in held:
        return None
    year, before = year_of(fields), year_of(held)
    return year if year is not None and before is not None and year > before else None
