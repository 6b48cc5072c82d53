"""An Excel workbook (.xlsx) read as it streams, one row at a time whatever the sheet's size; and an
export written as it streams (`write_workbook`, at the end).

openpyxl's read-only mode streams too, but spends about 110 µs of Python on a registry's row (it
builds a cell object per cell from an ElementTree element); a city's registry of 3,000,000 member
rows took six minutes to read before any check. Here the sheet's XML goes through the standard
library's expat parser (C) with three small handlers, about 19 µs a row, in constant memory (the
rows of one 64 KB chunk of XML at a time). The values are the ones openpyxl's
`iter_rows(values_only=True)` gives, with openpyxl's own helpers for what is subtle: which number
formats are dates (`is_date_format`, `is_timedelta_format`) and an Excel serial as a date
(`from_excel`, the 1900 and 1904 systems). tests/test_workbook_reader.py holds the two readers to
the same values.

- the sheets in the workbook's order, by their relationships (chart sheets have no rows);
- strings: shared (their runs joined, phonetic guides left out, as openpyxl's `Text.content`),
  inline, and a formula's cached text; a formula without a cached value (no `<v>`, or an empty `<v/>`
  as openpyxl writes it, in a cell not of text) is a `NoResult` (openpyxl's `data_only` reads None,
  the empty cell it is not: an import says the file holds no result);
  what XML cannot hold, escaped `_xHHHH_` (a carriage return), read as its character as Excel and
  python-calamine (which reads .xls and .ods workbooks) read it, where openpyxl leaves the escape;
- numbers: int unless the text has a point or an exponent; a date format's number as a datetime
  (a time, a timedelta); booleans as bool, errors as their text ("#N/A", a `CellError`), ISO dates (`t="d"`);
- positions from the cells' and rows' references (`C5`), else one after the last: a row or a cell
  left out is None, so row numbers are the ones Excel shows; a cell written out of order stays in
  its column;
- built-in formats 27-36 and 50-58, the dates a Chinese, Japanese or Korean Excel writes without
  naming their format, are dates (as python-calamine reads them; openpyxl does not).

What Excel cannot hold is refused as a damaged workbook before it takes memory: a row past
1,048,576, a column past XFD, a cell's text past 65,536 characters, shared strings past 512 MB, a
document type (whose entities could grow a few bytes into gigabytes). So is anything else found
damaged on the way (a part missing, a zip entry cut short or compressed in a way zipfile cannot
read): `WorkbookError`, which the reader of list files turns into words.

The shared strings (every distinct text of the workbook, as Excel saves it) are kept as one block
of UTF-8 with an array of offsets: about 20 bytes a string against openpyxl's list of str (about
75), which for a city's registry saved by Excel (names and ID numbers all distinct) is the
difference between 80 and 300 MB.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from array import array
from datetime import date, datetime
from decimal import Decimal
from itertools import accumulate, chain, islice
from typing import Any, Callable, Iterator
from xml.etree import ElementTree
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601, to_excel

CHUNK = 1 << 16
_MAIN = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
_RELATIONSHIP_ATTR = ("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
                      "{http://purl.oclc.org/ooxml/officeDocument/relationships}id")
_SEP = "}"


# What a damaged or foreign file raises on the way: a part missing or not XML, a zip entry cut short, a
# shared string's number past the table, a cell reference or number that is not one.
_BROKEN = (KeyError, IndexError, ValueError, AttributeError, EOFError, zlib.error, zipfile.BadZipFile,
           ElementTree.ParseError, expat.ExpatError, OSError, RuntimeError, NotImplementedError, OverflowError)
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384      # Excel's limits (XFD1048576)
CJK_DATE_IDS = {*range(27, 37), *range(50, 59)}  # built-in East Asian date ids, as python-calamine reads them


class WorkbookError(Exception):
    """The file is not a workbook this reader can read (the caller says so in words)."""


class CellError(str):
    """An error cell's text (#N/A, #REF!, #VALUE!…, `t="e"`): a formula that gave no value. Equal to its text,
    as openpyxl reads it; told apart from a cell holding that text, so that a reader can refuse it."""


class NoResult(CellError):
    """A formula whose result the file does not hold (a program wrote the formula and no spreadsheet
    computed it): an empty text, told apart from an empty cell, so that a reader can say so."""


def sheets(path: str) -> Iterator[tuple[str, Iterator[list[Any]]]]:
    """(name, rows) of each worksheet in the workbook's order; each row a list of values (None for an
    empty cell), starting at column A. Read one sheet after the other, each once."""
    return Workbook(path).sheets()


class Workbook:
    """A workbook being streamed, and how far: `fraction()` of its sheets' XML read so far."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.read = 0           # bytes of the sheets' XML parsed so far
        self.total = 0          # of all its sheets
        self.hidden: set[str] = set()   # the names of its hidden sheets (known once `sheets` has begun)

    def fraction(self) -> float:
        return min(1.0, self.read / self.total) if self.total else 0.0

    def sheets(self) -> Iterator[tuple[str, Iterator[list[Any]]]]:
        try:
            book = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError) as exc:
            raise WorkbookError(str(exc)) from None
        with book:
            try:
                found, strings_part, styles_part, epoch, self.hidden = _workbook(book)
                strings = _shared_strings(book, strings_part) if strings_part else _Strings()
                dates, durations = _date_styles(book, styles_part) if styles_part else (set(), set())
                sizes = [book.getinfo(part).file_size for _name, part in found]
            except _BROKEN as exc:
                raise WorkbookError(str(exc)) from None
            self.total = sum(sizes)
            for (name, part), before in zip(found, accumulate([0] + sizes)):
                self.read = before          # a sheet passed over before its end counts whole
                yield name, _SheetReader(book, part, strings, dates, durations, epoch).rows(self._advance)
            self.read = self.total

    def _advance(self, count: int) -> None:
        self.read += count


