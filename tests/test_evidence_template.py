"""A blank evidence sheet for a village (`evidence template`, the import page's download): a row per
household with its case number, household code and head's name, and the type's columns in the
reader's language; filled in, it imports back as it is, the rows left blank passed over. There was
no template: a cadre guessed the labels (家庭纯收入, 住房等级…) from exports."""
from __future__ import annotations

import csv
import shlex
import sqlite3

import openpyxl
import pytest

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_evidence_sheet_report import held_items
from tests.world import VILLAGE


def _households(home, n: int = 3) -> list[int]:  # noqa: F811
    cases = [home.register(seed=170 + i, evidence=False) for i in range(n)]
    with sqlite3.connect(home.db) as conn:
        conn.execute("UPDATE cases SET external_code = '3607301002019001' WHERE id = ?", (cases[0],))
    return cases


def test_a_filled_csv_template_imports_back_as_it_is(home, tmp_path):  # noqa: F811
    cases = _households(home)
    out = tmp_path / "两不愁.csv"
    written = home("vs", "evidence", "template", "--village", VILLAGE, "--type", "two_assurances", "--out", str(out))
    assert written.code == 0, written.err
    assert f"本村 {len(cases)} 户各一行" in written.out
    command = f"jingzhun evidence import {shlex.quote(str(out))} --type two_assurances"
    assert f"用 `{command}` 导入这个文件" in written.out      # with its --type: the whole command to paste
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\ufeff案件编号,户编号,户主姓名,不愁吃,不愁穿\n")
    rows = list(csv.reader(text.lstrip("\ufeff").splitlines()))
    assert [(r[0], r[1].strip(), r[2]) for r in rows[1:]] == [
        (str(cases[0]), "3607301002019001", "王大山170"), (str(cases[1]), "", "王大山171"), (str(cases[2]), "", "王大山172")]
    rows[1][3:] = ["是", "否"]                      # the first and last households filled in, the middle one not
    rows[3][3:] = ["√", "是"]
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    done = home("vs", "evidence", "import", str(out), "--type", "two_assurances")
    assert done.code == 0, done.err
    assert "已为 2 户添加不愁吃不愁穿核查" in done.out and "有 1 行只填了户的信息" in done.err
    assert held_items(home, cases[0]) == [{"food": True, "clothing": False}] and held_items(home, cases[1]) == []
    assert held_items(home, cases[2]) == [{"food": True, "clothing": True}]


def test_an_english_workbook_template_imports_back_and_help_points_to_it(home, tmp_path):  # noqa: F811
    cases = _households(home, 2)
    out = tmp_path / "income.xlsx"
    written = home("vs", "evidence", "template", "--village", VILLAGE, "--type", "income_check", "--out", str(out),
                   lang="en")
    assert written.code == 0, written.err
    book = openpyxl.load_workbook(out)
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["case", "household code", "head's name", "year", "net income",
                                           "assets note"], [c.value for c in sheet[1]]
    assert [sheet.cell(r, 1).value for r in (2, 3)] == cases
    for r in (2, 3):
        sheet.cell(r, 4).value, sheet.cell(r, 5).value = 2019, 3100
    book.save(out)
    done = home("vs", "evidence", "import", str(out), "--type", "income_check", lang="en")
    assert done.code == 0, done.err
    assert "not known here" not in done.err
    assert [held_items(home, c, "income_check") for c in cases] == [[{"year": 2019, "net_income": 3100.0}]] * 2
    helped = home("vs", "evidence", "import", "--help")
    assert "evidencetemplate--village村--type类型--out表.xlsx" in "".join(helped.out.split())    # wrapped


def test_a_template_of_another_village_or_a_wrong_name_is_refused(home, tmp_path):  # noqa: F811
    _households(home, 1)
    out = tmp_path / "两不愁.csv"
    other = home("vs2", "evidence", "template", "--village", VILLAGE, "--type", "two_assurances", "--out", str(out))
    assert other.code != 0 and not out.exists() and "王大山" not in other.err + other.out
    txt = home("vs", "evidence", "template", "--village", VILLAGE, "--type", "two_assurances", "--out",
               str(tmp_path / "a.txt"))
    assert txt.code == 2 and "须以「.xlsx」" in txt.err


def test_the_templates_households_on_either_database(world):
    from engine.domain.errors import AuthError
    from engine.services.evidence_sheet import template_rows
    first, second = world.household(), world.household()
    definition, rows = template_rows(world.app, world["vs"], VILLAGE, "housing_safety")
    assert list(definition.fields) == ["grade", "renovated_accepted", "relocated_keys_handed"]
    assert [r[0] for r in rows] == [first, second] and all(r[2].startswith("成员") for r in rows)
    with pytest.raises(AuthError):
        template_rows(world.app, world["vs2"], VILLAGE, "housing_safety")


def test_an_application_template_comes_with_the_head_as_applicant_and_its_unfilled_rows_pass_over(home, tmp_path):  # noqa: F811
    """The applicant (申请人) is the head in nearly every household: the template has it filled in with
    the head's name; a row giving nothing more is passed over as an unfilled one, and an applicant
    changed by the cadre is what is recorded."""
    cases = _households(home)
    out = tmp_path / "申请书.csv"
    assert home("vs", "evidence", "template", "--village", VILLAGE, "--type", "application", "--out", str(out)).code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\ufeff案件编号,户编号,户主姓名,申请人,申请日期\n")
    rows = list(csv.reader(text.lstrip("\ufeff").splitlines()))
    assert [(r[2], r[3], r[4]) for r in rows[1:]] == [(f"王大山{170 + i}", f"王大山{170 + i}", "") for i in range(3)]
    rows[1][4] = "2019-01-08"                               # the head applied
    rows[3][3:] = ["王小山", "2019-01-09"]                   # another member applied
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    done = home("vs", "evidence", "import", str(out), "--type", "application")
    assert done.code == 0, done.err
    assert "已为 2 户添加" in done.out and "有 1 行只填了户的信息" in done.err
    assert held_items(home, cases[0], "application") == [{"applicant": "王大山170", "applied_on": "2019-01-08"}]
    assert held_items(home, cases[1], "application") == []
    assert held_items(home, cases[2], "application") == [{"applicant": "王小山", "applied_on": "2019-01-09"}]
