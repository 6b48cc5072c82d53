"""An evidence sheet's row that names its household two ways — a case number and an ID number, or
a case number and a household code — that do not name the same household is refused with its line
and column (it used to go to the case number's household without a word); the message shows the ID
number masked and no name. All or none, or --skip-bad."""
from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import select

from engine.adapters import tables as t

from tests.test_cli import Home, home, template  # noqa: F401  (fixtures)
from tests.world import VILLAGE, member_ids

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
    numbers name other families there. Its head's ID number (户主身份证号) names the family by its head, its
    head's name (案件名称, as exported) is checked as the head's name is, and its household code where
    there is one: a row whose case number names another family is refused, with its line, column and
    reason, and nothing lands on the wrong household; the case column deleted, each lands on its own."""
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
    assert told[0] == (f"第 2 行，户主身份证号：案件编号 {old[0]} 这一户的户主不是身份证号 "
                       f"{_masked(member_ids(1, 70)[0])} 的本人：请核对案件编号和户主身份证号，改正填错的一项"
                       "（编号填错，材料就会录到别的户）"), result.err
    assert any(line.startswith("第 3 行，户编号：") and "不是同一户" in line for line in told), result.err
    assert any(line.startswith("第 4 行，户主身份证号：") for line in told), result.err
    skipped = other("vs", "evidence", "import", str(exported), "--type", "income_check",
                    "--skip-bad", str(tmp_path / "未导入.csv"))
    assert skipped.code == 2 and "没有一行正确" in skipped.err, skipped.err
    assert _income(other, new[70]) == _income(other, new[71]) == _income(other, new[72]) == 0
    english = other("vs", "evidence", "import", str(exported), "--type", "income_check", lang="en")
    assert "its case numbers are those of the system it was exported from" in english.err
    assert f"line 2, head's ID number: the household of case {old[0]} is not headed by the holder" in english.err
    with open(exported, encoding="utf-8-sig", newline="") as fh:        # deleted the case column: by the head's ID
        rows = [[cell for n, cell in enumerate(row) if n != 1] for row in csv.reader(fh)]
    with open(exported, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    by_code = other("vs", "evidence", "import", str(exported), "--type", "income_check", "--skip-bad", str(tmp_path / "b.csv"))
    assert by_code.code == 0, by_code.err
    assert _income(other, new[70]) == _income(other, new[71]) == _income(other, new[72]) == 1
    with sqlite3.connect(other.db) as conn:
        incomes = dict(conn.execute("SELECT case_id, json_extract(fields, '$.net_income') FROM evidence "
                                    "WHERE type = 'income_check' AND json_extract(fields, '$.year') = 2019"))
    assert incomes == {new[70]: 3100, new[71]: 3200, new[72]: 3300}


def _zhang_wei(home, seed: int) -> int:  # noqa: F811
    """A household headed by 张伟 (a name thousands share), his ID number from `seed`."""
    head, spouse = member_ids(2, seed)
    return int(home.ok("vs", "household", "add", "--village", VILLAGE, "--member",
                       f"张伟,{head},head,normal,healthy,none,是,是", "--member",
                       f"李秀英{seed},{spouse},spouse,normal,healthy,none,是,是", "--cause", "因病").last_line())


def _exported_incomes(home, tmp_path, seeds) -> tuple[dict[int, int], Path]:  # noqa: F811
    """Households of `seeds` (heads all 张伟) with a 2019 income each, and their evidence export."""
    cases = {seed: _zhang_wei(home, seed) for seed in seeds}
    for n, case in enumerate(cases.values()):
        home.ok("vs", "evidence", "add", case, "income_check", "--field", "year=2019", "--field",
                f"net_income={3100 + 100 * n}")
    exported = tmp_path / "材料.csv"
    home.ok("cs", "export", "evidence", "--type", "income_check", "--csv", str(exported))
    return cases, exported


def test_an_evidence_export_of_same_named_heads_under_swapped_case_numbers_is_refused_by_the_head_s_id(
        home, template, tmp_path):  # noqa: F811
    """Two heads both named 张伟, registered in another home in the other order: the export's case numbers
    swap the families and its 案件名称 passes for both, so each family's income went to the other. The
    export now carries the head's ID number (户主身份证号, written whole as the members table writes it) and
    the import refuses each row whose case number's household is not headed by it: line, column, reason,
    the ID number masked; nothing written."""
    old, exported = _exported_incomes(home, tmp_path, (80, 81))
    with open(exported, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [r["户主身份证号"].strip() for r in table] == [member_ids(1, seed)[0] for seed in (80, 81)]
    other = Home(tmp_path / "other", dict(template.tokens))
    shutil.copytree(template.path, other.path)
    new = {seed: _zhang_wei(other, seed) for seed in (81, 80)}            # numbered the other way round
    assert (new[81], new[80]) == (old[80], old[81])
    before = other.snapshot()
    result = other("vs", "evidence", "import", str(exported), "--type", "income_check")
    assert result.code == 2 and other.snapshot() == before, result.err
    told = [line for line in result.err.splitlines() if line.startswith("第 ")]
    assert told == [f"第 {n} 行，户主身份证号：案件编号 {old[seed]} 这一户的户主不是身份证号 "
                    f"{_masked(member_ids(1, seed)[0])} 的本人：请核对案件编号和户主身份证号，改正填错的一项"
                    "（编号填错，材料就会录到别的户）" for n, seed in ((2, 80), (3, 81))], result.err
    assert "其中的案件编号是导出它的系统里的编号" in result.err
    assert not any(member_ids(1, seed)[0] in result.err for seed in (80, 81))
    in_english = tmp_path / "evidence.csv"                                # its headers in English, read alike
    assert home("cs", "export", "evidence", "--type", "income_check", "--csv", str(in_english), lang="en").code == 0
    english = other("vs", "evidence", "import", str(in_english), "--type", "income_check", lang="en")
    assert english.code == 2 and other.snapshot() == before, english.err
    assert (f"line 2, head's ID number: the household of case {old[80]} is not headed by the holder of ID "
            f"number {_masked(member_ids(1, 80)[0])}") in english.err, english.err
    assert _income(other, new[80]) == _income(other, new[81]) == 0


def test_an_evidence_export_imported_into_the_home_it_came_from_still_imports(home, tmp_path):  # noqa: F811
    """The head's ID number added to the export names the same household as its case number and head's
    name there: the export imported into a copy of the home taken before the items were attached puts
    each item on its own family."""
    copy = Home(tmp_path / "copy", dict(home.tokens))
    cases = {seed: _zhang_wei(home, seed) for seed in (80, 81)}
    shutil.copytree(home.path, copy.path)
    for n, case in enumerate(cases.values()):
        home.ok("vs", "evidence", "add", case, "income_check", "--field", "year=2019", "--field",
                f"net_income={3100 + 100 * n}")
    exported = tmp_path / "材料.csv"
    home.ok("cs", "export", "evidence", "--type", "income_check", "--csv", str(exported))
    result = copy("vs", "evidence", "import", str(exported), "--type", "income_check")
    assert result.code == 0, result.err
    with sqlite3.connect(copy.db) as conn:
        incomes = dict(conn.execute("SELECT case_id, json_extract(fields, '$.net_income') FROM evidence "
                                    "WHERE type = 'income_check'").fetchall())
    assert incomes == {cases[80]: 3100, cases[81]: 3200}


def test_the_head_s_id_number_is_checked_on_either_database(world):
    """A row naming its household by case number and giving another household's head's ID number (or a
    member's who is not the head) is refused in the ID number's column; its own head's passes."""
    from engine.services.evidence_sheet import SheetRow, sheet_items
    first, second, third = world.household(), world.household(), world.household()
    fields = {"food": "是", "clothing": "是"}
    m = t.household_members.c
    with world.app.engine.connect() as conn:
        ids = {(r.case_id, r.relation): r.id_number for r in conn.execute(
            select(m.case_id, m.relation, m.id_number).where(m.case_id.in_([first, second, third])))}
    head_of = {case: ids[(case, "head")] for case in (first, second)}
    member = next(number for (case, relation), number in ids.items() if case == third and relation != "head")
    items, problems = sheet_items(world.app, world["vs"], "two_assurances", [
        SheetRow(str(first), fields=fields, head_id_number=head_of[first]),
        SheetRow(str(second), fields=fields, head_id_number=head_of[first]),
        SheetRow(str(third), fields=fields, head_id_number=member)])
    assert items[0] is not None and items[1:] == [None, None]
    assert [(line, column, p.code) for line, column, p in problems] == [
        (2, "head_id_number", "sheets.other_head_id"), (3, "head_id_number", "sheets.other_head_id")], problems
    assert head_of[first] not in problems[0][2].render(world.app.config, "en")
