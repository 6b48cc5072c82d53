"""The bad rows of a list file, as an import finds them.

Each problem is printed at once on stderr — line, column, reason, in the reader's language — so a
long file's report streams; with `--skip-bad FILE`, the rows that were not imported are written as
they were, each with its reasons, to a CSV in UTF-8 with a BOM (Excel opens it), or to a workbook
when FILE ends in .xlsx (its cells text: Excel keeps an ID number whole there), readable by its
owner only (it holds ID numbers). The file appears only when the import commits, whole; an import
that fails or is interrupted leaves no such file. Until then its rows are gathered in a work file of
the data home (work/, 0700, named after the process: what a killed import left, names and ID numbers,
is removed by the next import or server start), never beside the user's file, which may lie on a
shared folder or a USB stick. Just before the import commits (`ready()`) the finished file is written whole
beside its place (hidden), so that a full disk or a folder that refuses it refuses the import, nothing saved;
once it has committed it is renamed in (`keep()`). One that still cannot take its place then (the stick pulled
out) is said with the import saved and how to have its rows again (`saved_without`).

What the importer should confirm (warnings: the row was imported all the same) is told once the
import has committed, after its summary: up to WARNINGS_SHOWN of them one by one on stderr; when there
are more, one line for each kind of warning with its count and its first lines (a county's registry
can hold a hundred thousand ID numbers whose county code is younger than their holders), and every
one (line, household, name, ID number, column, reason) in the file named by `confirm_to` (beside the
list as a rule), written the same way as the skip file as they come, readable by its owner only, its
place told. A file the importer named (`confirm_named`) is written whatever the count, as the skip
file is.
"""
from __future__ import annotations

import csv
import os
import shutil
from contextlib import suppress
from pathlib import Path
from typing import Any, Iterable

from engine.adapters.private_files import clear_orphans, open_private, replacing, work_file
from engine.domain.errors import READER_PLACE, BadInput, CannotWrite, JingzhunError, Msg, cannot_write, joined

from . import parsing
from .context import Ctx, cli_text
from .parsing import excel_kept
from .printing import err, visible
from .rows import clipped


WARNINGS_SHOWN = 5       # told one by one; past this, a line for each kind
LINES_SHOWN = 5          # of a kind's lines, named on its line
PROBLEMS_GROUPED = 20    # past this many problems, a line for each kind after them
# A kind of warning (its message's code) as its summary's text (cli.import.kind_*): what is to confirm,
# without any one row's values.
KINDS = {"import.id_to_confirm": "import.kind_later_code", "import.id_to_confirm_abolished": "import.kind_abolished_code",
         "import.id_to_confirm_in_file": "import.kind_in_file",
         "import.name_lost_character": "import.kind_lost_character", "import.school_age": "import.kind_school_age"}
WHOM = ("household", "name", "id_number")     # in the file of things to confirm, beside each line


# A problem whose advice is to have the bad rows written to a file (--skip-bad, the page's "skip bad rows"),
# said so where they are being written: what to do with that file.
SKIPPED_WORDS = {"import.scientific": "import.scientific_skipped",
                 "import.scientific_value": "import.scientific_value_skipped"}


def _unplaced(error: JingzhunError, ctx: Ctx) -> str:
    """A problem as the file of bad rows says it, whoever reads it: in the words of no page (no link below)."""
    place = READER_PLACE.set(None)
    try:
        return shortened(error).render(ctx.config, ctx.lang)
    finally:
        READER_PLACE.reset(place)


