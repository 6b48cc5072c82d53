"""A village-list appraisal votes on each household (a7 #8): the list takes each household's own votes
in its row (one meeting: one attendance, one minutes file), a household left blank is refused saying
its votes are missing; `step --vote CASE:FOR:AGAINST` and the API's `votes` do the same."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from tests.test_accountability import cli
from tests.test_evidence_files import JPEG
from tests.world import VILLAGE


def _applied(world, count: int) -> list[int]:
    cases = [world.household() for _ in range(count)]
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", cases)
    return cases


def _votes(world, cases: list[int]) -> dict[int, tuple]:
    with world.app.engine.connect() as conn:
        rows = conn.execute(select(t.steps.c.case_id, t.steps.c.data, t.steps.c.decision).where(
            t.steps.c.case_id.in_(cases), t.steps.c.step_key == "appraisal")).all()
    return {r.case_id: (r.data["attendance"], r.data["votes_for"], r.data["votes_against"], r.decision) for r in rows}


def test_a_village_lists_appraisal_records_each_households_own_votes(world, world_clients):
    page, _api = world_clients
    first, second, blank = _applied(world, 3)
    director = page("vd")
    listed = director.get(f"/villages/{VILLAGE}/list", params={"procedure": "identification", "step": "appraisal"}).text
    assert all(f'name="vf_{c}"' in listed and f'name="va_{c}"' in listed for c in (first, second, blank))
    assert 'name="votes_for"' not in listed            # no single vote for the whole list
    assert "每户分别表决" in listed
    form = {"csrf": director.csrf, "kind": "household", "procedure": "identification", "step": "appraisal",
            "case": [str(first), str(second), str(blank)], "attendance": "40",
            f"vf_{first}": "35", f"va_{first}": "2", f"vf_{second}": "12", f"va_{second}": "25"}
    done = director.post(f"/villages/{VILLAGE}/list", data=form,
                         files={"minutes": ("评议会议记录.jpg", JPEG, "image/jpeg")})
    assert done.status_code == 200 and 'data-done="2" data-refused="1"' in done.text, done.text[:800]
    assert "须填写非负整数：赞成票" in re.sub(r"<[^>]+>", "", done.text)     # the blank household: its votes missing
    assert _votes(world, [first, second, blank]) == {first: (40, 35, 2, "approved"), second: (40, 12, 25, "rejected")}


def test_step_vote_gives_each_household_its_own_votes_on_the_command_line(world):
    first, second = _applied(world, 2)
    minutes = world.minutes()
    run = cli(world, "vd", "step", "identification", "appraisal", first, second, "--date", "2019-03-01",
              "--attendance", "30", "--vote", f"{first}:25:3", "--vote", f"{second}：20：5", "--minutes", minutes)
    assert run.code == 0, run.err
    assert _votes(world, [first, second]) == {first: (30, 25, 3, "approved"), second: (30, 20, 5, "approved")}
    bad = cli(world, "vd", "step", "identification", "appraisal", first, "--vote", f"{first}:25", "--attendance", "30")
    assert bad.code != 0 and "案件编号:赞成票数:反对票数" in bad.err
