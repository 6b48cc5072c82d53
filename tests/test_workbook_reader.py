"""The streaming workbook reader (entrypoints/cli/workbook.py) reads what openpyxl reads.

A large registry's workbook is read by it instead of openpyxl's read-only mode (four times faster),
so every value a cadre's sheet can hold must come out as openpyxl gives it: strings shared or inline
(runs joined, phonetic guides left out), numbers, dates by their number format in either date
system, booleans, errors, formulas' cached values, cells and rows left out. The app reads values as
the texts `rows._cell_texts` makes of them; both are compared.
"""
from __future__ import annotations

import re
import tracemalloc
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from engine.domain.errors import BadInput
from entrypoints.cli import workbook
from entrypoints.cli.workbook import NoResult, unescaped
from entrypoints.cli.rows import Sheet, cell_text


def calamines(path) -> list[tuple[str, list[list]]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return [(n, [_trimmed(v if v != "" else None for v in r) for r in book.get_sheet_by_name(n).to_python(
            skip_empty_area=False)]) for n in book.sheet_names]
    finally:
        book.close()


def ours(path) -> list[tuple[str, list[list]]]:
    return [(name, [_trimmed(r) for r in found]) for name, found in workbook.sheets(str(path))]


def openpyxls(path) -> list[tuple[str, list[list]]]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [(s.title, [_trimmed(unescaped(v) if type(v) is str else v for v in r)
                           for r in s.iter_rows(values_only=True)]) for s in book.worksheets]
    finally:
        book.close()


def _trimmed(row) -> list:
    """A row without its trailing empty cells (openpyxl pads every row to the sheet's width)."""
    row = list(row)
    while row and row[-1] is None:
        row.pop()
    return row


def _without_trailing_empty_rows(sheets):
    out = []
    for name, found in sheets:
        while found and not found[-1]:
            found = found[:-1]
        out.append((name, found))
    return out


def refusal(path) -> str:
    """What reading the file as a list with a `name` column is refused with."""
    with pytest.raises(BadInput) as refused:
        with Sheet(str(path), ["name"]) as found:
            list(found)
    return refused.value.code


def texts_of(sheets) -> list:
    """As the app reads them (`rows.cell_text`: an integral float as an int, a date as its day)."""
    texts = [(n, [_trimmed(cell_text(v) or None for v in r) for r in found]) for n, found in sheets]
    return [(n, [[v or "" for v in r] for r in found]) for n, found in _without_trailing_empty_rows(texts)]


def assert_read_alike(path, calamine: bool = True) -> None:
    """Our values are openpyxl's (whose `_xHHHH_` escapes are read as their characters, which
    openpyxl does not do), and as the app reads them python-calamine's (the reader of .xls and .ods,
    and of every .xlsx until stop 27: a workbook must import as the same list saved another way would)."""
    found = ours(path)
    # a formula without its result: ours a NoResult, openpyxl's None (data_only: the empty cell it is not)
    as_openpyxl = [(n, [_trimmed(None if type(v) is NoResult else v for v in r) for r in rows]) for n, rows in found]
    assert _without_trailing_empty_rows(as_openpyxl) == _without_trailing_empty_rows(openpyxls(path))
    if calamine:
        assert texts_of(found) == texts_of(calamines(path))


def assert_same_with_shared_strings(path: Path) -> None:
    """The workbook saved with a shared strings table reads as it does with inline strings, and as
    python-calamine reads it. (Not compared with openpyxl: it reads a shared string "x005F_" as "".)"""
    shared = as_shared_strings(path)
    with zipfile.ZipFile(shared) as book:
        assert not any(b"inlineStr" in book.read(n) for n in book.namelist() if n.startswith("xl/worksheets/"))
    assert texts_of(ours(shared)) == texts_of(ours(path))      # an empty shared string is "", not None
    assert texts_of(ours(shared)) == texts_of(calamines(shared))


def as_shared_strings(path: Path) -> Path:
    """The workbook with its inline strings moved into a shared strings table, as Excel and WPS save
    (openpyxl writes inline strings only)."""
    out = path.with_name("shared-" + path.name)
    table: dict[str, int] = {}

    def shared(match) -> str:
        index = table.setdefault(match.group(2) or "", len(table))
        return f'<c{match.group(1)} t="s"><v>{index}</v></c>'

    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(r'<c([^>]*?) t="inlineStr"(?: ?/>|><is>(.*?)</is></c>)', shared, data.decode(), flags=re.S).encode()
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", f'<Relationship Id="rIdSst" Type="{R}/sharedStrings" '
                                    'Target="sharedStrings.xml"/></Relationships>'.encode())
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            dst.writestr(item, data)
        dst.writestr("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst xmlns="{MAIN}">'
                     + "".join(f"<si>{si}</si>" for si in table) + "</sst>")
    return out


