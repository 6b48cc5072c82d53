"""/work for a pairing cadre whose visit found a risk while a plan revision is open on the household
(a10 #2): the row offers no link that starts the monitoring (it would be refused, procedure.other_open),
says what the open procedure waits for, and shows the cadre's own deadline (the 15 days to identify),
not the township's approval of the plan. And the case page offers the pairing change beside an open
procedure (a10 #1). SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import date

from engine.services.case_actions import record_visit


def _risk_row(html: str, case: int) -> str:
    section = re.search(r'<section id="risks">.*?</section>', html, re.S).group(0)
    return next(li for li in re.findall(r'<li.*?</li>', section, re.S) if f'href="/cases/{case}' in li)


def test_a_risk_seen_while_a_plan_revision_is_open_is_not_offered_and_shows_the_cadres_own_deadline(
        world, world_clients, tmp_path):
    from tests.test_household_life import consolidated
    page, _api = world_clients
    case = consolidated(world, tmp_path, ("pc1", None))
    world.on(date(2020, 6, 1))
    world.step("fs", "plan_revision", "plan", case, measures=(("industry", "养鸡"),))   # awaiting the township
    world.on(date(2020, 6, 3))
    record_visit(world.app, world["pc1"], case, date(2020, 6, 3), "务工中断，收入骤降", True)
    html = page("pc1").get("/work").text
    row = _risk_row(html, case)
    assert "?procedure=monitoring" not in row, row
    assert "暂不能启动防返贫监测识别：该户的调整帮扶计划正等待「帮扶计划审核」" in row, row
    due = re.findall(r'<span class="tag[^"]*">([^<]*)</span>', row)
    assert due == ["监测对象识别（发现线索15天内）：2020-06-18 到期"], row     # the cadre's 15 days, not the approval's
    # the case page offers the pairing change under the open plan revision
    assert f"/cases/{case}?procedure=pairing_change" in page("ts1").get(f"/cases/{case}").text
