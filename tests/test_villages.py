"""Poor villages (贫困村): a village's exit gated by its live household data and the checklist
minimums from configuration; registration, population and identification.

The world (tests/world.py) is Ningdu county, Jiangxi: 洋塘村 (VILLAGE) has a person for every village
post. Jiangxi is not a western province: a village exits below 2% and its county approves.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from config import ConfigError, load_config
from engine.adapters import tables as t
from engine.services.case_actions import attach_evidence
from engine.domain.errors import AuthError, BadInput
from engine.reads.indicators import poor_households
from engine.reads.queries import next_for
from tests.world import TOWNSHIP, VILLAGE, World
from workflows.household import member_leaves
from workflows.problem import ProblemInput, register_problem
from workflows.village import register_village, update_population
from tests.test_project_figures import ok
from tests.helpers.villages import CHECKLIST, PROFILE, assisted_village, figures, identified_village, refused
from tests.helpers.rules_copy import rules_copy


def poor_households_of(world: World, sizes: list[int]) -> list[int]:
    """Households of these sizes, identified (one village list) and assisted, one first cadre each."""
    cases = [world.household(members=n) for n in sizes]
    world.identify(cases)
    for case, cadre in zip(cases, ("pc1", "pc2", "pc3")):
        world.assist(case, first=cadre, second=None)
    return cases


def exit_household(world: World, case: int, tmp_path: Path) -> None:
    world.exit_evidence(case, income_2019=6000.0 * 5, tmp=tmp_path)
    world.exit(case)


def wrong_exit(world: World, case: int, found_on: date) -> int:
    """A third-party evaluation finds `case` wrongly exited (错退): it is back to `assisted` at once."""
    world.on(found_on)
    return register_problem(world.app, world["cd"], ProblemInput(
        TOWNSHIP, "third_party_evaluation", "收入核算有误，错退", found_on, "wrong_exit", [case]))


# --- the exit is gated by live household data -----------------------------------------------------

def test_a_village_above_the_threshold_cannot_exit_until_enough_households_exit_and_a_wrong_exit_puts_it_back(
        world, tmp_path):
    village = assisted_village(world, tmp_path, population=200)
    a, b, c = poor_households_of(world, [3, 2, 2])          # 7 of 200 persons: 3.5%
    world.household(members=5)                              # an applicant, not registered poor: not counted
    world.on(date(2019, 11, 1))
    attach_evidence(world.app, world["vs"], village, "village_exit_checklist", CHECKLIST)

    error = refused(world, "check.village_exit_standard",
                    lambda: world.step("vs", "village_exit", "exit_application", village), village)
    assert "3.5%" in error.render(world.app.config, "en") and "3.5%" in error.render(world.app.config, "zh")
    shown = figures(world, village)
    assert shown["incidence"]["incidence_pct"] == 3.5 and shown["incidence"]["threshold_pct"] == 2.0
    assert [(h["case"], h["persons"]) for h in shown["incidence"]["blocking_households"]] == [(a, 3), (b, 2), (c, 2)]
    assert f"case {a}, head 成员" in "\n".join(shown["lines"])

    exit_household(world, a, tmp_path)                      # 4 of 200: 2.0%, at the threshold is not below it
    world.on(date(2019, 12, 2))
    error = refused(world, "check.village_exit_standard",
                    lambda: world.step("vs", "village_exit", "exit_application", village), village)
    assert error.params["failures"][0][1]["persons_to_exit"] == 1

    exit_household(world, b, tmp_path)                      # 2 of 200: 1.0%
    world.on(date(2019, 12, 2))
    world.step("vs", "village_exit", "exit_application", village)
    world.step("ts1", "village_exit", "township_notice", village)

    wrong_exit(world, b, date(2019, 12, 5))                 # b back under assistance: 4 of 200 again
    shown = figures(world, village)
    assert shown["incidence"]["incidence_pct"] == 2.0 and not shown["incidence"]["below_threshold"]
    assert [h["case"] for h in shown["incidence"]["blocking_households"]] == [b, c]
    text = "\n".join(next_for(world.app, world["insp"], village, "en")["figures"]["lines"])
    assert "cannot exit: persons still to exit: 1" in text and f"case {b}, head " in text and "1 households" not in text
    world.on(date(2019, 12, 9))
    nxt = next_for(world.app, world["insp"], village, "en")["next"]
    assert nxt["step"] == "exit_approval" and any("2.0%" in b_ for b_ in nxt["blockers"])
    refused(world, "check.village_exit_standard",
            lambda: world.step("cd", "village_exit", "exit_approval", village, decision="approve"), village)

    exit_household(world, c, tmp_path)                      # 2 of 200 again (b's 2)
    world.on(date(2019, 12, 9))
    world.step("cd", "village_exit", "exit_approval", village, decision="approve")
    outcome = world.step("cs", "village_exit", "announcement", village)[0]
    assert outcome.to_stage == "exited"
    with world.app.engine.connect() as conn:
        approval = conn.execute(select(t.steps.c.data).where(t.steps.c.case_id == village,
                                                             t.steps.c.step_key == "exit_approval")).scalar()
    assert approval["incidence_check"]["poor_persons"] == 2 and approval["incidence_check"]["population"] == 200
    assert "江西" in approval["incidence_check"]["source"]

    wrong_exit(world, c, date(2019, 12, 20))               # after the exit: said, not undone
    text = "\n".join(figures(world, village)["lines"])
    assert "has exited, but its incidence is now 2.0%" in text and f"case {c}" in text


def test_a_village_is_said_in_its_own_stages(world, tmp_path):
    """A poor village identified and under its resident team reads as a village (已识别(建档立卡贫困村),
    驻村帮扶中), not as a household (已识别(建档立卡), 帮扶中), in case show, case list and the trace."""
    village = assisted_village(world, tmp_path)
    shown = ok(world, "insp", "case", "show", village)
    assert "驻村帮扶中" in shown.splitlines()[0]
    trace = ok(world, "insp", "trace", village)
    listed = next(line for line in ok(world, "insp", "case", "list").splitlines() if line.startswith(f"{village}\t"))
    assert "驻村帮扶中" in listed
    for text in (shown, trace):
        assert "申请中 → 已识别(建档立卡贫困村)" in text and "已识别(建档立卡贫困村) → 驻村帮扶中" in text
        assert "已识别(建档立卡) " not in text and " 帮扶中" not in text
    english = ok(world, "insp", "--lang", "en", "case", "show", village)
    assert "under resident-team assistance" in english.splitlines()[0]


def test_only_current_members_of_households_not_yet_exited_count(world, tmp_path):
    village = identified_village(world, population=100)
    a, b = poor_households_of(world, [3, 2])
    world.household(members=4)                               # applicant
    assert figures(world, village)["incidence"]["poor_persons"] == 5
    with world.app.engine.connect() as conn:
        member = conn.execute(select(t.household_members.c.id_number).where(
            t.household_members.c.case_id == a, t.household_members.c.relation != "head")).scalars().first()
    world.on(date(2019, 4, 1))
    member_leaves(world.app, world["vs"], a, member, "外嫁")
    shown = figures(world, village)["incidence"]
    assert (shown["poor_persons"], shown["households"], shown["incidence_pct"]) == (4, 2, 4.0)
    assert shown["persons_to_exit"] == 3                     # under 2% of 100 means at most 1 person
    with world.app.engine.connect() as conn:                 # the list is limited by the database
        assert [h["case"] for h in poor_households(conn, VILLAGE, limit=1)] == [a]


def test_the_exit_needs_the_checklist_minimums_of_the_configuration(world, tmp_path):
    village = assisted_village(world, tmp_path)              # no poor households: incidence 0
    world.on(date(2019, 12, 2))
    attach_evidence(world.app, world["vs"], village, "village_exit_checklist",
                    {**CHECKLIST, "collective_income": 30000, "electricity": 0.95, "clinic": False})
    error = refused(world, "check.village_exit_standard",
                    lambda: world.step("vs", "village_exit", "exit_application", village), village)
    assert [code for code, _ in error.params["failures"]] == ["village_collective_income", "village_electricity",
                                                              "village_clinic"]   # in the checklist's order
    assert "40000" in error.render(world.app.config, "en")
    attach_evidence(world.app, world["vs"], village, "village_exit_checklist", {**CHECKLIST, "year": 2017},
                    replace=True, reason="更正")
    error = refused(world, "check.village_exit_standard",
                    lambda: world.step("vs", "village_exit", "exit_application", village), village)
    assert [code for code, _ in error.params["failures"]] == ["village_checklist_year"]
    attach_evidence(world.app, world["vs"], village, "village_exit_checklist", CHECKLIST, replace=True, reason="更正")
    world.step("vs", "village_exit", "exit_application", village)


@pytest.mark.parametrize("old, new, key", [
    ("electricity: 1.0, clinic: true}", "electricity: 1.5, clinic: true}", "defaults.village_exit_minimums"),
    ("road: true, drinking_water", "road: yes please, drinking_water", "defaults.village_exit_minimums"),
    ("village_team_min_members: 3", "village_team_min_members: 0", "defaults.village_team_min_members"),
    ("village_exit_approver_level: county", "village_exit_approver_level: province",
     "village_exit.steps.2.level_param"),
])
def test_village_parameters_are_validated_when_the_configuration_loads(tmp_path, old, new, key):
    target = rules_copy(tmp_path, {"policy.yaml": (old, new)})
    with pytest.raises(ConfigError) as bad:
        load_config(target)
    assert key in str(bad.value)


# --- registration, population, identification ----------------------------------------------------

def test_registration_keeps_one_case_per_village_and_population_changes_keep_the_old_value(world):
    world.on(date(2019, 1, 10))
    refused(world, "household.not_village", lambda: register_village(world.app, world["vs"], TOWNSHIP, 200),
            error=BadInput)
    refused(world, "village.bad_population", lambda: register_village(world.app, world["vs"], VILLAGE, 0),
            error=BadInput)
    refused(world, "auth.wrong_role", lambda: register_village(world.app, world["pc1"], VILLAGE, 200),
            error=AuthError)
    case = register_village(world.app, world["vs"], VILLAGE, 1200, 2018)
    refused(world, "village.exists", lambda: register_village(world.app, world["ts1"], VILLAGE, 1300), case)
    refused(world, "village.reason_required", lambda: update_population(world.app, world["vs"], case, 1250, " "),
            case, error=BadInput)
    update_population(world.app, world["vs"], case, 1250, "2019年户籍统计", 2019)
    with world.app.engine.connect() as conn:
        ev = conn.execute(select(t.audit_events.c.detail, t.audit_events.c.reason).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "population_updated")).one()
        attrs = conn.execute(select(t.cases.c.attrs).where(t.cases.c.id == case)).scalar()
    assert ev.detail["old"] == {"population": 1200, "population_year": 2018} and ev.reason == "2019年户籍统计"
    assert attrs["population"] == 1250


def test_a_village_not_meeting_the_identification_standard_is_refused(world):
    world.on(date(2019, 1, 10))
    case = register_village(world.app, world["vs"], VILLAGE, 1000, 2018)
    attach_evidence(world.app, world["vs"], case, "village_profile",
                    {**PROFILE, "poor_persons": 60, "per_capita_income": 8000, "collective_income": 20000})
    error = refused(world, "check.village_identification_standard",
                    lambda: world.step("vs", "village_identification", "village_application", case), case)
    assert [c for c, _ in error.params["failures"]] == ["village_incidence_not_high", "village_income_not_low",
                                                        "village_has_collective_income"]


def test_a_village_exit_notice_says_its_incidence_and_checklist_not_a_household_list(world, tmp_path):
    """The township's notice of a poor village's exit, posted on the board for villagers to object to:
    the village's poverty incidence against the exit standard and its checklist (collective income, road,
    water, electricity, clinic), in its own opening; not "经民主评议和审核" with a household-size column."""
    from engine.services.notices import notice_for_reader, render
    village = assisted_village(world, tmp_path, population=200)
    a, b = poor_households_of(world, [2, 2])              # 4 of 200: 2.0%
    world.on(date(2019, 11, 1))
    attach_evidence(world.app, world["vs"], village, "village_exit_checklist", CHECKLIST)
    exit_household(world, a, tmp_path)                      # 2 of 200: 1.0%
    world.on(date(2019, 12, 2))
    world.step("vs", "village_exit", "exit_application", village)
    world.step("ts1", "village_exit", "township_notice", village)
    with world.app.engine.connect() as conn:
        notice, posted = conn.execute(select(t.notices.c.id, t.notices.c.rendered).where(
            t.notices.c.procedure_kind == "village_exit")).one()
    assert "拟退出（出列）" in posted and "经民主评议" not in posted and "家庭人口" not in posted, posted
    assert "贫困发生率：1.0%（贫困人口 2 人，总人口 200 人；退出标准：低于 2.0%）" in posted, posted
    assert "村集体经济收入：52,000.00 元" in posted and "通硬化路：是" in posted, posted
    view, _ = notice_for_reader(world.app, world["insp"], notice)
    english = render(world.app, view, "en")
    assert "are to exit" in english and "Poverty incidence: 1.0% (2 poor persons of 200; exit standard: below 2.0%)" \
        in english, english
    board = render(world.app, view, "zh", html=True)
    assert '<table class="project">' in board and "村名" in board and "家庭人口" not in board
