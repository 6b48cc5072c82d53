"""A household imported as exited already keeps the year it exited (the national system's 已脱贫（2017年）,
2017年已脱贫, or a 脱贫年度 column), and is one of that year's exits: drawn for its sample check (抽查),
counted in the supervision figures' years and in the assessment's exits; its case, `case show` and
the exports say the year. A year that is no year, out of range, double, or given for a household not
exited is the row's problem with its line and column, in zh and en; a registered household's year
compared like its other fields. Before, every such household was counted in no year at all: an
inspector checking 2017's exits silently missed every one of them."""
from __future__ import annotations

import csv
import json
import sqlite3
from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads import dashboard
from engine.reads.assessment import assessment
from engine.reads.exits import ExitYear
from engine.reads.exports import export_table
from engine.services.sampling import Finding, candidates, draw, record_finding
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_registry_import import number, write
from tests.world import COUNTY, TOWNSHIP, VILLAGE, VILLAGE2, member_ids
from workflows.household import MemberInput
from workflows.household_codes import HOUSEHOLD_HEADERS, noted_years, stage_word, year_of
from workflows.household_import import ListedHousehold, import_households

HEADERS = ("村编码", "户编号", "姓名", "身份证号", "与户主关系", "致贫原因", "户状态")


def households(*stages: str, year_column: tuple[str, ...] = ()) -> list[tuple]:
    """One household of two members per stage cell, in alternate villages; with `year_column`, a 脱贫年度
    cell each (on both rows, as the national system's export repeats a household's cells)."""
    rows = []
    for h, stage in enumerate(stages):
        for m in range(2):
            row = (VILLAGE if h % 2 == 0 else VILLAGE2, f"3607302{h:05d}", f"户主{h}" if m == 0 else f"配偶{h}",
                   number(4000 + 2 * h + m), "户主" if m == 0 else "配偶", "因病", stage)
            rows.append(row + ((year_column[h],) if year_column else ()))
    return rows


def _attrs(home) -> dict[str, dict]:  # noqa: F811
    with sqlite3.connect(home.db) as conn:
        return {code: json.loads(attrs) for code, attrs in conn.execute(
            "SELECT external_code, attrs FROM cases WHERE kind = 'household'")}


# --- reading the year -----------------------------------------------------------------------------

@pytest.mark.parametrize("cell, year", [
    ("已脱贫（2017年）", 2017), ("已脱贫(2017)", 2017), ("2017年已脱贫", 2017), ("2017年度已脱贫", 2017),
    ("已脱贫（2017年度）", 2017), ("已脱贫 ( 2016 )", 2016), ("已脱贫（２０１８年）", 2018), ("脱贫户（2019年脱贫）", 2019),
    ("已脱贫（2017年12月）", 2017)])
def test_each_way_the_national_system_notes_the_year_is_read(cell, year):
    assert [year_of(said) for said in noted_years(cell)] == [year]
    assert stage_word(cell) in ("已脱贫", "脱贫户")


@pytest.mark.parametrize("cell", ["已脱贫", "脱贫享受政策", "已脱贫（享受政策）", "未脱贫"])
def test_a_stage_without_a_year_notes_none(cell):
    assert noted_years(cell) == ()


def test_a_note_with_digits_that_is_no_year_is_kept_for_the_import_to_refuse_never_dropped():
    assert noted_years("已脱贫（17年）") == ("17年",) and year_of("17年") is None
    assert noted_years("2017年已脱贫（2018年）") == ("2017年", "2018年")


def test_the_exit_year_columns_of_a_national_export_are_read_and_the_planned_year_is_kept_apart():
    assert {HOUSEHOLD_HEADERS[h] for h in ("脱贫年度", "脱贫年份", "退出年度")} == {"exit_year"}
    # the year an exit was planned for: no exit (s56 p2: kept apart, tests/web/test_planned_exit56.py)
    assert HOUSEHOLD_HEADERS["计划脱贫年度"] == "planned_exit_year"


# --- the import, through the command ----------------------------------------------------------------

