"""A county clerk's registry files after the national system's words were read (test_national_export):
the bad-rows CSV keeps long numbers whole through a spreadsheet; numbers Excel has already turned into
3.6073E+17 or cut to 15 digits are each one row's problem, said as such; a newborn listed at the bottom
of a village joins its household; ID numbers as typed and pasted; names with a lost character."""
from __future__ import annotations

import csv
import sqlite3

import openpyxl
from stdnum.cn import ric

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import VILLAGE

HEADER = ("户编号", "村编码", "姓名", "身份证号", "与户主关系", "银行账号", "致贫原因")


def sound(seq: int, year: int = 2000, county: str = "360730") -> str:
    """A sound number of 宁都县 for someone born when 360730 existed (nothing to confirm); of another
    county (360731, 于都县 since 1999, born before it: to confirm in a 宁都县 household)."""
    first17 = f"{county}{year}0101{seq:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


def code(n: int) -> str:
    return f"3607301002040{n:05d}"        # an 18-digit 户编号 as the national system gives them


def write(path, rows, header=HEADER, encoding="utf-8") -> str:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return str(path)


def members(home) -> dict[str, tuple]:
    with sqlite3.connect(home.db) as conn:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT m.name, c.external_code, m.id_number, m.bank_account, m.relation FROM household_members m "
            "JOIN cases c ON c.id = m.case_id")}


# --- 1. the bad-rows file through a spreadsheet -------------------------------------------------------

def test_the_bad_rows_csv_keeps_long_numbers_as_text_and_imports_again(home, tmp_path):  # noqa: F811
    rows = [(code(1), VILLAGE, "张一", sound(1), "户主", "6217001234567890123", "因病"),
            (code(1), VILLAGE, "李一", sound(2), "老婆子", "6217001234567890124", ""),
            (code(2), VILLAGE, "王二", sound(3), "户主", "", "因学")]
    bad = tmp_path / "错误行.csv"
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows), "--skip-bad", str(bad))
    assert result.code == 0, result.err
    assert "「.xlsx」" in result.err and "制表符" in result.err             # how it is kept, and what is safer
    text = bad.read_text(encoding="utf-8-sig")
    assert "=" not in text                                                  # no formula, ever
    written = list(csv.reader(text.splitlines()))
    assert written[2][1:4] == ["\t" + code(1), "\t" + VILLAGE, "李一"] and written[2][5] == "老婆子"
    assert written[2][4] == ("" if sound(2).endswith("X") else "\t") + sound(2)   # ...X: text as it is
    assert written[2][6] == "\t6217001234567890124"
    # the clerk corrects the relation; the spreadsheet saves the text cells as they are (tab and all), in GBK
    fixed = tmp_path / "改正.csv"
    fixed.write_text(text.replace("老婆子", "配偶"), encoding="gbk")
    again = home("vs", "household", "import", str(fixed))
    assert again.code == 0, again.err
    assert members(home)["李一"] == (code(1), sound(2), "6217001234567890124", "spouse")


def test_a_code_excel_turned_into_scientific_notation_is_said_so_not_as_two_heads(home, tmp_path):  # noqa: F811
    rows = [("3.6073E+17", "3.6073E+11", "张一", sound(1), "户主", "6.217E+18", "因病"),
            ("3.6073E+17", "3.6073E+11", "李一", sound(2), "配偶", "", ""),
            ("3.6073E+17", "3.6073E+11", "王二", sound(3), "户主", "", "因学")]
    before = home.snapshot()
    result = home("vs", "household", "import", write(tmp_path / "改正.csv", rows))
    assert result.code == 2 and home.snapshot() == before
    assert "第 2 行，户编号：被表格软件改成了科学计数法（3.6073E+17）" in result.err
    assert "第 4 行，户编号：被表格软件改成了科学计数法" in result.err
    assert "第 2 行，银行账号：被表格软件改成了科学计数法，" in result.err            # a personal number not shown
    assert "名户主" not in result.err and "不是村级" not in result.err and "相同" not in result.err


# --- 2. an ID number stored as a number in a workbook -------------------------------------------------

