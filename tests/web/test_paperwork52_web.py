"""The application form and the appraisal result on the web (a7 #5): linked from the case page, read at
360 px, printed on A4 by a real Chromium and read back with pypdf, no type under 9 pt; the API gives the
same facts."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest

from tests.test_announcements52 import heads
from tests.web.test_print51 import on_paper, sheets_of, signed_in


@pytest.mark.browser
def test_the_application_form_and_appraisal_result_print_from_the_case_page(world, browser):
    from entrypoints.web.app import create_app
    from tests.web.conftest import serving
    cases = [world.household(), world.household()]
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", cases)
    world.step("vd", "identification", "appraisal", cases, attendance=40, votes_for=35, votes_against=2)
    first, second = heads(world, cases)
    with serving(create_app(world.app)) as url:
        for lang, form_words, result_words in (
                ("zh", ["贫困户申请书", "申请人", "签字或按手印", "申请日期:2019-01-10", "致贫原因因病"],
                 ["民主评议结果", "会议日期2019-03-01", f"1{first}240352通过", f"2{second}240352通过", "记录人签字"]),
                ("en", ["Applicationtoberegisteredasapoorhousehold", "signatureorthumbprint", "Causesofpovertyillness"],
                 ["Resultofthedemocraticappraisal", "Dateofthemeeting2019-03-01", f"1{first}240352Passed",
                  "Minutestakenby(signature)"])):
            context = signed_in(browser, world, url, lang)
            page = context.new_page()
            page.set_viewport_size({"width": 360, "height": 740})
            page.goto(f"{url}/cases/{cases[0]}")
            page.click("#application-form-link")
            page.wait_for_url(f"**/cases/{cases[0]}/application-form")      # the click's navigation, done
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.goto(f"{url}/cases/{cases[0]}")
            page.click("a[data-appraisal-print]")
            page.wait_for_url(f"**/cases/{cases[0]}/appraisal-result")
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            for path, words in (("application-form", form_words), ("appraisal-result", result_words)):
                sheets = sheets_of(page, f"{url}/cases/{cases[0]}/{path}")
                text = unicodedata.normalize("NFKC", "".join(sheets))
                assert len(sheets) == 1, (lang, path, len(sheets))
                for word in words:
                    assert unicodedata.normalize("NFKC", word) in text, (lang, path, word, text)
                assert not re.search(r"\d{15,}", text)
                _, smallest = on_paper(page, f"{url}/cases/{cases[0]}/{path}")
                assert smallest >= 8.99, (lang, path, smallest)
            context.close()


def test_the_api_gives_the_application_form_and_appraisal_result(world, world_clients):
    _page, client = world_clients
    case = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    api = client("vs")
    form = api.get(f"/api/v1/cases/{case}/application-form")
    assert form.status_code == 200 and form.json()["form"]["applied_on"] == "2019-01-10"
    assert form.json()["applied"]["date"] == "2019-03-01" and form.json()["causes"] == ["illness"]
    none = api.get(f"/api/v1/cases/{case}/appraisal-result")
    assert none.status_code == 400 and none.json()["error"] == "paperwork.not_appraised"
    world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
    result = api.get(f"/api/v1/cases/{case}/appraisal-result").json()
    assert [(h["id"], h["votes_for"], h["decision"]) for h in result["households"]] == [(case, 35, "approved")]