def test_each_form_of_the_year_is_kept_on_the_case_stated_in_its_event_and_told(home, tmp_path):  # noqa: F811
    rows = households("已脱贫（2017年）", "已脱贫(2016)", "2017年已脱贫", "2018年度已脱贫", "已脱贫", "巩固期（2018年）")
    result = home("cd", "household", "import", write(tmp_path / "迁入.csv", rows))
    assert result.code == 0, result.err
    years = {code: attrs.get("exit_year") for code, attrs in _attrs(home).items()}
    assert years == {"360730200000": 2017, "360730200001": 2016, "360730200002": 2017, "360730200003": 2018,
                     "360730200004": None, "360730200005": 2018}
    assert "其中 2 户按文件注明于 2017 年脱贫" in result.out and "其中 1 户按文件注明于 2016 年脱贫" in result.out
    assert "有 1 户按文件已脱贫，但文件没有注明脱贫年度" in result.err          # counted in no year: said so
    with sqlite3.connect(home.db) as conn:
        events = [json.loads(r[0]) for r in conn.execute(
            "SELECT detail FROM audit_events WHERE action IN ('case_registered', 'households_imported') ORDER BY seq")]
    assert [e.get("exit_year") for e in events[:-1]] == [2017, 2016, 2017, 2018, None, 2018]
    assert events[-1]["exit_years"] == {"2016": 1, "2017": 2, "2018": 2} and events[-1]["without_exit_year"] == 1
    verified = home("insp", "audit", "verify")            # the year is in the hashed event and the attrs digest
    assert verified.code == 0, verified.err + verified.out


def test_a_year_column_of_its_own_is_read_and_must_agree_with_the_stage_cell(home, tmp_path):  # noqa: F811
    rows = households("已脱贫", "已脱贫（2016年）", year_column=("2017", "2016年"))
    result = home("cd", "household", "import", write(tmp_path / "迁入.csv", rows, HEADERS + ("脱贫年度",)))
    assert result.code == 0, result.err
    assert [a["exit_year"] for _c, a in sorted(_attrs(home).items())] == [2017, 2016]
    differ = households("已脱贫（2016年）", year_column=("2017",))
    refused = home("cd", "household", "import", write(tmp_path / "又一份.csv", differ, HEADERS + ("脱贫年度",)))
    assert refused.code == 2
    assert "第 2 行，脱贫年度：脱贫年度前后不一：2016 年与 2017 年" in refused.err
    rows = households("已脱贫", year_column=("2017",))
    rows[1] = rows[1][:-1] + ("2016",)                     # the household's second row says another year
    refused = home("cd", "household", "import", write(tmp_path / "两行.csv", rows, HEADERS + ("脱贫年度",)))
    assert refused.code == 2 and "第 3 行，脱贫年度：与本户第 2 行的脱贫年度不同" in refused.err


def test_a_bad_year_is_refused_with_its_line_and_column_in_chinese_and_english(home, tmp_path):  # noqa: F811
    future = date.today().year + 1
    rows = households("已脱贫（2012年）", f"已脱贫（{future}年）", "已脱贫（17年）", "未脱贫（2017年）", "已脱贫（2017年）")
    path = write(tmp_path / "迁入.csv", rows)
    before = home.snapshot()
    zh = home("cd", "household", "import", path)
    assert zh.code == 2
    assert "第 2 行，户状态：脱贫年度 2012 不在 2013 年（精准扶贫开始之年）至" in zh.err
    assert f"第 4 行，户状态：脱贫年度 {future} 不在 2013 年" in zh.err
    assert "第 6 行，户状态：「17年」不是可以识别的脱贫年度" in zh.err
    assert "第 8 行，户状态：注明了脱贫年度 2017，但该户按文件处于“帮扶中”阶段" in zh.err
    assert "第 10 行" not in zh.err                        # the good household: nothing to say
    assert home.snapshot() == before                       # all or none: nothing written
    en = home("cd", "household", "import", path, lang="en")
    assert en.code == 2
    assert "line 2, stage: exit year 2012 is not between 2013 (when targeted poverty alleviation began) and" in en.err
    assert "line 6, stage: \"17年\" cannot be read as an exit year" in en.err
    assert "line 8, stage: exit year 2017 is given, but the household is in the stage" in en.err
    assert "only an exited or consolidated household has an exit year" in en.err


def test_a_year_given_for_a_household_starting_in_the_first_stage_is_refused(home, tmp_path):  # noqa: F811
    path = tmp_path / "名单.csv"
    path.write_text(f"村编码,户编号,姓名,身份证号,与户主关系,致贫原因,脱贫年度\n{VILLAGE},Y1,王一,{number(4900)},户主,因病,2017\n",
                    encoding="utf-8")
    refused = home("vs", "household", "import", str(path))
    assert refused.code == 2 and "第 2 行，脱贫年度：注明了脱贫年度 2017" in refused.err


