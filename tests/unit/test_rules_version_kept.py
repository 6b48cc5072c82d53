"""A home's installed rules keep their version under a release that adds optional keys (a trigger's
`sample_waiting`, a step's several `shows`): the version is the rules' dump's digest, and a key not used is
dumped as it was before it existed, so a home's steps are not recorded under a version nobody installed."""
from __future__ import annotations

from config.deadlines import Trigger
from config.models import StepDef


def test_a_trigger_that_is_no_sample_checks_dumps_as_before():
    assert "sample_waiting" not in Trigger(enters="assisted").model_dump(by_alias=True)
    assert Trigger(sample_waiting=True).model_dump(by_alias=True)["sample_waiting"] is True


def test_a_step_naming_one_thing_beside_each_case_dumps_it_as_one():
    one = StepDef(key="notice", type="notice", roles=("village_secretary",), shows="contractor_selection.contractor")
    assert one.shows == ("contractor_selection.contractor",)
    assert one.model_dump(by_alias=True)["shows"] == "contractor_selection.contractor"
    two = StepDef(key="notice", type="notice", roles=("village_secretary",), shows=["a.b", "c.d"])
    assert two.model_dump(by_alias=True)["shows"] == ("a.b", "c.d")
    none = StepDef(key="notice", type="notice", roles=("village_secretary",))
    assert none.model_dump(by_alias=True)["shows"] is None and "wording" not in none.model_dump(by_alias=True)
