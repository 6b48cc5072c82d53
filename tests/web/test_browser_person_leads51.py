"""An inspector on a phone (Chromium, 360 px) opens a cadre's trace and finds the leads about them, loaded
after the page, and goes from one to its case (the demo's t1_staff1 signed for a relative's household,
its case: before, the person's trace said nothing of it)."""
from __future__ import annotations


def test_an_inspector_reads_the_leads_about_a_cadre_on_their_trace_and_opens_the_case(phone, demo_home):
    phone.sign_in(*demo_home[1]["inspector"])
    page = phone.go("/inspect/trace/person/t1_staff1")
    lead = page.locator("#leads li", has_text="外甥女")
    lead.wait_for()                                   # the section, loaded by HTMX after the page
    assert "为亲属户签字" in lead.inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    link = lead.locator("a[href^='/inspect/trace/case/']")
    case = link.get_attribute("href")
    link.click()
    page.wait_for_url(f"**{case}")
    page.go_back()
    page.locator("#leads a[href='/inspect/flags?person=t1_staff1']").click()
    page.wait_for_url("**/inspect/flags?person=t1_staff1")
    assert page.locator("article.flag").count() == 1
    phone.shot("person-leads51")
