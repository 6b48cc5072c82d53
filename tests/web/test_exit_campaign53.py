"""The county sees the exit campaign while it runs (a9 #8). Before, /supervise and its assessment moved only
when an exit was announced: the households at the proposal, the notice, the township's review or the county's
approval appeared nowhere, and /supervise/cases filtered by stage or exit month only. Now /supervise shows,
per township, how many households wait at each step of the exit procedure and how many exited this year,
each number a link to those households (/supervise/cases?waiting=exit.STEP, which filters by the step a
household waits at). SQLite and PostgreSQL, through the web app."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient

from engine.reads import dashboard
from engine.services.accounts import activate_all, open_session
from engine.services.org import NewPerson, add_persons, authenticate
from entrypoints.web.app import create_app
from tests.world import TOWNSHIP, VILLAGE


def _campaign(world, tmp_path) -> dict[str, int]:
    """Four assisted households: one not proposed, one at verification, one at the township's review, one
    exited (announced) in 2019; the county reads it on 2019-11-28."""
    tokens = activate_all(world.app, add_persons(world.app, world["admin"], [NewPerson(
        "pc4", "帮扶干部四", (("pairing_cadre", VILLAGE),))]))
    world.actors["pc4"] = authenticate(world.app, "pc4", tokens["pc4"])
    cases = [world.household() for _ in range(4)]
    world.identify(cases)
    for case, cadre in zip(cases, ("pc4", "pc1", "pc2", "pc3")):       # one household each (their load)
        world.assist(case, first=cadre, second=None)
    for case in cases[1:]:
        world.exit_evidence(case, tmp=tmp_path)
    world.exit(cases[1], through="proposal")
    world.exit(cases[2], through="village_notice")
    world.exit(cases[3])
    return {"idle": cases[0], "verification": cases[1], "township_review": cases[2], "exited": cases[3]}


def _client(world, who: str) -> TestClient:
    client = TestClient(create_app(world.app))
    client.cookies.set("jz_session", open_session(world.app, world[who])[0])
    return client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style).*?</\1>", "", html)))


def test_the_county_sees_each_step_of_the_exit_campaign_per_township_with_links(world, tmp_path):
    at = _campaign(world, tmp_path)
    campaign = dashboard.exit_campaign(world.app, world["cd"], 2019)
    assert campaign["procedure"] == "exit" and campaign["steps"][0] == "proposal"
    [row] = campaign["rows"]
    assert row["township"] == TOWNSHIP and row["name"] == "梅江镇"
    assert row["counts"]["proposal"] == 1 and row["counts"]["verification"] == 1, row
    assert row["counts"]["township_review"] == 1 and row["counts"]["county_approval"] == 0, row
    assert row["exited"] == 1 and campaign["totals"]["verification"] == 1

    client = _client(world, "cd")
    home = client.get("/supervise")
    assert home.status_code == 200
    section = home.text[home.text.index('id="exit-campaign"'):]
    said = _text(section[:section.index("</section>")])
    assert "2019 年脱贫退出进度" in said and "评议并提出退出 入户核实" in said, said
    assert "梅江镇" in said and "乡镇审核" in said and "2019 年已退出" in said, said
    link = re.search(r'href="(/supervise/cases\?township=' + TOWNSHIP + r'&amp;waiting=exit.verification)"', section)
    assert link, section[:2000]
    listed = client.get(link.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200
    assert f'data-case="{at["verification"]}"' in listed.text
    assert f'data-case="{at["township_review"]}"' not in listed.text and f'data-case="{at["idle"]}"' not in listed.text
    assert "停在：脱贫退出 · 入户核实" in _text(listed.text)
    review = client.get("/supervise/cases?waiting=exit.township_review")
    assert f'data-case="{at["township_review"]}"' in review.text and f'data-case="{at["verification"]}"' not in review.text

    client.cookies.set("lang", "en")
    english = _text(client.get("/supervise").text)
    assert "Exited in 2019" in english and "where each household stands" in english, english[:1500]
    client.cookies.set("lang", "zh")

    wrong = client.get("/supervise/cases?waiting=exit.nowhere")
    assert wrong.status_code == 400, wrong.status_code
    assert "exit.nowhere" in _text(wrong.text) and "exit.verification" in _text(wrong.text)


def test_the_township_sees_only_its_own_campaign(world, tmp_path):
    _campaign(world, tmp_path)
    other = dashboard.exit_campaign(world.app, world["ts_other"], 2019)
    assert other["rows"] == [] and other["totals"]["verification"] == 0