def test_numbers_cut_to_15_digits_are_each_their_rows_problem(home, tmp_path):  # noqa: F811
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([code(1), VILLAGE, "张一", int(sound(1)), "户主", "", "因病"])     # Excel keeps 3.60730200001012E+17
    sheet.append([code(2), VILLAGE, "王二", sound(2), "户主", "", "因病"])
    sheet.append([code(3), VILLAGE, "赵三", int(sound(3)), "户主", "", "因病"])
    path = tmp_path / "名单.xlsx"
    book.save(path)
    result = home("vs", "household", "import", str(path), "--skip-bad", str(tmp_path / "错误行.xlsx"))
    assert result.code == 0, result.err
    assert "第 2 行，身份证号：是数字格式" in result.err and "第 4 行，身份证号：是数字格式" in result.err
    assert "校验码" not in result.err                    # the number's cut digits are not told again
    assert set(members(home)) == {"王二"} and "另有 2 户" in result.out
    refused = home("vs", "household", "import", str(path))       # without --skip-bad: both told, none written
    assert refused.code == 2 and refused.err.count("是数字格式") == 2
    # The bad rows' file shows such a cell as the spreadsheet did, never as 18 digits it does not hold
    # (it wrote 36073020000101…20, an ID number that looked whole and might pass its check digit).
    kept = [[c.value for c in row] for row in openpyxl.load_workbook(tmp_path / "错误行.xlsx").active.iter_rows()]
    at = kept[0].index(next(h for h in kept[0] if h and "身份证号" in str(h)))
    ids = [row[at] for row in kept[1:]]
    assert ids == [f"{int(sound(1)):.5E}", f"{int(sound(3)):.5E}"], ids


# --- 3. a household's rows not together ----------------------------------------------------------------

def _village_list(newborn_of: int = 2) -> list[tuple]:
    rows = [(code(i), VILLAGE, f"户主{i}", sound(i), "户主", "", "因病") for i in range(1, 6)]
    return rows + [(code(newborn_of), VILLAGE, "新生儿", sound(90, 2020), "之子", "", "")]


def test_a_newborn_added_at_the_bottom_joins_the_household_of_its_code(home, tmp_path):  # noqa: F811
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", _village_list()))
    assert result.code == 0, result.err
    assert members(home)["新生儿"][:1] == (code(2),) and "已导入 5 户、6 人" in result.out


def test_a_row_too_far_from_its_household_says_to_sort_by_the_code(home, tmp_path, monkeypatch):  # noqa: F811
    from entrypoints.cli import households
    monkeypatch.setattr(households, "LOOK_BACK", 2)         # a county's list: the household is far above
    before = home.snapshot()
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", _village_list()))
    assert result.code == 2 and home.snapshot() == before
    assert "第 7 行，户编号：与第 3 行的户编号相同" in result.err and "按“户编号”列排序" in result.err
    assert "名户主" not in result.err                       # not "the household has 0 heads"


def test_a_second_head_with_an_earlier_code_is_another_household_told_by_its_code(home, tmp_path):  # noqa: F811
    rows = _village_list()
    rows[-1] = (code(2), VILLAGE, "另一户主", sound(91), "户主", "", "因病")
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows))
    assert result.code == 2 and "第 7 行，户编号：与第 3 行的户编号相同" in result.err and "2 名户主" not in result.err


def test_one_code_in_two_villages_is_told_as_two_villages_not_to_sort(home, tmp_path):  # noqa: F811
    """Before: "sort by 户编号" — no sorting joins two villages' households."""
    from tests.world import VILLAGE2
    rows = _village_list()
    rows[-1] = (code(2), VILLAGE2, "另村户主", sound(92), "户主", "", "因病")
    result = home("cd", "household", "import", write(tmp_path / "全县.csv", rows))
    assert result.code == 2 and "第 7 行，户编号：与第 3 行的户编号相同，但两行属于不同的村" in result.err
    assert "排序也无法合并" in result.err and "按“户编号”列排序" not in result.err


def test_a_name_that_is_a_spreadsheet_formula_is_refused_on_its_line(home, tmp_path):  # noqa: F811
    """Before: =1+1, @SUM(A1) and =HYPERLINK(…) were registered as members' names."""
    rows = _village_list()[:3]
    rows[1] = (code(2), VILLAGE, "=1+1", sound(2), "户主", "", "因病")
    rows[2] = (code(3), VILLAGE, '=HYPERLINK("http://x","点我")', sound(3), "户主", "", "因病")
    before = home.snapshot()
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows))
    assert result.code == 2 and home.snapshot() == before
    assert "第 3 行，姓名：" in result.err and "第 4 行，姓名：" in result.err
    assert result.err.count("像是表格里的公式而不是姓名") == 2 and "HYPERLINK" not in result.err


