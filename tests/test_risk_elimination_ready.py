"""A risk elimination (风险消除) rests on more than one typed income (audit a12 #6): case 1 was identified
on 10-20 and, the same day, an income of 8,000 per head was typed and the risk eliminated through to its
notice, with no measure in force (the plan revision 「纳入监测后须落实帮扶措施」 still 待启动), no check
of 三保障 or water, no stable period and no visit. Research §5.3: income stably above the range, 三保障
and water secured, the risk stably eliminated and no new one. Each unmet condition is said with what
puts it right, on the command line, the page and the API; the county's decision judges them again."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.domain.errors import RuleViolation
from engine.services.case_actions import attach_evidence, record_visit
from tests.helpers.notifications import cli
from tests.test_household_life import consolidated, eliminable, monitor, village_steps


def typed_income_at_once(world, case: int) -> None:
    """Monitored since 2020-04-06 (`monitor`); the same day, a 2020 income over the line typed."""
    world.on(date(2020, 4, 6))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 16000},
                    replace=True, reason="重新核算")


def test_a_risk_eliminated_the_day_it_was_identified_on_a_typed_income_is_refused_saying_what_is_missing(world, tmp_path):
    case = consolidated(world, tmp_path)
    monitor(world, case, "sudden_hardship")
    typed_income_at_once(world, case)
    with pytest.raises(RuleViolation) as refused:
        world.step("pc1", "risk_elimination", "assessment", case)
    assert refused.value.code == "check.risk_elimination_ready"
    zh = refused.value.render(world.app.config, "zh")
    assert "案件 %d 尚不能标注风险消除" % case in zh, zh
    assert "自 2020-04-06 起纳入监测，不满 6 个月，2020-10-06 前不能标注风险消除" in zh
    assert "2020-04-06 纳入监测后须落实的帮扶措施尚未落实" in zh and "`step plan_revision plan`" in zh
    assert "住房安全鉴定登记于 2019-11-20，在 2020-04-06 纳入监测之前" in zh
    assert "饮水安全核查登记于 2019-11-20" in zh or "饮水" in zh
    assert "没有入户走访记录" in zh and "`household visit`" in zh
    en = refused.value.render(world.app.config, "en")
    assert "monitored since 2020-04-06, less than 6 months: the risk cannot be marked eliminated before 2020-10-06" in en
    assert "the housing safety appraisal was recorded on 2019-11-20, before the monitoring began on 2020-04-06" in en
    assert "no visit recorded since" in en
    # what the command line tells the cadre, on the office's clock of that day: the same words, refused
    (Path(world.app.settings.home) / "demo-clock").write_text("2020-04-06T02:00:00+00:00", encoding="utf-8")
    told = cli(world, "pc1", "step", "risk_elimination", "assessment", str(case))
    assert told.code == 1, (told.out, told.err)
    assert "不满 6 个月" in told.err + told.out and "Traceback" not in told.err
    english = cli(world, "pc1", "--lang", "en", "step", "risk_elimination", "assessment", str(case))
    assert english.code == 1 and "less than 6 months" in english.err + english.out
    # all of it put right six months on: the step goes through
    eliminable(world, case, date(2020, 10, 10))
    world.step("pc1", "risk_elimination", "assessment", case)


def test_the_county_judges_it_again_a_visit_finding_a_new_risk_stops_the_decision(world, tmp_path):
    case = consolidated(world, tmp_path)
    monitor(world, case)
    eliminable(world, case, date(2020, 10, 10))
    world.step("pc1", "risk_elimination", "assessment", case)
    village_steps(world, "risk_elimination", case)
    world.on(date(2020, 10, 20))
    world.step("ts1", "risk_elimination", "township_review", case, decision="approve")
    record_visit(world.app, world["pc1"], case, date(2020, 10, 20), "家中主劳力再次患病住院", True)
    with pytest.raises(RuleViolation) as refused:
        world.step("cd", "risk_elimination", "county_decision", case, decision="approve")
    assert refused.value.code == "check.risk_elimination_ready"
    assert "2020-10-20 的最近一次走访发现了风险" in refused.value.render(world.app.config, "zh")
    assert "the last visit, on 2020-10-20, found a risk" in refused.value.render(world.app.config, "en")


def test_an_old_income_and_no_recent_visit_are_refused_after_the_recent_months(world, tmp_path):
    """The income and the visit of the monitoring's first month say nothing of the household half a year on."""
    case = consolidated(world, tmp_path)
    monitor(world, case)
    eliminable(world, case, date(2020, 5, 1), net_income=20000)
    world.on(date(2020, 10, 10))
    with pytest.raises(RuleViolation) as refused:
        world.step("pc1", "risk_elimination", "assessment", case)
    zh = refused.value.render(world.app.config, "zh")
    assert "收入核算明细表登记于 2020-05-01，早于 2020-07-10（风险消除只认近 3 个月内的收入核算）" in zh, zh
    assert "2020-07-10 以来没有入户走访记录（最近一次监测期间走访：2020-05-01" in zh
