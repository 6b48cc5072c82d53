"""The evidence sheet opened for a type (a7 #13): the households whose next step needs it, not the
whole village's 200 with the new applicants on page 5, and its count said truly, again after a save."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from stdnum.cn import ric

from engine.adapters import tables as t
from tests.web.bulk_world import VILLAGE, actor, core, demo_home, web  # noqa: F401
from workflows.household import HouseholdInput, MemberInput, register_households

SHEET = f"/villages/{VILLAGE}/evidence?kind=household&type=application"


def _applicants(core, count: int) -> list[int]:
    members = []
    for serial in range(count):
        body = f"36213119620{(serial % 9) + 1}{(serial % 28) + 1:02d}{(520 + serial) % 1000:03d}"
        members.append([MemberInput(f"新申请户{serial}", body + ric.calc_check_digit(body + "0"), "head")])
    return register_households(core, actor(core, "v01_secretary"), VILLAGE,
                               [HouseholdInput(m, ["illness"]) for m in members])


def _rows(html: str) -> list[int]:
    return [int(c) for c in re.findall(r'<tr data-case="(\d+)">', html)]


def _count(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r'<span id="sheet-missing"[^>]*>(.*?)</span>', html, re.S).group(1))


def test_the_sheet_opens_on_the_households_whose_next_step_needs_it_and_counts_them(signed_in, core):
    new = _applicants(core, 4)
    with core.engine.connect() as conn:
        village = conn.execute(select(func.count()).select_from(t.cases).where(
            t.cases.c.region_code == VILLAGE, t.cases.c.kind == "household")).scalar()
    client = signed_in("cadre")
    page = client.get(SHEET).text
    rows = _rows(page)
    assert set(new) <= set(rows) and len(rows) < village, (len(rows), village)
    assert all("下一步需要" in re.search(rf'<tr data-case="{c}">(.*?)</tr>', page, re.S).group(1) for c in rows)
    before = _count(page)
    waiting = int(re.search(r"还有 (\d+) 户尚未录入", before).group(1))
    assert waiting == len(rows) and "全村另有" in before, before
    assert f"/villages/{VILLAGE}/evidence?kind=household&amp;type=application&amp;all=1" in page
    assert len(_rows(client.get(SHEET + "&all=1").text)) == min(village, 50)
    data = {"csrf": client.csrf, "kind": "household", "type": "application", "view": "needed",
            **{f"f_{c}_applicant": "户主本人" for c in new}, **{f"f_{c}_applied_on": "2020-10-12" for c in new}}
    saved = client.post(f"/villages/{VILLAGE}/evidence", data=data, headers={"HX-Request": "true"})
    assert 'data-written="4"' in saved.text, saved.text
    after = _count(saved.text)
    assert 'hx-swap-oob="true"' in saved.text
    assert (f"还有 {waiting - 4} 户尚未录入" in after) if waiting > 4 else "均已录入" in after, after
    assert _count(client.get(SHEET).text) == after