# --- 4. ID numbers as typed and pasted ---------------------------------------------------------------------

def test_id_numbers_typed_full_width_pasted_with_a_zero_width_space_or_an_apostrophe_are_read(home, tmp_path):  # noqa: F811
    full_width = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in sound(1))
    rows = [(code(1), VILLAGE, "张一", full_width, "户主", "", "因病"),
            (code(2), VILLAGE, "王二", "\u200b" + sound(2) + "\u200b", "户主", "", "因病"),
            (code(3), VILLAGE, "赵三", "'" + sound(3), "户主", "", "因病")]
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows))
    assert result.code == 0, result.err
    found = members(home)
    assert (found["张一"][1], found["王二"][1], found["赵三"][1]) == (sound(1), sound(2), sound(3))


def test_an_old_15_digit_number_and_a_wrong_length_are_said_without_the_number(home, tmp_path):  # noqa: F811
    old = "360730700101123"
    rows = [(code(1), VILLAGE, "张一", old, "户主", "", "因病"),
            (code(2), VILLAGE, "王二", sound(2)[:17], "户主", "", "因病")]
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows))
    assert result.code == 2
    assert "第 2 行，身份证号" in result.err and "15 位的旧身份证号：请换成本人现在的 18 位身份证号" in result.err
    assert "第 3 行，身份证号" in result.err and "有 17 位，应为 18 位" in result.err
    assert old not in result.err and sound(2)[:17] not in result.err
    english = home("vs", "household", "import", str(tmp_path / "名单.csv"), lang="en")
    assert "old 15-digit ID number" in english.err and "it has 17 characters" in english.err


# --- 5. and 6. names with a lost character; many things to confirm -----------------------------------

def test_a_name_with_a_lost_character_is_to_confirm_and_many_warnings_are_summed_up_by_kind(home, tmp_path):  # noqa: F811
    names = {3: "张?华", 4: "李\ufffd", 5: "王？"}
    rows = [(code(i), VILLAGE, names.get(i, f"户主{i}"), sound(i, 1960, "360731"), "户主", "", "因病") for i in range(1, 31)]
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows))
    assert result.code == 0, result.err
    told = [line for line in result.err.splitlines() if line.startswith("需核实")]
    assert len(told) == 2 and "第 " not in result.err.split("需核实")[0]          # no line a row
    assert told[0].startswith("需核实 30 处：身份证号的地区码") and "（第 2、3、4、5、6… 行）" in told[0]
    assert told[1].startswith("需核实 3 处：姓名中有问号或乱码字符") and "（第 4、5、6 行）" in told[1]
    confirm = tmp_path / "名单.to-confirm.xlsx"
    assert f"全部 33 处需核实的行（行号、户、姓名、身份证号、列及原因）已写入 {confirm}" in result.err
    assert oct(confirm.stat().st_mode & 0o777) == "0o600"
    assert "张?华" not in result.err                                # the terminal names nobody
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(confirm).active.iter_rows()]
    assert [r[2] for r in rows if r[4] == "姓名"] == ["张?华", "李\ufffd", "王？"]


def test_a_few_warnings_are_told_one_by_one(home, tmp_path):  # noqa: F811
    rows = [(code(1), VILLAGE, "张?华", sound(1), "户主", "", "因病")]
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows), lang="en")
    assert result.code == 0, result.err
    assert "line 2 (张?华), name (to confirm): the name holds a question mark" in result.err     # whom, by name


# --- 7. an evidence sheet as a spreadsheet saves it ------------------------------------------------------

