"""In a real browser on a phone (360 px): a township cadre records a supplementary contract (补充合同) from
the project's case page; a wrong amount (the part added, not the whole) is refused in words where the
form is; the notice's form then shows the contract's amount old → new, what it adds and why, never a
change of contractor; once confirmed, the project's facts list it; every page fits the screen."""
from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from engine.services.case_actions import attach_evidence
from entrypoints.web.app import create_app
from tests.test_contracts50 import contracted
from tests.web.conftest import serving
from tests.web.test_browser_project_forms import on_a_phone, started_with_reason
from tests.world import scan_file


def test_a_supplementary_contract_on_a_phone(world, browser, tmp_path):
    case, _ = contracted(world, paid=date(2019, 5, 20))      # 300,000 allocated, a contract of 200,000
    world.on(date(2019, 6, 10))
    scan = scan_file(tmp_path / "supplement.pdf", "补充合同")
    attach_evidence(world.app, world["ts1"], case, "supplementary_contract",
                    {"contract_no": "BC-2019-007", "signed_on": "2019-06-08", "contract_amount": "60000"}, scan)
    with serving(create_app(world.app)) as url:
        context, page, as_person = on_a_phone(world, browser, url)
        as_person("ts1", f"/cases/{case}")
        said = started_with_reason(page, case, "supplementary_contract", "追加果园灌溉管网", "不高于")
        assert "补充合同后的合同金额 60,000.00 元不高于" in said and "总金额" in said, said
        # the supplementary contract corrected from the page's own form (its whole amount, the scan, why)
        as_person("ts1", f"/cases/{case}?procedure=supplementary_contract")
        form = '#ev-supplementary_contract'
        page.fill(f'{form} [name="f_contract_amount"]', "260000")
        page.fill(f'{form} [name="f_contract_no"]', "BC-2019-007")
        page.fill(f'{form} [name="f_signed_on"]', "2019-06-08")
        page.set_input_files(f'{form} [name="file"]', str(scan))
        page.fill(f'{form} [name="reason"]', "金额录成了追加部分")
        page.click(f'{form} button')
        page.wait_for_selector("form.evidence-form[data-type=supplementary_contract] + .evidence-result .done")
        page.fill('#step-form [name="reason"]', "追加果园灌溉管网")
        page.click("#step-form button.primary")
        expect(page.locator("#done")).to_contain_text("补充合同登记")
        assert "拒绝" not in page.inner_text("#done")

        as_person("ts2", f"/cases/{case}")
        shown = page.inner_text("#supplementary-contract")
        assert "200,000.00 元 → 260,000.00 元" in shown and "60,000.00 元" in shown, shown
        assert "追加果园灌溉管网" in shown and "更换" not in shown, shown
        world.step("ts2", "supplementary_contract", "supplementary_contract_notice", case)
        world.on(date(2019, 6, 20))
        world.step("cd", "supplementary_contract", "supplementary_contract_approval", case, decision="approve")
        as_person("insp", f"/cases/{case}")
        facts = page.inner_text("#project-facts")
        assert "合同金额 260,000.00 元，已付（含质保金）150,000.00 元" in facts, facts
        assert "补充合同 BC-2019-007" in facts and "200,000.00 元 → 260,000.00 元" in facts, facts
        context.close()
