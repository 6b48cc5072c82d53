"""A pairing cadre's visits on the case page: the same form sent twice stored once, a visit corrected or
withdrawn there with its reason (the old one kept, shown struck through), and, on a 360 px phone, the
visit form at the top of the household's page for its pairing cadre and a link to it for other cadres."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.accounts import open_session
from engine.services.org import load_actor

HX = {"HX-Request": "true"}


def _assisted(world) -> int:
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.on(date(2019, 6, 3))
    return case


def _visits(world, case: int) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.monitoring_visits).where(t.monitoring_visits.c.case_id == case)
                            .order_by(t.monitoring_visits.c.id)).all()


def test_the_form_sent_twice_is_stored_once_and_a_visit_is_corrected_on_the_page(world, world_clients):
    page, _api = world_clients
    case = _assisted(world)
    cadre = page("pc1")
    form = {"csrf": cadre.csrf, "visit_date": "2019-06-03", "findings": "产业正常", "result": "卖橙收入两千元"}
    first = cadre.post(f"/cases/{case}/visits", headers=HX, data=form)
    second = cadre.post(f"/cases/{case}/visits", headers=HX, data=form)
    assert first.status_code == second.status_code == 200
    assert "已登记走访" in first.text and "已在记录中" in second.text and "未重复登记" in second.text
    [visit] = _visits(world, case)
    shown = cadre.get(f"/cases/{case}").text
    assert f'id="fix-visit-{visit.id}"' in shown and "卖橙收入两千元" in shown
    fixed = cadre.post(f"/cases/{case}/visits/{visit.id}/correct", headers=HX,
                       data={"csrf": cadre.csrf, "visit_date": "2019-06-02", "findings": "产业正常", "result": "卖橙收入三千元",
                             "reason": "金额写错", "act": "correct"})
    assert fixed.status_code == 200 and f"已更正走访 {visit.id}" in fixed.text
    old, new = _visits(world, case)
    assert (old.superseded_by, old.supersede_reason, new.result, new.visit_date) == (
        new.id, "金额写错", "卖橙收入三千元", date(2019, 6, 2))
    shown = cadre.get(f"/cases/{case}").text
    assert f"已由走访 {new.id} 更正：金额写错" in shown and "卖橙收入两千元" in shown      # the old kept, said
    assert f'id="fix-visit-{visit.id}"' not in shown and f'id="fix-visit-{new.id}"' in shown
    # another cadre's visit is not theirs to correct; withdrawn with a reason, it stays on the page
    other = page("vs")
    refused = other.post(f"/cases/{case}/visits/{new.id}/correct", headers=HX,
                         data={"csrf": other.csrf, "reason": "改", "act": "withdraw"})
    assert refused.status_code == 409 and "不是您登记的" in refused.text
    gone = cadre.post(f"/cases/{case}/visits/{new.id}/correct", headers=HX,
                      data={"csrf": cadre.csrf, "reason": "重复登记", "act": "withdraw"})
    assert gone.status_code == 200 and f"已撤回走访 {new.id}" in gone.text
    assert "已撤回：重复登记" in cadre.get(f"/cases/{case}").text
    none = cadre.post(f"/cases/{case}/visits/{new.id}/correct", headers=HX,
                      data={"csrf": cadre.csrf, "reason": "", "act": "withdraw"})
    assert none.status_code == 400


def _paired_household(core) -> tuple[int, object]:
    """A household that may be visited and its first pairing cadre (as signed in)."""
    with core.engine.connect() as conn:
        p, c = t.pairings.c, t.cases.c
        row = conn.execute(select(p.case_id, p.person_id).join(t.cases, c.id == p.case_id).where(
            p.end_date.is_(None), p.kind == "first", c.kind == "household",
            c.stage.in_(("assisted", "exited", "consolidated"))).order_by(p.case_id).limit(1)).first()
        person = conn.execute(select(t.persons).where(t.persons.c.id == row.person_id)).first()
        return row.case_id, load_actor(conn, person)


def test_on_a_phone_the_pairing_cadre_finds_the_visit_form_at_the_top(phone, core, live_server):
    from playwright.sync_api import expect
    case, cadre = _paired_household(core)
    secret, _csrf = open_session(core, cadre)
    page = phone.page
    page.context.add_cookies([{"name": "jz_session", "value": secret, "url": live_server}])
    phone.go(f"/cases/{case}")
    form = page.locator("#visit-form")
    expect(form).to_have_count(1)
    expect(form).to_be_visible()
    assert form.bounding_box()["y"] < 900, form.bounding_box()       # was at the foot (y 7,534 of 7,773)
    page.fill("#visit-form textarea[name=findings]", "户主在家，脐橙挂果正常")
    page.locator("#visit-form button").click()
    expect(page.locator("#done")).to_contain_text("已登记走访")
    expect(page.locator("#visit-list")).to_contain_text("户主在家，脐橙挂果正常")
    phone.shot("visit-form-top-phone")


def test_on_a_phone_another_cadre_has_a_link_at_the_top_to_the_one_form(phone, core, demo_home, live_server):
    from playwright.sync_api import expect
    case, _cadre = _paired_household(core)
    code, password = demo_home[1]["cadre"]
    phone.sign_in(code, password)
    page = phone.page
    phone.go(f"/cases/{case}")
    jump = page.locator("#visit-jump a")
    expect(jump).to_be_visible()
    assert jump.bounding_box()["y"] < 600
    expect(page.locator("#visit-form")).to_have_count(1)
    jump.click()
    expect(page.locator("#visit-form")).to_be_visible()
    expect(page.locator("#visit-form")).to_be_in_viewport()
