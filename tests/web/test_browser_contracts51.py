"""In a real browser on a phone (360 px): the county office director withdraws a project's completion
under way from its case page (撤回竣工验收), so that a supplementary contract can be signed; a reason left
blank is refused where the form is; the township's page then offers the supplementary contract; it fits the screen."""
from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from entrypoints.web.app import create_app
from tests.test_contracts50 import contracted
from tests.web.conftest import serving
from tests.web.test_browser_project_forms import on_a_phone


def test_a_completion_withdrawn_on_a_phone(world, browser):
    case, _ = contracted(world, paid=date(2019, 5, 20))
    for day, milestone in ((date(2019, 6, 30), "基础完工"), (date(2019, 9, 30), "主体完工"), (date(2019, 10, 30), "竣工")):
        world.on(day)
        world.step("ts3", "milestone", "milestone", case, milestone=milestone)
    world.on(date(2019, 11, 1))
    world.step("ts1", "completion", "initial_acceptance", case, decision="approve")
    with serving(create_app(world.app)) as url:
        context, page, as_person = on_a_phone(world, browser, url)
        as_person("cd", f"/cases/{case}")
        page.click("#withdraw-completion summary")
        form = "#withdraw-completion-form"
        page.fill(f'{form} [name="reason"]', "验收发现需追加排水沟，签订补充合同")
        page.click(f"{form} button")
        expect(page.locator("#done")).to_contain_text(f"已撤回项目 {case} 的竣工验收")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        as_person("cd", f"/cases/{case}")
        assert page.locator("#withdraw-completion").count() == 0
        as_person("ts1", f"/cases/{case}")                  # the township, who records a supplementary contract
        assert page.locator(f'a[href="/cases/{case}?procedure=supplementary_contract"]').count() >= 1
        context.close()
