"""A cadre on a phone with a weak signal (DOMAIN §1): a form sent with no answer back says so at the
form, keeps what was typed, and sent again is saved once — whether it never reached the server (no
signal) or was saved there and only its answer was lost (the server gives the first answer again)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
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


def _network_errors_only(phone) -> None:
    """The lost request is logged by Chromium and HTMX as console errors: those alone are expected."""
    phone.errors = [e for e in phone.errors
                    if "net::ERR" not in e and not e.startswith(("htmx:sendError", "htmx:afterRequest"))]


def test_an_answer_lost_after_the_server_saved_is_given_again_not_saved_twice(phone, core, demo_home):
    case_id = register_in_cadres_village(core, demo_home, "断讯户主", "36073019660412123")
    page, income = _filled(phone, demo_home, case_id)
    path = f"**/cases/{case_id}/evidence"

    def saved_then_lost(route):
        route.fetch()           # the server gets the form and saves it ...
        route.abort("connectionreset")      # ... and its answer never reaches the phone
    page.route(path, saved_then_lost)
    income.locator("button").click()
    lost = income.locator(".lost")
    lost.wait_for()
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


def test_a_form_sent_with_no_signal_is_kept_and_sent_again_once(phone, core, demo_home):
    case_id = register_in_cadres_village(core, demo_home, "无信号户主", "36073019670513123")
    page, income = _filled(phone, demo_home, case_id)
    page.context.set_offline(True)
    income.locator("button").click()
    income.locator(".lost").wait_for()
    assert _incomes(core, case_id) == 0
    assert income.locator("input[name=f_year]").input_value() == "2020"
    page.context.set_offline(False)
    income.locator("button").click()
    page.wait_for_selector(f"{INCOME} + .evidence-result .done")
    assert _incomes(core, case_id) == 1 and income.locator(".lost").count() == 0
    _network_errors_only(phone)
