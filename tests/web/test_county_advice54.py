"""The county's pages say who must put right an exit it is waiting for, not the village's instructions (a9
finding 9): county_director's /work showed a carried-over exit held by stale visit checks with "请重新入户核实，
在本户替换…再提出退出", the village's tasks, when the county can only reject it or wait. /work, the row's needs,
the case page, the village's list summary and the API now name the village's posts and village, the steps
putting it right voids, and what the county can do; the village's own needs keep its advice. SQLite and
PostgreSQL, through the web app."""
from __future__ import annotations

import re

from tests.test_exit_county54 import at_the_county
from tests.world import VILLAGE

COUNTY_LIST = "kind=household&procedure=exit&step=county_approval"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style).*?</\1>", "", html)))


def test_the_countys_work_says_who_must_put_it_right_and_what_it_can_do(world, world_clients, tmp_path):
    case = at_the_county(world, tmp_path)
    page, api = world_clients
    county = page("cd")
    work = county.get("/work")
    assert work.status_code == 200 and f'hx-get="/work/{case}/needs"' in work.text
    needs = _text(county.get(f"/work/{case}/needs").text)
    assert "住房安全鉴定登记于 2019-11-20" in needs and "这需由" in needs, needs
    assert "办理：重新入户核实并替换住房安全鉴定" in needs and "共 5 步" in needs
    assert "本级可以：选「不同意」并写明理由" in needs
    assert "请重新入户核实" not in needs and "--void-signoffs" not in needs
    assert "请重新入户核实" not in _text(county.get(f"/cases/{case}").text)
    holds = county.get(f"/villages/{VILLAGE}/list/holds?{COUNTY_LIST}")
    assert holds.status_code == 200 and "这需由" in _text(holds.text) and "请重新入户核实" not in holds.text
    english = api("cd", "en").get(f"/api/v1/cases/{case}/next")
    assert english.status_code == 200
    said = str(english.json())
    assert "you can: reject it with your reason" in said and "visit the household again and replace" in said


def test_the_villages_needs_keep_the_advice_addressed_to_it(world, world_clients, tmp_path):
    case = at_the_county(world, tmp_path)
    page, _api = world_clients
    needs = _text(page("vs").get(f"/work/{case}/needs").text)
    assert "请重新入户核实，在本户替换住房安全鉴定为本次核实的结果" in needs, needs
    assert "替换将作废「提出退出」及其后已办的共 5 步" in needs, "the county's refusal says what replacing voids"
    assert "这需由" not in needs and "本级可以" not in needs
