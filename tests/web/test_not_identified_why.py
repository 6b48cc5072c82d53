"""Where a list shows a household 未通过识别, it says why its identification ended (audit a7 #15): the
supervisor's case list and the API's `cases` (`case list` and the exports: tests/test_export_procedure_ended.py)."""
from __future__ import annotations

from tests.web.test_earlier_procedure_form import voted_down


def test_the_supervisors_list_and_the_api_say_why_a_household_is_not_identified(world, world_clients):
    page, api = world_clients
    case = voted_down(world)
    shown = page("cd").get("/supervise/cases?stage=not_identified")
    assert shown.status_code == 200 and "民主评议未通过：到会 41 人，赞成 3 人" in shown.text, shown.text[-2000:]
    rows = api("vs", "en").get("/api/v1/cases?stage=not_identified").json()["cases"]
    assert [r["ended"]["reason"] for r in rows if r["id"] == case] == ["appraisal vote failed: 3 of 41 for"]
    assert [r["ended"]["procedure"] for r in rows if r["id"] == case] == ["identification"]
