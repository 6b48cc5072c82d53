"""A person's trace a page at a time (stop 46): an inspector opening the trace of a cadre who signed
151,200 steps waited 14 s for a 19 MB page, every step and responsibility read, filtered and grouped in
Python. The groups are now counted by the database within the reader's jurisdiction, and the steps and
responsibilities come a page at a time, newest first, with a link to the older ones and a filter by
group: on the page, the API and the command line alike."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.domain.errors import BadInput
from engine.reads.trace import Page, person_trace
from engine.services.org import NewPerson, add_persons, add_regions, authenticate, grant_role, load_actor
from tests.test_accountability import cli
from tests.test_dossier import three_exits

GROUP = "identification:application:village_secretary"
FAR_VILLAGE = "360731100201"


def busy(world) -> tuple[list[int], list[int]]:
    """The village secretary signs the application of 5 households of their village (a list) and,
    given a post in a village of the next county (as its other cadres are), of 2 households there,
    whose inspector is insp_s.
    The households of each."""
    admin = authenticate(world.app, "admin", world.tokens["admin"])
    add_regions(world.app, admin, [("360731000000", "石城县"), ("360731100000", "琴江镇"), (FAR_VILLAGE, "大畲村")])
    for code, role in (("vs", "village_secretary"), ("vd", "village_director"), ("fs", "first_secretary"),
                       ("tl", "resident_team_leader")):       # the others: someone left to sign what follows
        grant_role(world.app, admin, code, role, FAR_VILLAGE)
    add_persons(world.app, admin, [NewPerson("insp_s", "石城县纪委", (("inspector", "360731000000"),), enrol=False)])
    with world.app.engine.connect() as conn:
        for code in ("vs", "insp_s"):
            world.actors[code] = load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).one())
    ours = [world.household() for _ in range(5)]
    far = [world.household(village=FAR_VILLAGE) for _ in range(2)]
    world.step("vs", "identification", "application", ours)
    world.step("vs", "identification", "application", far)
    return ours, far


def signed_cases(world, cases: list[int]) -> list[int]:
    """The cases of the secretary's application steps on `cases`, newest step first."""
    s = t.steps.c
    with world.app.engine.connect() as conn:
        return list(conn.execute(select(s.case_id).where(s.case_id.in_(cases), s.step_key == "application")
                                 .order_by(s.id.desc())).scalars())


def test_the_steps_come_a_page_at_a_time_and_every_one_is_counted_within_the_readers_jurisdiction(world):
    ours, far = busy(world)
    newest = signed_cases(world, ours)
    pages = [person_trace(world.app, world["insp"], "vs", steps=Page(limit=2))]
    while pages[-1]["steps_older"]:
        pages.append(person_trace(world.app, world["insp"], "vs", steps=Page(pages[-1]["steps_older"], limit=2)))
    assert [[s["case_id"] for s in p["steps"]] for p in pages] == [newest[:2], newest[2:4], newest[4:]]
    [group] = pages[0]["step_groups"]           # the summary counts all 5, whichever page is shown, not the 2
    assert (group["key"], group["count"], group["cases"], group["case_ids"]) == (GROUP, 5, 5, sorted(ours))
    assert group["first"] == group["last"] == "2019-01-10" and group["voided"] == 0
    # the next county's inspector: its 2 counted and shown, the first county's 5 neither
    theirs = person_trace(world.app, world["insp_s"], "vs", steps=Page(limit=2))
    assert [(g["count"], g["case_ids"]) for g in theirs["step_groups"]] == [(2, sorted(far))]
    assert [s["case_id"] for s in theirs["steps"]] == signed_cases(world, far) and theirs["steps_older"] is None
    # one group only; a group the person has none of is said so, with theirs
    only = person_trace(world.app, world["insp"], "vs", steps=Page(group=GROUP, limit=10))
    assert len(only["steps"]) == 5 and only["steps_group"] == GROUP
    with pytest.raises(BadInput) as unknown:
        person_trace(world.app, world["insp"], "vs", steps=Page(group="exit:proposal:village_secretary"))
    assert unknown.value.code == "trace.unknown_group" and GROUP in str(unknown.value.params["known"])


def test_responsibilities_come_a_page_at_a_time_counted_whole(world):
    cases = three_exits(world)
    everything = person_trace(world.app, world["insp"], "ch", responsibilities=Page(limit=1000))["responsibilities"]
    pages = [person_trace(world.app, world["insp"], "ch", responsibilities=Page(limit=2))]
    while pages[-1]["responsibilities_older"]:
        pages.append(person_trace(world.app, world["insp"], "ch", responsibilities=Page(
            pages[-1]["responsibilities_older"], limit=2)))
    shown = [r["id"] for p in pages for r in p["responsibilities"]]
    assert len(everything) > 3 and shown == [r["id"] for r in everything] == sorted(shown, reverse=True)
    assert sum(g["count"] for g in pages[0]["responsibility_groups"]) == len(everything)
    [exits] = [g for g in pages[0]["responsibility_groups"] if g["key"] == "exit:main_leadership:county_head"]
    assert (exits["count"], exits["cases"], exits["case_ids"]) == (3, 3, cases)
    only = person_trace(world.app, world["insp"], "ch", responsibilities=Page(group=exits["key"], limit=2))
    assert [r["case_id"] for r in only["responsibilities"]] == cases[:0:-1] and only["responsibilities_older"]


