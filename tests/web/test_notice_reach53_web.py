"""The pages and the API of a township's or county's notice read by the villages it lists (s53 h2): the
notice page and its print page open for a village's cadre whose household the county's announcement lists,
saying who posted it and how many of theirs; the village's page says it beside its own notices; the API
gives it with `yours`; a cadre of a village it does not list is still answered 404. SQLite and PostgreSQL."""
from __future__ import annotations

from engine.reads.village_lists import village_notices
from tests.test_notice_reach53 import county_announcement, township_notice
from tests.world import VILLAGE


def test_the_api_gives_the_announcement_to_the_villages_it_lists(world, world_clients):
    here, there, notice = county_announcement(world)
    _page, api = world_clients
    answer = api("vs").get(f"/api/v1/notices/{notice}")
    assert answer.status_code == 200, answer.text            # before: 404, a notice out of reach
    body = answer.json()
    assert body["yours"] == 1 and body["posted_by"] and body["wording"] == "household"
    assert {c["id"]: c.get("yours") for c in body["cases"]} == {here: True, there: False}
    assert "贫困识别公告" in body["posted_text"]
    county = api("cs").get(f"/api/v1/notices/{notice}").json()
    assert county["yours"] is None and all("yours" not in c for c in county["cases"])
    assert api("vs2").get(f"/api/v1/notices/{township_notice(world)}").status_code == 404


def test_the_notice_page_and_the_village_page_show_the_countys_announcement(world, world_clients):
    here, _there, notice = county_announcement(world)
    page, _api = world_clients
    client = page("vs")
    shown = client.get(f"/notices/{notice}")
    assert shown.status_code == 200, shown.text               # before: 404
    assert 'id="notice-yours" data-yours="1"' in shown.text
    assert "由宁都县（县级）发布，列有您辖区内 1 户" in shown.text
    assert f'<tr data-case="{here}" data-yours class="yours">' in shown.text
    county = page("cs").get(f"/notices/{notice}")                 # the level that posted it: as before
    assert county.status_code == 200 and 'id="notice-yours"' not in county.text and "data-yours" not in county.text
    printed = client.get(f"/notices/{notice}/print")
    assert printed.status_code == 200 and "贫困识别公告" in printed.text
    village = client.get(f"/villages/{VILLAGE}/list")
    assert village.status_code == 200
    item = village.text.split(f'data-notice="{notice}"')[1].split("</li>")[0]
    assert 'data-posted-above="1"' in item and "宁都县（县级）发布，列有本村 1 户" in item, item
    listed = {n["id"]: n for n in village_notices(world.app, world["vs"], VILLAGE)}
    assert listed[notice]["above"] == {"region": "宁都县", "level": "county"} and listed[notice]["listed"] == 1
    assert page("vs2").get(f"/notices/{township_notice(world)}").status_code == 404