class BadRows:
    """Use as a context manager around the import; `keep()` once the import has committed, then
    `tell_warnings()` after the import's own summary."""

    def __init__(self, ctx: Ctx, headers: list[str], columns: list[str], skip_to: str | None = None,
                 confirm_to: str | None = None, confirm_named: bool = False):
        self.ctx, self.headers, self.columns, self.skip_to = ctx, headers, columns, skip_to
        self._headers = {c: h for c, h in zip(columns, headers) if h and h != c}    # the file's own names
        self.reasons: dict[Any, list[str]] = {}
        self.problems = 0
        self.warnings: list[tuple] = []      # the first WARNINGS_SHOWN: (line, household, name, ID, column, reason)
        self.warned = 0
        self.kinds: dict[str, list] = {}     # a warning's code -> [count, its first lines, its first reason]
        # (column, a problem's code) -> [count, its first lines, the column's name, its first reason]
        self.problem_kinds: dict[tuple, list] = {}
        self.confirm_to = confirm_to
        self._confirm = self._confirm_tmp = self._confirm_writer = None
        self.skipped_rows = 0
        self._out = self._tmp = self._writer = None
        self._placing: list[tuple[str, Any]] = []     # (place, its `replacing`): written whole beside it by ready()
        self.lost: list[str] = []                       # the places keep() could not put their files in
        # FILE.xlsx: a workbook, its cells text (an ID number stays whole in Excel, which reads an
        # 18-digit number in a CSV as 3.6E+17 and saves it so); gathered as CSV, made a workbook at keep()
        self._workbook = bool(skip_to) and skip_to.lower().endswith(".xlsx")
        self._confirm_workbook = bool(confirm_to) and confirm_to.lower().endswith(".xlsx")
        if skip_to:
            self._out, self._tmp = self._spool(skip_to)
            self._out.write("\ufeff")
            self._writer = csv.writer(self._out)
            self._writer.writerow([ctx.text("import.line"), *headers, ctx.text("import.reason")])
        if confirm_to and confirm_named:
            self._begin_confirm()

    def __enter__(self) -> "BadRows":
        return self

    def _spool(self, target: str):
        """(file, path) of a new private work file gathering the rows bound for `target`, whose folder is
        checked now (a path that cannot be written is told before anything is imported)."""
        parsing.writable(target)
        home = Path(self.ctx.settings().home)
        clear_orphans(home)
        path = work_file(home, "import", ".csv")
        return open_private(path), str(path)

    def __exit__(self, *exc) -> None:
        self.tell_problem_kinds()
        # the files begun and not put in place (an import that failed, or was stopped writing them)
        self.unfinished = [target for target, tmp in ((self.skip_to, self._tmp), (self.confirm_to, self._confirm_tmp))
                           if tmp] + [target for target, _placing in self._placing]
        stopped = exc[1] if exc[1] is not None else RuntimeError("not placed")
        for _target, placing in self._placing:      # written beside their places, not to take them: removed
            with suppress(BaseException):
                placing.__exit__(type(stopped), stopped, None)
        self._placing = []
        for out, tmp in ((self._out, self._tmp), (self._confirm, self._confirm_tmp)):
            if out is not None:
                out.close()
                if tmp and os.path.exists(tmp):
                    os.unlink(tmp)

    def problem(self, line: Any, column: str, error: JingzhunError | str) -> None:
        """One problem of one row: printed now, and kept for the row's line in the skip file."""
        ctx = self.ctx
        if self.skip_to and getattr(error, "code", None) in SKIPPED_WORDS:     # its row is in the skip file
            error = type(error)(SKIPPED_WORDS[error.code], **error.params)
        reason = error if isinstance(error, str) else shortened(error).render(ctx.config, ctx.lang)
        column_label = self.column_name(column)
        err.print(visible(self._at(line, "import.row_problem", column=column_label, reason=reason)))
        self.problems += 1
        kind = self.problem_kinds.setdefault((column, getattr(error, "code", reason)), [0, [], column_label, reason])
        kind[0] += 1
        if len(kind[1]) < LINES_SHOWN:
            kind[1].append(line)
        if self._writer is not None:
            in_file = reason if getattr(error, "code", None) not in SKIPPED_WORDS.values() else _unplaced(error, ctx)
            self.reasons.setdefault(line, []).append(cli_text("pair", ctx.lang, ctx.config, name=column_label,
                                                              value=in_file))

    def warning(self, line: Any, column: str, error: JingzhunError, whom: dict | None = None) -> None:
        """Something to confirm that did not stop the row: told once the import has committed. The
        file of them also names whom (household, name, ID number: to check against the ID card
        without the list beside it); the terminal does not."""
        ctx = self.ctx
        whom = [str((whom or {}).get(k) or "") for k in WHOM]
        found = (line, *(whom if self._confirm_workbook else map(excel_kept, whom)),
                 self.column_name(column), shortened(error).render(ctx.config, ctx.lang))
        self.warned += 1
        kind = self.kinds.setdefault(getattr(error, "code", ""), [0, [], found[-1]])
        kind[0] += 1
        if len(kind[1]) < LINES_SHOWN:
            kind[1].append(line)
        if self._confirm_writer is None and self.warned > WARNINGS_SHOWN and self.confirm_to is not None:
            self._begin_confirm()           # (a caller with nowhere to write them: the count alone)
        if self._confirm_writer is not None:
            self._confirm_writer.writerow(found)
        if self.warned <= WARNINGS_SHOWN:
            self.warnings.append(found)

    def _begin_confirm(self) -> None:
        """The file of rows to confirm begun, with those told one by one so far."""
        ctx = self.ctx
        self._confirm, self._confirm_tmp = self._spool(self.confirm_to)
        self._confirm.write("\ufeff")
        self._confirm_writer = csv.writer(self._confirm)
        self._confirm_writer.writerow([ctx.text("import.line"), ctx.text("import.whom_household"),
                                       *(ctx.label(f"field.{k}") for k in WHOM[1:]),
                                       ctx.text("import.column"), ctx.text("import.warnings_column")])
        self._confirm_writer.writerows(self.warnings)

    def _at(self, line: Any, key: str, **params: Any) -> str:
        return at_line(self.ctx, line, key, **params)

    def column_name(self, column: str) -> str:
        """A column as the reader knows it: in Chinese its header in the file (户状态) where the file
        names it so, else its label (阶段; in English always the label)."""
        header = self._headers.get(column) if self.ctx.lang == "zh" else None
        return header or self.ctx.label("field." + column)

    def skipped(self, rows: Iterable[tuple[Any, dict[str, str]]]) -> None:
        """Rows not imported (a household's rows go together, the sound ones with the others)."""
        for line, row in rows:
            self.skipped_rows += 1
            if self._writer is not None:
                reasons = self.reasons.pop(line, None) or [self.ctx.text("import.household_skipped")]
                cells = (row.get(c, "") for c in self.columns)
                self._writer.writerow([line, *(cells if self._workbook else map(excel_kept, cells)),
                                       ("；" if self.ctx.lang == "zh" else "; ").join(reasons)])

    def ready(self) -> None:
        """Just before the import commits: the skip file and the list to confirm written whole beside their
        places (replacing: a hidden file there), so that a folder or a disk that refuses them refuses the
        import, nothing saved; `keep()` gives them their names once it has committed."""
        for out, tmp, target, workbook, title in ((self._out, self._tmp, self.skip_to, self._workbook, "import.bad_rows_sheet"),
                                                  (self._confirm, self._confirm_tmp, self.confirm_to,
                                                   self._confirm_workbook, "import.to_confirm_sheet")):
            if out is None or tmp is None:
                continue
            out.close()
            placing = replacing(target)
            _out, beside = placing.__enter__()
            self._placing.append((target, placing))
            if out is self._out:
                self._tmp = None
            else:
                self._confirm_tmp = None
            try:
                if workbook:
                    _as_workbook(tmp, beside, self.ctx.text(title))
                else:
                    _copied(tmp, beside)
            except OSError as exc:
                raise cannot_write(target, exc) from None

    def keep(self) -> None:
        """The import committed (or refused every row, which are written all the same): the skip file and the
        list to confirm take their places. One that cannot (its stick pulled out since `ready()`) is
        refused in words (CannotWrite) once the others are in place; `lost` names it."""
        self.ready()
        failed = None
        for target, placing in self._placing:
            try:
                placing.__exit__(None, None, None)
            except CannotWrite as exc:
                self.lost.append(target)
                failed = failed or exc
        self._placing = []
        if failed is not None:
            raise failed

    def advise_workbook(self) -> None:
        """A skip file written as CSV: how its long numbers were kept, and that a .xlsx name is safer."""
        if self.skip_to and not self._workbook and self.skipped_rows and self.skip_to not in self.lost:
            err.print(visible(self.ctx.text("import.skip_csv_advice", file=self.skip_to)))

    def tell_problem_kinds(self) -> None:
        """After many problems, one line a kind (column and refusal), most frequent first: 177 lines of one
        unknown word and 65 of another read as two faults to fix in the sheet, not 242."""
        if self.problems <= PROBLEMS_GROUPED or len(self.problem_kinds) >= self.problems:
            return
        ctx = self.ctx
        err.print(visible(ctx.text("import.problems_by_kind", total=self.problems, kinds=len(self.problem_kinds))))
        for count, lines, column, reason in sorted(self.problem_kinds.values(), key=lambda k: -k[0]):
            shown = joined(map(str, lines), ctx.lang)
            err.print(visible(ctx.text("import.problems_kind" if count > 1 else "import.problems_kind_one", count=count,
                                       column=column, what=reason, lines=shown, more="…" if count > len(lines) else "")))

    def tell_warnings(self) -> None:
        """What to confirm on stderr: each one when there are few; else a line for each kind (its count,
        its first lines) and where every one of them is."""
        ctx = self.ctx
        if self.warned <= WARNINGS_SHOWN:
            for line, _household, name, _number, column, reason in self.warnings:     # the member by name (no number)
                err.print(visible(self._at(line, "import.row_warning_named" if name else "import.row_warning",
                                           column=column, reason=reason, name=name)))
            if self.warned and self._confirm is not None and self.confirm_to not in self.lost:    # a file named: where
                err.print(visible(ctx.text("import.warnings_file", total=self.warned,
                                           file=os.path.abspath(self.confirm_to))))
            return
        for code, (count, lines, reason) in self.kinds.items():
            what = ctx.text(KINDS[code]) if code in KINDS else reason
            shown = joined(map(str, lines), ctx.lang)
            err.print(visible(ctx.text("import.warnings_kind" if count > 1 else "import.warnings_kind_one", count=count,
                                       what=what, lines=shown, more="…" if count > len(lines) else "")))
        if self._confirm is not None and self.confirm_to not in self.lost:
            err.print(visible(ctx.text("import.warnings_file", total=self.warned, file=os.path.abspath(self.confirm_to))))


