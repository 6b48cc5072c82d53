"""The bad rows of a list file, as an import finds them.

Each problem is printed at once on stderr — line, column, reason, in the reader's language — so a
long file's report streams; with `--skip-bad FILE`, the rows that were not imported are written as
they were, each with its reasons, to a CSV in UTF-8 with a BOM (Excel opens it), readable by its
owner only (it holds ID numbers). The file appears only when the import commits (written beside its
place and renamed in); an import that fails or is interrupted leaves no such file.
"""
from __future__ import annotations

import csv
import os
from typing import Any, Iterable

from engine.domain.errors import JingzhunError

from . import parsing
from .context import Ctx
from .printing import err, visible


class BadRows:
    """Use as a context manager around the import; `keep()` once the import has committed."""

    def __init__(self, ctx: Ctx, headers: list[str], columns: list[str], skip_to: str | None = None):
        self.ctx, self.headers, self.columns, self.skip_to = ctx, headers, columns, skip_to
        self.reasons: dict[Any, list[str]] = {}
        self.problems = 0
        self.warnings: list[str] = []
        self.skipped_rows = 0
        self._out = self._tmp = self._writer = None
        if skip_to:
            self._out, self._tmp = parsing.private_file(skip_to)
            self._out.write("\ufeff")
            self._writer = csv.writer(self._out)
            self._writer.writerow([ctx.text("import.line"), *headers, ctx.text("import.reason")])

    def __enter__(self) -> "BadRows":
        return self

    def __exit__(self, *exc) -> None:
        if self._out is not None:
            self._out.close()
            if self._tmp and os.path.exists(self._tmp):
                os.unlink(self._tmp)

    def problem(self, line: Any, column: str, error: JingzhunError | str) -> None:
        """One problem of one row: printed now, and kept for the row's line in the skip file."""
        ctx = self.ctx
        reason = error if isinstance(error, str) else error.render(ctx.config, ctx.lang)
        column_label = ctx.label("field." + column)
        err.print(visible(ctx.text("import.row_problem", line=line, column=column_label, reason=reason)))
        self.problems += 1
        if self._writer is not None:
            self.reasons.setdefault(line, []).append(f"{column_label}：{reason}")

    def warning(self, line: Any, column: str, error: JingzhunError) -> None:
        """Something to confirm that did not stop the row: told once the import has committed."""
        ctx = self.ctx
        self.warnings.append(ctx.text("import.row_warning", line=line, column=ctx.label("field." + column),
                                      reason=error.render(ctx.config, ctx.lang)))

    def skipped(self, rows: Iterable[tuple[Any, dict[str, str]]]) -> None:
        """Rows not imported (a household's rows go together, the sound ones with the others)."""
        for line, row in rows:
            self.skipped_rows += 1
            if self._writer is not None:
                reasons = self.reasons.pop(line, None) or [self.ctx.text("import.household_skipped")]
                self._writer.writerow([line, *(parsing.spreadsheet_text(row.get(c, "")) for c in self.columns), "；".join(reasons)])

    def keep(self) -> None:
        """The import committed: the skip file takes its place, and the warnings are told."""
        for text in self.warnings:
            err.print(visible(text))
        if self._out is not None:
            self._out.close()
            os.replace(self._tmp, self.skip_to)
            self._tmp = None

