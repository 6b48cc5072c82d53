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


# A browser's print button prints with its default margins (Chromium's: 0.4 in) unless the page sets its own
BUTTON_MARGINS = {side: "0.4in" for side in ("top", "right", "bottom", "left")}


def on_paper(page, url: str) -> tuple[int, float]:
    """The page at `url` printed on A4 as the print button does: its sheets, and its smallest type in pt as
    on the paper (read from the PDF: a page wider than the sheet is shrunk to fit it, type and all)."""
    page.goto(url)
    page.emulate_media(media="print")
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", prefer_css_page_size=True, margin=BUTTON_MARGINS)))
    sizes = []

    def seen(text, cm, tm, font, size):
        if text.strip():
            a, b = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
            sizes.append(size * (a * a + b * b) ** .5)
    for sheet in pdf.pages:
        sheet.extract_text(visitor_text=seen)
    page.emulate_media(media="screen")
    return len(pdf.pages), min(sizes)


@pytest.mark.browser
def test_the_exit_confirmation_visit_sheet_and_dossier_print_no_type_under_9pt_on_no_more_sheets(world, browser,
                                                                                                 tmp_path):
    """ID numbers and hashes too (they were 7 pt in a dossier's tables, and a dossier in English wider than the
    sheet was shrunk to 6 pt), on no more sheets than before the type grew."""
    from datetime import date
    from engine.services.sampling import draw
    from entrypoints.web.app import create_app
    from tests.test_accountability import cli
    from tests.web.conftest import serving
    from tests.world import COUNTY
    exited = household(world, 8, MEASURES, monitored_since=date(2020, 3, 2))
    assisted = world.household()
    world.identify(assisted)
    world.assist(assisted)
    world.exit_evidence(assisted, confirm=False, tmp=tmp_path)
    world.exit(assisted, through="verification")
    drawn = draw(world.app, world["cd"], COUNTY, 1, "2020-县考核", 2019)
    with serving(create_app(world.app)) as url:
        # the sheets before (the dossier's tables at 7 pt in Chinese; in English shrunk to 6 pt): 1, 1, 12 and 1, 1, 14
        for lang, before in (("zh", [1, 1, 12]), ("en", [1, 1, 14])):
            found = {}
            for who, path in (("pc1", f"/cases/{assisted}/exit-confirmation"),
                              ("insp", f"/inspect/samples/{drawn['id']}/sheet")):
                context = signed_in(browser, world, url, lang, who)
                found[path] = on_paper(context.new_page(), url + path)
                context.close()
            dossier = tmp_path / f"dossier-{lang}.html"
            assert cli(world, "insp", "trace", str(exited), "--html", str(dossier), lang=lang).code == 0
            page = browser.new_page()
            found["dossier"] = on_paper(page, dossier.as_uri())
            page.close()
            assert all(smallest >= 8.99 for _, smallest in found.values()), (lang, found)
            assert all(n <= most for (n, _), most in zip(found.values(), before)), (lang, found)
