"""The inspector's pages say a refused seal and a deactivation's reason (auditor a5, findings 9 and 7):
/inspect showed "本服务进程启动以来尚未核验" until someone pressed 立即核验, and /inspect/activity showed a
deactivation as "对象：v01_leader" only. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from engine.domain.errors import RuleViolation
from engine.reads.audit_verify import seal
from engine.services import accounts
from tests.helpers.tamper import raw
from tests.test_seal50 import events_of


def test_the_inspector_s_home_says_the_seal_refused_and_why_until_one_is_sealed(world, world_clients):
    page, _api = world_clients
    a, b = world.household(), world.household()
    world.identify([a, b])
    seal(world.app, world["admin"])
    seq, _ = events_of(world, b)[3]
    raw(world, f"DELETE FROM audit_events WHERE seq = {seq}")
    with pytest.raises(RuleViolation):
        seal(world.app, world["admin"])
    home = page("insp").get("/inspect")
    assert home.status_code == 200
    assert 'id="seal-refused"' in home.text
    shown = home.text.split('id="seal-refused"')[1].split("</dd>")[0]
    assert "admin 的封存被拒绝：审计日志已损坏（1 处" in shown and f"序号 {seq} 共 1 个事件已被删除" in shown, shown
    activity = page("insp").get("/inspect/activity").text
    assert "封存被拒绝（审计日志已损坏）" in activity and "损坏处数：1" in activity
    insp = page("insp")                           # 立即核验: the deleted event once, what follows below it
    answer = insp.post("/inspect/verify", data={"csrf": insp.csrf}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "发现 1 处损坏" in answer.text, answer.text
    assert f"案件 {b} 的第" in answer.text and "由此引起的" in answer.text and 'class="caused"' in answer.text


def test_the_activity_page_says_a_deactivation_s_reason_and_the_posts_it_ended(world, world_clients):
    page, _api = world_clients
    accounts.deactivate(world.app, world["admin"], "tl", "调任县农业农村局，2020-10-20 起")
    shown = page("insp").get("/inspect/activity", params={"action": "person_deactivated"})
    assert shown.status_code == 200
    assert "理由：调任县农业农村局，2020-10-20 起" in shown.text and "终止的岗位：驻村工作队长/360730100201" in shown.text


def test_a_case_s_trace_page_lists_the_leads_on_it_and_the_flags_page_and_api_take_a_case(world, world_clients,
                                                                                           tmp_path):
    from tests.test_leads50 import with_leads
    page, api = world_clients
    _world, related, rushed = with_leads(world, tmp_path)
    insp = page("insp")
    trace = insp.get(f"/inspect/trace/case/{related}")
    assert trace.status_code == 200 and 'id="leads"' in trace.text
    shown = trace.text.split('id="leads"')[1].split("</section>")[0]
    assert "为亲属户签字" in shown and "（侄女或外甥女）" in shown and f'href="/inspect/flags?case={related}"' in shown, shown
    assert 'href="/inspect/trace/person/ts1"' in shown
    listed = insp.get("/inspect/flags", params={"case": related})
    assert listed.status_code == 200 and "为亲属户签字" in listed.text
    from engine.reads.inspection import ranked
    assert listed.text.count('class="card flag"') == len(ranked(world.app, world["insp"], case=related)) < \
        len(ranked(world.app, world["insp"]))
    assert insp.get("/inspect/flags", params={"case": 99999}).status_code == 404
    answer = api("insp").get("/api/v1/inspection/flags", params={"case": related})
    assert answer.status_code == 200 and {f["case"] for f in answer.json()} <= {related, None}
    assert "relative_signed" in {f["kind"] for f in answer.json()}
    assert api("insp").get("/api/v1/inspection/flags", params={"case": 99999}).status_code == 404
    cadre = page("cd").get(f"/cases/{related}")
    assert "为亲属户签字" not in cadre.text                          # a cadre's own case page: no leads


def test_on_a_phone_an_inspector_reaches_a_case_s_leads_from_its_trace(phone, demo_home, core):
    """The demo's household whose township review a relative signed: its trace lists the lead, which opens the
    flags page for that case alone; neither page is wider than the phone."""
    from engine.reads.inspection import ranked
    from engine.services.org import load_actor
    from sqlalchemy import select
    from engine.adapters import tables as t
    code, password = demo_home[1]["inspector"]
    with core.engine.connect() as conn:
        reader = load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).one())
    case = next(f.case_id for f in ranked(core, reader, kinds=["relative_signed"]))
    phone.sign_in(code, password)
    page = phone.go(f"/inspect/trace/case/{case}")
    leads = page.locator("#leads")
    assert "为亲属户签字" in leads.inner_text()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.viewport_size["width"]
    leads.locator(f"a[href='/inspect/flags?case={case}']").click()
    page.wait_for_url(f"**/inspect/flags?case={case}")
    assert "为亲属户签字" in page.inner_text("main") and page.locator("article.flag").count() == \
        len(ranked(core, reader, case=case))
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.viewport_size["width"]


def test_a_deactivated_person_s_page_says_when_by_whom_and_why(world, world_clients):
    page, _api = world_clients
    accounts.deactivate(world.app, world["admin"], "tl", "调任县农业农村局，2020-10-20 起")
    shown = page("insp").get("/inspect/trace/person/tl")
    assert shown.status_code == 200 and 'id="deactivated"' in shown.text
    assert "由 admin 停用，理由：调任县农业农村局，2020-10-20 起" in shown.text