def test_an_evidence_sheet_with_a_title_row_a_year_as_a_number_and_a_date_time_is_read(home, tmp_path):  # noqa: F811
    cases = [home.register(seed=60 + i, evidence=False) for i in range(2)]
    sheet = tmp_path / "收入.csv"
    sheet.write_text(f"2019年度收支核查表,,\n,,\n案件编号,年度,家庭纯收入\n{cases[0]},2019.0,5200\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    assert result.code == 0, result.err
    assert "年度：2019" in home.ok("vs", "case", "show", cases[0]).out
    applications = tmp_path / "申请.csv"
    applications.write_text(f"案件编号,申请人,申请日期\n{cases[1]},张三,2020-09-01 00:00:00\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(applications), "--type", "application")
    assert result.code == 0, result.err
    assert "2020-09-01" in home.ok("vs", "case", "show", cases[1]).out


def test_an_unknown_evidence_type_is_refused_before_the_file_is_read(home, tmp_path):  # noqa: F811
    empty = tmp_path / "空.csv"
    empty.write_text("", encoding="utf-8")
    result = home("vs", "evidence", "import", str(empty), "--type", "收入表")
    assert result.code == 2 and "未知材料类型 收入表" in result.err and "没有数据" not in result.err


# --- 8. the national statistics bureau's division table ---------------------------------------------------

def test_the_statistics_bureaus_division_table_imports_and_a_missing_column_is_named_as_its_header(home, tmp_path):  # noqa: F811
    table = tmp_path / "区划.csv"
    table.write_text("统计用区划代码,城乡分类代码,名称\n360730100298,220,新村\n", encoding="utf-8")
    result = home("admin", "region", "import", str(table))
    assert result.code == 0, result.err
    other = tmp_path / "区划2.csv"
    other.write_text("统计用区划代码,区划名称\n360730100297,又一村\n", encoding="utf-8")
    assert home("admin", "region", "import", str(other)).code == 0
    wrong = tmp_path / "区划3.csv"
    wrong.write_text("区划,名字\n360730100296,某村\n", encoding="utf-8")
    refused = home("admin", "region", "import", str(wrong))
    assert refused.code == 2 and "缺少列：区划代码、名称。" in refused.err and "code" not in refused.err


def test_an_evidence_sheet_without_a_column_naming_its_households_says_one_of_them_is_needed(home, tmp_path):  # noqa: F811
    sheet = tmp_path / "收入.csv"
    sheet.write_text("姓名,年度\n张三,2019\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    assert result.code == 2 and "至少一列：案件编号、户主身份证号、户编号、身份证号" in result.err


def test_an_evidence_sheet_passes_over_its_totals_and_signature_lines(home, tmp_path):  # noqa: F811
    """A village's income sheet ends with 合计 and the secretary's signature line: they were read as
    households ("找不到这一户", "缺少字段 家庭纯收入")."""
    assert home("vs", "household", "import", write(tmp_path / "名单.csv", [
        (code(7), VILLAGE, "张七", sound(7), "户主", "", "因病")])).code == 0
    sheet = tmp_path / "收入.csv"
    sheet.write_text("户编号,年度,家庭纯收入\n"
                     f"{code(7)},2019,5200\n"
                     "合计,,5200\n"
                     "村支书（签字）：,,\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    assert result.code == 0 and "找不到" not in result.err and "缺少字段" not in result.err, result.err
    assert "已跳过合计行和表下的签字" in result.err and "3、4" in result.err


def test_a_sheets_year_is_given_once(home, tmp_path):  # noqa: F811
    """An income sheet whose year stands only in its title (2020年…收入核查表) failed 缺少字段 年度 on
    every row: --year gives it once; a type without a year refuses the option."""
    assert home("vs", "household", "import", write(tmp_path / "名单.csv", [
        (code(8), VILLAGE, "张八", sound(8), "户主", "", "因病")])).code == 0
    sheet = tmp_path / "收入.csv"
    sheet.write_text("2019年洋塘村收支核查表\n户编号,家庭纯收入\n" f"{code(8)},5200\n", encoding="utf-8")
    without = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    assert without.code == 2 and "年度" in without.err
    given = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--year", "2019")
    assert given.code == 0, given.err
    refused = home("vs", "evidence", "import", str(sheet), "--type", "application", "--year", "2019")
    assert refused.code == 2 and "没有年度字段" in refused.err


def test_many_problems_of_a_few_kinds_are_summed_up_by_kind(home, tmp_path):  # noqa: F811
    """A systematic fault (one unknown word in a column) printed hundreds of lines and nothing else:
    after them, one line a kind says what to fix once in the sheet."""
    header = (*HEADER, "在校情况")
    rows = [(code(100 + i), VILLAGE, f"户主{i}", sound(100 + i), "户主", "", "因病", "不知道") for i in range(22)]
    rows += [(code(200 + i), VILLAGE, f"另户{i}", sound(200 + i), "户主", "", "乱填", "") for i in range(3)]
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows, header))
    assert result.code == 2
    assert "共 25 处错误，分 2 类" in result.err
    assert "在校情况，22 处，如：" in result.err and "致贫原因，3 处，如：" in result.err
    assert result.err.index("在校情况，22 处") < result.err.index("致贫原因，3 处")     # the most frequent first


def test_a_summary_kind_holds_one_problem_its_lines_show_and_a_row_naming_no_household_is_told_once(home, tmp_path):  # noqa: F811
    """The summary by kind named "该户有 2 名户主" with the line of a household that had none (two heads and
    none were one kind); English said "1 times" and "lines 106"; a row naming no household (a merged
    户编号 cell) was told four times: no household code, no causes, no village, 0 heads."""
    header = (*HEADER, "在校情况")
    rows = [(code(300 + i), VILLAGE, f"户主{i}", sound(300 + i), "户主", "", "因病", "不知道") for i in range(20)]
    rows += [(code(400), VILLAGE, "甲", sound(400), "户主", "", "因病", ""),            # line 22: two heads
             (code(400), VILLAGE, "乙", sound(401), "户主", "", "", ""),
             (code(401), VILLAGE, "丙", sound(402), "配偶", "", "因病", ""),            # line 24: no head
             ("", "", "丁", sound(403), "子女", "", "", "")]                             # line 25: no household
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows, header))
    assert result.code == 2
    assert "与户主关系，1 处：该户有 2 名户主（须恰好 1 名；同一户的各行须相邻）（第 22 行）" in result.err, result.err
    assert "与户主关系，1 处：该户没有户主（须恰好 1 名；同一户的各行须相邻）（第 24 行）" in result.err
    assert [line for line in result.err.splitlines() if line.startswith("第 25 行")] == [
        "第 25 行，户（分组）：没有户编号：每行须填写所属农户的户编号（或分组列）"]
    assert "共 23 处错误，分 4 类" in result.err
    english = home("vs", "household", "import", write(tmp_path / "名单.csv", rows, header), lang="en")
    assert "relation to the head, once: the household has 2 heads" in english.err and "(line 22)" in english.err
    assert "school enrolment, 20 times, as:" in english.err and "1 times" not in english.err
    assert "(lines 22)" not in english.err and "(lines 24)" not in english.err


