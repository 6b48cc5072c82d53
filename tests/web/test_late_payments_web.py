"""A payment dated into a month already reported (补录) on the web: the JSON API says it is entered late
(which report's period, where it will be reported) in the reader's language; the case page's monthly
report form lists it apart before the report is filed; the inspector's trace page says it at the
payment and at the report that lists it."""
from __future__ import annotations

from datetime import date

from tests.helpers.projects import pay
from tests.test_project_money_rules import funded
from tests.web.test_project_page import text_of


def reported(world) -> int:
    """A funded project (300,000 allocated on 16 April), 90,000 paid on 10 May, reported on 5 June."""
    case, _ = funded(world)
    pay(world, case, "90000", on=date(2019, 5, 10))
    world.on(date(2019, 6, 5))
    world.step("cs", "disbursement_report", "disbursement_report", case)
    return case


def test_the_api_says_a_payment_is_entered_late_in_the_readers_language(world, world_clients):
    case = reported(world)
    world.on(date(2019, 6, 20))
    _page, api = world_clients
    body = {"amount": "10000", "payee_kind": "contractor", "payee": "宁都县农建公司", "paid_on": "2019-05-20"}
    answer = api("cs", "en").post(f"/api/v1/projects/{case}/payments", json=body)
    assert answer.status_code == 201, answer.text
    said = answer.json()
    assert said["late"] == {"report": "2019-06-05", "report_from": "2019-04-16", "next_from": "2019-06-06"}, said
    assert said["entered_late"].startswith("entered late: paid on 2019-05-20, in the period of the report of "
                                           "2019-06-05 (2019-04-16 to 2019-06-05)"), said
    body.update(paid_on="2019-06-05", reference="记-0605")              # the report's own day: reported too
    said = api("cs").post(f"/api/v1/projects/{case}/payments", json=body).json()
    assert said["entered_late"].startswith("补录：支付日期 2019-06-05 在 2019-06-05 月报已报送的期间"), said
    body["paid_on"] = "2019-06-06"                                       # the next period's first day: not late
    said = api("cs").post(f"/api/v1/projects/{case}/payments", json=body).json()
    assert said["late"] is None and said["entered_late"] is None, said


def test_the_case_page_and_the_trace_page_show_a_payment_entered_late(world, world_clients):
    case = reported(world)
    pay(world, case, "10000", on=date(2019, 6, 3), reference="记-0603")
    world.on(date(2019, 6, 20))
    pay(world, case, "20000", on=date(2019, 6, 20))
    world.on(date(2019, 7, 4))
    page, _api = world_clients
    form = text_of(page("cs").get(f"/cases/{case}?procedure=disbursement_report").text)
    assert "本期支出（2019-06-06 至 2019-07-04） 20,000.00" in form, form
    assert ("补录支付（上次月报后登记、日期在已报送期间） 10,000.00 2019-06-03 宁都县农建公司（施工单位）10,000.00 元，"
            "凭证号 记-0603，应属 2019-06-05 月报（期间 2019-04-16 至 2019-06-05）") in form, form
    world.step("cs", "disbursement_report", "disbursement_report", case)
    trace = text_of(page("insp").get(f"/inspect/trace/case/{case}").text)
    assert "补录：支付日期 2019-06-03 在 2019-06-05 月报已报送的期间（2019-04-16 至 2019-06-05）内" in trace, trace
    assert "应属 2019-06-05 月报" in trace and "补录支出：10,000.00 元" in trace, trace
