"""List files as cadres really have them (issue 12): a title above the header, a notes sheet, columns
we do not know, two columns for one thing, a row with cells past the header, an 18-digit number
typed as a number in Excel, an empty file — each read as meant or refused with what to do."""
from __future__ import annotations

import csv

import openpyxl
import pytest

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import VILLAGE, id_number

HEADER = ("户编号", "村编码", "姓名", "身份证号", "与户主关系", "致贫原因")


def rows(n: int, start: int = 0) -> list[tuple]:
    return [(f"36073010020100{start + i:04d}", VILLAGE, f"户主{i}", id_number(f"11010119700101{start + i:03d}"), "户主", "因病")
            for i in range(n)]


def write_csv(path, lines) -> str:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(lines)
    return str(path)


def test_a_title_row_above_the_header_is_passed_over_and_lines_stay_true(home, tmp_path):  # noqa: F811
    path = write_csv(tmp_path / "title.csv", [("宁都县梅江镇扶贫对象花名册",), (), HEADER, *rows(2),
                                               ("H9", VILLAGE, "错号", "1", "户主", "因病")])
    result = home("vs", "household", "import", path)
    assert result.code == 2 and "第 6 行，身份证号" in result.err        # the line Excel shows


def test_a_workbook_with_a_merged_title_and_a_notes_sheet(home, tmp_path):  # noqa: F811
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["本表由村委会填写"])
    data = book.create_sheet("花名册")
    data.append(["宁都县扶贫对象花名册"])
    data.merge_cells("A1:F1")
    data.append(HEADER)
    for r in rows(3, 10):
        data.append(r)
    path = tmp_path / "book.xlsx"
    book.save(path)
    result = home("vs", "household", "import", str(path))
    assert result.code == 0, result.err
    assert "已导入 3 户" in result.out and "以下工作表没有表头" in result.err and "说明" in result.err


def test_a_long_number_typed_as_a_number_is_refused_with_its_line_and_column(home, tmp_path):  # noqa: F811
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    code, *rest = rows(1, 20)[0]
    sheet.append([float(code), *rest])      # what Excel keeps of an 18-digit code typed as a number
    path = tmp_path / "numeric.xlsx"
    book.save(path)
    before = home.snapshot()
    result = home("vs", "household", "import", str(path))
    assert result.code == 2 and home.snapshot() == before
    assert "第 2 行，户编号：是数字格式" in result.err and "文本" in result.err      # the row's problem, not the file's


def test_two_columns_for_one_thing_are_refused(home, tmp_path):  # noqa: F811
    path = write_csv(tmp_path / "twice.csv", [(*HEADER, "身份证号码"), *[(*r, r[3]) for r in rows(1, 30)]])
    result = home("vs", "household", "import", path)
    assert result.code == 2 and "“身份证号”和“身份证号码”是同一项" in result.err


def test_columns_not_known_are_told_and_phone_headers_are_read(home, tmp_path):  # noqa: F811
    path = write_csv(tmp_path / "extra.csv", [(*HEADER, "手机号码", "备注"), *[(*r, "13800000000", "x") for r in rows(1, 40)]])
    result = home("vs", "household", "import", path)
    assert result.code == 0, result.err
    assert "以下列本系统不认识，其内容未导入：备注" in result.err and "手机号码" not in result.err


def test_a_row_with_cells_past_the_header_is_refused(home, tmp_path):  # noqa: F811
    path = write_csv(tmp_path / "long.csv", [HEADER, *rows(1, 50), (*rows(1, 51)[0], "多出来的")])
    result = home("vs", "household", "import", path)
    assert result.code == 2 and "第 3 行的单元格比表头多" in result.err


@pytest.mark.parametrize("content, said, name", [(b"", "是空的", "odd.csv"), (b"\n\n", "是空的", "odd.csv"),
                                                 ("姓名\t身份证号\n".encode(), "缺少列", "odd.csv"),
                                                 ("\ufeff户编号".encode("utf-16"), "是 UTF-16 编码的文本", "odd.csv"),
                                                 (bytes(range(128, 256)) * 8, "无法读取工作簿", "damaged.xlsx")])
def test_files_that_cannot_be_a_list_say_why(home, tmp_path, content, said, name):  # noqa: F811
    path = tmp_path / name
    path.write_bytes(content)
    result = home("vs", "household", "import", str(path))
    assert result.code == 2 and said in result.err and "Traceback" not in result.err
    if said == "缺少列":
        assert "与户主关系" in result.err and "relation" not in result.err and "CSV 文件" not in result.err


def test_a_bad_row_on_a_later_sheet_is_told_by_its_sheet_and_row(home, tmp_path):  # noqa: F811
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    for r in rows(1, 60):
        book.active.append(r)
    second = book.create_sheet("青塘")
    second.append(HEADER)
    second.append(("H99", VILLAGE, "错号", "1", "户主", "因病"))
    path = tmp_path / "two.xlsx"
    book.save(path)
    result = home("vs", "household", "import", str(path))
    assert result.code == 2 and "工作表「青塘」第 2 行，身份证号" in result.err and "青塘!2" not in result.err
    english = home("vs", "household", "import", str(path), lang="en")
    assert 'sheet "青塘", line 2, ID number' in english.err
