"""A village cadre on a phone (360 px): finds a household waiting, attaches its income evidence with
a photo, records the application, and is refused the appraisal with the rule named in Chinese."""
from __future__ import annotations

import pytest

from engine.services.org import authenticate
from tests.world import id_number, photo as whole_photo
from workflows.household import MemberInput, register_household

pytestmark = pytest.mark.browser


def register_in_cadres_village(core, demo_home, name: str, first17: str) -> int:
    """A household of one head registered in the cadre's village by the cadre, waiting for its application."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    settings, _ = demo_home
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    actor = authenticate(core, "v01_secretary", tokens["v01_secretary"])
    with core.engine.connect() as conn:
        village = conn.execute(select(t.role_assignments.c.region_code).where(
            t.role_assignments.c.person_id == actor.person_id)).scalar()
    return register_household(core, actor, village, [MemberInput(name, id_number(first17), "head")],
                              ["lack_capital"], "general")


def applied_by_director(core, demo_home, name: str, first17: str) -> int:
    """A household of the cadre's village under the line whose application its director recorded: its
    appraisal is next, and the cadre (the village's secretary) may do it."""
    from engine.domain.cases import StepInput
    from engine.services.case_actions import attach_evidence
    from engine.services.procedures import perform_step
    settings, _ = demo_home
    case_id = register_in_cadres_village(core, demo_home, name, first17)
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    director = authenticate(core, "v01_director", tokens["v01_director"])
    today = core.clock.today()
    attach_evidence(core, director, case_id, "application", {"applicant": name, "applied_on": today.isoformat()})
    attach_evidence(core, director, case_id, "income_check", {"year": today.year - 1, "net_income": 1500})
    perform_step(core, director, "identification", "application", [case_id], StepInput())
    return case_id


@pytest.fixture
def new_household(core, demo_home):
    return register_in_cadres_village(core, demo_home, "测试户主", "36073019690101123")


def test_cadre_on_a_phone_attaches_income_and_is_refused_the_appraisal(phone, demo_home, new_household, tmp_path):
    _, sign_ins = demo_home
    photo = tmp_path / "收支核查表.jpg"
    photo.write_bytes(whole_photo("a phone camera photo"))
    phone.sign_in(*sign_ins["cadre"])
    page = phone.page
    assert page.url.endswith("/work")
    page.click(f"li[data-case='{new_household}'] a")
    page.wait_for_load_state("networkidle")
    assert "测试户主" in page.inner_text("body")

    income = page.locator("form.evidence-form[data-type=income_check]")
    income.locator("input[name=f_year]").fill("2020")
    income.locator("input[name=f_net_income]").fill("9000")
    income.locator("input[type=file]").set_input_files(str(photo))
    income.locator("button").click()
    page.wait_for_selector("text=已保存")
    application = page.locator("form.evidence-form[data-type=application]")
    application.locator("input[name=f_applicant]").fill("测试户主")
    application.locator("input[name=f_applied_on]").fill("2020-10-20")
    application.locator("button").click()
    page.wait_for_selector("form.evidence-form[data-type=application] + .evidence-result .done")
    phone.shot("cadre-evidence-phone")

    # no reload: the step form follows the evidence just added (it had said the case was changed by another),
    # and still sends the case's version (the new version's field had lost its tie to the step form)
    assert page.evaluate("new FormData(document.getElementById('step-form')).get('version')") is not None
    page.click("#step-form button.primary")
    page.wait_for_selector("#done[data-outcome]")
    page.reload()
    assert "民主评议" in page.locator("#next").inner_text()
    # refused whoever votes how (she applied: separation of duties): said, and no form to be refused by again
    refusal = page.locator("#next .refusal", has_text="尚不能办理").inner_text()
    assert "不低于标准线" in refusal                       # the identification standard, in Chinese
    assert "职责分离" in refusal                           # and every other unmet rule with it
    assert page.locator("#step-form").count() == 0 and "刷新本页即可办理" in page.inner_text("#step-closed")
    phone.shot("cadre-refused-phone")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360


def test_cadre_on_a_phone_records_an_appraisal_with_a_photo_of_its_minutes(phone, core, demo_home, tmp_path):
    """The village's secretary, on a phone, records the meeting's vote on a household its director
    applied for, with the signed minutes photographed: the household keeps the photo as its evidence."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    _, sign_ins = demo_home
    case_id = applied_by_director(core, demo_home, "评议户主", "36073019710404123")
    photo = tmp_path / "IMG_评议会议记录.jpg"
    photo.write_bytes(whole_photo("a phone camera photo of the signed minutes"))
    phone.sign_in(*sign_ins["cadre"])
    page = phone.go(f"/cases/{case_id}")
    assert "民主评议" in page.locator("#next").inner_text()
    minutes = page.locator("#step-form input[name=minutes]")
    assert minutes.get_attribute("accept") == "image/*,application/pdf"
    page.fill("#step-form input[name=attendance]", "30")
    page.fill("#step-form input[name=votes_for]", "28")
    page.fill("#step-form input[name=votes_against]", "2")
    minutes.set_input_files(str(photo))
    page.click("#step-form button.primary")
    page.wait_for_selector("#done[data-outcome]")
    phone.shot("cadre-appraisal-minutes-phone")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    with core.engine.connect() as conn:
        kept = conn.execute(select(t.evidence.c.file_name).where(
            t.evidence.c.case_id == case_id, t.evidence.c.type == "appraisal_minutes")).scalars().all()
    assert kept == ["IMG_评议会议记录.jpg"]


def test_cadre_on_a_phone_replaces_last_years_income_with_a_reason(phone, core, demo_home):
    """The household holds an income check already: its form asks why it is replaced, and replaces it."""
    _, sign_ins = demo_home
    case_id = register_in_cadres_village(core, demo_home, "换表户主", "36073019700202123")
    phone.sign_in(*sign_ins["cadre"])
    page = phone.go(f"/cases/{case_id}")
    income = page.locator("form.evidence-form[data-type=income_check]")
    if income.locator("input[name=reason]").count() == 0:       # none yet: attach the first one
        income.locator("input[name=f_year]").fill("2019")
        income.locator("input[name=f_net_income]").fill("8000")
        income.locator("button").click()
        page.wait_for_selector("form.evidence-form[data-type=income_check] + .evidence-result .done")
        page.reload()
        income = page.locator("form.evidence-form[data-type=income_check]")
    assert income.locator("input[name=reason]").count() == 1 and "即作为新一年的记录保存" in income.inner_text()
    income.locator("input[name=f_year]").fill("2020")
    income.locator("input[name=f_net_income]").fill("9500")
    income.locator("input[name=reason]").fill("2020 年度收入核算")
    income.locator("button").click()
    page.wait_for_selector("form.evidence-form[data-type=income_check] + .evidence-result .done")
    phone.shot("cadre-evidence-replaced-phone")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360


def test_a_double_tap_on_a_phone_saves_once_and_keeps_the_success_on_screen(phone, core, demo_home):
    """A slow link: a second tap while the first is on its way is dropped. The application evidence
    is saved once and its form emptied; the step is done once and its success stays (it was replaced
    by "the next step has moved"); a corrected name saved again changes nothing."""
    from sqlalchemy import func, select
    from engine.adapters import tables as t
    _, sign_ins = demo_home
    case_id = register_in_cadres_village(core, demo_home, "双击户主", "36073019700303123")
    phone.sign_in(*sign_ins["cadre"])
    page = phone.go(f"/cases/{case_id}")

    def count(table, **where) -> int:
        with core.engine.connect() as conn:
            q = select(func.count()).select_from(table).where(table.c.case_id == case_id)
            for k, v in where.items():
                q = q.where(table.c[k] == v)
            return conn.execute(q).scalar()

    before = count(t.evidence, type="application")
    application = page.locator("form.evidence-form[data-type=application]")
    application.locator("input[name=f_applicant]").fill("双击户主之妻")
    application.locator("input[name=f_applied_on]").fill("2020-10-20")
    application.locator("button").dblclick()
    page.wait_for_selector("form.evidence-form[data-type=application] + .evidence-result .done")
    page.wait_for_timeout(500)
    assert count(t.evidence, type="application") == before + 1
    # reset to what the page drew (the registered head's name), not what was typed: not sent again
    applicant = application.locator("input[name=f_applicant]")
    assert applicant.input_value() == (applicant.get_attribute("value") or "")

    income = page.locator("form.evidence-form[data-type=income_check]")
    income.locator("input[name=f_year]").fill("2020")
    income.locator("input[name=f_net_income]").fill("9000")
    income.locator("button").click()
    page.wait_for_selector("form.evidence-form[data-type=income_check] + .evidence-result .done")
    page.reload()
    shown = page.inner_text("body")          # figures as people write them; a year as it is
    assert "9,000" in shown and "9000.0" not in shown and "2,020" not in shown
    page.locator("#step-form button.primary").dblclick()
    page.wait_for_selector("#done[data-outcome]")
    page.wait_for_timeout(500)
    # the case page as the step left it: its next step (民主评议), no refusal of a second sending
    assert "已经变了" not in page.inner_text("main") and "民主评议" in page.inner_text("#next")
    assert count(t.steps) == 1

    page.locator("#update-members").evaluate("d => d.open = true")
    member = page.locator("#update-members details.member-form").first
    member.locator("summary").click()
    form = member.locator("form")
    form.locator('input[name="m_name"]').fill("双击户王")
    form.locator('input[name="reason"]').fill("按户口簿更正")
    form.locator("button").click()
    page.wait_for_selector("#done >> text=已更新：姓名")      # the page drawn again: the name as it now is
    assert "双击户王" in page.inner_text("section table.cards")
    page.locator("#update-members").evaluate("d => d.open = true")
    member.locator("summary").click()
    expect_text = member.locator(".member-result")
    phone.expect_status(400)
    form.locator('input[name="reason"]').fill("按户口簿更正")
    form.locator("button").click()
    page.wait_for_function("el => el.innerText.includes('没有改动')", arg=expect_text.element_handle())
    assert count(t.audit_events, action="member_updated") == 1
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360


def test_my_work_on_a_phone_shows_only_what_i_can_do_now(phone, core, demo_home):
    """A cadre's work mixes cases that can be done with cases a rule blocks (here: one household with
    its application and income evidence, one without): one tick leaves only the first; each case
    opens from its whole title line."""
    from engine.services.case_actions import attach_evidence
    settings, sign_ins = demo_home
    ready = register_in_cadres_village(core, demo_home, "可办户主", "36073019700505123")
    blocked_case = register_in_cadres_village(core, demo_home, "缺材料户主", "36073019700606123")
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    actor = authenticate(core, "v01_secretary", tokens["v01_secretary"])
    attach_evidence(core, actor, ready, "application", {"applicant": "可办户主", "applied_on": core.clock.today().isoformat()})
    attach_evidence(core, actor, ready, "income_check", {"year": core.clock.today().year, "net_income": 9000})
    phone.sign_in(*sign_ins["cadre"])
    page = phone.page
    mine, theirs = page.locator(f"li[data-case='{ready}']"), page.locator(f"li[data-case='{blocked_case}']")
    mine.scroll_into_view_if_needed()
    page.wait_for_selector(f"li[data-case='{ready}'][data-ready='1']")
    theirs.scroll_into_view_if_needed()
    page.wait_for_selector(f"li[data-case='{blocked_case}'][data-ready='0']")
    page.check("#ready-only")
    assert mine.is_visible() and not theirs.is_visible()
    link = mine.locator("a.open").bounding_box()
    assert link["height"] >= 40 and link["width"] >= 300        # a thumb's target, not a name's width
    page.uncheck("#ready-only")
    assert theirs.is_visible()


def test_a_refused_form_keeps_what_was_typed_and_can_be_sent_again(phone, core, demo_home):
    """A refusal is no success: the evidence form keeps its values (it was emptied), the step's button
    works again (it stayed disabled until the page was reloaded)."""
    _, sign_ins = demo_home
    case_id = register_in_cadres_village(core, demo_home, "拒后户主", "36073019700707123")
    phone.sign_in(*sign_ins["cadre"])
    page = phone.go(f"/cases/{case_id}")
    income = page.locator("form.evidence-form[data-type=income_check]")
    income.locator("input[name=f_year]").fill("20l9")
    income.locator("input[name=f_net_income]").fill("9000")
    phone.expect_status(400)
    income.locator("button").click()
    page.wait_for_selector("form.evidence-form[data-type=income_check] + .evidence-result .refusal, "
                           "form.evidence-form[data-type=income_check] + .evidence-result [role=alert]")
    assert income.locator("input[name=f_year]").input_value() == "20l9"
    assert income.locator("input[name=f_net_income]").input_value() == "9000"
    assert income.locator("button").is_enabled()
    phone.expect_status(409)
    page.click("#step-form button.primary")
    page.wait_for_selector("#step-result .refusal")
    assert page.locator("#step-form button.primary").is_enabled()


def test_after_a_save_the_evidence_form_is_the_one_to_replace_it_without_a_reload(phone, core, demo_home):
    """A typo seen right after saving: the form on screen asks for the replacement's reason at once (it
    had stayed a form to add, refused with 「请以替换方式提交」 and no field for the reason)."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    _, sign_ins = demo_home
    case_id = register_in_cadres_village(core, demo_home, "更正户主", "36073019740606123")
    phone.sign_in(*sign_ins["cadre"])
    page = phone.go(f"/cases/{case_id}")
    page.locator("#add-evidence > details > summary").click()          # other types (the step asks for none)
    water = page.locator("form.evidence-form[data-type=drinking_water]")
    assert water.locator("input[name=reason]").count() == 0
    water.locator("input[name=f_safe][value=no]").check()
    water.locator("button").click()
    page.wait_for_selector("form.evidence-form[data-type=drinking_water] + .evidence-result .done")
    water = page.locator("form.evidence-form[data-type=drinking_water]")
    assert water.locator("input[name=reason]").count() == 1 and "将替换它" in water.inner_text()
    water.locator("input[name=f_safe][value=yes]").check()
    water.locator("input[name=reason]").fill("选错了：饮水安全")
    # the first save's 已保存 is still on screen: wait for the second save's answer itself, then its swap
    with page.expect_response(lambda r: r.request.method == "POST" and "evidence" in r.url) as answered:
        water.locator("button").click()
    assert answered.value.ok
    page.wait_for_selector("form.evidence-form[data-type=drinking_water] + .evidence-result .done >> text=已保存")
    with core.engine.connect() as conn:
        kept = conn.execute(select(t.evidence.c.fields, t.evidence.c.supersede_reason).where(
            t.evidence.c.case_id == case_id, t.evidence.c.type == "drinking_water").order_by(t.evidence.c.id)).all()
    assert [k.fields["safe"] for k in kept] == [False, True] and kept[0].supersede_reason == "选错了：饮水安全"


