"""`evidence import`: a village's evidence sheet in one command (issue 12: evidence in bulk).

One row per household: the case number (`case`/案件编号), a member's ID number (`id_number`/身份证号),
the head's ID number (`head_id_number`/户主身份证号, an evidence export's: the household's head, not another
member) or the household code (`household_code`/户编号), and when it gives one the head's name
(`head_name`/户主姓名, checked against the household named), the evidence type's fields by key or by their
label, and optionally `file`/文件, a file's path in the folder or .zip given by `--files`. Every row
is checked first and every bad one reported with its line, column and reason; then all rows are
attached in one transaction, all or none (or, with --skip-bad FILE, the good ones). A sheet adds;
with --replace --reason each row's item takes the place of the household's current one of the type
(a village's yearly re-check), as `evidence add --replace` does for one household.

A sheet is of one type: its files are attached as items of --type, whatever they show (a signed
confirmation's scan goes in a sheet of its own, of its own type).
"""
from __future__ import annotations

import os

import click

from engine.domain.errors import BadInput

from . import parsing
from .cases import evidence
from .context import Ctx, pass_ctx
from .options import csv_file
from .printing import say
from .sheet_files import SheetFiles
from . import sheet_rows
from .sheet_rows import skip_bad_option

CASE_HEADERS = {"案件编号": "case", "案件": "case", "身份证号": "id_number", "户主身份证号": "head_id_number",
                "户编号": "household_code", "户主姓名": "head_name", "户主": "head_name", "head_name": "head_name",
                "文件": "file", "附件": "file"}


@evidence.command("import")
@csv_file
@click.option("--type", "etype", required=True, callback=parsing.coded("evidence"))
@click.option("--files", "files", type=click.Path(exists=True))
@click.option("--year", "year", type=click.IntRange(1949, 2200))
@click.option("--replace", is_flag=True)
@click.option("--reason")
@click.option("--confirm-figures", is_flag=True)
@skip_bad_option
@pass_ctx
def evidence_import(ctx: Ctx, file, etype, files, skip_bad, year, replace, reason, confirm_figures):
    from engine.services.evidence_sheet import NAMING, attach_sheet, refuse_before_reading, refuse_sheet_imported_before
    definition = _definition(ctx, etype)         # an unknown type refused before the file is read
    refuse_before_reading(ctx.app(), ctx.actor(), etype)     # and a person who may attach it nowhere
    if year is not None and "year" not in definition.fields:
        raise BadInput("evidence.no_year_field", type=ctx.label("evidence." + etype))
    if reason and not replace:                   # a reason is a replacement's: said, not dropped
        raise BadInput("evidence.reason_without_replace")
    sheet = sheet_rows.read(ctx, file, [], {**CASE_HEADERS, **_naming_labels(ctx), **_field_labels(ctx, etype)},
                            any_of=NAMING, labels={"case": "case"}, skip_totals=True, tell_ignored=False)
    _tell_ignored(ctx, etype, sheet.ignored)
    _pass_over_blank(ctx, etype, sheet)
    with SheetFiles(files) as found_files:
        items, found = _checked(ctx, sheet, etype, found_files, year, (reason or "") if replace else None,
                                confirm_figures)
        # what the import records, besides its sheet: the type, the files' digest, added or replacing
        way = {"type": etype, "files": found_files.digest(), "mode": "replace" if replace else "add",
               **({"reason": reason} if replace else {})}
        # a repeat, told once (after the rows' reach is judged: a reader elsewhere learns nothing of it)
        refuse_sheet_imported_before(ctx.app(), ctx.actor(), sheet.source(len(sheet.rows)) | way)
        with sheet_rows.good_rows(ctx, sheet, found, skip_bad) as good:
            chosen = {id(r) for r in good}
            lines = [(line, item) for item, (line, row) in zip(items, sheet.rows) if item is not None and id(row) in chosen]
            kept = [item for _line, item in lines]
            ids = attach_sheet(ctx.app(), ctx.actor(), kept, sheet.source(len(good)) | way, before_commit=good.ready)
            said = "evidence_import_replaced" if replace else "evidence_imported"
            say(ctx.text(said if _of_households(ctx, etype) else f"{said}_cases", count=len(ids),
                         type=ctx.label("evidence." + etype)))
    from engine.domain.evidence import rates_read
    from engine.services.evidence_sheet import clues_not_started
    from .bad_rows import at_line
    # a clue on a household monitored already or whose identification is open starts no second clock: said
    for index, case_id, why, procedure in clues_not_started(ctx.app(), [item for _line, item in lines]):
        say(at_line(ctx, lines[index][0], "s55_m2.clue_not_started." + why, case=case_id,
                    procedure=ctx.label("procedure." + procedure)))
    for line, item in lines:        # 0.5 is 50%: said back, each with the sheet's line that gave it
        for said in rates_read(ctx.config, etype, item.fields, ctx.lang):
            say(at_line(ctx, line, "rate_read_line", said=said))


