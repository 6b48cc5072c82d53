"""A cadre on a phone with a weak signal (DOMAIN §1): a form sent with no answer back says so at the
form, keeps what was typed, and sent again is saved once — whether it never reached the server (no
signal) or was saved there and only its answer was lost (the server gives the first answer again)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.reads.audit_records import as_json
from tests.web.test_browser_cadre import register_in_cadres_village

pytestmark = pytest.mark.browser
INCOME = "form.evidence-form[data-type=income_check]"
LOST = "没有收到服务器的答复"


def _incomes(core, case_id: int) -> int:
    with core.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.evidence).where(
            t.evidence.c.case_id == case_id, t.evidence.c.type == "income_check")).scalar()


def _filled(phone, demo_home, case_id: int):
    phone.sign_in(*demo_home[1]["cadre"])
    page = phone.go(f"/cases/{case_id}")
    income = page.locator(INCOME)
    income.locator("input[name=f_year]").fill("2020")
    income.locator("input[name=f_net_income]").fill("5230")
    return page, income


def _sent_with_its_answer_cut(page, income, case_id: int) -> str:
    """The form sent: the server gets it and saves it, and its answer never reaches the phone; the note
    said. Returns the route's pattern (unroute it: the signal back)."""
    path = f"**/cases/{case_id}/evidence"

    def saved_then_lost(route):
        route.fetch()
        route.abort("connectionreset")
    page.route(path, saved_then_lost)
    income.locator("button").click()
    income.locator(".lost").wait_for()
    return path


def _sent_offline(page, income) -> None:
    """The form sent with no signal at all: nothing reaches the server, the note said."""
    page.context.set_offline(True)
    income.locator("button").click()
    income.locator(".lost").wait_for()


def _network_errors_only(phone) -> None:
    """The lost request is logged by Chromium and HTMX as console errors: those alone are expected."""
    phone.errors = [e for e in phone.errors
                    if "net::ERR" not in e and not e.startswith(("htmx:sendError", "htmx:afterRequest"))]


def test_an_answer_lost_after_the_server_saved_is_given_again_not_saved_twice(phone, core, demo_home):
    case_id = register_in_cadres_village(core, demo_home, "断讯户主", "36073019660412123")
    page, income = _filled(phone, demo_home, case_id)
    path = _sent_with_its_answer_cut(page, income, case_id)
    lost = income.locator(".lost")
    assert LOST in lost.inner_text() and "不会重复保存" in lost.inner_text()
    assert income.locator("input[name=f_net_income]").input_value() == "5230"      # what was typed kept
    assert _incomes(core, case_id) == 1
    page.unroute(path)
    income.locator("button").click()        # the signal back: sent again
    page.wait_for_selector(f"{INCOME} + .evidence-result .done")
    assert income.locator(".lost").count() == 0
    assert _incomes(core, case_id) == 1
    phone.shot("cadre-answer-lost-then-given-again-phone")
    _network_errors_only(phone)


def test_a_form_sent_with_no_signal_is_sent_by_itself_once_the_signal_is_back(phone, core, demo_home):
    """Before: the cadre had to notice the signal was back and send each such form again by hand."""
    case_id = register_in_cadres_village(core, demo_home, "无信号户主", "36073019670513123")
    page, income = _filled(phone, demo_home, case_id)
    _sent_offline(page, income)
    assert "自动再提交" in income.locator(".lost").inner_text()
    page.wait_for_timeout(500)
    assert _incomes(core, case_id) == 0
    assert income.locator("input[name=f_year]").input_value() == "2020"
    page.context.set_offline(False)              # the signal back: nothing tapped
    page.wait_for_selector(f"{INCOME} + .evidence-result .done")
    assert _incomes(core, case_id) == 1 and income.locator(".lost").count() == 0
    _network_errors_only(phone)


def test_an_answer_lost_on_a_weak_signal_is_asked_again_by_itself_and_saved_once(phone, core, demo_home):
    """The browser still thinks it is online (a weak signal): the form is sent again after a pause, with
    its key, and the server's first answer comes back."""
    case_id = register_in_cadres_village(core, demo_home, "弱信号户主", "36073019680614123")
    page, income = _filled(phone, demo_home, case_id)
    page.unroute(_sent_with_its_answer_cut(page, income, case_id))
    page.wait_for_selector(f"{INCOME} + .evidence-result .done", timeout=15000)     # after about 4 s
    assert _incomes(core, case_id) == 1 and income.locator(".lost").count() == 0
    _network_errors_only(phone)


def test_a_form_changed_after_its_answer_was_lost_waits_for_its_cadre(phone, core, demo_home):
    """What is being corrected is not sent half typed: the cadre sends it."""
    case_id = register_in_cadres_village(core, demo_home, "改过户主", "36073019690715123")
    page, income = _filled(phone, demo_home, case_id)
    _sent_offline(page, income)
    income.locator("input[name=f_net_income]").fill("5320")
    page.context.set_offline(False)
    page.wait_for_timeout(1500)
    assert _incomes(core, case_id) == 0
    income.locator("button").click()
    page.wait_for_selector(f"{INCOME} + .evidence-result .done")
    with core.engine.connect() as conn:
        fields = conn.execute(select(t.evidence.c.fields).where(t.evidence.c.case_id == case_id,
                                                               t.evidence.c.type == "income_check")).scalar_one()
    assert float(as_json(fields)["net_income"]) == 5320
    _network_errors_only(phone)


def test_an_answer_given_again_never_puts_an_older_case_version_back(phone, core, demo_home):
    """An income saved with its answer lost, then the application saved (the case's version moves on),
    then the income sent again and its first answer given back: the page keeps the newer version, so the
    next step is not refused as changed meanwhile (before: the replayed answer put the older one back)."""
    case_id = register_in_cadres_village(core, demo_home, "旧版户主", "36073019751103123")
    page, income = _filled(phone, demo_home, case_id)
    path = _sent_with_its_answer_cut(page, income, case_id)
    page.unroute(path)
    application = page.locator("form.evidence-form[data-type=application]")
    application.locator("input[name=f_applicant]").fill("旧版户主")
    application.locator("input[name=f_applied_on]").fill(core.clock.today().isoformat())
    application.locator("button").click()
    page.wait_for_selector("form.evidence-form[data-type=application] + .evidence-result .done")
    with core.engine.connect() as conn:
        version = conn.execute(select(t.cases.c.version).where(t.cases.c.id == case_id)).scalar()
    assert page.locator("#step-version").input_value() == str(version)
    income.locator("button").click()        # sent again: its first answer, of the older version, given back
    page.wait_for_selector(f"{INCOME} + .evidence-result .done")
    assert _incomes(core, case_id) == 1
    assert page.locator("#step-version").input_value() == str(version)
    _network_errors_only(phone)
