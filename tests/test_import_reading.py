"""How a registry file is read, as a county clerk moving the registry from the national system
(全国扶贫开发信息系统) met it: a village's code beside its name (行政村), a long number stored as a
number in a workbook, sheets with their columns in another order, a household's rows listed twice."""
from __future__ import annotations

import csv
import sqlite3

import openpyxl
import pytest

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


# --- 1. the village's code and its name -------------------------------------------------------------

NATIONAL = ("序号", "乡（镇）", "村编码", "行政村", "户编号", "姓名", "身份证号", "与户主关系", "致贫原因")


def _national(names: list[str]) -> list[tuple]:
    """Three households of two villages, 梅江镇洋塘村 (VILLAGE) and 青塘镇石上村 (VILLAGE2), each row
    naming its village by `names[i]` beside the code."""
    places = [("梅江镇", VILLAGE), ("梅江镇", VILLAGE), ("梅江镇", VILLAGE), ("青塘镇", VILLAGE2), ("梅江镇", VILLAGE)]
    households = [(code(1), "户主"), (code(1), "配偶"), (code(2), "户主"), (code(3), "户主"), (code(4), "户主")]
    return [(n + 1, township, village, names[n], household, f"人{n}", sound(n + 1), relation, "因病")
            for n, ((township, village), (household, relation)) in enumerate(zip(places, households))]


def test_a_national_file_with_the_villages_code_and_name_reads_the_code(home, tmp_path):  # noqa: F811
    """It was refused whole: "村编码" and "行政村" were said to be the same column, to delete one."""
    names = ["洋塘村", "梅江镇洋塘村", "洋塘村", "石上村", VILLAGE]     # a name with its township, or the code itself
    result = home("cs", "household", "import", write(tmp_path / "名单.csv", _national(names), NATIONAL))
    assert result.code == 0, result.err
    assert "同一项" not in result.err and "已导入 4 户、5 人" in result.out
    assert "行政村" not in result.err                  # not told as a column not read either
    members = registered(home)
    assert [members[f"人{n}"][:2] for n in range(5)] == [
        (VILLAGE, code(1)), (VILLAGE, code(1)), (VILLAGE, code(2)), (VILLAGE2, code(3)), (VILLAGE, code(4))]


def test_a_name_that_is_not_the_codes_village_is_its_rows_problem(home, tmp_path):  # noqa: F811
    names = ["洋塘村", "石上村", "洋塘村", "洋塘村", "360730100299"]
    before = home.snapshot()
    result = home("cs", "household", "import", write(tmp_path / "名单.csv", _national(names), NATIONAL))
    assert result.code == 2 and home.snapshot() == before
    assert "第 3 行，行政村：“石上村”不是村编码 360730100201 的村名：这个编码是梅江镇洋塘村" in result.err
    assert "第 5 行，行政村：“洋塘村”不是村编码 360730101201 的村名：这个编码是青塘镇石上村" in result.err
    assert "第 6 行，行政村：“360730100299”不是村编码 360730100201 的村名" in result.err
    assert "第 2 行" not in result.err and "第 4 行" not in result.err and "共 3 处" in result.err
    english = home("cs", "household", "import", write(tmp_path / "list.csv", _national(names), NATIONAL), lang="en")
    assert 'line 3, village name: "石上村" is not the name of the village with code 360730100201' in english.err
    bad = tmp_path / "错误行.xlsx"          # --skip-bad: the other households, the row's with its reason
    kept = home("cs", "household", "import", write(tmp_path / "名单2.csv", _national(names), NATIONAL),
                "--skip-bad", str(bad))
    assert kept.code == 0 and "已导入 1 户" in kept.out
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(bad).active.iter_rows()]
    assert [r[0] for r in rows[1:]] == ["2", "3", "5", "6"] and "梅江镇洋塘村" in rows[2][-1]