NAMED = ("case", "household_code", "head_name")     # a template's columns naming each household


@evidence.command("template")
@click.option("--village", required=True, callback=parsing.region_named(("village", "township")))
@click.option("--type", "etype", required=True, callback=parsing.coded("evidence"))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False))
@pass_ctx
def evidence_template(ctx: Ctx, village, etype, out):
    # a sheet of TYPE to fill for the village: a row per household (case number, household code, head's
    # name) and the type's columns in the reader's language; `evidence import` reads it back
    from .exports import target_named, write_xlsx, write_csv
    target_named(out, "--out", ".xlsx", ())
    if os.path.splitext(out)[1].lower() not in (".csv", ".xlsx"):
        raise BadInput("evidence.template_suffix", file=os.path.basename(out))
    title, header, cells = template_sheet(ctx, village, etype)
    if out.lower().endswith(".xlsx"):
        count = write_xlsx(out, title, header, cells)
    else:
        count = write_csv(out, header, cells)
    import shlex        # the import as it is typed: the sheet's type is not read from the sheet
    written = "sheets.template_written" if _of_households(ctx, etype) else "sheets.template_written_cases"
    say(ctx.text(written, file=out, count=count, type=ctx.label(f"evidence.{etype}"),
                 command=shlex.join(["jingzhun", "evidence", "import", out, "--type", etype])))
    if f"evidence_purpose.{etype}" in ctx.config.labels:       # what the type is for (收支核查表, 收入核算明细表)
        say(ctx.label(f"evidence_purpose.{etype}"))


def template_sheet(ctx: Ctx, village: str, etype: str):
    """(the sheet's title, its header in the reader's language, its rows): a village's households for a
    sheet of `etype` (engine.services.evidence_sheet.template_rows), the type's cells left to fill but
    its applicant's (申请人), filled in with the head's name for the cadre to change where it is not;
    for a type of another kind of case (a village's profile, a project's final accounts), the village's
    cases of that kind, each by its number and title (案件名称, checked as a head's name is)."""
    from engine.services.evidence_sheet import template_rows
    from engine.domain.evidence import prefilled
    definition, cases = template_rows(ctx.app(), ctx.actor(), village, etype)
    named = NAMED if _of_households(ctx, etype) else NAMED_CASE
    columns = [*named, *definition.fields, *(("file",) if definition.file else ())]
    header = [ctx.label(f"field.{c}") for c in columns]
    filled = prefilled if named == NAMED else (lambda _fields, _name: {})
    cells = lambda name: (filled(definition.fields, name).get(c, "") for c in columns[len(named):])  # noqa: E731
    return ctx.label(f"evidence.{etype}"), header, (
        (case, *((code,) if named == NAMED else ()), name, *cells(name)) for case, code, name in cases)


NAMED_CASE = ("case", "case_title")      # a template's columns naming each case of another kind


