"""A village cadre on a phone whose page has no script (JavaScript off, or htmx lost on a weak signal):
the case page's forms still post, with their files, and the page that comes back says what was saved or
why not, with what was typed kept; nothing goes into the address."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from tests.web.conftest import Tab
from tests.web.test_browser_cadre import register_in_cadres_village
from tests.world import photo as whole_photo

pytestmark = pytest.mark.browser


@pytest.fixture
def scriptless_phone(browser, live_server):
    """A 360 x 740 phone with JavaScript off."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", device_scale_factor=1, java_script_enabled=False)
    tab = Tab(context.new_page(), live_server)
    yield tab
    context.close()
    assert tab.errors == [], f"console errors: {tab.errors}"


def _evidence(core, case_id: int) -> dict[str, str | None]:
    with core.engine.connect() as conn:
        return dict(conn.execute(select(t.evidence.c.type, t.evidence.c.file_name)
                                 .where(t.evidence.c.case_id == case_id)).all())


def test_without_script_evidence_with_a_file_and_a_step_are_saved_and_said(scriptless_phone, core, demo_home,
                                                                           tmp_path):
    _, sign_ins = demo_home
    case_id = register_in_cadres_village(core, demo_home, "无脚本户主", "36073019720303123")
    photo = tmp_path / "收支核查表.jpg"
    photo.write_bytes(whole_photo("a phone camera photo"))
    phone = scriptless_phone
    phone.sign_in(*sign_ins["cadre"])
    page = phone.go(f"/cases/{case_id}")

    income = page.locator("form.evidence-form[data-type=income_check]")
    income.locator("input[name=f_year]").fill("2020")
    income.locator("input[name=f_net_income]").fill("9000")
    income.locator("input[type=file]").set_input_files(str(photo))
    income.locator("button").click()
    page.wait_for_load_state()
    assert page.url == f"{phone.base}/cases/{case_id}#done"       # no form data, no token in the address
    assert "已保存" in page.locator("#done").inner_text()
    assert _evidence(core, case_id)["income_check"] == "收支核查表.jpg"
    # the form is now the one for what exists: a correction replaces it, with its reason
    assert page.locator("form.evidence-form[data-type=income_check] input[name=reason]").count() == 1
    phone.shot("no-script-evidence-saved")

    application = page.locator("form.evidence-form[data-type=application]")
    application.locator("input[name=f_applied_on]").fill("2020-10-20")
    application.locator("button").click()
    page.wait_for_load_state()
    assert "application" in _evidence(core, case_id)

    page.click("#step-form button.primary")
    page.wait_for_load_state()
    assert page.url == f"{phone.base}/cases/{case_id}#done"
    assert "已办理" in page.locator("#done").inner_text()
    with core.engine.connect() as conn:
        steps = conn.execute(select(t.steps.c.step_key).join(t.procedures, t.procedures.c.id == t.steps.c.procedure_id)
                             .where(t.procedures.c.case_id == case_id)).scalars().all()
    assert "application" in steps


def _applied_over_the_line(core, demo_home) -> int:
    """A household of the cadre's village whose application its director recorded, its income over the
    line: the appraisal is the cadre's to record, and the identification standard refuses it."""
    from engine.domain.cases import StepInput
    from engine.services.case_actions import attach_evidence
    from engine.services.org import authenticate
    from engine.services.procedures import perform_step
    settings, _ = demo_home
    case_id = register_in_cadres_village(core, demo_home, "无脚本评议户", "36073019730505123")
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    director = authenticate(core, "v01_director", tokens["v01_director"])
    today = core.clock.today()
    attach_evidence(core, director, case_id, "application",
                    {"applicant": "无脚本评议户", "applied_on": today.isoformat()})
    attach_evidence(core, director, case_id, "income_check", {"year": today.year - 1, "net_income": 90000})
    perform_step(core, director, "identification", "application", [case_id], StepInput())
    return case_id


def test_without_script_a_refused_step_is_said_on_the_case_page_with_what_was_typed(scriptless_phone, core,
                                                                                    demo_home, tmp_path):
    _, sign_ins = demo_home
    case_id = _applied_over_the_line(core, demo_home)
    minutes = tmp_path / "评议会议记录.jpg"
    minutes.write_bytes(whole_photo("a photo of the signed minutes"))
    phone = scriptless_phone
    phone.sign_in(*sign_ins["cadre"])
    page = phone.go(f"/cases/{case_id}")
    page.fill("#step-form input[name=attendance]", "30")
    page.fill("#step-form input[name=votes_for]", "28")
    page.fill("#step-form input[name=votes_against]", "2")
    page.set_input_files("#step-form input[name=minutes]", str(minutes))
    phone.expect_status(409)
    page.click("#step-form button.primary")
    page.wait_for_load_state()
    assert page.url == f"{phone.base}/cases/{case_id}/step"
    assert "原因见下方" in page.locator("#refused-below").inner_text()
    refusal = page.locator("#step-result .refusal").inner_text()
    assert "不低于标准线" in refusal and "重新选择" in page.locator("#step-result").inner_text()
    assert page.input_value("#step-form input[name=attendance]") == "30"     # what was typed, kept
    assert page.input_value("#step-form input[name=votes_for]") == "28"
    phone.shot("no-script-step-refused")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
