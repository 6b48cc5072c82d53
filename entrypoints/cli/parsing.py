"""Option parsers and converters: text typed on the command line to the values services take.

Malformed values raise BadInput (exit 2) with a catalogue message naming the expected form.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

from engine.domain import inputs
from engine.domain.inputs import field, pairing, split
from engine.domain.errors import BadInput, cannot_write

from .context import Ctx
from .rows import needs_mark

NO = ("no", "false", "0", "n", "否")
MEMBER_FIELDS = ["name", "id_number", "relation", "labour_ability", "health", "school_enrolment",
                 "insured_basic", "insured_critical", "phone", "bank_account"]


def callback(parse: Callable[[str], Any]):
    """A click callback applying `parse` to a value (or to each value of a repeatable option)."""
    def convert(_c, _p, value):
        if value is None:
            return None
        return tuple(parse(v) for v in value) if isinstance(value, tuple) else parse(value)
    return convert


def coded(prefix: str, source: Callable[[Any], dict[str, list[str]]] | None = None, strict: bool = False):
    """A click callback turning a label (`巩固期`, `巩固期(过渡期)`) into its code; codes pass as they are.
    `strict`: a value naming nothing known is refused here, naming the accepted codes and labels
    (otherwise the service that takes it says what it accepts)."""
    def convert(c, _p, value):
        if value is None:
            return None
        ctx = c.find_object(Ctx)
        config = ctx.config
        known = source(config) if source else inputs.codes_with_prefix(config.labels, prefix)
        what = ctx.text("what." + prefix)
        sure = strict and not ctx.server    # a client knows the packaged rules only: the server judges
        one = (lambda v: inputs.parse_code(v, known, what)) if sure else (lambda v: inputs.to_code(v, known))
        return tuple(one(v) for v in value) if isinstance(value, tuple) else one(value)
    return convert


def region_named(levels: tuple[str, ...] = ()):
    """A click callback for a region option: its 12-digit code as it is (the command checks it), or
    a name as a cadre says it (黄陂村, 梅江镇), turned into the code of the one region of that name
    (at one of `levels`) in the reader's jurisdiction. A client leaves the name to the server."""
    def convert(c, _p, value):
        return regions_named(c, [value], levels)[0]
    return convert


def regions_named(c, values: list, levels: tuple[str, ...] = ()) -> list:
    """`values` as region_named reads each, all looked up at once: the first name that names no one
    region (none has it, or several: their codes) is refused."""
    ctx = c.find_object(Ctx)
    names = [v for v in values if v and v.strip() and not (v.strip().isascii() and v.strip().isdigit())]
    if not names or ctx is None or ctx.server:
        return list(values)
    from engine.reads.oversight import region_codes_of
    found = region_codes_of(ctx.app(), ctx.actor(), names, levels)
    refused = next((found[v] for v in names if isinstance(found[v], BadInput)), None)
    if refused is not None:
        raise refused
    return [found.get(v, v) for v in values]


def role_specs(c, _p, values):
    """A click callback for the repeatable --role ROLE:REGION: (role, region) pairs, the region by its
    code or by its name as region_named reads it (洋塘村: the one region of that name)."""
    specs = [role_spec(v) for v in values or ()]
    return tuple(zip([role for role, _ in specs], regions_named(c, [region for _, region in specs])))


def completion(source: Callable[[Any], dict[str, list[str]]]):
    """Shell completion of a coded option: its codes (from the packaged rules)."""
    def complete(_c, _p, incomplete: str) -> list[str]:
        from .context import packaged_config
        return [code for code in source(packaged_config()) if code.startswith(incomplete)]
    return complete


def deadline_rules_of(config) -> dict[str, list[str]]:
    rules = config.deadlines.rules if config.deadlines is not None else {}
    return {r: _labels(config, f"rule.{r}") for r in rules}


def stages_of(config) -> dict[str, list[str]]:
    """Stages by their labels, and a household's standing the figures count apart (未通过识别)."""
    from engine.reads.standing import standings
    codes = sorted({s for wf in config.workflows.values() for s in standings(wf.stages)})
    named = {s: _labels(config, f"stage.{s}") + [w for kind in config.workflows for w in _labels(config, f"stage.{kind}.{s}")]
             for s in codes}
    # a label of two names (已剔除/销户) read by either of them too, as the pages say it
    return {s: words + [part.strip() for w in words if "/" in w for part in w.split("/") if part.strip()]
            for s, words in named.items()}


def roles_of(config) -> dict[str, list[str]]:
    return {code: [r.zh, r.en] for code, r in config.roles.items()}


