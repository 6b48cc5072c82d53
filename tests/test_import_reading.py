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
