"""A fund project's monthly disbursement report covers the days since the last report (the first: since
the allocation). A second report dated the same day had the last one's period again (its payments told
twice); it is refused in words (one dated before the last report was refused already: a step is not
dated before the one before it), naming the last report, its period and the first day a new report may be
dated: on the command line, the JSON API and the case page (which says it before its form)."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from engine.adapters import tables as t
from tests.helpers.projects import pay
from tests.test_project_figures import ok, run
from tests.test_project_money_rules import funded
from tests.web.test_project_page import text_of

HX = {"HX-Request": "true"}


def reports(world, case: int) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.steps).where(
            t.steps.c.case_id == case, t.steps.c.step_key == "disbursement_report")).scalar()


def reported(world) -> int:
    """A funded project (300,000 allocated on 16 April), 90,000 paid on 10 May, reported on 5 June."""
    case, _ = funded(world)
    pay(world, case, "90000", on=date(2019, 5, 10))
    world.on(date(2019, 6, 5))
    world.step("cs", "disbursement_report", "disbursement_report", case)
    return case


def test_a_second_report_of_the_same_day_is_refused_on_the_command_line(world):
    case = reported(world)
    code, _out, err = run(world, "cs", "step", "disbursement_report", "disbursement_report", case,
                          "--date", "2019-06-05")
    assert code != 0 and "Traceback" not in err, err
    assert "2019-06-05 已报送月度资金支出报告（期间 2019-04-16 至 2019-06-05" in err, err
    assert "2019-06-06" in err, err        # the first day a new report may be dated
    code, _out, err = run(world, "cs", "--lang", "en", "step", "disbursement_report", "disbursement_report", case,
                          "--date", "2019-06-05")
    assert code != 0 and "dated 2019-06-05" in err and "2019-06-06" in err, err
    assert reports(world, case) == 1
    ok(world, "cs", "step", "disbursement_report", "disbursement_report", case, "--date", "2019-06-06")  # a day of its own
    assert reports(world, case) == 2


def test_a_second_report_of_the_same_day_is_refused_by_the_api(world, world_clients):
    case = reported(world)
    _page, api = world_clients
    answer = api("cs").post("/api/v1/steps", json={"procedure": "disbursement_report", "step": "disbursement_report",
                                                   "case_ids": [case]})
    assert answer.status_code == 409, answer.text
    assert "2019-06-05 已报送月度资金支出报告" in answer.json()["message"], answer.json()
    assert reports(world, case) == 1


def test_the_case_page_says_a_report_was_filed_today_before_its_form(world, world_clients):
    case = reported(world)
    page, _api = world_clients
    client = page("cs")
    shown = client.get(f"/cases/{case}?procedure=disbursement_report").text
    said = text_of(shown)
    assert "2019-06-05 已报送月度资金支出报告（期间 2019-04-16 至 2019-06-05" in said, said
    assert not re.search(r'<form[^>]*id="step-form"', shown), "no form for a report that would be refused"
    # the figures of a period already reported are not shown as this report's
    assert "本期支出（2019-04-16 至 2019-06-05）" not in said, said
    posted = client.post(f"/cases/{case}/step", headers=HX, data={
        "csrf": client.csrf, "procedure": "disbursement_report", "step": "disbursement_report"})
    assert posted.status_code == 409 and "2019-06-05 已报送" in text_of(posted.text), posted.text
    assert reports(world, case) == 1


def test_project_show_says_no_period_on_the_day_of_a_report(world):
    case = reported(world)
    shown = ok(world, "cs", "project", "show", case, "--as-of", "2019-06-05")
    assert "月报期间 2019-04-16 至 2019-06-05" not in shown, shown
