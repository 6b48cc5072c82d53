"""A household's visits on its case page: recorded (`household visit`) and shown, a risk said, in
the reader's language. They were kept and shown nowhere."""
from __future__ import annotations

from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.case_actions import record_visit
from engine.services.org import authenticate


def test_a_visit_and_its_risk_show_on_the_case_page(web, signed_in, demo_home):
    core = web.state.core
    _, sign_ins = demo_home
    cadre = signed_in("cadre")
    code = sign_ins["cadre"][0]
    with core.engine.connect() as conn:
        person = conn.execute(select(t.persons.c.id).where(t.persons.c.code == code)).scalar_one()
        village = conn.execute(select(t.role_assignments.c.region_code).where(
            t.role_assignments.c.person_id == person)).scalars().first()
        case = conn.execute(select(t.cases.c.id).where(
            t.cases.c.region_code == village, t.cases.c.kind == "household",
            t.cases.c.stage.in_(("assisted", "exited", "consolidated"))).order_by(t.cases.c.id)).scalars().first()
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
