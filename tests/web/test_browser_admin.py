"""The administrator's pages on a 360 px phone: signing in lands on the people, a table become cards
with nothing wider than the screen and every target a thumb's; a person found by search, a paper
first-sign-in code issued and shown once."""
from __future__ import annotations

import re

TARGETS = """() => [...document.querySelectorAll(
    'main a, main button, main summary, main select, main label.check, ' +
    'main input:not([type=hidden]):not([type=radio]):not([type=checkbox])')]
  .filter(e => e.offsetParent !== null)
  .map(e => [e.tagName + ' ' + (e.textContent || e.name || '').trim().slice(0, 20),
             Math.round(e.getBoundingClientRect().height)])
  .filter(x => x[1] < 40)"""


def _fits(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.viewport_size["width"]
    assert page.evaluate(TARGETS) == []


def test_the_administrator_finds_a_person_and_issues_a_paper_code_on_a_phone(phone, demo_home):
    code, password = demo_home[1]["admin"]
    phone.sign_in(code, password)
    page = phone.page
    assert page.url.endswith("/admin/people")
    assert page.locator("header nav a[href='/admin/people']").is_visible()
    assert page.locator("#people thead").is_hidden()            # a table become cards
    _fits(page)
    phone.shot("admin-people-360")
    page.fill("input[name=q]", "v02_dir")
    page.click("form.search button")
    page.wait_for_url("**/admin/people?q=v02_dir")
    assert page.locator("#people tbody tr").count() == 1
    page.click("#people a.tap")
    page.wait_for_url("**/admin/people/v02_director")
    _fits(page)
    page.check("input[name=delivery][value=paper]")
    page.click("#enrol-form button")
    page.wait_for_load_state("networkidle")
    shown = page.locator("#enrolment-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", shown)
    box = page.locator("#enrolment-code").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360          # the code on one line, on the screen
    phone.shot("admin-slip-360")
    page.goto(phone.base + "/admin/people/v02_director")
    assert shown not in page.content() and page.locator("#enrolment-code").count() == 0
    page.goto(phone.base + "/admin/regions")
    _fits(page)
    phone.shot("admin-regions-360")
