"""An exit is judged on the income of its own year (a9 finding 2: a household proposed for exit on
2020-10-28 with no 2020 income passed on its 2019 income, against 2019's line, and its 脱贫确认书 printed
"2019 年 … 高于标准"). With none recorded for the exit's year the standard says so, and its advice is to
enter this year's income as a new record (the village's evidence sheet does it for all at once); in the
year's first months (`exit_income_prior_year_months`) the year before's full-year income is still taken."""
from __future__ import annotations

from datetime import date

import pytest

from engine.domain.errors import RuleViolation
from engine.reads.handbook import exit_confirmation, render_confirmation
from engine.services.case_actions import attach_evidence
import tests.test_handbook as handbook_tests

run = handbook_tests.run      # `jingzhun --as WHO ...` on the world's database (the fixture)

PROPOSAL = dict(attendance=38, votes_for=33, votes_against=1)
CHECKS = (("two_assurances", {"food": True, "clothing": True}), ("housing_safety", {"grade": "A"}),
          ("drinking_water", {"safe": True}))


def on_last_years_income(world, tmp_path) -> int:
    """Assisted, its 2019 income 8,223 a head (two members), its checks made again in October 2020 and
    no 2020 income: the a9 auditor's #73."""
    case = world.household(members=2, income_2018=4000.0)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=16446.0, confirm=False, tmp=tmp_path)
    world.on(date(2020, 10, 28))
    for kind, fields in CHECKS:
        attach_evidence(world.app, world["vs"], case, kind, fields, replace=True, reason="2020 年入户核实")
    return case


def test_a_2020_exit_on_2019_income_is_refused_until_2020s_is_entered(world, tmp_path, run):
    case = on_last_years_income(world, tmp_path)
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, **PROPOSAL)
    assert refused.value.params["failures"] == [
        ("income_year_missing", {"year": 2020, "recorded": 2019, "type": "income_assessment"})]
    minutes = str(world.minutes())
    code, out, err = run("vd", "step", "exit", "proposal", str(case), "--date", "2020-10-28", "--attendance", "38",
                         "--for", "33", "--against", "1", "--minutes", minutes)
    assert code != 0 and "同意" not in out, out + err
    assert "尚未登记 2020 年的收入核算（本户在案的是 2019 年的收入" in err, err
    code, out, err = run("vd", "case", "next", str(case), "--as-of", "2020-10-28")
    said = out + err
    assert "尚未登记 2020 年的收入核算" in said and "请登记本户 2020 年的收入核算明细表，作为新的一条" in said, said
    assert "材料录入表" in said and "8,223" not in said, said
    code, out, err = run("vd", "case", "next", str(case), "--as-of", "2020-10-28", lang="en")
    assert "no income computation for 2020 is recorded yet" in out + err, out + err
    assert "record the household's income computation for 2020 as a new one" in out + err, out + err
    # the confirmation sheet tells the cadre not to have it signed, and why
    page = render_confirmation(world.app, exit_confirmation(world.app, world["pc1"], case))
    assert "请不要让农户签字" in page and "尚未登记 2020 年的收入核算" in page
    # 2020's income entered as a new record (2019's kept): the exit goes on, held to 2020's line
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 16446.0})
    code, out, err = run("vd", "step", "exit", "proposal", str(case), "--date", "2020-10-28", "--attendance", "38",
                         "--for", "33", "--against", "1", "--minutes", minutes)
    assert code == 0, out + err


def test_under_the_exit_years_line_the_advice_is_a_new_income_first(world, tmp_path, run):
    """a9 finding 3: a household held by an income under the line was told only to replace its income if
    it was computed wrongly; the usual fix is this year's income, a new record."""
    case = on_last_years_income(world, tmp_path)
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 7000.0})
    code, out, err = run("vd", "case", "next", str(case), "--as-of", "2020-10-28")
    said = out + err
    assert "人均纯收入 3,500 元（2 人，2020 年）未稳定超过标准线 4,000 元" in said, said
    new, replace = said.find("请登记本户当年新的收入核算明细表"), said.find("替换本户的收入核算明细表")
    assert 0 <= new < replace, said


@pytest.mark.parametrize("day, passes", [(date(2021, 1, 15), True), (date(2021, 4, 1), False)])
def test_early_in_the_year_the_year_befores_income_is_taken(world, tmp_path, day, passes):
    """A December proposal approved by the county in January: 2020's full-year income is the newest there
    is (`exit_income_prior_year_months`: 3); from April the year's own is asked for."""
    case = on_last_years_income(world, tmp_path)
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 16446.0})
    world.on(day)
    for kind, fields in CHECKS:
        attach_evidence(world.app, world["vs"], case, kind, fields, replace=True, reason="入户核实")
    if passes:
        world.step("vd", "exit", "proposal", case, **PROPOSAL)
        return
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, **PROPOSAL)
    assert [f[0] for f in refused.value.params["failures"]] == ["income_year_missing"]