# --- the workbook's parts ------------------------------------------------------------------------

def _local(tag: str) -> str:
    return tag.rsplit(_SEP, 1)[-1]


def _workbook(book: zipfile.ZipFile) -> tuple[list[tuple[str, str]], str | None, str | None, datetime, set[str]]:
    """The worksheets (name, part), the shared strings' and styles' parts, the date system's epoch, the
    names of the hidden sheets (state hidden or veryHidden)."""
    main = _main_part(book)
    folder = posixpath.dirname(main)
    rels = _relationships(book, posixpath.join(folder, "_rels", posixpath.basename(main) + ".rels"), folder)
    root = _small_part(book, main)
    epoch = CALENDAR_WINDOWS_1900
    found, hidden = [], set()
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "workbookPr" and element.get("date1904") in ("1", "true"):
            epoch = CALENDAR_MAC_1904
        elif tag == "sheet":
            rel = next((element.get(a) for a in _RELATIONSHIP_ATTR if element.get(a)), None)
            kind, part = rels.get(rel, ("", ""))
            if kind == "worksheet":
                found.append((element.get("name", ""), part))
                if element.get("state") in ("hidden", "veryHidden"):
                    hidden.add(element.get("name", ""))
    by_kind = {kind: part for kind, part in rels.values()}
    return found, by_kind.get("sharedStrings"), by_kind.get("styles"), epoch, hidden


def _main_part(book: zipfile.ZipFile) -> str:
    """The workbook part, as the package's relationships name it (xl/workbook.xml as a rule)."""
    for kind, part in _relationships(book, "_rels/.rels", "").values():
        if kind == "officeDocument":
            return part
    return "xl/workbook.xml"


def _relationships(book: zipfile.ZipFile, rels_part: str, folder: str) -> dict[str, tuple[str, str]]:
    """Id -> (the kind's last word, the target's part name)."""
    try:
        root = _small_part(book, rels_part)
    except KeyError:
        return {}
    found = {}
    for element in root:
        target = element.get("Target", "")
        if element.get("TargetMode") == "External":
            continue
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        found[element.get("Id")] = (element.get("Type", "").rsplit("/", 1)[-1], part)
    return found


SHARED_STRINGS_BYTES = 512 << 20   # texts and offsets: a city's registry saved by Excel holds some 100 MB
MAX_TEXT = 65_536                  # characters of one cell's or string's text: Excel holds at most 32,767