def test_the_page_counts_every_step_and_pages_on_to_the_older_ones(world, world_clients, monkeypatch):
    monkeypatch.setattr("engine.reads.trace.ROWS_PAGE", 2)
    ours, far = busy(world)
    newest = signed_cases(world, ours)
    page, _ = world_clients
    inspector = page("insp")
    html = inspector.get("/inspect/trace/person/vs").text
    steps = section(html, 'id="steps"')
    assert re.search(r'class="num count"><a href="[^"]+">5</a>', steps) and "5 个案件" in steps   # every one
    assert case_links(steps) == newest[:2]
    seen = row_ids(steps)
    while 'id="steps-older"' in steps:
        older = unescape(re.search(r'id="steps-older" href="([^"]+)"', steps).group(1))
        steps = section(inspector.get(older).text, 'id="steps"')
        assert row_ids(steps) and max(row_ids(steps)) < min(seen)
        seen += row_ids(steps)
    assert len(seen) == 5 == len(set(seen)) and case_links(steps) == newest[4:]
    assert not any(f'/inspect/trace/case/{c}"' in html for c in far)        # nothing of the next county's
    # a group's count is a link to its steps only, paged as well
    link = unescape(re.search(r'class="num count"><a href="([^"]+)"', section(html, 'id="steps"')).group(1))
    only = section(inspector.get(link).text, 'id="steps"')
    assert "steps=" in link and case_links(only) == newest[:2] and "steps=" in re.search(
        r'id="steps-older" href="([^"]+)"', only).group(1)
    theirs = section(page("insp_s").get("/inspect/trace/person/vs").text, 'id="steps"')
    assert re.search(r'class="num count"><a href="[^"]+">2</a>', theirs) and sorted(case_links(theirs)) == far
    assert inspector.get("/inspect/trace/person/vs", params={"steps": "no:such:group"}).status_code == 400


def test_the_api_and_the_command_line_page_alike(world, world_clients, monkeypatch):
    monkeypatch.setattr("engine.reads.trace.ROWS_PAGE", 2)
    ours, _ = busy(world)
    newest = signed_cases(world, ours)
    _, api = world_clients
    first = api("insp").get("/api/v1/trace/persons/vs").json()
    assert [s["case_id"] for s in first["steps"]] == newest[:2] and first["step_groups"][0]["count"] == 5
    second = api("insp").get("/api/v1/trace/persons/vs", params={"steps_before": first["steps_older"]}).json()
    assert [s["case_id"] for s in second["steps"]] == newest[2:4]
    bad = api("insp", "en").get("/api/v1/trace/persons/vs", params={"steps": "no:such:group"})
    assert bad.status_code == 400 and "no group no:such:group" in bad.json()["message"]
    text = cli(world, "insp", "trace", "--person", "vs")
    assert text.code == 0, text.err
    assert "× 5" in text.out and f"--steps-before {first['steps_older']}" in text.out
    assert [int(c) for c in re.findall(r"^  \S+ #(\d+) .*申请", text.out, re.M)] == newest[:2]
    older = json.loads(cli(world, "insp", "trace", "--person", "vs", "--steps-before", str(first["steps_older"]),
                           "--json").out)
    assert [s["case_id"] for s in older["steps"]] == newest[2:4]
    grouped = json.loads(cli(world, "insp", "trace", "--person", "vs", "--steps", GROUP, "--json").out)
    assert grouped["steps_group"] == GROUP and [s["case_id"] for s in grouped["steps"]] == newest[:2]


def test_an_inspector_on_a_phone_pages_back_and_opens_a_group(phone, demo_home, core):
    """The demo's county head answers for more than a page of responsibilities: the groups count them
    all, the older page follows, and a group's count lists its own."""
    r = t.responsibilities.c
    with core.engine.connect() as conn:
        person = select(t.persons.c.id).where(t.persons.c.code == "county_head").scalar_subquery()
        total = conn.execute(select(func.count()).where(r.person_id == person)).scalar()
        kind, rtype, role, n = conn.execute(select(r.procedure_kind, r.type, r.role, func.count()).where(
            r.person_id == person).group_by(r.procedure_kind, r.type, r.role).order_by(func.count().desc())).first()
    assert total > 50
    phone.sign_in(*demo_home[1]["inspector"])
    page = phone.page
    phone.go("/inspect/trace/person/county_head")
    counts = page.locator("#responsibilities tr.group td.count").all_inner_texts()
    assert sum(int(c) for c in counts) == total
    rows = page.locator("#responsibilities table.rows tbody tr")
    first = [int(i) for i in rows.evaluate_all("rs => rs.map(r => r.dataset.id)")]
    assert len(first) == 50 and first == sorted(first, reverse=True)
    page.click("#responsibilities-older")
    page.wait_for_load_state("networkidle")
    older = [int(i) for i in rows.evaluate_all("rs => rs.map(r => r.dataset.id)")]
    assert len(older) == total - 50 and max(older) < min(first)
    page.locator(f"#responsibilities tr.group[data-group='{kind}:{rtype}:{role}'] td.count a").click()
    page.wait_for_load_state("networkidle")
    assert rows.count() == n and "只看：" in page.locator("#responsibilities").inner_text()
    phone.shot("inspector-person-group")


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]


def case_links(html: str) -> list[int]:
    """The cases of the rows listed (each row's first link), in order."""
    return [int(c) for c in re.findall(r'<tr data-id="\d+"[^>]*>.*?href="/inspect/trace/case/(\d+)"', html, re.S)]


def section(html: str, marker: str) -> str:
    start = html.index(marker)
    end = html.find("</section>", start)
    return html[start:end]
