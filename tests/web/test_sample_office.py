"""The county office draws samples and records findings: it reads its draws' pages (they answered it 403,
an inspector's reading permission), records there, finds them from its own menu, and sees on its list of
work the waiting wrong exits it is due to register; an inspector still only reads them."""
from __future__ import annotations

from datetime import date

from engine.services.problems import ProblemInput, register_problem
from engine.services.sampling import Finding, record_finding
from tests.test_accountability import cli
from tests.test_household_life import village_chain
from tests.test_sample_problems import monitoring_under_way
from tests.world import TOWNSHIP


def test_the_office_sees_on_its_work_the_wrong_exits_it_is_due_to_register(world, world_clients):
    page, _api = world_clients
    case, drawn = monitoring_under_way(world, "cd")
    record_finding(world.app, world["cd"], Finding(drawn["id"], case, "wrong_exit", "收入不实"))
    assert 'id="sample-waits"' not in page("cd").get("/work").text        # the monitoring runs: nothing to do yet
    village_chain(world, "monitoring", case, date(2020, 3, 9), "county_decision")
    work = page("cd").get("/work").text
    assert 'id="sample-waits"' in work and f'href="/inspect/samples/{drawn["id"]}#case-{case}"' in work
    assert "抽查错退待登记问题：2020-03-16 到期" in work
    assert "待县扶贫办登记问题整改事项（2020-03-16 前）" in page("insp").get(f"/inspect/samples/{drawn['id']}").text
    said = cli(world, "cd", "sample", "show", drawn["id"])
    assert "待县扶贫办登记问题整改事项（2020-03-16" in said.out.replace(" ", ""), said.out     # wrapped in its cell
    assert '"due_on": "2020-03-16"' in cli(world, "cd", "sample", "show", drawn["id"], "--json").out
    world.on(date(2020, 3, 20))
    overdue = page("cd").get("/supervise/overdue").text
    assert "抽查错退待登记问题" in overdue
    register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "assessment", "抽查发现错退", date(2020, 3, 20),
                                                          "wrong_exit", [case]))
    assert 'id="sample-waits"' not in page("cd").get("/work").text