def _of_households(ctx: Ctx, etype: str) -> bool:
    """Whether a sheet of `etype` names households (else a village's, a project's… cases)."""
    from engine.services.evidence_sheet import sheet_kind
    return sheet_kind(ctx.app(), etype) in (None, "household")


def _naming_labels(ctx: Ctx) -> dict[str, str]:
    """The columns naming a household (and its file), by their label in either language: a template
    written in English reads back. An evidence export's case title (案件名称, a household's head) is
    read as the head's name: its case numbers are the exporting home's, and in another home the same
    number may name another family, refused when its head is not the one the row gives."""
    return {**{ctx.config.label("field.case_title", lang): "head_name" for lang in ("zh", "en")},
            **{ctx.config.label(f"field.{c}", lang): c for c in (*NAMING_COLUMNS, "file") for lang in ("zh", "en")}}


NAMING_COLUMNS = ("case", "id_number", "head_id_number", "household_code", "head_name")


def _checked(ctx: Ctx, sheet: sheet_rows.ListFile, etype: str, files: SheetFiles, year: int | None = None,
             replace: str | None = None, confirm_figures: bool = False):
    """The service's items and problems, with those of the files and ID numbers the rows name (a cell
    told bad here is not told again by the service: a file named but unusable, not also as no file;
    an ID number with a wrong check digit, not as no such household). `year`: the sheet's year (its
    title says 2020年…), for each row that gives none, where the type has a year; `replace`: the
    reason each row's item takes the place of the household's current one (--replace --reason);
    `confirm_figures`: incomes far past the poverty line are right as typed (--confirm-figures)."""
    from engine.services.evidence_sheet import NAMING, SheetRow, sheet_items
    definition = _definition(ctx, etype)
    given = {"year": str(year)} if year is not None else {}
    rows, found = [], []
    for line, r in sheet.rows:
        path, problem = _file(files, parsing.cell(r, "file"))
        number, wrong = _id_number(parsing.cell(r, "id_number"))
        head_id, wrong_head = _id_number(parsing.cell(r, "head_id_number"))
        code, mangled = _household_code(parsing.cell(r, "household_code"))
        found += [(line, column, exc) for column, exc in (("file", problem), ("id_number", wrong),
                                                          ("head_id_number", wrong_head),
                                                          ("household_code", mangled)) if exc]
        rows.append(SheetRow(parsing.cell(r, "case"), number, code,
                             given | {k: v.strip() for k, v in r.items() if k in definition.fields and v and v.strip()},
                             path, parsing.cell(r, "head_name"), head_id))
    items, problems = sheet_items(ctx.app(), ctx.actor(), etype, rows, sheet.lines, replace=replace,
                                  naming=[c for c in NAMING if c in sheet.columns], confirm_figures=confirm_figures)
    _tell_exported(ctx, sheet, problems)
    return items, sheet.in_order(sheet_rows.untold(found, problems))


def _tell_exported(ctx: Ctx, sheet: sheet_rows.ListFile, problems) -> None:
    """An evidence export (its 材料编号 column) whose case numbers name other households here: said once,
    before its rows, that those numbers are the exporting home's (a registry moved to another home
    is numbered anew) and how to name the households instead."""
    from .printing import err, visible
    exported = {ctx.config.label("field.evidence_id", lang) for lang in ("zh", "en")}
    if any(h in exported for h in sheet.ignored) and "case" in sheet.columns and any(
            exc.code in ("sheets.other_head", "sheets.other_head_id", "sheets.other_household")
            for _line, _column, exc in problems):
        err.print(visible(ctx.text("roundtrip.exported_case_numbers")))


def _file(files: SheetFiles, name: str):
    """(the file a row names or None, the reason it cannot be used or None)."""
    if not name:
        return None, None
    try:
        return files.find(name), None
    except BadInput as exc:
        return None, exc


