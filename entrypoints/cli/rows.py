"""Reading a list file as it streams: CSV (UTF-8, UTF-8 with a BOM, or GBK/GB18030, found by trying)
or an Excel workbook (.xlsx or Excel 97-2003's .xls, every sheet with the same columns: an .xlsx
streamed by entrypoints/cli/workbook.py, an .xls, or an OpenDocument .ods, read by python-calamine).

A `Sheet` yields `(line, row)`: the row number a person sees in Excel (a sheet after the first is
named, `Sheet2!5`) and a dict of the row's cells by our column keys (a header may be our key or one
of its `aliases`, e.g. the national system's Chinese headers). The header is the first of the first
HEADER_ROWS rows that names every required column: a registry's title rows (花名册, a merged
two-level header) above it are passed over. A workbook's sheet with no such header at all (notes,
说明) is passed over and named in `passed_over`; a later sheet may have the first one's columns in
another order (each sheet's own header maps its cells), one with columns missing or added is refused
naming them. Two headers meaning the same column are refused (which would hold?), except a column
that only stands in for another (`stand_ins`: a village's name beside its code); headers we do not know
are named in `ignored`, for the command to tell. A row with more non-empty cells than the header
has columns is refused; so is a number in a workbook cell too long for Excel to keep exactly (an ID
number or an 18-digit household code typed as a number has lost its last digits already), an
error cell (#N/A: a formula, a lookup say, that gave no value) in a column read (python-calamine,
which reads .xls and .ods, reads one as empty), and a formula whose result the file does not hold (a
program wrote it; read as empty, it had been a name missing or a default taken). With `row_problems`
a long number and a formula without its result are their row's problem instead (`problems`).

What a file is, is told by its content, never by its name alone: a PDF or a photo, a web page (HTML, as
old systems export an ".xls"), XML, JSON, UTF-16 text or a binary file is refused saying what it is and how
to make it a list (`not_a_sheet`, `_not_text`); an .xls or .ods named .xlsx is read as what it is. A
CSV that is UTF-8 but for some rows (pasted from a GBK file) is read as UTF-8, those rows told as
their problem; one cut short inside its last character, or inside a quoted cell, is said so. A cell
holding a control character (NUL) is its row's problem; a row repeating the header is passed over,
its line in `repeated`. A missing header's "headers found" never echo a row of data.

A CSV file or an .xlsx is never held in memory (streamed row by row); an .xls (at most 65,536 rows a
sheet) or an .ods (up to WHOLE_SHEET_BYTES) is read one sheet at a time. `position()` tells how many
bytes of the file are behind us, for a progress bar.
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
from typing import Any, Iterator

from engine.domain.errors import BadInput, Codes, Msg
from engine.domain.scans import SCAN_HEAD, scan_kind

XLSX_MAGIC = b"PK\x03\x04"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")    # a cell a spreadsheet would run: parsing.spreadsheet_text marks it
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"    # Excel 97-2003 (.xls), or an encrypted .xlsx
SNIFF = 1 << 16            # bytes read to tell UTF-8 from GB18030
HEADER_ROWS = 10           # rows searched for the header (title rows above it are passed over)
EXACT_DIGITS = 1e15        # Excel keeps 15 significant digits: a number this large may have lost some
DELIMITERS = (",", "\t", ";")  # a CSV's, a tab-separated .txt's, a European Excel's "CSV"
TOTALS = ("合计", "总计", "小计",   # a totals row's first cell: no member's row; nor the lines under a
          "填表人", "填报人", "制表人", "审核人", "负责人", "村支书", "村主任", "村委会", "签字", "签名",   # sheet
          "盖章", "注：", "注:", "说明：", "说明:", "备注：", "备注:")   # to sign, stamp and explain it
_TOTALS_START = frozenset(word[0] for word in TOTALS)    # a first cell starting otherwise is no totals row
HEADERS_SHOWN = 10         # headers found, named when a required one is missing
QUOTED_CHARS = 40          # of a text quoted from the file in a message (clipped): a cell of 3,000 was printed whole
# A cell's characters no list holds: a control character (NUL: a file cut short or passed through another
# system) and, in a CSV read as UTF-8, a byte that is not UTF-8 (surrogateescape: a row saved in another
# encoding); a tab and a line break are a cell's own
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\udc80-\udcff]")
_NOT_UTF8 = re.compile("[\udc80-\udcff]+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A first row that is a row of data (its header row deleted): a run of 6 digits (an ID number, a code, a
# phone, an account), a mobile number written with spaces; or, naming no column known, a number or a date
_LONG_DIGITS = re.compile(r"\d{6}|1[3-9]\d[\s-]\d{4}[\s-]?\d{4}")
_VALUE = re.compile(r"[+-]?\d+(?:[.,/-]\d+)*")
# A JSON document (`region list --json` saved as a file): an array of objects, values or arrays, or an object
_JSON = re.compile(rb'\[\s*([{\["\]]|$)|\{\s*("|\}|$)')
_NOTE = re.compile(r"[(（][^()（）]*[)）]$")     # a header's trailing note: 身份证号（18位）


def header_name(name: str) -> str:
    """A header as matched: without spaces (a full-width one, a line break inside a cell), a leading
    required-field mark (* or ＊) or a trailing note in brackets (身份证号（18位）)."""
    name = "".join(name.split()).lstrip("*＊")
    while (bare := _NOTE.sub("", name)) != name and bare:
        name = bare
    return name


class Sheet:
    """The rows of one list file; use as a context manager and iterate once."""

    def __init__(self, file: str, required: list[str], aliases: dict[str, str] | None = None,
                 skip_totals: bool = False, row_problems: bool = False, any_of: tuple[str, ...] = (),
                 labels: dict[str, str] | None = None, stand_ins: dict[str, str] | None = None,
                 codes: tuple[str, ...] = ()):
        self.file, self.required, self.aliases = file, required, aliases or {}
        # codes: columns (our keys) of codes written as digits (户编号, a phone): a workbook's number cell in
        # one (Excel's 转换为数字 drops a leading 0: 00001 is 1) noted by line in `numbers`, for the caller
        # to take as it reads the row (`numbers_of`)
        self.codes = frozenset(codes)
        self.numbers: dict = {}
        # a column read as another when the file has none of that other (a village's name, where no
        # column gives its code); beside that other it is a column of its own (the name, to check)
        self.stand_ins = stand_ins or {}
        self.labels = labels or {}        # a column's label (field.<label>) where not field.<column>
        self.any_of = frozenset(any_of)   # the header names one of these too (title rows above it passed over)
        # row_problems: a workbook's number too long to be exact, or a formula whose result the file does
        # not hold, is the problem of its row, kept in `problems` (line -> [(column key, error)]) for the
        # caller to take as it reads the row (`problems_of`), not a refusal of the whole file; otherwise
        # the file is refused at that cell
        self.row_problems = row_problems
        self.problems: dict = {}
        self._bare_aliases: dict[str, str] = {}
        for name, key in self.aliases.items():
            self._bare_aliases.setdefault(header_name(name), key)
        self.skip_totals = skip_totals    # a totals row or a line to sign under the table (TOTALS) passed
                                          # over, its line in `totals`
        self.totals: list = []
        self.repeated: list = []          # lines repeating the header (two lists pasted one under the other): passed over
        self.hidden: list[str] = []       # a workbook's hidden sheets: passed over
        self._first_names: list[str] = []     # the first non-empty row of the file, for a header missing
        self.columns: list[str] = []      # our keys
        self.headers: list[str] = []      # as the file names them (the first sheet's, as `columns`)
        self._sheet_headers: list[str] = []   # the sheet being read: its headers and keys, in its order
        self._sheet_columns: list[str] = []
        self.ignored: list[str] = []      # headers we do not know (their cells are not read)
        self.passed_over: list[str] = []  # a workbook's sheets with no header (notes)
        self._streamed = None             # an .xlsx's reader (entrypoints/cli/workbook.py)
        self.read_columns: set[int] = set()   # the columns read (by position): not those ignored
        self._raw = open(file, "rb")
        self.size = _size(self._raw)
        refused = not_a_sheet(file, self._raw.read(SCAN_HEAD))
        if refused is not None:
            self._raw.close()
            raise refused
        self._raw.seek(0)
        head = self._raw.read(len(XLS_MAGIC))
        self.is_xls = head == XLS_MAGIC
        self.is_workbook = self.is_xls or head.startswith(XLSX_MAGIC)
        self._raw.seek(0)
        self._rows = self._workbook() if self.is_workbook else self._csv()
        self.columns = next(self._rows)

    def __enter__(self) -> "Sheet":
        return self

    def __exit__(self, *exc) -> None:
        self._raw.close()

    def __iter__(self) -> Iterator[tuple[int | str, dict[str, str]]]:
        return self._rows

    def position(self) -> int:
        """Bytes of the file read so far (an .xlsx: in proportion to its sheets' XML read; an .xls or
        .ods: its size once its sheets are loaded)."""
        if self._streamed is not None:
            return int(self.size * self._streamed.fraction())
        return self.size if self.is_workbook or self._raw.closed else self._raw.tell()  # closed: read to its end

    def _keys(self, names: list[str]) -> list[str]:
        return [self._key(n) for n in names]

    def _key(self, name: str) -> str:
        """Our key of a header: as given, else as header_name reads it."""
        name = name.strip()
        if name in self.aliases:
            return self.aliases[name]
        bare = header_name(name)
        return self.aliases.get(bare) or self._bare_aliases.get(bare) or (bare if bare in self.required else name)

    def _find_header(self, rows: Iterator[list[str]]) -> tuple[int, list[str]] | None:
        """(its line, its cells): the first of the first HEADER_ROWS rows naming every required column.
        None when no row names any of them (`_saw_rows`: whether any was not empty); when the best
        names some, what it lacks is refused."""
        required = set(self.required)
        best, most = None, 0
        self._saw_rows = False
        for line, names in zip(range(1, HEADER_ROWS + 1), rows):
            keys = set(self._keys(names))
            named = len(keys & required)
            if named == len(required) and (not self.any_of or keys & self.any_of):
                return line, names
            if not self._saw_rows and any(n.strip() for n in names):
                self._saw_rows, self._first_names = True, names
            if named > most:
                best, most = names, named
        if best is not None:
            self._header(best)       # raises: a required column is missing
        return None

    def _header(self, names: list[str]) -> list[str]:
        names = [_in_gbk(n) if _NOT_UTF8.search(n) else n for n in names]     # a header saved in GBK
        headers = [" ".join(n.split()) for n in names]     # a line break inside a header: a space
        columns = self._keys(names)
        for stand_in, column in self.stand_ins.items():
            if column not in columns:
                columns = [column if c == stand_in else c for c in columns]
        missing = [c for c in self.required if c not in columns]
        if missing:
            raise self.missing_columns(missing, names)
        seen: dict[str, str] = {}
        for header, column in zip(headers, columns):
            if header and seen.setdefault(column, header) != header:
                raise BadInput("csv.same_column", file=self.file, first=seen[column], second=header)
        known = set(self.aliases.values()) | set(self.aliases) | set(self.required)
        self.ignored = [h for h, c in zip(headers, columns) if h and c not in known]
        self.read_columns = {i for i, c in enumerate(columns) if c in known}
        self._required_at = [columns.index(c) for c in self.required]
        self._last_required = max(self._required_at, default=-1)
        self._sheet_headers, self._sheet_columns = headers, columns
        self._header_cells = [n.strip() for n in names]
        while self._header_cells and not self._header_cells[-1]:
            self._header_cells.pop()
        self._header_at = next((i for i, n in enumerate(self._header_cells) if n), 0)
        self._header_names = frozenset(n for n in self._header_cells if n)
        if not self.columns:        # the first sheet's (a later sheet's are in its own order)
            self.headers = headers
        return columns

    def _csv(self) -> Iterator:
        head = self._raw.read(SNIFF)
        refused = _not_text(self.file, head)
        if refused is not None:
            raise refused
        encoding = _encoding(head)
        if _cut_short(self._raw, self.size, encoding):
            raise BadInput("csv.cut_short", file=self.file)
        # a GBK file a converter put a UTF-8 BOM before: the BOM is no part of its first header
        start = len(codecs.BOM_UTF8) if encoding == "gb18030" and head.startswith(codecs.BOM_UTF8) else 0
        delimiter = _delimiter(head[start:], encoding)
        self._raw.seek(start)
        # read as UTF-8, a byte that is not is kept (surrogateescape), for its row to be told (_unreadable)
        text = io.TextIOWrapper(self._raw, encoding=encoding, newline="",
                                errors="surrogateescape" if encoding == "utf-8-sig" else "strict")
        reader = csv.reader(text, delimiter=delimiter)
        self._delimiter, self._encoding, self._start = delimiter, encoding, start
        try:
            found = self._find_header(iter(lambda: _next(reader, self.file, reader.line_num + 1), None))
            if found is None:
                raise self._lacking_all() if self._saw_rows else BadInput("csv.empty", file=self.file)
            line, names = found
            columns = self._header(names)
            yield columns
            yield from self._records(reader, columns, line)
        except UnicodeDecodeError:      # named a workbook yet none (damaged): said as a workbook not read
            workbook = os.path.splitext(self.file)[1].lower() in (".xlsx", ".xlsm", ".xls", ".ods")
            raise BadInput("csv.workbook" if workbook else "csv.encoding", file=self.file) from None

    def _records(self, reader, columns: list[str], line: int) -> Iterator:
        """A CSV's rows; a cell our exports marked as text (a ' before =, +, -, @: a phone number
        +86…, a name a spreadsheet would run) is read as it was before the mark. (A registry's
        million rows: a row's cells are looked through once, joined, for text, for a mark and for a
        character no list holds.) A row read over several of the file's lines (a quoted cell's line
        breaks) that reads to the file's end with the rest of the file in one cell, or too few cells,
        had a quote never closed: said so, not as a row lacking commas."""
        records, waiting = iter(reader), []
        ended = reader.line_num
        at, names = self._header_at, self._header_names     # a row with a header's name there may repeat it
        try:
            while (values := waiting.pop() if waiting else next(records, None)) is not None:
                line += 1
                began, ended = ended, reader.line_num
                if ended - began > 1 and self._swallowed(values, len(columns)):
                    waiting.append(next(records, None))
                    if waiting[-1] is None:
                        raise BadInput("csv.open_quote", file=self.file, line=line)
                text = "".join(values).lstrip()       # its first character: the first non-blank cell's
                if not text or text[0] in _TOTALS_START and self._total(values, line):
                    continue
                if _UNREADABLE.search(text):
                    values = self._unreadable(values, line)
                if at < len(values) and values[at].strip() in names and self._repeats_header(values, line):
                    continue
                if len(values) <= self._last_required:
                    raise self._short(records, waiting, line, began)
                yield line, self._row(columns, [unmarked(v) for v in values] if "'" in text else values, line)
        except csv.Error:
            raise BadInput("csv.bad_line", file=self.file, line=line + 1) from None

    def _swallowed(self, values: list[str], width: int) -> bool:
        """Whether a row read over several lines may hold the rest of the file in one cell (a quote
        opened and never closed): a cell holding lines with the columns' delimiters."""
        return any("\n" in v and v.count(self._delimiter) >= width // 2 for v in values)

    def _short(self, records, waiting: list, line, began: int) -> BadInput:
        """A row with fewer cells than the header; when it is the file's last, what made it so: a quote
        never closed, or the file cut short (its last line unfinished)."""
        if waiting or next(records, None) is not None:
            return BadInput("csv.short_row", file=self.file, line=line)
        if self._quote_open(began):
            return BadInput("csv.open_quote", file=self.file, line=line)
        self._raw.seek(max(0, self.size - 1))
        if self._raw.read(1) not in (b"\n", b"\r"):
            return BadInput("csv.cut_short", file=self.file)
        return BadInput("csv.short_row", file=self.file, line=line)

    def _quote_open(self, began: int) -> bool:
        """Whether the file's last row, from its line after `began`, ends inside a quoted cell (read
        again strictly: the reader took the file's end for the quote's)."""
        self._raw.seek(self._start)
        text = io.TextIOWrapper(self._raw, encoding=self._encoding, newline="", errors="replace")
        rest = "".join(itertools.islice(text, began, None))
        text.detach()
        try:
            list(csv.reader(io.StringIO(rest), delimiter=self._delimiter, strict=True))
        except csv.Error:
            return True
        return False

    def _total(self, values: list[str], line) -> bool:
        """A totals row or a line under the table (合计, 总计, 小计, 填表人, 签字, 注… in its first
        non-empty cell: TOTALS), when asked to pass them over: its line kept in `totals`, for the
        command to tell."""
        if not self.skip_totals or self._whole_row(values):
            return False
        first = next((v.strip() for v in values if v and v.strip()), "")
        if first[:1] in _TOTALS_START and "".join(first.split()).startswith(TOTALS):
            self.totals.append(line)
            return True
        return False

    def _unreadable(self, values: list[str], line) -> list[str]:
        """A row holding a character no list holds, in a column read: a control character (NUL) in a
        cell is that cell's problem, a byte that is not UTF-8 the row's (saved in another encoding),
        each kept in `problems` (`row_problems`), else the file refused at it. The row's cells are
        given back with such bytes read as GBK (_in_gbk)."""
        found = []
        for i, value in enumerate(values):
            if i not in self.read_columns or not _UNREADABLE.search(value):
                continue
            if _NOT_UTF8.search(value):           # told once, for the row
                found = [(i, BadInput("import.not_utf8"))]
                break
            char = _CONTROL.search(value).group()
            found.append((i, BadInput("import.control_char", char="NUL" if char == "\x00" else f"U+{ord(char):04X}")))
        for i, problem in found:
            if not self.row_problems:         # the problem's words, at the file's line and column
                key = "msg." + problem.code
                raise BadInput("csv.unreadable_cell", file=self.file, line=line, column=self._header_of(i),
                               problem=Msg(key, problem.params))
            self.problems.setdefault(line, []).append((self._sheet_columns[i], problem))
        return [_in_gbk(v) if _NOT_UTF8.search(v) else v for v in values]

    def _repeats_header(self, values: list[str], line) -> bool:
        """Whether the row is the header again (two lists pasted one under the other, a header on each
        printed page): its line kept in `repeated`, for the command to tell."""
        at = self._header_at
        if at >= len(values) or values[at].strip() not in self._header_names:
            return False
        cells = [v.strip() for v in values]
        while cells and not cells[-1]:
            cells.pop()
        if cells == self._header_cells:
            self.repeated.append(line)
            return True
        if sorted(c for c in cells if c) == sorted(n for n in self._header_cells if n):
            # the same header in another column order: its rows would be read into the wrong columns
            raise BadInput("csv.header_reordered", file=self.file, line=line)
        return False

    def _whole_row(self, values: list[str]) -> bool:
        """Whether the row fills every required column: a row of the list, whatever its first cell says
        (a people's list whose first column is the post: 村委会主任 is no line to sign)."""
        at = self._required_at
        return bool(at) and all(i < len(values) and values[i] and values[i].strip() for i in at)

    def _row(self, columns: list[str], values: list[str], line: int | str) -> dict[str, str]:
        self._refuse_past_header(values, columns, line)
        return dict(zip(columns, values))

    def _refuse_past_header(self, values: list[str], columns: list[str], line) -> None:
        """Cells past the header's columns: which column they belong to is unknown."""
        if len(values) > len(columns) and any(v.strip() for v in values[len(columns):]):
            raise BadInput("csv.long_row", file=self.file, line=line, columns=len(columns))

    def _lacking_all(self) -> BadInput:
        if not self.required and self.any_of:        # one of them would do: said so
            found = [n.strip() for n in self._first_names if n and n.strip()]
            columns = Codes("field", tuple(self.labels.get(c, c) for c in sorted(self.any_of)))
            if self._is_data(found):
                return BadInput("csv.no_header_one_of", file=self.file, columns=columns)
            return BadInput("csv.columns_one_of", file=self.file, found=_shown(found) or "-", columns=columns)
        return self.missing_columns(self.required, self._first_names)

    def missing_columns(self, missing, names: list[str] | None = None) -> BadInput:
        """A required column missing, the headers found named (the first HEADERS_SHOWN, each cut to
        40 characters): what the file calls it may be a name we do not know yet. A first row that is a
        row of data (the header row deleted) is said to be one, nothing of it shown: its cells are a
        household's name and ID number."""
        found = [n.strip() for n in (self.headers if names is None else names) if n and n.strip()]
        missing = Codes("field", tuple(self.labels.get(c, c) for c in missing))     # named as the reader's headers
        if not found:
            return BadInput("csv.columns", file=self.file, missing=missing)
        if self._is_data(found):
            return BadInput("csv.no_header", file=self.file, missing=missing)
        return BadInput("csv.columns_found", file=self.file, missing=missing, found=_shown(found))

    def _is_data(self, cells: list[str]) -> bool:
        """Whether a row taken for the header is a row of data: a cell holding an ID number, a code, a
        phone or an account (_LONG_DIGITS), or no cell a column known here while a cell after the first
        is a number or a date."""
        if any(_LONG_DIGITS.search(c) for c in cells):
            return True
        known = set(self.aliases.values()) | set(self.aliases) | set(self.required) | self.any_of
        return not any(self._key(c) in known for c in cells) and any(_VALUE.fullmatch(c) for c in cells[1:])

    def _workbook(self) -> Iterator:
        sheets = self._workbook_sheets()
        first = True
        for name, rows in sheets:
            if name in self._hidden_sheets():     # hidden (a backup copy, a lookup list): not the list
                self.hidden.append(name)
                continue
            found = self._find_header(_cell_texts(row) for row in rows)
            if found is None:          # a sheet naming none of the columns: notes, not households
                self.passed_over.append(name)
                continue
            line, names = found
            columns = self._header(names)
            if first:
                first_sheet = name
                yield columns
            else:
                self._same_columns(name, first_sheet)
            yield from self._sheet_rows(rows, columns, "" if first else f"{name}!", line + 1)
            first = False
        if first:
            raise self._lacking_all()

    def _same_columns(self, sheet: str, first: str) -> None:
        """A later sheet has the first one's columns, in any order; a column missing or added is
        refused, named as each sheet names it."""
        mine = dict(zip(self._sheet_columns, self._sheet_headers))
        firsts = dict(zip(self.columns, self.headers))
        missing = [h for c, h in firsts.items() if h and c not in mine]
        extra = [h for c, h in mine.items() if h and c not in firsts]
        said = {"missing": Codes("field", tuple(missing)), "extra": Codes("field", tuple(extra))}
        if missing and extra:
            differences = Msg("csv_sheet.lacks_and_adds", said)
        elif missing or extra:
            differences = Msg("csv_sheet.lacks", said) if missing else Msg("csv_sheet.adds", said)
        else:
            return
        raise BadInput("csv.sheet_columns", file=self.file, sheet=sheet, first=first, differences=differences)

    def _sheet_rows(self, rows, columns: list[str], prefix: str, start: int) -> Iterator:
        for number, values in enumerate(rows, start=start):
            line = f"{prefix}{number}" if prefix else number
            texts = _cell_texts(values, self, line)
            if _CONTROL.search("".join(texts)):
                texts = self._unreadable(texts, line)
            if self._repeats_header(texts, line):
                continue
            # a row whose only cells are formulas with no result (`problems`) is told, not passed over as empty
            if (any(texts) or line in self.problems) and not self._total(texts, line):
                self._refuse_past_header(texts, columns, line)
                yield line, dict(zip(columns, texts + [""] * (len(columns) - len(texts))))
            elif self.problems:
                self.problems.pop(line, None)     # a totals row's (=SUM(…) with no result): passed over with it

    def _hidden_sheets(self) -> set[str]:
        if self._streamed is not None:
            return self._streamed.hidden
        return self._calamine_hidden

    _calamine_hidden: set[str] = frozenset()

    def _workbook_sheets(self) -> Iterator[tuple[str, Iterator]]:
        """(name, rows) of each sheet: an .xlsx streamed, an .xls or .ods loaded a sheet at a time (an
        .xls sheet holds at most 65,536 rows)."""
        kind = "xls" if self.is_xls else _zipped_kind(self._raw)
        if kind == "xlsx":
            from entrypoints.cli.workbook import Workbook, WorkbookError
            self._streamed = Workbook(self.file)
            yield from _told(self._streamed.sheets(), self.file, WorkbookError)
            return
        if kind == "ods" and self.size > WHOLE_SHEET_BYTES:     # read whole, a sheet in memory
            raise BadInput("csv.ods_too_large", file=self.file, mb=WHOLE_SHEET_BYTES // 2**20)
        if kind not in ("xls", "ods"):                             # a zip of something else
            raise BadInput("csv.workbook", file=self.file)
        import python_calamine
        try:
            # python-calamine picks its reader by the file's name: one named as another kind (an .xls or
            # an .ods saved as .xlsx) is given it by content, which it tells (a name it does not know, too)
            if os.path.splitext(self.file)[1].lower() in CALAMINE_NAMES - KIND_NAMES[kind]:
                self._raw.seek(0)
                book = python_calamine.CalamineWorkbook.from_filelike(self._raw)
            else:
                book = python_calamine.CalamineWorkbook.from_path(self.file)
        except Exception:
            raise BadInput("csv.workbook", file=self.file) from None
        try:
            self._calamine_hidden = {m.name for m in book.sheets_metadata if m.visible != python_calamine.SheetVisibleEnum.Visible}
        except Exception:
            self._calamine_hidden = set()
        try:                               # damaged past its directory: any of its errors, reading a sheet
            yield from _told(((name, book.get_sheet_by_name(name).iter_rows()) for name in book.sheet_names),
                             self.file, Exception)
        finally:
            book.close()

    def inexact(self, line, index: int) -> BadInput | None:
        """A number too long to be exact in a column read: the file's refusal, or (`row_problems`) the
        row's problem, kept (None returned). In a column not read it does not matter."""
        if index not in self.read_columns:
            return None
        if self.row_problems:
            self.problems.setdefault(line, []).append((self._sheet_columns[index], BadInput("import.inexact_number")))
            return None
        return BadInput("csv.inexact_number", file=self.file, line=line, column=self._header_of(index))

    def number_cell(self, line, index: int) -> None:
        column = self._sheet_columns[index] if index < len(self._sheet_columns) else None
        if column in self.codes:
            self.numbers.setdefault(line, []).append(column)

    def numbers_of(self, line) -> list[str]:
        """The code columns (`codes`) whose cell in the row at `line` is a number in the workbook (taken)."""
        return self.numbers.pop(line, []) if self.numbers else []

    def problems_of(self, line) -> list:
        """The problems of the row at `line` the reader found in its cells (taken: memory stays flat)."""
        return self.problems.pop(line, []) if self.problems else []

    def error_cell(self, line, index: int, value: str) -> BadInput | None:
        if value == "" and self.row_problems:    # workbook.NoResult: the row's problem, kept (None returned)
            self.problems.setdefault(line, []).append((self._sheet_columns[index], BadInput("import.formula_no_result")))
            return None
        if value == "":        # workbook.NoResult: a formula the file holds no result of
            return BadInput("csv.formula_no_result", file=self.file, line=line, column=self._header_of(index))
        return BadInput("csv.error_cell", file=self.file, line=line, column=self._header_of(index), value=value)

    def _header_of(self, index: int) -> str:
        """A column of the sheet being read, as it names it."""
        return self._sheet_headers[index] if index < len(self._sheet_headers) else str(index + 1)


def _shown(headers: list[str]) -> str | Msg:
    """Headers found, as a message names them: the first HEADERS_SHOWN, each cut as a value quoted from
    the file is (clipped), no control character in them, and how many more there are."""
    shown = "，".join(_clipped(h) for h in headers[:HEADERS_SHOWN])
    more = len(headers) - HEADERS_SHOWN
    return Msg("sheet_words.more", {"names": shown, "more": more}) if more > 0 else shown


def _in_gbk(value: str) -> str:
    """A cell of a row that is not UTF-8 (its bytes kept by surrogateescape) read as GB18030, as such a
    row was saved most often: its other cells are read as they are, none told for its garbling, and
    the file of bad rows holds it as the cadre typed it."""
    return value.encode("utf-8", errors="surrogateescape").decode("gb18030", errors="replace")


def _clipped(text: str) -> str:
    return clipped(_NOT_UTF8.sub("\ufffd", _CONTROL.sub("", text)))


def clipped(text: str) -> str:
    """A text quoted from the file (a cell's value, a header) cut to QUOTED_CHARS characters and "…"."""
    return text[:QUOTED_CHARS] + "…" if len(text) > QUOTED_CHARS else text


def not_a_sheet(file: str, head: bytes) -> BadInput | None:
    """A PDF or a photo (a scan of the list, by its first bytes, whatever its name) is said to be no
    spreadsheet: read as a CSV it had been a file "missing columns" whose header was `%PDF-1.4`. So is
    a web page (HTML: what old systems export as an ".xls") or an XML file, with how to make it a
    workbook: read as a CSV, its one line had been echoed whole as "the headers found", every row's
    names and ID numbers in it."""
    kind = scan_kind(head)
    if kind is not None:
        return BadInput("csv.not_a_sheet", file=file, kind=kind.upper())
    if _JSON.match(head.removeprefix(codecs.BOM_UTF8).lstrip()):
        return BadInput("csv.json_file", file=file)
    kind = markup_kind(head)
    if kind == "html":
        return BadInput("csv.html_page", file=file)
    if kind == "xml_sheet":
        return BadInput("csv.xml_sheet", file=file)
    return None if kind is None else BadInput("csv.xml_file", file=file)


def markup_kind(head: bytes) -> str | None:
    """"html" (a web page or a bare table), "xml_sheet" (Excel 2003's XML spreadsheet), "xml" (another
    XML file) or None, from a file's first bytes past a BOM and blanks (in UTF-16 too)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()[:SCAN_HEAD].lower()
    if not text.startswith(b"<"):
        return None
    if text.startswith(b"<?xml") and b"schemas-microsoft-com:office:spreadsheet" in text:
        return "xml_sheet"                    # its sheets are <Table>s too
    if text.startswith(b"<!doctype html") or b"<html" in text or b"<table" in text:
        return "html"
    return "xml" if text.startswith(b"<?xml") else None


def _not_text(file: str, head: bytes) -> BadInput | None:
    """UTF-16 text (Excel's "Unicode text": a BOM, or every other byte a NUL) or a binary file (NULs
    throughout: a damaged file or another program's) is no CSV we read: said so, with how to save it;
    read as one, its NULs had been echoed as "the headers found". A NUL or two is a cell's problem."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return BadInput("csv.utf16", file=file)
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if max(even, odd) < max(8, len(head) // 40):        # a NUL in a cell or two
        return None
    if min(even, odd) * 8 < max(even, odd):          # NULs beside ASCII characters, on one side only
        return BadInput("csv.utf16", file=file)
    return BadInput("csv.binary", file=file)


def _size(fh) -> int:
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    return size


def _delimiter(head: bytes, encoding: str) -> str:
    """The delimiter of a list file: of a comma, a tab and a semicolon, the one most often found on
    one of its first lines (a title row above the header may hold none); a comma if none is."""
    text = head.decode(encoding, errors="ignore")
    lines = text.splitlines()[:HEADER_ROWS]
    if len(head) == SNIFF and len(lines) > 1:
        lines = lines[:-1]                        # the last may be cut short
    counts = {d: max((line.count(d) for line in lines), default=0) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])     # the first of the most found: a comma in a tie
    return best if counts[best] else ","


def _encoding(head: bytes) -> str:
    """UTF-8 (a BOM dropped) when the file's start decodes as UTF-8, or when most of its lines that are
    not plain ASCII do (a UTF-8 list with a row pasted from a GBK one: read as UTF-8, that row told as
    its problem, rather than every other name garbled as GBK), else GB18030 (a superset of GBK: a line
    of Chinese text in GBK is hardly ever UTF-8 too)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    lines = head.split(b"\n")
    if len(head) == SNIFF and len(lines) > 1:
        lines = lines[:-1]                        # the last may be cut short
    utf8 = other = 0
    for line in lines:
        if not line.isascii():
            try:
                line.decode("utf-8")
                utf8 += 1
            except UnicodeDecodeError:
                other += 1
    return "utf-8-sig" if utf8 > other else "gb18030"


def _cut_short(raw, size: int, encoding: str) -> bool:
    """Whether the file ends inside a character (a copy or a transfer that did not finish): its last
    line decodes but for its end."""
    raw.seek(max(0, size - SCAN_HEAD))
    tail = raw.read()
    if b"\n" in tail:
        tail = tail[tail.rindex(b"\n") + 1:]     # a line starts on a character (in GBK too)
    elif size > SCAN_HEAD:
        return False                              # a long last line: where its characters start is unknown
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        decoder.decode(tail, final=False)
    except UnicodeDecodeError:                    # a byte of another encoding (a row's problem), not an end
        return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return True
    return False


def needs_mark(value: str) -> bool:
    """Whether a text is marked as text in a CSV (parsing.spreadsheet_text): one a spreadsheet would
    run as a formula, and one that starts with the mark itself, so that every mark reads back off."""
    return value.startswith(FORMULA_START) or value.startswith("'")


def unmarked(value: str) -> str:
    """A cell as it was before parsing.spreadsheet_text marked it."""
    return value[1:] if value[:1] == "'" and needs_mark(value[1:]) else value


def _next(reader, file: str, line: int) -> list[str] | None:
    """The next record, or None at the end; a malformed one (a cell over csv's limit, a NUL byte) is
    refused with its line."""
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error:
        raise BadInput("csv.bad_line", file=file, line=line) from None


def _told(sheets: Iterator, file: str, damage) -> Iterator:
    """A workbook's sheets, each one's rows too: a workbook found damaged on the way (its reader raises
    `damage`) is refused in words."""
    try:
        for name, rows in sheets:
            yield name, _told_rows(rows, file, damage)
    except damage:
        raise BadInput("csv.workbook", file=file) from None


def _told_rows(rows: Iterator, file: str, damage) -> Iterator:
    try:
        yield from rows
    except damage:
        raise BadInput("csv.workbook", file=file) from None


def _cell_texts(values, sheet: Sheet | None = None, line=None) -> list[str]:
    """A workbook row's cells as text; once the header is known, a number too long to be exact is
    refused (by the sheet, with its line and column): a float, or an int as some writers put it in the
    XML (python-calamine reads that as a float too); so is an error cell (#N/A) in a column read."""
    texts = []
    for i, value in enumerate(values):
        if sheet is not None and type(value) in (float, int) and abs(value) >= EXACT_DIGITS:
            refused = sheet.inexact(line, i)
            if refused is not None:
                raise refused
            if i in sheet.read_columns:     # the row's problem: its text as a spreadsheet shows such a number
                texts.append(f"{value:.5E}")   # (3.62131E+17), never digits it does not hold (a bad-rows file
                continue                       # wrote 362131198309163520, an ID number that looked whole)
        if sheet is not None and sheet.codes and type(value) in (float, int) and i in sheet.read_columns:
            sheet.number_cell(line, i)
        # an error cell: a str of a subclass, workbook.CellError (not imported here: its module imports
        # openpyxl's helpers, which a CSV file does not need)
        if sheet is not None and type(value) is not str and isinstance(value, str) and i in sheet.read_columns:
            refused = sheet.error_cell(line, i, value)
            if refused is not None:
                raise refused
        texts.append(cell_text(value))
    return texts


# An OpenDocument workbook (.ods) is read a sheet at a time by python-calamine, whole: about 20 MB of
# memory a MB of file. Past this, it is refused with what to do (save it as .xlsx, which streams).
WHOLE_SHEET_BYTES = 2 * 1024 * 1024


def _zipped_kind(raw) -> str:
    """What a zipped workbook is: "xlsx" (an Office Open XML package, .xlsx or .xlsm, which
    entrypoints/cli/workbook.py streams; a damaged zip too, which it refuses in words), "ods" (an
    OpenDocument spreadsheet, for python-calamine) or "other"."""
    import zipfile
    try:
        with zipfile.ZipFile(raw) as package:
            if "[Content_Types].xml" in package.NameToInfo:
                kind = "xlsx"
            elif "mimetype" in package.NameToInfo and package.read("mimetype")[:60].startswith(ODS_TYPE):
                kind = "ods"
            else:
                kind = "other"
    except Exception:                     # not a zip zipfile can read (any of its errors)
        kind = "xlsx"
    raw.seek(0)
    return kind


ODS_TYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# The names python-calamine reads as one kind of workbook or another (any other name: by its content),
# and those of each kind it is given here
CALAMINE_NAMES = frozenset((".xls", ".xla", ".xlsx", ".xlsm", ".xlam", ".xlsb", ".ods"))
KIND_NAMES = {"xls": frozenset((".xls", ".xla")), "ods": frozenset((".ods",))}


def cell_text(value: Any) -> str:
    """A cell as the text a person sees: 18-digit ID numbers must be stored as text in the sheet."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value).strip()
