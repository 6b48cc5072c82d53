"""A sheet of regions, people or evidence, read with its lines (rows.Sheet) and its bad rows handled
the household import's way (bad_rows.BadRows): every problem printed with its line, column and
reason in the reader's language; then all refused, or (--skip-bad FILE) the good rows kept and the
bad ones written to FILE with their reasons once the import has committed."""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Hashable, Iterator

import click

from engine.domain.errors import BadInput, JingzhunError, Msg, joined, render_value

from . import parsing
from .context import Ctx

Found = list[tuple[int | str, str, JingzhunError]]   # (line, column, what is wrong there)
Rows = list[tuple[int | str, dict[str, str]]]   # (line as Excel shows it, the row by our column keys)

skip_bad_option = click.option(
    "--skip-bad", "skip_bad", type=click.Path(dir_okay=False))


@dataclass
class ListFile:
    file: str
    headers: list[str]       # as the file names them
    columns: list[str]       # our keys
    rows: Rows
    ignored: tuple[str, ...] = ()    # headers not known here: their cells were not read
    cells: Found = ()                # cells the reader could not read exactly (a long number typed as one)

    @property
    def lines(self) -> list[int | str]:
        return [line for line, _row in self.rows]

    def in_order(self, found: Found) -> Found:
        """Problems in the file's order, a line's in its columns' order."""
        order = {line: n for n, (line, _row) in enumerate(self.rows)}
        place = {column: n for n, column in enumerate(self.columns)}
        return sorted(found, key=lambda f: (order.get(f[0], -1), place.get(f[1], len(place)), f[1]))

    def source(self, kept: int) -> dict:
        """What the import's audit event says of its file: name, sha256 and rows left out."""
        return {"file": os.path.basename(self.file), "sha256": parsing.file_sha256(self.file),
                "skipped_rows": len(self.rows) - kept}


def read(ctx: Ctx, file: str, required: list[str], aliases: dict[str, str], any_of: tuple[str, ...] = (),
         labels: dict[str, str] | None = None, skip_totals: bool = False, tell_ignored: bool = True) -> ListFile:
    """A small list file (regions, people, an evidence sheet), whole, each row with its line; the
    columns it has that are not known here are told (a 备注 or a misspelt field is not lost unseen);
    a long number a workbook holds as a number (digits lost) is its row's problem, not the file's:
    every bad row is told at once, and --skip-bad imports the others.
    `any_of`: the header names one of these columns at least (rows above it are titles); `labels`: a
    column's label (field.<label>) where not field.<column>, to name a column missing; `skip_totals`: a
    totals row or a signature line under the table is passed over and told; `tell_ignored`: the columns
    not known here are told (else the caller tells them, from ListFile.ignored)."""
    from .rows import Sheet
    aliases = {**bad_rows_columns(ctx), **aliases}
    with Sheet(file, required, aliases, any_of=any_of, labels=labels, skip_totals=skip_totals,
               row_problems=True) as sheet:
        rows = list(sheet)
        cells = [(line, column, exc) for line, _row in rows for column, exc in sheet.problems_of(line)]
        found = ListFile(file, sheet.headers, sheet.columns, rows, tuple(sheet.ignored), cells)
    if tell_ignored:
        not_read(ctx, "import.ignored_columns", list(found.ignored))
    not_read(ctx, "import.sheets_hidden", sheet.hidden)
    not_read(ctx, "import.totals_skipped", [str(line) for line in sheet.totals])
    not_read(ctx, "import.header_repeated", [str(line) for line in sheet.repeated])
    return found


def labelled(ctx: Ctx, labels: dict[str, str]) -> dict[str, str]:
    """The headers an export writes for these columns (key -> its label, field.<label>), in zh and
    en, as our keys: an exported list (`export regions`, `export persons`) imports again as it is."""
    return {ctx.config.label(f"field.{label}", lang): key for key, label in labels.items() for lang in ("zh", "en")}


