"""A farm household never registered poor, entered to be monitored (a12 #1): an edge household
(边缘易致贫户) or one in sudden hardship is registered as an ordinary household (`household add
--ordinary`, the API's `ordinary`), not as an applicant for poverty identification; its monitoring runs
the identification from its clue with its 15 days, its risk elimination by the same chain, and, fallen
into poverty, it is identified as poor (纳入建档立卡) once its causes of poverty are given, its monitoring ended by
that identification. It
cannot be 脱贫不稳定户, which is a household that exited poverty; it is counted with no poor household."""
from __future__ import annotations

from datetime import date

from engine.domain.errors import RuleViolation
from engine.reads import indicators
from engine.reads.case_record import case_detail
from engine.services.case_actions import attach_evidence, record_visit
from tests.test_household_life import village_chain
from tests.web.test_monitoring_shown import cli
from tests.world import VILLAGE, member_ids

import pytest


def _members(seed: int) -> list[str]:
    return [f"--member=农户{seed}-{i},{n},{'head' if i == 0 else 'spouse'},normal,,,是,是"
            for i, n in enumerate(member_ids(2, seed))]


def clue(world, case: int, kind: str, day: date, by: str = "vs", again: bool = False, income: bool = True) -> None:
    world.on(day)
    again = {"replace": True, "reason": "更正线索"} if again else {}
    attach_evidence(world.app, world[by], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": day.isoformat(), "monitoring_type": kind}, **again)
    if income and not again:
        attach_evidence(world.app, world[by], case, "income_assessment", {"year": day.year - 1, "net_income": 11000})


def test_an_ordinary_household_is_registered_monitored_eliminated_and_identified_poor_when_it_falls(world):
    world.on(date(2020, 4, 1))
    refused = cli(world, "vs", "household", "add", "--village", VILLAGE, "--ordinary", "--cause", "illness",
                  *_members(901))
    assert refused.code == 2 and "不填致贫原因" in refused.err and "Traceback" not in refused.err
    added = cli(world, "vs", "household", "add", "--village", VILLAGE, "--ordinary", *_members(902))
    assert added.code == 0, added.err
    case = int(added.out.split()[-1])
    shown = cli(world, "vs", "case", "show", str(case)).out
    assert "一般农户（非建档立卡）" in shown
    assert case_detail(world.app, world["vs"], case)["stage"] == "ordinary"
    assert "ordinary household (never registered poor)" in cli(world, "vs", "--lang", "en", "case", "show", str(case)).out

    # not 脱贫不稳定户: refused in words naming why
    clue(world, case, "unstable", date(2020, 4, 1))
    with pytest.raises(RuleViolation) as unstable:
        world.step("fs", "monitoring", "clue", case)
    assert "从未建档立卡" in unstable.value.render(world.app.config, "zh")
    assert "never registered poor" in unstable.value.render(world.app.config, "en")

    clue(world, case, "edge", date(2020, 4, 2), again=True)
    world.step("fs", "monitoring", "clue", case)
    due = cli(world, "vs", "deadline", "list", "--case", str(case)).out
    assert "2020-04-16" in due          # 15 days from the first clue (04-01: a corrected clue moves no clock later)
    village_chain(world, "monitoring", case, date(2020, 4, 10), "county_decision")
    detail = case_detail(world.app, world["vs"], case)
    assert detail["stage"] == "ordinary" and detail["monitoring"]["current"] == {"type": "edge", "since": "2020-04-10"}
    with world.app.engine.connect() as conn:      # a monitored ordinary household is no poor household
        assert case not in [h["id"] for h in indicators.poor_households(conn, VILLAGE, limit=1000)]

    # its risk eliminated by the same chain, on what the rules ask of it (six months monitored, the plan
    # revised and approved, 两不愁三保障 and water checked, a visit finding no new risk, this year's income)
    world.on(date(2020, 4, 20))
    world.step("fs", "plan_revision", "plan", case, measures=(("employment", "公益性岗位：护林员"),))
    world.step("th", "plan_revision", "plan_approval", case, decision="approve")
    world.on(date(2020, 10, 12))
    for kind, fields in (("two_assurances", {"food": True, "clothing": True}), ("housing_safety", {"grade": "A"}),
                         ("drinking_water", {"safe": True})):
        attach_evidence(world.app, world["vs"], case, kind, fields)
    record_visit(world.app, world["vs"], case, date(2020, 10, 12), "务工收入稳定，无新风险")
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 30000},
                    replace=True, reason="2020年收入核算")
    world.step("fs", "risk_elimination", "assessment", case)
    village_chain(world, "risk_elimination", case, date(2020, 10, 20), "county_decision")
    detail = case_detail(world.app, world["vs"], case)
    assert detail["monitoring"]["current"] is None and detail["monitoring"]["history"][0]["risk_eliminated_on"] == "2020-10-20"

    # monitored again, it falls into poverty: identified as poor (纳入建档立卡), its monitoring ended so
    clue(world, case, "sudden_hardship", date(2020, 11, 2), income=False)
    world.step("fs", "monitoring", "clue", case)
    village_chain(world, "monitoring", case, date(2020, 11, 9), "county_decision")
    world.on(date(2020, 11, 10))
    attach_evidence(world.app, world["vs"], case, "application", {"applicant": "农户902-0", "applied_on": "2020-11-10"})
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2020, "net_income": 4000})
    # registered without causes of poverty, it is asked for them as an applicant is (p3): `case next` says
    # so and the application is refused until `household causes` gives them
    told = cli(world, "vs", "case", "next", str(case), "--procedure", "identification")
    assert "尚未登记致贫原因" in told.out + told.err and f"household causes {case}" in told.out + told.err
    with pytest.raises(RuleViolation) as no_causes:
        world.step("vs", "identification", "application", case)
    assert "尚未登记致贫原因" in no_causes.value.render(world.app.config, "zh")
    assert "no causes of poverty yet" in no_causes.value.render(world.app.config, "en")
    given = cli(world, "vs", "household", "causes", str(case), "--cause", "因病", "--reason", "申请识别为贫困户")
    assert given.code == 0, given.err
    world.step("vs", "identification", "application", case)
    world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
    world.step("tl", "identification", "village_verification", case, verifiers=("tm",), decision="approve")
    world.step("fs", "identification", "first_notice", case)
    world.on(date(2020, 11, 20))
    world.step("ts1", "identification", "township_review", case, decision="approve")
    world.step("ts2", "identification", "second_notice", case)
    world.on(date(2020, 11, 30))
    world.step("cd", "identification", "county_approval", case, decision="approve")
    world.step("cs", "identification", "announcement", case)
    detail = case_detail(world.app, world["vs"], case)
    assert detail["stage"] == "identified" and detail["monitoring"]["current"] is None
    assert detail["monitoring"]["history"][-1] == {"type": "sudden_hardship", "since": "2020-11-09",
                                                   "risk_eliminated_on": None, "ended_on": "2020-11-30",
                                                   "ended_by": "identification"}


def test_the_api_registers_an_ordinary_household_and_refuses_a_poor_households_type(world, world_clients):
    page, api = world_clients
    members = [{"name": f"农户903-{i}", "id_number": n, "relation": "head" if i == 0 else "spouse"}
               for i, n in enumerate(member_ids(2, 903))]
    bad = api("vs").post("/api/v1/households", json={"village": VILLAGE, "members": members, "ordinary": True,
                                                      "household_type": "dibao_poor"})
    assert bad.status_code == 400 and "一般农户" in bad.text
    made = api("vs").post("/api/v1/households", json={"village": VILLAGE, "members": members, "ordinary": True})
    assert made.status_code == 201, made.text
    case = made.json()["ids"][0]
    body = api("vs", "en").get(f"/api/v1/cases/{case}").json()
    assert body["stage"] == "ordinary" and body["poverty"]["causes"] == [] and body["poverty"]["household_type"] is None
    form = page("vs").get(f"/cases/{case}?procedure=monitoring").text     # its clue offers the types it may be
    assert 'value="edge"' in form and 'value="sudden_hardship"' in form and 'value="unstable"' not in form
