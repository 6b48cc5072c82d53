"""A registry moved between homes (export, then import into another): what the import of a members
list says of what it did — codes a spreadsheet turned into numbers, households removed, rejected
applicants starting anew — and what the evidence sheets read."""
from __future__ import annotations

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_household_import import HEADERS, number
from tests.world import VILLAGE


def test_codes_a_spreadsheet_turned_into_numbers_are_listed_to_confirm_with_how_to_fix(home, tmp_path):  # noqa: F811
    """Excel's 转换为数字 made 户编号 00001 the number 1 and a landline 079768123450 the number 79768123450:
    a 0 no one can restore. A mobile number as a number has lost nothing and is not told."""
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(HEADERS))
    sheet.append([1, "王大", number("36073119690101101"), "户主", "健康", 79768123450, "因病"])         # line 2: 于都县, to confirm
    sheet.append([1, "王二", number("36073119920101102"), "子女", "健康", 13912345678, ""])            # line 3
    sheet.append(["00002", "李三", number("36073119920101103"), "户主", "健康", "079768123451", "因学"])  # line 4: text
    workbook = tmp_path / "名单.xlsx"
    book.save(workbook)
    result = home("vs", "household", "import", str(workbook), "--village", VILLAGE)
    assert result.code == 0, result.err
    told = result.err.splitlines()          # (with the ID numbers to confirm: a line for each kind)
    assert any(line.startswith("需核实 2 处：户编号是数字格式") and "00001 变成 1" in line and "设为“文本”格式" in line
               and line.endswith("（第 2、3 行）") for line in told), result.err
    assert any(line.startswith("需核实 1 处：联系电话是数字格式") and line.endswith("（第 2 行）") for line in told), result.err
    assert "79768123450" not in result.err and "13912345678" not in result.err      # no row's personal data
    sheet.append([3, "赵四", number("36073119920101104"), "户主", "健康", "", "因病"])      # another file
    book.save(workbook)
    english = home("vs", "household", "import", str(workbook), "--village", VILLAGE, lang="en")
    # the line and whose it is (the importer's own rows: a name to find the household by, never a number)
    assert "line 2 (王大), household code (to confirm): the household code is a number cell" in english.err, english.err


def test_an_export_s_removed_and_rejected_households_are_counted_in_the_summary_and_the_event(home, tmp_path):  # noqa: F811
    """A members export: a household removed there (已剔除/销户, each member 在户 否) is told as a household
    left out, not only as members who left, and so is its event; a household rejected at identification
    (未通过识别) starts as an applicant again, and the summary and the event say how many."""
    import json
    import sqlite3
    path = tmp_path / "members.csv"
    path.write_text("案件编号,村编码,阶段,姓名,身份证号,与户主关系,在户,致贫原因\n"
                    f"11,{VILLAGE},已剔除/销户,赵一,{number('36073019920101111')},户主,否,因病\n"
                    f"11,{VILLAGE},已剔除/销户,赵二,{number('36073019920101112')},配偶,否,因病\n"
                    f"12,{VILLAGE},帮扶中,钱一,{number('36073019920101113')},户主,是,因病\n"
                    f"12,{VILLAGE},帮扶中,钱二,{number('36073019920101114')},配偶,否,因病\n"      # died there
                    f"13,{VILLAGE},未通过识别,孙一,{number('36073019920101115')},户主,是,因病\n"
                    f"14,{VILLAGE},已剔除/销户,李一,{number('36073019920101116')},户主,否,因病\n", encoding="utf-8")
    result = home("cs", "household", "import", str(path))
    assert result.code == 0, result.err
    assert "已导入 2 户、2 人" in result.out, result.out
    assert "其中 1 户在文件中为“未通过识别”：已登记为重新申请，处于“申请中”阶段" in result.out, result.out
    assert "未导入 2 户已剔除/销户的农户" in result.err and "未导入 1 名已不在户的成员" in result.err, result.err
    with sqlite3.connect(home.db) as conn:
        detail = json.loads(conn.execute("SELECT detail FROM audit_events WHERE action = 'households_imported' "
                                         "ORDER BY seq DESC").fetchone()[0])
    assert detail["removed_households"] == 2 and detail["rejected_applying"] == 1 and detail["households"] == 2
    activity = home("insp", "inspect", "activity")
    assert "已剔除/销户未导入户数：2" in activity.out and "未通过识别、登记为重新申请户数：1" in activity.out, activity.out


def test_a_registered_list_checked_again_with_one_bad_column_tells_that_column_not_its_households_as_registered(
        home, tmp_path):  # noqa: F811
    """A registered list checked again with a bank account spoilt (in a workbook turned into a number, or
    mistyped): the bad cells are its problems; its households are the ones registered, not new ones
    whose members and codes collide with themselves."""
    from tests.test_household_import import GOOD
    headers = (*HEADERS, "银行账号")
    rows = [(*r, "6217001234567890") for r in GOOD]
    first = tmp_path / "名单.csv"
    first.write_text("\n".join(",".join(r) for r in [headers, *rows]) + "\n", encoding="utf-8")
    assert home("vs", "household", "import", str(first), "--village", VILLAGE).code == 0
    rows[0] = (*rows[0][:-1], "62170012345X")                   # line 2: the head of household 1
    again = tmp_path / "名单2.csv"
    again.write_text("\n".join(",".join(r) for r in [headers, *rows]) + "\n", encoding="utf-8")
    before = home.snapshot()
    result = home("vs", "household", "import", str(again), "--village", VILLAGE)
    assert result.code == 2 and home.snapshot() == before, result.err
    told = [line for line in result.err.splitlines() if line.startswith("第 ")]
    assert len(told) == 1 and told[0].startswith("第 2 行，银行账号："), result.err
    assert "已登记在案件" not in result.err and "已登记为案件" not in result.err, result.err


def test_a_date_column_holding_the_spreadsheet_s_date_serial_is_said_to_be_one_with_how_to_fix(home, tmp_path):  # noqa: F811
    """申请日期 in a General cell: the workbook holds 43473, the day 2019-01-08 as a spreadsheet counts it."""
    import openpyxl
    case = home.register(seed=80, evidence=False)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["案件编号", "申请人", "申请日期"])
    sheet.append([case, "王大山80", 43473])
    workbook = tmp_path / "申请.xlsx"
    book.save(workbook)
    before = home.snapshot()
    result = home("vs", "evidence", "import", str(workbook), "--type", "application")
    assert result.code == 2 and home.snapshot() == before, result.err
    told = next(line for line in result.err.splitlines() if line.startswith("第 2 行"))
    assert "收到 43473：这是表格软件的日期序号（即 2019-01-08）" in told and "设为“日期”格式" in told, result.err
    english = home("vs", "evidence", "import", str(workbook), "--type", "application", lang="en")
    assert "spreadsheet's date serial number (the day 2019-01-08)" in english.err, english.err
