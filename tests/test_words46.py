"""What a project's readers see: people, places and roles in words, not codes (words46)."""
from __future__ import annotations

from datetime import date

import pytest

from engine.domain.errors import BadInput, JingzhunError, RuleViolation
from engine.services.case_actions import attach_evidence
from tests.helpers.projects import D, add_project, enter_library, fund, households, refused
from tests.test_project_figures import ok, run
from tests.world import VILLAGE, VILLAGE2
from engine.reads.queries import next_for
from workflows.project import project_detail


def test_a_person_who_cannot_act_is_named_with_the_post_and_the_place_in_words(world):
    beneficiaries = households(world)
    error = refused(world, RuleViolation, "project.person_cannot_act",
                    lambda: add_project(world, beneficiaries, leader="insp"))
    zh, en = error.render(world.app.config, "zh"), error.render(world.app.config, "en")
    assert "inspector-insp（insp）" in zh and "洋塘村" in zh and "项目负责人" in zh, zh
    assert "360730100201" not in zh + en and "leader" not in zh, zh
    assert "inspector-insp (insp)" in en and "project leader" in en, en
    error = refused(world, RuleViolation, "project.person_cannot_act",
                    lambda: add_project_with_head(world, beneficiaries, "ts3"))
    zh = error.render(world.app.config, "zh")
    assert "责任单位负责人" in zh and "unit_head" not in zh, zh


def add_project_with_head(world, beneficiaries, head):
    from workflows.project import ProjectInput, register_project
    world.on(date(2019, 4, 1))
    return register_project(world.app, world["vs"], ProjectInput(
        "洋塘村脐橙基地", "industry", "360730100201", "县农业农村局", head, "ts3",
        (("county", "200000", None),), beneficiaries, ("带动2户贫困户年均增收2000元",), date(2019, 10, 31),
        date(2019, 4, 1)))


def test_a_beneficiary_outside_the_site_names_the_site_by_its_name(world):
    households(world)
    other = households(world, 1, village=VILLAGE2)
    error = refused(world, RuleViolation, "project.beneficiary_outside", lambda: add_project(world, other))
    zh, en = error.render(world.app.config, "zh"), error.render(world.app.config, "en")
    assert "洋塘村" in zh and "洋塘村" in en and "360730100201" not in zh + en, (zh, en)


def test_only_the_leader_may_schedule_and_the_refusal_names_the_leader(world):
    case = add_project(world, households(world))
    enter_library(world, case)
    with pytest.raises(JingzhunError) as info:
        fund(world, case, leader="ts2")
    zh, en = info.value.render(world.app.config, "zh"), info.value.render(world.app.config, "en")
    assert "township_staff-ts3（ts3）" in zh, zh
    assert "township_staff-ts3 (ts3)" in en, en


def test_project_show_names_the_unit_head_and_the_leader(world):
    case = add_project(world, households(world))
    detail = project_detail(world.app, world["vs"], case, date(2019, 4, 1))
    assert detail["leader_name"] == "township_staff-ts3" and detail["unit_head_name"] == "县农业农村局 局长"
    out = ok(world, "vs", "project", "show", case)
    assert "县农业农村局（县农业农村局 局长（uh））" in out and "项目负责人 township_staff-ts3（ts3）" in out, out


# --- rates and funds as cadres type them (finding 12) -----------------------------------------------

def village_case(world):
    from workflows.village import register_village
    world.on(date(2019, 1, 10))
    return register_village(world.app, world["vs"], VILLAGE, 1000, 2018)


def profile_incidence(world, case) -> float:
    from sqlalchemy import select
    from engine.adapters import tables as t
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.evidence.c.fields).where(
            t.evidence.c.case_id == case, t.evidence.c.type == "village_profile",
            t.evidence.c.superseded_by.is_(None))).scalar()["provincial_incidence"]


def test_a_rate_typed_as_a_bare_percentage_is_refused_at_entry_and_a_percent_sign_is_read(world):
    case = village_case(world)
    given = ["--field", "year=2018", "--field", "poor_persons=40", "--field", "per_capita_income=3000",
             "--field", "provincial_income=12000", "--field", "collective_income=0"]
    code, _, err = run(world, "vs", "evidence", "add", case, "village_profile", *given,
                       "--field", "provincial_incidence=5")
    assert code != 0 and "全省贫困发生率" in err and "5%" in err and "Traceback" not in err, err
    out = ok(world, "vs", "evidence", "add", case, "village_profile", *given, "--field", "provincial_incidence=5%")
    assert profile_incidence(world, case) == 0.05, out
    with pytest.raises(BadInput):
        attach_evidence(world.app, world["vs"], case, "village_exit_checklist",
                        {"year": 2019, "collective_income": 52000, "road": True, "drinking_water": True,
                         "electricity": 95, "clinic": True})


def test_a_fund_line_takes_the_chinese_colon_and_its_error_names_the_sources_in_words(world):
    beneficiaries = households(world)
    world.on(date(2019, 4, 1))
    base = ["project", "add", "--site", VILLAGE, "--name", "洋塘村光伏电站", "--category", "产业发展",
            "--unit", "县农业农村局", "--unit-head", "uh", "--leader", "ts3", "--target", "带动增收",
            "--beneficiary", beneficiaries[0], "--complete-by", "2019-10-31", "--proposed-on", "2019-04-01"]
    code, _, err = run(world, "vs", *base, "--fund", "县级财政80000")
    assert code != 0 and "县级财政" in err and "county:" not in err, err
    case = int(ok(world, "vs", *base, "--fund", "县级财政：80000").strip().splitlines()[-1])
    detail = project_detail(world.app, world["vs"], case, date(2019, 4, 1))
    assert [(f["source"], f["amount"]) for f in detail["funds"]] == [("county", D("80000.00"))]


# --- who may act, as `case next` and the case page say it (finding 13) -------------------------------

def test_case_next_lists_only_the_leader_for_a_milestone_and_the_approving_post_for_a_plan_change(world):
    case = add_project(world, households(world))
    enter_library(world, case)                         # approved by cd, county poverty office director
    fund(world, case)
    world.on(date(2019, 6, 3))
    out = ok(world, "insp", "case", "next", case, "--procedure", "milestone")
    who = next(line for line in out.splitlines() if "可办理的人" in line)
    assert "ts3" in who and "ts1" not in who and "cs " not in who and "县长" not in out, out
    assert "受阻：只有项目负责人" not in out, out      # the reader's own bar, not the case's
    nxt = next_for(world.app, world["insp"], case, procedure="milestone")["next"]
    assert [e["person"] for e in nxt["eligible"]] and {e["person"] for e in nxt["eligible"]} == {"ts3"}, nxt
    world.step("ts3", "plan_change", "change_request", case, reason="雨季延误",
               funds=(("county", "200000", None), ("integrated", "100000", None), ("provincial", "50000", None)))
    out = ok(world, "insp", "case", "next", case)
    assert "县长" not in out and "ch " not in out, out
    code, _, err = run(world, "ch", "step", "plan_change", "change_approval", case, "--approve")
    assert code != 0 and "原审批人 county_office_director-cd（cd）" in err, err
    nxt = next_for(world.app, world["insp"], case)["next"]
    assert nxt["roles"] == ["county_office_director"] and {e["person"] for e in nxt["eligible"]} == {"cd"}, nxt
