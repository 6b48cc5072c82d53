"""The county poverty office's director, who draws samples and records findings, reaches the draws' pages
from their own menu on a phone and records there (they were answered 403: an inspector's page)."""
from __future__ import annotations

import secrets

from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.accounts import issue_enrolment, redeem_enrolment
from engine.services.org import load_actor
from engine.services.sampling import draw


def _actor(core, code):
    with core.engine.connect() as conn:
        return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).one())


def _director_signs_in(core) -> tuple[str, str, str]:
    """A county office director of their own (the demo's are signed in with their passwords by other
    tests), in the county of the demo's first: (code, password, county)."""
    from engine.services.org import NewPerson, add_persons
    with core.engine.connect() as conn:
        county = conn.execute(select(t.role_assignments.c.region_code).where(
            t.role_assignments.c.role == "county_office_director").order_by(t.role_assignments.c.id)).scalar()
    code = f"cod{secrets.token_hex(3)}"
    add_persons(core, _actor(core, "admin"), [NewPerson(code, "县扶贫办主任乙", (("county_office_director", county),))])
    password = secrets.token_urlsafe(12)
    redeem_enrolment(core, code, issue_enrolment(core, _actor(core, "admin"), code, paper=True).code, password)
    return code, password, county


def test_the_county_office_director_records_a_finding_from_their_own_menu_on_a_phone(phone, core):
    code, password, county = _director_signs_in(core)
    drawn = draw(core, _actor(core, code), county, 1, secrets.token_hex(4), period=2019)
    case = drawn["case_ids"][0]
    phone.sign_in(code, password)
    page = phone.go("/supervise")
    page.click("#nav-samples")
    page.wait_for_url("**/inspect/samples")
    page.click(f"#draw-{drawn['id']}")
    page.wait_for_url(f"**/inspect/samples/{drawn['id']}")
    card = page.locator(f"#case-{case}")
    card.get_by_label("核实无误").check()
    card.locator("button").click()
    page.wait_for_url(f"**/inspect/samples/{drawn['id']}?done=*")
    assert "核实无误" in page.locator("#recorded").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360      # nothing wider than the phone
    assert not phone.errors, phone.errors
