"""A cadre on a phone gives a household's income of a later year on its page: no reason asked (the
browser sends the form with the reason left empty), saved as that year's record, the earlier year's
superseded and kept — as `evidence add` and a village's sheet take it (auditor a4, finding 5)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from tests.web.test_browser_cadre import register_in_cadres_village

pytestmark = pytest.mark.browser


def test_a_later_years_income_is_saved_on_a_phone_without_a_reason(phone, core, demo_home):
    _, sign_ins = demo_home
    case_id = register_in_cadres_village(core, demo_home, "新年户主", "36073019700404123")
    phone.sign_in(*sign_ins["cadre"])
    page = phone.go(f"/cases/{case_id}")
    income = page.locator("form.evidence-form[data-type=income_check]")
    income.locator("input[name=f_year]").fill("2019")
    income.locator("input[name=f_net_income]").fill("8000")
    income.locator("button").click()
    page.wait_for_selector("form.evidence-form[data-type=income_check] + .evidence-result .done")
    page.reload()
    income = page.locator("form.evidence-form[data-type=income_check]")
    assert "填更晚年度的，即作为新一年的记录保存" in income.inner_text()
    income.locator("input[name=f_year]").fill("2020")
    income.locator("input[name=f_net_income]").fill("9500")
    assert income.locator("input[name=reason]").input_value() == ""
    income.locator("button").click()
    page.wait_for_selector("form.evidence-form[data-type=income_check] + .evidence-result .done")
    with core.engine.connect() as conn:
        rows = conn.execute(select(t.evidence.c.fields, t.evidence.c.superseded_by).where(
            t.evidence.c.case_id == case_id, t.evidence.c.type == "income_check").order_by(t.evidence.c.id)).all()
    assert [(r.fields["year"], r.superseded_by is None) for r in rows] == [(2019, False), (2020, True)]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