# --- any values, as openpyxl writes them -------------------------------------------------------------

texts = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n _x005F_&<>\"'"),
                max_size=12)
values = st.one_of(
    st.none(), texts, st.integers(-10**15, 10**15), st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(), st.dates(date(1901, 1, 1), date(2099, 12, 31)),
    st.datetimes(datetime(1901, 1, 1), datetime(2099, 12, 31)).map(lambda d: d.replace(microsecond=0)),
    st.sampled_from(["362131195001010005", "户主", "配偶", "360730100201", "  前后有空格  ", "=1+1",
                    "a_x005F_b", "行_x000D_尾", "3.14", "1E5"]),
)
grids = st.lists(st.lists(values, max_size=6), max_size=8)


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sheets=st.lists(grids, min_size=1, max_size=3), write_only=st.booleans())
def test_any_values_read_as_openpyxl_reads_them(tmp_path_factory, sheets, write_only):
    """Inline strings (as openpyxl and most systems' exports write) and shared strings (as Excel and
    WPS save), several sheets, any mix of values and empty cells."""
    path = tmp_path_factory.mktemp("book") / "any.xlsx"
    book = openpyxl.Workbook(write_only=write_only)
    if not write_only:
        book.remove(book.active)
    for i, grid in enumerate(sheets):
        sheet = book.create_sheet(f"表{i + 1}")
        for row in grid:
            sheet.append(row)
    book.save(path)
    assert_read_alike(path)
    assert_same_with_shared_strings(path)


def test_rich_text_dates_times_durations_formulas_and_gaps(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "名单"
    sheet["A1"] = CellRichText(["户主", TextBlock(InlineFont(b=True), "张三"), "丰"])
    sheet["C1"] = datetime(2019, 3, 1, 8, 30)
    sheet["D1"] = date(1969, 12, 31)
    sheet["E1"] = time(7, 15)
    sheet["F1"] = timedelta(hours=30)
    sheet["F1"].number_format = "[h]:mm:ss"
    sheet["G1"] = 43525
    sheet["G1"].number_format = "yyyy\"年\"m\"月\"d\"日\""       # a custom date format (2019年3月1日)
    sheet["H1"] = "=SUM(1,2)"                                      # no cached value: NoResult (data_only: None)
    sheet["B4"] = 3.5                                              # rows 2 and 3 left out
    sheet["Z4"] = True
    book.create_sheet("说明")["A1"] = "填表说明"
    path = tmp_path / "rich.xlsx"
    book.save(path)
    assert_read_alike(path)
    assert_same_with_shared_strings(path)
    found = dict(ours(path))
    assert list(found) == ["名单", "说明"]
    assert found["名单"][0][:4] == ["户主张三丰", None, datetime(2019, 3, 1, 8, 30), datetime(1969, 12, 31)]
    assert found["名单"][0][6] == datetime(2019, 3, 1) and type(found["名单"][0][7]) is NoResult
    assert found["名单"][1:3] == [[], []] and found["名单"][3] == [None, 3.5] + [None] * 23 + [True]


# --- what other systems write: hand-made parts ----------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def hand_made(path: Path, sheet_xml: str, shared: str | None = None, styles: str | None = None,
              date1904: bool = False) -> Path:
    rels = [f'<Relationship Id="rId1" Type="{R}/worksheet" Target="worksheets/sheet1.xml"/>']
    if shared is not None:
        rels.append(f'<Relationship Id="rId2" Type="{R}/sharedStrings" Target="sharedStrings.xml"/>')
    if styles is not None:
        rels.append(f'<Relationship Id="rId3" Type="{R}/styles" Target="/xl/styles.xml"/>')
    types = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'spreadsheetml.sheet.main+xml"/>'
             '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
             'officedocument.spreadsheetml.worksheet+xml"/>'
             + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.sharedStrings+xml"/>' if shared is not None else '')
             + ('<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.styles+xml"/>' if styles is not None else '')
             + '</Types>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="rId1" Type="{R}/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{R}">'
                   + ('<workbookPr date1904="1"/>' if date1904 else '')
                   + '<sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   f'openxmlformats.org/package/2006/relationships">{"".join(rels)}</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", shared)
        if styles is not None:
            z.writestr("xl/styles.xml", styles)
    return path


