"""An evidence sheet's row that names its household two ways — a case number and an ID number, or
a case number and a household code — that do not name the same household is refused with its line
and column (it used to go to the case number's household without a word); the message shows the ID
number masked and no name. All or none, or --skip-bad."""
from __future__ import annotations

import csv
import shutil
import sqlite3

from sqlalchemy import select

from engine.adapters import tables as t

from tests.test_cli import Home, home, template  # noqa: F401  (fixtures)
from tests.world import member_ids

HEADER = "案件编号,户编号,身份证号,年度,家庭纯收入\n"


def _income(home, case_id: int) -> int:  # noqa: F811
    with sqlite3.connect(home.db) as conn:
        return conn.execute("SELECT count(*) FROM evidence WHERE type = 'income_check' AND case_id = ?",
                            (case_id,)).fetchone()[0]


def _households(home) -> list[int]:  # noqa: F811
    """Three households without income evidence (seeds 70, 71, 72); the second known as H-002."""
    cases = [home.register(seed=70 + i, evidence=False) for i in range(3)]
    with sqlite3.connect(home.db) as conn:
        conn.execute("UPDATE cases SET external_code = 'H-002' WHERE id = ?", (cases[1],))
    return cases


def _masked(number: str) -> str:
    return number[:6] + "********" + number[-4:]


def test_a_case_number_and_another_households_id_number_are_refused_nothing_attached(home, tmp_path):  # noqa: F811
    cases = _households(home)
    head_of_second = member_ids(2, 71)[0]
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER +
                     f"{cases[0]},,,2019,3100\n"                      # line 2: good
                     f"{cases[2]},,{head_of_second},2019,2900\n",     # line 3: case 3's number, case 2's head
                     encoding="utf-8")
    before = home.snapshot()
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    assert result.code == 2, result.err
    line = next(t for t in result.err.splitlines() if t.startswith("第 3 行"))
    assert line.startswith("第 3 行，身份证号：")
    assert f"案件编号 {cases[2]}" in line and _masked(head_of_second) in line and "不是同一户" in line
    assert "请改正其中一项" in line
    assert head_of_second not in result.err and "王大山" not in result.err and "李秀英" not in result.err
    assert not [t for t in result.err.splitlines() if t.startswith("第 2 行")]
    assert "没有导入任何内容" in result.err
    assert home.snapshot() == before
    assert _income(home, cases[0]) == _income(home, cases[1]) == _income(home, cases[2]) == 0

    english = home("vs", "evidence", "import", str(sheet), "--type", "income_check", lang="en")
    assert english.code == 2
    assert (f"line 3, ID number: case {cases[2]} and ID number {_masked(head_of_second)} do not name the same "
            "household: correct one of them") in english.err
    assert head_of_second not in english.err and "王大山" not in english.err
    assert home.snapshot() == before


def test_a_case_number_and_another_households_code_are_refused(home, tmp_path):  # noqa: F811
    cases = _households(home)
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{cases[0]},H-002,,2019,3100\n", encoding="utf-8")
    before = home.snapshot()
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check", lang="en")
    assert result.code == 2, result.err
    assert (f"line 2, household code: case {cases[0]} and household code H-002 do not name the same household: "
            "correct one of them") in result.err
    assert home.snapshot() == before


def test_an_id_number_and_another_households_code_are_refused(home, tmp_path):  # noqa: F811
    cases = _households(home)
    head_of_first = member_ids(2, 70)[0]
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f",H-002,{head_of_first},2019,3100\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    assert result.code == 2, result.err
    assert f"第 2 行，户编号：身份证号 {_masked(head_of_first)} 与户编号 H-002 指的不是同一户" in result.err
    assert head_of_first not in result.err
    assert _income(home, cases[0]) == _income(home, cases[1]) == 0


def test_ways_that_agree_name_the_household(home, tmp_path):  # noqa: F811
    cases = _households(home)
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{cases[1]},H-002,{member_ids(2, 71)[1]},2019,3100\n"
                     f"{cases[0]},,{member_ids(2, 70)[0]},2019,2900\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    assert result.code == 0, result.err
    assert _income(home, cases[0]) == _income(home, cases[1]) == 1 and _income(home, cases[2]) == 0


def test_skip_bad_attaches_the_good_rows_and_writes_the_one_naming_two(home, tmp_path):  # noqa: F811
    cases = _households(home)
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{cases[0]},,,2019,3100\n{cases[2]},,{member_ids(2, 71)[0]},2019,2900\n",
                     encoding="utf-8")
    skipped = tmp_path / "未导入.csv"
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--skip-bad", str(skipped))
    assert result.code == 0, result.err
    assert "另有 1 行因有误未导入" in result.out
    assert _income(home, cases[0]) == 1 and _income(home, cases[1]) == _income(home, cases[2]) == 0
    with open(skipped, encoding="utf-8-sig", newline="") as fh:
        written = list(csv.reader(fh))
    assert written[1][0] == "3" and written[1][1] == str(cases[2]) and "不是同一户" in written[1][-1]


