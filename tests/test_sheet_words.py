"""How a list file's reader tells a file it cannot use, as a cadre meets them (fuzz audit ux5, F1): a
list whose header row was deleted or an old system's HTML "Excel" export never has its rows echoed as
"the headers found" (names and whole ID numbers); UTF-16 and binary files are said to be so; a NUL in
a name is that row's problem, which --skip-bad skips; a UTF-8 list with one row saved in GBK is read as
UTF-8 and that row told; a file cut short, a quote never closed, an .xls named .xlsx and a header
repeated mid-file are each said as what they are; 10,000 unknown columns are counted, not listed."""
from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_list_files import HEADER, rows, write_csv
from tests.test_workbook_reader import ods_workbook
from tests.world import VILLAGE, id_number

PERSONS = ("code", "name", "role", "region")


def names(home) -> set[str]:
    with sqlite3.connect(home.db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM household_members")}


def _refused(home, who: str, *args, lang: str | None = None):
    before = home.snapshot()
    result = home(who, *args, lang=lang)
    assert result.code == 2 and "Traceback" not in result.err, result.err
    assert home.snapshot() == before
    return result


# --- a file whose rows would be echoed: the header row deleted, an HTML export -------------------------

def _headerless_book(path) -> str:
    book = openpyxl.Workbook()
    for r in rows(3):
        book.active.append(r)
    book.save(path)
    return str(path)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_list_whose_header_row_was_deleted_shows_none_of_its_rows(home, tmp_path, kind):  # noqa: F811
    """It printed "文件中找到的表头是：36073010020100…，户主0，110101197001010…": a household's name and
    whole ID number, on the terminal, through --server and on the web page."""
    path = write_csv(tmp_path / "名单.csv", rows(3)) if kind == "csv" else _headerless_book(tmp_path / "名单.xlsx")
    first = rows(1)[0]
    for lang, said in ((None, "第一行像是数据而不是表头"), ("en", "first row looks like data, not a header")):
        result = _refused(home, "vs", "household", "import", path, lang=lang)
        assert said in result.err and "[csv.no_header]" in result.err
        assert first[2] not in result.err and first[3] not in result.err and first[3][:6] + "*" not in result.err


def test_person_and_region_lists_without_a_header_row_show_none_of_it(home, tmp_path):  # noqa: F811
    people = write_csv(tmp_path / "人员.csv", [("p_a", "测试甲", "village_director", VILLAGE)])
    result = _refused(home, "admin", "person", "import", people)
    assert "第一行像是数据而不是表头" in result.err and "测试甲" not in result.err and "p_a" not in result.err
    regions = write_csv(tmp_path / "区划.csv", [("360730100290", "测试一村")])
    result = _refused(home, "admin", "region", "import", regions)
    assert "第一行像是数据而不是表头" in result.err and "测试一村" not in result.err


def test_headers_found_are_each_cut_and_counted_past_the_first_ten(home, tmp_path):  # noqa: F811
    """A header row of unknown names is still shown (a name we do not know yet), each cut to 40
    characters, the first 10 of them and how many more; a control character in one is never echoed."""
    header = ["户号", "名字\x01", *(f"第{i}列" + "长" * 60 for i in range(13))]
    path = write_csv(tmp_path / "名单.csv", [header, ["x"] * len(header)])
    result = _refused(home, "vs", "household", "import", path)
    assert "找到的表头是：户号，名字，第0列" + "长" * 37 + "…，第1列" in result.err
    assert "长" * 41 not in result.err and "第10列" not in result.err and "另有 5 项" in result.err
    assert "\\x01" not in result.err and "\x01" not in result.err


@pytest.mark.parametrize("name, content", [
    ("导出.xls", "<html><head><meta charset='utf-8'></head><body><table><tr><td>姓名</td><td>身份证号</td></tr>"
                 "<tr><td>张三</td><td>{id}</td></tr></table></body></html>"),
    ("导出.csv", "\ufeff  \r\n<!DOCTYPE html>\n<html>\n<body><table>\n<tr><td>张三</td><td>{id}</td></tr>\n</table></body></html>\n"),
    ("导出.xlsx", "<table border=1><tr><td>张三</td><td>{id}</td></tr></table>"),
])
def test_an_html_export_is_said_to_be_a_web_page_to_save_as_xlsx(home, tmp_path, name, content):  # noqa: F811
    """Old systems export "Excel" as an HTML table: it was echoed whole as the headers found, every
    row's name and ID number in it."""
    number = id_number("36073019700101001")
    path = tmp_path / name
    path.write_text(content.format(id=number), encoding="utf-8")
    for args in (("vs", "household", "import"), ("admin", "person", "import"), ("admin", "region", "import"),
                 ("vs", "evidence", "import", "--type", "income_check", "--files", str(tmp_path))):
        result = _refused(home, args[0], *args[1:], str(path))
        assert "是网页（HTML）格式的文件" in result.err and "另存为”工作簿（「.xlsx」）" in result.err, result.err
        assert "张三" not in result.err and number not in result.err and "<t" not in result.err
    english = _refused(home, "vs", "household", "import", str(path), lang="en")
    assert "is a web page (HTML)" in english.err and "save it as a workbook (.xlsx)" in english.err


def test_an_excel_2003_xml_spreadsheet_is_said_to_be_one(home, tmp_path):  # noqa: F811
    path = tmp_path / "名单.xls"
    path.write_text('<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
                    '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table><Row>'
                    '<Cell><Data ss:Type="String">张三</Data></Cell></Row></Table></Worksheet></Workbook>', encoding="utf-8")
    result = _refused(home, "vs", "household", "import", str(path))
    assert "是 XML 格式的表格" in result.err and "张三" not in result.err


@pytest.mark.parametrize("content, said", [
    (",".join(HEADER).encode("utf-16-be") + b"\x00\n" + ",".join(rows(1)[0]).encode("utf-16-be"), "是 UTF-16 编码的文本"),
    (",".join(HEADER).encode("utf-16"), "是 UTF-16 编码的文本"),
    (b"\x00" * 4096, "满是不可见的控制字符"),
])
def test_utf16_and_binary_files_are_said_so_never_echoed_as_nuls(home, tmp_path, content, said):  # noqa: F811
    """UTF-16 without its BOM and a file of NULs printed 4 KB of \\x00 as "the headers found"."""
    path = tmp_path / "名单.csv"
    path.write_bytes(content)
    result = _refused(home, "vs", "household", "import", str(path))
    assert said in result.err and "另存为”「CSV UTF-8（逗号分隔）」" in result.err
    assert "\\x00" not in result.err and len(result.err) < 400 and rows(1)[0][3] not in result.err


# --- a control character in a cell: that row's problem ----------------------------------------------

def test_a_nul_in_a_name_is_its_rows_problem_and_skip_bad_imports_the_others(home, tmp_path):  # noqa: F811
    """It was one refusal of the whole file, after the rows' problems, with no line or column, which
    --skip-bad could not skip; in English it named the head's name "title"."""
    good = rows(2)
    bad = list(rows(1, 2)[0])
    bad[2] = "王\x00大"
    path = write_csv(tmp_path / "名单.csv", [HEADER, good[0], bad, good[1]])
    result = _refused(home, "vs", "household", "import", path)
    assert "第 3 行，姓名：含有不可见的控制字符（NUL）" in result.err and "[input.control_char]" not in result.err
    english = _refused(home, "vs", "household", "import", path, lang="en")
    assert "line 3, name: holds an invisible control character (NUL)" in english.err and "title" not in english.err
    out = tmp_path / "错误行.csv"
    kept = home("vs", "household", "import", path, "--skip-bad", str(out))
    assert kept.code == 0, kept.err
    assert "已导入 2 户" in kept.out and names(home) == {"户主0", "户主1"}
    with open(out, encoding="utf-8-sig", newline="") as fh:
        written = list(csv.reader(fh))
    assert [r[0] for r in written[1:]] == ["3"] and "王\x00大" in written[1] and "NUL" in written[1][-1]


def test_a_control_character_in_a_persons_name_is_its_rows_problem(home, tmp_path):  # noqa: F811
    path = write_csv(tmp_path / "人员.csv", [PERSONS, ("p_a", "测试\x1f甲", "village_director", VILLAGE),
                                             ("p_b", "测试乙", "village_director", VILLAGE)])
    result = _refused(home, "admin", "person", "import", path)
    assert "第 2 行，姓名：含有不可见的控制字符（U+001F）" in result.err
    kept = home("admin", "person", "import", path, "--skip-bad", str(tmp_path / "错误行.csv"))
    assert kept.code == 0 and "已导入人员 1 名" in kept.out, kept.err


# --- encodings ------------------------------------------------------------------------------------------

def test_a_utf8_list_with_one_row_saved_in_gbk_is_read_as_utf8_and_that_row_told(home, tmp_path):  # noqa: F811
    """Read whole as GBK (the first 64 KB were not all UTF-8), every other name was registered as
    mojibake (测试户主0 as 娴嬭瘯鎴蜂富0), exit 0."""
    lines = [HEADER, *rows(3)]
    lines[2] = (*lines[2][:2], "测试户主", *lines[2][3:])      # an even count of bytes: it decodes as GBK too
    text = "".join(",".join(r) + "\r\n" for r in lines).encode("utf-8")
    gbk_row = ",".join((*rows(1, 3)[0][:2], "李四", *rows(1, 3)[0][3:])).encode("gbk") + b"\r\n"
    path = tmp_path / "名单.csv"
    path.write_bytes(text + gbk_row)
    result = _refused(home, "vs", "household", "import", str(path))
    assert "第 5 行，姓名：这一行不是 UTF-8 编码" in result.err and "共 1 处" in result.err
    out = tmp_path / "错误行.csv"
    kept = home("vs", "household", "import", str(path), "--skip-bad", str(out))
    assert kept.code == 0 and "已导入 3 户" in kept.out, kept.err
    assert names(home) == {"户主0", "测试户主", "户主2"}
    with open(out, encoding="utf-8-sig", newline="") as fh:
        written = list(csv.reader(fh))
    assert written[1][0] == "5" and "李四" in written[1]         # as the cadre typed it, to correct and import


def test_a_gbk_file_a_converter_put_a_utf8_bom_before_is_read(home, tmp_path):  # noqa: F811
    """Its BOM was read as part of its first header: "没有村编码列" although the column was there."""
    path = tmp_path / "名单.csv"
    lines = [(r[1], r[0], *r[2:]) for r in [HEADER, *rows(2)]]          # 村编码 first: the BOM before it
    path.write_bytes(b"\xef\xbb\xbf" + "".join(",".join(r) + "\r\n" for r in lines).encode("gbk"))
    result = home("vs", "household", "import", str(path))
    assert result.code == 0 and "已导入 2 户" in result.out, result.err


# --- what a file is, said as it is ----------------------------------------------------------------------------

def test_a_utf8_file_cut_inside_its_last_character_is_said_to_be_cut_short(home, tmp_path):  # noqa: F811
    data = "".join(",".join(r) + "\n" for r in [HEADER, *rows(2)]).encode("utf-8") + "360730,H9,王".encode("utf-8")[:-1]
    path = tmp_path / "名单.csv"
    path.write_bytes(data)
    result = _refused(home, "vs", "household", "import", str(path))
    assert "似乎在末尾被截断了" in result.err and "UTF-8 或 GBK" not in result.err
    person = tmp_path / "人员.csv"
    person.write_bytes("code,name,role,region\np_a,测试甲,village_director,".encode() + VILLAGE.encode() + b"\np_b," + "测".encode()[:2])
    assert "似乎在末尾被截断了" in _refused(home, "admin", "person", "import", str(person)).err


def test_a_file_ending_inside_a_quoted_cell_names_the_quote_never_closed(home, tmp_path):  # noqa: F811
    """It said "第 3 行列数不足…是否少了逗号"."""
    path = tmp_path / "名单.csv"
    first, second = rows(2)
    path.write_bytes((",".join(HEADER) + "\n" + ",".join(first) + "\n" + f'{second[0]},{VILLAGE},"户主1 未闭合,{second[3]},户主,因病\n').encode())
    result = _refused(home, "vs", "household", "import", str(path))
    assert "第 3 行有一个左引号（\"）直到文件末尾都没有配对的右引号" in result.err and "列数不足" not in result.err
    # a quote opened in the last column: the rows after it were read as that one cell, not imported unseen
    path.write_bytes((",".join(HEADER) + "\n" + ",".join(first[:-1]) + ',"因病\n' + "\n".join(",".join(r) for r in rows(3, 5)) + "\n").encode())
    result = _refused(home, "vs", "household", "import", str(path))
    assert "第 2 行有一个左引号" in result.err


@pytest.mark.parametrize("name", ["名单.xlsx", "名单.xls"])
def test_an_xls_or_ods_named_as_the_other_is_read_as_what_it_is(home, tmp_path, name):  # noqa: F811
    """Refused as an unreadable workbook (python-calamine chose its reader by the name), although the
    same bytes named .csv were read as the .xls they are."""
    xls = tmp_path / name
    xls.write_bytes((Path(__file__).parent / "fixtures" / "名单.xls").read_bytes())
    result = home("vs", "household", "import", str(xls), "--village", VILLAGE)
    assert result.code == 0 and "已导入 2 户" in result.out, result.err
    ods = ods_workbook(tmp_path / name.replace("名单", "人员"), ["测试甲"])
    assert "无法读取工作簿" not in _refused(home, "vs", "household", "import", str(ods)).err


def test_a_header_repeated_mid_file_is_passed_over_and_told_once(home, tmp_path):  # noqa: F811
    """Two lists pasted one under the other: nine errors for the repeated header's line."""
    path = write_csv(tmp_path / "名单.csv", [HEADER, *rows(2), HEADER, *rows(2, 2)])
    result = home("vs", "household", "import", path)
    assert result.code == 0, result.err
    assert "已导入 4 户" in result.out and "以下各行与表头相同（重复的表头行），已跳过，行号：4" in result.err
    assert "第 4 行，" not in result.err


def test_a_header_repeated_in_another_column_order_is_refused_not_read_into_wrong_columns(home, tmp_path):  # noqa: F811
    """Two lists pasted one under the other, the second with its columns in another order: its header
    line was read as a household (nine errors) and its rows into the first header's columns."""
    order = [2, 0, 1, 3, 4, 5]
    second = [tuple(r[i] for i in order) for r in [HEADER, *rows(2, 2)]]
    path = write_csv(tmp_path / "名单.csv", [HEADER, *rows(2), *second])
    result = _refused(home, "vs", "household", "import", path)
    assert "名单.csv 第 4 行又是一行表头，但各列的次序与第一行表头不同" in result.err, result.err
    assert "第 4 行“" not in result.err and "户主2" not in result.err
    en = _refused(home, "vs", "household", "import", path, lang="en")
    assert "line 4 is a header again, with its columns in another order" in en.err, en.err
    book = openpyxl.Workbook()
    for line in [HEADER, *rows(2), *second]:
        book.active.append(list(line))
    book.save(tmp_path / "名单.xlsx")
    assert "第 4 行又是一行表头" in _refused(home, "vs", "household", "import", str(tmp_path / "名单.xlsx")).err


def test_ten_thousand_unknown_columns_are_counted_not_listed(home, tmp_path):  # noqa: F811
    """The warning listed every one: 80 KB of c0、c1、…c9999."""
    extra = [f"c{i}" for i in range(10_000)]
    path = write_csv(tmp_path / "名单.csv", [(*HEADER, *extra), *rows(2)])
    result = home("vs", "household", "import", path)
    assert result.code == 0, result.err
    assert "其内容未导入：c0、c1、" in result.err and "c19…（另有 9980 项）" in result.err
    assert "c20" not in result.err and len(result.err) < 2000


def test_a_reader_not_keeping_row_problems_refuses_a_nul_at_its_line_and_column(tmp_path):
    from engine.domain.errors import BadInput
    from entrypoints.cli.rows import Sheet
    path = write_csv(tmp_path / "名单.csv", [("编号", "name"), ("1", "王大"), ("2", "王\x00二")])
    with pytest.raises(BadInput) as refused, Sheet(path, ["name"]) as sheet:
        list(sheet)
    assert refused.value.code == "csv.unreadable_cell" and refused.value.params["line"] == 3
    from config import load_config
    assert "第 3 行“name”列：含有不可见的控制字符（NUL）" in refused.value.render(load_config())
