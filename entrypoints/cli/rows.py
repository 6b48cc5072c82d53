"""Reading a list file as it streams: CSV (UTF-8, UTF-8 with a BOM, or GBK/GB18030, found by trying)
or an Excel workbook (.xlsx, every sheet with the same header row, read with python-calamine).

A `Sheet` yields `(line, row)`: the row number a person sees in Excel (the header is line 1; a sheet
after the first is named, `Sheet2!5`) and a dict of the row's cells by our column keys (a header may
be our key or one of its `aliases`, e.g. the national system's Chinese headers). A CSV file is never
held in memory; a workbook is read one sheet at a time (Excel's limit is 1,048,576 rows a sheet).
`position()` tells how many bytes of the file are behind us, for a progress bar.
"""
from __future__ import annotations

import codecs
import csv
import os
import io
from typing import Any, Iterator

from engine.domain.errors import BadInput

XLSX_MAGIC = b"PK\x03\x04"
SNIFF = 1 << 16            # bytes read to tell UTF-8 from GB18030


class Sheet:
    """The rows of one list file; use as a context manager and iterate once."""

    def __init__(self, file: str, required: list[str], aliases: dict[str, str] | None = None):
        self.file, self.required, self.aliases = file, required, aliases or {}
        self.columns: list[str] = []      # our keys
        self.headers: list[str] = []      # as the file names them
        self._raw = open(file, "rb")
        self.size = _size(self._raw)
        self.is_xlsx = self._raw.read(4) == XLSX_MAGIC
        self._raw.seek(0)
        self._rows = self._xlsx() if self.is_xlsx else self._csv()
        self.columns = next(self._rows)

    def __enter__(self) -> "Sheet":
        return self

    def __exit__(self, *exc) -> None:
        self._raw.close()

    def __iter__(self) -> Iterator[tuple[int | str, dict[str, str]]]:
        return self._rows

    def position(self) -> int:
        """Bytes of the file read so far (a workbook: its size once its sheets are loaded)."""
        return self.size if self.is_xlsx else self._raw.tell()

    def _header(self, names: list[str]) -> list[str]:
        self.headers = [n.strip() for n in names]
        columns = [self.aliases.get(n, n) for n in self.headers]
        missing = [c for c in self.required if c not in columns]
        if missing:
            raise BadInput("csv.columns", file=self.file, missing=", ".join(missing))
        self._last_required = max((columns.index(c) for c in self.required), default=-1)
        return columns

    def _csv(self) -> Iterator:
        encoding = _encoding(self._raw.read(SNIFF))
        self._raw.seek(0)
        text = io.TextIOWrapper(self._raw, encoding=encoding, newline="")
        reader = csv.reader(text)
        try:
            columns = self._header(_next(reader, self.file, 1) or [])
            yield columns
            yield from self._records(reader, columns)
        except UnicodeDecodeError:
            raise BadInput("csv.encoding", file=self.file) from None

    def _records(self, reader, columns: list[str]) -> Iterator:
        line = 1
        while (values := _next(reader, self.file, line + 1)) is not None:
            line += 1
            if any(v.strip() for v in values):
                yield line, self._row(columns, values, line)

    def _row(self, columns: list[str], values: list[str], line: int | str) -> dict[str, str]:
        if len(values) <= self._last_required:
            raise BadInput("csv.short_row", file=self.file, line=line)
        return dict(zip(columns, values))

    def _xlsx(self) -> Iterator:
        sheets = _workbook_sheets(self.file)
        first = True
        for name, rows in sheets:
            header = next(rows, None)
            if header is None:
                continue
            columns = self._header([_cell_text(v) for v in header])
            if first:
                yield columns
            elif columns != self.columns:
                raise BadInput("csv.sheet_columns", file=self.file, sheet=name)
            yield from self._sheet_rows(rows, columns, "" if first else f"{name}!")
            first = False
        if first:
            raise BadInput("csv.columns", file=self.file, missing=", ".join(self.required))

    def _sheet_rows(self, rows, columns: list[str], prefix: str) -> Iterator:
        for number, values in enumerate(rows, start=2):
            texts = [_cell_text(v) for v in values]
            if any(texts):
                line = f"{prefix}{number}" if prefix else number
                yield line, dict(zip(columns, texts + [""] * (len(columns) - len(texts))))


def _size(fh) -> int:
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    return size


def _encoding(head: bytes) -> str:
    """UTF-8 (a BOM dropped) when the file's start decodes as UTF-8, else GB18030 (a superset of GBK)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def _next(reader, file: str, line: int) -> list[str] | None:
    """The next record, or None at the end; a malformed one (a cell over csv's limit, a NUL byte) is
    refused with its line."""
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error:
        raise BadInput("csv.bad_line", file=file, line=line) from None


# A workbook larger than this is streamed (openpyxl's read-only mode: constant memory, about half the
# speed); a smaller one is read a sheet at a time by python-calamine (fast, ~1 KB of memory per row).
STREAM_FROM_BYTES = 8 * 1024 * 1024


def _workbook_sheets(file: str) -> Iterator[tuple[str, Iterator]]:
    """(name, rows) of each sheet, loaded one at a time (streamed, for a large workbook)."""
    if os.path.getsize(file) > STREAM_FROM_BYTES:
        yield from _streamed_sheets(file)
        return
    import python_calamine
    try:
        book = python_calamine.CalamineWorkbook.from_path(file)
    except Exception:
        raise BadInput("csv.workbook", file=file) from None
    try:
        for name in book.sheet_names:
            yield name, iter(book.get_sheet_by_name(name).iter_rows())
    finally:
        book.close()


def _streamed_sheets(file: str) -> Iterator[tuple[str, Iterator]]:
    import openpyxl
    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception:
        raise BadInput("csv.workbook", file=file) from None
    try:
        for sheet in book.worksheets:
            yield sheet.title, (list(row) for row in sheet.iter_rows(values_only=True))
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    """A cell as the text a person sees: 18-digit ID numbers must be stored as text in the sheet."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value).strip()
