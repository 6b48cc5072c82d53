"""The township and county see the monitoring's work under way (a12 #9): on /supervise/figures, per
township, the clues whose 15 days to identify run (from any channel), those past due, the identifications
and the risk eliminations open, each a link to its households; /supervise/cases lists the households
with an identification or a risk elimination open (`open=`), a procedure that names none refused."""
from __future__ import annotations

from datetime import date

from engine.reads import dashboard
from engine.services.case_actions import attach_evidence
from tests.test_clue_channels import department_list
from tests.test_household_life import eliminable
from tests.web.test_monitoring_shown import consolidated, monitored
from tests.world import TOWNSHIP


def test_supervisors_see_clues_waiting_overdue_and_procedures_under_way(world, world_clients):
    page, _api = world_clients
    eliminating, clued, identifying = (consolidated(world, "pc1", "pc2"), consolidated(world, "pc2", "pc3"),
                                       consolidated(world, "pc3", None))
    monitored(world, eliminating, "unstable", date(2020, 4, 1))
    eliminable(world, eliminating, date(2020, 10, 8))         # six months on, what elimination rests on
    world.step("fs", "risk_elimination", "assessment", eliminating)
    attach_evidence(world.app, world["pc3"], identifying, "monitoring_clue",
                    {"source": "visit", "clue_date": "2020-09-01", "monitoring_type": "unstable"})
    world.step("pc3", "monitoring", "clue", identifying)      # due 09-16: past due on 10-20
    world.on(date(2020, 10, 20))
    department_list(world, "cs", [clued])                    # a department's push of 10-15: due 10-30
    figures = dashboard.monitoring_pipeline(world.app, world["th"])
    assert figures["totals"] == {"clues": 2, "overdue": 1, "identifying": 1, "eliminating": 1}
    assert [r["township"] for r in figures["rows"]] == [TOWNSHIP]
    html = page("th").get("/supervise/figures").text
    assert 'id="pipeline-table"' in html and "线索待识别" in html and "其中超过 15 天" in html
    assert f"/supervise/cases?township={TOWNSHIP}&amp;open=monitoring" in html
    assert f"/supervise/cases?township={TOWNSHIP}&amp;open=risk_elimination" in html
    listed = page("th").get("/supervise/cases", params={"open": "monitoring"}).text
    assert f'data-case="{identifying}"' in listed and f'data-case="{clued}"' not in listed \
        and f'data-case="{eliminating}"' not in listed and "防返贫监测识别办理中" in listed
    listed = page("th").get("/supervise/cases", params={"open": "risk_elimination"}).text
    assert f'data-case="{eliminating}"' in listed and f'data-case="{identifying}"' not in listed
    refused = page("th").get("/supervise/cases", params={"open": "poor"})
    assert refused.status_code == 400 and "风险消除" in refused.text and "Traceback" not in refused.text
