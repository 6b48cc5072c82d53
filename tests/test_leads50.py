"""A case's inspection leads on its trace, and `inspect flags --case` (auditor a5, finding 8: the case found
from a complaint, its trace page, its printed dossier and `trace`, never mentioned the 为亲属户签字 lead on
that very case, and the flags had no filter by case). SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.domain.errors import AuthError, NotFound
from engine.reads import inspection
from engine.reads.inspection import ranked
from engine.reads.trace import case_trace
from engine.services.case_actions import record_relative
from tests.test_inspection import identified_up_to_county_approval as up_to_county_approval
from tests.test_inspection import at_china, ready_to_exit, with_inspection
from tests.test_inspection_reading import jingzhun


@pytest.fixture
def leads(world, tmp_path):
    return with_leads(world, tmp_path)


def with_leads(world, tmp_path):
    """A household whose township review was signed by a relative (at night, too), and four others whose
    county approvals one person signed within six minutes (a burst)."""
    with_inspection(world, burst={"count": 3, "minutes": 10})
    related = ready_to_exit(world, tmp=tmp_path)
    world.exit(related, through="village_notice")
    world.clock.at = at_china(date(2019, 11, 28), 23, 30)
    world.step("ts1", "exit", "township_review", related, decision="approve")
    record_relative(world.app, world["ts2"], related, "ts1", "外甥女", "督查中查明")
    rushed = up_to_county_approval(world, 4)
    start = at_china(date(2019, 3, 15), 10, 0)
    for i, case in enumerate(rushed):
        world.clock.at = start + timedelta(minutes=2 * i)
        world.step("cd", "identification", "county_approval", case, decision="approve")
    return world, related, rushed


def _said(found) -> list[tuple]:
    return [(f.kind, f.case_id, f.person, f.detail, f.events) for f in found]


def test_a_case_s_leads_are_the_region_s_that_name_it_each_found_whole(leads):
    world, related, rushed = leads
    everything = ranked(world.app, world["insp"])
    assert {f.kind for f in everything} >= {"relative_signed", "signoff_off_hours", "signoff_burst"}
    for case in [related, *rushed, world.household()]:
        assert _said(ranked(world.app, world["insp"], case=case)) == \
            _said([f for f in everything if inspection.names_case(f, case)]), case
    [burst] = [f for f in ranked(world.app, world["insp"], case=rushed[2]) if f.kind == "signoff_burst"]
    assert burst.detail["count"] >= 4 and set(rushed) <= set(burst.detail["cases"])      # the whole burst
    assert [f.kind for f in ranked(world.app, world["insp"], case=related)][0] == "relative_signed"   # weightiest


def test_a_case_beyond_the_reader_s_reach_or_none_such_is_unknown_and_cadres_read_no_leads(leads):
    world, related, _ = leads
    with pytest.raises(NotFound) as unknown:
        ranked(world.app, world["insp"], case=related + 10_000)
    assert unknown.value.code == "case.unknown"
    with pytest.raises(AuthError):
        ranked(world.app, world["ts1"], case=related)
    assert case_trace(world.app, world["cd"], related)["leads"] is None      # a cadre's trace: no leads


def test_the_trace_the_dossier_and_inspect_flags_case_name_the_leads_on_the_case(leads, tmp_path):
    world, related, rushed = leads
    leads_on = case_trace(world.app, world["insp"], related)["leads"]
    assert {(f["kind"], f["person"]["code"]) for f in leads_on} >= {("relative_signed", "ts1"),
                                                                   ("signoff_off_hours", "ts1")}
    code, out, err = jingzhun(world, "insp", "trace", str(related))
    assert code == 0 and "本案的疑点线索：[为亲属户签字]" in out and "（侄女或外甥女）" in out, err
    dossier = tmp_path / "dossier.html"
    code, out, err = jingzhun(world, "insp", "trace", str(related), "--html", str(dossier))
    text = dossier.read_text(encoding="utf-8")
    assert code == 0 and "本案的疑点线索" in text and "外甥女" in text, err
    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--case", str(related))   # (the home's own thresholds)
    assert code == 0 and f"案件 {related} 的线索" in out and "[为亲属户签字]" in out, (out, err)
    assert f"案件 {rushed[0]} " not in out
    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--case", str(rushed[0]))
    assert code == 0 and "为亲属户签字" not in out and f"案件 {rushed[0]} " in out
    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--case", str(related), lang="en")
    assert code == 0 and f"the leads on case {related}" in out and "signed by a relative" in out, (out, err)
    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--case", "99999")
    assert code != 0 and out == "" and "案件不存在：99999" in err