def _id_number(typed: str):
    """(the ID number as looked up: past full-width digits, spaces, a leading apostrophe; why it is no
    ID number, or None). A number that cannot be anyone's is said so, not as a household not found."""
    from stdnum.exceptions import ValidationError
    from workflows.household_codes import checked_id, compact_id, id_problem
    from engine.domain.members import mask_id
    if not typed:
        return "", None
    number = compact_id(typed)
    try:
        checked_id(number)
    except ValidationError as exc:
        return number, BadInput("sheets.bad_id", id=mask_id(number), problem=id_problem(exc, typed))
    return number, None


def _household_code(typed: str):
    """(the household code as looked up: past spaces, full-width digits and a leading apostrophe, as an
    ID number is read; why it is no code, or None): one a spreadsheet turned into 3.6073E+15 has lost
    its last digits, said so (as `household import` says it), not as a household not found."""
    from workflows.household_codes import code_digits, excel_scientific
    if excel_scientific(typed):
        return typed, BadInput("import.scientific_value", value=typed)
    return code_digits(typed), None


def _definition(ctx: Ctx, etype: str):
    found = next((wf.evidence_types[etype] for wf in ctx.config.workflows.values() if etype in wf.evidence_types), None)
    if found is None:
        raise BadInput("evidence.unknown_type", type=etype, known=", ".join(
            sorted({e for wf in ctx.config.workflows.values() for e in wf.evidence_types})))
    return found


def _pass_over_blank(ctx: Ctx, etype: str, sheet: sheet_rows.ListFile) -> None:
    """Rows naming a household and nothing to record (a template's rows left unfilled: none of the
    type's fields, no file) are passed over, counted: a village's template holds every household, a
    sheet a few; a row giving only what the template came with (its applicant, the head) is one left unfilled."""
    from engine.domain.evidence import left_as_prefilled
    from .printing import err, visible
    recorded = {*_definition(ctx, etype).fields, "file"}
    given = lambda r: {k: r[k] for k in recorded if (r.get(k) or "").strip()}  # noqa: E731
    filled = [(line, r) for line, r in sheet.rows
              if (cells := given(r)) and not left_as_prefilled(cells, parsing.cell(r, "head_name"))]
    if len(filled) < len(sheet.rows):
        blank = "sheets.blank_rows" if _of_households(ctx, etype) else "sheets.blank_rows_cases"
        err.print(visible(ctx.text(blank, count=len(sheet.rows) - len(filled))))
        sheet.rows = filled


def _tell_ignored(ctx: Ctx, etype: str, ignored: tuple[str, ...]) -> None:
    """The sheet's columns not read: another evidence type's fields named with the --type that takes
    them (a national form holds several types' columns: imported once a type), the others as unknown."""
    from engine.domain.errors import joined
    from .rows import header_name
    from .printing import err, visible
    others: dict[str, list[str]] = {}
    for header in ignored:
        other = next((t for t in _types(ctx) if t != etype and header_name(header) in _field_labels(ctx, t)), None)
        if other is not None:
            others.setdefault(other, []).append(header)
    sheet_rows.not_read(ctx, "import.ignored_columns", [h for h in ignored if not any(h in v for v in others.values())])
    if others:
        groups = [ctx.text("sheets.other_type_group", names=joined(names, ctx.lang), code=other,
                           type=ctx.label(f"evidence.{other}")) for other, names in others.items()]
        err.print(visible(ctx.text("sheets.other_type_columns", type=ctx.label(f"evidence.{etype}"),
                                   groups="；".join(groups) if ctx.lang == "zh" else "; ".join(groups))))


def _types(ctx: Ctx) -> list[str]:
    """Every evidence type with fields, in the workflows' order."""
    return list(dict.fromkeys(e for wf in ctx.config.workflows.values() for e, d in wf.evidence_types.items() if d.fields))


def _field_labels(ctx: Ctx, etype: str) -> dict[str, str]:
    """Each field's Chinese and English label, as a column header naming it."""
    names = {n for wf in ctx.config.workflows.values() if etype in wf.evidence_types
             for n in wf.evidence_types[etype].fields}
    return {ctx.config.label(f"field.{n}", lang): n for n in names for lang in ("zh", "en")}


COMMANDS = ()
