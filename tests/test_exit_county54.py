"""A carried-over exit waiting for the county's approval, held by what time broke since its proposal (a9
finding 9: the county's director read the village's instructions, "请重新入户核实，在本户替换…再提出退出",
when the county can only reject it or wait for the village): a reader outside the household's village is
told who must put it right, by their posts and village, how many steps that voids, and what the reader can
do; the village's own cadres keep the advice addressed to them. The county's refusal says how many steps
replacing the checks voids, as every step before it says (exit_still_current)."""
from __future__ import annotations

import json
from datetime import date

import pytest

from engine.domain.errors import RuleViolation
from engine.reads.list_holds import list_holds
from engine.reads.queries import next_for
from tests.helpers.notifications import cli
from tests.test_exit_early53 import walked
from tests.test_refusals import snapshot
from tests.world import VILLAGE


def at_the_county(world, tmp_path) -> int:
    """Proposed in November 2019 and walked to the township's approval on that year-end's checks and
    income; the county's approval comes only in October 2020."""
    case = walked(world, tmp_path, "township_review")
    world.on(date(2020, 10, 28))
    return case


def needs_of(world, who: str, case: int, lang: str = "zh") -> str:
    return json.dumps(next_for(world.app, world[who], case, lang), ensure_ascii=False, default=str)


def test_the_county_is_told_who_must_put_it_right_and_what_it_can_do(world, tmp_path):
    case = at_the_county(world, tmp_path)
    said = needs_of(world, "cd", case)
    assert "住房安全鉴定登记于 2019-11-20，早于本次退出认可的最早日期 2020-04-28" in said, said
    assert "这需由" in said and "办理：重新入户核实并替换住房安全鉴定" in said, said
    assert "作废「提出退出」及其后已办的共 5 步" in said
    assert "本级可以：选「不同意」并写明理由" in said
    assert "请重新入户核实" not in said and "请在本户登记本年度" not in said and "--void-signoffs" not in said
    english = needs_of(world, "cd", case, "en")
    assert "for the " in english and "to put right: visit the household again" in english, english
    assert "you can: reject it with your reason" in english and "visit the household again and replace its" in english
    # the CLI says the same, in both languages, and its --json too
    out = cli(world, "cd", "case", "next", case, "--as-of", "2020-10-28")
    assert "这需由" in out.out and "共 5 步" in out.out and "请重新入户核实" not in out.out, out.out + out.err
    out = cli(world, "cd", "--lang", "en", "case", "next", case, "--as-of", "2020-10-28")
    assert "you can: reject it" in out.out, out.out + out.err
    out = cli(world, "cd", "case", "next", case, "--as-of", "2020-10-28", "--json")
    assert "本级可以" in out.out and "请重新入户核实" not in out.out, out.out + out.err
    # the summary above the list of the village's households waiting for the county says it once, so too
    holds = list_holds(world.app, world["cd"], VILLAGE, "household", "exit", "county_approval")
    texts = [g["text"] for g in holds["groups"]]
    assert any("早于本次退出认可的最早日期" in t and "这需由" in t and "共 5 步" in t for t in texts), texts


def test_the_countys_refusal_says_how_many_steps_replacing_the_checks_voids(world, tmp_path):
    case = at_the_county(world, tmp_path)
    before = snapshot(world, (case,))
    with pytest.raises(RuleViolation) as refused:
        world.step("cd", "exit", "county_approval", case, decision="approve")
    assert refused.value.code == "check.exit_standard"
    failures = refused.value.params["failures"]
    assert sorted(f[1]["type"] for f in failures if f[0] == "exit_check_stale") == [
        "drinking_water", "housing_safety", "two_assurances"]
    assert {f[1]["steps"] for f in failures if f[0] in ("exit_check_stale", "exit_income_year")} == {5}
    assert snapshot(world, (case,)) == before
    out = cli(world, "cd", "step", "exit", "county_approval", case, "--approve", "--date", "2020-10-28")
    assert out.code != 0 and "共 5 步" in out.out + out.err, out.out + out.err
    # the county may still send it back, with its reason
    world.step("cd", "exit", "county_approval", case, decision="reject", reason="核查过旧")


def test_the_village_keeps_the_advice_addressed_to_it(world, tmp_path):
    case = at_the_county(world, tmp_path)
    said = needs_of(world, "vs", case)
    assert "请重新入户核实，在本户替换住房安全鉴定为本次核实的结果；替换将作废「提出退出」及其后已办的共 5 步" in said, said
    assert "`--void-signoffs`" in said
    assert "这需由" not in said and "本级可以" not in said
