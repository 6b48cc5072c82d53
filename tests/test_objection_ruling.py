"""A ruling on an objection keeps the day it took effect (the township's visit, not the day it was typed
in) and who verified it on the spot; the notice, the case, the trace and the API show them, the audit
event carries them and `audit verify` finds them changed behind the engine's back (a6 finding 11)."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import JingzhunError
from engine.reads.audit_verify import verify
from engine.reads.case_record import case_detail
from engine.reads.listings import notice_detail
from engine.reads.trace import case_trace, render_html
from engine.services.case_actions import file_objection, resolve_objection
from tests.helpers.notifications import cli
from tests.helpers.tamper import raw
from tests.test_notices import private_households, to_first_notice
from tests.test_refusals import snapshot


def _objection(world) -> tuple[list[int], int, int]:
    cases, _ = private_households(world)
    notice = to_first_notice(world, cases)
    world.on(date(2019, 3, 4))
    oid = file_objection(world.app, world["vs"], notice, cases[0], "村民王某", "该户有经营性收入未申报", date(2019, 3, 4))
    world.on(date(2019, 3, 9))        # typed in days after the township's visit
    return cases, notice, oid


def test_a_ruling_keeps_its_day_and_who_verified_it_and_every_reader_sees_them(world):
    cases, notice, oid = _objection(world)
    resolve_objection(world.app, world["ts2"], oid, False, "经入户核实，经营性收入已计入", date(2019, 3, 6),
                      ["tm", "ts3"])
    shown = notice_detail(world.app, world["insp"], notice)["objections"][0]
    assert shown["ruled_on"] == date(2019, 3, 6)
    assert [v["code"] for v in shown["verifiers"]] == ["tm", "ts3"]
    record = case_detail(world.app, world["insp"], cases[0])["objections"][0]
    assert record["ruled_on"] == "2019-03-06" and [v["code"] for v in record["verifiers"]] == ["tm", "ts3"]
    trace = case_trace(world.app, world["insp"], cases[0])
    assert [o["ruled_on"] for n in trace["notices"] for o in n["objections"]] == ["2019-03-06"]
    page = render_html(world.app, trace)
    assert ", 2019-03-06；现场核实：resident_team_member-tm、township_staff-ts3)" in page
    with world.app.engine.connect() as conn:
        event = conn.execute(select(t.audit_events.c.detail).where(
            t.audit_events.c.action == "objection_resolved")).scalar_one()
    event = json.loads(event) if isinstance(event, str) else event
    assert (event["ruled_on"], event["verifiers"]) == ("2019-03-06", ["tm", "ts3"])
    # the CLI says the day and the verifiers by name, on the case and on the notice
    shown_case = cli(world, "insp", "case", "show", cases[0])
    assert shown_case.code == 0 and "2019-03-06 处理" in shown_case.out, shown_case.out + shown_case.err
    assert "现场核实：resident_team_member-tm、township_staff-ts3" in shown_case.out
    english = cli(world, "insp", "--lang", "en", "notice", "show", notice)
    assert "ruled on 2019-03-06" in english.out and "verified on the spot by" in english.out, english.out + english.err
    assert not [d for d in verify(world.app).damage if d.code.startswith("objection")]


@pytest.mark.parametrize("column, value", [("resolved_on", "'2019-03-05'"), ("resolution_verifiers", "'[\"tm\"]'")])
def test_audit_verify_finds_a_rulings_day_or_verifiers_changed(world, column, value):
    cases, notice, oid = _objection(world)
    resolve_objection(world.app, world["ts2"], oid, True, "经核实，该户确有经营性收入", date(2019, 3, 6), ["tm", "ts3"])
    raw(world, f"UPDATE objections SET {column} = {value} WHERE id = {oid}", tables=("objections",))
    found = [d for d in verify(world.app).damage if d.code == "objection_changed"]
    assert [dict(d.params)["objection"] for d in found] == [oid]


def test_a_ruling_dated_before_the_objection_after_today_or_verified_by_an_outsider_is_refused(world):
    cases, notice, oid = _objection(world)
    before = snapshot(world, tuple(cases))
    for when, who, code in ((date(2019, 3, 3), [], "objection.ruled_before_filed"),
                            (date(2019, 3, 10), [], "date.future"),
                            (date(2019, 3, 6), ["tm", "cd"], "objection.verifier_role"),
                            (date(2019, 3, 6), ["nobody"], "person.unknown")):
        with pytest.raises(JingzhunError) as refused:
            resolve_objection(world.app, world["ts2"], oid, False, "经核实", when, who)
        assert refused.value.code == code
    assert snapshot(world, tuple(cases)) == before
    said = cli(world, "ts2", "notice", "resolve", oid, "--dismiss", "--reason", "经核实", "--date", "2019-03-03")
    assert said.code != 0 and "早于提出异议的日期 2019-03-04" in said.err and "Traceback" not in said.err
    done = cli(world, "ts2", "notice", "resolve", oid, "--dismiss", "--reason", "经核实", "--date", "2019-03-05",
               "--verifier", "tm")
    assert done.code == 0, done.err
    assert notice_detail(world.app, world["ts2"], notice)["objections"][0]["ruled_on"] == date(2019, 3, 5)


def test_a_ruling_without_a_day_is_dated_today(world):
    cases, notice, oid = _objection(world)
    resolve_objection(world.app, world["ts2"], oid, False, "经核实")
    shown = notice_detail(world.app, world["ts2"], notice)["objections"][0]
    assert shown["ruled_on"] == date(2019, 3, 9) and shown["verifiers"] == []
