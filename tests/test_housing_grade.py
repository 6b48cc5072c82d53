"""A housing safety appraisal's grade (住房等级) is one of its four codes wherever it is entered: read
from what cadres write (B级, b, Ｂ, B 级, B级（基本安全）), stored as its code, and a value none
reads refused at entry naming the grades, never accepted to fail every exit proposal later. A grade
stored before (the record is append-only) still reads; one that names no grade is refused by the
exit standard naming the grades."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import update

from config import load_config
from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from tests.helpers.refusals import assert_refused, assisted_household, walk
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from workflows.household_codes import HOUSING_GRADES

GRADES_ZH = "A级（安全）、B级（基本安全）、C级（局部危房）、D级（整幢危房）"


def stored_field(home, cases, etype: str, field: str) -> dict[int, str]:  # noqa: F811
    """Each case's current item of `etype`: its `field` as stored."""
    with sqlite3.connect(home.db) as conn:
        return dict(conn.execute(
            f"SELECT case_id, json_extract(fields, '$.{field}') FROM evidence WHERE type = ? "
            f"AND superseded_by IS NULL AND case_id IN ({','.join('?' * len(cases))})", [etype, *cases]).fetchall())


def _grades(home, cases) -> dict[int, str]:  # noqa: F811
    return stored_field(home, cases, "housing_safety", "grade")


def test_a_grade_is_read_as_cadres_write_it_and_stored_as_its_code(home, tmp_path):  # noqa: F811
    cases = [home.register(seed=60 + i, evidence=False) for i in range(6)]
    written = ["B级", "b", "Ｂ", "B 级", "B级（基本安全）", "整幢危房"]
    sheet = tmp_path / "住房.csv"
    sheet.write_text("案件编号,住房等级\n" + "".join(f"{c},{g}\n" for c, g in zip(cases, written)), encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "住房安全鉴定")
    assert result.code == 0, result.err
    assert _grades(home, cases) == {**{c: "B" for c in cases[:5]}, cases[5]: "D"}
    other = home.register(seed=70, evidence=False)
    home.ok("vs", "evidence", "add", other, "housing_safety", "--field", "grade=c级")
    assert _grades(home, [other]) == {other: "C"}
    shown = home.ok("insp", "case", "show", other).out
    assert "C级（局部危房）" in shown


def test_a_grade_none_reads_is_refused_at_entry_naming_the_grades(home, tmp_path):  # noqa: F811
    cases = [home.register(seed=80 + i, evidence=False) for i in range(3)]
    sheet = tmp_path / "住房.csv"
    sheet.write_text(f"案件编号,住房等级\n{cases[0]},A级\n{cases[1]},良好\n{cases[2]},E\n", encoding="utf-8")
    before = home.snapshot()
    result = home("vs", "evidence", "import", str(sheet), "--type", "住房安全鉴定")
    assert result.code == 2 and "Traceback" not in result.err
    assert f"第 3 行，住房等级：材料 住房安全鉴定 的字段 住房等级 应为 {GRADES_ZH} 之一，收到 良好" in result.err
    assert "第 4 行，住房等级：" in result.err and "收到 E" in result.err
    assert "没有导入任何内容" in result.err and home.snapshot() == before        # all or none
    english = home("vs", "evidence", "import", str(sheet), "--type", "housing_safety", lang="en")
    assert "line 3, housing grade: " in english.err and "grade A (safe), grade B (basically safe)" in english.err
    added = home("vs", "evidence", "add", cases[0], "housing_safety", "--field", "grade=良好")
    assert added.code == 2 and GRADES_ZH in added.err and "Traceback" not in added.err
    assert home.snapshot() == before


def _stored_as(world, case: int, grade: str) -> None:
    """The household's housing appraisal as an earlier version stored it, the grade as it was typed."""
    with world.app.engine.begin() as conn:
        conn.execute(update(t.evidence).where(t.evidence.c.case_id == case, t.evidence.c.type == "housing_safety",
                                              t.evidence.c.superseded_by.is_(None)).values(fields={"grade": grade}))


def test_a_grade_stored_as_written_before_still_reads_for_the_exit_standard(world, tmp_path):
    case = assisted_household(world, tmp_path, income_2019=20000)
    _stored_as(world, case, "B级")
    walk(world, "exit", case, until="proposal")
    world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)


def test_a_stored_grade_that_names_none_is_refused_naming_the_grades(world, tmp_path):
    case = assisted_household(world, tmp_path, income_2019=20000)
    _stored_as(world, case, "良好")
    walk(world, "exit", case, until="proposal")
    error = assert_refused(world, RuleViolation, "check.exit_standard",
                           lambda: world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33,
                                              votes_against=1), cases=(case,))
    assert f"住房安全：鉴定等级「良好」无效，应为 {GRADES_ZH} 之一" in error.render(world.app.config, "zh")
    assert "grade A (safe), grade B (basically safe)" in error.render(world.app.config, "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_grades_of_the_configuration_are_the_exit_standards_and_each_has_a_label(lang):
    config = load_config()
    assert config.workflows["household"].evidence_types["housing_safety"].codes["grade"] == HOUSING_GRADES
    assert all(config.labels[f"field.grade.{g}"][lang] for g in HOUSING_GRADES)
