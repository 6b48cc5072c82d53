"""The exit year of a household imported as exited without one, noted later (workflows/exit_year.py):
on the case by a county office with its reason, or for a whole list uploaded again with the year;
corrected the same way; never for a household that exited through the exit procedure."""
from __future__ import annotations

import json

import pytest

from engine.domain.errors import RuleViolation
from tests.test_accountability import exited
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_registry_import import county, write
from tests.world import VILLAGE
from workflows.exit_year import note_exit_year


def _imported_exited(home, tmp_path) -> None:  # noqa: F811
    """Cases 1 and 2: households imported as exited, the file noting no year."""
    result = home("cd", "household", "import", write(tmp_path / "迁入.csv", county(4, stage="已脱贫")))
    assert result.code == 0 and "没有注明脱贫年度" in result.err, result.err


def test_a_county_office_notes_an_imported_households_exit_year_and_it_counts_in_that_year(home, tmp_path):  # noqa: F811
    _imported_exited(home, tmp_path)
    before = home.snapshot()
    refused = home("vs", "household", "exit-year", "1", "2017", "--reason", "核对")     # a village cadre may not
    assert refused.code != 0 and home.snapshot() == before
    noted = home("cd", "household", "exit-year", "1", "2017年", "--reason", "据全国系统 2017 年脱贫名单核对")
    assert noted.code == 0, noted.err
    assert "案件 1：已补记脱贫年度 2017 年，该户计入 2017 年的脱贫户数和抽查" in noted.out
    assert home.case(1)["attrs"]["exit_year"] == 2017
    assert "脱贫年度：2017" in home("cd", "case", "show", "1").out
    exported = tmp_path / "cases.csv"
    assert home("cd", "export", "cases", "--csv", str(exported)).code == 0
    rows = exported.read_text(encoding="utf-8-sig").splitlines()
    year_column = rows[0].split(",").index("脱贫年度")
    assert [r.split(",")[year_column] for r in rows[1:]] == ["2017", ""]
    corrected = home("cd", "household", "exit-year", "1", "2016", "--reason", "原注有误", lang="en")
    assert corrected.code == 0 and "case 1: exit year corrected from 2017 to 2016" in corrected.out
    verified = home("insp", "audit", "verify")
    assert verified.code == 0, verified.err + verified.out
    acts = json.loads(home("insp", "trace", "--person", "cd", "--act", "exit_year_noted", "--json").out)["acts"]
    assert [a["lines"] for a in acts] == [["脱贫年度：2017 → 2016"], ["脱贫年度：2017"]]
    assert [a["reason"] for a in acts] == ["原注有误", "据全国系统 2017 年脱贫名单核对"]


def test_a_year_that_cannot_be_noted_is_refused_in_words_and_nothing_changes(home, tmp_path):  # noqa: F811
    _imported_exited(home, tmp_path)
    assert home("cd", "household", "exit-year", "1", "2017", "--reason", "核对").code == 0
    before = home.snapshot()
    for year, told in (("17年", "「17年」不是可以识别的年份：请写四位年份，如 2017"),
                       ("2012", "脱贫年度 2012 不在 2013 年（精准扶贫开始之年）至"),
                       ("2017", "案件 1 的脱贫年度已是 2017 年，未作改动")):
        result = home("cd", "household", "exit-year", "1", year, "--reason", "核对")
        assert result.code != 0 and told in result.err and "Traceback" not in result.err, result.err
    blank = home("cd", "household", "exit-year", "2", "2017", "--reason", " ")
    assert blank.code == 2 and "请写明补记或更正脱贫年度的依据" in blank.err
    assert home.snapshot() == before


def test_a_household_not_exited_or_exited_through_the_procedure_keeps_its_year(home, tmp_path):  # noqa: F811
    case = home.register()                                  # registered here: stage candidate
    result = home("cd", "household", "exit-year", str(case), "2017", "--reason", "核对")
    assert result.code != 0 and f"案件 {case} 处于“" in result.err and "只有已脱贫或处于巩固期的户才有脱贫年度" in result.err


def test_a_household_exited_through_the_procedure_keeps_its_procedures_year_on_each_backend(world):
    case = exited(world)
    with pytest.raises(RuleViolation) as refused:
        note_exit_year(world.app, world["cd"], case, 2017, "核对")
    assert refused.value.code == "exit_year.by_procedure" and refused.value.params["year"] == "2019"


def test_a_list_uploaded_again_with_the_year_notes_it_on_the_registered_households(home, tmp_path):  # noqa: F811
    """The county's 3,000 households without a year get theirs in one upload, as a list is one action:
    a registered household whose case has no year takes the file's (one event each, naming the file);
    a year differing from one noted is still told, to be corrected on the case; a village cadre's list
    cannot note one."""
    _imported_exited(home, tmp_path)
    with_year = [(*r[:6], "已脱贫（2017年）") for r in county(4)]
    refused = home("vs", "household", "import", write(tmp_path / "本村.csv", [r for r in with_year if r[0] == VILLAGE]))
    assert refused.code == 2 and "第 2 行，户状态：本户已登记为案件 1，尚未记脱贫年度：按名单补记为 2017 年须由县、市扶贫办导入" \
        in refused.err, refused.err
    noted = home("cd", "household", "import", write(tmp_path / "全县.csv", with_year))
    assert noted.code == 0, noted.err
    assert "另有 2 户已登记、尚未记脱贫年度，已按文件补记为 2017 年" in noted.out
    assert [home.case(c)["attrs"].get("exit_year") for c in (1, 2)] == [2017, 2017]
    again = home("cd", "household", "import", write(tmp_path / "全县2.csv", with_year[2:] + with_year[:2]))
    assert again.code == 0 and "都已在本系统登记，且与登记的一致" in again.out, again.out + again.err
    differs = [(*r[:6], "已脱贫（2018年）") for r in county(4)]
    told = home("cd", "household", "import", write(tmp_path / "全县3.csv", differs))
    assert told.code == 2 and "第 2 行，户状态：本户已登记为案件 1，这一项与登记的不同" in told.err, told.err
    acts = json.loads(home("insp", "trace", "--person", "cd", "--act", "exit_year_noted", "--json").out)["acts"]
    assert [a["reason"] for a in acts] == ["据导入的名单 全县.csv 补记"] * 2
    verified = home("insp", "audit", "verify")
    assert verified.code == 0, verified.err + verified.out
