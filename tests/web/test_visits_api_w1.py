"""Household visits on the JSON API (w1): a case's visits, recording, correcting and withdrawing one with the
rules and refusals of the page and the CLI; who has not visited, paged, for the township as on
/supervise/visits; `mine=1` on the cases list; the download of who has not visited in the activity log."""
from __future__ import annotations

import csv
import io
from datetime import date

from tests.world import TOWNSHIP, TOWNSHIP2


def _assisted(world, first: str = "pc1", second: str | None = None) -> int:
    case = world.household()
    world.identify(case)
    world.assist(case, first=first, second=second)
    world.on(date(2019, 6, 3))
    return case


def test_a_pairing_cadre_records_corrects_and_withdraws_a_visit_on_the_api(world, world_clients):
    _page, api = world_clients
    case = _assisted(world)
    cadre = api("pc1")
    body = {"date": "2019-06-01", "findings": "产业正常", "result": "卖橙收入两千元"}
    first = cadre.post(f"/api/v1/cases/{case}/visits", json=body)
    assert first.status_code == 201, first.text
    made = first.json()
    assert (made["case"], made["again"], made["paired"]) == (case, False, True)
    assert made["message"] == f"已记录走访 {made['id']}（案件 {case}）"
    again = cadre.post(f"/api/v1/cases/{case}/visits", json=body).json()
    assert (again["id"], again["again"]) == (made["id"], True)
    listed = cadre.get(f"/api/v1/cases/{case}/visits")
    assert listed.status_code == 200
    [visit] = listed.json()["visits"]
    assert (visit["id"], visit["date"], visit["findings"], visit["in_force"], visit["person"]) == (
        made["id"], "2019-06-01", "产业正常", True, "pc1")
    # only who recorded it corrects it; the village secretary is told so, as on the page (409)
    other = api("vs").post(f"/api/v1/cases/{case}/visits/{made['id']}/correct", json={"reason": "改", "findings": "x"})
    assert other.status_code == 409 and "不是您登记的" in other.text
    fixed = cadre.post(f"/api/v1/cases/{case}/visits/{made['id']}/correct",
                       json={"reason": "金额写错", "result": "卖橙收入三千元"})
    assert fixed.status_code == 200, fixed.text
    new = fixed.json()
    assert new["replaces"] == made["id"] and new["id"] != made["id"]
    old, current = cadre.get(f"/api/v1/cases/{case}/visits").json()["visits"]
    assert (old["in_force"], old["superseded_by"], old["supersede_reason"]) == (False, new["id"], "金额写错")
    assert (current["in_force"], current["result"], current["findings"]) == (True, "卖橙收入三千元", "产业正常")
    # a visit corrected already is not in force; a visit of another case is not found under this one
    assert cadre.post(f"/api/v1/cases/{case}/visits/{made['id']}/withdraw", json={"reason": "重复"}).status_code == 409
    assert cadre.post(f"/api/v1/cases/{case + 1}/visits/{new['id']}/withdraw",
                      json={"reason": "重复"}).status_code == 404
    assert cadre.post(f"/api/v1/cases/{case}/visits/{new['id']}/withdraw", json={"reason": " "}).status_code == 400
    gone = api("pc1", "en").post(f"/api/v1/cases/{case}/visits/{new['id']}/withdraw", json={"reason": "重复登记"})
    assert gone.status_code == 200 and gone.json()["message"] == f"visit {new['id']} (case {case}) withdrawn; " \
                                                                  "the record is kept with the reason"
    assert [v["in_force"] for v in cadre.get(f"/api/v1/cases/{case}/visits").json()["visits"]] == [False, False]


