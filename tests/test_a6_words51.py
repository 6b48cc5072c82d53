"""Words an audit of the exit season found wrong (a6, finding 12): evidence of another kind of case was
"unknown", listing codes; a stage shown as 已剔除/销户 could not be asked for by either of its names."""
from __future__ import annotations

import pytest

from engine.domain.errors import BadInput
from engine.services.case_actions import attach_evidence
from tests.test_project_figures import run


def test_a_village_profile_on_a_household_is_said_to_be_a_villages_not_unknown(world):
    case = world.household()
    with pytest.raises(BadInput) as refused:
        attach_evidence(world.app, world["vs"], case, "village_profile", {"year": 2019})
    error = refused.value
    assert error.code == "evidence.type_of_other_kind"
    zh, en = error.render(world.app.config, "zh"), error.render(world.app.config, "en")
    assert "是贫困村的材料，不能加到贫困户案件" in zh and "village_profile" not in zh, zh
    assert "evidence of a poor village, not of a household" in en and "(incidence high" in en, en
    with pytest.raises(BadInput) as unknown:
        attach_evidence(world.app, world["vs"], case, "no_such_type", {})
    assert unknown.value.code == "evidence.unknown_type"


@pytest.mark.parametrize("word", ["已剔除", "销户", "已剔除/销户", "removed"])
def test_a_stage_of_two_names_is_asked_for_by_either(world, word):
    code, out, err = run(world, "cd", "case", "list", "--stage", word)
    assert code == 0, err


def test_a_household_back_in_poverty_is_told_to_its_pairing_cadres(world, tmp_path):
    """a6 finding 9: after 返贫 only the village's posts heard of the new plan's deadline, minutes later;
    the household's two pairing cadres, who make the plan with the village, heard nothing."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    from notifications.contacts import set_channels
    from tests.test_household_life import consolidated
    from tests.test_plan_again import back_in_poverty
    for code, lang in (("pc1", "zh"), ("pc2", "en")):
        set_channels(world.app, world["admin"], code, [("file", f"{code}-inbox", lang)])
    case = consolidated(world, tmp_path)
    back_in_poverty(world, case)
    with world.app.engine.connect() as conn:
        told = conn.execute(select(t.outbox.c.address, t.outbox.c.subject, t.outbox.c.body)
                            .where(t.outbox.c.kind == "reopened").order_by(t.outbox.c.id)).all()
    assert sorted(a for a, _, _ in told) == ["pc1-inbox", "pc2-inbox"], told
    zh = next(r for r in told if r.address == "pc1-inbox")
    assert f"（案件 {case}）" in zh.subject and "重新纳入帮扶" in zh.body and "新的帮扶计划" in zh.body, zh.body
    assert "2020-03-10" in zh.body and "返贫" in zh.body
    en = next(r for r in told if r.address == "pc2-inbox")
    assert "came back under assistance on 2020-03-10" in en.body and "new assistance plan" in en.body, en.body