class _Strings:
    """The shared strings as one block of UTF-8 and their offsets in it."""

    def __init__(self) -> None:
        self.block = bytearray()
        self.ends = array("Q", [0])

    def add(self, text: str) -> None:
        self.block += text.encode()
        if len(self.block) + 8 * len(self.ends) > SHARED_STRINGS_BYTES:
            raise ValueError("shared strings past their limit")
        self.ends.append(len(self.block))

    def __getitem__(self, i: int) -> str:
        if i < 0:
            raise IndexError(i)
        return self.block[self.ends[i]:self.ends[i + 1]].decode()


def _shared_strings(book: zipfile.ZipFile, part: str) -> _Strings:
    strings = _Strings()
    texts: list[str] = []
    state = {"depth_rph": 0, "collect": False}
    names = _names("si", "t", "rPh")

    def start(name, _attrs):
        kind = names.get(name)
        if kind == "t":
            state["collect"] = not state["depth_rph"]
        elif kind == "rPh":
            state["depth_rph"] += 1
        elif kind == "si":
            texts.clear()

    def end(name):
        kind = names.get(name)
        if kind == "t":
            state["collect"] = False
        elif kind == "rPh":
            state["depth_rph"] -= 1
        elif kind == "si":
            strings.add(unescaped("".join(texts)))

    def data(text):
        if state["collect"]:
            texts.append(text)
            if (len(text) > 4096 or len(texts) > 16) and sum(map(len, texts)) > MAX_TEXT:
                raise ValueError("a shared string longer than a cell holds")

    for _count in _chunks(book, part, start, end, data, namespaces=True):
        pass
    return strings


def _date_styles(book: zipfile.ZipFile, part: str) -> tuple[set[int], set[int]]:
    """The cell styles (indexes of cellXfs) whose number format is a date or time, and of those the
    durations ([h]:mm)."""
    root = _small_part(book, part)
    formats = dict(BUILTIN_FORMATS)
    dates, durations = set(), set()
    for element in root.iter():
        if _local(element.tag) == "numFmt":
            formats[int(element.get("numFmtId", "0"))] = element.get("formatCode", "")
    cell_xfs = next((e for e in root.iter() if _local(e.tag) == "cellXfs"), None)
    for i, xf in enumerate(cell_xfs if cell_xfs is not None else ()):
        fmt_id = int(xf.get("numFmtId", "0"))
        code = formats.get(fmt_id) or ("yyyy-mm-dd" if fmt_id in CJK_DATE_IDS else None)
        if code and is_date_format(code):
            dates.add(i)
            if is_timedelta_format(code):
                durations.add(i)
    return dates, durations


def _names(*local: str) -> dict[str, str]:
    """The expat names (namespace}local) of these elements in either spreadsheet namespace, or in
    none (as some writers leave it)."""
    return {f"{ns}{_SEP}{name}": name for ns in _MAIN for name in local} | {name: name for name in local}


SMALL_PART = 16 * 1024 * 1024        # the workbook's list of sheets, its relationships, its styles


def _small_part(book: zipfile.ZipFile, part: str) -> ElementTree.Element:
    """A part read whole (refused past SMALL_PART, or with a document type: see `_no_doctype`)."""
    with book.open(part) as fh:
        data = fh.read(SMALL_PART + 1)
    if len(data) > SMALL_PART:
        raise ValueError(f"{part}: too large")
    check = expat.ParserCreate()
    check.StartDoctypeDeclHandler = _no_doctype
    check.Parse(data, True)
    return ElementTree.fromstring(data)


def _no_doctype(*_args) -> None:
    """No part of a workbook declares a document type: one that does is not a workbook, and its
    entities could make a few bytes expand to gigabytes in the server's memory."""
    raise ValueError("a document type in a workbook's part")


def _chunks(book: zipfile.ZipFile, part: str, start, end, data, namespaces: bool = False) -> Iterator[int]:
    """Feed the part to expat a chunk at a time, pausing after each with its size (for the caller to
    take what the handlers gathered). Without `namespaces`, names come as written (a sheet's, faster)."""
    parser = expat.ParserCreate(namespace_separator=_SEP) if namespaces else expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _no_doctype
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, data
    with book.open(part) as fh:
        while chunk := fh.read(CHUNK):
            parser.Parse(chunk, False)
            yield len(chunk)
        parser.Parse(b"", True)
    yield 0


