"""A paper file's lapse on the inspector's trace and the case page: judged by the date its step bears, and
in English one working day is "1 working day", not "1 working days"."""
from __future__ import annotations

from datetime import date, timedelta

from engine.domain.deadline_rules import compiled
from tests.helpers.deadlines import deadlines_of
from tests.test_paper_deadlines import ENTERED, paper_up_to_first_notice


def test_a_paper_lapse_of_one_working_day_is_said_in_its_dates_and_in_the_singular(world, world_clients):
    page, _ = world_clients
    case = world.household()
    paper_up_to_first_notice(world, case)
    world.step("ts1", "identification", "township_review", case, date=date(2019, 3, 8), decision="approve")
    world.step("ts2", "identification", "second_notice", case, date=date(2019, 3, 8))
    due = deadlines_of(world, case, rule="notice_expiry", step_key="county_approval")[0].due_on
    late_on = compiled(world.app.config).calendar.add(due, 1, "working").day     # one working day after it
    assert late_on < due + timedelta(days=5)
    world.on(ENTERED)
    world.step("cd", "identification", "county_approval", case, date=late_on, decision="approve")
    inspector = page("insp")
    inspector.cookies.set("lang", "en")
    trace = inspector.get(f"/inspect/trace/case/{case}").text
    assert f"met late: done on {late_on}, 1 working day late" in trace          # the file's date, not October's
    assert "1 working days" not in trace
    township = page("ts1")
    assert f"{late_on}" in township.get(f"/cases/{case}").text
