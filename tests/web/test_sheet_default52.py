"""The evidence sheet opened for a type (a7 #13): the households whose next step needs it, not the
whole village's 200 with the new applicants on page 5, and its count said truly, again after a save."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from engine.adapters import tables as t
from tests.web.bulk_world import VILLAGE, core, demo_home, new_households, web  # noqa: F401

SHEET = f"/villages/{VILLAGE}/evidence?kind=household&type=application"


def _rows(html: str) -> list[int]:
    return [int(c) for c in re.findall(r'<tr data-case="(\d+)">', html)]


def _count(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r'<span id="sheet-missing"[^>]*>(.*?)</span>', html, re.S).group(1))


def test_the_sheet_opens_on_the_households_whose_next_step_needs_it_and_counts_them(signed_in, core):
    new = new_households(core, 4, "新申请户", "36213119620", 520)
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