# --- a sheet's rows --------------------------------------------------------------------------------

class _SheetReader:
    def __init__(self, book, part, strings: _Strings, dates: set[int], durations: set[int], epoch) -> None:
        self.book, self.part, self.strings = book, part, strings
        self.dates, self.durations, self.epoch = dates, durations, epoch

    def rows(self, advance: Callable[[int], None]) -> Iterator[list[Any]]:
        """The sheet's rows (`advance` hears how many bytes of XML each chunk was); the handlers keep
        their state in closures (an attribute costs more at some fifty calls a row)."""
        names: dict[str, str] = {}            # element names as this part spells them -> local names
        done: list[list[Any]] = []            # rows finished in this chunk
        texts: list[str] = []
        value_of, strings = self._value, self.strings
        # the row being read, its number, the last cell's column (1 = A), its type and style, whether
        # text is being collected, and how deep in phonetic guides (rPh) we are
        row: list[Any] = []
        at = [0, 0, "n", None, False, 0, False]     # …, and whether the cell holds a formula

        def start(name, attrs):
            kind = names.get(name)
            if kind is None:
                if not names:          # the root: how its namespaces spell the main one's elements
                    names.update(_spelled(name, attrs))
                return
            if kind == "c":
                ref = attrs.get("r")
                at[1] = _column(ref) if ref else at[1] + 1
                if at[1] > MAX_COLUMN:
                    raise ValueError("a cell past column XFD")
                at[2], at[3], at[6] = attrs.get("t", "n"), attrs.get("s"), False
                texts.clear()
            elif kind == "v" or kind == "t":
                at[4] = not at[5]
                if kind == "t" or at[2] == "str":
                    at[6] = False          # a result, if only an empty text (="" gives <v></v> in a str cell);
                                           # an empty <v/> of any other cell (openpyxl writes one) holds none
            elif kind == "f":
                at[6] = True
            elif kind == "row":
                number = attrs.get("r")
                number = int(number) if number else at[0] + 1
                if not 0 < number <= MAX_ROW:
                    raise ValueError(f"row {number} past Excel's last")
                while at[0] + 1 < number:      # rows left out: empty, so that row numbers hold
                    at[0] += 1
                    done.append([])
                at[0], at[1] = number, 0
                row.clear()
            elif kind == "rPh":
                at[5] += 1

        def end(name):
            kind = names.get(name)
            if kind == "c":
                if not texts and at[6]:        # a formula and no result: not the empty cell it looks like
                    texts.append("")
                    at[2] = "f"
                if texts:
                    text, kind = "".join(texts) if len(texts) > 1 else texts[0], at[2]
                    if kind == "s":          # the two kinds of a registry's every cell, here
                        value = strings[int(text)]
                    elif kind == "inlineStr":
                        value = unescaped(text) if "_x" in text else text
                    else:
                        value = value_of(text, kind, at[3])
                    if value is not None:
                        missing = at[1] - 1 - len(row)
                        if missing >= 0:
                            row.extend([None] * missing)
                            row.append(value)
                        else:                 # a cell written out of order (or twice)
                            row[at[1] - 1] = value
            elif kind == "v" or kind == "t":
                at[4] = False
            elif kind == "row":
                done.append(row[:])
            elif kind == "rPh":
                at[5] -= 1

        def data(text):
            if at[4]:
                texts.append(text)
                if (len(text) > 4096 or len(texts) > 16) and sum(map(len, texts)) > MAX_TEXT:
                    raise ValueError("a cell's text longer than a cell holds")

        try:
            for count in _chunks(self.book, self.part, start, end, data):
                advance(count)
                yield from done
                done.clear()
        except _BROKEN as exc:
            raise WorkbookError(str(exc)) from None

    def _value(self, text: str, kind: str, style: str | None) -> Any:
        """A cell's value from its text, as openpyxl's reader gives it (shared and inline strings,
        most of a registry's cells, are read in `end` itself)."""
        if kind == "n":
            number = float(text) if ("." in text or "e" in text or "E" in text) else int(text)
            if style and int(style) in self.dates:
                try:
                    return from_excel(number, self.epoch, timedelta=int(style) in self.durations)
                except (OverflowError, ValueError):    # past Excel's dates (19690101 typed into a date
                    return number                      # column): the number, as python-calamine reads it
            return number
        if kind == "str":          # a formula's text
            return unescaped(text)
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)
        if kind == "f":            # a formula without its result
            return NoResult()
        return CellError(text)     # "e": an error's text


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescaped(text: str) -> str:
    """A string's characters that XML cannot hold, written `_xHHHH_` (a carriage return `_x000D_`, a
    literal `_x` as `_x005F_x`): read as the character, as Excel and python-calamine read them."""
    return _ESCAPED.sub(_character, text) if "_x" in text else text


