"""A village's evidence sheet a page at a time: 192 households are four pages of 50 (a phone can fill
and send one), each page filled in and saved on its own, the next page where it was after a save,
the households still without the evidence one tap away and counted; in Chromium at 360 px, a page
turned with typed rows unsaved asks first. Against the list tests' own demo county."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from engine.adapters import tables as t
from tests.web.bulk_world import VILLAGE, core, demo_home, live_server, new_households, web  # noqa: F401

SHEET = f"/villages/{VILLAGE}/evidence?kind=household&type=drinking_water"


@pytest.fixture(scope="module")
def village_of_192(core):
    """VILLAGE grown to 192 households."""
    with core.engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(t.cases).where(
            t.cases.c.region_code == VILLAGE, t.cases.c.kind == "household")).scalar()
    new_households(core, 192 - have, "翻页户", "36213119610", 700)
    with core.engine.connect() as conn:
        return list(conn.execute(select(t.cases.c.id).where(
            t.cases.c.region_code == VILLAGE, t.cases.c.kind == "household").order_by(t.cases.c.id)).scalars())


def _rows(html: str) -> list[int]:
    return [int(c) for c in re.findall(r'<tr data-case="(\d+)">', html)]


def _next(html: str) -> str | None:
    found = re.search(r'id="sheet-next" rel="next" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _held(core, cases: list[int]) -> set[int]:
    with core.engine.connect() as conn:
        return set(conn.execute(select(t.evidence.c.case_id).where(
            t.evidence.c.case_id.in_(cases), t.evidence.c.type == "drinking_water",
            t.evidence.c.superseded_by.is_(None))).scalars())


def test_a_sheet_of_192_households_comes_50_a_page_those_without_it_first_and_a_saved_page_leaves_the_next_where_it_was(
        signed_in, core, village_of_192):
    everyone = village_of_192
    assert len(everyone) == 192
    held = _held(core, everyone)
    assert held                                       # the demo's households holding it: after the others
    order = [c for c in everyone if c not in held] + [c for c in everyone if c in held]
    client = signed_in("cadre")
    first = client.get(SHEET).text
    assert _rows(first) == order[:50]
    assert "全村此表共 192 户，每页 50 户，尚无此材料的户排在前面" in first and 'id="sheet-next"' in first
    assert f"本村还有 {192 - len(held)} 户没有这项材料" in first
    # page 1 filled in and saved (only its own rows are in its form)
    data = {"csrf": client.csrf, "kind": "household", "type": "drinking_water",
            **{name: "yes" for name in re.findall(r'name="(f_\d+_safe)"', first)}}
    saved = client.post(f"/villages/{VILLAGE}/evidence", data=data, headers={"HX-Request": "true"})
    assert 'data-written="50"' in saved.text
    # the next page is still households 51-100 as the sheet listed them, those saved now behind them
    second = client.get(_next(first)).text
    assert _rows(second) == order[50:100] and 'id="sheet-first"' in second
    assert f"本村还有 {192 - len(held) - 50} 户没有这项材料" in second
    assert _rows(client.get(SHEET).text)[0] == order[50]                 # the first page: the next to fill
    still = client.get(SHEET + "&missing=1").text
    assert _rows(still) == order[50:100]
    pages, url, seen = 1, SHEET, []
    while (url := _next(html := client.get(url).text)) is not None:
        seen += _rows(html)
        pages += 1
    seen += _rows(html)
    assert pages == 4 and sorted(seen) == everyone                      # every household once
    assert seen[-len(held) - 50:] == sorted(held | set(order[:50]))     # those holding it last
    assert client.get(SHEET + "&after=x").status_code == 400


def test_on_a_phone_a_sheet_page_fits_and_turning_it_with_typed_rows_unsaved_asks_first(
        phone, core, demo_home, village_of_192):
    code, password = demo_home[1]["cadre"]
    page = phone.page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    phone.sign_in(code, password)
    phone.go(SHEET + "&missing=1")
    page.wait_for_selector("#sheet-form")
    assert page.locator("#sheet-form tbody tr").count() == 50
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    asked = []
    page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    shown = _rows(page.content())
    page.click(f'tr[data-case="{shown[-1]}"] .fold-act')            # the household's line opens its fields
    page.select_option(f'select[name="f_{shown[-1]}_safe"]', "no")
    page.click("#sheet-next")
    assert asked and "还没有保存" in asked[0]
    assert "after=" not in page.url and page.input_value(f'select[name="f_{shown[-1]}_safe"]') == "no"   # kept
    page.click("#sheet-form button.primary")
    expect(page.locator("#sheet-summary")).to_contain_text("已保存 1 户的材料")
    page.click("#sheet-next")                                      # saved: turned without asking
    page.wait_for_url(re.compile("after="))
    turned = _rows(page.content())
    assert len(asked) == 1 and turned[0] > shown[-1] and shown[-1] not in turned
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.shot("village-sheet-pages-phone")


INCOME_SHEET = f"/villages/{VILLAGE}/evidence?kind=household&type=income_check"


def test_on_a_phone_each_household_of_a_sheet_is_one_line_saying_what_it_lacks_and_a_tap_opens_its_fields(
        phone, desktop, core, demo_home, village_of_192):
    """A page of 50 households' income checks was about 17,000 px of fields at 360 px; each household is
    now one line (its name, what it lacks, a tap to fill in): the cadre opens those they have figures for,
    types, and saves the page as before; a household typed in and folded again says it is not saved. On
    a desktop the sheet is the table of fields it was, nothing to open."""
    code, password = demo_home[1]["cadre"]
    page = phone.page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    phone.sign_in(code, password)
    phone.go(INCOME_SHEET)
    page.wait_for_selector("#sheet-form")
    assert page.locator("#sheet-form tbody tr").count() == 50
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 5000, height                          # 50 lines, not 50 forms
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    first, second = _rows(page.content())[:2]
    line = page.locator(f'tr[data-case="{first}"]')
    expect(line.locator("summary")).to_contain_text("尚无此材料")
    expect(line.locator("summary")).to_contain_text("点开填写")
    expect(page.locator(f'input[name="f_{first}_net_income"]')).to_be_hidden()
    year = str(core.clock.today().year - 1)
    for case, income in ((first, "8000"), (second, "9500")):
        page.click(f'tr[data-case="{case}"] .fold-act')
        page.fill(f'input[name="f_{case}_year"]', year)
        page.fill(f'input[name="f_{case}_net_income"]', income)
    expect(line.locator(".fold-close")).to_have_text("收起")
    line.locator(".fold-close").click()                   # folded again: it says it is typed, not saved
    expect(page.locator(f'input[name="f_{first}_net_income"]')).to_be_hidden()
    expect(line.locator(".typed-note")).to_be_visible()
    expect(line.locator(".typed-note")).to_have_text("已填写，未保存")
    phone.shot("village-sheet-folded-phone")
    page.click("#sheet-form button.primary")
    expect(page.locator("#sheet-summary")).to_contain_text("已保存 2 户的材料")
    expect(page.locator(f'tr[data-case="{second}"] details.fold')).not_to_have_attribute("open", "")  # saved: folded
    expect(line.locator(".typed-note")).to_be_hidden()
    expect(line.locator("summary")).not_to_contain_text("尚无此材料")     # its line says it is saved now
    expect(line.locator("summary .saved")).to_contain_text("已保存")
    expect(line.locator(".fold-act")).to_have_text("点开查看")
    assert page.locator(f'input[name="f_{second}_net_income"]').is_disabled()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # in English each household's line is the line alone too (its cell's label was shown above it)
    page.goto(phone.base + "/lang/en?next=" + INCOME_SHEET.replace("&", "%26"))
    page.wait_for_selector("#sheet-form")
    english = page.evaluate("document.documentElement.scrollHeight")
    assert english < height * 1.2, (english, height)
    assert page.evaluate("getComputedStyle(document.querySelector('#sheet-form td.who'), '::before').content") == "none"
    desktop.page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    desktop.sign_in(code, password)
    desktop.go(INCOME_SHEET)
    wide = desktop.page
    wide.wait_for_selector("#sheet-form")
    third = _rows(wide.content())[0]
    expect(wide.locator(f'input[name="f_{third}_net_income"]')).to_be_visible()     # no tap needed
    expect(wide.locator(f'tr[data-case="{third}"] .fold-act')).to_be_hidden()
    assert wide.evaluate("document.documentElement.scrollWidth") <= 1280