STYLES = (f'<?xml version="1.0"?><styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="176" '
          'formatCode="yyyy/mm/dd"/></numFmts><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="176"/>'
          '<xf numFmtId="49"/></cellXfs></styleSheet>')


def test_prefixed_namespace_cells_without_references_and_every_cell_type(tmp_path):
    """As .NET's Open XML SDK writes (an `x:` prefix), with cells and rows that give no reference."""
    sheet = (f'<?xml version="1.0"?><x:worksheet xmlns:x="{MAIN}"><x:sheetData>'
             '<x:row><x:c t="s"><x:v>0</x:v></x:c><x:c t="s"><x:v>1</x:v></x:c><x:c t="inlineStr"><x:is>'
             '<x:t xml:space="preserve"> 身份证号 </x:t></x:is></x:c></x:row>'
             '<x:row r="3"><x:c r="B3" t="str"><x:f>A1&amp;""</x:f><x:v>李四</x:v></x:c>'
             '<x:c t="e"><x:v>#N/A</x:v></x:c><x:c t="b"><x:v>0</x:v></x:c>'
             '<x:c t="d"><x:v>2019-03-01T00:00:00Z</x:v></x:c><x:c s="1"><x:v>43525</x:v></x:c>'
             '<x:c s="2"><x:v>1.5E3</x:v></x:c><x:c><x:f>1+1</x:f></x:c><x:c/></x:row>'
             '</x:sheetData></x:worksheet>')
    shared = (f'<?xml version="1.0"?><sst xmlns="{MAIN}"><si><t>户主</t></si><si><r><t>张</t></r><r><rPr><b/></rPr>'
              '<t>三</t></r><rPh sb="0" eb="1"><t>ちょう</t></rPh></si></sst>')
    path = hand_made(tmp_path / "sdk.xlsx", sheet, shared, STYLES)
    found, theirs_openpyxl = ours(path), openpyxls(path)
    assert isinstance(found[0][1][2][7], NoResult)      # `1+1` with no result: openpyxl reads None
    found[0][1][2].pop()
    assert _without_trailing_empty_rows(found) == _without_trailing_empty_rows(theirs_openpyxl)
    # python-calamine reads an error cell as empty and an ISO date cell (t="d", which Excel never
    # writes) as its text; the rest as we do
    (theirs,), (ours_,) = [[rows for _name, rows in texts_of(read(path))] for read in (calamines, ours)]
    assert (theirs[2][2], theirs[2][4]) == ("", "2019-03-01T00:00:00Z")
    assert (ours_[2][2], ours_[2][4]) == ("#N/A", "2019-03-01")
    for row in (theirs[2], ours_[2]):
        row[2] = row[4] = None
    assert theirs == ours_
    assert ours(path) == [("花名册", [["户主", "张三", " 身份证号 "], [],
                                      [None, "李四", "#N/A", False, datetime(2019, 3, 1), datetime(2019, 3, 1), 1500.0,
                                       ""]])]


def test_a_formula_the_file_holds_no_result_of_is_refused_as_such_not_read_as_empty(tmp_path):
    """A program that writes formulas (openpyxl, many exports) leaves their results to the spreadsheet
    that opens the file: read as the empty cell it looks like, an ID number column of =VLOOKUP(...)
    was "missing an ID number" on every line. It is refused saying the file holds no result; a
    formula whose result is an empty text (<v></v>) is that text, and one in a column not read is
    passed over like the rest of that column."""
    header = ('<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>备注</t></is></c></row>')
    path = _one_sheet(tmp_path, header + '<row r="2"><c r="A2"><f>VLOOKUP(C2,D:E,2,0)</f></c></row>')
    with pytest.raises(BadInput) as refused:
        with Sheet(str(path), ["name"]) as found:
            list(found)
    assert (refused.value.code, refused.value.params["line"], refused.value.params["column"]) == \
        ("csv.formula_no_result", 2, "name")
    path = _one_sheet(tmp_path, header + '<row r="2"><c r="A2" t="inlineStr"><is><t>张三</t></is></c>'
                                         '<c r="B2"><f>1+1</f></c></row>'
                                         '<row r="3"><c r="A3" t="str"><f>IF(1,"","x")</f><v></v></c>'
                                         '<c r="B3" t="inlineStr"><is><t>空</t></is></c></row>')
    with Sheet(str(path), ["name"]) as found:
        assert [row["name"] for _line, row in found] == ["张三", ""]


