"""`export TABLE --csv FILE | --xlsx FILE`: cases, members, steps, deadlines (all, or the open or
overdue ones: `--status`), evidence items (those in force, or all: `--all`; of one type, a column a
field: `--type`), regions or persons (their posts, as `region import` and `person import` read them)
of the reader's jurisdiction, streamed to CSV (UTF-8 with a BOM, as Excel
in China expects) or XLSX (entrypoints/cli/workbook.py), in a file only its owner can read. A cell
that a spreadsheet would run as a formula (=, +, -, @) is written as text: a CSV cell marked with a
leading ', a workbook's cell as an inline string. A CSV's long number (an 18-digit ID number, a bank
account, a 12-digit village code: Excel shows 3.6E+17 and saves it so, its last digits lost) is
written after a tab, which Excel keeps as text and `household import` strips again.

Codes (stages, steps, relations, roles, statuses…) are shown by their labels in the reader's
language, as the rest of the CLI shows them (an evidence item's fields in one cell, 年度：2019、家庭纯收入：
16112.1, yes/no and codes in words); `--codes` keeps the codes themselves (data for another system;
an item's fields as JSON). Times are shown in the office's time zone to the second; a workbook's
dates and times (an evidence type's date field too) are Excel's dates, which its filters group by
year and month and from which days are counted."""
from __future__ import annotations

import csv
import io
import json
import os
from datetime import date, datetime, timezone
from functools import cache, partial
from itertools import chain, islice
from typing import Any, Callable, Iterator

import click

from engine.domain.errors import BadInput, joined

from . import parsing
from .context import Ctx, pass_ctx
from .printing import progress, say
from .helptext import command

@command("export")
@click.argument("table", type=click.Choice(["cases", "members", "steps", "deadlines", "evidence", "regions",
                                            "persons", "responsibilities"]))
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False))
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False))
@click.option("--region", "region_code", callback=parsing.region_named())
@click.option("--codes", is_flag=True)
@click.option("--status", type=click.Choice(["all", "open", "overdue"]), default="all")
# the supervisor's overdue page's filters (/supervise/overdue), for `deadlines --status overdue`
@click.option("--township", callback=parsing.region_named(("township", "county")))
@click.option("--unit", callback=parsing.coded("role", parsing.roles_of))
@click.option("--owner")
@click.option("--rule", callback=parsing.coded("rule", parsing.deadline_rules_of, strict=True))
@click.option("--rung", type=click.IntRange(-1, 99))
# the evidence's: of one type (a column a field), and the items replaced too
@click.option("--type", "etype", callback=parsing.coded("evidence"))
@click.option("--all", "replaced", is_flag=True)
# one person's steps or responsibilities, as their trace (`trace --person`) lists them
@click.option("--person")
@pass_ctx
def export(ctx: Ctx, table, csv_path, xlsx_path, region_code, codes, status, township, unit, owner, rule, rung, etype,
           replaced, person):
    if bool(csv_path) == bool(xlsx_path):
        raise BadInput("export.one_target")
    target_named(csv_path, "--csv", ".csv", (".xlsx", ".xls"))
    target_named(xlsx_path, "--xlsx", ".xlsx", (".csv", ".xls"))
    overdue = None
    if any(v is not None for v in (township, unit, owner, rule, rung)):
        if (table, status) != ("deadlines", "overdue"):
            raise BadInput("export.filters_overdue_only")
        from engine.reads.dashboard import OverdueFilter
        overdue = OverdueFilter(township, unit, owner, rule, rung)
    # recorded once the file is whole, before it takes its name: a full disk, a Ctrl-C, records nothing
    title, header, cells, record = file_cells(ctx, table, region_code, "xlsx" if xlsx_path else "csv", codes, status,
                                              overdue, etype, replaced, person)
    said = partial(ctx.text, "export.progress", file=os.path.basename(csv_path or xlsx_path))
    with progress(ctx, said(count=0)) as advance:     # on a terminal: the rows written so far
        cells = _counted(cells, lambda done: advance(done, said(count=done)))
        if xlsx_path:
            count = write_xlsx(xlsx_path, title, header, cells, then=record)
        else:
            count = write_csv(csv_path, header, cells, for_excel=not codes, then=record)   # --codes: for another system
    say(ctx.text("exported", count=count, file=csv_path or xlsx_path))


def _counted(rows: Iterator[tuple], told, every: int = 1000) -> Iterator[tuple]:
    """The rows as they go by, `told` how many every `every` rows."""
    for done, row in enumerate(rows, start=1):
        if done % every == 0:
            told(done)
        yield row


