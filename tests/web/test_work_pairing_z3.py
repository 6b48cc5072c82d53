"""A pairing cadre's /work (a10 #14, #15): each of their households held up overdue at another's step (the
township's review of its exit) says so under it, with what, whose and since when; the English page names the
slot 'first pairing cadre', never a bare 'first'."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from tests.helpers.refusals import assisted_household, walk


def _words(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_pairing_cadre_is_told_when_their_household_stalls_above_them(world, world_clients, tmp_path):
    page, _ = world_clients
    case = assisted_household(world, tmp_path)                       # pc1 first, pc2 second
    walk(world, "exit", case, until="township_review")               # waiting for the township since 2019-11-20
    with world.app.engine.connect() as conn:
        due = conn.execute(select(t.deadlines.c.due_on).where(
            t.deadlines.c.case_id == case, t.deadlines.c.status == "open", t.deadlines.c.step_key == "township_review")
        ).scalar_one()
    cadre = page("pc1")
    assert "data-stalled" not in cadre.get("/work").text              # not late yet: nothing said
    world.on(date(2020, 1, 20))
    cadre = page("pc1")                                               # signed in again, two months on
    work = cadre.get("/work").text
    line = re.search(rf'<p class="hint stalled" data-stalled="{case}">(.*?)</p>', work, re.S)
    assert line, work
    said = _words(line.group(1))
    assert "脱贫退出 · 乡镇审核" in said and f"{due.isoformat()} 起逾期" in said, said
    cadre.cookies.set("lang", "en")
    english = _words(cadre.get("/work").text)
    assert "first pairing cadre" in english and " first</" not in cadre.get("/work").text
    assert "Held up above you" in english
