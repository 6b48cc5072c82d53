"""A step done in a village's list is one act: its events share a batch id. The inspector sees it with
each such step, with how many cases the list did — in `trace` (text and --json), the printed trace,
the case's trace page (whose link lists the step events of every case of that list, and only those)
and the steps export (web and CLI write the same cells) — where a step done alone shows none. It was
in the audit log only: an inspector could not tell one list act from separate acts."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

from engine.reads.trace import case_trace, render_html

APPLICATION = ("identification", "application")


def _done(world) -> tuple[list[int], int]:
    """Three households' applications done as one list, and one's alone."""
    listed, alone = [world.household() for _ in range(3)], world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", *APPLICATION, listed)
    world.step("vs", *APPLICATION, alone)
    return listed, alone


def _batch_of(world, case: int) -> str | None:
    trace = case_trace(world.app, world["insp"], case)
    [step] = [s for p in trace["procedures"] for s in p["steps"] if s["step"] == "application"]
    return step["batch"] and step["batch"]["id"]


def test_the_trace_shows_the_batch_and_size_of_a_step_done_in_a_list(world, world_clients):
    _page, api = world_clients
    listed, alone = _done(world)
    batch = _batch_of(world, listed[0])
    assert batch and _batch_of(world, listed[2]) == batch and _batch_of(world, alone) is None
    inspector = api("insp")
    text = inspector.post("/api/v1/cli", json={"argv": ["trace", str(listed[1])]}).json()
    assert text["exit"] == 0 and f"名单办理：批次 {batch}，本批共 3 个案件" in text["stdout"], text
    single = inspector.post("/api/v1/cli", json={"argv": ["trace", str(alone)]}).json()
    assert single["exit"] == 0 and "名单办理" not in single["stdout"]
    english = inspector.post("/api/v1/cli", json={"argv": ["trace", str(listed[1])], "lang": "en"}).json()
    assert f"done in a list: batch {batch}, 3 cases in all" in english["stdout"]

    data = json.loads(inspector.post("/api/v1/cli", json={"argv": ["trace", str(listed[1]), "--json"]}).json()["stdout"])
    [step] = [s for p in data["procedures"] for s in p["steps"] if s["step"] == "application"]
    assert step["batch"]["id"] == batch and step["batch"]["size"] == 3
    [event] = [e for e in data["events"] if e["step"] == "application"]
    assert event["batch"] == {"id": batch, "size": 3}

    printed = render_html(world.app, case_trace(world.app, world["insp"], listed[1]), "zh", "trace_case.html")
    assert f"名单办理：批次 {batch}，本批共 3 个案件" in printed


def test_the_trace_page_leads_from_a_batch_to_the_events_of_every_case_of_that_list(world, world_clients):
    page, _api = world_clients
    listed, alone = _done(world)
    batch = _batch_of(world, listed[0])
    inspector = page("insp")
    shown = inspector.get(f"/inspect/trace/case/{listed[0]}").text
    assert f"名单办理：批次 {batch}，本批共 3 个案件" in shown
    link = re.search(r'href="(/inspect/events\?batch=[^"]+)"', shown).group(1).replace("&amp;", "&")
    events = inspector.get(link)
    assert events.status_code == 200 and batch in events.text
    assert set(map(int, re.findall(r'href="/inspect/trace/case/(\d+)"', events.text))) == set(listed)
    wrong = inspector.get(link.replace(batch, "0" * 16))      # another batch id than the event's: nothing shown
    assert "/inspect/trace/case/" not in wrong.text


def test_the_steps_export_has_each_steps_list_batch_and_size(world, world_clients):
    page, _api = world_clients
    listed, alone = _done(world)
    batch = _batch_of(world, listed[0])
    rows = list(csv.DictReader(io.StringIO(page("vs").get("/export/steps.csv").content.decode("utf-8-sig"))))
    applications = {int(r["案件编号"]): r for r in rows if r["步骤"] == "农户申请"}
    assert {c: (applications[c]["名单批次"], applications[c]["本批案件数"]) for c in [*listed, alone]} == {
        **{c: (batch, "3") for c in listed}, alone: ("", "")}
