"""A household's handbook and a village's handbooks on the web: a cadre prints them from a phone (the
case page's link, the village's page), the JSON API gives the same parts, and nobody beyond the
village's reach learns it exists."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.reads.handbook import REGISTERED
from tests.world import VILLAGE, VILLAGE2


def cadres_village(core, code: str) -> str:
    with core.engine.connect() as conn:
        return conn.execute(select(t.role_assignments.c.region_code).join(
            t.persons, t.persons.c.id == t.role_assignments.c.person_id).where(t.persons.c.code == code)).scalar()


def registered(core, village: str) -> list[int]:
    with core.engine.connect() as conn:
        return conn.execute(select(t.cases.c.id).where(
            t.cases.c.kind == "household", t.cases.c.region_code == village,
            t.cases.c.stage.in_(REGISTERED)).order_by(t.cases.c.id)).scalars().all()


@pytest.mark.browser
def test_a_cadre_prints_a_households_handbook_and_the_villages_from_a_phone(phone, demo_home, core):
    code, password = demo_home[1]["cadre"]
    village = cadres_village(core, code)
    households = registered(core, village)
    phone.sign_in(code, password)
    page = phone.go(f"/cases/{households[0]}")
    page.click("#handbook-link")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/cases/{households[0]}/handbook")
    text = page.inner_text("body")
    for part in ("一、家庭基本情况", "二、致贫原因", "三、帮扶责任人", "四、帮扶计划", "五、帮扶措施", "六、帮扶成效", "签字："):
        assert part in text, part
    assert page.is_visible("#print-bar button[data-print]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.shot("handbook-phone")
    page.click(f"#print-bar a[href='/cases/{households[0]}']")        # the way back
    page.wait_for_load_state("networkidle")
    page = phone.go(f"/villages/{village}/list")
    page.click("#village-handbooks")
    page.wait_for_load_state("networkidle")
    assert page.locator("section.book").count() == len(households)
    assert page.locator("section.book").first.get_attribute("id") == f"book-{households[0]}"
    # on paper each household starts a new page, and the bar is not printed
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.getElementById('print-bar')).display") == "none"
    assert page.evaluate("getComputedStyle(document.querySelectorAll('section.book')[1]).breakBefore") == "page"


def test_the_pages_and_the_api_answer_within_reach_only(world, world_clients, tmp_path):
    page, api = world_clients
    case = world.household()
    world.identify(case)
    elsewhere = world.household(village=VILLAGE2, by="vs2")      # its reach is checked before its stage
    cadre = page("vs")
    shown = cadre.get(f"/cases/{case}/handbook")
    assert shown.status_code == 200 and "六、帮扶成效" in shown.text and "print-bar" in shown.text
    assert 'id="handbook-link"' in cadre.get(f"/cases/{case}").text
    whole = cadre.get(f"/villages/{VILLAGE}/handbooks")
    assert whole.status_code == 200 and whole.text.count('<section class="book"') == 1
    # beyond the secretary's villages: as if it did not exist, for a household and a village alike
    for path in (f"/cases/{elsewhere}/handbook", f"/villages/{VILLAGE2}/handbooks", "/villages/360730100299/handbooks"):
        assert cadre.get(path).status_code == 404, path
    answer = api("vs", "en").get(f"/api/v1/cases/{case}/handbook")
    assert answer.status_code == 200
    body = answer.json()
    assert body["id"] == case and body["basics"]["size"] == 2 and body["causes"] == ["illness"]
    assert [i["year"] for i in body["results"]["incomes"]] == [2018]
    assert api("vs").get(f"/api/v1/cases/{elsewhere}/handbook").status_code == 404
    applicant = world.household()
    refused = api("vs", "en").get(f"/api/v1/cases/{applicant}/handbook")
    assert refused.status_code == 400 and "identified households only" in refused.text
    with world.app.engine.connect() as conn:       # the village's page left the system as an export does
        assert conn.execute(select(func.count()).select_from(t.audit_events).where(
            t.audit_events.c.action == "exported", t.audit_events.c.person_code == "vs")).scalar() == 1


def test_the_exit_confirmation_page_is_linked_where_the_signed_form_is_asked(world, world_clients, tmp_path):
    page, api = world_clients
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, confirm=False, tmp=tmp_path)
    world.exit(case, through="verification")          # the acknowledgement, with its signed form, is next
    cadre = page("pc1")
    assert 'id="confirmation-print"' in cadre.get(f"/cases/{case}").text
    shown = cadre.get(f"/cases/{case}/exit-confirmation")
    assert shown.status_code == 200 and "贫困户脱贫确认书" in shown.text and "print-bar" in shown.text
    assert f'href="/cases/{case}#ev-household_confirmation"' in shown.text       # back to the form to attach it
    assert shown.text.count("（2019-11-20 核查）") == 3 and 'id="confirmation-refused"' not in shown.text
    assert page("vs2").get(f"/cases/{case}/exit-confirmation").status_code == 404
    world.on(date(2020, 10, 20))      # a year on, its checks too old: the sheet says what the exit standard says
    shown = page("pc1").get(f"/cases/{case}/exit-confirmation")
    assert 'id="confirmation-refused"' in shown.text and "住房安全鉴定登记于 2019-11-20" in shown.text


def test_the_sample_checks_sheet_for_the_visits_is_printed_from_its_page(world, world_clients, tmp_path):
    from engine.services.sampling import draw
    from tests.world import COUNTY
    page, _ = world_clients
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, tmp=tmp_path)
    world.exit(case)
    world.on(date(2019, 12, 10))
    drawn = draw(world.app, world["cd"], COUNTY, 1, "2019-县考核", 2019)
    inspector = page("insp")
    assert 'id="sheet-link"' in inspector.get(f"/inspect/samples/{drawn['id']}").text
    shown = inspector.get(f"/inspect/samples/{drawn['id']}/sheet")
    assert shown.status_code == 200 and "入户核查表" in shown.text and f'id="sheet-{case}"' in shown.text
    assert "print-bar" in shown.text and f'href="/inspect/samples/{drawn["id"]}"' in shown.text
    assert inspector.get("/inspect/samples/999/sheet").status_code == 404