def side_files_kept(bad: BadRows) -> CannotWrite | None:
    """`bad.keep()` once the import has committed: None, or why a file could not take its place then (its
    stick pulled out), to be said after the import's summary (`saved_without`), not in place of it."""
    try:
        bad.keep()
    except CannotWrite as exc:
        return exc
    return None


def saved_without(bad: BadRows, lost: CannotWrite, saved: Msg, skipped: int) -> BadInput:
    """An import saved whose side files (`bad.lost`) could not be written after it: said with `saved` (what
    it saved), why the file could not be written (on a server, as the server's own: no path of its) and how
    to have what it held again."""
    from engine.domain.errors import said_by_server
    why = said_by_server(lost) if bad.ctx.for_client else lost
    return saved_files_lost(saved, Msg(f"msg.{why.code}", why.params), bool(skipped) if bad.skip_to in bad.lost else None,
                            any(place != bad.skip_to for place in bad.lost))


def saved_files_lost(saved: Msg, why: Msg, skipped: bool | None, confirm: bool) -> BadInput:
    """The import saved (`saved`: what it saved) and a file of its not written after it (`why`), with how
    to have it again: the bad rows (`skipped`: whether any were left out; None: that file was written) by
    importing the same file again, the ID numbers to confirm from their members' marks (`confirm`)."""
    hows = {} if skipped is None else {"skip": Msg("cli.import.lost_skip_again" if skipped else "cli.import.lost_skip_none")}
    hows |= {"confirm": Msg("cli.import.lost_confirm")} if confirm else {}
    how = Msg("cli.import.lost_both", hows) if len(hows) > 1 else next(iter(hows.values()))
    return BadInput("import.saved_files_lost", saved=saved, why=why, how=how)