def test_a_head_s_name_that_is_not_the_named_households_head_is_that_rows_problem(home, tmp_path):  # noqa: F811
    """A mistyped case number put one household's income on another: the sheet's 户主姓名 was not read."""
    cases = _households(home)
    sheet = tmp_path / "收入.csv"
    sheet.write_text("案件编号,户主姓名,年度,家庭纯收入\n"
                     f"{cases[0]},王大山70,2019,3100\n"        # line 2: its own head (as registered)
                     f"{cases[2]},王大山71,2019,9800\n"        # line 3: case 3's number, case 2's head
                     f"{cases[1]},王 大山71,2019,2900\n",     # line 4: spaced to line up, still its head
                     encoding="utf-8")
    before = home.snapshot()
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    assert result.code == 2 and home.snapshot() == before, result.err
    assert [t for t in result.err.splitlines() if t.startswith("第 ")] == [
        f"第 3 行，户主姓名：案件编号 {cases[2]} 这一户的户主不是 王大山71：请核对案件编号和户主姓名，改正填错的一项"
        "（编号填错，材料就会录到别的户）"], result.err
    assert "王大山72" not in result.err and "本系统不认识" not in result.err     # the real head is not told
    english = home("vs", "evidence", "import", str(sheet), "--type", "income_check", lang="en")
    assert f"line 3, head's name: the household of case {cases[2]} is not headed by 王大山71" in english.err
    skipped = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--skip-bad", str(tmp_path / "x.csv"))
    assert skipped.code == 0 and _income(home, cases[2]) == 0 and _income(home, cases[0]) == _income(home, cases[1]) == 1


def test_the_head_s_name_is_checked_on_either_database(world):
    from engine.services.evidence_sheet import SheetRow, sheet_items
    first, second = world.household(), world.household()
    fields = {"food": "是", "clothing": "是"}
    with world.app.engine.connect() as conn:
        heads = dict(conn.execute(select(t.cases.c.id, t.cases.c.title).where(t.cases.c.id.in_([first, second]))).all())
    items, problems = sheet_items(world.app, world["vs"], "two_assurances", [
        SheetRow(str(first), fields=fields, head_name=heads[first]),
        SheetRow(str(second), fields=fields, head_name=heads[first])])
    assert items[0] is not None and items[1] is None
    assert [(line, column, p.code) for line, column, p in problems] == [(2, "head_name", "sheets.other_head")]
    assert heads[second] not in problems[0][2].render(world.app.config, "zh")


def test_an_evidence_export_imported_into_another_home_never_lands_on_another_family(home, template, tmp_path):  # noqa: F811
    """A registry moved to another home numbers its cases in its own order: the evidence export's case
    numbers name other families there. Its head's name (案件名称, as exported) is checked as the head's
    name is, and its household code where there is one: a row whose case number names another family is
    refused, with its line, column and reason, and nothing lands on the wrong household."""
    old = _households(home)                                            # seeds 70, 71, 72 (the second H-002)
    for case, income in zip(old, (3100, 3200, 3300)):
        home.ok("vs", "evidence", "add", case, "income_check", "--field", "year=2019", "--field", f"net_income={income}")
    exported = tmp_path / "材料.csv"
    home.ok("cs", "export", "evidence", "--type", "income_check", "--csv", str(exported))
    other = Home(tmp_path / "other", dict(template.tokens))
    shutil.copytree(template.path, other.path)
    new = {seed: other.register(seed=seed, evidence=False) for seed in (72, 70, 71)}    # numbered in another order
    with sqlite3.connect(other.db) as conn:
        conn.execute("UPDATE cases SET external_code = 'H-002' WHERE id = ?", (new[71],))
    before = other.snapshot()
    result = other("vs", "evidence", "import", str(exported), "--type", "income_check")
    assert result.code == 2 and other.snapshot() == before, result.err
    told = [line for line in result.err.splitlines() if line.startswith("第 ")]
    assert "其中的案件编号是导出它的系统里的编号" in result.err and "请删去“案件编号”一列" in result.err
    assert told[0] == (f"第 2 行，案件名称：案件编号 {old[0]} 这一户的户主不是 王大山70：请核对案件编号和户主姓名，"
                       "改正填错的一项（编号填错，材料就会录到别的户）"), result.err
    assert any(line.startswith("第 3 行，户编号：") and "不是同一户" in line for line in told), result.err
    assert any(line.startswith("第 4 行，案件名称：") for line in told), result.err
    skipped = other("vs", "evidence", "import", str(exported), "--type", "income_check",
                    "--skip-bad", str(tmp_path / "未导入.csv"))
    assert skipped.code == 2 and "没有一行正确" in skipped.err, skipped.err
    assert _income(other, new[70]) == _income(other, new[71]) == _income(other, new[72]) == 0
    english = other("vs", "evidence", "import", str(exported), "--type", "income_check", lang="en")
    assert "its case numbers are those of the system it was exported from" in english.err
    assert f"line 2, head's name: the household of case {old[0]} is not headed by 王大山70" in english.err
    with open(exported, encoding="utf-8-sig", newline="") as fh:        # deleted the case column: by household code
        rows = [[cell for n, cell in enumerate(row) if n != 1] for row in csv.reader(fh)]
    with open(exported, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    by_code = other("vs", "evidence", "import", str(exported), "--type", "income_check", "--skip-bad", str(tmp_path / "b.csv"))
    assert by_code.code == 0, by_code.err
    assert _income(other, new[71]) == 1 and _income(other, new[70]) == _income(other, new[72]) == 0