def _character(m) -> str:
    code = int(m.group(1), 16)
    return m.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)


_SHEET_ELEMENTS = ("row", "c", "v", "t", "is", "rPh", "f")


def _spelled(root: str, attrs: dict[str, str]) -> dict[str, str]:
    """The sheet's element names as expat gives them, from its root element: without namespace
    processing a name is as written, `c`, or with a prefix bound to the main namespace, `x:c`."""
    prefixes = [key.partition(":")[2] for key, value in attrs.items()
                if key.startswith("xmlns") and value in _MAIN]
    if ":" not in root and "xmlns" not in attrs:
        prefixes.append("")        # no namespace at all: read it as the main one
    return {(f"{p}:{e}" if p else e): e for p in prefixes for e in _SHEET_ELEMENTS} or {"": ""}


def _column(ref: str) -> int:
    """C5 -> 3 (openpyxl's cached conversion; its ValueError past ZZZ or for what is not letters, and
    ours for lower case, which Excel never writes)."""
    letters = ref.rstrip("0123456789")
    if not letters.isupper():
        raise ValueError(f"not a cell reference: {ref[:20]}")
    return column_index_from_string(letters)


# --- writing: a workbook's sheets as they stream -------------------------------------------------------

_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.'
                  'org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                  'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
                  'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                  'sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
                  'officedocument.spreadsheetml.styles+xml"/>{sheets}</Types>')
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-'
               'officedocument.spreadsheetml.worksheet+xml"/>')
_ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
              'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
              'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
              '</Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="http://schemas.openxmlformats.'
             'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
             'relationships"><sheets>{sheets}</sheets></workbook>')
_WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
                  'openxmlformats.org/package/2006/relationships">{sheets}<Relationship Id="rIdStyles" Type="http://'
                  'schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
                  '</Relationships>')
_SHEET_REL = ('<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
              'worksheet" Target="worksheets/sheet{n}.xml"/>')
_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="http://schemas.openxmlformats.'
           'org/spreadsheetml/2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
           '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
           '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
           '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs '
           'count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
           '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
           '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
           '</cellXfs><cellStyles count="1">'
           '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
               b'openxmlformats.org/spreadsheetml/2006/main">')
# The header row stays in view as the rows scroll (Excel's and WPS's 冻结首行)
_FROZEN_HEADER = (b'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
                  b'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>')
WIDTHS = (8, 60)        # a column's width in Excel's characters, at least and at most
_SHEET_TAIL = b"</sheetData></worksheet>"
# What XML cannot hold, and a literal _xHHHH_ (which a reader would take for an escape): written escaped
_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
ROWS_A_WRITE = 1000


def _escaped(match) -> str:
    return f"_x{ord(match.group()):04X}_"


def _string_cell(ref: str, text: str) -> str:
    if _UNWRITABLE.search(text):
        text = _UNWRITABLE.sub(_escaped, text)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text.translate(_XML_TEXT)}</t></is></c>'


