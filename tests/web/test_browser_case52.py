"""On a 360 px phone (a user audit, a7 #10 and a8 #6): a township head arriving at a case from an alert sees
its deadline, how late and how high it went, and presses its owner there; a township clerk changes a
household's pairing cadre. Each page shows at once what the action did, without 刷新案件; a double tap on a
slow link records once. The new parts of the page fit the phone in both languages."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.services.accounts import open_session
from tests.web.bulk_world import VILLAGE, actor, core, demo_home, live_server, web  # noqa: F401

pytestmark = pytest.mark.browser


def signed_in_as(phone, core, code: str, lang: str = "zh"):  # noqa: F811
    phone.page.context.clear_cookies()
    phone.page.context.add_cookies([{"name": "jz_session", "value": open_session(core, actor(core, code))[0],
                                     "url": phone.base}, {"name": "lang", "value": lang, "url": phone.base}])


def fits(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth") <= 360


def test_a_township_head_presses_from_the_case_page_and_sees_the_press_at_once(phone, core):  # noqa: F811
    d = t.deadlines.c
    with core.engine.connect() as conn:       # the first escalated overdue deadline of the village (another
        case, deadline = conn.execute(                      # test presses the last, as t1_head)
            select(d.case_id, d.id).join(t.alerts, t.alerts.c.deadline_id == d.id)
            .where(d.status == "open", d.region_code == VILLAGE, d.owner_id.is_not(None), t.alerts.c.level >= 1,
                   d.due_at < core.clock.now()).order_by(d.id)).first()
    signed_in_as(phone, core, "county_director", "en")
    page = phone.go(f"/cases/{case}")
    shown = page.inner_text("#deadlines")
    assert "overdue since" in shown and re.search(r"Level [1-9]", shown) and "Owner:" in shown, shown
    assert "causes of poverty" in page.inner_text("#causes").lower() and fits(page)
    signed_in_as(phone, core, "county_director")
    page = phone.go(f"/cases/{case}")
    form = page.locator(f"#press-form-{deadline}")
    form.locator("input[name=note]").fill("请三日内办结")
    form.locator("button").dblclick()                      # a slow link: tapped twice
    page.wait_for_selector("#done")
    assert "已督办" in page.inner_text("#done")
    shown = page.inner_text(f'#deadlines li[data-deadline="{deadline}"]')   # no reload: the press is listed
    assert "已督办 1 次" in shown and "请三日内办结" in shown and "您今天已督办此项" in shown, shown
    assert page.locator(f"#press-form-{deadline}").count() == 0 and fits(page)
    phone.shot("case-deadlines-pressed-phone")
    pressed = t.audit_events.c
    with core.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(
            pressed.action == "deadline_pressed", pressed.person_code == "county_director",
            pressed.detail["deadline"].as_integer() == deadline)).scalar() == 1


def test_a_pairing_changed_on_a_phone_shows_the_new_cadre_at_once_and_is_done_once(phone, core):  # noqa: F811
    with core.engine.connect() as conn:     # a household of the first township in assistance, nothing open
        case = conn.execute(select(t.cases.c.id).where(
            t.cases.c.kind == "household", t.cases.c.region_code.like("360730100%"), t.cases.c.stage == "assisted",
            t.cases.c.open_procedure_id.is_(None)).order_by(t.cases.c.id.desc()).offset(1)).scalars().first()
    signed_in_as(phone, core, "t1_staff2")
    page = phone.go(f"/cases/{case}?procedure=pairing_change")
    choice = page.locator("#step-form select[name=first_cadre] option:not([disabled]):not([value=''])").last
    cadre, name = choice.get_attribute("value"), choice.inner_text().split(" · ")[0].strip()
    page.select_option("#step-form select[name=first_cadre]", cadre)
    page.select_option("#step-form select[name=second_cadre]", "")          # one cadre now
    page.locator("#step-form button.primary").dblclick()
    page.wait_for_selector("#done[data-outcome], #step-result .refusal")
    assert page.locator("#step-result .refusal").count() == 0, page.inner_text("#step-result")
    assert "已办理" in page.inner_text("#done") and name in page.inner_text("#assistance")
    assert page.locator("select[name=first_cadre]").count() == 0 and fits(page)
    assert page.url.endswith(f"/cases/{case}")                   # reloaded, the case's page, not a start refused
    phone.shot("case-pairing-done-phone")
    with core.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.steps.join(
            t.procedures, t.procedures.c.id == t.steps.c.procedure_id)).where(
            t.procedures.c.case_id == case, t.procedures.c.kind == "pairing_change")).scalar() == 1
