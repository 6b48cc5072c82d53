"""What an evidence sheet's cells say, read as cadres and spreadsheets write them: a household code
typed in groups of four (3607 3010 0201 0123) is read as an ID number is; one a spreadsheet turned
into 3.6073E+15 is said to be the spreadsheet's doing (both were "no such household"), as a formula
left without its result is; √ and ✓ are yes, × is no, and 已验收 is a renovation accepted (each was
"应为是或否")."""
from __future__ import annotations

import sqlite3

import openpyxl

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_evidence_sheet_report import csv_sheet, held_items


def _coded(home, n: int, seed: int) -> list[int]:  # noqa: F811
    """`n` households without evidence, the first known by the household code 3607301002010123."""
    cases = [home.register(seed=seed + i, evidence=False) for i in range(n)]
    with sqlite3.connect(home.db) as conn:
        conn.execute("UPDATE cases SET external_code = '3607301002010123' WHERE id = ?", (cases[0],))
    return cases


def test_a_household_code_in_groups_or_mangled_by_a_spreadsheet_is_read_as_an_id_number_is(home, tmp_path):  # noqa: F811
    cases = _coded(home, 1, 150)
    mangled = csv_sheet(tmp_path / "两不愁.csv", [("3.60730100201012E+15", "是", "是")], ("户编号", "不愁吃", "不愁穿"))
    refused = home("vs", "evidence", "import", mangled, "--type", "two_assurances")
    assert refused.code == 2 and "第 2 行，户编号：被表格软件改成了科学计数法（3.60730100201012E+15）" in refused.err, refused.err
    assert "找不到这一户" not in refused.err
    book = openpyxl.Workbook()
    book.active.append(["户编号", "不愁吃", "不愁穿"])
    book.active.append(['=HYPERLINK("http://x")', "是", "是"])        # written by a program: no result held
    book.save(tmp_path / "两不愁.xlsx")
    formula = home("vs", "evidence", "import", str(tmp_path / "两不愁.xlsx"), "--type", "two_assurances")
    assert formula.code == 2 and "第 2 行，户编号：这一格是公式，但文件中没有保存它的值" in formula.err, formula.err
    spaced = csv_sheet(tmp_path / "两不愁.csv", [("3607 3010 0201 0123", "是", "是")], ("户编号", "不愁吃", "不愁穿"))
    done = home("vs", "evidence", "import", spaced, "--type", "two_assurances")
    assert done.code == 0, done.err
    assert held_items(home, cases[0]) == [{"food": True, "clothing": True}]


def test_ticks_and_crosses_are_yes_and_no_and_a_renovation_is_accepted(home, tmp_path):  # noqa: F811
    cases = [home.register(seed=160 + i, evidence=False) for i in range(4)]
    ticks = csv_sheet(tmp_path / "两不愁.csv", [(cases[0], "√", "✓"), (cases[1], "✔", "×"), (cases[2], "是", "✗")])
    done = home("vs", "evidence", "import", ticks, "--type", "two_assurances")
    assert done.code == 0, done.err
    assert [held_items(home, c)[0] for c in cases[:3]] == [
        {"food": True, "clothing": True}, {"food": True, "clothing": False}, {"food": True, "clothing": False}]
    housing = csv_sheet(tmp_path / "住房.csv", [(cases[0], "C", "已验收"), (cases[3], "D", "未验收")],
                        ("案件编号", "住房等级", "危房改造已验收"))
    done = home("vs", "evidence", "import", housing, "--type", "housing_safety")
    assert done.code == 0, done.err
    assert held_items(home, cases[0], "housing_safety") == [{"grade": "C", "renovated_accepted": True}]
    assert held_items(home, cases[3], "housing_safety") == [{"grade": "D", "renovated_accepted": False}]


def test_money_written_in_wan_or_with_a_yuan_sign_is_read_exactly_and_nonsense_still_refused(home, tmp_path):  # noqa: F811
    import csv
    cases = [home.register(seed=170 + i, evidence=False) for i in range(6)]
    written = [(cases[0], "1.2万"), (cases[1], "1.15 万元"), (cases[2], "￥8,500"), (cases[3], "12,000元")]
    path = tmp_path / "收支.csv"
    with open(path, "w", encoding="gbk", newline="") as fh:      # a GBK CSV, as Excel saves one in China
        csv.writer(fh).writerows([("案件编号", "年度", "家庭纯收入"), *((c, 2019, v) for c, v in written)])
    done = home("vs", "evidence", "import", str(path), "--type", "income_check")
    assert done.code == 0, done.err
    assert [held_items(home, c, "income_check")[0]["net_income"] for c in cases[:4]] == [12000, 11500, 8500, 12000]
    book = openpyxl.Workbook()                  # a workbook's text cells alike
    for row in [("案件编号", "年度", "家庭纯收入"), (cases[4], 2019, "0.35万"), (cases[5], 2019, "¥3,600")]:
        book.active.append(row)
    book.save(tmp_path / "收支.xlsx")
    assert home("vs", "evidence", "import", str(tmp_path / "收支.xlsx"), "--type", "income_check").code == 0
    assert [held_items(home, c, "income_check")[0]["net_income"] for c in cases[4:]] == [3500, 3600]
    nonsense = [(cases[0], 2020, "1.2万万"), (cases[1], 2020, "约1万"), (cases[2], 2020, "万")]
    with open(path, "w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows([("案件编号", "年度", "家庭纯收入"), *nonsense])
    refused = home("vs", "evidence", "import", str(path), "--type", "income_check")
    assert refused.code == 2
    for line in (2, 3, 4):
        assert f"第 {line} 行，家庭纯收入：" in refused.err, refused.err
