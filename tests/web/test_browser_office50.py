"""In a real browser on a phone (360 px), in English and in Chinese: the deputy director's /work shows the
office's wrong exit waiting to be registered with whose it is, and the English notice page shows the
notice's English wording and, below it, the text posted on the board; every page fits the screen."""
from __future__ import annotations

from engine.services.accounts import open_session
from entrypoints.web.app import create_app
from tests.web.conftest import serving
from tests.web.test_notice_language50 import funding_notice
from tests.web.test_office_waits50 import OWNER, waiting_with_a_colleague


def test_the_office_s_wait_and_an_english_notice_on_a_phone(world, browser):
    case, _draw = waiting_with_a_colleague(world)
    notice, _posted = funding_notice(world)
    with serving(create_app(world.app)) as url:
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                      locale="zh-CN", device_scale_factor=1)
        page = context.new_page()
        page.route("**/favicon.ico", lambda route: route.fulfill(status=204))

        def as_person(code: str, path: str, lang: str):
            context.clear_cookies()
            context.add_cookies([{"name": "jz_session", "value": open_session(world.app, world[code])[0], "url": url},
                                 {"name": "lang", "value": lang, "url": url}])
            page.goto(url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, (path, lang)
            return page

        for lang, whose in (("zh", f"责任人：{OWNER}（县扶贫办主任），我也可登记"), ("en", f"{OWNER}'s (")):
            as_person("cd2", "/work", lang)
            line = page.inner_text(f'#sample-waits li[data-case="{case}"]')
            assert whose in line, line
        as_person("insp", f"/notices/{notice}", "en")
        words, posted = page.locator("#notice-text"), page.locator("#notice-posted")
        assert "Funds allocated: county budget 200,000.00 yuan" in words.inner_text()
        assert posted.is_visible() and "资金合计：300,000.00 元" in posted.inner_text()
        assert "The text posted on the board, in Chinese" in posted.inner_text()
        context.close()
