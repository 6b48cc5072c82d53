"""The inspector's flags page (issue 11): the weightiest first, a count per kind, a page at a time."""
from __future__ import annotations

import re

import pytest

from engine.reads.inspection import ranked
from entrypoints.web import routes_inspector
from tests.web.test_inspector import actor_of, text_of


def test_flags_are_ranked_counted_by_kind_and_paged(signed_in, core, demo_home, monkeypatch):
    inspector = signed_in("inspector")
    expected = ranked(core, actor_of(core, demo_home[1]["inspector"][0]))
    assert len(expected) >= 3, "the demo plants leads"
    page = inspector.get("/inspect/flags")
    kinds = re.findall(r'data-kind="(\w+)"', page.text)
    assert kinds == [f.kind for f in expected][:routes_inspector.FLAGS_PAGE]
    summary = text_of(page.text[page.text.index('id="flag-summary"'):page.text.index("</table>")])
    for kind in set(kinds):
        n = sum(1 for f in expected if f.kind == kind)
        assert f"{core.config.label('flag.' + kind, 'zh')} {n}" in summary
    assert kinds[0] == "relative_signed"             # the planted relative's review leads the list
    assert "石上村" in text_of(page.text)               # its village by name

    monkeypatch.setattr(routes_inspector, "FLAGS_PAGE", 2)
    first, second = inspector.get("/inspect/flags"), inspector.get("/inspect/flags", params={"page": 2})
    assert re.findall(r'data-kind="(\w+)"', first.text) == [f.kind for f in expected[:2]]
    assert re.findall(r'data-kind="(\w+)"', second.text) == [f.kind for f in expected[2:4]]
    assert 'rel="next"' in first.text and 'rel="prev"' in second.text
    assert 'id="flag-3"' in second.text              # numbered across pages: events load into their own box
    assert inspector.get("/inspect/flags", params={"page": 0}).status_code in (400, 422)


@pytest.mark.browser
def test_the_flags_page_fits_a_phone_and_filters_by_kind(phone, demo_home):
    phone.sign_in(*demo_home[1]["inspector"])
    page = phone.go("/inspect/flags")
    rows = page.locator("#flag-summary tbody tr")
    assert rows.count() >= 3
    first = rows.first.locator("a")
    kind_name = first.inner_text()
    first.click()                                        # a kind's count opens that kind's flags only
    page.wait_for_url("**/inspect/flags?kinds=*")
    shown = page.locator("article.flag")
    assert shown.count() >= 1 and all(kind_name in shown.nth(i).inner_text() for i in range(shown.count()))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.shot("inspector-flags-phone")
