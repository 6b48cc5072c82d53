"""A ruling on an objection on the web and through the API: its day (the township's visit) and who
verified it on the spot are entered with it, and the notice page and the case page show them (a6
finding 11)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from engine.adapters import tables as t
from tests.web.bulk_world import core, demo_home, live_server, township_list, web  # noqa: F401
from tests.web.test_api import api  # noqa: F401


def notice_of(core, case_id):
    with core.engine.connect() as conn:
        return conn.execute(select(t.notices).join(t.notice_cases, t.notice_cases.c.notice_id == t.notices.c.id)
                            .where(t.notice_cases.c.case_id == case_id).order_by(t.notices.c.id.desc())).first()


def test_a_ruling_entered_on_the_notice_page_keeps_its_day_and_verifiers_and_the_pages_show_them(signed_in, core):
    listed = township_list(core, 2)
    case = listed.objected
    notice = notice_of(core, case)
    with core.engine.connect() as conn:
        objection = conn.execute(select(t.objections).where(t.objections.c.case_id == case)).first()
    head = signed_in("supervisor")
    form = head.get(f"/notices/{notice.id}").text
    assert 'name="ruled_on"' in form and f'min="{objection.filed_on}"' in form
    offered = re.findall(r'name="verifiers" value="([^"]+)"', form)
    assert offered, "the village's and township's cadres are offered as verifiers"
    ruled_on = objection.filed_on + timedelta(days=1)
    early = head.post(f"/objections/{objection.id}/resolve", data={
        "csrf": head.csrf, "outcome": "dismissed", "reason": "经入户核实，务工收入已计入",
        "ruled_on": (objection.filed_on - timedelta(days=1)).isoformat()})
    assert early.status_code == 409 and "早于提出异议的日期" in early.text
    done = head.post(f"/objections/{objection.id}/resolve", data={
        "csrf": head.csrf, "outcome": "dismissed", "reason": "经入户核实，务工收入已计入",
        "ruled_on": ruled_on.isoformat(), "verifiers": offered[:2]})
    assert done.status_code == 200, done.text
    with core.engine.connect() as conn:
        row = conn.execute(select(t.objections).where(t.objections.c.id == objection.id)).first()
        names = dict(conn.execute(select(t.persons.c.code, t.persons.c.name)).all())
    assert row.resolved_on == ruled_on and list(row.resolution_verifiers) == offered[:2]
    page = head.get(f"/notices/{notice.id}").text
    assert f"于 {ruled_on} 处理，理由：经入户核实，务工收入已计入" in page
    assert "现场核实：" + "、".join(names[c] for c in offered[:2]) in page
    case_page = head.get(f"/cases/{case}").text
    assert f"（{ruled_on} 处理）" in case_page and names[offered[0]] in case_page


def test_the_api_takes_and_gives_a_rulings_day_and_verifiers(api, core):
    listed = township_list(core, 2)
    notice = notice_of(core, listed.objected)
    with core.engine.connect() as conn:
        objection = conn.execute(select(t.objections).where(t.objections.c.case_id == listed.objected)).first()
    client = api("t1_staff1")
    ruled_on = (objection.filed_on + timedelta(days=2)).isoformat()
    late = client.post(f"/api/v1/objections/{objection.id}/resolve", json={
        "upheld": False, "reason": "经核实", "ruled_on": (core.clock.today() + timedelta(days=1)).isoformat()})
    assert late.status_code == 409 and "晚于今天" in late.json()["message"]
    answer = client.post(f"/api/v1/objections/{objection.id}/resolve", json={
        "upheld": False, "reason": "经核实", "ruled_on": ruled_on, "verifiers": ["v01_member"]})
    assert answer.status_code == 200, answer.text
    shown = client.get(f"/api/v1/notices/{notice.id}").json()
    ruling = next(o for o in shown["objections"] if o["id"] == objection.id)
    assert ruling["ruled_on"] == ruled_on and [v["code"] for v in ruling["verifiers"]] == ["v01_member"]
    record = client.get(f"/api/v1/cases/{listed.objected}").json()
    assert [o["ruled_on"] for o in record["objections"]] == [ruled_on]


def test_on_a_phone_a_township_cadre_rules_with_the_visits_day_and_its_verifiers(phone, core, demo_home):
    from playwright.sync_api import expect
    listed = township_list(core, 2)
    notice = notice_of(core, listed.objected)
    with core.engine.connect() as conn:
        objection = conn.execute(select(t.objections).where(t.objections.c.case_id == listed.objected)).first()
    code, password = demo_home[1]["township"]
    page = phone.page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    phone.sign_in(code, password)
    phone.go(f"/notices/{notice.id}")
    item = page.locator(f'li[data-objection="{objection.id}"]')
    item.locator('input[name="reason"]').fill("经入户核实，务工收入已计入")
    day = (objection.filed_on + timedelta(days=1)).isoformat()
    item.locator('input[name="ruled_on"]').fill(day)
    first = item.locator('input[name="verifiers"]').first
    first.check()
    name = first.locator("xpath=..").inner_text().split()[0]
    phone.shot("objection-ruling-form-phone")
    item.locator("button").click()
    ruled = page.locator(f'li[data-objection="{objection.id}"][data-state="dismissed"] [data-ruling]')
    expect(ruled).to_contain_text(f"于 {day} 处理")
    expect(ruled).to_contain_text(f"现场核实：{name}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.shot("objection-ruling-phone")