def test_a_formula_openpyxl_wrote_holds_no_result_and_is_its_rows_problem_in_an_import(tmp_path):
    """openpyxl (and programs like it) write a formula with an empty value, <f>…</f><v/>: that is no
    result (a number's value is never empty), not an empty cell. A name read as missing, an ID number
    as having 0 digits or a health cell as its default had followed. An import's reader (`row_problems`)
    makes it its row's problem, a row holding nothing else included; a totals row is passed over."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "health", "备注"])
    sheet.append(['=HYPERLINK("http://x","王五")', "健康", "=1+1"])
    sheet.append(["赵六", 'IF(1,"健康","")', None])
    sheet["B3"] = '=IF(1,"健康","")'
    sheet.append([None, "=B3"])
    sheet.append(["合计", "=COUNTA(B2:B4)"])
    path = tmp_path / "program.xlsx"
    book.save(path)
    assert ours(path)[0][1][1] == [NoResult(), "健康", NoResult()]
    with pytest.raises(BadInput) as refused:
        with Sheet(str(path), ["name", "health"]) as found:
            list(found)
    assert (refused.value.code, refused.value.params["line"], refused.value.params["column"]) == \
        ("csv.formula_no_result", 2, "name")
    with Sheet(str(path), ["name", "health"], row_problems=True, skip_totals=True) as found:
        rows = [(line, row, [(column, e.code) for column, e in found.problems_of(line)]) for line, row in found]
        assert found.problems == {} and found.totals == [5]
    assert rows == [(2, {"name": "", "health": "健康", "备注": ""}, [("name", "import.formula_no_result")]),
                    (3, {"name": "赵六", "health": "", "备注": ""}, [("health", "import.formula_no_result")]),
                    (4, {"name": "", "health": "", "备注": ""}, [("health", "import.formula_no_result")])]


def test_the_1904_date_system(tmp_path):
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" s="1"><v>42063</v></c></row></sheetData></worksheet>'
    path = hand_made(tmp_path / "mac.xlsx", sheet, styles=STYLES, date1904=True)
    assert_read_alike(path)
    assert ours(path)[0][1] == [[datetime(2019, 3, 1)]]


@pytest.mark.parametrize("sheet, shared", [
    (f'<worksheet xmlns="{MAIN}"><sheetData><row><c t="s"><v>7</v></c></row></sheetData></worksheet>',
     f'<sst xmlns="{MAIN}"><si><t>only one</t></si></sst>'),                    # a shared string past the table
    (f'<worksheet xmlns="{MAIN}"><sheetData><row><c r="A1"><v>12</v></c><row>', None),      # cut short
    (f'<worksheet xmlns="{MAIN}"><sheetData><row><c r="1A"><v>12</v></c></row></sheetData></worksheet>', None),
    (f'<worksheet xmlns="{MAIN}"><sheetData><row><c><v>twelve</v></c></row></sheetData></worksheet>', None),
])
def test_a_damaged_sheet_is_refused_in_words(tmp_path, sheet, shared):
    """Found on the way through a workbook: the same refusal as a workbook that does not open."""
    path = hand_made(tmp_path / "bad.xlsx", sheet, shared)
    assert refusal(path) == "csv.workbook"


def test_a_sheet_is_read_in_constant_memory(tmp_path):
    """Rows come as the XML is read: 60,000 rows (4 MB of XML) read with under 2 MB held at any time."""
    path = tmp_path / "big.xlsx"
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    for i in range(60_000):
        sheet.append([f"成员{i}", f"3621311950{i:08d}", "户主", i])
    book.save(path)
    tracemalloc.start()
    try:
        count = 0
        for _name, found in workbook.sheets(str(path)):
            for row in found:
                count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 60_000 and row == ["成员59999", "362131195000059999", "户主", 59999]
    assert peak < 2 * 1024 * 1024, peak


def test_a_document_type_is_refused(tmp_path):
    """No workbook part declares a document type; one that does could define entities within
    entities (the "billion laughs") that grow a few bytes into gigabytes. Refused even when its
    entity is small (expat's own limit stops only the large)."""
    doctype = '<!DOCTYPE w [<!ENTITY who "张三">]>'
    for sheet, shared in [
        (f'{doctype}<worksheet xmlns="{MAIN}"><sheetData><row><c t="inlineStr"><is><t>name</t></is></c></row>'
         '<row><c t="inlineStr"><is><t>&who;</t></is></c></row></sheetData></worksheet>', None),
        (f'<worksheet xmlns="{MAIN}"><sheetData><row><c t="inlineStr"><is><t>name</t></is></c></row><row>'
         '<c t="s"><v>0</v></c></row></sheetData></worksheet>', f'{doctype}<sst xmlns="{MAIN}"><si><t>&who;</t></si></sst>'),
    ]:
        path = hand_made(tmp_path / "doctype.xlsx", sheet, shared)
        assert refusal(path) == "csv.workbook"


def test_a_streamed_workbook_tells_how_far_it_is(tmp_path):
    """The progress bar of a county's workbook moves with its rows (it stood at 100% from the start)."""
    path = tmp_path / "county.xlsx"
    book = openpyxl.Workbook(write_only=True)
    for name in ("一", "二"):
        sheet = book.create_sheet(name)
        sheet.append(["name"])
        for i in range(20_000):
            sheet.append([f"成员{i}"])
    book.save(path)
    seen = []
    with Sheet(str(path), ["name"]) as found:
        for n, _row in enumerate(found):
            if n % 4000 == 0:
                seen.append(found.position())
        seen.append(found.position())
    assert seen == sorted(seen) and seen[0] < found.size * 0.2 and seen[-1] == found.size
    assert any(found.size * 0.4 < p < found.size * 0.6 for p in seen)


# --- found by a review: what a Chinese Excel, WPS or a hostile upload puts in a workbook ------------------

def _one_sheet(tmp_path, rows_xml: str, shared: str | None = None, styles: str | None = None) -> Path:
    return hand_made(tmp_path / "review.xlsx", f'<worksheet xmlns="{MAIN}"><sheetData>{rows_xml}</sheetData></worksheet>',
                     shared, styles)


def test_the_east_asian_built_in_date_formats_are_dates(tmp_path):
    """A Chinese Excel's 2019年3月1日 is built-in format 31 (no numFmt in the file): a date, as
    python-calamine reads it, so a birth-date column reads alike saved as .xlsx or as .xls."""
    styles = (f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="50" formatCode="0.00"/></numFmts>'
              '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="31"/><xf numFmtId="50"/></cellXfs></styleSheet>')
    path = _one_sheet(tmp_path, '<row r="1"><c r="A1" s="1"><v>43525</v></c><c r="B1" s="2"><v>43525</v></c></row>',
                      styles=styles)
    assert ours(path)[0][1] == [[datetime(2019, 3, 1), 43525]]      # a redefined id keeps its own format
    assert texts_of(ours(path)) == texts_of(calamines(path))


@pytest.mark.parametrize("rows_xml", [
    '<row r="2000000000"><c><v>1</v></c></row>',                     # a billion empty rows in a few bytes
    '<row r="0"><c><v>1</v></c></row>',
    '<row r="1"><c r="AAAAAAAAAAAAAAAA1"><v>1</v></c></row>',         # past column XFD
    '<row r="1"><c r="XFE1"><v>1</v></c></row>',
    '<row r="1">' + '<c><v>1</v></c>' * 16_385 + '</row>',             # cells without references, past XFD
    '<row r="1"><c t="inlineStr"><is><t>' + "a" * 600_000 + '</t></is></c></row>',   # past a cell's 32,767
])
def test_what_excel_cannot_hold_is_refused_before_it_takes_the_memory(tmp_path, rows_xml):
    path = _one_sheet(tmp_path, rows_xml)
    assert refusal(path) == "csv.workbook"


def test_cells_out_of_order_stay_in_their_columns_and_escapes_are_read_everywhere(tmp_path):
    shared = f'<sst xmlns="{MAIN}"><si><t>张_xD83D__xDE00_三</t></si></sst>'
    path = _one_sheet(tmp_path, '<row r="1"><c r="C1"><v>3</v></c><c r="A1"><v>1</v></c>'
                                '<c r="D1" t="str"><f>A1</f><v>x_x000D_y</v></c><c r="E1" t="s"><v>0</v></c>'
                                '<c r="F1" t="d"><v>12:30:00</v></c></row>', shared)
    assert ours(path)[0][1] == [[1, None, 3, "x\ry", "张_xD83D__xDE00_三", time(12, 30)]]
    assert texts_of(ours(path)) == texts_of(calamines(path))


def test_shared_strings_without_a_namespace(tmp_path):
    path = _one_sheet(tmp_path, '<row r="1"><c r="A1" t="s"><v>0</v></c></row>', '<sst><si><t>户主</t></si></sst>')
    assert ours(path)[0][1] == [["户主"]]


def test_a_number_of_16_digits_is_refused_however_it_is_written(tmp_path):
    """An ID number typed as a number has lost its last digits: refused as a float ("3.6E+17") and as
    the plain integer some writers put in the XML."""
    for number in ("362131195001010005", "3.62131195001010005E17"):
        path = _one_sheet(tmp_path, '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
                                    f'<row r="2"><c r="A2"><v>{number}</v></c></row>')
        assert refusal(path) == "csv.inexact_number"


def test_an_error_cell_in_a_column_read_is_refused_with_its_line_and_column(tmp_path):
    """A lookup that found nothing (#N/A) is no name: refused, where python-calamine would read it as an
    empty cell (an optional column's value silently gone) and a text reader as the name "#N/A". In a
    column the import does not read, it is passed over like the rest of that column."""
    header = ('<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>备注</t></is></c></row>')
    path = _one_sheet(tmp_path, header + '<row r="2"><c r="A2" t="inlineStr"><is><t>张三</t></is></c></row>'
                                         '<row r="3"><c r="A3" t="e"><f>VLOOKUP(C3,D:E,2,0)</f><v>#N/A</v></c></row>')
    with pytest.raises(BadInput) as refused:
        with Sheet(str(path), ["name"]) as found:
            list(found)
    assert (refused.value.code, refused.value.params["line"], refused.value.params["column"],
            refused.value.params["value"]) == ("csv.error_cell", 3, "name", "#N/A")
    path = _one_sheet(tmp_path, header + '<row r="2"><c r="A2" t="inlineStr"><is><t>张三</t></is></c>'
                                         '<c r="B2" t="e"><v>#REF!</v></c></row>')
    with Sheet(str(path), ["name"]) as found:
        assert [row for _line, row in found] == [{"name": "张三", "备注": "#REF!"}]


def test_the_progress_reaches_the_end_when_a_notes_sheet_is_passed_over(tmp_path):
    path = tmp_path / "notes-first.xlsx"
    book = openpyxl.Workbook(write_only=True)
    notes = book.create_sheet("说明")
    for i in range(5_000):
        notes.append([f"填表说明第 {i} 条"])
    listing = book.create_sheet("名单")
    listing.append(["name"])
    for i in range(5_000):
        listing.append([f"成员{i}"])
    book.save(path)
    with Sheet(str(path), ["name"]) as found:
        first = None
        for _row in found:
            first = found.position() if first is None else first
        assert found.passed_over == ["说明"]
        assert 0.4 * found.size < first < 0.7 * found.size and found.position() == found.size


def test_a_shared_string_longer_than_a_cell_is_refused(tmp_path):
    path = _one_sheet(tmp_path, '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
                      f'<sst xmlns="{MAIN}"><si><t>{"户" * 70_000}</t></si></sst>')
    assert refusal(path) == "csv.workbook"


# --- writing (exports): what is written reads back as it was -------------------------------------------

written_values = st.one_of(
    st.none(), texts, st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),    # control characters too
    st.integers(-10**18, 10**18), st.floats(allow_nan=False, allow_infinity=False, width=64), st.booleans(),
    st.sampled_from(["=HYPERLINK(\"http://x\")", "_x0041_", " 前后 ", "a\r\nb", "+1", "-2", "@x"]),
)


