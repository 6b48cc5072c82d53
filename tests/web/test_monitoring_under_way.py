"""The monitoring box of a case page (and `case show`, the API's case) says what is under way (a12 #13):
an identification open and overdue had read 「当前未纳入防返贫监测」; it says since when, the clue's date,
the 15 days' end and how late it is, the step awaited and whose it is; after a refusal, when, at which
step, by whom and why."""
from __future__ import annotations

import re
from datetime import date

from tests.web.test_monitoring_shown import cli, consolidated
from tests.web.test_ordinary_households import clue


def test_the_monitoring_box_says_what_is_under_way_and_the_last_refusal(world, world_clients):
    page, api = world_clients
    case = consolidated(world)
    clue(world, case, "unstable", date(2020, 4, 1), by="pc1", income=False)
    world.step("pc1", "monitoring", "clue", case)
    world.on(date(2020, 4, 30))           # the 15 days are past; the village's verification awaited
    html = page("vs").get(f"/cases/{case}").text
    assert 'id="monitoring-open"' in html and "当前未纳入防返贫监测" not in html
    said = _box(html)
    assert "防返贫监测识别办理中：2020-04-01 开始，风险线索日期 2020-04-01；须于 2020-04-16 前办结 已逾期 14 天" in said
    assert "须于 2020-04-16 前办结 已逾期 14 天；等待：入户核实" in cli(world, "vs", "case", "show", str(case)).out
    assert "已逾期 14 天" in html and "等待：入户核实（resident_team_leader-tl，驻村工作队长）" in html
    world.step("tl", "monitoring", "verification", case, verifiers=("tm",), decision="reject",
               reason="收入稳定，无返贫风险")
    html = page("vs").get(f"/cases/{case}").text     # the village's 不同意 goes up: still under way
    assert 'id="monitoring-open"' in html and "等待：民主评议" in _box(html)
    world.step("vd", "monitoring", "appraisal", case, attendance=30, votes_for=25, votes_against=1)
    world.step("vs", "monitoring", "village_notice", case)
    world.on(date(2020, 5, 12))
    world.step("ts1", "monitoring", "township_review", case, decision="approve")
    world.step("cd", "monitoring", "county_decision", case, decision="reject", reason="收入稳定，无返贫风险")
    html = page("vs").get(f"/cases/{case}").text
    assert 'id="monitoring-open"' not in html and "当前未纳入防返贫监测" in html
    assert "上次防返贫监测识别未通过：2020-05-12，县级审定，county_office_director-cd不同意，理由：收入稳定，无返贫风险" \
        in _box(html)
    assert "Last monitoring identification refused on 2020-05-12" in \
        cli(world, "vs", "--lang", "en", "case", "show", str(case)).out
    refused = api("vs", "en").get(f"/api/v1/cases/{case}").json()["monitoring"]["last_refused"]
    assert refused == {"procedure": "monitoring", "on": "2020-05-12", "step": "county_decision",
                       "reason": "收入稳定，无返贫风险", "by_name": "county_office_director-cd"}


def _box(html: str) -> str:
    """The monitoring box's words, without its tags."""
    box = html.split('id="monitoring"', 1)[1].split("</section>", 1)[0]
    return re.sub(r"<[^>]+>", "", box)
