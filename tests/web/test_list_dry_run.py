"""A list step's dry run reads the whole list at once (issue 12, speed): for every case it must say
exactly what `check_step` says of that case alone, raise what `check_step` raises, and the list
step built on it must do the ready cases and refuse the others."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.cases import StepInput
from engine.domain.errors import AuthError, BadInput, NotFound
from engine.reads.queries import check_step
from engine.services.list_steps import dry_run, perform_list_step
from tests.web.bulk_world import actor, core, demo_home, township_list  # noqa: F401

STEP = ("identification", "township_review")


def codes(found) -> list[tuple[str, dict]]:
    return [(v.code, v.params) for v in found]


@pytest.mark.parametrize("inputs", [StepInput(decision="approve"), StepInput(), StepInput(decision="reject")])
def test_the_dry_run_of_a_list_says_what_check_step_says_of_each_case(core, inputs):
    prepared = township_list(core, 4)
    staff = actor(core, "t1_staff1")
    cases = [prepared.objected, *prepared.ready, prepared.running]
    found = dry_run(core, staff, *STEP, cases, inputs)
    assert list(found) == cases
    for case in cases:
        assert codes(found[case]) == codes(check_step(core, staff, case, *STEP, inputs=inputs))
    assert found[prepared.objected] and found[prepared.running]
    assert not found[prepared.ready[0]] if inputs.decision == "approve" else found[prepared.ready[0]]


def test_the_dry_run_raises_for_the_first_case_check_step_would_refuse_to_read(core):
    prepared = township_list(core, 2, not_ready=False)
    staff = actor(core, "t1_staff1")
    with pytest.raises(NotFound) as missing:
        dry_run(core, staff, *STEP, [*prepared.ready, 99999999], StepInput())
    assert missing.value.params["case"] == "99999999"
    with core.engine.connect() as conn:
        other = conn.execute(select(t.cases.c.id).where(~t.cases.c.region_code.startswith("360730100"))).scalar()
    with pytest.raises(AuthError):
        dry_run(core, staff, *STEP, [*prepared.ready, other, 99999999], StepInput())
    with pytest.raises(BadInput):
        dry_run(core, staff, "identification", "no_such_step", prepared.ready, StepInput())


def test_a_list_step_does_the_ready_cases_and_refuses_the_others(core):
    prepared = township_list(core, 4)
    staff = actor(core, "t1_staff1")
    result = perform_list_step(core, staff, *STEP, [*prepared.ready, prepared.objected, prepared.running],
                               StepInput(decision="approve"))
    assert sorted(result.done) == sorted(prepared.ready)
    assert sorted(result.refused) == sorted([prepared.objected, prepared.running])
    assert all(result.reasons(core, c) for c in result.refused)
