"""A list over a region, and a list's appraisal votes (s53 h1): the API's `/steps/each` takes a `region`
as `step --region` does (every case of it waiting at the step, one list, one batch id, every case told;
a region out of the reader's jurisdiction refused for that; none waiting, an empty answer); one count of
votes for and against given for a list of more than one household is refused in words, saying to give
each household's (`--vote`, the API's `votes`), on the command line and the API alike, nothing written;
a single household may still be given `--for`/`--against`."""
from __future__ import annotations

import html
import re
from datetime import date

from sqlalchemy import func, select

from engine.adapters import tables as t
from tests.test_accountability import cli
from tests.world import COUNTY, TOWNSHIP, VILLAGE, VILLAGE2, member_ids
from workflows.household import MemberInput, register_household


def _waiting(world, count: int, village: str = VILLAGE, by: str = "vs") -> list[int]:
    cases = [world.household(village=village, by=by) for _ in range(count)]
    world.on(date(2019, 3, 1))
    return cases


def _applied(world, count: int) -> list[int]:
    cases = _waiting(world, count)
    world.step("vs", "identification", "application", cases)
    return cases


def _batches(world, cases: list[int], step: str) -> set:
    """The batch ids the cases' traces give the step (None: done alone); no step done, none."""
    from engine.reads.trace import case_trace
    found = set()
    for case in cases:
        for s in (s for p in case_trace(world.app, world["cd"], case)["procedures"] for s in p["steps"]):
            if s["step"] == step:
                found.add(s["batch"] and s["batch"]["id"])
    return found


def _appraisals(world) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.steps).where(t.steps.c.step_key == "appraisal")).scalar()


def test_the_apis_list_step_takes_a_region_as_step_region_does(world, world_clients):
    here = _waiting(world, 3)
    elsewhere = _waiting(world, 1, VILLAGE2, by="vs2")
    _page, api = world_clients
    secretary = api("vs")
    body = {"procedure": "identification", "step": "application", "date": "2019-03-01"}
    answer = secretary.post("/api/v1/steps/each", json={**body, "region": VILLAGE})
    assert answer.status_code == 200, answer.text
    said = answer.json()
    assert sorted(d["case_id"] for d in said["done"]) == sorted(here) and said["refused"] == []
    assert len(_batches(world, here, "application")) == 1 and None not in _batches(world, here, "application")
    # nothing waits there now: an empty answer, as `step --region` says there is none
    again = secretary.post("/api/v1/steps/each", json={**body, "region": "洋塘村"})
    assert again.status_code == 200 and again.json() == {"done": [], "refused": [], "refused_groups": []}
    # another township's village: refused for want of jurisdiction, its case untouched
    far = secretary.post("/api/v1/steps/each", json={**body, "region": VILLAGE2})
    assert far.status_code == 403 and far.json()["error"] == "auth.jurisdiction", far.text
    assert _batches(world, elsewhere, "application") == set()
    # a name no region of the reader's has: said, as the command line says it
    unknown = secretary.post("/api/v1/steps/each", json={**body, "region": "没有这个村"})
    assert unknown.status_code in (400, 404) and "没有这个村" in unknown.json()["message"], unknown.text
    assert "region" in api("vs").get("/api/v1/openapi.json").json()["components"]["schemas"]["EachStepRequest"][
        "properties"]


def test_the_apis_region_list_tells_every_case_done_or_refused_in_one_batch(world, world_clients):
    ready = _waiting(world, 2)
    late = register_household(world.app, world["vs"], VILLAGE,       # no application yet: refused, told too
                              [MemberInput("未交申请", member_ids(1, 977)[0], "head")], ["illness"])
    _page, api = world_clients
    answer = api("vs").post("/api/v1/steps/each", json={"procedure": "identification", "step": "application",
                                                         "region": VILLAGE, "date": "2019-03-01"})
    assert answer.status_code == 200, answer.text
    said = answer.json()
    assert sorted(d["case_id"] for d in said["done"]) == sorted(ready)
    assert [r["case_id"] for r in said["refused"]] == [late] and said["refused_groups"][0]["case_ids"] == [late]