def kinds_of(config) -> dict[str, list[str]]:
    return {k: _labels(config, f"kind.{k}") for k in config.workflows}


def _labels(config, key: str) -> list[str]:
    return list((config.labels.get(key) or {}).values())


parse_date = callback(inputs.parse_date)



def role_spec(value: str) -> tuple[str, str]:
    role, region = split(value, ":", 2, 2, "input.role_spec")
    return role, region


def member(value: str):
    from workflows.household import member_of
    parts = [p.strip() for p in value.split(",")]
    if len(parts) < 2 or len(parts) > len(MEMBER_FIELDS):
        raise BadInput("input.member", value=value)
    return member_of(dict(zip(MEMBER_FIELDS, parts)))    # 王五,ID,户主,,,,是,是: an empty field, its default


def team_member(value: str):
    from workflows.village import TeamMemberInput
    parts = split(value, ":", 2, 3, "input.team_member")
    return TeamMemberInput(parts[0], parts[1], parts[2] if len(parts) == 3 else "")


def fields(values) -> dict[str, str]:
    return dict(field(v) for v in values)



def pairings(values) -> dict[int, tuple[str, str | None]]:
    return dict(pairing(v) for v in values)


def votes(values) -> dict[int, tuple[int, int]]:
    """`--vote CASE:FOR:AGAINST`, one a household of a list's appraisal."""
    return dict(inputs.vote(v) for v in values)







def office_zone(ctx: Ctx | None):
    """The configured office time zone (deadlines.yaml `timezone`), else Asia/Shanghai."""
    from zoneinfo import ZoneInfo
    from engine.domain.deadline_rules import OFFICE_ZONE, office_zone as configured
    return configured(ctx.config) if ctx is not None else ZoneInfo(OFFICE_ZONE)


def local_time(ctx: Ctx, value: Any) -> str:
    """A stored time (or its ISO text; naive means UTC) in the office's time zone, to the minute."""
    from engine.domain.deadline_rules import wall_clock
    return wall_clock(ctx.config, value)


def parse_now(c, _p, value: str | None):
    """An ISO time; without a zone it is office time (the configured zone); a bare date means 08:30 then."""
    if value is None:
        return None
    from datetime import datetime, timezone
    try:
        found = datetime.fromisoformat(value if "T" in value or " " in value else value + "T08:30")
    except ValueError:
        raise BadInput("input.bad_time", value=value) from None
    if found.tzinfo is None:
        found = found.replace(tzinfo=office_zone(c.find_object(Ctx) if c is not None else None))
    return found.astimezone(timezone.utc)


def read_csv(file: str, required: list[str], aliases: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The rows of a small list file (CSV in UTF-8, with a BOM or GBK/GB18030, or .xlsx or .xls), columns named
    by our keys or by their `aliases` (e.g. the national system's Chinese headers). A registry-sized
    file is read as it streams with rows.Sheet instead."""
    from .rows import Sheet
    with Sheet(file, required, aliases) as sheet:
        return [row for _line, row in sheet]


def file_sha256(path: str) -> str:
    import hashlib
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def writable(path: str) -> None:
    """Refuse a file that could not be made at `path` (its folder missing or read-only), before any
    work is done; nothing is left there (the probe is a file with no name)."""
    try:
        with tempfile.TemporaryFile(dir=Path(path).resolve().parent):
            pass
    except OSError as exc:
        raise cannot_write(path, exc) from None


def spreadsheet_text(value: str) -> str:
    """Text as a spreadsheet should show it: one that it would run as a formula (=, +, -, @) is
    marked as text, so it shows as typed and runs nothing."""
    return "'" + value if needs_mark(value) else value


def excel_kept(value: str) -> str:
    """A cell as a CSV for a spreadsheet holds it: marked as text when it would run as a formula
    (spreadsheet_text); a long number (an ID number, a 户编号, a bank account, a village code:
    12 digits or more, which a spreadsheet shows and saves as 3.6073E+17) or one with a leading zero
    after a tab, which a spreadsheet keeps as text, whole, and which the list reader strips again (a
    cell's surrounding spaces and tabs are no part of it). Never a formula (="…"): it would run."""
    digits = value.strip()
    if digits.isascii() and digits.isdigit() and (len(digits) >= LONG_DIGITS or (len(digits) > 1 and digits[0] == "0")):
        return "\t" + digits
    return spreadsheet_text(value)


LONG_DIGITS = 12     # a spreadsheet's General format shows 11 digits; a longer number becomes 3.6073E+11


def cell(row: dict[str, str], key: str, default: str = "") -> str:
    """A CSV cell, stripped; `default` when the column is missing or the cell empty."""
    return (row.get(key) or "").strip() or default
