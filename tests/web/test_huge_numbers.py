"""A number past 64-bit integers in a URL or a body (a case id of 30 digits): a refusal in the
reader's language, never a crash (a 500 that also dropped the client's connection)."""
from __future__ import annotations

import pytest

from tests.web.test_api import api  # noqa: F401  (fixture)

HUGE = 10 ** 30


@pytest.mark.parametrize("path", [f"/api/v1/cases/{HUGE}", f"/api/v1/cases/{HUGE}/next", f"/api/v1/cases?after={HUGE}",
                                  f"/api/v1/notices/{HUGE}", f"/api/v1/trace/cases/{HUGE}"])
def test_the_api_answers_a_huge_id_with_a_refusal(api, path):  # noqa: F811
    answer = api("v01_secretary").get(path)
    assert answer.status_code in (400, 404, 422), answer.text
    assert answer.json()["error"] != "server.error"


def test_a_huge_id_in_a_body(api):  # noqa: F811
    answer = api("v01_secretary").post("/api/v1/steps", json={"procedure": "identification", "step": "application",
                                                              "case_ids": [HUGE]})
    assert answer.status_code in (400, 404, 422) and answer.json()["error"] != "server.error"


@pytest.mark.parametrize("path", [f"/cases/{HUGE}", f"/notices/{HUGE}", f"/work/{HUGE}/needs"])
def test_a_page_for_a_huge_id(signed_in, path):
    answer = signed_in("cadre").get(path)
    assert answer.status_code in (400, 404), answer.status_code
    assert "服务器出错" not in answer.text


@pytest.mark.parametrize("ids", [[True], ["27"], [0], [1.5]])
def test_case_ids_must_be_whole_numbers_not_booleans_or_texts(api, ids):  # noqa: F811
    answer = api("v01_secretary").post("/api/v1/steps", json={"procedure": "identification", "step": "application",
                                                              "case_ids": ids})
    assert answer.status_code == 422 and answer.json()["error"] == "request.invalid"
    assert "case_ids" in answer.json()["message"] and "请求内容不合要求" in answer.json()["message"]
