"""The township's page of who has not visited (a10 #5), reached from /supervise: each pairing cadre with
their households, the last visit (day, by whom), those overdue against the policy's interval marked and
first; the whole list as CSV; a village post reads its own village's (p3), another's region is one that does not exist."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

from engine.services.case_actions import record_visit
from tests.world import TOWNSHIP2


def _words(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def two_paired(world) -> list[int]:
    """Two households of the village, pc1's never visited, pc3's visited on 2019-08-20; the day 2019-09-01."""
    cases = [world.household() for _ in range(2)]
    world.identify(cases)
    world.assist(cases[0], first="pc1", second=None)
    world.assist(cases[1], first="pc3", second=None)
    world.on(date(2019, 9, 1))
    record_visit(world.app, world["pc3"], cases[1], date(2019, 8, 20), "收入稳定")
    return cases


def test_the_township_head_sees_who_has_not_visited_and_downloads_it(world, world_clients):
    page, _ = world_clients
    cases = two_paired(world)
    head = page("th")
    assert 'href="/supervise/visits"' in head.get("/supervise").text
    found = head.get("/supervise/visits")
    assert found.status_code == 200, found.text
    rows = re.findall(r'<tr data-case="(\d+)" data-cadre="(\w+)"( data-overdue)?', found.text)
    assert rows == [(str(cases[0]), "pc1", " data-overdue"), (str(cases[1]), "pc3", "")]
    said = _words(found.text)
    assert "从未走访（2019-03-20 起结对）" in said and "2019-08-20 · " + world["pc3"].name in said
    assert "超过 92 天" in said and "共 1 条" in said
    overdue = head.get("/supervise/visits?overdue=1").text
    assert re.findall(r'<tr data-case="(\d+)"', overdue) == [str(cases[0])]
    download = head.get("/supervise/visits.csv")
    assert download.status_code == 200
    table = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert table[0][:4] == ["帮扶责任人", "结对", "案件", "户"] and len(table) == 3
    assert table[1][2] == str(cases[0]) and table[1][7] == "逾期未走访" and table[2][4] == "2019-08-20"
    head.cookies.set("lang", "en")
    assert "first pairing cadre" in head.get("/supervise/visits").text
    assert head.get(f"/supervise/visits?region={TOWNSHIP2}").status_code == 404
    assert page("vs").get("/supervise/visits").status_code == 200          # its village's (p3: as the CLI)
    assert head.get("/supervise/visits?after=nonsense").status_code == 400


def test_the_demo_has_its_pairing_cadres_visits_and_one_of_them_signs_in(web, signed_in, demo_home):
    """a10 #13: the demo's year holds pairing cadres' visits (the first village's, each quarter), shown on the
    township head's page; a pairing cadre signs in (the sign-in summary's kind, a token in demo-tokens.csv)
    and finds their households on /work."""
    settings, sign_ins = demo_home
    code = sign_ins["pairing"][0]
    assert code == "v01_pc001"
    assert code in (settings.home / "demo-tokens.csv").read_text(encoding="utf-8")
    page = signed_in("supervisor").get("/supervise/visits").text
    visited = re.findall(r'<span class="date">(2020-0[69]-\d\d)</span> · ', page)
    assert visited, page
    work = signed_in("pairing").get("/work").text
    assert 'id="paired"' in work and "第一帮扶责任人" in work
