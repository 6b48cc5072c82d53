"""An inspector in a real browser: from a finding (the demo's wrong exit) to the case trace and the
named people responsible; a flag's audit events opened in place; the printable dossier."""
from __future__ import annotations

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.trace import case_trace
from engine.services.org import load_actor


def _actor(core, code):
    with core.engine.connect() as conn:
        return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).one())


def _exit_chain(core, code, case_id):
    """(proposer, checker, approver) names of the case's completed exit."""
    trace = case_trace(core, _actor(core, code), case_id)
    proc = next(p for p in trace["procedures"] if p["kind"] == "exit" and p["status"] == "completed")
    by_type = {}
    for s in proc["steps"]:
        by_type.setdefault(s["type"], s["person_name"])
    return proc["id"], by_type["appraisal"], by_type["verification"], by_type["signoff"]


def test_an_inspector_traces_a_wrong_exit_to_the_named_people(desktop, demo_home, core):
    code, password = demo_home[1]["inspector"]
    desktop.sign_in(code, password)
    page = desktop.page
    assert page.url.endswith("/inspect")
    page.click("nav.subnav a[href='/inspect/problems']")
    page.wait_for_url("**/inspect/problems")
    finding = page.locator("article.problem[data-finding='wrong_exit']").first
    assert "错退" in finding.inner_text()
    link = finding.locator("a.named-case").first
    case_id = int(link.get_attribute("href").rsplit("/", 1)[1])
    link.click()
    page.wait_for_url(f"**/inspect/trace/case/{case_id}")
    proc_id, proposer, checker, approver = _exit_chain(core, code, case_id)
    chain = page.locator("#chain tr", has=page.locator(f"a[href='#procedure-{proc_id}']"))
    assert chain.is_visible()
    for name in (proposer, checker, approver):
        assert name in chain.inner_text()
    chain.locator(f"a[href='#procedure-{proc_id}']").click()
    card = page.locator(f"#procedure-{proc_id}")
    card.scroll_into_view_if_needed()
    text = card.inner_text()
    for name, act in ((proposer, "提出"), (checker, "核实"), (approver, "审批")):
        row = card.locator("tr.step", has_text=name).first
        assert row.is_visible() and act in row.inner_text(), (name, act)
    assert "直接责任" in text
    assert page.locator("#named-by").inner_text().count("错退") >= 1
    desktop.shot("inspector-trace")


def test_an_inspector_opens_the_events_behind_a_flag(desktop, demo_home):
    desktop.sign_in(*demo_home[1]["inspector"])
    page = desktop.page
    page.click("nav.subnav a[href='/inspect/flags']")
    page.wait_for_url("**/inspect/flags")
    flag = page.locator("article.flag", has=page.locator("a.case-link")).first
    flag.locator("a.events-link").click()
    table = flag.locator("table.audit-events")
    table.wait_for(state="visible")
    assert table.locator("tr[data-seq]").count() >= 1
    assert page.url.endswith("/inspect/flags")          # opened in place by HTMX, not a new page


def test_the_printable_dossier_renders(desktop, demo_home):
    desktop.sign_in(*demo_home[1]["inspector"])
    page = desktop.go("/inspect/trace/person/county_head")
    groups = page.locator("#responsibilities tr.group")
    assert groups.count() >= 1
    rows = page.locator("#responsibilities table.rows tbody tr")          # the newest page of the rows
    assert rows.first.is_visible() and page.locator("button[data-print]").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible() and not page.locator("button[data-print]").is_visible()
    assert groups.first.is_visible() and rows.first.is_visible()
    assert not page.locator("#responsibilities-older").is_visible()      # no links on paper
    assert page.locator("h1").is_visible() and "county_head" in page.locator("h1").inner_text()
    desktop.shot("inspector-dossier-print")
    page.emulate_media(media="screen")


def test_the_case_trace_fits_a_phone(phone, demo_home, core):
    code, password = demo_home[1]["inspector"]
    phone.sign_in(code, password)
    with core.engine.connect() as conn:
        case_id = conn.execute(select(t.problem_links.c.case_id).where(t.problem_links.c.finding == "wrong_exit")
                               .order_by(t.problem_links.c.case_id)).scalars().first()
    page = phone.go(f"/inspect/trace/case/{case_id}")
    assert page.locator("#procedures").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.shot("inspector-trace-phone")


def test_verify_now_answers_in_place_and_the_status_above_says_it_too(desktop, demo_home, web):
    web.state.last_verify = None                   # this server process has not verified yet, nor anyone
    (demo_home[0].home / "last-verify.json").unlink(missing_ok=True)     # (another test's verify is kept there)
    desktop.sign_in(*demo_home[1]["inspector"])
    page = desktop.go("/inspect")
    assert "尚未核验" in page.locator("#last-verify").inner_text()
    assert page.locator("#checkpoints tbody tr").count() >= 1
    page.click("#verify-now")
    answer = page.locator("#verify-result #verify-answer")
    answer.wait_for(state="visible")
    assert "审计日志完整" in answer.inner_text()
    assert page.url.endswith("/inspect")
    status = page.locator("#last-verify").inner_text()       # it had still said "not verified yet"
    assert "尚未核验" not in status and "审计日志完整" in status, status
    assert page.locator("#last-verify").count() == 1


def test_the_activity_log_names_a_download_and_fits_a_phone(phone, demo_home, core):
    """A cadre's download shows at the top of the inspector's activity log, on a phone."""
    cadre, cadre_password = demo_home[1]["cadre"]
    phone.sign_in(cadre, cadre_password)
    with core.engine.connect() as conn:
        village = conn.execute(select(t.role_assignments.c.region_code).join(
            t.persons, t.persons.c.id == t.role_assignments.c.person_id).where(t.persons.c.code == cadre)).scalar()
    with phone.page.expect_download():
        phone.page.evaluate(f"window.location = '/regions/{village}/export/cases.xlsx'")
    phone.page.context.clear_cookies()
    phone.sign_in(*demo_home[1]["inspector"])
    page = phone.go("/inspect/activity")
    first = page.locator("#activity tbody tr").first
    assert first.get_attribute("data-action") == "exported"
    assert "案件" in first.inner_text() and "xlsx" in first.inner_text()
    page.select_option("select[name=action]", "exported")
    page.click("#activity-filter button")
    page.wait_for_load_state("networkidle")
    assert "action=exported" in page.url and page.locator("#activity tbody tr").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.shot("inspector-activity-phone")
