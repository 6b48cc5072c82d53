"""In a real browser: a township cadre signs off a village's list of 20 households in one action
and sees 18 done and 2 refused, each with its reason in Chinese.

The demo county has no list of 20 waiting at a township step, so the test prepares one through the
services, as the village's cadres would: 20 households registered in 洋塘村 with their application
and income check, appraised, verified and put on the first notice (dated back so that the notice
has run its 7 days); for two of them the list is not ready: a villager's objection to one is still
open, and the other's notice was posted only yesterday."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.web.bulk_world import VILLAGE, actor, core, demo_home, live_server, township_list, web  # noqa: F401


def test_a_township_cadre_signs_off_a_village_list_of_20_and_sees_18_done_2_refused(desktop, core, demo_home):
    prepared = township_list(core, 20)
    code, password = demo_home[1]["township"]
    assert code == "t1_staff1"
    page = desktop.page
    # The pages name no icon, so Chromium asks for /favicon.ico and logs its 404 as a console error.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    desktop.sign_in(code, password)
    page.click("#village-lists")
    page.click(f'tr[data-village="{VILLAGE}"] a >> nth=0')
    page.click('tr[data-procedure="identification"][data-step="township_review"] a')
    page.wait_for_selector("#bulk-form")
    assert page.locator('#bulk-form input[name="case"]').count() == 20
    expect(page.locator(".needs .hint")).to_have_count(0)          # what each household needs, loaded
    expect(page.locator(f'tr[data-case="{prepared.objected}"] .needs')).to_contain_text("异议")
    page.click("#select-all")
    assert page.locator('#bulk-form input[name="case"]:checked').count() == 20
    assert not page.is_checked('input[name="decision"][value="approve"]')      # the signer chooses (a12 #3)
    page.check('input[name="decision"][value="approve"]')
    page.click("#bulk-form button.primary")
    summary = page.wait_for_selector("#bulk-summary")
    assert summary.inner_text().strip() == "18 户已办理，2 户被拒绝"
    assert page.locator('#bulk-result li[data-result="done"]').count() == 18
    # each reason once, the households it refused under it
    objected = page.inner_text(f'section.list-group:has(li[data-case="{prepared.objected}"])')
    running = page.inner_text(f'section.list-group:has(li[data-case="{prepared.running}"])')
    assert "1 户未办理" in objected and "未处理的异议" in objected and "村民代表 李某" not in objected
    assert "1 户未办理" in running and "公示期未满" in running
    # the households done leave the form (unticked, closed, said done); the refused stay ticked, marked
    assert page.locator('#bulk-form input[name="case"]:checked').count() == 2
    assert page.locator('#bulk-form input[name="case"]:disabled').count() == 18
    assert page.locator("#bulk-form tr.row-refused").count() == 2 and not page.is_checked("#select-all")
    expect(page.locator(f'#bulk-form tr[data-case="{prepared.ready[0]}"] .needs')).to_contain_text("已办理")
    assert page.evaluate("document.getElementById('bulk-summary').getBoundingClientRect().top") < 800   # in view
    desktop.shot("township-list")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_a_village_cadre_on_a_phone_fills_an_evidence_sheet_and_enters_an_objection(phone, core, demo_home):
    prepared = township_list(core, 3, not_ready=False)
    code, password = demo_home[1]["cadre"]
    page = phone.page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    phone.sign_in(code, password)
    page.click("#village-lists")
    assert _fits(page)
    page.click(f'tr[data-village="{VILLAGE}"] a >> nth=1')
    page.click("#sheet-types a >> text=饮水安全核查")
    page.wait_for_selector("#sheet-form")
    assert _fits(page)
    first, second = prepared.ready[:2]
    for case in (first, second):                      # each household's line opens its fields
        page.click(f'tr[data-case="{case}"] .fold-act')
    page.select_option(f'select[name="f_{first}_safe"]', "yes")
    page.select_option(f'select[name="f_{second}_safe"]', "no")
    page.click("#sheet-form button.primary")
    expect(page.locator("#sheet-summary")).to_contain_text("已保存 2 户的材料")
    assert page.evaluate("Math.abs(document.getElementById('sheet-summary').getBoundingClientRect().top)") < 740
    assert page.locator(f'select[name="f_{first}_safe"]').is_disabled()       # saved: not sent again
    assert _fits(page)
    phone.shot("village-sheet-phone")
    phone.go(f"/cases/{first}")
    notice = page.locator('a[href^="/notices/"]').first.get_attribute("href")
    phone.go(notice)
    expect(page.locator("#notice-text")).to_contain_text("公示")
    assert _fits(page)
    page.click("#objection-entry summary")
    page.select_option('#objection-entry select[name="case"]', str(first))
    page.fill('#objection-entry input[name="objector"]', "村民 王某")
    page.fill('#objection-entry textarea[name="content"]', "该户子女在外务工收入较高")
    start = page.inner_text("#notice-facts dd >> nth=1").split("–")[0].strip()
    page.fill('#objection-entry input[name="filed_on"]', start)
    page.click("#objection-entry button.primary")
    expect(page.locator("#objection-result")).to_contain_text("已登记异议")
    expect(page.locator('#objections li[data-state="open"]')).to_contain_text("该户子女在外务工收入较高")
    assert _fits(page)
    phone.shot("notice-objection-phone")


def test_a_village_cadre_on_a_phone_records_a_members_insurance_on_the_case_page(phone, core, demo_home):
    """Registered without insurance (not recorded), a member is marked and the form is open; the
    cadre records it on a phone, and the case shows it."""
    case = township_list(core, 1, not_ready=False).ready[0]
    code, password = demo_home[1]["cadre"]
    page = phone.page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    phone.sign_in(code, password)
    phone.go(f"/cases/{case}")
    expect(page.locator("#update-members")).to_have_attribute("open", "")
    member = page.locator("#update-members details.member-form").first
    expect(member.locator("summary")).to_contain_text("参保未登记")
    member.locator("summary").click()
    form = member.locator("form")
    form.locator('select[name="m_insured_basic"]').select_option("yes")
    form.locator('select[name="m_insured_critical"]').select_option("no")
    form.locator('input[name="reason"]').fill("核实参保凭证")
    form.locator("button").click()
    expect(page.locator("#done")).to_contain_text("已更新：基本医疗保险、大病保险")
    assert _fits(page)
    phone.shot("member-insurance-phone")
    phone.go(f"/cases/{case}")
    expect(page.locator("section table.cards tbody tr").first).to_contain_text("是 / 否")


def test_a_long_village_list_says_what_every_household_needs_as_it_is_scrolled(desktop, core, demo_home):
    """Past the 30th household each row loads what it needs when scrolled into view: none stays '…'
    (rows revealed together were dropped as a second request of the list's form)."""
    township_list(core, 36, not_ready=False)
    code, password = demo_home[1]["township"]
    page = desktop.page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    desktop.sign_in(code, password)
    desktop.go(f"/villages/{VILLAGE}/list?kind=household&procedure=identification&step=township_review")
    rows = page.locator("#bulk-form tr[data-case]")
    assert rows.count() >= 36
    for _ in range(300):          # as a thumb scrolls: every row rests on the screen a moment
        page.mouse.wheel(0, 300)      # (htmx looks at the screen on scroll events, a few a second)
        page.wait_for_timeout(250)
        if page.evaluate("window.innerHeight + window.scrollY >= document.body.scrollHeight - 2"):
            break
    expect(page.locator("#bulk-form .needs > span.hint")).to_have_count(0, timeout=15000)   # "…" still


def test_a_list_refused_for_one_reason_on_a_phone_says_it_once_above_its_households_folded(phone, core, demo_home):
    """A list sent from a page opened before another cadre signed it (a second tab): each of its 30
    households refused for the one reason, said once with the count, the households folded under it;
    the answer a screen tall at 360 px, where a card a household had made it a page a household."""
    from engine.domain.cases import StepInput
    from engine.services.list_steps import perform_list_step
    from sqlalchemy import func, select
    from engine.adapters import tables as t
    prepared = township_list(core, 30, not_ready=False)
    code = demo_home[1]["township"][0]
    c = t.cases.c
    with core.engine.connect() as conn:         # the page that starts with them (the village's list: 50 a page)
        before = conn.execute(select(func.max(c.id)).where(
            c.region_code == VILLAGE, c.pending_procedure == "identification", c.pending_step == "township_review",
            c.id < min(prepared.ready))).scalar()
    page = _review_list(phone, demo_home, VILLAGE, before)
    done = perform_list_step(core, actor(core, code), "identification", "township_review", prepared.ready,
                             StepInput(decision="approve", date=core.clock.today()))
    assert len(done.done) == 30
    for case in prepared.ready:
        page.check(f'#bulk-form input[name="case"][value="{case}"]')
    page.check('input[name="decision"][value="approve"]')                # the signer chooses (a12 #3)
    phone.expect_status(409)                                              # nothing done
    page.click("#bulk-form button.primary")
    expect(page.locator("#bulk-summary")).to_have_text("0 户已办理，30 户被拒绝")
    group = page.locator("#bulk-result section.list-group")
    expect(group).to_have_count(1)
    expect(group.locator(".tag.bad")).to_have_text("30 户未办理")
    expect(group.locator(".needs-list li")).to_contain_text("无需再办")
    assert not group.locator("details").evaluate("d => d.open")          # 30 names: folded
    height = page.evaluate("document.getElementById('bulk-result').getBoundingClientRect().height")
    assert height < 740, height                                           # a screen, not 30 cards
    assert _fits(page)
    group.locator("summary").click()
    expect(group.locator('li[data-result="refused"]')).to_have_count(30)
    assert page.locator("#bulk-form tr.row-refused").count() == 30        # marked where they are in the form
    assert _fits(page)
    phone.shot("list-refused-grouped-phone")


def test_a_township_cadre_does_every_household_waiting_from_the_first_page_of_its_list(desktop, core, demo_home,
                                                                                     monkeypatch):
    """A township's list is shown a page at a time; its "all waiting" button, pressed on the first page, does
    every household of the township waiting at the step (those of the next pages too) in one action, each
    told; the page sends it through htmx, the button's own name and value with the form."""
    from engine.reads import village_lists
    monkeypatch.setattr(village_lists, "LIST_PAGE", 5)
    prepared = township_list(core, 8, not_ready=False)
    township = VILLAGE[:9] + "000"
    waiting = village_lists.waiting_ids(core, actor(core, "t1_staff1"), township, "identification", "township_review")
    assert set(prepared.ready) <= set(waiting) and len(waiting) > 5
    page = _review_list(desktop, demo_home, township)
    assert page.locator('#bulk-form input[name="case"]').count() == 5
    expect(page.locator("#list-page")).to_contain_text(f"共 {len(waiting)} 户")
    expect(page.locator("#do-all")).to_contain_text(f"为全部 {len(waiting)} 户")
    assert not page.is_checked('input[name="decision"][value="approve"]')      # the signer chooses (a12 #3)
    page.check('input[name="decision"][value="approve"]')
    page.click("#do-all")
    summary = page.wait_for_selector("#bulk-summary")
    # every household waiting told, done or refused (the module's earlier lists left some with an objection
    # open or a notice still running: refused, each with its reason); those made ready here all done
    done, refused = int(summary.get_attribute("data-done")), int(summary.get_attribute("data-refused"))
    assert done + refused == len(waiting) and done >= len(prepared.ready), page.inner_text("#bulk-result")[:600]
    assert page.locator('#bulk-result li[data-result="done"]').count() == done
    assert page.url.endswith("step=township_review")          # the answer in place, the page not left


def _review_list(browser, demo_home, region: str, after: int | None = None):
    """The page of `region`'s list at the identification's township review, opened by the township cadre
    (the page that follows case `after`: 50 a page)."""
    code, password = demo_home[1]["township"]
    page = browser.page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    browser.sign_in(code, password)
    browser.go(f"/villages/{region}/list?kind=household&procedure=identification&step=township_review"
               + (f"&after={after}" if after else ""))
    page.wait_for_selector("#bulk-form")
    return page
