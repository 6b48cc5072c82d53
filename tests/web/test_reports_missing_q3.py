"""A project's completion with its monthly disbursement reports missing (audit a13 #8): `case next`, the
case page and the API name the months not reported, at the initial acceptance and at the final accounts."""
from __future__ import annotations

import json
from datetime import date

from tests.test_project_figures import ok
from tests.test_project_money_rules import funded
from tests.web.test_funds_page51 import text_of


def test_completion_and_final_accounts_name_the_months_not_reported(world, world_clients):
    case, _ = funded(world)
    world.on(date(2019, 6, 5))
    world.step("cs", "disbursement_report", "disbursement_report", case)     # May's, filed; none after
    for day, milestone in ((date(2019, 6, 30), "基础完工"), (date(2019, 9, 30), "主体完工"), (date(2019, 10, 30), "竣工")):
        world.on(day)
        world.step("ts3", "milestone", "milestone", case, milestone=milestone)
    world.on(date(2019, 11, 1))
    nxt = json.loads(ok(world, "ts1", "case", "next", case, "--json", "--as-of", "2019-11-01"))["next"]
    assert nxt["step"] == "initial_acceptance"
    warned = [d["text"] for d in nxt["decides"] if d["kind"] == "warning"]
    assert warned and "缺报 4 个月（2019-07, 2019-08, 2019-09, 2019-10）" in warned[0], nxt
    assert "Monthly disbursement reports missing for 4 month(s)" in ok(world, "ts1", "--lang", "en", "case", "next", case, "--as-of", "2019-11-01")
    page, api = world_clients
    assert "缺报 4 个月" in text_of(page("ts1").get(f"/cases/{case}").text)
    said = api("ts1").get(f"/api/v1/cases/{case}/next").json()["next"]["decides"]
    assert said[0]["kind"] == "warning" and "缺报 4 个月" in said[0]["text"], said
    # the township's acceptance goes on (a warning, not a refusal); at the final accounts it is said again
    world.step("ts1", "completion", "initial_acceptance", case, decision="approve")
    world.on(date(2019, 11, 20))
    nxt = json.loads(ok(world, "cs", "case", "next", case, "--json", "--as-of", "2019-11-20"))["next"]
    assert nxt["step"] == "county_acceptance" and "缺报 5 个月" in nxt["decides"][0]["text"], nxt
