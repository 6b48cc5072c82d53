"""Problem items opened by what was found (a2 findings 5-7): a third-party evaluator records the wrong
exit they found in their sample check, the problem item it opens says 第三方评估 and names them; a
household corrected through its own 错退纠正 procedure gets a problem item naming its exit chain."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import AuthError
from engine.services.accounts import activate_all
from engine.services.org import NewPerson, add_persons, authenticate
from engine.services.sampling import Finding, draw, record_finding
from tests.test_accountability import EXIT_SIGNERS, cli, exited
from tests.world import COUNTY, World


def _evaluator(world: World, code: str = "ev") -> str:
    tokens = activate_all(world.app, add_persons(world.app, world["admin"], [NewPerson(
        code, "评估员一", (("evaluator", COUNTY),))]))
    world.tokens[code] = tokens[code]
    world.actors[code] = authenticate(world.app, code, tokens[code])
    return code


def _exited(world: World, cadre: str) -> int:
    case = world.household()
    world.identify(case)
    world.assist(case, first=cadre, second=None)
    world.exit_evidence(case)
    world.exit(case)
    return case


def monitoring_under_way(world: World, drawer: str) -> tuple[int, dict]:
    """A household exited in 2019 and consolidated, drawn for the 2019 exits' sample check by `drawer` on
    2020-03-02, whose monitoring then starts (its clue step done): a procedure under way."""
    from engine.services.case_actions import attach_evidence
    case = exited(world)
    world.on(date(2020, 1, 10))
    world.step("ts2", "consolidation", "enrolment", case)
    world.step("cs", "consolidation", "county_filing", case, decision="approve")
    world.on(date(2020, 3, 2))
    drawn = draw(world.app, world[drawer], COUNTY, 1, f"2019-{drawer}", 2019)
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": "2020-03-02", "monitoring_type": "unstable"})
    world.step("fs", "monitoring", "clue", case)
    return case, drawn


def _problem(world: World, case: int):
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.cases).join(t.problem_links, t.problem_links.c.problem_id == t.cases.c.id)
                            .where(t.problem_links.c.case_id == case)).one()


def test_an_evaluator_records_the_wrong_exit_they_found_and_the_system_registers_its_problem_item(world):
    """a2 #5/#6: `sample record … --finding wrong_exit` as the evaluator was refused as read-only
    (「不能执行「登记问题」」) and, recorded by a county director, said 问题来源: 考核."""
    case = exited(world)
    ev = _evaluator(world)
    world.on(date(2019, 12, 10))
    drawn = cli(world, ev, "sample", "draw", "--region", COUNTY, "--size", "1", "--seed", "2019-评估",
                 "--period", "2019")
    assert drawn.code == 0, drawn.err
    recorded = cli(world, ev, "sample", "record", "1", case, "--finding", "wrong_exit", "--note", "收入核算漏计支出")
    assert recorded.code == 0, recorded.err
    problem = _problem(world, case)
    assert f"问题整改事项 #{problem.id}" in recorded.out or str(problem.id) in recorded.out
    assert json.loads(cli(world, "insp", "case", "show", case, "--json").out)["stage"] == "assisted"
    assert problem.attrs["source"] == "third_party_evaluation"
    assert problem.attrs["found_by"]["person"] == ev and problem.attrs["registered_by"] == "system"
    trace = cli(world, "insp", "trace", problem.id)
    assert "问题来源: 第三方评估" in trace.out, trace.out
    assert "发现人: 评估员一（ev，第三方评估人员）在抽查 #1 中发现，由系统据其发现登记" in trace.out, trace.out
    # the whole exit chain is on the problem item, as when an exit approver registers it
    with world.app.engine.connect() as conn:
        chain = conn.execute(select(t.problem_links.c.chain).where(t.problem_links.c.case_id == case)).scalar()
    assert {r["person_code"] for r in chain} >= EXIT_SIGNERS
    # nothing else: the evaluator still cannot register a problem item, nor attach evidence
    refused = cli(world, ev, "problem", "add", "--region", COUNTY, "--source", "第三方评估", "--description", "x",
                  "--found-on", "2019-12-10")
    assert refused.code == 1 and "auth.read_only" in refused.err
    refused = cli(world, ev, "evidence", "add", case, "income_check", "--field", "year=2019",
                  "--field", "net_income=3000")
    assert refused.code != 0 and "auth.read_only" in refused.err


def test_the_problem_source_follows_whose_sample_check_it_was(world):
    """A county office's own draw: 考核, the county director registering it in their own name; an
    evaluator's draw, recorded by the county director: 第三方评估 (the demo's way)."""
    own, theirs = _exited(world, "pc1"), _exited(world, "pc2")
    ev = _evaluator(world)
    world.on(date(2019, 12, 10))
    office = draw(world.app, world["cs"], COUNTY, 2, "county")
    evaluation = draw(world.app, world[ev], COUNTY, 2, "evaluation")
    record_finding(world.app, world["cd"], Finding(office["id"], own, "wrong_exit"))
    record_finding(world.app, world["cd"], Finding(evaluation["id"], theirs, "wrong_exit"))
    mine, found = _problem(world, own), _problem(world, theirs)
    assert (mine.attrs["source"], found.attrs["source"]) == ("assessment", "third_party_evaluation")
    assert found.attrs["found_by"]["person"] == "cd" and found.attrs["registered_by"] == "person"


def test_a_county_office_staff_member_still_may_not_reopen_a_household_by_a_sample_finding(world):
    case = exited(world)
    world.on(date(2019, 12, 10))
    drawn = draw(world.app, world["cs"], COUNTY, 1, "s")
    with pytest.raises(AuthError):
        record_finding(world.app, world["cs"], Finding(drawn["id"], case, "wrong_exit"))
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.cases.c.stage).where(t.cases.c.id == case)).scalar() == "exited"
        assert conn.execute(select(t.sample_findings.c.id)).first() is None


def test_a_wrong_exit_corrected_through_its_own_procedure_opens_a_problem_item_naming_its_exit_chain(world):
    """a2 #7: 错退纠正 (finding, township review, county approval) put the household back under assistance
    and opened no problem item: nobody of its exit chain was named, unlike the problem-item route."""
    from engine.reads.audit_verify import verify
    from engine.services.case_actions import attach_evidence
    case = exited(world)
    world.on(date(2020, 3, 2))
    attach_evidence(world.app, world["ts2"], case, "wrong_exit_finding", {"source": "第三方评估", "reason": "收入不实"})
    world.step("ts2", "reopen_wrong_exit", "finding", case)
    world.on(date(2020, 3, 5))
    world.step("th", "reopen_wrong_exit", "township_review", case, decision="approve")
    world.on(date(2020, 3, 9))
    world.step("ch", "reopen_wrong_exit", "county_approval", case, decision="approve")
    problem = _problem(world, case)
    assert (problem.kind, problem.stage, problem.attrs["finding"]) == ("problem", "found", "wrong_exit")
    assert problem.attrs["source"] == "third_party_evaluation" and problem.attrs["found_on"] == "2020-03-02"
    assert problem.attrs["found_by"]["person"] == "ts2"
    with world.app.engine.connect() as conn:
        chain = conn.execute(select(t.problem_links.c.chain).where(t.problem_links.c.case_id == case)).scalar()
    assert {r["person_code"] for r in chain} >= EXIT_SIGNERS
    shown = cli(world, "insp", "trace", problem.id)
    assert shown.code == 0 and "问题来源: 第三方评估; 问题性质: 错退; 错退纠正：户 %d：收入不实" % case in shown.out, shown.out
    assert "发现人: township_staff-ts2（ts2，乡镇干部）在错退纠正程序" in shown.out
    assert "county_head-ch (ch, 县长) — 办理「县级审批」" in shown.out      # who approved the exit
    english = cli(world, "insp", "trace", case, lang="en")
    assert f"{problem.id} wrong exit corrected: household {case}: 收入不实" in english.out, english.out
    assert verify(world.app, processes=1).intact


def test_a_wrong_exit_whose_finding_could_not_be_written_leaves_no_problem_item_either(world, monkeypatch):
    """The problem item a sample check's wrong exit opens and the finding's own row were written in two
    transactions: a finding that failed to be written (a full disk, a lost connection) left the problem
    item registered and the household reopened, with no finding saying why; the evaluator, recording it
    again, was refused (「错退纠正」 not allowed at 帮扶中). Now both are written together, or neither."""
    case = exited(world)
    ev = _evaluator(world)
    world.on(date(2019, 12, 10))
    drawn = draw(world.app, world[ev], COUNTY, 1, "2019-评估", 2019)

    def written():
        with world.app.engine.connect() as conn:
            return (conn.execute(select(t.cases.c.stage).where(t.cases.c.id == case)).scalar(),
                    conn.execute(select(t.problem_links.c.problem_id).where(t.problem_links.c.case_id == case)).all(),
                    conn.execute(select(t.sample_findings.c.id)).all(),
                    conn.execute(select(t.cases.c.id).where(t.cases.c.kind == "problem")).all())
    before = written()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("engine.services.sampling.append_case_event", disk_full)   # the finding's event
    with pytest.raises(OSError):
        record_finding(world.app, world[ev], Finding(drawn["id"], case, "wrong_exit", "收入核算漏计支出"))
    assert written() == before and before[0] != "assisted" and not before[1]     # neither: still exited
    monkeypatch.undo()
    found = record_finding(world.app, world[ev], Finding(drawn["id"], case, "wrong_exit", "收入核算漏计支出"))
    stage, links, findings, problems = written()
    assert stage == "assisted" and len(links) == 1 and [f.id for f in findings] == [found] and len(problems) == 1


def test_an_evaluators_wrong_exit_during_the_households_own_correction_is_recorded_and_linked(world):
    """An evaluator drawing a household the village is already correcting (错退纠正 under way) was refused
    「已有进行中的程序 错退纠正」: their wrong exit could not be recorded, and the sample's wrong-exit rate
    missed it. Now it is recorded (the rate counts it) without a second reopening, and the problem item
    the correction opens when it completes is the finding's: one problem item, linked from both."""
    from engine.services.case_actions import attach_evidence
    from engine.services.sampling import show
    case = exited(world)
    ev = _evaluator(world)
    world.on(date(2019, 12, 10))
    drawn = draw(world.app, world[ev], COUNTY, 1, "2019-评估", 2019)
    attach_evidence(world.app, world["ts2"], case, "wrong_exit_finding", {"source": "督查", "reason": "收入不实"})
    world.step("ts2", "reopen_wrong_exit", "finding", case)
    found = record_finding(world.app, world[ev], Finding(drawn["id"], case, "wrong_exit", "收入核算漏计支出"))
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.cases.c.id).where(t.cases.c.kind == "problem")).all() == []
        assert conn.execute(select(t.cases.c.stage).where(t.cases.c.id == case)).scalar() != "assisted"
    awaits = show(world.app, world[ev], drawn["id"])["households"][0]["findings"][0]["awaits"]
    assert awaits["kind"] == "reopen_wrong_exit" and awaits["procedure"] is not None
    said = cli(world, ev, "sample", "show", drawn["id"], "--json")
    assert said.code == 0 and f'"procedure": {awaits["procedure"]}' in said.out
    world.on(date(2019, 12, 12))
    world.step("th", "reopen_wrong_exit", "township_review", case, decision="approve")
    world.step("ch", "reopen_wrong_exit", "county_approval", case, decision="approve")
    problem = _problem(world, case)
    with world.app.engine.connect() as conn:
        assert len(conn.execute(select(t.cases.c.id).where(t.cases.c.kind == "problem")).all()) == 1
        assert conn.execute(select(t.sample_findings.c.problem_id).where(
            t.sample_findings.c.id == found)).scalar() == problem.id
    households = show(world.app, world[ev], drawn["id"])["households"]
    assert [(f["finding"], f["problem"]) for h in households for f in h["findings"]] == [("wrong_exit", problem.id)]
    assert problem.attrs["sample_findings"] == [found]


