"""Two cadres do the same step on the same household at the same moment (two phones, one list): one
step is recorded; each other is refused in words — the case changed under it, or the step is done —
never a database error; the record stays whole. On both backends, each writer on its own connection,
as the server's threads are."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.domain.cases import StepInput
from engine.reads.audit_verify import verify
from engine.services.procedures import perform_step
from tests.helpers.at_once import at_once

WRITERS = 4


def test_the_same_step_at_once_is_recorded_once_and_every_other_refused_in_words(world):
    world.on(date(2019, 3, 1))
    cases = [world.household(members=1) for _ in range(6)]
    outcomes = {case: at_once(world.app, [lambda case=case: perform_step(
        world.app, world["vs"], "identification", "application", [case], StepInput())] * WRITERS) for case in cases}
    for case, seen in outcomes.items():
        assert len(seen) == WRITERS and seen.count("done") == 1, (case, seen)
        assert all(s == "done" or not s.startswith("crash") for s in seen), (case, seen)
    with world.app.engine.connect() as conn:
        steps = dict(conn.execute(select(t.steps.c.case_id, func.count()).where(t.steps.c.case_id.in_(cases))
                                  .group_by(t.steps.c.case_id)).all())
    assert steps == {c: 1 for c in cases}
    assert verify(world.app).intact
