"""The exits waiting for the household's signature, and the new plan's deadline, as the supervisor's page, the
deadlines CSV and the API show them (audit a6 findings 1 and 2)."""
from __future__ import annotations

from datetime import date

from tests.test_exit_step_deadlines51 import at_acknowledgement, back_in_poverty


def test_an_exit_waiting_for_its_acknowledgement_is_on_the_overdue_page_export_and_api(world, world_clients,
                                                                                      tmp_path):
    page, api = world_clients
    case = at_acknowledgement(world, tmp_path)
    world.on(date(2019, 12, 10))
    township = page("th")
    shown = township.get("/supervise/overdue?rule=step_waiting")
    assert shown.status_code == 200 and f"/cases/{case}" in shown.text and "农户认可签字" in shown.text, shown.text
    township.cookies.set("lang", "en")
    english = township.get("/supervise/overdue?rule=step_waiting").text
    assert "household acknowledgement" in english and "step waiting" in english
    csv = township.get("/export/deadlines.csv?status=overdue")
    assert csv.status_code == 200
    row = next(line for line in csv.content.decode("utf-8-sig").splitlines() if line.startswith(f"{case},"))
    assert "household acknowledgement" in row or "农户认可签字" in row, row
    listed = api("cd").get("/api/v1/deadlines", params={"overdue": "true", "status": "open"}).json()["deadlines"]
    assert [(d["case"], d["rule"], d["step"]) for d in listed] == [(case, "step_waiting", "acknowledgement")]


def test_the_new_plan_deadline_is_listed_with_the_plan_not_the_exit(world, world_clients, tmp_path):
    page, _ = world_clients
    case = back_in_poverty(world, tmp_path)
    world.on(date(2020, 4, 20))
    shown = page("th").get("/supervise/overdue?rule=assistance_plan_again").text
    assert f"/cases/{case}" in shown and "制定帮扶计划" in shown and "评议并提出退出" not in shown, shown
    csv = page("th").get("/export/deadlines.csv?status=overdue").content.decode("utf-8-sig")
    row = next(line for line in csv.splitlines() if line.startswith(f"{case},"))
    assert "制定帮扶计划" in row and "评议并提出退出" not in row, row