def test_shared_votes_for_a_list_are_refused_on_the_command_line_and_the_api(world, world_clients):
    first, second = _applied(world, 2)
    minutes = world.minutes()
    before = _appraisals(world)
    run = cli(world, "vd", "step", "identification", "appraisal", first, second, "--date", "2019-03-01",
              "--attendance", "40", "--for", "35", "--against", "2", "--minutes", minutes)
    assert run.code == 2, (run.out, run.err)
    assert "不能共用一组赞成、反对票数" in run.err and "--vote" in run.err and "Traceback" not in run.err
    english = cli(world, "vd", "step", "identification", "appraisal", first, second, "--date", "2019-03-01",
                  "--attendance", "40", "--for", "35", "--minutes", minutes, lang="en")
    assert english.code == 2 and "cannot share one count of votes" in english.err, english.err
    _page, api = world_clients
    body = {"procedure": "identification", "step": "appraisal", "date": "2019-03-01", "attendance": 40,
            "votes_for": 35, "votes_against": 2}
    for route, ids in (("/api/v1/steps", [first, second]), ("/api/v1/steps/each", [first, second])):
        answer = api("vd").post(route, json={**body, "case_ids": ids})
        assert answer.status_code == 400 and answer.json()["error"] == "step.shared_votes", answer.text
        assert "`--vote" in answer.json()["message"]
    region = api("vd").post("/api/v1/steps/each", json={**body, "region": VILLAGE})
    assert region.status_code == 400 and region.json()["error"] == "step.shared_votes", region.text
    assert _appraisals(world) == before, "nothing written"
    # one household: its own votes given as --for/--against
    alone = cli(world, "vd", "step", "identification", "appraisal", first, "--date", "2019-03-01",
                "--attendance", "40", "--for", "35", "--against", "2", "--minutes", minutes)
    assert alone.code == 0, alone.err
    # the list, each household's own
    each = cli(world, "vd", "step", "identification", "appraisal", second, "--region", VILLAGE, "--date", "2019-03-01",
               "--attendance", "40", "--vote", f"{second}:30:6", "--minutes", minutes)
    assert each.code == 0, each.err


def _page_cases(html: str) -> list[int]:
    return [int(c) for c in re.findall(r'name="case" value="(\d+)"', html)]


def test_a_countys_list_is_shown_a_page_at_a_time_under_how_many_wait_in_each_village(world, world_clients,
                                                                                      monkeypatch):
    from engine.reads import village_lists
    monkeypatch.setattr(village_lists, "LIST_PAGE", 3)
    here = _waiting(world, 4)
    there = _waiting(world, 2, VILLAGE2, by="vs2")
    page, _api = world_clients
    director = page("cd")
    url = f"/villages/{COUNTY}/list?kind=household&procedure=identification&step=application"
    first = director.get(url)
    assert first.status_code == 200, first.text[:500]
    assert _page_cases(first.text) == here[:3], "the first page: its 3 households, not the 6"
    villages = re.search(r'<details[^>]*id="list-villages".*?</details>', first.text, re.S).group(0)
    assert re.search(rf'data-village="{VILLAGE}" data-count="4"><a href="/villages/{VILLAGE}/list\?kind=household'
                     r'&amp;procedure=identification&amp;step=application">洋塘村', villages), villages
    assert f'data-village="{VILLAGE2}" data-count="2"' in villages and "2 个村共 6 户" in villages
    said = re.sub(r"<[^>]+>", "", re.search(r'<p[^>]*id="list-page".*?</p>', first.text, re.S).group(0))
    assert "本页第 1–3 户，共 6 户" in said and "下一页（3 户）" in said
    nxt = re.search(r'id="next-page" href="([^"]+)"|href="([^"]+)" id="next-page"', first.text)
    second = director.get(html.unescape(next(g for g in nxt.groups() if g)))
    assert _page_cases(second.text) == [here[3], *there], "the rest, by village then case: none twice, none left"
    assert 'id="next-page"' not in second.text and 'id="first-page"' in second.text
    assert "本页第 4–6 户，共 6 户" in re.sub(r"<[^>]+>", "", second.text)
    assert 'id="do-all"' in first.text and "为全部 6 户等待的各户办理" in first.text


def test_a_townships_list_does_every_household_waiting_on_every_page_in_one_action(world, world_clients,
                                                                                   monkeypatch):
    from engine.reads import village_lists
    monkeypatch.setattr(village_lists, "LIST_PAGE", 2)
    cases = _waiting(world, 5)
    world.up_to_first_notice(cases)
    world.on(date(2019, 3, 8))
    page, _api = world_clients
    staff = page("ts1")
    listed = staff.get(f"/villages/{TOWNSHIP}/list?kind=household&procedure=identification&step=township_review")
    assert len(_page_cases(listed.text)) == 2 and 'id="do-all" data-count="5"' in listed.text
    answer = staff.post(f"/villages/{TOWNSHIP}/list", data={
        "csrf": staff.csrf, "kind": "household", "procedure": "identification", "step": "township_review",
        "all": "1", "decision": "approve", "date": "2019-03-08"})
    assert answer.status_code == 200, answer.text[:800]
    assert 'data-done="5" data-refused="0"' in answer.text
    assert all(f'data-case="{c}" data-result="done"' in answer.text for c in cases)     # each told
    assert len(_batches(world, cases, "township_review")) == 1 and None not in _batches(world, cases, "township_review")
    # an appraisal's votes are each household's, typed on its page: no "all" for it
    more = _waiting(world, 2)
    world.step("vs", "identification", "application", more)
    appraisal = staff.get(f"/villages/{TOWNSHIP}/list?kind=household&procedure=identification&step=appraisal")
    assert appraisal.status_code == 200 and len(_page_cases(appraisal.text)) == 2
    assert 'id="do-all"' not in appraisal.text