@pytest.mark.parametrize("form", ["gbk.csv", "xlsx"])
def test_a_misspelt_village_on_a_row_with_no_code_says_the_code_is_its_households_other_rows(home, tmp_path, form):  # noqa: F811
    """Its code cell empty, the row was told that 洋堂村 "is not the name of the village with code …", a code
    the row does not have (a11 #7): the code is the household's other rows', and the message says so."""
    rows = _national(["洋塘村", "洋堂村", "洋塘村", "石上村", "洋塘村"])
    rows[1] = (*rows[1][:2], "", *rows[1][3:])         # line 3: the spouse's row, its 村编码 empty
    if form == "xlsx":
        book = openpyxl.Workbook()
        for row in [NATIONAL, *rows]:
            book.active.append(list(row))
        book.save(path := tmp_path / "名单.xlsx")
    else:
        (path := tmp_path / "名单.csv").write_text("\n".join(",".join(map(str, r)) for r in [NATIONAL, *rows]) + "\n",
                                                   encoding="gbk")
    result = home("cs", "household", "import", str(path))
    assert result.code == 2
    assert ("第 3 行，行政村：这一行的村编码是空的，按该户其他行的村编码 360730100201（梅江镇洋塘村）核对，“洋堂村”不是这个村的村名"
            in result.err), result.err
    english = home("cs", "household", "import", str(path), lang="en")
    assert "line 3, village name: this row's village code is empty; checked against the village code of the " \
           "household's other rows, 360730100201" in english.err


def test_a_township_that_is_not_the_codes_township_is_its_households_problem(home, tmp_path):  # noqa: F811
    """The 乡（镇） column beside a village's code was passed over: a household moved to another township
    by its township cell alone was registered in the village its code says."""
    rows = _national(["洋塘村", "洋塘村", "洋塘村", "石上村", VILLAGE])
    rows[2] = (rows[2][0], "宁都县梅江镇", *rows[2][2:])       # after the county's name: the same township
    rows[3] = (rows[3][0], "梅江", *rows[3][2:])               # 石上村's code, 梅江镇 said
    before = home.snapshot()
    result = home("cs", "household", "import", write(tmp_path / "名单.csv", rows, NATIONAL))
    assert result.code == 2 and home.snapshot() == before
    assert [line for line in result.err.splitlines() if line.startswith("第 ")] == [
        "第 5 行，乡（镇）：“梅江”不是村编码 360730101201 所在的乡镇：这个编码是青塘镇石上村。请核对该户的村编码和乡镇，改正错的一项后再导入"]
    english = home("cs", "household", "import", write(tmp_path / "list.csv", rows, NATIONAL), lang="en")
    assert 'line 5, township: "梅江" is not the township of the village with code 360730101201' in english.err, english.err


def test_a_village_name_alone_still_names_the_village(home, tmp_path):  # noqa: F811
    header = tuple(h for h in NATIONAL if h != "村编码")
    rows = [r[:2] + r[3:] for r in _national(["洋塘村", "洋塘村", "梅江镇洋塘村", "石上村", "洋塘村"])]
    result = home("cs", "household", "import", write(tmp_path / "名单.csv", rows, header))
    assert result.code == 0, result.err
    assert registered(home)["人3"][:2] == (VILLAGE2, code(3))


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


