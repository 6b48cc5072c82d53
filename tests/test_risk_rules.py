"""Risk elimination (风险消除) and monitoring identification (防返贫监测识别) measured (audit a2, items 2, 11
and 12): a risk elimination had read the household's pre-illness exit income and was stopped only by a
configuration error shown to the village cadre (「未配置 2019 年的监测线（config/policy.yaml: …）」); with
a new income typed it went through, measured against nothing the record kept, and no inspection lead
pointed at an income raised over the monitoring line just before it; a monitoring identification kept no
income at all; a household that returned to poverty while monitored lost its monitoring from its history."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from config import Policy
from engine.domain.errors import RuleViolation
from engine.reads.case_record import case_detail
from engine.reads.trace import case_trace
from engine.services.case_actions import attach_evidence
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_household_life import consolidated, eliminable, monitor, village_chain
from tests.test_inspection import of


def risk_steps(world, case: int, day: date) -> None:
    """A risk elimination's steps after its assessment, to the county's decision on `day`."""
    village_chain(world, "risk_elimination", case, day, "county_decision")


def new_income(world, case: int, day: date, net_income: float, reason: str = "监测后入户核算") -> int:
    """A 2020-or-later income computation of the household, recorded on `day` in place of the one in force."""
    world.on(day)
    return attach_evidence(world.app, world["vs"], case, "income_assessment",
                           {"year": day.year, "net_income": net_income}, replace=True, reason=reason)


def step_data(world, case: int, procedure: str, step: str) -> dict:
    detail = case_detail(world.app, world["insp"], case)
    (proc,) = [p for p in detail["procedures"] if p["kind"] == procedure]
    return next(s["data"] for s in proc["steps"] if s["step"] == step)


def test_risk_elimination_on_the_income_from_before_the_clue_is_refused_asking_for_a_new_one(world, tmp_path):
    """The household's 2019 exit income (before the clue of 2020-03-30) was read: the cadre was told of a
    missing monitoring line in policy.yaml. Now the refusal says the income predates the monitoring and
    asks for a new assessment; with one recorded after the clue, the step goes on and keeps the measure."""
    case = consolidated(world, tmp_path)
    monitor(world, case, "sudden_hardship")
    world.on(date(2020, 4, 20))
    with pytest.raises(RuleViolation) as refused:
        world.step("pc1", "risk_elimination", "assessment", case)
    assert refused.value.code == "check.risk_eliminated"
    zh, en = refused.value.render(world.app.config, "zh"), refused.value.render(world.app.config, "en")
    assert "风险消除须依据监测开始后（风险线索 2020-03-30，自 2020-04-06 起监测）重新核算的收入" in zh, zh
    assert "2019 年" in zh and "登记新的收入核算明细表" in zh
    assert "policy.yaml" not in zh and "监测线" not in zh.partition("：")[2].partition("（风险线索")[0]
    assert "assessed after the monitoring began (risk clue of 2020-03-30" in en, en
    eliminable(world, case, date(2020, 10, 10), net_income=None)
    new_income(world, case, date(2020, 10, 10), 30000)
    world.step("pc1", "risk_elimination", "assessment", case)
    assert step_data(world, case, "risk_elimination", "assessment")["risk_check"] == {
        "per_capita": 15000, "members": 2, "year": 2020, "line": 6000, "line_source": "monitoring:2020"}


def test_an_income_under_the_monitoring_line_is_refused_in_the_lines_words(world, tmp_path):
    case = consolidated(world, tmp_path)
    monitor(world, case)
    new_income(world, case, date(2020, 5, 1), 9000)
    with pytest.raises(RuleViolation) as refused:
        world.step("pc1", "risk_elimination", "assessment", case)
    zh = refused.value.render(world.app.config, "zh")
    assert "人均纯收入 4,500 元（2 人，2020 年）未稳定超过防返贫监测线 6,000 元（2020 年防返贫监测线）" in zh, zh
    assert "继续监测和帮扶" in zh


def test_an_income_year_without_its_own_line_is_held_to_the_latest_saying_which(world, tmp_path):
    """The rules give monitoring lines for 2020 and 2021: a 2022 income is held to the 2021 line, and the
    decision's record says so in the trace (the inspector's case page shows the same words)."""
    case = consolidated(world, tmp_path)
    monitor(world, case)
    eliminable(world, case, date(2022, 3, 1), net_income=None)
    new_income(world, case, date(2022, 3, 1), 20000, "2022年入户核算")
    world.step("pc1", "risk_elimination", "assessment", case)
    risk_steps(world, case, date(2022, 3, 20))
    assert case_detail(world.app, world["insp"], case)["attrs"]["monitoring_history"][-1]["risk_eliminated_on"] \
        == "2022-03-20"
    trace = case_trace(world.app, world["insp"], case)
    (proc,) = [p for p in trace["procedures"] if p["kind"] == "risk_elimination"]
    decision = next(s for s in proc["steps"] if s["step"] == "county_decision")
    assert ["风险消除收入核对", "人均纯收入 10,000 元，标准线 6,000 元（2021 年防返贫监测线：规则中没有 2022 年的监测线，"
            "按 2021 年监测线判定）"] in decision["data_words"], decision["data_words"]
    english = case_trace(world.app, world["insp"], case, lang="en")
    (proc,) = [p for p in english["procedures"] if p["kind"] == "risk_elimination"]
    words = next(s for s in proc["steps"] if s["step"] == "county_decision")["data_words"]
    assert any(name == "risk elimination income check" and "the rules have none for 2022" in value
               for name, value in words), words


def test_no_monitoring_line_at_all_is_not_the_cadres_to_fix(world, tmp_path):
    """With no monitoring line by the decision's year, the cadre is told it is no fault of the household's
    record and whom to ask; the file and key are the administrator's (`config check` names them)."""
    case = consolidated(world, tmp_path)
    monitor(world, case)
    new_income(world, case, date(2020, 5, 1), 30000)
    config = world.app.config
    data = config.policy.data           # the rules as if their first monitoring line were 2021's
    later = {y: v for y, v in data.monitoring_line.items() if y > 2020}
    world.app.config = dataclasses.replace(config, policy=Policy(data.model_copy(update={"monitoring_line": later})))
    with pytest.raises(RuleViolation) as refused:
        world.step("pc1", "risk_elimination", "assessment", case)
    zh, en = refused.value.render(world.app.config, "zh"), refused.value.render(world.app.config, "en")
    assert "规则中尚无 2020 年可用的防返贫监测线" in zh and "系统管理员" in zh, zh
    assert "policy.yaml" not in zh and "policy.yaml" not in en and "administrator" in en


