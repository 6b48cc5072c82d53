"""A household imported assisted with no pairing cadre says so on its page, with what to do (a11 #2); one
the import paired shows its cadre and says nothing of it."""
from __future__ import annotations

import html
import re

from engine.services.org import NewPerson, add_persons
from tests.test_import_pairings55 import listed_household
from tests.world import VILLAGE
from workflows.household_import import import_households


def test_the_case_page_says_a_household_assisted_lacks_a_first_pairing_cadre(world, world_clients):
    add_persons(world.app, world["admin"], [NewPerson("p_wang", "王帮扶", (("pairing_cadre", VILLAGE),))])
    written = {}
    import_households(world.app, world["cd"], [listed_household(0, VILLAGE, "王帮扶"), listed_household(1, VILLAGE)], keep_good=False,
                      source={"file": "全县.csv", "sha256": "2" * 64}, on_problem=lambda *a: None,
                      on_skipped=lambda h: None, on_written=lambda h, case: written.update({h.key: case}))
    page, _api = world_clients
    client = page("ts1")
    lacking = client.get(f"/cases/{written['h1']}")
    assert lacking.status_code == 200
    said = re.search(r'id="no-first-cadre">(.*?)</p>', lacking.text, re.S)
    assert said and "没有在任的第一帮扶责任人" in html.unescape(said.group(1))
    assert "调整帮扶责任人" in html.unescape(said.group(1))
    paired = client.get(f"/cases/{written['h0']}")
    assert paired.status_code == 200 and 'id="no-first-cadre"' not in paired.text and "王帮扶" in paired.text
