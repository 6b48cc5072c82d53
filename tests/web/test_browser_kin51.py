"""In a real browser on a phone (360 px): a township cadre records on the case page that a colleague is
the household's niece, choosing the kinship from the list (there was no such form: the CLI alone, with
the relation typed), and the English case page then says "niece"; the page fits the screen."""
from __future__ import annotations

from engine.services.accounts import open_session
from entrypoints.web.app import create_app
from tests.web.conftest import serving
from tests.web.test_kin51 import relatives_of, signed_by_ts1


def test_a_cadre_records_a_relative_on_a_phone_and_the_english_page_says_niece(world, browser, tmp_path):
    case = signed_by_ts1(world, tmp_path)
    with serving(create_app(world.app)) as url:
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                      locale="zh-CN", device_scale_factor=1)
        page = context.new_page()
        page.route("**/favicon.ico", lambda route: route.fulfill(status=204))

        def as_person(code: str, lang: str):
            context.clear_cookies()
            context.add_cookies([{"name": "jz_session", "value": open_session(world.app, world[code])[0], "url": url},
                                 {"name": "lang", "value": lang, "url": url}])
            page.goto(f"{url}/cases/{case}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, lang

        as_person("ts2", "zh")
        page.click("#add-relative summary")
        page.fill("#relative-form input[name=person]", "ts1")
        page.select_option("#relative-form select[name=relation]", label="侄女或外甥女")
        page.fill("#relative-form textarea[name=reason]", "督查中查明")
        page.click("#relative-form button")
        page.wait_for_selector("#done")
        assert "已登记 ts1 为亲属（侄女或外甥女）" in page.inner_text("#done")
        assert relatives_of(world, case) == [("ts1", "niece")]
        as_person("ts2", "en")
        assert "(ts1) · niece" in page.inner_text("#relatives")
        context.close()
