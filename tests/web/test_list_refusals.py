"""A village's list done `each` (`step --each`, direct or through `--server`, and the web's list) that
does some cases and refuses others records the refused half too (issue 12: "every case: done or refused
with its rule, one batch id in the audit log"): one organisation event under the list's batch id naming
the procedure and step, how many were done and refused, and each refused case as given with its rule
codes (a case unknown or outside the cadre's reach as `case.unknown`, naming no village). The batch page
lists them with their rules in words beside the done ones, the activity log shows the entry with its
counts, and `audit verify` finds the event altered or deleted. The log held only the done half.
A list refused whole (all or none, or `--each` with nothing done) writes nothing, this event neither."""
from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.audit_verify import verify
from tests.helpers.tamper import kinds, raw
from tests.test_inspection_reading import jingzhun
from tests.world import VILLAGE, VILLAGE2, member_ids
from workflows.household import MemberInput, register_household

UNKNOWN = 999999
APPLICATION = ("identification", "application")


def _list(world) -> tuple[list[int], int, int]:
    """Two households ready to apply, one without its application form, one of another village."""
    ready = [world.household(), world.household()]
    bare = register_household(world.app, world["vs"], VILLAGE, [MemberInput("无申请书", member_ids(1, 998)[0])],
                              ["illness"])
    other = world.household(village=VILLAGE2, by="vs2")
    world.on(date(2019, 3, 1))
    return ready, bare, other


def _recorded(world) -> list:
    ae = t.audit_events
    with world.app.engine.connect() as conn:
        return conn.execute(select(ae).where(ae.c.action == "list_refused").order_by(ae.c.seq)).all()


def _batch(world, case: int, step: str = "application") -> tuple[str, int]:
    ae = t.audit_events
    with world.app.engine.connect() as conn:
        row = conn.execute(select(ae.c.seq, ae.c.detail).where(ae.c.case_id == case, ae.c.action == "step",
                                                               ae.c.step_key == step)).one()
    return row.detail["batch"], row.seq


def _argv(ready, bare, other) -> list[str]:
    # dated as the world's day (the command's own clock is today's, and an application rests on a current income)
    return ["step", *APPLICATION, str(ready[0]), str(UNKNOWN), str(bare), str(other), str(ready[1]), "--each",
            "--date", "2019-03-01"]


def _assert_recorded(world, event, ready, bare, other) -> None:
    batch, _seq = _batch(world, ready[0])
    assert _batch(world, ready[1])[0] == batch
    assert event.case_id is None and event.person_code == "vs" and event.region_code == VILLAGE
    assert event.detail == {"procedure": "identification", "step": "application", "batch": batch, "done": 2,
                            "refused": 3, "cases": [{"case": UNKNOWN, "rules": ["case.unknown"]},
                                                    {"case": bare, "rules": ["evidence.missing"]},
                                                    {"case": other, "rules": ["case.unknown"]}]}
    assert VILLAGE2 not in json.dumps(event.detail)        # the case out of reach: nothing said of where it is


def test_step_each_records_the_cases_it_refused_under_its_batch(world):
    ready, bare, other = _list(world)
    code, out, err = jingzhun(world, "vs", *_argv(ready, bare, other))
    assert code == 1 and "2 件已办理，3 件被拒绝" in out, err
    [event] = _recorded(world)
    _assert_recorded(world, event, ready, bare, other)
    # refused whole, nothing written (all or none; `--each` with none done): a refused command writes nothing
    code, _out, err = jingzhun(world, "vs", "step", *APPLICATION, str(bare), str(UNKNOWN))
    assert code != 0 and "[evidence.missing]" in err
    code, _out, _err = jingzhun(world, "vs", "step", *APPLICATION, str(bare), str(other), "--each")
    assert code == 1 and len(_recorded(world)) == 1


def test_step_each_through_the_server_is_recorded_as_direct(world, world_clients):
    _page, api = world_clients
    ready, bare, other = _list(world)
    answer = api("vs").post("/api/v1/cli", json={"argv": _argv(ready, bare, other)}).json()
    assert answer["exit"] == 1 and "2 件已办理，3 件被拒绝" in answer["stdout"], answer
    [event] = _recorded(world)
    _assert_recorded(world, event, ready, bare, other)


def test_the_web_list_records_the_households_it_refused(world, world_clients):
    page, _api = world_clients
    ready, bare, _other = _list(world)
    cadre = page("vs")
    answer = cadre.post(f"/villages/{VILLAGE}/list", data={
        "csrf": cadre.csrf, "kind": "household", "procedure": "identification", "step": "application",
        "case": [str(ready[0]), str(bare), str(ready[1])], "date": "2019-03-01"})
    assert answer.status_code == 200 and 'data-done="2" data-refused="1"' in answer.text, answer.text
    [event] = _recorded(world)
    assert event.detail["batch"] == _batch(world, ready[0])[0] and event.region_code == VILLAGE
    assert (event.detail["done"], event.detail["refused"]) == (2, 1)
    assert event.detail["cases"] == [{"case": bare, "rules": ["evidence.missing"]}]


