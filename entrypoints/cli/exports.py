"""`export TABLE --csv FILE | --xlsx FILE`: cases, members or steps of the reader's jurisdiction,
streamed to CSV (UTF-8 with a BOM, as Excel in China expects) or XLSX (openpyxl's write-only mode),
in a file only its owner can read. A cell that a spreadsheet would run as a formula (=, +, -, @)
is written as text."""
from __future__ import annotations

import csv
import os
from datetime import date, datetime
from typing import Any, Iterator

import click

from engine.domain.errors import BadInput

from . import parsing
from .context import Ctx, pass_ctx
from .printing import say

@click.command("export")
@click.argument("table", type=click.Choice(["cases", "members", "steps", "deadlines"]))
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Write a CSV file (UTF-8 with BOM).")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False), help="Write an Excel workbook.")
@click.option("--region", "region_code", help="Only this region (within your jurisdiction).")
@pass_ctx
def export(ctx: Ctx, table, csv_path, xlsx_path, region_code):
    """Export cases, household members, steps or deadlines of your jurisdiction, streamed."""
    from engine.reads.exports import export_table
    if bool(csv_path) == bool(xlsx_path):
        raise BadInput("export.one_target")
    columns, rows = export_table(ctx.app(), ctx.actor(), table, region_code)
    header = [ctx.label(f"field.{c}") for c in columns]
    cells = (tuple(_cell(ctx, v) for v in r) for r in rows)
    count = _write_csv(csv_path, header, cells) if csv_path else _write_xlsx(xlsx_path, table, header, cells)
    say(ctx.text("exported", count=count, file=csv_path or xlsx_path))


def _cell(ctx: Ctx, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return ctx.config.label("web.yes" if value else "web.no", ctx.lang)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return parsing.spreadsheet_text(value) if isinstance(value, str) else value


def _write_csv(path: str, header: list[str], cells: Iterator[tuple]) -> int:
    out, tmp = parsing.private_file(path)
    count = 0
    with out:
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(header)
        for count, row in enumerate(cells, start=1):
            writer.writerow(row)
    os.replace(tmp, path)
    return count


def _write_xlsx(path: str, title: str, header: list[str], cells: Iterator[tuple]) -> int:
    import openpyxl
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(header)
    count = 0
    for count, row in enumerate(cells, start=1):
        sheet.append([str(v) if isinstance(v, str) else v for v in row])
    out, tmp = parsing.private_file(path)
    out.close()
    book.save(tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return count


COMMANDS = (export,)
