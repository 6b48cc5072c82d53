"""A list step judges the whole list once, in the transaction that writes (issue 12, speed): each
case is refused with exactly what `check_step` says of that case alone on the step's day, or done
when it says nothing; a case `check_step` raises for (unknown, out of reach) is refused with it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.cases import StepInput
from engine.domain.errors import AuthError, BadInput, NotFound
from engine.reads.queries import check_step
from engine.services.list_steps import perform_list_step
from tests.web.bulk_world import actor, core, demo_home, township_list  # noqa: F401

STEP = ("identification", "township_review")


def codes(found) -> list[tuple[str, dict]]:
    return [(v.code, v.params) for v in found]


@pytest.mark.parametrize("inputs", [StepInput(decision="approve"), StepInput(), StepInput(decision="reject")])
def test_a_list_refuses_each_case_with_what_check_step_says_of_it_and_does_the_others(core, inputs):
    prepared = township_list(core, 4)
    staff = actor(core, "t1_staff1")
    cases = [prepared.objected, *prepared.ready, prepared.running]
    said = {c: codes(check_step(core, staff, c, *STEP, as_of=core.clock.today(), inputs=inputs)) for c in cases}
    result = perform_list_step(core, staff, *STEP, cases, inputs)
    for case in cases:
        assert codes(result.refused.get(case, [])) == said[case]
        assert (case in result.done) == (not said[case])
    assert said[prepared.objected] and said[prepared.running]
    assert (not said[prepared.ready[0]]) == (inputs.decision == "approve")


def test_a_list_refuses_a_case_check_step_would_refuse_to_read_with_what_it_raises(core):
    prepared = township_list(core, 2, not_ready=False)
    staff = actor(core, "t1_staff1")
    with core.engine.connect() as conn:
        other = conn.execute(select(t.cases.c.id).where(~t.cases.c.region_code.startswith("360730100"))).scalar()
    result = perform_list_step(core, staff, *STEP, [*prepared.ready, other, 99999999], StepInput(decision="approve"))
    assert sorted(result.done) == sorted(prepared.ready)
    assert [(type(e), e.code) for e in result.refused[other]] == [(AuthError, "auth.jurisdiction")]
    assert [(type(e), e.code, e.params["case"]) for e in result.refused[99999999]] == [(NotFound, "case.unknown",
                                                                                        "99999999")]
    with pytest.raises(BadInput):
        perform_list_step(core, staff, "identification", "no_such_step", prepared.ready, StepInput())


def test_a_list_step_does_the_ready_cases_and_refuses_the_others(core):
    prepared = township_list(core, 4)
    staff = actor(core, "t1_staff1")
    result = perform_list_step(core, staff, *STEP, [*prepared.ready, prepared.objected, prepared.running],
                               StepInput(decision="approve"))
    assert sorted(result.done) == sorted(prepared.ready)
    assert sorted(result.refused) == sorted([prepared.objected, prepared.running])
    assert all(result.reasons(core, c) for c in result.refused)
