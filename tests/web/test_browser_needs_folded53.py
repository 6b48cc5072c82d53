"""What a waiting case still needs, on a village secretary's phone (360 px): my work and the village's list
for a step listed each household's exit conditions as one run of text, four or five conditions with how to
put each right, and the demo's 25 households made /work 14,800 px tall. Each failed condition is now a
line of its own, folded to two lines (what fails shows; how to put it right on a tap or Enter)."""
from __future__ import annotations

import pytest

from tests.web.bulk_world import core, demo_home, live_server, web  # noqa: F401
from tests.web.test_browser_case52 import signed_in_as

pytestmark = pytest.mark.browser

VILLAGE = "360730100205"         # the demo's 黄陂村: a household waiting for its exit proposal, four conditions unmet
EXIT_LIST = f"/villages/{VILLAGE}/list?kind=household&procedure=exit&step=proposal"


def _needs_shown(page) -> list[dict]:
    page.wait_for_selector(".needs-list li")
    return page.evaluate("""Array.from(document.querySelectorAll('.needs-list li')).map(li => ({
        height: li.getBoundingClientRect().height, whole: li.scrollHeight, text: li.textContent,
        line: parseFloat(getComputedStyle(li).lineHeight) || 24}))""")


@pytest.mark.parametrize("path", ["/work", EXIT_LIST])
def test_each_condition_a_case_fails_is_a_line_of_its_own_folded_to_two(phone, core, path):  # noqa: F811
    signed_in_as(phone, core, "v05_secretary")
    page = phone.go(path)
    if path == EXIT_LIST:       # the list's summary says each condition once: a row says how many, a tap them
        page.wait_for_selector("details.needs-brief")
        assert "尚不能办理：4 项原因" in page.inner_text("details.needs-brief summary")
        assert page.inner_text("#holds").count("早于本次退出认可的最早日期") == 3
        page.click("details.needs-brief summary")
    shown = _needs_shown(page)
    assert len(shown) >= 4, shown               # the household's four conditions: each its own line
    assert all(item["height"] <= 2 * item["line"] + 2 for item in shown), shown[:3]
    income = [item for item in shown if item["text"].startswith("尚未登记 2020 年的收入核算")]
    assert income and all("; " not in item["text"] for item in shown)
    assert any(item["whole"] > item["height"] + 4 for item in shown)       # folded: there is more to read
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    phone.shot("needs-folded-" + ("work" if path == "/work" else "exit-list"))


def test_a_tap_or_enter_shows_how_to_put_a_condition_right(phone, core):  # noqa: F811
    signed_in_as(phone, core, "v05_secretary")
    page = phone.go("/work")
    _needs_shown(page)
    item = page.locator(".needs-list li", has_text="早于本次退出认可的最早日期").first
    folded = item.bounding_box()["height"]
    item.click()
    assert item.get_attribute("aria-expanded") == "true"
    assert item.bounding_box()["height"] > folded and "请重新入户核实" in item.inner_text()
    item.press("Enter")                         # folded again from the keyboard
    assert item.get_attribute("aria-expanded") == "false" and item.bounding_box()["height"] == folded