# --- a village's list kept and uploaded again, after a member left ------------------------------------

def test_a_kept_list_says_which_member_left_and_which_left_only_in_the_file(home, tmp_path):  # noqa: F811
    """A member recorded as left in the case, still listed in an older copy of the list: told that she
    left, with the recorded reason (not 'add her in the case', which registered her again). A member
    whose 在户 the cadre set to 死亡 in the file, still in the household in the case: told on her own
    line, and her row kept in the bad-rows file with the reason."""
    rows = [(code(1), VILLAGE, "张一", sound(1), "户主", "", "因病"),
            (code(1), VILLAGE, "李一", sound(2), "配偶", "", ""),
            (code(1), VILLAGE, "张老", sound(3, 1950), "父母", "", "")]
    listing = write(tmp_path / "名单.csv", rows)
    assert home("vs", "household", "import", listing).code == 0
    left = home("vs", "household", "member-leave", "1", sound(3, 1950), "--reason", "2020年9月去世")
    assert left.code == 0, left.err
    again = home("vs", "household", "import", write(tmp_path / "再次.csv", [
        *rows, (code(2), VILLAGE, "王二", sound(4), "户主", "", "因学")]))
    assert again.code != 0
    assert "第 4 行" in again.err and "已登记为离开本户（原因：2020年9月去世）" in again.err
    assert "请在该案件中添加" not in again.err.replace("若此人确已回到本户，请在该案件中添加", "")
    header = (*HEADER, "在户")
    marked = write(tmp_path / "标注.csv", [(*rows[0], "是"), (*rows[1], "死亡"),
                                          (code(3), VILLAGE, "赵三", sound(5), "户主", "", "因残", "是")], header)
    bad = tmp_path / "错误行.csv"
    result = home("vs", "household", "import", marked, "--skip-bad", str(bad))
    assert "第 3 行" in result.err and "「在户」为「死亡」，而此人在案件" in result.err
    assert "另有" not in result.err.split("第 3 行")[0].split("\n")[-1]        # not told as a missing member
    written = list(csv.reader(bad.read_text(encoding="utf-8-sig").splitlines()))
    assert [r[3] for r in written[1:]] == ["张一", "李一"] and "死亡" in written[2]
    assert "赵三" in members(home)
    # the head who died, listed first: told on the head's own line too
    first_dead = write(tmp_path / "户主去世.csv", [(*rows[0], "死亡"), (rows[1][0], VILLAGE, "李一", sound(2), "户主", "", "因病", "是"),
                                                (code(4), VILLAGE, "钱四", sound(6), "户主", "", "因残", "是")], header)
    told = home("vs", "household", "import", first_dead, "--skip-bad", str(tmp_path / "错误行2.csv"))
    assert "第 2 行" in told.err and "「在户」为「死亡」，而此人在案件" in told.err, told.err