def test_an_evaluator_prints_the_draws_sheet_for_the_visits(world, tmp_path):
    """Evaluators go door to door with a list of the households drawn: it was written by hand from the
    draw's page. Now the sheet comes from the record (each household's size, exit, income per head as
    judged against the line, pairing cadre, findings recorded) with blank columns to fill in."""
    import os
    import stat
    from engine.services.sampling import field_sheet
    case = exited(world)
    ev = _evaluator(world)
    world.on(date(2019, 12, 10))
    drawn = draw(world.app, world[ev], COUNTY, 1, "2019-评估", 2019)
    sheet = field_sheet(world.app, world[ev], drawn["id"])
    row = sheet["households"][0]
    assert row["case"] == case and row["exited_on"] == "2019-11-28" and row["income"]["year"] == 2019
    assert row["income"]["above"] is True and row["findings"] == []
    out = tmp_path / "核查表.html"
    printed = cli(world, ev, "sample", "sheet", drawn["id"], "--html", out)
    assert printed.code == 0, printed.err
    text = out.read_text(encoding="utf-8")
    assert f"抽查 #{drawn['id']} 入户核查表" in text and "户主签字" in text and "核实无误、错退、漏评" in text and "认可、不认可" in text
    assert f'id="sheet-{case}"' in text and stat.S_IMODE(os.stat(out).st_mode) == 0o600
    refused = cli(world, "vs2", "sample", "sheet", drawn["id"], "--html", tmp_path / "x.html")
    assert refused.code != 0 and not (tmp_path / "x.html").exists()
    with world.app.engine.connect() as conn:       # it left the system as an export does
        taken = conn.execute(select(t.audit_events.c.person_code, t.audit_events.c.detail).where(
            t.audit_events.c.action == "exported")).all()
    assert [(e.person_code, e.detail["table"], e.detail["draw"]) for e in taken] == [(ev, "sample_sheet", str(drawn["id"]))]
    # a later year's assessment: the sheet still shows the year the draw checks
    from engine.services.case_actions import attach_evidence
    world.on(date(2020, 11, 20))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 50000.0},
                    replace=True, reason="2020 年核算")
    assert field_sheet(world.app, world[ev], drawn["id"])["households"][0]["income"]["year"] == 2019