def target_named(path: str | None, option: str, fits: str, other: tuple[str, ...]) -> None:
    """A file to write whose name says another format (`--csv a.xlsx`, which no spreadsheet would
    open), or `-` (no file at all), refused saying what to give instead."""
    if path is None:
        return
    if path.strip() in ("", "-"):
        raise BadInput("export.no_file_name", option=option, suffix=fits)
    if os.path.splitext(path)[1].lower() in other:
        raise BadInput("export.wrong_suffix", option=option, file=os.path.basename(path), suffix=fits)


def file_cells(ctx: Ctx, table: str, region_code: str | None, fmt: str, codes: bool = False, status: str = "all",
               overdue=None, evidence_type: str | None = None, replaced: bool = False,
               person: str | None = None) -> tuple[str, list[str], Iterator[tuple], Callable[[], None]]:
    """A table of the reader's jurisdiction as a spreadsheet shows it: its sheet's title, the header
    in the reader's language, the rows' cells (labels, local times), streamed, and the export's
    recording (`fmt`: csv or xlsx), not yet done: the CLI's `export` and the web's workbooks record it
    once their file is whole (write_csv, write_xlsx: `then`), so that a file the disk refused, or an
    export stopped, is not recorded as taken; the web's CSV downloads before their first row (the rows
    leave as they are read). Deadlines of a `status` (open, overdue) have a title of their own
    (逾期时限): the file's name says what it holds; `overdue` (an OverdueFilter) gives what the
    supervisor's overdue page lists with its filters. Evidence items of one type (`evidence_type`) are
    titled by the type, a column a field; `replaced`: those replaced too; `person`: one person's steps
    or responsibilities (a person's trace's)."""
    from engine.services.exports import table_to_file
    columns, rows, record = table_to_file(ctx.app(), ctx.actor(), table, region_code, fmt, status, overdue,
                                          evidence_type, replaced, person)
    status = "overdue" if overdue is not None else status
    header = [ctx.label(f"field.{c.partition('.')[2] or c}") for c in columns]     # fields.year: 年度
    shown = [_shown(ctx, c, codes) for c in columns]
    if not codes and {"kind", "stage"} <= set(columns):     # a case's stage in its kind's words (已竣工验收)
        rows = _kind_with_stage(columns.index("kind"), columns.index("stage"), rows)
        shown[columns.index("stage")] = cache(lambda kind_stage: ctx.stage(kind_stage[1], kind_stage[0]))
    if fmt == "xlsx":       # an evidence type's date field (kept as text) as a day, as the other dates
        shown = [_day if _dated(ctx, c) else show for c, show in zip(columns, shown)]
    cell = _cell(ctx, parsing.office_zone(ctx), days=fmt == "xlsx")
    cells = (tuple(cell(show(v) if show and v is not None else v) for show, v in zip(shown, r)) for r in rows)
    title = ctx.text(f"export.sheet.{table}" if status == "all" else f"export.sheet.{table}_{status}")
    if evidence_type:
        title = ctx.label(f"evidence.{evidence_type}")
    return ctx.text("export.sheet.with_replaced", title=title) if replaced else title, header, cells, record


def _kind_with_stage(kind_at: int, stage_at: int, rows: Iterator[tuple]) -> Iterator[tuple]:
    """The rows with (kind, stage) in the stage's cell, to be said in the kind's words."""
    for r in rows:
        yield (*r[:stage_at], (r[kind_at], r[stage_at]), *r[stage_at + 1:])


