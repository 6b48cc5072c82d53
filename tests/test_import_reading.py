"""How a registry file is read, as a county clerk moving the registry from the national system
(全国扶贫开发信息系统) met it: a village's code beside its name (行政村), a long number stored as a
number in a workbook, sheets with their columns in another order, a household's rows listed twice."""
from __future__ import annotations

import csv
import sqlite3

import openpyxl

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_import_followups import sound, write
from tests.world import VILLAGE, VILLAGE2


def code(n: int) -> str:
    return f"3607301002010{n:05d}"        # an 18-digit 户编号 as the national system gives them


def registered(home) -> dict[str, tuple]:
    """name -> (village, household code, ID number, causes) of every member registered."""
    with sqlite3.connect(home.db) as conn:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT m.name, c.region_code, c.external_code, m.id_number, c.attrs FROM household_members m "
            "JOIN cases c ON c.id = m.case_id")}


# --- 2. a long number stored as a number in a workbook ------------------------------------------------

def test_a_number_cell_is_told_once_as_the_number_it_is(home, tmp_path):  # noqa: F811
    """It was told twice, also as a text Excel turned into 3.60730E+16: 12 problems for 6 cells."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["户编号", "村编码", "姓名", "身份证号", "与户主关系", "致贫原因"])
    sheet.append([int(code(1)), VILLAGE, "张一", sound(1), "户主", "因病"])      # a 户编号 typed as a number
    sheet.append([code(2), VILLAGE, "王二", int(sound(3)), "户主", "因病"])      # an ID number typed as a number
    path = tmp_path / "名单.xlsx"
    book.save(path)
    result = home("cs", "household", "import", str(path))
    assert result.code == 2
    assert "第 2 行，户编号：是数字格式" in result.err and "第 3 行，身份证号：是数字格式" in result.err
    assert "科学计数法" not in result.err and "共 2 处" in result.err


# --- 3. sheets with the same columns in another order -------------------------------------------------

def _sheets(path, second_header: list[str], second_rows: list[list]) -> str:
    book = openpyxl.Workbook()
    first = book.active
    first.title = "洋塘村"
    first.append(["村编码", "户编号", "姓名", "身份证号", "与户主关系", "致贫原因"])
    first.append([VILLAGE, code(1), "张一", sound(1), "户主", "因病"])
    second = book.create_sheet("石上村")
    second.append(second_header)
    for row in second_rows:
        second.append(row)
    book.save(path)
    return str(path)


def test_sheets_with_the_same_columns_in_another_order_are_read_each_by_its_own_header(home, tmp_path):  # noqa: F811
    header = ["户编号", "村编码", "与户主关系", "姓名", "身份证号", "致贫原因"]
    path = _sheets(tmp_path / "名单.xlsx", header, [[code(2), VILLAGE2, "户主", "王二", sound(2), "因学"]])
    result = home("cs", "household", "import", path)
    assert result.code == 0, result.err
    members = registered(home)
    assert members["王二"][:3] == (VILLAGE2, code(2), sound(2)) and "schooling" in members["王二"][3]
    # a cell of the second sheet is named by that sheet's own header, not the first's at its place
    numbers = _sheets(tmp_path / "名单2.xlsx", header, [[code(3), VILLAGE2, "户主", "赵三", int(sound(3)), "因学"]])
    refused = home("cs", "household", "import", numbers)
    assert refused.code == 2 and "工作表「石上村」第 2 行，身份证号：是数字格式" in refused.err


def test_a_sheet_whose_columns_differ_is_refused_naming_them(home, tmp_path):  # noqa: F811
    before = home.snapshot()
    path = _sheets(tmp_path / "名单.xlsx", ["户编号", "村编码", "与户主关系", "姓名", "身份证号", "备注"],
                   [[code(2), VILLAGE2, "户主", "王二", sound(2), "新户"]])
    result = home("cs", "household", "import", path)
    assert result.code == 2 and home.snapshot() == before
    assert "工作表「石上村」与第一个工作表「洋塘村」的列不同（缺少列 致贫原因，多出列 备注）" in result.err
    english = home("cs", "household", "import", path, lang="en")
    assert 'Sheet "石上村"' in english.err and "it lacks 致贫原因 and has 备注 besides" in english.err
    lacking = _sheets(tmp_path / "名单2.xlsx", ["户编号", "村编码", "与户主关系", "姓名", "身份证号"],
                      [[code(2), VILLAGE2, "户主", "王二", sound(2)]])
    assert "（缺少列 致贫原因）" in home("cs", "household", "import", lacking).err
