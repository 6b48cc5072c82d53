"""A village's list for a step says once, for the whole list, what holds its households back: each condition
with how many households it holds and which, the figures that differ between them as …, and the village's
evidence sheet for the item to enter again or at all. Before, a village secretary with 25 households waiting
for their exit proposal read each household's four conditions under it, the same three stale checks 25 times,
and nothing said that one round of visits entered on the evidence sheet clears them all."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient

from engine.services.accounts import open_session
from tests.web.bulk_world import VILLAGE, actor, core, demo_home, township_list, web  # noqa: F401

EXIT_VILLAGE = "360730100205"         # the demo's 黄陂村: a household waiting for its exit proposal, four conditions
EXIT = "kind=household&procedure=exit&step=proposal"
REVIEW = "kind=household&procedure=identification&step=township_review"


def client_as(web, core, code: str, lang: str = "zh") -> TestClient:  # noqa: F811
    client = TestClient(web, follow_redirects=False)
    client.cookies.set("jz_session", open_session(core, actor(core, code))[0])
    client.cookies.set("lang", lang)
    return client


def _groups(html: str) -> list[tuple[int, str]]:
    return [(int(n), re.sub(r"<[^>]+>", "", text)) for n, text in
            re.findall(r'<li data-count="(\d+)">(.*?)<details>', html, re.S)]


def test_the_list_loads_its_summary_and_each_stale_check_is_said_once_with_its_evidence_sheet(web, core):  # noqa: F811
    client = client_as(web, core, f"v{int(EXIT_VILLAGE[-2:]):02d}_secretary")
    listed = client.get(f"/villages/{EXIT_VILLAGE}/list?{EXIT}")
    assert listed.status_code == 200
    loads = re.search(r'id="list-holds" hx-get="([^"]+)"', listed.text)
    assert loads, "the list's page loads its summary"
    holds = client.get(loads.group(1).replace("&amp;", "&"))
    assert holds.status_code == 200 and "还不能办理的原因" in holds.text
    assert re.search(r"等待此步骤的 (\d+) 户中，现在可以办理 0 户", holds.text)
    groups = _groups(holds.text)
    stale = [text for _n, text in groups if "早于本次退出认可的最早日期" in text]
    assert len(stale) == 3 and len(set(stale)) == 3, groups     # food and clothing, housing, water: once each
    sheets = re.findall(rf'href="/villages/{EXIT_VILLAGE}/evidence\?type=([a-z_]+)&amp;kind=household"', holds.text)
    # each visit check its own sheet, and this year's income (none recorded for 2020, a9 #2)
    assert set(sheets) >= {"two_assurances", "housing_safety", "drinking_water", "income_assessment"}, sheets
    assert all(client.get(f"/villages/{EXIT_VILLAGE}/evidence?type={s}").status_code == 200 for s in set(sheets))
    assert any(text.startswith("1 户：尚未登记 2020 年的收入核算") for _n, text in groups), groups
    english = client_as(web, core, f"v{int(EXIT_VILLAGE[-2:]):02d}_secretary", "en").get(loads.group(1).replace("&amp;", "&"))
    assert "what holds households back" in english.text and "1 household(s)" in english.text


def test_a_township_s_review_list_says_which_household_an_objection_or_a_running_notice_holds(web, core):  # noqa: F811
    made = township_list(core, 4)                 # two ready, one objected, one whose notice still runs
    client = client_as(web, core, "t1_staff1")
    holds = client.get(f"/villages/{VILLAGE}/list/holds?{REVIEW}")
    assert holds.status_code == 200, holds.text
    ready = int(re.search(r"现在可以办理 (\d+) 户", holds.text).group(1))
    assert ready >= len(made.ready)
    held = {}
    for block in re.findall(r'<li data-count="\d+">.*?</details></li>', holds.text, re.S):
        for case in re.findall(r'href="/cases/(\d+)"', block):
            held.setdefault(int(case), []).append(re.sub(r"<[^>]+>", "", block.split("<details>")[0]))
    assert made.objected in held and any("异议" in text for text in held[made.objected]), held.get(made.objected)
    assert made.running in held and any("公示" in text for text in held[made.running]), held.get(made.running)
    assert not set(made.ready) & set(held)
    assert "姓名" not in holds.text and "身份证" not in holds.text


def test_a_list_out_of_reach_or_of_no_such_step_is_refused(web, core):  # noqa: F811
    client = client_as(web, core, "v01_secretary")
    assert client.get(f"/villages/{EXIT_VILLAGE}/list/holds?{EXIT}").status_code == 404     # another village
    wrong = client.get(f"/villages/{VILLAGE}/list/holds?kind=household&procedure=exit&step=nope")
    assert wrong.status_code == 400 and "nope" in wrong.text and "Traceback" not in wrong.text
