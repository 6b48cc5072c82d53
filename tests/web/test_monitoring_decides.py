"""What the county decides at a monitoring identification, shown with its step (audit a12 #7): the county's
decision form showed only 同意/不同意, with no type, no income per head and no line; the clue step had taken
the exit's 2019 income as the household's current one, and 突发严重困难户 was approved at 3,897 yuan per
head, under the 6,000 line, which by definition is 脱贫不稳定户."""
from __future__ import annotations

from datetime import date

from engine.services.case_actions import attach_evidence
from tests.helpers.notifications import cli
from tests.test_household_life import consolidated, village_steps


def at_the_township_review(world, case: int) -> None:
    """A sudden-hardship clue of 2020-03-30 on the household's 2019 exit income (5,000 per head, under the
    line), the village's steps done: the township's review is next, on 2020-04-06."""
    world.on(date(2020, 4, 1))
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": "2020-03-30", "monitoring_type": "sudden_hardship"})
    world.step("pc1", "monitoring", "clue", case)
    village_steps(world, "monitoring", case)
    world.on(date(2020, 4, 6))


def at_the_county_decision(world, case: int) -> None:
    """As at_the_township_review, and the township's review done: the county's decision is next."""
    at_the_township_review(world, case)
    world.step("ts1", "monitoring", "township_review", case, decision="approve")


def test_the_county_sees_the_type_the_clue_the_income_and_the_line_and_what_does_not_fit(world, world_clients, tmp_path):
    case = consolidated(world, tmp_path)
    at_the_county_decision(world, case)
    said = cli(world, "cd", "case", "next", str(case), "--as-of", "2020-04-06")
    told = said.out
    assert "本步骤审定的内容：" in told, said.err
    assert "监测类型：突发严重困难户" in told and "风险线索：2020-03-30，来源：基层干部排查走访（走访排查）" in told
    assert "依据收入：人均纯收入 5,000 元（2 人，2019 年收入，2019-11-20 登记的收入核算明细表）" in told
    assert "防返贫监测线：6,000 元" in told
    assert "早于 2020-03-30 的风险线索，不是本户现在的收入" in told
    assert "按定义应为脱贫不稳定户" in told
    english = cli(world, "cd", "--lang", "en", "case", "next", str(case), "--as-of", "2020-04-06").out
    assert "monitoring type: household in sudden severe hardship" in english, english
    assert "income it rests on: 5,000 yuan net per person (2 in the household, income of 2019" in english
    assert "not in sudden severe hardship" in english
    page, api = world_clients
    shown = page("cd").get(f"/cases/{case}").text
    assert 'id="decides"' in shown and "依据收入：人均纯收入 5,000 元" in shown and "按定义应为脱贫不稳定户" in shown
    answer = api("cd", "en").get(f"/api/v1/cases/{case}/next").json()
    kinds = [(d["kind"], d["text"]) for d in answer["next"]["decides"]]
    assert ("fact", "monitoring line: 6,000 yuan (monitoring line of 2020: the rules have none for 2019, so the "
                    "2020 line was used)") in kinds, kinds
    assert [k for k, _ in kinds].count("warning") == 3     # the income's age, the type, and where it is corrected
    assert kinds[-1] == ("warning", "the township review or the county decision may correct the type: approve, choose "
                                    "the right type and give a reason (on the command line: --type with --reason)")