def test_a_formula_with_no_value_saved_is_its_rows_problem_never_an_empty_cell_or_a_default(home, tmp_path):  # noqa: F811
    """A workbook a program wrote (openpyxl: <f>…</f><v/>) holds its formulas' text and no value. The
    name was read as missing, the ID number as having 0 digits, the health as blank and so 健康 (the
    household imported with it); each is now its row's problem saying what to do, the rest imported."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["户编号", "村编码", "姓名", "身份证号", "与户主关系", "健康状况", "致贫原因"])
    sheet.append([code(1), VILLAGE, '=HYPERLINK("http://x","张一")', sound(1), "户主", "健康", "因病"])
    sheet.append([code(2), VILLAGE, "王二", '=TEXT(B3,"0")', "户主", "健康", "因病"])
    sheet.append([code(3), VILLAGE, "李三", sound(3), "户主", '=IF(1,"残疾","")', "因病"])
    sheet.append([code(4), VILLAGE, "赵四", sound(4), "户主", "健康", "因病"])
    path = tmp_path / "程序写的.xlsx"
    book.save(path)
    result = home("cs", "household", "import", str(path), "--skip-bad", str(tmp_path / "bad.csv"))
    assert result.code == 0, result.err
    assert "已导入 1 户、1 人" in result.out and sorted(registered(home)) == ["赵四"]
    for line, column in ((2, "姓名"), (3, "身份证号"), (4, "健康状况")):
        assert f"第 {line} 行，{column}：这一格是公式，但文件中没有保存它的值" in result.err, result.err
    assert "缺少姓名" not in result.err and "有 0 位" not in result.err and "打开该文件并保存" in result.err
    english = home("cs", "household", "import", str(path), lang="en")
    assert english.code == 2 and "line 4, health: this cell is a formula with no value saved in the file" in english.err
    regions = openpyxl.Workbook()
    regions.active.append(["区划代码", "名称"])
    regions.active.append(["360730100298", '=HYPERLINK("x")'])
    regions.save(tmp_path / "区域.xlsx")
    refused = home("admin", "region", "import", str(tmp_path / "区域.xlsx"))
    assert refused.code == 2 and "第 2 行，名称：这一格是公式" in refused.err and "缺少名称" not in refused.err, refused.err


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


# --- 5. a household listed twice ----------------------------------------------------------------------

HEADER = ("户编号", "村编码", "姓名", "身份证号", "与户主关系", "致贫原因")


def _listed_twice() -> list[tuple]:
    first = [(code(1), VILLAGE, "张一", sound(1), "户主", "因病"), (code(1), VILLAGE, "李一", sound(2), "配偶", "")]
    return [*first, (code(2), VILLAGE, "王二", sound(3), "户主", "因学"), *first, (code(3), VILLAGE, "赵三", sound(4), "户主", "因病")]


def test_a_household_listed_twice_is_told_to_delete_the_repeated_rows_not_to_sort(home, tmp_path):  # noqa: F811
    """The repeat was told as the same code "too far apart to join: sort by 户编号", and each ID number
    as that of an earlier line: sorting the file would not have helped."""
    before = home.snapshot()
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", _listed_twice(), HEADER))
    assert result.code == 2 and home.snapshot() == before
    assert "第 5 行，户编号：这一户已在第 2 行起列出过，第 5–6 行是同一户又列了一遍" in result.err
    assert "请删去这 2 行后重新导入" in result.err
    assert "排序" not in result.err and "身份证号相同" not in result.err and "共 1 处" in result.err
    english = home("vs", "household", "import", write(tmp_path / "list.csv", _listed_twice(), HEADER), lang="en")
    assert "line 5, household code: this household is listed already from line 2, and line(s) 5–6" in english.err
    bad = tmp_path / "错误行.csv"
    kept = home("vs", "household", "import", write(tmp_path / "名单2.csv", _listed_twice(), HEADER), "--skip-bad", str(bad))
    assert kept.code == 0 and "已导入 3 户、4 人" in kept.out
    assert [r[0] for r in csv.reader(bad.read_text(encoding="utf-8-sig").splitlines()[1:])] == ["5", "6"]


def test_a_household_listed_again_in_the_next_batch_is_told_so_too(home, tmp_path, monkeypatch):  # noqa: F811
    from workflows import household_import
    monkeypatch.setattr(household_import, "BATCH", 2)       # the repeat is checked after its household is written
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", _listed_twice(), HEADER))
    assert result.code == 2 and "第 5 行，户编号：这一户已在第 2 行起列出过，第 5–6 行" in result.err
    assert "排序" not in result.err and "已登记" not in result.err


def test_a_household_listed_again_batches_later_is_told_so_too(home, tmp_path, monkeypatch):  # noqa: F811
    """Beyond the batch before, the repeat was told as the same 户编号 "too far apart: sort the file",
    and each member's ID number as an earlier line's; sorting would not have helped. Under another
    户编号 the same people are still each told as an earlier line's ID number."""
    from workflows import household_import
    monkeypatch.setattr(household_import, "BATCH", 1)       # households 1, 2, then 1 again two batches on
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", _listed_twice(), HEADER))
    assert result.code == 2 and "第 5 行，户编号：这一户已在第 2 行起列出过，第 5–6 行" in result.err, result.err
    assert "排序" not in result.err and "身份证号相同" not in result.err and "共 1 处" in result.err
    rows = _listed_twice()
    rows[3:5] = [(code(9), *r[1:]) for r in rows[3:5]]
    other = home("vs", "household", "import", write(tmp_path / "名单2.csv", rows, HEADER))
    assert "又列了一遍" not in other.err and \
        "第 5 行，身份证号：与本文件第 2 行起所列的那一户中一名成员的身份证号相同" in other.err, other.err


def test_rows_that_add_a_member_or_share_one_person_are_not_a_household_listed_twice(home, tmp_path):  # noqa: F811
    rows = _listed_twice()
    rows[4] = (code(1), VILLAGE, "新人", sound(9), "配偶", "")          # the second listing has another member
    rows[5] = (code(3), VILLAGE, "李一", sound(2), "户主", "因病")       # 分户: a member of 张一's heads a household
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows, HEADER))
    assert result.code == 2 and "又列了一遍" not in result.err
    assert "第 5 行，户编号：与第 2 行的户编号相同" in result.err and "第 7 行，身份证号：与第 3 行的身份证号相同" in result.err
