"""The monitoring's work under way by type and by channel (a12 #9, left by m2): /supervise/figures counted
the clues awaiting identification per township only, so the county could not tell how many were
households that exited (脱贫不稳定户) or in sudden hardship, nor which channel (a visit, the household's own
report, a department's push) found them. The households whose 15 days run are now counted per township by
their newest clue's type and channel; a risk found on a visit with no clue recorded yet as no type given."""
from __future__ import annotations

from datetime import date

from engine.reads import dashboard
from engine.services.case_actions import attach_evidence, record_visit
from tests.test_clue_channels import department_list
from tests.web.test_monitoring_shown import consolidated
from tests.world import TOWNSHIP


def test_the_county_sees_the_clues_awaiting_identification_by_type_and_by_channel(world, world_clients):
    page, _api = world_clients
    reported, visited, pushed = (consolidated(world, "pc1", "pc2"), consolidated(world, "pc2", "pc3"),
                                 consolidated(world, "pc3", None))
    world.on(date(2020, 10, 5))
    attach_evidence(world.app, world["pc1"], reported, "monitoring_clue",
                    {"source": "农户自主申报", "clue_date": "2020-10-05", "monitoring_type": "unstable"})
    world.step("pc1", "monitoring", "clue", reported)             # an identification under way
    record_visit(world.app, world["vs"], visited, date(2020, 10, 5), "务工中断", True)   # a risk, no clue yet
    world.on(date(2020, 10, 20))
    department_list(world, "cs", [pushed])                        # 医保局: sudden hardship
    by = dashboard.monitoring_pipeline_by(world.app, world["th"])
    assert by["totals"] == {
        "types": {"unstable": 1, "edge": 0, "sudden_hardship": 1, "untyped": 1},
        "channels": {"self_report": 1, "visit": 1, "department": 1, "other": 0}}, by
    assert [r["township"] for r in by["rows"]] == [TOWNSHIP]
    html = page("cd").get("/supervise/figures").text
    table = html.partition('id="pipeline-by-table"')[2].partition("</table>")[0]
    assert "线索待识别的户：按监测类型和线索来源" in html and "按监测类型" in table and "按线索来源" in table
    assert "脱贫不稳定户" in table and "类型未填" in table and "部门筛查预警" in table and "农户自主申报" in table
    total = table.partition('data-township="total"')[2]
    assert '<td data-label="突发严重困难户" data-col="types.sudden_hardship">1</td>' in total, total
    assert '<td data-label="农户自主申报" data-col="channels.self_report">1</td>' in total, total
    reader = page("cd")
    reader.cookies.set("lang", "en")
    english = reader.get("/supervise/figures").text
    assert "Clues awaiting identification: by monitoring type and by channel" in english and "No type given" in english