def test_a_registered_household_listed_again_with_another_year_is_told_where(home, tmp_path):  # noqa: F811
    assert home("cd", "household", "import", write(tmp_path / "a.csv", households("已脱贫（2017年）"))).code == 0
    same = home("cd", "household", "import", write(tmp_path / "b.csv", households("2017年已脱贫")))
    assert same.code == 0 and "都已在本系统登记，且与登记的一致" in same.out
    other = home("cd", "household", "import", write(tmp_path / "c.csv", households("已脱贫（2018年）")))
    assert other.code == 2
    assert "第 2 行，户状态：本户已登记为案件" in other.err and "导入名单不会改动已登记的户" in other.err
    en = home("cd", "household", "import", write(tmp_path / "d.csv", households("已脱贫（2018年）")), lang="en")
    assert "line 2, stage: this household is registered as case" in en.err
    silent = home("cd", "household", "import", write(tmp_path / "e.csv", households("已脱贫")))
    assert silent.code == 0, silent.err                     # a cell without a year says nothing of it


def test_case_show_and_the_export_say_the_year_and_the_export_imports_again_as_it_is(home, tmp_path):  # noqa: F811
    assert home("cd", "household", "import", write(tmp_path / "a.csv", households("已脱贫（2017年）", "未脱贫"))).code == 0
    with sqlite3.connect(home.db) as conn:
        exited, assisted = [r[0] for r in conn.execute("SELECT id FROM cases WHERE kind = 'household' ORDER BY id")]
    shown = home("insp", "case", "show", exited)
    assert "脱贫年度：2017（导入时已脱贫" in shown.out
    assert "exit year: 2017 (imported as exited already" in home("insp", "case", "show", exited, lang="en").out
    assert "脱贫年度" not in home("insp", "case", "show", assisted).out
    page = tmp_path / "trace.html"
    assert home("insp", "trace", exited, "--html", str(page)).code == 0
    assert "2017（导入时已脱贫" in page.read_text(encoding="utf-8")
    exported = tmp_path / "全县.csv"
    assert home("cd", "export", "members", "--csv", str(exported)).code == 0
    with open(exported, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["户编号"].strip(), r["脱贫年度"]) for r in rows} == {("360730200000", "2017"), ("360730200001", "")}
    again = home("cd", "household", "import", str(exported))
    assert again.code == 0 and "都已在本系统登记，且与登记的一致" in again.out, again.err
    cases = tmp_path / "cases.csv"
    assert home("cd", "export", "cases", "--csv", str(cases)).code == 0
    with open(cases, encoding="utf-8-sig", newline="") as fh:
        assert {r["脱贫年度"] for r in csv.DictReader(fh)} == {"2017", ""}


# --- a year's exits: the sample check, the figures, the assessment (each backend) --------------------

def imported(world, stages: dict[str, str]) -> dict[str, int]:
    """Households imported by the county office, one per (code, stage cell); their cases by code."""
    listed = []
    for i, (code, stage) in enumerate(stages.items()):
        head, spouse = member_ids(2, 700 + i)
        listed.append(ListedHousehold(code, VILLAGE, [(2 * i + 2, MemberInput(f"迁入{i}", head, "head")),
                                                     (2 * i + 3, MemberInput(f"配偶{i}", spouse, "spouse"))],
                                      ["illness"], code=code, stage=stage))
    written: dict[str, int] = {}

    def refuse(line, column, error):
        raise AssertionError(f"line {line}, {column}: {error}")

    import_households(world.app, world["cd"], listed, keep_good=False, source={"file": "迁入.csv", "sha256": "1" * 64},
                      on_problem=refuse, on_skipped=lambda h: None,
                      on_written=lambda h, case: written.__setitem__(h.code, case))
    return written


def test_the_sample_draw_of_2017_includes_the_households_imported_as_exited_in_2017(world):
    cases = imported(world, {"E17": "已脱贫（2017年）", "E16": "2016年已脱贫", "C17": "巩固期（2017年）", "N": "已脱贫"})
    with world.app.engine.connect() as conn:
        of = lambda year: candidates(conn, COUNTY, ExitYear.of(world.app.config, year))  # noqa: E731
        assert of(2017) == sorted([cases["E17"], cases["C17"]])
        assert of(2016) == [cases["E16"]] and of(2018) == []
        assert set(candidates(conn, COUNTY)) == set(cases.values())     # every exited household, year or none
    drawn = draw(world.app, world["cd"], COUNTY, 10, "seed", period=2017)
    assert sorted(drawn["case_ids"]) == sorted([cases["E17"], cases["C17"]]) and drawn["population"] == 2


