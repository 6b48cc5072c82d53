"""An exit the county's approval must refuse is said, and refused, at each step before it (a9 finding 4: a
2019 proposal carried into 2020 went through the household's acknowledgement, a 7-day notice and the
township's approval on checks of 2019-11-20, and only the county refused it, when replacing them voided
5 steps); a proposal again after the county's rejection shows the rejection and asks for an exit item
recorded since (a9 finding 5: rejected for 收入不实, proposed again the same day on the same income)."""
from __future__ import annotations

import json
from datetime import date

import pytest

from engine.domain.errors import RuleViolation
from engine.reads.list_holds import list_holds
from engine.reads.queries import next_for
from engine.services.case_actions import attach_evidence
from tests.helpers.notifications import cli
from tests.test_refusals import snapshot
from tests.world import VILLAGE, scan_file

PROPOSAL = dict(attendance=38, votes_for=33, votes_against=1)
CHECKS = (("two_assurances", {"food": True, "clothing": True}), ("housing_safety", {"grade": "A"}),
          ("drinking_water", {"safe": True}))


def carried_over(world, tmp_path) -> int:
    """Proposed and verified in November 2019 on that year-end's checks, acknowledged only in 2020."""
    case = world.household(members=2, income_2018=4000.0)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=12000.0, confirm=False, tmp=tmp_path)
    world.exit(case, through="verification")
    world.on(date(2020, 10, 28))
    return case


def walked(world, tmp_path, through: str) -> int:
    """Proposed in November 2019 on that year-end's checks and income, walked up to `through`."""
    case = world.household(members=2, income_2018=4000.0)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=12000.0, tmp=tmp_path)
    world.exit(case, through=through)
    return case


def confirmed(world, case: int, tmp_path) -> None:
    attach_evidence(world.app, world["pc1"], case, "household_confirmation", {"signed_on": "2020-10-28"},
                    scan_file(tmp_path / "confirmation-2020.pdf", "2020 年脱贫确认书"))


def test_a_carried_over_exit_on_last_years_checks_is_refused_at_the_acknowledgement_saying_what_to_redo(world, tmp_path):
    case = carried_over(world, tmp_path)
    needs = json.dumps(next_for(world.app, world["fs"], case), ensure_ascii=False, default=str)
    assert "住房安全鉴定登记于 2019-11-20，早于本次退出认可的最早日期 2020-04-28，县级审批将不予通过" in needs, needs
    assert "作废「提出退出」及其后已办的共 2 步" in needs and "--void-signoffs" in needs
    assert "脱贫确认书" in needs, "the confirmation still missing is said beside it"
    # the village's list for the acknowledgement says it once for the list, each check a line
    holds = list_holds(world.app, world["fs"], VILLAGE, "household", "exit", "acknowledgement")
    said = [g["text"] for g in holds["groups"]]
    assert any("不愁吃不愁穿核查登记于 2019-11-20" in s and "县级审批将不予通过" in s for s in said), said
    confirmed(world, case, tmp_path)        # signed all the same: the step is refused
    before = snapshot(world, (case,))
    with pytest.raises(RuleViolation) as refused:
        world.step("fs", "exit", "acknowledgement", case)
    assert refused.value.code == "check.exit_still_current"
    failures = refused.value.params["failures"]
    assert sorted(f[1]["type"] for f in failures if f[0] == "exit_check_stale") == [
        "drinking_water", "housing_safety", "two_assurances"]
    # and 2019's income, which an exit in October 2020 is not judged on (as the proposal and the county hold it)
    assert [f[1]["year"] for f in failures if f[0] == "exit_income_year"] == [2019]
    assert snapshot(world, (case,)) == before
    out = cli(world, "fs", "--lang", "en", "case", "next", case, "--as-of", "2020-10-28")
    assert "recorded on 2019-11-20, before 2020-04-28" in out.out + out.err, out.out + out.err
    assert "the county's approval will refuse it" in out.out + out.err
    # the year's visit recorded over last year's: the proposal and verification voided, the exit walked again
    for kind, fields in CHECKS:
        attach_evidence(world.app, world["vs"], case, kind, fields, replace=True, void_signoffs=True,
                        reason="2020 年入户核实")
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 14000.0},
                    replace=True, void_signoffs=True, reason="2020 年核算")
    world.step("vd", "exit", "proposal", case, **PROPOSAL)
    world.step("tl", "exit", "verification", case, decision="approve", verifiers=("ts2", "ts3", "ts4"))
    world.step("fs", "exit", "acknowledgement", case)


def test_an_income_of_a_year_the_exit_no_longer_accepts_is_refused_at_the_township_review(world, tmp_path):
    """Proposed in late 2019 on the 2019 income, reviewed in April 2020: past the year's first months
    (exit_income_prior_year_months) an exit is judged on 2020's income, so 2019's no longer serves."""
    case = walked(world, tmp_path, "village_notice")
    world.on(date(2020, 4, 6))
    with pytest.raises(RuleViolation) as refused:
        world.step("ts1", "exit", "township_review", case, decision="approve")
    assert "exit_income_year" in [f[0] for f in refused.value.params["failures"]]
    said = cli(world, "ts1", "case", "next", case, "--as-of", "2020-04-06")
    assert "收入核算为 2019 年的" in said.out + said.err and "共 4 步" in said.out + said.err, said.out + said.err
    # the township may still send it back
    world.step("ts1", "exit", "township_review", case, decision="reject", reason="收入年度过旧")


def test_an_exit_on_this_years_checks_goes_through_every_step_as_before(world, tmp_path):
    walked(world, tmp_path, "announcement")


def rejected_by_the_county(world, tmp_path) -> int:
    case = world.household(members=2, income_2018=4000.0)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=9000.0, tmp=tmp_path)
    world.exit(case, through="township_review")
    world.step("ch", "exit", "county_approval", case, decision="reject", reason="收入不实")
    return case


def test_a_proposal_again_after_the_countys_rejection_shows_it_and_asks_for_an_item_checked_since(world, tmp_path):
    case = rejected_by_the_county(world, tmp_path)
    needs = json.dumps(next_for(world.app, world["vd"], case), ensure_ascii=False, default=str)
    assert "上次退出于 2019-11-28 在「县级审批」被" in needs and "理由：收入不实" in needs, needs
    assert "在退回之后登记至少一项退出材料" in needs
    before = snapshot(world, (case,))
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, **PROPOSAL)
    assert refused.value.code == "check.rejection_answered"
    assert snapshot(world, (case,)) == before
    said = cli(world, "vd", "--lang", "en", "case", "next", case, "--as-of", "2019-11-28")
    assert "sent back at" in said.out and "(reason: 收入不实)" in said.out, said.out + said.err
    # the income checked again after the rejection, corrected: the proposal is taken
    world.on(date(2019, 11, 30))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 8800.0},
                    replace=True, reason="县级退回后重新核算：务工收入按实核减")
    world.step("vd", "exit", "proposal", case, **PROPOSAL)


def test_a_proposal_voted_down_by_the_village_asks_for_nothing_new(world, tmp_path):
    case = world.household(members=2, income_2018=4000.0)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=12000.0, tmp=tmp_path)
    world.on(date(2019, 11, 20))
    world.step("vd", "exit", "proposal", case, attendance=38, votes_for=10, votes_against=25)
    world.step("vd", "exit", "proposal", case, **PROPOSAL)