def expected(value):
    """What a reader gives back for a written value: a number Excel would not keep exactly as its text."""
    if value is None or value == "":
        return None
    if type(value) is int and abs(value) >= 10**15:
        return str(value)
    return value


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sheets=st.lists(st.lists(st.lists(written_values, max_size=6), max_size=6), min_size=1, max_size=3))
def test_what_is_written_reads_back_as_it_was(tmp_path_factory, sheets):
    """By our reader, openpyxl (its `_xHHHH_` escapes read) and python-calamine alike; a text that
    looks like a formula stays text."""
    path = tmp_path_factory.mktemp("out") / "export.xlsx"
    names = [f"表{i + 1}" for i in range(len(sheets))]
    workbook.write_workbook(str(path), iter([(n, iter(rows)) for n, rows in zip(names, sheets)]))
    want = [(n, [_trimmed(expected(v) for v in row) for row in rows]) for n, rows in zip(names, sheets)]
    assert _without_trailing_empty_rows(ours(path)) == _without_trailing_empty_rows(want)
    assert _without_trailing_empty_rows(openpyxls(path)) == _without_trailing_empty_rows(want)
    assert texts_of(calamines(path)) == texts_of(want)
    full = openpyxl.load_workbook(path)          # the whole package, as Excel opens it: no formula anywhere
    assert not [c for s in full.worksheets for r in s.iter_rows() for c in r if c.data_type == "f"]


