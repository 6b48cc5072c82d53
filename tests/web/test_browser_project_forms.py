"""In a real browser on a phone (360 px): a township cadre records a fund project's change of
contractor from its case page (the new contract already added), the notice's form then shows the
contractor replaced and the new one, and the county office's monthly disbursement report form shows
the figures it files; every page fits the screen."""
from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from engine.services.accounts import open_session
from engine.services.case_actions import attach_evidence
from entrypoints.web.app import create_app
from tests.helpers.projects import pay
from tests.test_project_money_rules import funded
from tests.web.conftest import serving
from tests.world import scan_file


def on_a_phone(world, browser, url: str):
    """A phone's browser (360 px, zh-CN): its context, its page, and as_person(code, path), which opens
    `path` signed in as `code` and checks the page fits the screen."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", device_scale_factor=1)
    page = context.new_page()
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))

    def as_person(code: str, path: str):
        context.clear_cookies()
        context.add_cookies([{"name": "jz_session", "value": open_session(world.app, world[code])[0], "url": url}])
        page.goto(url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        return page
    return context, page, as_person


def started_with_reason(page, case: int, procedure: str, reason: str, expected: str) -> str:
    """From the case page: `procedure` opened from its other procedures, its first step sent with
    `reason`; what the page answers (once it says `expected`)."""
    page.click(f'#others a[href="/cases/{case}?procedure={procedure}"]')
    page.fill('#step-form [name="reason"]', reason)
    page.click("#step-form button.primary")
    # done: the case page drawn again, saying so at its top; refused: the refusal at the form
    answer = page.locator("#done, #step-result:has(.refusal)").first
    expect(answer).to_contain_text(expected)
    return answer.inner_text()


def test_a_change_of_contractor_and_a_monthly_report_on_a_phone(world, browser, tmp_path):
    case, _ = funded(world)
    pay(world, case, "90000", on=date(2019, 6, 1))
    world.on(date(2019, 7, 2))
    attach_evidence(world.app, world["ts1"], case, "new_contract",
                    {"contractor": "赣州市路桥公司", "credit_code": "91360700MA35G7RB38", "contract_no": "SG-2019-031", "signed_on": "2019-07-01",
                     "method": "公开招标", "contract_amount": "200000"}, scan_file(tmp_path / "contract.pdf", "施工合同"))
    with serving(create_app(world.app)) as url:
        context, page, as_person = on_a_phone(world, browser, url)
        as_person("ts1", f"/cases/{case}")
        said = started_with_reason(page, case, "contractor_change", "原施工单位合同解除", "更换申请（新合同）")
        assert "更换申请（新合同）" in said and "拒绝" not in said, said

        as_person("ts2", f"/cases/{case}")
        change = page.inner_text("#contractor-change")
        assert "宁都县农建公司" in change and "赣州市路桥公司" in change and "原施工单位合同解除" in change, change
        assert "300,000.00 元 → 200,000.00 元" in change, change        # the contract's amount, old -> new

        world.step("ts2", "contractor_change", "new_contractor_notice", case)
        world.on(date(2019, 7, 10))
        world.step("cd", "contractor_change", "contractor_change_approval", case, decision="approve")
        as_person("cs", f"/cases/{case}?procedure=disbursement_report")
        figures = page.inner_text("#report-figures")
        assert "本期支出（2019-04-16 至 2019-07-10）" in figures and "90,000.00" in figures, figures
        assert "300,000.00" in figures and "210,000.00" in figures, figures
        facts = page.inner_text("#project-facts")
        assert "赣州市路桥公司" in facts and "宁都县农建公司" in facts, facts
        assert "合同金额 200,000.00 元，已付（含质保金）0.00 元" in facts and "合同金额 300,000.00 元" in facts, facts
        context.close()
