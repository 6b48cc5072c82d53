"""A risk elimination's unmet conditions as the page and the API say them (audit a12 #6): the cadre who
starts it the day the household was identified, on a typed income, is told each thing still missing."""
from __future__ import annotations

from datetime import date

from tests.test_household_life import consolidated, monitor
from tests.test_risk_elimination_ready import typed_income_at_once
from tests.web.test_risk_rules_pages import assessed_on_the_page


def test_the_page_and_the_api_say_what_the_risk_elimination_still_lacks(world, world_clients, tmp_path):
    case = consolidated(world, tmp_path)
    monitor(world, case)
    typed_income_at_once(world, case)
    page, api = world_clients
    refused = assessed_on_the_page(page("pc1"), case)
    assert "不满 6 个月，2020-10-06 前不能标注风险消除" in refused.text, refused.text
    assert "纳入监测后须落实的帮扶措施尚未落实" in refused.text and "没有入户走访记录" in refused.text
    answer = api("pc1", "en").post(f"/api/v1/cases/{case}/steps",
                                   json={"procedure": "risk_elimination", "step": "assessment"})
    assert 400 <= answer.status_code < 500, answer.text
    said = answer.text
    assert "less than 6 months: the risk cannot be marked eliminated before 2020-10-06" in said, said
    assert "no visit recorded since" in said and "Traceback" not in said
