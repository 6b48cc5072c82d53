"""A fund project's identities on the web (audit a13): a contractor's credit code held by another
contractor is refused through the API and said on the case page, naming that contractor and its project."""
from __future__ import annotations

from tests.test_project_identities56 import second_project_naming_the_first_contractors_code


def test_a_credit_code_of_another_contractor_through_the_api_and_on_the_case_page(world, world_clients):
    page, api = world_clients
    first, second = second_project_naming_the_first_contractors_code(world)
    shown = page("ts1").get(f"/cases/{second}")
    assert shown.status_code == 200
    assert f"已登记为“宁都县农建公司”的代码（项目 {first} 洋塘村脐橙基地）" in shown.text, shown.text
    answer = api("ts1", "en").post(f"/api/v1/cases/{second}/steps", json={
        "procedure": "funding", "step": "contractor_notice", "date": "2019-04-26"})
    assert 400 <= answer.status_code < 500, answer.text
    assert f"already on record as the code of '宁都县农建公司' (project {first} " in answer.json()["message"], answer.text
