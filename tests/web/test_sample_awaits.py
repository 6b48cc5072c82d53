"""A sample check's page says what a wrong exit recorded on a household that could not be reopened yet
waits for: the procedure under way, then the county office's registration, then its problem item."""
from __future__ import annotations

from datetime import date

from engine.services.problems import ProblemInput, register_problem
from engine.services.sampling import Finding, record_finding
from tests.test_household_life import village_chain
from tests.test_sample_problems import monitoring_under_way
from tests.world import TOWNSHIP


def test_the_draws_page_says_what_a_waiting_wrong_exit_waits_for(world, world_clients):
    page, api = world_clients
    case, drawn = monitoring_under_way(world, "cd")
    found = record_finding(world.app, world["cd"], Finding(drawn["id"], case, "wrong_exit", "收入不实"))
    shown = page("insp").get(f"/inspect/samples/{drawn['id']}?done={found}").text
    assert "「防返贫监测识别」正在办理" in shown and "计入错退率" in shown and "problem add" not in shown
    assert "「防返贫监测识别」办理中" in shown
    answer = api("insp").get(f"/api/v1/samples/{drawn['id']}").json()
    assert answer["households"][0]["findings"][0]["awaits"]["kind"] == "monitoring"
    village_chain(world, "monitoring", case, date(2020, 3, 9), "county_decision")
    assert "待县扶贫办登记问题整改事项" in page("insp").get(f"/inspect/samples/{drawn['id']}").text
    world.on(date(2020, 3, 10))
    problem = register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "assessment", "抽查发现错退",
                                                                    date(2020, 3, 10), "wrong_exit", [case]))
    assert f'href="/inspect/trace/case/{problem}"' in page("insp").get(f"/inspect/samples/{drawn['id']}").text
