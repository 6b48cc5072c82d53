"""A session that ends while a cadre fills in a form on a phone (2 idle hours between two door
visits): the form's answer sends them to the sign-in page, which says what they sent was not saved;
signed in again they are back on the page with what they had typed filled in again (kept in the
browser tab only), not sent, the file to be chosen again. Somebody else signing in on that tab gets
nothing of it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.services.accounts import close_session
from tests.web.test_browser_cadre import register_in_cadres_village
from tests.world import photo as whole_photo

pytestmark = pytest.mark.browser


def _evidence_count(core, case_id: int) -> int:
    with core.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.evidence).where(t.evidence.c.case_id == case_id)).scalar()


def _sent_after_the_session_ended(phone, core, demo_home, tmp_path, name: str, first17: str) -> tuple[int, object]:
    """A new household of the cadre's village whose income form, filled in with a photo chosen, is sent
    after the session ended on the server (idle too long, or signed out elsewhere): (case, photo), the
    browser on the sign-in page it was sent to."""
    case_id = register_in_cadres_village(core, demo_home, name, first17)
    photo = tmp_path / "收入核算表.jpg"
    photo.write_bytes(whole_photo("a phone camera photo"))
    phone.sign_in(*demo_home[1]["cadre"])
    page = phone.go(f"/cases/{case_id}")
    income = page.locator("form.evidence-form[data-type=income_check]")
    income.locator("input[name=f_year]").fill("2020")
    income.locator("input[name=f_net_income]").fill("5230")
    income.locator("input[type=file]").set_input_files(str(photo))
    close_session(core, next(c["value"] for c in page.context.cookies() if c["name"] == "jz_session"))
    phone.expect_status(401)
    income.locator("button").click()
    page.wait_for_url("**/signin?**")
    return case_id, photo


def _signed_in_back_on(page, sign_in: tuple[str, str], case_id: int):
    """Sign in on the sign-in page; the case page's income form it goes back to."""
    page.fill("input[name=person]", sign_in[0])
    page.fill("input[name=password]", sign_in[1])
    page.click("form[action='/signin'] button.primary")
    page.wait_for_url(f"**/cases/{case_id}")
    return page.locator("form.evidence-form[data-type=income_check]")


def test_a_form_sent_after_the_session_ended_is_filled_in_again_once_signed_in(phone, core, demo_home, tmp_path):
    case_id, photo = _sent_after_the_session_ended(phone, core, demo_home, tmp_path, "断线户主", "36073019710808123")
    page = phone.page
    assert f"next=/cases/{case_id}" in page.url
    said = page.locator("#session-ended").inner_text()
    assert "登录已失效" in said and "刚才提交的内容没有保存" in said, said
    assert page.locator("#kept-here").is_visible()
    assert _evidence_count(core, case_id) == 0

    income = _signed_in_back_on(page, demo_home[1]["cadre"], case_id)
    assert income.locator("input[name=f_year]").input_value() == "2020"
    assert income.locator("input[name=f_net_income]").input_value() == "5230"
    note = income.locator("#restored")
    assert note.is_visible() and "尚未提交" in note.inner_text() and "文件须重新选择" in note.inner_text()
    assert _evidence_count(core, case_id) == 0, "filled in again, not sent"
    phone.shot("session-ended-restored-phone")

    income.locator("input[type=file]").set_input_files(str(photo))
    income.locator("button").click()
    page.wait_for_selector("form.evidence-form[data-type=income_check] + .evidence-result .done")
    assert _evidence_count(core, case_id) == 1
    page.reload()
    assert page.locator("#restored").count() == 0, "filled in once"


def test_somebody_else_signing_in_on_that_tab_gets_nothing_of_what_was_typed(phone, core, demo_home, tmp_path):
    case_id, _ = _sent_after_the_session_ended(phone, core, demo_home, tmp_path, "换人户主", "36073019720909123")
    page = phone.page
    income = _signed_in_back_on(page, demo_home[1]["township"], case_id)
    assert income.locator("input[name=f_net_income]").input_value() == ""
    assert page.locator("#restored").count() == 0
    assert page.evaluate("sessionStorage.getItem('jz-unsent')") is None, page.evaluate("Object.keys(sessionStorage)")


def test_a_page_reloaded_after_the_session_ended_says_so_and_goes_back_there_once_signed_in(phone, core, demo_home):
    """The page left open over two idle hours, then reloaded (or opened from a bookmark): the sign-in page
    says the session ended, and signing in goes back to it. A new tab with no session is not told of one."""
    phone.sign_in(*demo_home[1]["cadre"])
    page = phone.go("/work")
    page.wait_for_load_state("networkidle")          # each case's needs loaded while signed in
    close_session(core, next(c["value"] for c in page.context.cookies() if c["name"] == "jz_session"))
    phone.expect_status(401)                         # a part of the page asking after that is refused
    page.reload()
    page.wait_for_url("**/signin?**")
    said = page.locator("#session-ended").inner_text()
    assert "登录已失效" in said and "请重新登录" in said, said
    assert page.locator("#kept-here").count() == 0, "nothing was sent"
    page.fill("input[name=person]", demo_home[1]["cadre"][0])
    page.fill("input[name=password]", demo_home[1]["cadre"][1])
    page.click("form[action='/signin'] button.primary")
    page.wait_for_url("**/work")
    assert page.locator("h1").inner_text() == "我的工作"

    page.context.clear_cookies()                   # nobody has signed in on this browser
    phone.go("/work")
    page.wait_for_url("**/signin?next=/work")
    assert page.locator("#session-ended").count() == 0
