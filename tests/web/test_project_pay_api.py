"""A payment through the JSON API is checked as on the command line: the payee is the project's
contractor or one of its beneficiaries (audit a1, finding 2)."""
from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.adapters import tables as t
from tests.web.test_cli_client import tokens


def test_a_payment_to_someone_not_the_contractor_is_refused_in_the_readers_language(web, demo_home, core):
    token = tokens(demo_home[0])["county_staff"]

    def api(code: str, lang: str = "zh") -> TestClient:
        return TestClient(web, headers={"X-Jingzhun-Person": code, "Authorization": f"Bearer {token}",
                                        "Accept-Language": lang})
    with core.engine.connect() as conn:
        case = conn.execute(select(t.cases.c.id).where(t.cases.c.kind == "project").order_by(t.cases.c.id)).scalar()
        paid = conn.execute(select(func.count()).select_from(t.disbursements)).scalar()
    body = {"amount": "1", "payee_kind": "contractor", "payee": "别的公司"}
    answer = api("county_staff").post(f"/api/v1/projects/{case}/payments", json=body)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "project.payee_not_contractor"
    assert "宁都县农建公司" in answer.json()["message"] and "施工单位" in answer.json()["message"]
    english = api("county_staff", "en").post(f"/api/v1/projects/{case}/payments", json=body)
    assert english.status_code == 409 and "is not the contractor" in english.json()["message"]
    with core.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.disbursements)).scalar() == paid
