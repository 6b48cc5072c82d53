"""Printouts as a county office files them and older cadres read them, printed on A4 by a real Chromium and
read back with pypdf: a village's handbooks printed in one go are filed per household, so each household's
sheets are numbered on their own."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from tests.web.test_handbook_print import MEASURES, NAMES, household
from tests.world import VILLAGE


def sheets_of(page, url: str) -> list[str]:
    """The page at `url` printed on A4 as a browser's print button does: each sheet's text, spaces taken out."""
    page.goto(url)
    page.emulate_media(media="print")
    sheets = [re.sub(r"\s+", "", p.extract_text() or "") for p in PdfReader(io.BytesIO(page.pdf(format="A4"))).pages]
    page.emulate_media(media="screen")
    return sheets


def signed_in(browser, world, url: str, lang: str, who: str = "vs"):
    from engine.services.accounts import open_session
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "jz_session", "value": open_session(world.app, world[who])[0], "url": url},
                         {"name": "lang", "value": lang, "url": url}])
    return context


@pytest.mark.browser
def test_a_villages_handbooks_number_each_households_sheets_on_their_own(world, browser):
    from entrypoints.web.app import create_app
    from tests.web.conftest import serving
    one = household(world, 5, MEASURES[:1])
    two = household(world, 10, [(("industry", "employment", "education", "health")[i % 4],
                                 f"第 {i + 1} 项帮扶措施：{MEASURES[i % 4][1]}") for i in range(20)])
    three = household(world, 4, MEASURES[:2])
    with serving(create_app(world.app)) as url:
        for lang, foot in (("zh", "洋塘村扶贫手册·案件{}·本户第{}页"), ("en", "handbooks·case{}·thishousehold'spage{}")):
            context = signed_in(browser, world, url, lang)
            sheets = sheets_of(context.new_page(), f"{url}/villages/{VILLAGE}/handbooks")
            assert len(sheets) == 4, [s[-80:] for s in sheets]
            for sheet, (case, n) in zip(sheets, ((one, 1), (two, 1), (two, 2), (three, 1))):
                assert foot.format(case, n) in sheet, (lang, case, n, sheet[-120:])
                assert "共4页" not in sheet and "of4" not in sheet, (lang, sheet[-120:])     # not numbered through
            assert NAMES[0] in sheets[2]        # the second household's second sheet still says whose it is
            context.close()