def test_the_batch_page_lists_the_refused_cases_with_their_rules_beside_the_done_ones(world, world_clients):
    """As an inspector of the county reads it; a cadre may not read it."""
    page, _api = world_clients
    ready, bare, other = _list(world)
    assert jingzhun(world, "vs", *_argv(ready, bare, other))[0] == 1
    batch, seq = _batch(world, ready[0])
    inspector = page("insp")
    shown = inspector.get("/inspect/events", params={"batch": batch, "seq": seq})
    assert shown.status_code == 200
    done_part, refused_part = shown.text.split('id="batch-refused"')
    assert set(map(int, re.findall(r'href="/inspect/trace/case/(\d+)"', done_part))) == set(ready)
    assert "同一次办理中拒办的 3 个案件（办理了 2 个）" in refused_part
    rows = dict(re.findall(r'<tr data-case="(\d+)">(.*?)</tr>', refused_part, re.S))
    assert list(map(int, rows)) == [UNKNOWN, bare, other]
    assert f"[<code>evidence.missing</code>] 缺少材料：案件 {bare} 的步骤 农户申请 需要 …" in rows[str(bare)]
    # a case the cadre could not see is said so to the inspector, who may see it (not 案件不存在)
    assert f"[<code>case.unknown</code>] 办理人看不到案件 {other}（没有这一案件，或不在其辖区内），未办理" in rows[str(other)]
    assert "石上村" not in refused_part and VILLAGE2 not in refused_part      # where the case out of reach is
    english = inspector.get("/lang/en", params={"next": f"/inspect/events?batch={batch}&seq={seq}"},
                            follow_redirects=True).text
    assert "The 3 cases this act refused (it did 2)" in english
    assert f"missing evidence: step application of case {bare} needs …" in english
    other_batch = inspector.get("/inspect/events", params={"batch": "0" * 16, "seq": seq}).text
    assert 'id="batch-refused"' not in other_batch
    assert page("vs").get("/inspect/events", params={"batch": batch, "seq": seq}).status_code in (303, 403)


def test_the_activity_log_shows_the_list_with_its_counts(world, world_clients):
    page, _api = world_clients
    ready, bare, other = _list(world)
    assert jingzhun(world, "vs", *_argv(ready, bare, other))[0] == 1
    batch = _batch(world, ready[0])[0]
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "list_refused")
    assert code == 0, err
    [line] = out.splitlines()
    assert "名单办理中拒办的案件" in line and "程序：贫困识别" in line and "步骤：农户申请" in line
    assert "已办理：2" in line and "拒办：3" in line and f"名单批次：{batch}" in line
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "list_refused", lang="en")
    assert code == 0 and "cases refused in a list step" in out and "done: 2" in out and "refused: 3" in out
    shown = page("insp").get("/inspect/activity", params={"action": "list_refused"}).text
    assert 'data-action="list_refused"' in shown and "已办理：2" in shown and "拒办：3" in shown


def test_verify_keeps_the_record_intact_and_finds_the_event_altered_or_deleted(world):
    ready, bare, other = _list(world)
    assert jingzhun(world, "vs", *_argv(ready, bare, other))[0] == 1
    [event] = _recorded(world)
    assert verify(world.app).intact
    hidden = json.dumps({**event.detail, "refused": 2, "cases": event.detail["cases"][:2]}, ensure_ascii=False)
    raw(world, f"UPDATE audit_events SET detail = '{hidden}' WHERE seq = {event.seq}")
    assert ("changed", f"organisation event {event.case_seq} (seq {event.seq})") in kinds(world)
    raw(world, f"DELETE FROM audit_events WHERE seq = {event.seq}")      # gone whole: the chain's head says so
    assert ("case_head", "organisation events") in kinds(world)


def test_a_case_refused_by_a_policy_check_is_recorded_with_the_conditions_it_failed(world, world_clients):
    page, _api = world_clients
    poor, rich = world.household(), world.household(income_2018=40000)
    world.on(date(2019, 3, 1))
    world.step("vs", *APPLICATION, [poor, rich])
    minutes = str(world.minutes())
    code, _out, err = jingzhun(world, "vd", "step", "identification", "appraisal", str(poor), str(rich), "--each",
                               "--attendance", "40", "--vote", f"{poor}:35:2", "--vote", f"{rich}:35:2",
                               "--minutes", minutes,
                               "--date", "2019-03-01")
    assert code == 1, (_out, err)
    [event] = _recorded(world)
    assert event.detail["cases"] == [{"case": rich, "rules": ["check.identification_standard"],
                                      "failures": ["income_not_under"]}]
    batch, seq = _batch(world, poor, "appraisal")
    shown = page("insp").get("/inspect/events", params={"batch": batch, "seq": seq}).text
    assert f"案件 {rich} 不符合识别标准：人均纯收入 … 元" in shown and "不低于标准线" in shown
