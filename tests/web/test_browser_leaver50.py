"""What a person leaves, on the administrator's phone (w7, stop 50): the person page of the demo's only
resident team leader of 洋塘村 says, above the deactivation form, the cases waiting on them (each a
thumb's link) and that the post would be vacant; nothing is wider than the screen, every link a thumb's."""
from __future__ import annotations

from tests.web.test_browser_admin import TARGETS


def test_the_person_page_says_what_the_leader_leaves_on_a_phone(phone, demo_home):
    code, password = demo_home[1]["admin"]
    phone.sign_in(code, password)
    page = phone.go("/admin/people/v01_leader")
    leaves = page.locator("#leaves")
    assert leaves.is_visible() and "停用前请注意：此人离任将留下" in leaves.inner_text()
    assert "驻村工作队长（洋塘村）只有此人在任" in leaves.inner_text()
    assert leaves.locator("a.tap[href^='/cases/']").count() >= 1
    box = leaves.bounding_box()
    assert box["y"] < page.locator("#deactivate").bounding_box()["y"]      # read before the form
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    assert page.evaluate(TARGETS) == []                      # every link a thumb's
    phone.shot("admin-leaves-360")
    assert phone.errors == []