def test_the_figures_and_the_assessment_count_them_in_their_year_and_in_no_month(world, tmp_path):
    cases = imported(world, {"E17": "已脱贫（2017年）", "F17": "2017年已脱贫", "E16": "已脱贫（2016年）"})
    assert dashboard.exit_years(world.app, world["cd"]) == [{"year": 2017, "count": 2, "imported": 2},
                                                           {"year": 2016, "count": 1, "imported": 1}]
    assert dashboard.imported_exits(world.app, world["cd"], 2017) == 2
    assert dashboard.imported_exits(world.app, world["vs2"], 2017) == 0      # another village's reader
    assert dashboard.exits_by_month(world.app, world["cd"], 2017) == []      # no month to place them in
    listed = dashboard.case_page(world.app, world["cd"], dashboard.CaseFilter(exited="2017"))
    assert [r["id"] for r in listed["rows"]] == sorted([cases["E17"], cases["F17"]]) and listed["total"] == 2
    report = assessment(world.app, world["cd"], COUNTY, 2017)
    assert (report["exits"]["households"], report["exits"]["imported"], report["exits"]["persons"]) == (2, 2, 4)
    assert report["exits"]["months"] == [0] * 12                            # counted in the year only
    assert report["counties"][0]["exits"] == 2
    from entrypoints.report_html import render
    assert "其中 2 户是导入时已脱贫的户：原系统注明其于 2017 年脱贫" in render(world.app.config, report, "zh")
    assert "Of these, 2 household(s) were imported as exited already" in render(world.app.config, report, "en")


def test_an_exit_through_the_procedure_and_an_imported_one_count_together(world, tmp_path):
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, tmp=tmp_path)
    world.exit(case)                                       # November 2019
    cases = imported(world, {"E19": "已脱贫（2019年）"})
    years = dashboard.exit_years(world.app, world["cd"])
    assert years == [{"year": 2019, "count": 2, "imported": 1}]
    with world.app.engine.connect() as conn:
        assert candidates(conn, COUNTY, ExitYear.of(world.app.config, 2019)) == sorted([case, cases["E19"]])
        attrs = conn.execute(select(t.cases.c.attrs).where(t.cases.c.id == case)).scalar()
    assert "exit_year" not in attrs                        # the procedure's exit keeps its own day
    report = assessment(world.app, world["cd"], COUNTY, 2019)
    assert (report["exits"]["households"], report["exits"]["imported"], sum(report["exits"]["months"])) == (2, 1, 1)
    rows = dashboard.case_page(world.app, world["th"], dashboard.CaseFilter(township=TOWNSHIP, exited="2019"))["rows"]
    assert [r["id"] for r in rows] == sorted([case, cases["E19"]])
    columns, members = export_table(world.app, world["cd"], "members")
    years = {(r[columns.index("case_id")], r[columns.index("exit_year")]) for r in members}
    assert years == {(case, 2019), (cases["E19"], 2019)}        # the procedure's day, the registry's year


def test_an_imported_household_found_wrongly_exited_is_reopened_and_keeps_its_years_exit(world):
    """The 2017 sample check finds it wrongly exited: reopened (its exit chain is the former system's:
    none here), it stays one of 2017's exits (as a completed exit procedure would), is drawn no more,
    and has no exit year beside its stage in an export (so the export imports again)."""
    cases = imported(world, {"E17": "已脱贫（2017年）"})
    drawn = draw(world.app, world["cd"], COUNTY, 5, "2017", period=2017)
    assert drawn["case_ids"] == [cases["E17"]]
    record_finding(world.app, world["cd"], Finding(drawn["id"], cases["E17"], "wrong_exit"))
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.cases.c.stage).where(t.cases.c.id == cases["E17"])).scalar() == "assisted"
    columns, rows = export_table(world.app, world["cd"], "cases")
    assert {r[columns.index("exit_year")] for r in rows if r[0] == cases["E17"]} == {None}
    assert dashboard.exit_years(world.app, world["cd"]) == [{"year": 2017, "count": 1, "imported": 1}]
    with world.app.engine.connect() as conn:    # no longer exited: not drawn for a sample check
        assert candidates(conn, COUNTY, ExitYear.of(world.app.config, 2017)) == []
