"""The leads' readers were told of a record altered in the database only when the altered case was among the
first 50 the request checked one by one (note 50, left alone: "`inspect flags` checks at most 50 cases one by
one"), and nothing said that the rest went unchecked. Every case the leads rest on is now checked by its steps
(one query a table for a batch of cases), the first 50 whole as before, and the reader is told how many were
checked whole when there are more, and how to check everything. The limit is lowered here so that a few
households stand for a county's leads. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from engine.reads import record_warnings
from engine.reads.inspection import ranked
from engine.reads.record_warnings import lead_cases
from tests.helpers.tamper import one, raw
from tests.test_inspection_reading import jingzhun
from tests.test_leads50 import with_leads

ALTERED = "警告：以下线索和记录可能建立在数据库中被改动过的数据上"


@pytest.fixture
def leads(world, tmp_path, monkeypatch):
    monkeypatch.setattr(record_warnings, "CHECKED_NOW_MAX", 2)
    monkeypatch.setattr(record_warnings, "STEPS_CHUNK", 2, raising=False)     # batches of two cases
    return with_leads(world, tmp_path)


def _moved_review(world, case: int) -> None:
    """The case's township review moved from ts1 to ts2 in the database (the burst it is in stays cd's)."""
    row = one(world, f"SELECT id FROM steps WHERE case_id = {case} AND step_key = 'township_review'")
    raw(world, f"UPDATE steps SET person_id = (SELECT id FROM persons WHERE code = 'ts2') WHERE id = {row.id}")


def test_an_altered_case_beyond_the_first_checked_whole_is_found_and_the_reader_told_how_much_was_checked(
        leads, world_clients, monkeypatch):
    world, related, rushed = leads
    page, api = world_clients
    cases = list(dict.fromkeys(c for f in ranked(world.app, world["insp"]) for c in lead_cases(f)))
    assert len(cases) > 2 and cases.index(rushed[-1]) >= 2          # beyond the first two checked whole
    shown = page("insp").get("/inspect/flags").text
    assert 'id="record-altered"' not in shown
    assert f"这些线索涉及 {len(cases)} 个案件" in shown and "其中前 2 个还核对了全部记录" in shown
    assert "`jingzhun audit verify`" in shown.split('id="record-checked"', 1)[1].split("</p>", 1)[0]
    _moved_review(world, rushed[-1])

    shown = page("insp").get("/inspect/flags").text
    warning = shown.split('id="record-altered"', 1)[1].split("</div>", 1)[0]
    assert ALTERED in warning and f"#{rushed[-1]}" in warning, warning
    burst = [a for a in shown.split('class="card flag"')[1:] if 'data-kind="signoff_burst"' in a]
    assert burst and "此线索所涉案件的记录被改动过" in burst[0]

    told = jingzhun(world, "insp", "inspect", "flags")[1].splitlines()
    assert told[0].startswith(ALTERED) and any(f"#{rushed[-1]}" in line for line in told[:4]), told[:5]
    assert any(line.startswith(f"这些线索涉及 {len(cases)} 个案件") for line in told), told[:6]
    answer = api("insp").get("/api/v1/inspection/flags")
    assert str(rushed[-1]) in answer.headers["X-Jingzhun-Record-Altered"].split(",")
    assert answer.headers["X-Jingzhun-Record-Checked"] == f"cases={len(cases)}; steps={len(cases)}; whole=2"
    english = jingzhun(world, "insp", "inspect", "flags", lang="en")[1]
    assert f"These leads rest on {len(cases)} cases" in english

    monkeypatch.setattr(record_warnings, "STEPS_CHECKED_MAX", 3, raising=False)    # more than a request checks
    shown = page("insp").get("/inspect/flags").text
    assert f"这些线索涉及 {len(cases)} 个案件：已将其中前 3 个案件的办理步骤" in shown and "其余未核对" in shown
