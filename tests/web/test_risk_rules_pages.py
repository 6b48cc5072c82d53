"""A risk elimination (风险消除) as the web shows it (audit a2, items 2 and 11): the cadre's step on the
case page was refused with 「未配置 2019 年的监测线（config/policy.yaml: monitoring_line）」 for a household
whose only income predated its monitoring; the inspector's case page and the API's trace showed no
income and no monitoring line for the monitoring decisions."""
from __future__ import annotations

from datetime import date

from tests.test_household_life import consolidated, eliminable, monitor
from tests.test_risk_rules import new_income, risk_steps

HX = {"HX-Request": "true"}


def assessed_on_the_page(cadre, case: int):
    """The cadre's risk elimination assessment sent from the case page, refused (its answer)."""
    started = cadre.get(f"/cases/{case}?procedure=risk_elimination").text
    version = started.partition('name="version" value="')[2].partition('"')[0]
    refused = cadre.post(f"/cases/{case}/step", headers=HX, data={
        "csrf": cadre.csrf, "procedure": "risk_elimination", "step": "assessment", "version": version})
    assert refused.status_code in (409, 422), refused.text
    return refused


def test_the_cadre_is_asked_for_a_new_income_and_the_inspector_reads_what_was_measured(world, world_clients, tmp_path):
    case = consolidated(world, tmp_path)
    monitor(world, case, "sudden_hardship")
    world.on(date(2020, 4, 20))
    page, api = world_clients
    refused = assessed_on_the_page(page("pc1"), case)
    assert "风险消除须依据监测开始后（风险线索 2020-03-30，自 2020-04-06 起监测）重新核算的收入" in refused.text, refused.text
    assert "policy.yaml" not in refused.text and "未配置" not in refused.text

    eliminable(world, case, date(2020, 10, 10), net_income=None)
    new_income(world, case, date(2020, 10, 10), 30000)
    world.step("pc1", "risk_elimination", "assessment", case)
    risk_steps(world, case, date(2020, 10, 20))
    shown = page("insp").get(f"/inspect/trace/case/{case}")
    assert shown.status_code == 200
    text = shown.text
    assert "监测识别收入核对" in text and "风险消除收入核对" in text
    assert "人均纯收入 15,000 元，标准线 6,000 元（2020 年防返贫监测线）" in text, text
    trace = api("insp", "en").get(f"/api/v1/trace/cases/{case}").json()
    (proc,) = [p for p in trace["procedures"] if p["kind"] == "monitoring"]
    decision = next(s for s in proc["steps"] if s["step"] == "county_decision")
    assert decision["data"]["monitoring_check"]["line_source"] == "monitoring:2020:2019"
    assert any(name == "monitoring identification income check" and "monitoring line of 2020" in value
               for name, value in decision["data_words"]), decision["data_words"]