def test_a_large_export_is_written_as_it_streams(tmp_path):
    """100,000 rows (28 MB as Python objects) written with under 4 MB held at any time."""
    def rows():
        for i in range(100_000):
            yield (i, f"成员{i}", f"3621311950{i:08d}", "户主", 1.5, True)
    tracemalloc.start()
    try:
        workbook.write_workbook(str(tmp_path / "big.xlsx"), iter([("家庭成员", rows())]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, peak
    (_name, found), = ours(tmp_path / "big.xlsx")
    assert len(found) == 100_000 and found[-1] == [99_999, "成员99999", "362131195000099999", "户主", 1.5, True]


def test_spaces_at_a_text_s_ends_are_marked_to_be_kept(tmp_path):
    """Excel drops the spaces at the ends of a text not marked xml:space="preserve" (the readers here
    keep them either way, so the mark is looked for in the XML)."""
    path = tmp_path / "spaces.xlsx"
    workbook.write_workbook(str(path), iter([("名单", iter([(" 前", "后 ", "中 间")]))]))
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert xml.count('xml:space="preserve"') == 2 and "<t>中 间</t>" in xml


def test_a_written_sheet_opens_with_its_header_frozen_in_bold_and_its_columns_wide_enough(tmp_path):
    """As a cadre opens it in Excel or WPS: the header stays in view, an ID number and a village's
    name show whole (a Chinese character counted twice), a long text's column stops at 60."""
    path = tmp_path / "名单.xlsx"
    rows = [("姓名", "身份证号", "村", "备注", "空"), ("王大", "36213119601108853X", "洋塘村委会第一村民小组", "x" * 500, None)]
    workbook.write_workbook(str(path), iter([("名单", iter(rows)), ("空表", iter(()))]))
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert [c.font.b for c in sheet[1]] == [True] * 5 and not any(c.font.b for c in sheet[2])
    widths = {k: d.width for k, d in sheet.column_dimensions.items()}
    assert widths["A"] == 8 and widths["B"] == 20 and widths["C"] == 24 and widths["D"] == 60 and widths["E"] == 8
    assert book.worksheets[1].max_row == 1 and book.worksheets[1].freeze_panes is None
    assert ours(path)[0][1] == [list(rows[0]), ["王大", "36213119601108853X", "洋塘村委会第一村民小组", "x" * 500]]


def _replaced(path: Path, part: str, data: bytes) -> Path:
    """The workbook with one part's bytes replaced."""
    out = path.with_name("changed-" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, data if item.filename == part else src.read(item.filename))
    return out


def test_a_document_type_in_utf_16_is_refused_too(tmp_path):
    """The workbook's list of sheets saved as UTF-16, declaring an entity: a byte search for
    "<!DOCTYPE" does not see it; expat does."""
    path = _one_sheet(tmp_path, '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>')
    listing = (f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE w [<!ENTITY n "花名册">]><workbook xmlns="{MAIN}" '
               f'xmlns:r="{R}"><sheets><sheet name="&n;" sheetId="1" r:id="rId1"/></sheets></workbook>')
    assert refusal(_replaced(path, "xl/workbook.xml", listing.encode("utf-16"))) == "csv.workbook"


def test_a_sheet_zipfile_cannot_open_is_refused_in_words(tmp_path):
    """A sheet's zip entry marked encrypted (or compressed in a way zipfile cannot read): zipfile
    raises RuntimeError or NotImplementedError, which came out as a traceback."""
    path = _one_sheet(tmp_path, '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>')
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")                    # the central directory: the sheet's entry marked encrypted
    while at != -1:
        length = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + length] == b"xl/worksheets/sheet1.xml":
            data[at + 8] |= 1
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    assert refusal(path) == "csv.workbook"


def test_shared_strings_count_their_offsets_against_their_limit(tmp_path, monkeypatch):
    """Empty strings hold no text but 8 bytes of offset each: a few KB of <si/> must not grow past the
    limit unseen (here the limit is 800 bytes)."""
    monkeypatch.setattr(workbook, "SHARED_STRINGS_BYTES", 800)
    path = _one_sheet(tmp_path, '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
                      f'<sst xmlns="{MAIN}"><si><t>name</t></si>' + "<si/>" * 200 + "</sst>")
    assert refusal(path) == "csv.workbook"


def ods_workbook(path: Path, names: list[str]) -> Path:
    """A minimal OpenDocument spreadsheet (as LibreOffice saves one, less its styles): a `name` column."""
    cells = "".join(f'<table:table-row><table:table-cell office:value-type="string"><text:p>{n}</text:p>'
                    '</table:table-cell></table:table-row>' for n in ["name", *names])
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
               f'<office:spreadsheet><table:table table:name="名单">{cells}</table:table></office:spreadsheet>'
               '</office:body></office:document-content>')
    with zipfile.ZipFile(path, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        package.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        package.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            '</manifest:manifest>'), zipfile.ZIP_DEFLATED)
    return path