def test_a_members_schooling_not_recorded_is_said_so_and_recorded_on_a_phone(phone, core, demo_home):
    """A member registered without their schooling (a list's blank 在校生状况): the members' table says
    未登记, not 非在校; the member's form offers 未登记 until a status is chosen, and choosing one records it."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    _, sign_ins = demo_home
    case_id = register_in_cadres_village(core, demo_home, "在校户主", "36073019710909491")
    phone.sign_in(*sign_ins["cadre"])
    page = phone.go(f"/cases/{case_id}")
    cell = page.locator("td.school").first
    assert cell.inner_text().strip() == "未登记" and "非在校" not in page.inner_text("table.cards")
    page.locator("#update-members").evaluate("d => d.open = true")
    member = page.locator("#update-members details.member-form").first
    member.locator("summary").click()
    form = member.locator("form")
    school = form.locator('select[name="m_school_enrolment"]')
    assert school.evaluate("s => s.options[s.selectedIndex].text") == "未登记"
    school.select_option("enrolled")
    form.locator('input[name="reason"]').fill("核实在校")
    form.locator("button").click()
    page.wait_for_selector("#done >> text=已更新：在校情况")
    with core.engine.connect() as conn:
        assert conn.execute(select(t.household_members.c.school_enrolment).where(
            t.household_members.c.case_id == case_id)).scalar() == "enrolled"
    page.reload()
    assert page.locator("td.school").first.inner_text().strip() == "在校生"