def test_a_wrong_exit_found_while_the_households_monitoring_runs_waits_for_its_problem_item(world):
    """A drawn household whose monitoring (防返贫监测识别) was under way: the evaluator's wrong exit was refused
    (procedure.other_open) and lost to the rates. Now it is recorded and counted, the household left as it
    is, and the sample page says what its problem item waits for; the county office's wrong-exit problem
    item registered once the monitoring ends is the finding's (linked), and the household is reopened then."""
    from engine.services.problems import ProblemInput, register_problem
    from engine.services.sampling import show
    from tests.test_household_life import village_chain
    from tests.world import TOWNSHIP
    ev = _evaluator(world)
    case, drawn = monitoring_under_way(world, ev)
    recorded = cli(world, ev, "sample", "record", drawn["id"], case, "--finding", "wrong_exit", "--note", "收入不实")
    assert recorded.code == 0, recorded.err
    assert "正在办理（程序 #" in recorded.out and "计入错退率" in recorded.out and "problem add --finding wrong_exit" in recorded.out
    finding = show(world.app, world[ev], drawn["id"])["households"][0]["findings"][0]
    assert finding["awaits"]["kind"] == "monitoring" and finding["problem"] is None
    village_chain(world, "monitoring", case, date(2020, 3, 9), "county_decision")
    assert show(world.app, world[ev], drawn["id"])["households"][0]["findings"][0]["awaits"] == {
        "procedure": None, "kind": None, "due_on": "2020-03-16"}          # the county office's, 5 working days
    world.on(date(2020, 3, 10))
    problem = register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "third_party_evaluation", "抽查发现错退",
                                                                    date(2020, 3, 10), "wrong_exit", [case]))
    assert show(world.app, world[ev], drawn["id"])["households"][0]["findings"][0]["problem"] == problem
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.cases.c.stage).where(t.cases.c.id == case)).scalar() == "assisted"



def test_a_waiting_wrong_exit_is_held_to_whom_may_register_it(world):
    """The second review: county office staff, who may not register a wrong exit (its approvers may), were
    refused on a household with nothing under way but recorded one, counted in the rate, on a household whose
    monitoring was under way."""
    from engine.domain.errors import AuthError as Refused
    case, drawn = monitoring_under_way(world, "cs")
    with pytest.raises(Refused) as refused:
        record_finding(world.app, world["cs"], Finding(drawn["id"], case, "wrong_exit", "收入不实"))
    assert refused.value.code == "auth.wrong_role"
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.sample_findings.c.id)).all() == []