def test_an_ods_is_read_whole_up_to_its_limit_and_refused_past_it_with_what_to_do(tmp_path, monkeypatch):
    """An OpenDocument spreadsheet is no Office Open XML package: python-calamine reads it, a sheet
    whole in memory; past WHOLE_SHEET_BYTES it is refused, saying to save it as .xlsx (which streams)."""
    from entrypoints.cli import rows
    path = ods_workbook(tmp_path / "名单.ods", ["张三", "李四"])
    with Sheet(str(path), ["name"]) as found:
        assert [row["name"] for _line, row in found] == ["张三", "李四"]
    monkeypatch.setattr(rows, "WHOLE_SHEET_BYTES", path.stat().st_size - 1)
    assert refusal(path) == "csv.ods_too_large"


def test_a_zip_whose_version_zipfile_cannot_read_is_refused_in_words(tmp_path):
    """zipfile raises NotImplementedError ("zip file version 15.4") opening such a package: told
    whether it is an .xlsx before the streaming reader opens it, that came out as a traceback."""
    path = _one_sheet(tmp_path, '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>')
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    data[at + 6:at + 8] = (154).to_bytes(2, "little")          # version needed to extract: 15.4
    path.write_bytes(bytes(data))
    assert refusal(path) == "csv.workbook"


def test_a_date_cell_past_excels_dates_reads_as_its_number_not_as_an_error(tmp_path):
    """19690101 typed into a date-formatted column is no date Excel has: read as the number (as
    python-calamine reads it), for the column's own check to judge, not refused as a formula's error."""
    path = _one_sheet(tmp_path, '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
                                '<row r="2"><c r="A2" s="1"><v>19690101</v></c></row>', styles=STYLES)
    assert ours(path)[0][1][1] == [19690101]
    with Sheet(str(path), ["name"]) as found:
        assert [row["name"] for _line, row in found] == ["19690101"]


def test_a_zip_that_is_no_workbook_is_refused_as_such_not_as_an_ods(tmp_path, monkeypatch):
    """A zip of CSV files renamed .xlsx is neither an Office package nor an OpenDocument one: refused
    as no workbook, at any size (an .ods's own limit and words are for an .ods)."""
    from entrypoints.cli import rows
    path = tmp_path / "名单.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("名单.csv", "name\n张三\n")
    assert refusal(path) == "csv.workbook"
    monkeypatch.setattr(rows, "WHOLE_SHEET_BYTES", 0)
    assert refusal(path) == "csv.workbook"
