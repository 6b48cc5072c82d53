"""A township clerk's walk of the bulk evidence import, what its report of bad rows says: a long
number typed as a number is its row's problem, not the file's (it stopped the whole import, even
with --skip-bad, and hid every other bad row); an error names the column the file named the
household by (it said 案件编号 of a file with none), and an ID number with a wrong check digit is
said to be invalid (it said no such household); many problems are summed up by the kind of message,
not by its text (each naming its file, 21 rows were 21 kinds)."""
from __future__ import annotations

import json
import sqlite3

import openpyxl

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import VILLAGE2, member_ids


def held_items(home, case: int, etype: str = "two_assurances") -> list[dict]:  # noqa: F811
    """The fields of the household's current items of the type."""
    with sqlite3.connect(home.db) as conn:
        return [json.loads(f) for (f,) in conn.execute(
            "SELECT fields FROM evidence WHERE case_id = ? AND type = ? AND superseded_by IS NULL", (case, etype))]


def csv_sheet(path, rows: list[tuple], header: tuple = ("案件编号", "不愁吃", "不愁穿")) -> str:
    """A two_assurances sheet (CSV) of these rows; its path."""
    path.write_text("\n".join(",".join(map(str, r)) for r in [header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def test_a_number_typed_as_a_number_is_its_rows_problem_and_every_bad_row_is_told(home, tmp_path):  # noqa: F811
    cases = [home.register(seed=96 + i, evidence=False) for i in range(2)]
    with sqlite3.connect(home.db) as conn:
        for n, case in enumerate(cases):
            conn.execute("UPDATE cases SET external_code = ? WHERE id = ?", (f"36073010020100000{n}", case))
    book = openpyxl.Workbook()
    for row in [("户编号", "不愁吃", "不愁穿"), ("360730100201000000", "是", "是"),
                (360730100201000001, "是", "是"),            # typed as a number: its last digits lost
                ("360730100201009999", "是", "是")]:          # no such household
        book.active.append(list(row))
    path = tmp_path / "两不愁.xlsx"
    book.save(path)
    refused = home("vs", "evidence", "import", str(path), "--type", "two_assurances")
    assert refused.code == 2, refused.err
    assert "第 3 行，户编号：是数字格式" in refused.err and "第 4 行，户编号：找不到这一户" in refused.err
    assert "第 3 行，户编号：找不到" not in refused.err          # the cut number is told once, as cut
    done = home("vs", "evidence", "import", str(path), "--type", "two_assurances", "--skip-bad", str(tmp_path / "未导入.xlsx"))
    assert done.code == 0, done.err
    assert held_items(home, cases[0]) == [{"food": True, "clothing": True}] and held_items(home, cases[1]) == []
    kept = [[c.value for c in row] for row in openpyxl.load_workbook(tmp_path / "未导入.xlsx").active.iter_rows()]
    assert [row[0] for row in kept[1:]] == ["3", "4"]


def test_a_problem_names_the_column_the_file_used_and_a_wrong_check_digit_is_said(home, tmp_path):  # noqa: F811
    home.register(seed=97, evidence=False)
    home.register(village=VILLAGE2, seed=98, evidence=False)        # out of vs's reach
    head = member_ids(2, 97)[0]
    wrong = head[:-1] + ("0" if head[-1] != "0" else "1")
    unknown = member_ids(1, 99)[0]
    sheet = csv_sheet(tmp_path / "两不愁.csv", [(head, "是", "是"), (wrong, "是", "是"), (unknown, "是", "是"),
                                              (member_ids(2, 98)[0], "是", "是")], header=("身份证号", "不愁吃", "不愁穿"))
    result = home("vs", "evidence", "import", sheet, "--type", "two_assurances")
    assert result.code == 2 and "案件编号" not in result.err.replace("请填写案件编号", ""), result.err
    masked = wrong[:6] + "********" + wrong[-4:]
    assert f"第 3 行，身份证号：身份证号 {masked} 无效：校验码不对" in result.err and wrong not in result.err
    assert "第 4 行，身份证号：找不到这一户，或不在您的辖区内" in result.err
    assert "第 5 行，身份证号：找不到这一户，或不在您的辖区内" in result.err      # elsewhere: told as unknown
    assert not [t for t in result.err.splitlines() if t.startswith(("第 2 行", "第 3 行，身份证号：找不到"))]


def test_many_problems_are_summed_up_by_their_kind_not_their_text(home, tmp_path):  # noqa: F811
    """21 rows naming files, no --files given: one fault, told as one kind (each message names its
    file; the summary had counted 21 kinds)."""
    sheet = csv_sheet(tmp_path / "两不愁.csv", [(900 + i, "是", "是", f"扫描件{i}.jpg") for i in range(21)],
                   header=("案件编号", "不愁吃", "不愁穿", "文件"))
    result = home("vs", "evidence", "import", sheet, "--type", "two_assurances")
    assert result.code == 2
    assert "共 42 处错误，分 2 类" in result.err, result.err
    assert "文件，21 处，如：表格写了文件 扫描件0.jpg" in result.err
