"""What a project's readers see: people, places and roles in words, not codes (words46)."""
from __future__ import annotations

from datetime import date

import pytest

from engine.domain.errors import JingzhunError, RuleViolation
from tests.helpers.projects import add_project, enter_library, fund, households, refused
from tests.test_project_figures import ok
from tests.world import VILLAGE2
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
