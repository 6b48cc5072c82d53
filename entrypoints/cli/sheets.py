"""`evidence import`: a village's evidence sheet in one command (issue 12: evidence in bulk).

One row per household: the case number (`case`/案件编号) or the head's ID number (`id_number`/
身份证号), the evidence type's fields by key or by their Chinese label, and optionally `file`/文件,
a file name in the folder given by `--files`. Every row is checked first and every bad one reported
with its line, column and reason; then all rows are attached in one transaction, all or none.
"""
from __future__ import annotations

from pathlib import Path

import click

from engine.domain.errors import BadInput, JingzhunError

from . import parsing
from .cases import evidence
from .context import Ctx, pass_ctx
from .options import csv_file
from .printing import err, say

CASE_HEADERS = {"案件编号": "case", "案件": "case", "身份证号": "id_number", "户主身份证号": "id_number",
                "文件": "file", "附件": "file"}


@evidence.command("import")
@csv_file
@click.option("--type", "etype", required=True, callback=parsing.coded("evidence"), help="The evidence type of the sheet.")
@click.option("--files", "folder", type=click.Path(exists=True, file_okay=False),
              help="The folder holding the files the sheet's file column names.")
@pass_ctx
def evidence_import(ctx: Ctx, file, etype, folder):
    """Attach one evidence item of TYPE to every household a sheet (CSV or .xlsx) names, all or none."""
    from engine.services.case_actions import EvidenceItem, attach_evidence_many
    rows = parsing.read_csv(file, [], {**CASE_HEADERS, **_field_labels(ctx, etype)})
    actor = ctx.actor()
    items, found = _items(ctx, rows, etype, Path(folder) if folder else None)
    for line, column, reason in found:
        err.print(ctx.text("import.row_problem", line=line, column=ctx.label("field." + column), reason=reason))
    if found:
        raise BadInput("import.bad_rows", file=file, rows=len({f[0] for f in found}), problems=len(found))
    ids = attach_evidence_many(ctx.app(), actor, [EvidenceItem(c, etype, f, p) for c, f, p in items])
    say(ctx.text("evidence_imported", count=len(ids), type=ctx.label("evidence." + etype)))


def _field_labels(ctx: Ctx, etype: str) -> dict[str, str]:
    """Each field's Chinese and English label, as a column header naming it."""
    names = {n for wf in ctx.config.workflows.values() if etype in wf.evidence_types
             for n in wf.evidence_types[etype].fields}
    return {ctx.config.label(f"field.{n}", lang): n for n in names for lang in ("zh", "en")}


def _items(ctx: Ctx, rows: list[dict[str, str]], etype: str, folder: Path | None):
    """(case, fields, file) per row, and (line, column, reason) of every problem."""
    from engine.domain.evidence import coerce_fields
    heads = _cases_by_head(ctx, rows)
    definition = next(wf.evidence_types[etype] for wf in ctx.config.workflows.values() if etype in wf.evidence_types)
    items, found = [], []
    for line, r in enumerate(rows, start=2):
        fields = {k: v.strip() for k, v in r.items() if k in definition.fields and v and v.strip()}
        case = _case_of(r, heads)
        path = folder / r["file"].strip() if folder and (r.get("file") or "").strip() else None
        problems = [("case", ctx.text("sheet.no_case"))] if case is None else []
        if path is not None and not path.is_file():
            problems.append(("file", ctx.text("sheet.no_file", file=r["file"].strip())))
        try:
            coerce_fields(etype, definition, fields)
        except JingzhunError as exc:
            problems.append((exc.params.get("field", "-"), exc.render(ctx.config, ctx.lang)))
        found += [(line, column, reason) for column, reason in problems]
        items.append((case, fields, path))
    return items, found


def _cases_by_head(ctx: Ctx, rows: list[dict[str, str]]) -> dict[str, int]:
    from workflows.household import registered_elsewhere
    numbers = [r["id_number"].strip().upper() for r in rows if (r.get("id_number") or "").strip()]
    return registered_elsewhere(ctx.app(), numbers) if numbers else {}


def _case_of(r: dict[str, str], heads: dict[str, int]) -> int | None:
    case = (r.get("case") or "").strip()
    if case.isdigit():
        return int(case)
    return heads.get((r.get("id_number") or "").strip().upper())


COMMANDS = ()
