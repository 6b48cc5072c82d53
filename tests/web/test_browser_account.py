"""A person's own account in a real browser (issue 13): reached from their name in the header, on a
phone and a desktop, in Chinese and English; the password changed with the current one, then used
to sign in again; a new token only once its one-time display is acknowledged."""
from __future__ import annotations

import pytest

from engine.services import accounts
from tests.web.test_own_credentials import keep_in_demo_tokens

NEW_PASSWORD = "new-pass-2019-browser"


@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_a_person_opens_their_account_from_the_header_in_either_language(request, screen, demo_home):
    tab = request.getfixturevalue(screen)
    code, password = demo_home[1]["cadre"]
    tab.sign_in(code, password)
    page = tab.page
    page.click("header a.who")
    page.wait_for_url("**/account")
    assert page.locator("h1").inner_text() == "我的账号"
    assert f"({code})" in page.locator("main").inner_text()
    assert "洋塘村" in page.locator("main li").first.inner_text()          # the post's region by its name
    width = page.viewport_size["width"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width      # nothing wider than the screen
    fields = page.locator("form[action='/account/password'] input:not([type=hidden]), "
                          "form[action='/account/token'] input[name=current]")
    assert fields.count() == 4
    for i in range(fields.count()):
        box = fields.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    tab.shot(f"account-{screen}-zh")
    page.click("header a[lang=en]")
    page.wait_for_url("**/account")
    assert page.locator("h1").inner_text() == "My account"
    assert page.locator("text=Change password").first.is_visible()
    tab.shot(f"account-{screen}-en")
    page.click("header a[lang=zh-CN]")
    page.wait_for_url("**/account")


def test_a_person_changes_their_password_in_the_browser_and_signs_in_with_it(desktop, demo_home, core):
    code, old = demo_home[1]["cadre"]
    desktop.sign_in(code, old)
    page = desktop.go("/account")
    desktop.expect_status(400)
    page.fill("form[action='/account/password'] input[name=current]", "not-my-password")
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=again]", NEW_PASSWORD)
    page.click("button.primary")
    assert "当前密码不正确" in page.locator("p.refusal").inner_text()
    try:
        page.fill("form[action='/account/password'] input[name=current]", old)
        page.fill("input[name=password]", NEW_PASSWORD)
        page.fill("input[name=again]", NEW_PASSWORD)
        page.click("button.primary")
        assert "密码已修改" in page.locator("p.done").inner_text()
        page.click("form[action='/signout'] button")
        page.wait_for_url("**/signin**")
        desktop.sign_in(code, NEW_PASSWORD)
        assert "/signin" not in page.url
        desktop.go("/account")
        assert page.locator("h1").inner_text() == "我的账号"
    finally:
        accounts.set_password(core, accounts.sign_in(core, code, NEW_PASSWORD), old)


def test_a_new_token_is_shown_only_once_its_one_time_display_is_acknowledged(desktop, demo_home):
    code, password = demo_home[1]["cadre"]
    desktop.sign_in(code, password)
    page = desktop.go("/account")
    token_form = page.locator("form[action='/account/token']")
    token_form.locator("button").click()                       # the box unticked: the browser holds it back
    assert page.url.endswith("/account") and page.locator("#new-token").count() == 0
    token_form.locator("input[name=current]").fill(password)
    token_form.locator("input[name=understood]").check()
    token_form.locator("button").click()
    page.wait_for_load_state("networkidle")
    token = page.locator("#new-token").inner_text()
    assert len(token) >= 20
    keep_in_demo_tokens(demo_home, code, token)
    desktop.go("/account")                                      # shown once: not on the page again
    assert page.locator("#new-token").count() == 0 and token not in page.content()


def test_the_interactive_api_page_draws_every_route_and_offers_to_authorise(desktop):
    """/api/docs was blank in every browser: Swagger UI came from a CDN with an inline script, both
    refused by the pages' own Content-Security-Policy. It is vendored now, and says how to sign in."""
    page = desktop.go("/api/docs")
    page.wait_for_selector(".opblock", timeout=15000)
    assert page.locator(".opblock").count() > 30
    assert page.locator("button.authorize").count() == 1
    page.locator("button.authorize").click()
    assert page.locator("text=X-Jingzhun-Person").first.is_visible()
    desktop.shot("api-docs-authorise")
    assert not desktop.errors, desktop.errors