def bad_rows_columns(ctx: Ctx) -> dict[str, str]:
    """The columns a file of bad rows (--skip-bad) adds, in either language (行号, 原因), as keys of
    their own: that file, corrected, is imported again without them told as columns not read."""
    from .context import cli_text
    return {cli_text(f"cli.import.{told}", lang, ctx.config): f"skipped_{told}"
            for lang in ("zh", "en") for told in ("line", "reason")}


NAMES_SHOWN = 20      # of the columns, sheets or lines not read, named (a file of 10,000 columns)


def not_read(ctx: Ctx, key: str, names: list[str]) -> None:
    """Columns or sheets of the file that were not read, told (nothing lost unseen): the first
    NAMES_SHOWN, each cut as a value quoted from the file is, and how many more."""
    from .printing import err, visible
    from .rows import clipped
    if names:
        listed = joined(map(clipped, names[:NAMES_SHOWN]), ctx.lang)
        if len(names) > NAMES_SHOWN:
            listed = render_value(ctx.config, "names", Msg("sheet_words.more", {"names": listed,
                                                                                "more": len(names) - NAMES_SHOWN}), ctx.lang)
        err.print(visible(ctx.text(key, names=listed)))


def untold(told: Found, more: Found) -> Found:
    """`told`, and those of `more` that are not about a cell `told` is about: a cell found bad is told
    once, why it is (a number cut short, an ID number with a wrong check digit, a file that cannot
    be used), not again as what followed from it (no such household, no file)."""
    cells = {(line, column) for line, column, _problem in told}
    return [*told, *(f for f in more if (f[0], f[1]) not in cells)]


class GoodRows(list):
    """The rows to import (good_rows); `ready()`, called by the import just before it commits, writes the
    file of bad rows whole beside its place (a full disk refuses the import, not the file after it)."""
    ready: Callable[[], None]


@contextmanager
def good_rows(ctx: Ctx, sheet: ListFile, found: Found, skip_bad: str | None, labels: dict[str, str] | None = None,
              group: Callable[[dict[str, str]], Hashable] = id) -> Iterator[list[dict[str, str]]]:
    """The rows to import, around the import: every one when none is bad; with a bad one and no
    `skip_bad`, a refusal once every problem is told; else the rows of groups (a person's rows)
    with no bad row, the others written to `skip_bad` with their reasons when the import commits.
    `labels`: a column's field label (field.<label>) when not field.<column>. The sheet's cells the
    reader could not read (ListFile.cells) are problems too, told before what followed from them."""
    from .bad_rows import BadRows, saved_without, side_files_kept
    found = sheet.in_order(untold(list(sheet.cells), found))
    with BadRows(ctx, sheet.headers, sheet.columns, skip_bad) as bad:
        for line, column, reason in found:
            bad.problem(line, (labels or {}).get(column, column), reason)
        if found and not skip_bad:
            raise BadInput("sheets.bad_rows", file=sheet.file, rows=len({f[0] for f in found}), problems=len(found))
        bad_lines = {f[0] for f in found}
        wrong = {group(row) for line, row in sheet.rows if line in bad_lines}
        left_out = [(line, row) for line, row in sheet.rows if group(row) in wrong]
        for line, _row in left_out:
            bad.reasons.setdefault(line, [ctx.text("sheets.group_skipped")])
        bad.skipped(left_out)
        if left_out and len(left_out) == len(sheet.rows):
            bad.keep()
            raise BadInput("sheets.nothing_good", file=sheet.file, skipped=skip_bad)
        good = GoodRows(row for _line, row in sheet.rows if group(row) not in wrong)
        good.ready = bad.ready
        yield good
        lost = side_files_kept(bad)
    if lost is not None:        # saved, its file of bad rows not written: said so, with how to have them again
        raise saved_without(bad, lost, Msg("cli.import.saved_rows", {"rows": len(good)}), len(left_out))
    if skip_bad and left_out:
        from .printing import say
        say(ctx.text("sheets.skipped", rows=len(left_out), file=skip_bad))
        bad.advise_workbook()