def test_a_newborn_added_at_the_bottom_of_an_export_joins_its_case_and_is_told_to_be_added_there(home, tmp_path):  # noqa: F811
    """An exported members list (grouped by 案件编号, no 户编号) with a newborn typed at its bottom under
    its household's case number: it is that household's row, told to be added in the case (an import
    does not change a registered household), not a household of its own with no head."""
    rows = [(code(1), VILLAGE, "张一", sound(1), "户主", "", "因病"),
            (code(2), VILLAGE, "王二", sound(3), "户主", "", "因学")]
    assert home("vs", "household", "import", write(tmp_path / "名单.csv", rows)).code == 0
    exported = tmp_path / "成员.csv"
    assert home("vs", "export", "members", "--csv", str(exported)).code == 0
    lines = exported.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    first = dict(zip(header, lines[1].split(",")))
    newborn = {**first, "姓名": "新生儿", "身份证号": sound(9, 2020), "与户主关系": "之子", "户编号": ""}
    with open(exported, "a", encoding="utf-8", newline="") as out:
        csv.writer(out).writerow([newborn[h] for h in header])
    result = home("vs", "household", "import", str(exported))
    assert result.code != 0
    assert f"第 {len(lines) + 1} 行" in result.err and "新成员请在该案件中添加" in result.err, result.err
    assert "名户主" not in result.err


def test_a_row_with_a_households_code_but_its_grouping_cell_blank_is_told_so_not_to_sort(home, tmp_path):  # noqa: F811
    header = ("户主姓名", "户编号", "村编码", "姓名", "身份证号", "与户主关系", "致贫原因")
    rows = [("张一", code(1), VILLAGE, "张一", sound(1), "户主", "因病"),
            ("王二", code(2), VILLAGE, "王二", sound(3), "户主", "因学"),
            ("", code(1), VILLAGE, "张小", sound(9, 2020), "之子", "")]
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows, header))
    assert result.code != 0 and "第 4 行" in result.err
    assert "分户的那一列" in result.err and "是空的" in result.err and "排序" not in result.err, result.err


def test_a_relation_read_as_other_is_told_to_confirm(home, tmp_path):  # noqa: F811
    """之岳母, 女婿: no code of theirs, registered as 其他; the cadre is told the word was not kept.
    其他 itself is not told."""
    rows = [(code(1), VILLAGE, "张一", sound(1), "户主", "", "因病"),
            (code(1), VILLAGE, "王母", sound(2, 1950), "之岳母", "", ""),
            (code(1), VILLAGE, "李某", sound(3, 1960), "其他", "", "")]
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows))
    assert result.code == 0, result.err
    assert "第 3 行" in result.err and "「之岳母」没有对应的代码，已按「其他」登记" in result.err
    assert "第 4 行" not in result.err.split("确认")[-1] or "「其他」没有对应" not in result.err
    assert members(home)["王母"][3] == "other"


def test_a_child_in_a_list_without_labour_ability_has_none_and_is_not_warned_of(home, tmp_path):  # noqa: F811
    """With no 劳动技能 column a child was registered as 普通劳动力 and then warned of as a young worker."""
    rows = [(code(60), VILLAGE, "户主六十", sound(60, 1980), "户主", "", "因病"),
            (code(60), VILLAGE, "孩子六十", sound(61, 2012), "之子", "", "")]
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows))
    assert result.code == 0 and "登记为劳动力" not in result.err and "登记为劳动力" not in result.out, result.err
    assert home("vs", "case", "show", "1").code == 0
    with sqlite3.connect(home.db) as conn:
        labour = dict(conn.execute("SELECT name, labour_ability FROM household_members").fetchall())
    assert labour == {"户主六十": "normal", "孩子六十": "none"}