def csv_chunks(header: list[str], cells: Iterator[tuple], rows_per_chunk: int = 2000,
               for_excel: bool = True) -> Iterator[tuple[str, int]]:
    """The CSV's text (a BOM first, as Excel in China expects; a cell a spreadsheet would run as a
    formula marked as text; `for_excel`, a long number, an ID number, a bank account, a village code,
    after a tab, as the import's bad-rows file writes it: parsing.excel_kept), a chunk of rows at a
    time, with the rows written so far."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    count = 0
    for count, row in enumerate(cells, start=1):
        writer.writerow([parsing.excel_kept(v) if for_excel and isinstance(v, str)
                         else parsing.spreadsheet_text(v) if isinstance(v, str) else v for v in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue(), count
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue(), count


# The columns holding codes of a labelled list: column -> label prefix ("role": a role's label).
LABELLED = {"kind": "kind", "stage": "stage", "procedure": "procedure", "pending_procedure": "procedure",
            "pending_step": "step",
            "relation": "relation", "labour_ability": "labour", "health": "health", "school_enrolment": "school",
            "step_key": "step", "decision": "decision", "rule": "rule", "role": "role", "owner_role": "role",
            "status": "deadline.status",        # the deadlines' (the only table with a status)
            "type": "deadline.type",            # the deadlines' (the only table with a type)
            "step_type": "step_type",
            "household_type": "household_type", "causes": "cause", "evidence_type": "evidence",
            "responsibility": "responsibility",
            "last_procedure": "procedure", "last_outcome": "status", "procedure_status": "status"}

# A member's fact not recorded (NULL): a blank cell, as its insurance's, which `household import` reads
# back as not recorded (not "-", which it would refuse).
BLANK_UNRECORDED = frozenset({"school_enrolment"})


def _shown(ctx: Ctx, column: str, codes: bool):
    """How a column's code is shown (its label), or None to show the value as it is. Each code's text
    is worked out once: a column holds a few codes over a million rows."""
    prefix = LABELLED.get(column)
    if column == "causes":          # a household's causes in one cell, as `household import` reads them
        sep, label = (";", str) if codes else ("；" if ctx.lang == "zh" else "; ", partial(ctx.code_label, prefix))
        joined = cache(lambda key: sep.join(label(v) for v in key))
        return lambda values: joined(tuple(values))
    if column == "fields":          # an evidence item's fields in one cell, as `case show` says them
        from .views import evidence_fields
        return (lambda values: json.dumps(values, ensure_ascii=False)) if codes else partial(evidence_fields, ctx)
    if column in _LISTED:           # a step's verifiers, the people named for it, its evidence: in one cell
        return (lambda values: json.dumps(values, ensure_ascii=False)) if codes else _LISTED[column](ctx)
    if codes:
        return None
    if column in ("supersede_reason", "title", "case_title"):     # why an item was replaced, a case's title: a
        return ctx.stored      # person's words, or the engine's said (抽查 #3 错退…); not kept: each its own
    if column.startswith("fields."):     # one field of an evidence type: a code field's code by its label
        from engine.reads.words import CODED_FIELDS, code_labels
        name = column.partition(".")[2]
        coded = name in CODED_FIELDS or any(d.codes.get(name) for wf in ctx.config.workflows.values()
                                            for d in wf.evidence_types.values())
        return cache(lambda v: ctx.code_label(code_labels(name, v, ctx.config.labels), v)) if coded else _stored_text(ctx)
    if column in _WORDED:
        return cache(partial(_WORDED[column], ctx))
    if prefix is None:
        return None
    if column in BLANK_UNRECORDED:
        label = cache(partial(ctx.code_label, prefix))
        return lambda value: None if value is None else label(value)
    return cache(ctx.role if prefix == "role" else partial(ctx.code_label, prefix))


def _stored_text(ctx: Ctx):
    """A field's text as the reader reads it: the engine's own words (a reopening's 问题 #3：…) in the
    reader's language, a person's as they are; a number as it is."""
    return lambda value: ctx.stored(value) if isinstance(value, str) else value


def _alerted(ctx: Ctx, to: str) -> str:
    """Whom a deadline's next alert goes to: its owner, or the holders of its roles."""
    if to == "owner":
        return ctx.label("deadline.owner")
    return joined((ctx.role(r) for r in to.split("+")), ctx.lang)


def _closed_because(ctx: Ctx, reason: str) -> str:
    """Why a deadline closed, in words: a step done, a stage entered, its procedure ended, or another
    of the engine's reasons ("no longer waiting", "superseded"...); an unknown one as it is."""
    kind, _, code = reason.partition(":")
    if kind in ("step", "stage") and code:
        return ctx.text(f"deadline.closed.{kind}", **{kind: ctx.code_label(kind, code)})
    if kind == "procedure" and code:
        return ctx.text("deadline.closed.procedure", status=ctx.code_label("status", code))
    return ctx.code_label("deadline.closed", reason.replace(" ", "_"))


def _responsible(ctx: Ctx):
    """The people a step is named responsible for, as the trace names them: 直接责任：梅江镇干部3（t1_staff3，
    乡镇干部）参与「入户核实」；… (each person's line made once an export: the same few hundred people
    and bases recur across a county's tens of thousands of steps)."""
    from engine.reads.trace import basis_text
    said: dict[tuple, str] = {}

    def one(r: dict) -> str:
        key = (r["type"], r["name"], r["person"], r["role"], r["basis"])
        if key not in said:
            said[key] = ctx.text("export.responsible", type=ctx.code_label("responsibility", r["type"]),
                                 name=r["name"], person=r["person"], role=ctx.role(r["role"]),
                                 basis=basis_text(ctx.config, r["basis"], ctx.lang))
        return said[key]
    return lambda named: ("；" if ctx.lang == "zh" else "; ").join(map(one, named))


def _basis(ctx: Ctx, basis: str) -> str:
    """Why a person carries a responsibility, in words, as their trace says it."""
    from engine.reads.trace import basis_text
    return basis_text(ctx.config, basis, ctx.lang)


def _relied_on(ctx: Ctx, items: list[dict]) -> str:
    """The evidence items a step relied on, as the trace names them: 收入核算明细表 #9442、脱贫确认书(农户签字) #10257."""
    return joined((f"{ctx.code_label('evidence', e.get('type'))} #{e.get('id')}" for e in items), ctx.lang)


# A step's columns holding a list, said in one cell (--codes: as JSON): each a ctx's formatter.
_LISTED = {"verifiers": lambda ctx: lambda codes: joined(codes, ctx.lang), "responsible": _responsible,
           "evidence": lambda ctx: partial(_relied_on, ctx)}


# Columns whose codes are said in words by a function of their own.
_WORDED = {"alerted_to": _alerted, "next_alert_to": _alerted, "closed_reason": _closed_because,
           "basis": _basis,         # why a person carries a responsibility: 办理「乡镇审核」, 第一帮扶责任人
           "reason": lambda ctx, text: ctx.stored(text),      # a step's: a person's words, or the engine's said
           # why a procedure ended (民主评议未通过…, 异议 #62 成立：…): the engine's words, or a person's
           "last_outcome_reason": lambda ctx, text: ctx.stored(text),
           "procedure_outcome_reason": lambda ctx, text: ctx.stored(text)}


def _cell(ctx: Ctx, zone, days: bool = False):
    """A value as a spreadsheet's cell shows it: booleans in words, times in the office's zone, to
    the second; `days` (a workbook's): dates and times kept as such (the workbook writes them as
    Excel's dates), else as their text (a CSV's)."""
    yes, no = (ctx.config.label(key, ctx.lang) for key in ("web.yes", "web.no"))

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if value is True or value is False:
            return yes if value else no
        if isinstance(value, datetime):
            at = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
            at = at.astimezone(zone).replace(tzinfo=None, microsecond=0)
            return at if days else at.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(value, date):
            return value if days else value.isoformat()
        return value
    return cell


def _dated(ctx: Ctx, column: str) -> bool:
    """Whether a column is an evidence type's field of dates (fields.signed_on)."""
    name = column.partition(".")[2] if column.startswith("fields.") else None
    return name is not None and any(d.fields.get(name, "").rstrip("?") == "date" for wf in ctx.config.workflows.values()
                                    for d in wf.evidence_types.values())


def _day(text: str) -> date | str:
    """A date field's text (2019-03-01) as its day; text that is none as it is."""
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return text


def write_csv(path: str, header: list[str], cells: Iterator[tuple], for_excel: bool = True,
              then: Callable[[], None] | None = None) -> int:
    """The rows as a CSV file at `path` (0600, written whole beside it then moved into place: an
    interrupted export leaves nothing; `then` called once it is whole, before it takes its name); how many."""
    from engine.adapters.private_files import replacing
    count = 0
    with replacing(path, then) as (out, _made):
        for text, count in csv_chunks(header, cells, for_excel=for_excel):
            out.write(text)
    return count


SHEET_ROWS = 1_048_575      # rows a sheet holds under its header: Excel opens at most 1,048,576 rows a sheet


def write_xlsx(path: str, title: str, header: list[str], cells: Iterator[tuple],
               then: Callable[[], None] | None = None) -> int:
    """The rows as a workbook at `path` (0600, written whole then moved into place, `then` called
    before it takes its name); how many. Past
    SHEET_ROWS rows they go on in a new sheet with the same header (家庭成员 (2)…): a city's members
    (3,000,000 rows) in one sheet would open in Excel cut at its limit. Written as they stream by
    entrypoints/cli/workbook.py (strings inline: never a formula, whatever a cell starts with)."""
    rows = iter(cells)
    count = 0

    def counted(first: tuple) -> Iterator[tuple]:
        nonlocal count
        for row in chain([first], islice(rows, SHEET_ROWS - 1)):
            count += 1
            yield row

    def sheets() -> Iterator[tuple[str, Iterator[tuple]]]:
        number = 0
        while (first := next(rows, None)) is not None or number == 0:
            number += 1
            yield _sheet_title(title, number), chain([header], counted(first) if first is not None else ())

    write_private_workbook(path, sheets(), then)
    return count


def write_private_workbook(path: str, sheets: Iterator[tuple[str, Iterator[tuple]]],
                           then: Callable[[], None] | None = None, beside: Callable | None = None) -> None:
    """`sheets` as a workbook at `path`, 0600, written whole beside it then moved into place (`then`
    called before it takes its name; `beside`: begun with other files, replacing_together)."""
    from contextlib import nullcontext
    from engine.adapters.private_files import replacing
    from entrypoints.cli.workbook import write_workbook
    with replacing(path, then) if beside is None else nullcontext(beside(path)) as (_out, made):       # a full disk, Ctrl-C: no half workbook left beside the target
        write_workbook(made, sheets)
        os.chmod(made, 0o600)


def _sheet_title(title: str, number: int) -> str:
    """The n-th sheet's name: Excel takes at most 31 characters."""
    suffix = "" if number == 1 else f" ({number})"
    return title[:31 - len(suffix)] + suffix


COMMANDS = (export,)
