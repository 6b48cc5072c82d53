"""Choosing a pairing cadre (a7 #12): the cadres with room come first, the full ones last in a group of
their own (not 191 greyed-out lines above the first that can be chosen), with a box to type a name in."""
from __future__ import annotations

import re


def _select(html: str, name: str) -> str:
    return re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)


def test_the_pairing_form_offers_the_cadres_with_room_first_and_a_filter(world, world_clients):
    page, _api = world_clients
    paired, waiting = world.household(), world.household()
    world.identify([paired, waiting])
    world.step("ts1", "assistance", "pairing", paired, first_cadre="pc1", second_cadre="pc2")   # pc1: full (1/1)
    html = page("ts1").get(f"/cases/{waiting}").text
    first = _select(html, "first_cadre")
    offered = re.findall(r'<option value="([^"]+)"', first)
    assert offered[-1] == "pc1" and offered[0] != "pc1", offered       # the full one last, not on top
    room, full = re.findall(r'<optgroup label="([^"]+)"', first)
    assert room.startswith("有空余名额") and full.startswith("已满")
    assert re.search(r'<option value="pc1" disabled>', first)
    assert "data-filter-select" in html and "输入姓名或编号筛选" in html
