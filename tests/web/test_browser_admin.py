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


def test_the_administrator_gives_a_post_s_region_by_its_name_on_a_phone(phone, demo_home):
    """Adding a person with a post and granting another on a 360 px phone: the region is typed as its
    name (a phone's keyboard, not digits only) with the administrator's regions offered as "name
    (code)"; the post lands on that region, shown by its name."""
    code, password = demo_home[1]["admin"]
    phone.sign_in(code, password)
    page = phone.page
    page.goto(phone.base + "/admin/people/new")
    region = page.locator("#new-person input[name=region]")
    assert region.get_attribute("inputmode") is None
    offered = page.eval_on_selector_all("#region-choices option", "os => os.map(o => o.value)")
    assert "洋塘村 (360730100201)" in offered and "梅江镇 (360730100000)" in offered
    _fits(page)
    page.fill("input[name=code]", "adm_by_name")
    page.fill("input[name=name]", "按名称授岗")
    page.select_option("#new-person select[name=role]", "pairing_cadre")
    region.fill("洋塘村")
    page.uncheck("input[name=enrol]")             # no first-sign-in code now: the person's page follows
    page.click("#new-person button.primary")
    page.wait_for_url("**/admin/people/adm_by_name?done=added")
    assert page.locator("tr[data-post='pairing_cadre@360730100201']").count() == 1
    page.select_option("#grant-form select[name=role]", "township_staff")
    page.fill("#grant-form input[name=region]", "梅江镇 (360730100000)")
    _fits(page)
    phone.shot("admin-grant-by-name-360")
    page.click("#grant-form button.primary")
    page.wait_for_url("**/admin/people/adm_by_name?done=granted")
    post = page.locator("tr[data-post='township_staff@360730100000']")
    assert post.count() == 1 and "梅江镇" in post.inner_text()
