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
