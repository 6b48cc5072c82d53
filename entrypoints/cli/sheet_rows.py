"""A sheet's bad rows (regions, people, evidence): every one reported with its line, column and reason
in the reader's language, then all refused, or (--skip-bad FILE) the good ones kept and the bad ones
written to FILE with their reasons (CSV in UTF-8 with a BOM, mode 0600, renamed into place)."""
from __future__ import annotations

import csv
import os
from typing import Callable, Hashable

import click

from engine.domain.errors import BadInput

from . import parsing
from .context import Ctx
from .printing import err

Found = list[tuple[int, str, str]]   # (line, column, reason)

skip_bad_option = click.option(
    "--skip-bad", "skip_bad", type=click.Path(dir_okay=False),
    help="Import the good rows; write the bad ones with their reasons to this CSV file (opens in Excel).")


def rendered(ctx: Ctx, problems) -> Found:
    """(line, column, error) as (line, column, the error in the reader's language)."""
    return [(line, column, exc.render(ctx.config, ctx.lang)) for line, column, exc in problems]


def good_rows(ctx: Ctx, file: str, rows: list[dict[str, str]], found: Found, skip_bad: str | None,
              label: Callable[[str], str], group: Callable[[dict[str, str]], Hashable] = id) -> list[dict[str, str]]:
    """The rows to import: every one when none is bad; with a bad one and no `skip_bad`, a refusal
    after reporting every problem; else the rows of groups (a person's rows) with no bad row, the
    others written to `skip_bad` with their reasons."""
    if found and not skip_bad:
        report(ctx, found, label)
        raise BadInput("sheets.bad_rows", file=file, rows=len({f[0] for f in found}), problems=len(found))
    bad = {group(rows[line - 2]) for line, _c, _r in found}
    good = [r for r in rows if group(r) not in bad]
    if skip_bad:
        write_bad(ctx, skip_bad, rows, found, [r in good for r in rows], label)
    if found and not good:
        raise BadInput("sheets.nothing_good", file=file, skipped=skip_bad)
    return good


def report(ctx: Ctx, found: Found, label: Callable[[str], str]) -> None:
    for line, column, reason in found:
        err.print(ctx.text("import.row_problem", line=line, column=label(column), reason=reason))


def write_bad(ctx: Ctx, path: str, rows: list[dict[str, str]], found: Found, kept: list[bool],
              label: Callable[[str], str]) -> None:
    """The rows not kept, as they were, with their line and reasons; readable by its owner only."""
    reasons: dict[int, list[str]] = {}
    for line, column, reason in found:
        reasons.setdefault(line, []).append(f"{label(column)}：{reason}")
    out, tmp = parsing.private_file(path)
    with out:
        out.write("\ufeff")
        writer = csv.writer(out)
        columns = list(rows[0]) if rows else []
        writer.writerow([ctx.text("import.line"), *columns, ctx.text("import.reason")])
        for line, (r, ok) in enumerate(zip(rows, kept), start=2):
            if not ok:
                writer.writerow([line, *(_safe(r.get(c) or "") for c in columns),
                                 "；".join(reasons.get(line, [])) or ctx.text("sheets.group_skipped")])
    os.replace(tmp, path)


def _safe(value: str) -> str:
    """A cell as typed, never run as a formula by the spreadsheet that opens the file."""
    from .exports import FORMULA_START
    return "'" + value if value.startswith(FORMULA_START) else value


def skipped_note(ctx: Ctx, skip_bad: str | None, rows: list, good: list) -> None:
    """After a --skip-bad import: how many rows were left out, and where they are."""
    from .printing import say
    if skip_bad and len(good) < len(rows):
        say(ctx.text("sheets.skipped", rows=len(rows) - len(good), file=skip_bad))


def source_of(file: str, rows: list, good: list) -> dict:
    """What the import's audit event says of its file: name, sha256 and rows left out."""
    return {"file": os.path.basename(file), "sha256": parsing.file_sha256(file), "skipped_rows": len(rows) - len(good)}
