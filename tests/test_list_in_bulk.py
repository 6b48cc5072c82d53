"""A village's list large enough to go in as one batch (issue 12): on SQLite as tuples, on PostgreSQL
by COPY (from 50 rows). What is written must be what a step of one case writes — the steps, their
audit events with one batch id, evidence references and dates — and the record must verify; the
case that is not ready is refused with its rule and nothing of it is written."""
from __future__ import annotations

import gc
from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.audit_verify import verify
from engine.services.list_steps import perform_list_step
from workflows.household import MemberInput, register_household
from tests.world import VILLAGE, member_ids

LIST = 60


def test_a_list_of_sixty_is_written_in_one_batch_and_verifies_on_each_backend(world):
    cases = [world.household() for _ in range(LIST)]
    bare = register_household(world.app, world["vs"], VILLAGE, [MemberInput("无申请书", member_ids(1, 999)[0])],
                              ["illness"])
    world.on(date(2019, 3, 1))
    result = perform_list_step(world.app, world["vs"], "identification", "application", [cases[0], bare, *cases[1:]])
    assert sorted(result.done) == sorted(cases)
    assert [v.code for v in result.refused[bare]] == ["evidence.missing"]
    with world.app.engine.connect() as conn:
        steps = conn.execute(select(t.steps.c.case_id, t.steps.c.effective_date, t.steps.c.evidence_hashes,
                                    t.steps.c.role, t.steps.c.data).where(t.steps.c.step_key == "application")).all()
        events = conn.execute(select(t.audit_events.c.case_id, t.audit_events.c.detail).where(
            t.audit_events.c.action == "step", t.audit_events.c.step_key == "application")).all()
    assert sorted(s.case_id for s in steps) == sorted(cases)
    assert all(s.effective_date == date(2019, 3, 1) and s.role == "village_secretary" for s in steps)
    assert all("application" in {e["type"] for e in s.evidence_hashes} and all(e["hash"] for e in s.evidence_hashes)
               for s in steps)
    assert sorted(e.case_id for e in events) == sorted(cases)
    assert len({e.detail["batch"] for e in events}) == 1 and events[0].detail["batch_size"] == LIST
    world.step("vd", "identification", "appraisal", cases, attendance=40, votes_for=35, votes_against=2)
    assert verify(world.app, processes=1).intact


def test_a_list_is_judged_and_written_without_the_garbage_collector_walking_it(world):
    """The thousands of objects a list makes live until it ends: the collector, run at every 700 of them
    by default, walked them again and again (5-10% of a list's time). Once the list is written it runs
    as often as before (what cyclic garbage holds, a file or a socket, is freed as soon as before)."""
    cases = [world.household() for _ in range(150)]
    world.on(date(2019, 3, 1))
    passes, threshold = [], gc.get_threshold()

    def count(phase, info):
        if phase == "start":
            passes.append(info["generation"])

    gc.callbacks.append(count)
    try:
        result = perform_list_step(world.app, world["vs"], "identification", "application", cases)
    finally:
        gc.callbacks.remove(count)
    assert sorted(result.done) == sorted(cases)
    assert len(passes) <= 1 and 2 not in passes
    assert gc.get_threshold() == threshold