def _cell_xml(ref: str, value: Any) -> str:
    """A cell: text as an inline string (never a formula, whatever it starts with), a number (an int,
    a float, a Decimal such as money) as a number when Excel keeps it exactly, a day or a time (a
    date, a datetime without its zone: the office's clock) as Excel's date shown yyyy-mm-dd or
    yyyy-mm-dd hh:mm:ss (its filters group it by year and month, and days are counted from it),
    anything else as its text; None or "" as nothing."""
    kind = type(value)
    if kind is str:
        return _string_cell(ref, value) if value else ""
    if kind is datetime and value.tzinfo is None:
        return f'<c r="{ref}" s="3"><v>{to_excel(value)!r}</v></c>'
    if kind is date:
        return f'<c r="{ref}" s="2"><v>{int(to_excel(value))}</v></c>'
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if kind is int and abs(value) < 10**15:
        return f'<c r="{ref}"><v>{value}</v></c>'
    if kind is float and value == value and abs(value) != float("inf"):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if kind is Decimal and value.is_finite() and len(value.as_tuple().digits) <= 15:   # money, as it is
        return f'<c r="{ref}"><v>{value}</v></c>'
    if value is None:
        return ""
    return _string_cell(ref, str(value))


def write_workbook(path: str, sheets: Iterator[tuple[str, Iterator[tuple]]]) -> None:
    """A workbook at `path` (which the caller has made private), its sheets written as their rows come
    (name, rows): each sheet's XML goes into the zip a thousand rows at a time, strings inline, so
    nothing grows with the rows. A sixth of openpyxl write-only mode's time. Sheet names must be
    unique, at most 31 characters (Excel's limits); a sheet's XML stays under 2 GiB (its zip entry has
    no ZIP64 header, as Excel's own have not: 1,048,575 rows of up to 2 KB of XML)."""
    names: list[str] = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as book:
        for name, rows in sheets:
            names.append(name)
            rows = iter(rows)
            first = list(islice(rows, ROWS_A_WRITE))
            with book.open(f"xl/worksheets/sheet{len(names)}.xml", "w") as out:   # no ZIP64 header: as Excel writes
                out.write(_sheet_head(first))
                _write_rows(out, chain(first, rows))
                out.write(_SHEET_TAIL)
        sheets_xml = "".join(f'<sheet name={quoteattr(n)} sheetId="{i}" r:id="rId{i}"/>'
                             for i, n in enumerate(names, start=1))
        book.writestr("xl/workbook.xml", _WORKBOOK.format(sheets=sheets_xml))
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(
            sheets="".join(_SHEET_REL.format(n=i) for i in range(1, len(names) + 1))))
        book.writestr("xl/styles.xml", _STYLES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("[Content_Types].xml", _CONTENT_TYPES.format(
            sheets="".join(_SHEET_TYPE.format(n=i) for i in range(1, len(names) + 1))))


def _sheet_head(first: list[tuple]) -> bytes:
    """A sheet's start: its first row (the header) frozen, and each column as wide as its widest text
    among the first rows (a Chinese character twice a Latin one's width, as a terminal shows it),
    within WIDTHS: an ID number or a village's name shows whole when the file opens."""
    from rich.cells import cell_len
    widths: dict[int, int] = {}
    for row in first:
        for i, value in enumerate(row):
            if value is not None and value != "":
                widths[i] = max(widths.get(i, 0), cell_len(str(value)))
    cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{min(WIDTHS[1], max(WIDTHS[0], w + 2))}" '
                   f'customWidth="1"/>' for i, w in sorted(widths.items()))
    return (_SHEET_HEAD + (_FROZEN_HEADER if first else b"") + (f"<cols>{cols}</cols>".encode() if cols else b"")
            + b"<sheetData>")


def _write_rows(out, rows: Iterator[tuple]) -> None:
    letters: list[str] = []
    written: list[str] = []
    for number, row in enumerate(rows, start=1):
        while len(letters) < len(row):
            letters.append(get_column_letter(len(letters) + 1))
        cells = "".join([_cell_xml(f"{letter}{number}", value) for letter, value in zip(letters, row)])
        if number == 1:                 # the header, in bold (style 1)
            cells = cells.replace("<c ", '<c s="1" ')
        written.append(f'<row r="{number}">{cells}</row>')
        if len(written) >= ROWS_A_WRITE:
            out.write("".join(written).encode())
            written.clear()
    out.write("".join(written).encode())
