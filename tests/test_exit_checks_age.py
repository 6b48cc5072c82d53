"""An exit's checks of 两不愁三保障 and water are those of its year-end 入户核实 (a6 finding 6: exits of
October 2020 passed on checks dated 2019-11-20; only the income was held to its year), and the exit
confirmation the household signs says each check's date and every fact the exit standard would refuse."""
from __future__ import annotations

from datetime import date

import pytest

from engine.domain.errors import RuleViolation
from engine.reads.handbook import exit_confirmation, render_confirmation
from engine.services.case_actions import attach_evidence
import tests.test_handbook as handbook_tests

run = handbook_tests.run      # `jingzhun --as WHO ...` on the world's database (the fixture)

PROPOSAL = dict(attendance=38, votes_for=33, votes_against=1)


def last_years_checks(world, tmp_path) -> int:
    """Assisted, its checks from the 2019 year-end, its 2020 income assessed in October 2020."""
    case = world.household(members=2, income_2018=4000.0)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=12000.0, confirm=False, tmp=tmp_path)
    world.on(date(2020, 10, 20))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 14000.0},
                    replace=True, reason="2020 年核算")
    return case


def test_an_exit_on_last_years_checks_is_refused_naming_each_check_and_its_date(world, tmp_path, run):
    case = last_years_checks(world, tmp_path)
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, **PROPOSAL)
    stale = [f for f in refused.value.params["failures"] if f[0] == "check_stale"]
    assert sorted(f[1]["type"] for f in stale) == ["drinking_water", "housing_safety", "two_assurances"]
    assert {f[1]["date"] for f in stale} == {"2019-11-20"} and {f[1]["since"] for f in stale} == {"2020-04-20"}
    code, out, err = run("vd", "case", "next", str(case), "--as-of", "2020-10-20")
    assert "住房安全鉴定登记于 2019-11-20，早于本次退出认可的最早日期 2020-04-20" in out + err
    assert "请重新入户核实" in out + err
    code, out, err = run("vd", "case", "next", str(case), "--as-of", "2020-10-20", lang="en")
    assert "housing safety" in (out + err).lower() and "recorded on 2019-11-20, before 2020-04-20" in out + err
    # the checks made again this year: the exit goes on
    for kind, fields in (("two_assurances", {"food": True, "clothing": True}), ("housing_safety", {"grade": "A"}),
                         ("drinking_water", {"safe": True})):
        attach_evidence(world.app, world["vs"], case, kind, fields, replace=True, reason="2020 年入户核实")
    world.step("vd", "exit", "proposal", case, **PROPOSAL)


def test_the_confirmation_sheet_dates_each_check_and_flags_what_the_exit_standard_refuses(world, tmp_path, run):
    """a6 finding 7 (杨平 #33): the standard refused the exit for the plan's renovation not accepted while the
    sheet printed 住房安全 B级 as fine and asked the household to sign; the sheet also hid the checks' dates."""
    case = world.household(members=2, income_2018=4000.0, school_age_child="enrolled")
    world.identify(case)
    world.on(date(2019, 3, 20))
    world.step("ts1", "assistance", "pairing", case, first_cadre="pc1", second_cadre="pc2")
    world.step("fs", "assistance", "plan", case, measures=(("housing", "危房改造"),))
    world.step("th", "assistance", "plan_approval", case, decision="approve")
    world.exit_evidence(case, income_2019=12000.0, grade="B", confirm=False, tmp=tmp_path)
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, **PROPOSAL)
    assert [f[0] for f in refused.value.params["failures"]] == ["renovation_pending"]
    filled = exit_confirmation(world.app, world["pc1"], case)
    assert filled["confirmation"]["short"] is True
    page = render_confirmation(world.app, filled)
    assert "请不要让农户签字" in page and "帮扶计划中的危房改造尚未竣工验收" in page
    assert page.count("（2019-11-20 核查）") == 3
    english = render_confirmation(world.app, exit_confirmation(world.app, world["pc1"], case, "en"), "en")
    assert "renovation has not been accepted" in english and english.count("(checked 2019-11-20)") == 3
    # a year on, the same checks are too old for the exit: the sheet says so too
    world.on(date(2020, 10, 20))
    attach_evidence(world.app, world["vs"], case, "housing_safety", {"grade": "B", "renovated_accepted": True},
                    replace=True, reason="危房改造验收")
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 14000.0},
                    replace=True, reason="2020 年核算")
    page = render_confirmation(world.app, exit_confirmation(world.app, world["pc1"], case))
    assert "帮扶计划中的危房改造" not in page and "住房安全鉴定登记于" not in page
    assert "不愁吃不愁穿核查登记于 2019-11-20" in page and "请不要让农户签字" in page
    code, out, err = run("pc1", "household", "exit-confirmation", str(case), "--html", str(tmp_path / "c.html"))
    assert code == 0, err
