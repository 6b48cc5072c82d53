"""A payment dated into a month already reported (补录) on the web: the JSON API says it is entered late
(which report's period, where it will be reported) in the reader's language; the case page's monthly
report form lists it apart before the report is filed; the inspector's trace page says it at the
payment and at the report that lists it."""
from __future__ import annotations

from datetime import date

from engine.reads.trace import case_trace
from tests.helpers.projects import pay
from tests.web.test_project_page import text_of
from tests.web.test_report_periods import reported


def test_the_api_says_a_payment_is_entered_late_in_the_readers_language(world, world_clients):
    case = reported(world)
    world.on(date(2019, 6, 20))
    _page, api = world_clients
    body = {"amount": "10000", "payee_kind": "contractor", "payee": "宁都县农建公司", "paid_on": "2019-05-20", "reference": "记-1"}
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
    assert ("补录支付 10,000.00 补录支付（上次月报后登记、日期在已报送期间） 2019-06-03 宁都县农建公司（施工单位）10,000.00 元，"
            "凭证号 记-0603，应属 2019-06-05 月报（期间 2019-04-16 至 2019-06-05）") in form, form
    assert "2019-06-03 补录·应属 2019-06-05 月报 10,000.00 施工单位 宁都县农建公司 记-0603" in form, form
    assert "2019-06-20 20,000.00" in form, form                   # in its own period: not marked
    world.step("cs", "disbursement_report", "disbursement_report", case)
    trace = text_of(page("insp").get(f"/inspect/trace/case/{case}").text)
    assert "补录：支付日期 2019-06-03 在 2019-06-05 月报已报送的期间（2019-04-16 至 2019-06-05）内" in trace, trace
    assert "应属 2019-06-05 月报" in trace and "补录支出：10,000.00 元" in trace, trace


def test_a_report_listing_a_payment_entered_late_is_filed_from_a_phone(world, browser):
    """In a real browser at 360 px, in both languages: the project's payments mark the late one, the
    report's form lists it apart, the page fits the screen; the county office files the report."""
    from engine.services.accounts import open_session
    from entrypoints.web.app import create_app
    from playwright.sync_api import expect
    from tests.web.conftest import serving
    case = reported(world)
    world.on(date(2019, 6, 20))
    pay(world, case, "10000", on=date(2019, 6, 3), reference="记-0603")
    world.on(date(2019, 7, 4))
    with serving(create_app(world.app)) as url:
        for lang, late, tag in (("en", "entered late (recorded since the last report", "entered late · report of 2019-06-05"),
                                ("zh", "补录支付（上次月报后登记", "补录·应属 2019-06-05 月报")):
            context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                          locale="zh-CN", device_scale_factor=1)
            context.add_cookies([{"name": "jz_session", "value": open_session(world.app, world["cs"])[0], "url": url},
                                 {"name": "lang", "value": lang, "url": url}])
            page = context.new_page()
            page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
            page.goto(f"{url}/cases/{case}?procedure=disbursement_report")
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, lang
            figures = page.inner_text("#report-figures")
            assert late in figures and "10,000.00" in figures and "2019-06-05" in figures, figures
            assert tag in page.inner_text("body")
            if lang == "zh":
                page.click("#step-form button.primary")
                expect(page.locator("#done")).to_contain_text("资金支出月报")      # the case page as the step left it
            context.close()
    (filed,) = [s["data"] for p in case_trace(world.app, world["insp"], case)["procedures"] for s in p["steps"]
                if s["date"] == "2019-07-04"]
    assert (filed["disbursed_period"], filed["disbursed_late"]) == ("0.00", "10000.00"), filed