def test_a_monitoring_identification_records_the_income_it_measured_against_the_line(world, tmp_path):
    """The county's decision keeps the household's income per head and the monitoring line with its
    year: a 2019 income, the year before the line began, is measured against the 2020 line, said so."""
    case = consolidated(world, tmp_path)
    monitor(world, case, "unstable")
    assert step_data(world, case, "monitoring", "county_decision")["monitoring_check"] == {
        "per_capita": 5000, "members": 2, "year": 2019, "line": 6000, "line_source": "monitoring:2020:2019"}
    trace = case_trace(world.app, world["insp"], case)
    (proc,) = [p for p in trace["procedures"] if p["kind"] == "monitoring"]
    words = next(s for s in proc["steps"] if s["step"] == "county_decision")["data_words"]
    assert ["监测识别收入核对", "人均纯收入 5,000 元，标准线 6,000 元（2020 年防返贫监测线：规则中没有 2019 年的监测线，"
            "按 2020 年监测线判定）"] in words, words


def test_income_raised_over_the_monitoring_line_just_before_the_risk_elimination_is_flagged(world, tmp_path):
    case = consolidated(world, tmp_path)
    monitor(world, case)
    eliminable(world, case, date(2020, 10, 6), net_income=8000)
    new = new_income(world, case, date(2020, 10, 18), 16000, "重新核算")
    world.step("pc1", "risk_elimination", "assessment", case)
    risk_steps(world, case, date(2020, 10, 28))
    (flag,) = [f for f in of(world, "figure_changed_before_decision") if f.case_id == case]
    assert (flag.variant, flag.detail["procedure"], flag.detail["old_per_capita"], flag.detail["per_capita"],
            flag.detail["line"], flag.detail["new"]) == ("monitoring_up", "risk_elimination", 4000, 8000, 6000, new)
    assert "人均 4000 元（未高于监测线 6000 元）改为 8000 元（高于监测线），据此标注风险消除" in flag.text(world.app.config, "zh")
    assert "not above the monitoring line 6000" in flag.text(world.app.config, "en")


def test_a_household_returning_to_poverty_while_monitored_keeps_its_monitoring_in_its_history(world, tmp_path):
    case = consolidated(world, tmp_path)
    monitor(world, case, "sudden_hardship")
    new_income(world, case, date(2020, 6, 1), 3000, "因病支出大增，重新核算")
    world.step("pc1", "reopen_return_to_poverty", "finding", case)
    village_chain(world, "reopen_return_to_poverty", case, date(2020, 6, 12), "county_approval")
    detail = case_detail(world.app, world["insp"], case)
    attrs = detail["attrs"]
    assert "monitoring" not in attrs
    assert attrs["monitoring_history"] == [{"type": "sudden_hardship", "since": "2020-04-06", "ended_on": "2020-06-12",
                                            "ended_by": "reopen_return_to_poverty"}]
    # what its readers are told: ended by the reopening on that day, not "risk eliminated on -"
    earlier = detail["monitoring"]["history"]
    assert [(h.get("ended_on"), h.get("ended_by"), h["risk_eliminated_on"]) for h in earlier] == \
        [("2020-06-12", "reopen_return_to_poverty", None)]
    from entrypoints.cli.context import Ctx
    from entrypoints.cli.views import monitoring_lines
    for lang, said in (("zh", "曾纳入监测：突发严重困难户，2020-04-06 起，2020-06-12 因「返贫纳入」结束"),
                       ("en", "monitored earlier: household in sudden severe hardship since 2020-04-06, ended on "
                              "2020-06-12 by “reopening (return to poverty)”")):
        ctx = Ctx(home=None, db=None, lang=lang, as_code=None, _config=world.app.config)
        assert said in monitoring_lines(ctx, detail["monitoring"]), monitoring_lines(ctx, detail["monitoring"])


def test_config_check_tells_the_administrator_of_the_years_monitoring_line(home):
    """The administrator, not the cadre, hears that a year has no monitoring line of its own, which line
    stands in for it, and where to add it; a year with its line is not warned of."""
    (home.path / "demo-clock").write_text("2022-03-10T02:00:00+00:00", encoding="utf-8")
    checked = home("admin", "config", "check")
    assert checked.code == 0, checked.err
    assert "规则未配置 2022 年的防返贫监测线：该年的监测识别和风险消除将按 2021 年监测线 6,000 元判定" in checked.err, \
        checked.err
    assert "`policy.yaml` 的 `monitoring_line`" in checked.err
    english = home("admin", "config", "check", lang="en")
    assert "the rules have no monitoring line for 2022" in english.err and "2021 line of 6,000 yuan" in english.err
    (home.path / "demo-clock").write_text("2021-03-10T02:00:00+00:00", encoding="utf-8")
    assert "监测线" not in home("admin", "config", "check").err
