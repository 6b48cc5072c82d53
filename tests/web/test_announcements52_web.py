"""The county's announcement (公告) on the web (a7 #5): linked from the case page's step and the village's
notices, shown at 360 px, and printed on A4 by a real Chromium with its households, day and office, read back
with pypdf, no type under 9 pt."""
from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from tests.test_announcements52 import announced_households, heads, to_county_approval
from tests.web.test_print51 import on_paper, sheets_of, signed_in
from tests.world import VILLAGE


@pytest.mark.browser
def test_the_announcement_is_linked_from_the_case_and_village_and_prints_on_a4(world, browser):
    from entrypoints.web.app import create_app
    from tests.web.conftest import serving
    cases, notice = announced_households(world)
    first, second = heads(world, cases)
    with serving(create_app(world.app)) as url:
        for lang, link, words in (("zh", f"公告 {notice}", ["公告洋塘村·贫困识别", "识别为建档立卡贫困户，现予公告", "宁都县扶贫开发领导小组办公室"]),
                                  ("en", f"Announcement {notice}", ["Announcement洋塘村·identification", "identifiedasregisteredpoorhouseholds",
                                                                    "PovertyAlleviationandDevelopmentLeadingGroupOfficeof宁都县"])):
            context = signed_in(browser, world, url, lang)
            page = context.new_page()
            page.set_viewport_size({"width": 360, "height": 740})
            page.goto(f"{url}/cases/{cases[0]}")
            step = page.locator("td", has=page.locator(f'a[href="/notices/{notice}"]')).first
            assert step.locator("a").first.inner_text() == link
            assert step.locator(f'a[href="/notices/{notice}/print"]').count() == 1
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.goto(f"{url}/villages/{VILLAGE}/list")
            assert page.locator(f'[data-notice="{notice}"] a').inner_text() == link
            page.goto(f"{url}/notices/{notice}")
            assert page.locator("#objection-entry").count() == 0          # an announcement takes no objection
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.goto(f"{url}/notices/{notice}/print")
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            sheets = sheets_of(page, f"{url}/notices/{notice}/print")
            text = unicodedata.normalize("NFKC", "".join(sheets))       # "ﬁ" as a PDF ligature keeps it: fi
            assert len(sheets) == 1, sheets
            for word in words + [first, second, "2019-03-15"]:
                assert unicodedata.normalize("NFKC", word) in text, (lang, word, text)
            assert not re.search(r"\d{15,}", text)            # no ID number on the board
            _, smallest = on_paper(page, f"{url}/notices/{notice}/print")
            assert smallest >= 8.99, (lang, smallest)
            context.close()


def test_the_village_list_links_the_announcement_it_posted(world, world_clients):
    cases = to_county_approval(world)
    page, _api = world_clients
    client = page("cs")
    answer = client.post(f"/villages/{VILLAGE}/list", data={
        "csrf": client.csrf, "kind": "household", "procedure": "identification", "step": "announcement",
        "case": [str(c) for c in cases]})
    assert answer.status_code == 200, answer.text
    with world.app.engine.connect() as conn:
        notice = conn.execute(select(t.steps.c.notice_id).where(
            t.steps.c.case_id == cases[0], t.steps.c.step_key == "announcement")).scalar()
    assert f'<a href="/notices/{notice}">公告 {notice}</a>' in answer.text
