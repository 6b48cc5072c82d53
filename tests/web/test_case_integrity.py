"""A case whose recorded events were altered in the database (an event rewritten, deleted, its MAC forged)
was shown on its own page, its API read and `case show` as if sound: only `audit verify` and the
inspector's pages said so. Every reader of the case (a village cadre, a supervisor, an inspector) now
sees a warning above it, with the numbers of the damaged events and what to do; an untouched case shows
none. The damage is done as an attacker with the database would do it (tests/helpers/tamper.py: the
append-only triggers dropped, on SQLite and PostgreSQL)."""
from __future__ import annotations

import json

from tests.helpers import tamper
from tests.helpers.tamper import raw

lived = tamper.lived      # the fixture: households a (exited) and b (assisted)

WARNING = "警告：本案件的记录在数据库中被改动过"
ADVICE = "请报告管理员运行 `jingzhun audit verify`"
PAGE_ADVICE = "请报告管理员运行 <code>jingzhun audit verify</code>"      # a page shows the command as code


def _readers(world_clients):
    page, api = world_clients
    return page, api, {code: page(code) for code in ("vs", "cd", "insp")}


def test_a_rewritten_event_is_warned_of_on_the_case_page_the_api_and_case_show_to_every_reader(lived, world_clients):
    world, a, b = lived
    page, api, readers = _readers(world_clients)
    for client in readers.values():        # untouched: no warning
        assert 'id="integrity-warning"' not in client.get(f"/cases/{a}").text
    raw(world, f"UPDATE audit_events SET person_code = 'someone' WHERE case_id = {a} AND case_seq = 5")
    for code, client in readers.items():
        shown = client.get(f"/cases/{a}")
        assert shown.status_code == 200 and 'id="integrity-warning"' in shown.text, code
        assert WARNING in shown.text and PAGE_ADVICE in shown.text
        assert "受损的事件（在本案件记录中的编号）：5。" in shown.text
        assert 'id="integrity-warning"' not in client.get(f"/cases/{b}").text      # the other case is sound
    trace = readers["insp"].get(f"/inspect/trace/case/{a}").text
    assert WARNING in trace and "受损的事件（在本案件记录中的编号）：5。" in trace

    english = readers["vs"].get("/lang/en", params={"next": f"/cases/{a}"}, follow_redirects=True).text
    assert "Warning: this case&#39;s record was altered in the database" in english
    assert "Damaged events (their numbers in this case&#39;s record): 5." in english

    read = api("vs").get(f"/api/v1/cases/{a}").json()
    assert read["integrity"]["intact"] is False and read["integrity"]["damaged_events"] == [5]
    assert api("vs").get(f"/api/v1/cases/{b}").json()["integrity"]["intact"] is True

    shown = api("vs").post("/api/v1/cli", json={"argv": ["case", "show", str(a)]}).json()
    assert WARNING in shown["stdout"] and "：5。" in shown["stdout"] and ADVICE in shown["stdout"], shown
    assert WARNING not in api("vs").post("/api/v1/cli", json={"argv": ["case", "show", str(b)]}).json()["stdout"]
    as_json = json.loads(api("vs").post("/api/v1/cli", json={"argv": ["case", "show", str(a), "--json"]}).json()["stdout"])
    assert as_json["integrity"]["damaged_events"] == [5]


def test_a_deleted_event_and_a_forged_mac_are_warned_of_with_their_numbers(lived, world_clients):
    """A deletion is found by the case's chain, a MAC by the key only `audit verify` held: both on the page."""
    world, a, b = lived
    page, api, readers = _readers(world_clients)
    raw(world, f"DELETE FROM audit_events WHERE case_id = {a} AND case_seq = 7",
        f"UPDATE audit_events SET mac = CASE WHEN substr(mac, 1, 1) = '0' THEN '1' ELSE '0' END || substr(mac, 2) "
        f"WHERE case_id = {b} AND case_seq = 3")
    for code, client in readers.items():
        deleted = client.get(f"/cases/{a}").text
        assert WARNING in deleted and "受损的事件（在本案件记录中的编号）：7、8。" in deleted, code      # 7 gone, 8 unchained
        forged = client.get(f"/cases/{b}").text
        assert WARNING in forged and "受损的事件（在本案件记录中的编号）：3。" in forged, code
    assert api("cd").get(f"/api/v1/cases/{b}").json()["integrity"]["damaged_events"] == [3]