# A cell's value quoted back in a row's problem is cut to its first rows.QUOTED_CHARS characters (a cell of
# 3,000 had been printed whole): the params that hold what the file gave.
QUOTED = ("value", "other_value", "name", "word", "code", "region", "township", "parent")


def shortened(error: JingzhunError) -> JingzhunError:
    """The error with each value it quotes from the file cut to QUOTED_CHARS characters and "…"."""
    params = {k: clipped(v) if k in QUOTED and type(v) is str else v for k, v in error.params.items()}
    return error if params == error.params else JingzhunError(error.code, **params)


def _as_workbook(gathered: str, beside: str, title: str) -> None:
    """Rows gathered as CSV in a work file written as a workbook to `beside` (its cells text: Excel keeps
    an ID number whole there, where it shows a CSV's as 3.6E+17 and saves it so), made beside the work
    file first; both work files removed."""
    from .exports import write_xlsx
    made = os.path.splitext(gathered)[0] + ".xlsx"
    try:
        with open(gathered, encoding="utf-8-sig", newline="") as rows_file:
            rows = csv.reader(rows_file)
            write_xlsx(made, title, next(rows), rows)
        _copied(made, beside)
    finally:
        os.unlink(gathered)
        Path(made).unlink(missing_ok=True)


def _copied(made: str, beside: str) -> None:
    """The finished work file `made` copied to `beside` (a file begun beside its place); removed."""
    try:
        shutil.copyfile(made, beside)
    finally:
        Path(made).unlink(missing_ok=True)


def at_line(ctx: Ctx, line: Any, key: str, **params: Any) -> str:
    """The CLI's text `key` about the row at `line`; a workbook's later sheet named before its row
    ("青塘!5" is told as 工作表「青塘」第 5 行)."""
    if isinstance(line, str) and "!" in line:
        sheet, row = line.rsplit("!", 1)
        return ctx.text("import.in_sheet", sheet=sheet) + ctx.text(key, line=row, **params)
    return ctx.text(key, line=line, **params)
