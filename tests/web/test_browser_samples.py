"""A third-party evaluator on a phone records what a household's visit found in their sample check
(a2 #5): the draw's page lists its households with a form each; a wrong exit opens its problem item,
whose trace says 第三方评估 and names the evaluator. The JSON API records through the same service."""
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


def _evaluator_signs_in(core) -> tuple[str, str]:
    with core.engine.connect() as conn:
        code = conn.execute(select(t.persons.c.code).join(t.role_assignments, t.role_assignments.c.person_id
                                                          == t.persons.c.id)
                            .where(t.role_assignments.c.role == "evaluator").order_by(t.persons.c.id)).first()[0]
    password = secrets.token_urlsafe(12)
    redeem_enrolment(core, code, issue_enrolment(core, _actor(core, "admin"), code, paper=True).code, password)
    return code, password


def _fresh_draw(core, evaluator: str, size: int = 2) -> dict:
    """A new draw of the first township's 2019 exits, by the evaluator: no finding on it yet."""
    with core.engine.connect() as conn:
        region = conn.execute(select(t.sample_draws.c.region_code).order_by(t.sample_draws.c.id)).scalar()
    return draw(core, _actor(core, evaluator), region, size, secrets.token_hex(4), period=2019)


def _reopenable(core, cases: list[int]) -> int:
    """The first of `cases` with no procedure under way: a wrong exit found on one whose monitoring (or
    another procedure) is under way is refused its reopening (procedure.other_open), and the demo, shared
    with the other browser tests, has such households: a draw of two picked one now and then."""
    with core.engine.connect() as conn:
        free = set(conn.execute(select(t.cases.c.id).where(t.cases.c.id.in_(cases),
                                                            t.cases.c.open_procedure_id.is_(None))).scalars())
    return next(c for c in cases if c in free)


def test_an_evaluator_records_a_wrong_exit_on_a_phone_and_its_problem_item_names_them(phone, core):
    code, password = _evaluator_signs_in(core)
    drawn = _fresh_draw(core, code, size=10)
    wrong = _reopenable(core, drawn["case_ids"])
    phone.sign_in(code, password)
    page = phone.go("/inspect/samples")
    page.click(f"#draw-{drawn['id']}")
    page.wait_for_url(f"**/inspect/samples/{drawn['id']}")
    card = page.locator(f"#case-{wrong}")
    card.get_by_label("错退").check()
    card.locator("textarea[name=note]").fill("入户核实：收入核算漏计医疗支出")
    card.locator("button").click()
    page.wait_for_url(f"**/inspect/samples/{drawn['id']}?done=*")
    recorded = page.locator("#recorded")
    assert "已重新纳入帮扶" in recorded.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360      # nothing wider than the phone
    phone.shot("evaluator-sample-finding")
    recorded.locator("a").click()
    page.wait_for_url("**/inspect/trace/case/*")
    problem = page.locator("#problem").inner_text()
    assert "第三方评估" in problem and "错退" in problem and f"（{code}，第三方评估人员）在抽查 #{drawn['id']} 中发现" in problem
    with core.engine.connect() as conn:
        assert conn.execute(select(t.cases.c.stage).where(t.cases.c.id == wrong)).scalar() == "assisted"


def test_the_api_records_a_finding_and_refuses_one_twice(core, web):
    from fastapi.testclient import TestClient
    from engine.services.accounts import renew_token
    code, _ = _evaluator_signs_in(core)
    drawn = _fresh_draw(core, code)
    secret = renew_token(core, _actor(core, code))
    with TestClient(web, headers={"X-Jingzhun-Person": code, "Authorization": f"Bearer {secret}"}) as api:
        case = drawn["case_ids"][1]
        answer = api.post(f"/api/v1/samples/{drawn['id']}/findings", json={"case": case, "finding": "confirmed"})
        assert answer.status_code == 201 and answer.json()["problem"] is None, answer.text
        again = api.post(f"/api/v1/samples/{drawn['id']}/findings", json={"case": case, "finding": "wrong_exit"})
        assert again.status_code in (409, 422) and "sample.already_recorded" in again.text
        shown = api.get(f"/api/v1/samples/{drawn['id']}").json()
        assert [f["finding"] for h in shown["households"] if h["case"] == case for f in h["findings"]] == ["confirmed"]
