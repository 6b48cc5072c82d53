"""My work's households where a visit found a risk and no monitoring started since (queries.risks_unanswered):
a pairing cadre's own households only, the monitored ones left out before the list is cut, and a
monitoring started in the small hours (office time) counting as following the visit."""
from __future__ import annotations

from datetime import date, datetime, timezone

from engine.reads.queries import risks_unanswered
from engine.services.case_actions import attach_evidence, record_visit
from tests.test_household_life import consolidated as in_transition, monitor


def consolidated(world, tmp_path, first: str) -> int:
    """A consolidated household whose one pairing cadre is `first`."""
    return in_transition(world, tmp_path, (first, None))


def listed(world, who: str, limit: int = 50) -> list[int]:
    return [r["id"] for r in risks_unanswered(world.app, world[who], "household", "monitoring", limit=limit)]


def test_the_monitored_are_left_out_before_the_list_is_cut_and_a_cadre_sees_their_own(world, tmp_path):
    free = consolidated(world, tmp_path, "pc3")
    watched = consolidated(world, tmp_path, "pc1")
    monitor(world, watched)                                    # monitored since 2020-04
    world.on(date(2020, 6, 1))
    record_visit(world.app, world["vs"], free, date(2020, 5, 1), "务工中断", True)
    record_visit(world.app, world["vs"], watched, date(2020, 5, 20), "仍有风险", True)   # newer, monitored already
    assert listed(world, "ts1") == [free] and listed(world, "ts1", limit=1) == [free]
    assert listed(world, "pc3") == [free] and listed(world, "pc1") == []       # pc1 is not paired with it


def test_a_monitoring_started_in_the_small_hours_follows_that_days_visit(world, tmp_path):
    case = consolidated(world, tmp_path, "pc1")
    world.clock.at = datetime(2020, 5, 31, 17, 0, tzinfo=timezone.utc)      # 2020-06-01 01:00 in Beijing
    record_visit(world.app, world["vs"], case, world.today(), "务工中断", True)
    assert listed(world, "ts1") == [case]
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": world.today().isoformat(), "monitoring_type": "unstable"})
    world.step("pc1", "monitoring", "clue", case)
    world.clock.at = datetime(2020, 6, 1, 3, 0, tzinfo=timezone.utc)
    assert listed(world, "ts1") == []


def test_a_step_narrowed_to_a_households_own_cadres_is_offered_to_them_alone():
    """The case page drew a monitoring clue's form for any pairing cadre of the village (the step then
    refused them): a role the step's checks narrow counts only for those named."""
    from types import SimpleNamespace
    from entrypoints.web.routes_cadre import roles_for
    step = {"roles": ["pairing_cadre", "village_secretary"], "only": {"roles": ["pairing_cadre"], "persons": ["pc1"]}}
    assert roles_for(SimpleNamespace(actor=SimpleNamespace(code="pc1")), step) == ("pairing_cadre", "village_secretary")
    assert roles_for(SimpleNamespace(actor=SimpleNamespace(code="pc7")), step) == ("village_secretary",)
    assert roles_for(SimpleNamespace(actor=SimpleNamespace(code="pc7")), {**step, "only": None}) == tuple(step["roles"])