def test_the_api_refuses_visits_as_the_page_does(world, world_clients):
    _page, api = world_clients
    case = _assisted(world)
    # another pairing cadre's household: refused, nothing written
    refused = api("pc3").post(f"/api/v1/cases/{case}/visits", json={"findings": "看过"})
    assert refused.status_code == 409 and "visit.not_paired" in refused.text
    # an inspector reads, never writes
    assert api("insp").get(f"/api/v1/cases/{case}/visits").status_code == 200
    assert api("insp").post(f"/api/v1/cases/{case}/visits", json={"findings": "看过"}).status_code == 403
    # another township's cadre: the case does not exist for them
    assert api("ts_other").get(f"/api/v1/cases/{case}/visits").status_code == 404
    assert api("ts_other").post(f"/api/v1/cases/{case}/visits", json={"findings": "看过"}).status_code == 404
    # a future day, a field it does not know
    assert api("pc1").post(f"/api/v1/cases/{case}/visits", json={"findings": "看过", "date": "2019-07-01"}).status_code == 409
    assert api("pc1").post(f"/api/v1/cases/{case}/visits", json={"findings": "看过", "riks": True}).status_code == 422
    assert api("pc1").get(f"/api/v1/cases/{case}/visits").json()["visits"] == []


def test_who_has_not_visited_on_the_api_paged_and_filtered(world, world_clients):
    from engine.services.case_actions import record_visit
    _page, api = world_clients
    cadres = ("pc1", "pc3", "pc2")
    cases = [world.household() for _ in cadres]
    world.identify(cases)
    for case, cadre in zip(cases, cadres):
        world.assist(case, first=cadre, second=None)
    world.on(date(2019, 9, 1))
    record_visit(world.app, world["pc3"], cases[1], date(2019, 8, 20), "收入稳定")
    head = api("th")
    first = head.get("/api/v1/visits", params={"limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [r["case"] for r in page["rows"]] == [cases[0], cases[2]] and page["overdue"] == 2
    assert page["interval"] == 92 and page["rows"][0]["last_visit"] is None and page["rows"][0]["overdue"]
    rest = head.get("/api/v1/visits", params={"limit": 2, "after": page["next_after"]}).json()
    assert [(r["case"], r["last_visit"], r["visitor"]) for r in rest["rows"]] == [(cases[1], "2019-08-20", "pc3")]
    assert rest["next_after"] is None
    overdue = head.get("/api/v1/visits", params={"overdue": 1, "region": TOWNSHIP}).json()
    assert [r["case"] for r in overdue["rows"]] == [cases[0], cases[2]]
    assert head.get("/api/v1/visits", params={"region": TOWNSHIP2}).status_code == 404
    assert head.get("/api/v1/visits", params={"after": "nonsense"}).status_code == 400
    assert head.get("/api/v1/visits", params={"overdu": 1}).status_code == 422
    assert api("vs").get("/api/v1/visits").status_code == 200          # a village post: its village (p3)
    assert api("insp").get("/api/v1/visits").status_code == 200        # an inspector reads


def test_mine_on_the_cases_list(world, world_clients):
    _page, api = world_clients
    mine, others = _assisted(world, first="pc1"), _assisted(world, first="pc3")
    listed = api("pc1").get("/api/v1/cases", params={"mine": 1})
    assert listed.status_code == 200, listed.text
    ids = [c["id"] for c in listed.json()["cases"]]
    assert mine in ids and others not in ids
    assert others in [c["id"] for c in api("pc3").get("/api/v1/cases", params={"mine": "true"}).json()["cases"]]


def test_a_download_of_who_has_not_visited_is_in_the_activity_log(world, world_clients):
    from engine.reads.oversight import activity
    case, (page, _api) = _assisted(world), world_clients
    got = (head := page("th")).get("/supervise/visits.csv?overdue=1")
    assert got.status_code == 200
    table = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert len(table) == 1          # nothing overdue on 2019-06-03: the header only
    assert head.get("/supervise/visits.xlsx").status_code == 200
    found = activity(world.app, world["insp"], action="exported")
    rows = [dict(e["detail"]) for e in found["events"] if dict(e["detail"]).get("table") == "visits"]
    assert [(d["format"], d.get("status"), d["regions"]) for d in rows] == [
        ("xlsx", None, TOWNSHIP), ("csv", "overdue", TOWNSHIP)]
    assert {e["person"] for e in found["events"]} == {"th"} and case
    shown = page("insp").get("/inspect/activity").text
    assert "结对帮扶走访情况" in shown and "逾期" in shown
