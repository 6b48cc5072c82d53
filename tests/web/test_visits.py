"""A household's visits on its case page: recorded (`household visit`) and shown, a risk said, in
the reader's language. They were kept and shown nowhere."""
from __future__ import annotations

from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.case_actions import record_visit
from engine.services.org import authenticate

HX = {"HX-Request": "true"}      # sent as the case page's form sends it (htmx)


def _visited_case(core, code: str, order) -> int:
    """A household of the cadre's village that may be visited (assisted, exited or consolidated)."""
    with core.engine.connect() as conn:
        person = conn.execute(select(t.persons.c.id).where(t.persons.c.code == code)).scalar_one()
        village = conn.execute(select(t.role_assignments.c.region_code).where(
            t.role_assignments.c.person_id == person)).scalars().first()
        return conn.execute(select(t.cases.c.id).where(
            t.cases.c.region_code == village, t.cases.c.kind == "household",
            t.cases.c.stage.in_(("assisted", "exited", "consolidated"))).order_by(order)).scalars().first()


def test_a_visit_and_its_risk_show_on_the_case_page(web, signed_in, demo_home):
    core = web.state.core
    _, sign_ins = demo_home
    cadre = signed_in("cadre")
    code = sign_ins["cadre"][0]
    case = _visited_case(core, code, t.cases.c.id)
    tokens = dict(line.split(",", 1) for line in
                  (core.settings.home / "demo-tokens.csv").read_text(encoding="utf-8").split())
    actor = authenticate(core, code, tokens[code].strip())
    record_visit(core, actor, case, core.clock.today(), "户主住院，医疗支出大", risk=True)
    page = cadre.get(f"/cases/{case}")
    assert page.status_code == 200
    assert "走访记录" in page.text and "户主住院，医疗支出大" in page.text and "有返贫致贫风险" in page.text
    visits = page.text.partition("走访记录")[2]
    assert f"· {actor.name} · 户主住院" in visits and f"· {code} ·" not in visits     # by name, as steps are
    cadre.cookies.set("lang", "en")
    assert "risk of falling back into poverty" in cadre.get(f"/cases/{case}").text


def test_a_cadre_records_a_visit_on_the_case_page(web, signed_in, demo_home):
    """The visit form (it was the CLI's alone): recorded with its date and risk, shown; a day to come
    and an empty finding refused; an inspector may not."""
    from datetime import timedelta
    core = web.state.core
    cadre = signed_in("cadre")
    code = demo_home[1]["cadre"][0]
    case = _visited_case(core, code, t.cases.c.id.desc())      # another than the first test's
    page = cadre.get(f"/cases/{case}").text
    assert 'id="add-visit"' in page and f'hx-post="/cases/{case}/visits"' in page
    today = core.clock.today()
    form = {"csrf": cadre.csrf, "visit_date": today.isoformat(), "findings": "户主外出务工，收入稳定", "risk": "1"}
    done = cadre.post(f"/cases/{case}/visits", headers=HX, data=form)
    assert done.status_code == 200 and "已登记走访" in done.text
    later = cadre.post(f"/cases/{case}/visits", headers=HX, data={**form, "visit_date": (today + timedelta(days=3)).isoformat()})
    assert later.status_code in (400, 409) and "已登记走访" not in later.text
    empty = cadre.post(f"/cases/{case}/visits", headers=HX, data={**form, "findings": "  "})
    assert empty.status_code == 400
    shown = cadre.get(f"/cases/{case}").text.partition('id="visits"')[2]
    assert shown.count("· 户主外出务工，收入稳定") == 1 and "有返贫致贫风险" in shown
    inspector = signed_in("inspector")
    assert 'id="add-visit"' not in inspector.get(f"/cases/{case}").text
    assert inspector.post(f"/cases/{case}/visits", headers=HX, data={**form, "csrf": inspector.csrf}).status_code == 403
