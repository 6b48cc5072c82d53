"""Accountability (issue 3): responsibility named at each transition, problem items and rectification,
wrong-exit findings, discipline referrals, accountability outcomes, and tracing a case or a person."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.accountability import OutcomeInput, outcome_done, record_outcome
from engine.reads.audit_verify import verify
from engine.services.case_actions import attach_evidence
from engine.domain.errors import AuthError, BadInput, RuleViolation, render_text
from engine.services.accounts import activate_all
from engine.services.org import NewPerson, add_persons, authenticate, grant_role, revoke_role
from engine.reads.trace import case_trace, person_trace, render_html
from tests.test_refusals import snapshot
from tests.world import COUNTY, TOWNSHIP, TOWNSHIP2, VILLAGE2, World, scan_file
from workflows.problem import ProblemInput, refer_overdue, register_problem
from tests.helpers.db_option import db_option

EXIT_SIGNERS = {"vd", "tl", "fs", "vs", "ts1", "ch", "cs"}
EXIT_VERIFIERS = {"ts2", "ts3", "ts4"}


def exited(world: World) -> int:
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case)
    world.exit(case)
    return case


def responsibility(world: World, case: int, procedure: str) -> set[tuple[str, str, str]]:
    with world.app.engine.connect() as conn:
        return {(r.type, r.person_code, r.basis) for r in conn.execute(
            select(t.responsibilities).where(t.responsibilities.c.case_id == case,
                                             t.responsibilities.c.procedure_kind == procedure))}


def wrong_exit(world: World, case: int, region: str = TOWNSHIP, by: str = "cd") -> int:
    world.on(date(2020, 6, 1))
    return register_problem(world.app, world[by], ProblemInput(region, "third_party_evaluation",
                                                               "第三方评估发现该户收入核算有误，错退", date(2020, 5, 28),
                                                               "wrong_exit", [case]))


# --- responsibility ------------------------------------------------------------------------------

def test_the_steps_export_says_each_steps_procedure_its_people_and_the_evidence_it_relied_on(world, tmp_path):
    """From `export steps` alone an inspector could not tell who proposed, checked and approved an exit
    with which evidence: 乡镇审核 was the identification's and the exit's alike, the door-to-door
    verifiers were missing, and nothing tied a step to its evidence. Each step now says its procedure,
    its verifiers, the people named responsible for it with their posts (as the trace names them, once
    its procedure completed) and the evidence items it relied on (as the trace lists them)."""
    import csv
    case, pending = exited(world), world.household()
    world.identify(pending)
    world.assist(pending, first="pc2", second="pc3")
    world.exit_evidence(pending)
    world.exit(pending, through="verification")              # its exit still open: nobody named yet
    out = tmp_path / "steps.csv"
    assert cli(world, "insp", "export", "steps", "--csv", out).code == 0
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["案件编号"] in (str(case), str(pending))]
    reviews = {r["程序"] for r in rows if r["案件编号"] == str(case) and r["步骤"] == "乡镇审核"}
    assert reviews == {"贫困识别", "脱贫退出"}
    [checked] = [r for r in rows if r["案件编号"] == str(case) and (r["程序"], r["步骤"]) == ("脱贫退出", "入户核实")]
    assert checked["核实人"] == "ts2、ts3、ts4"
    named = checked["本步骤责任人"].split("；")
    assert named[0] == "直接责任：resident_team_leader-tl（tl，驻村工作队长）办理「入户核实」", named
    assert named[1:] == [f"直接责任：township_staff-{p}（{p}，乡镇干部）参与「入户核实」" for p in ("ts2", "ts3", "ts4")]
    trace = case_trace(world.app, world["insp"], case)
    relied = {(p["kind"], s["step"]): sorted(e["id"] for e in s["evidence"] or [])
              for p in trace["procedures"] for s in p["steps"]}
    codes = {v: k for k, v in ((k, world.app.config.label(f"procedure.{k}", "zh")) for k in ("identification", "exit"))}
    steps = {v: k for k in {s for _p, s in relied} for v in [world.app.config.label(f"step.{k}", "zh")]}
    exported = {(codes[r["程序"]], steps[r["步骤"]]): sorted(int(i) for i in re.findall(r"#(\d+)", r["所依据材料"]))
                for r in rows if r["案件编号"] == str(case) and r["程序"] in codes}
    assert exported == {k: v for k, v in relied.items() if k[0] in codes.values()} and exported[("exit", "township_review")]
    assert "收入核算明细表 #" in next(r["所依据材料"] for r in rows if r["案件编号"] == str(case)
                                 and (r["程序"], r["步骤"]) == ("脱贫退出", "乡镇审核"))
    [open_check] = [r for r in rows if r["案件编号"] == str(pending) and (r["程序"], r["步骤"]) == ("脱贫退出", "入户核实")]
    assert open_check["核实人"] == "ts2、ts3、ts4" and open_check["本步骤责任人"] == ""
    coded = tmp_path / "codes.csv"
    assert cli(world, "insp", "export", "steps", "--codes", "--csv", coded).code == 0
    with open(coded, encoding="utf-8-sig", newline="") as fh:
        [raw] = [r for r in csv.DictReader(fh) if r["案件编号"] == str(case) and (r["程序"], r["步骤"]) == ("exit", "verification")]
    assert [(n["person"], n["role"], n["basis"]) for n in json.loads(raw["本步骤责任人"])][1:] == [
        (p, "township_staff", "verified:verification") for p in ("ts2", "ts3", "ts4")]
    assert json.loads(raw["核实人"]) == ["ts2", "ts3", "ts4"]


def test_an_exit_names_the_pairing_cadres_every_signer_and_the_leaders(world):
    case = exited(world)
    named = responsibility(world, case, "exit")
    direct = {code for rtype, code, _ in named if rtype == "direct"}
    assert direct == EXIT_SIGNERS | EXIT_VERIFIERS | {"pc1", "pc2"}
    assert ("direct", "pc1", "pairing:first") in named and ("direct", "pc2", "pairing:second") in named
    assert ("direct", "ts3", "verified:verification") in named
    assert ("direct", "ch", "step:county_approval") in named
    assert {code for rtype, code, _ in named if rtype == "main_leadership"} == {"csec", "ch", "tsec"}
    assert {code for rtype, code, _ in named if rtype == "important_leadership"} == {"cl"}
    # Nobody of the other township, nor the read-only inspector, answers for it.
    assert not {code for _, code, _ in named} & {"ts_other", "insp", "aud", "vs2"}
    # The names are in the completing step's audit event too, so they are under the hash chain.
    with world.app.engine.connect() as conn:
        event = conn.execute(select(t.audit_events).where(t.audit_events.c.case_id == case,
                                                          t.audit_events.c.to_stage == "exited")).one()
    assert {(r[0], r[1], r[5]) for r in event.detail["responsibility"]} == named


def test_each_transition_has_its_own_responsibility_and_rejections_name_nobody(world):
    case = world.household()
    world.identify(case)
    assert {code for _, code, _ in responsibility(world, case, "identification")} == \
        {"vs", "vd", "tl", "tm", "fs", "ts1", "ts2", "cd", "cs", "cl"}
    world.on(date(2019, 3, 20))
    world.step("ts1", "assistance", "pairing", case, first_cadre="pc1")
    world.step("fs", "assistance", "plan", case, measures=(("industry", "种植脐橙"),))
    world.step("th", "assistance", "plan_approval", case, decision="reject", reason="计划不具体")
    assert responsibility(world, case, "assistance") == set()


# --- wrong exit found -> household reopened, exit chain listed ------------------------------------

def test_a_wrong_exit_finding_reopens_the_household_and_lists_its_exit_chain_as_it_was(world):
    case = exited(world)
    # After the exit, the township secretary moves to another township and somebody else takes over.
    world.on(date(2020, 3, 1))
    admin = authenticate(world.app, "admin", world.tokens["admin"])
    revoke_role(world.app, admin, "tsec", "township_secretary", TOWNSHIP)
    grant_role(world.app, admin, "tsec", "township_secretary", TOWNSHIP2)
    tokens = activate_all(world.app, add_persons(world.app, admin, [NewPerson("tsec_new", "新任书记", (("township_secretary", TOWNSHIP),))]))
    assert tokens["tsec_new"]

    problem = wrong_exit(world, case)

    with world.app.engine.connect() as conn:
        household = conn.execute(select(t.cases).where(t.cases.c.id == case)).one()
        link = conn.execute(select(t.problem_links).where(t.problem_links.c.problem_id == problem)).one()
    assert household.stage == "assisted"
    assert household.pending_procedure == "plan_revision"      # a new plan before its exit again
    assert household.attrs["reopenings"][-1]["exited_on"] == "2019-11-28"
    chain = {(r["type"], r["person_code"]) for r in link.chain}
    assert ("main_leadership", "tsec") in chain          # who held the post at the exit
    assert not any(code == "tsec_new" for _, code in chain)
    assert {code for rtype, code in chain if rtype == "direct"} == EXIT_SIGNERS | EXIT_VERIFIERS | {"pc1", "pc2"}
    assert link.finding == "wrong_exit"

    # The household's own record shows the reopening and the problem that caused it.
    trace = case_trace(world.app, world["insp"], case)
    reopen = trace["procedures"][-1]
    assert (reopen["kind"], reopen["status"], reopen["to"]) == ("reopen_wrong_exit", "completed", "assisted")
    assert reopen["steps"][0]["person"] == "cd" and f"#{problem}" in reopen["steps"][0]["reason"]
    assert [p["problem_id"] for p in trace["named_by_problems"]] == [problem]
    assert trace["integrity"]["intact"]
    # The problem's trace lists the chain with each person's responsibility.
    ptrace = case_trace(world.app, world["insp"], problem)
    assert {(r["type"], r["person_code"]) for r in ptrace["problem"]["links"][0]["chain"]} == chain
    # The former secretary's own trace still shows what they answer for.
    assert any(r["case_id"] == case and r["type"] == "main_leadership"
               for r in person_trace(world.app, world["insp"], "tsec")["responsibilities"])
    assert verify(world.app).intact
    # The household can be helped out of poverty again, through a new plan and the whole exit procedure.
    world.on(date(2020, 6, 10))
    world.step("fs", "plan_revision", "plan", case, measures=(("employment", "公益性岗位"),))
    world.step("th", "plan_revision", "plan_approval", case, decision="approve")
    world.on(date(2020, 11, 20))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 12000},
                    replace=True, reason="2020 年收入重新核算")
    for kind, fields in (("two_assurances", {"food": True, "clothing": True}), ("housing_safety", {"grade": "A"}),
                         ("drinking_water", {"safe": True})):      # this exit's own 入户核实 (last year's do not vouch for it)
        attach_evidence(world.app, world["vs"], case, kind, fields, replace=True, reason="2020 年入户核实")
    attach_evidence(world.app, world["pc1"], case, "household_confirmation", {"signed_on": "2020-11-20"},
                    scan_file(Path(world.app.settings.home) / "confirmation-2020.pdf"))
    # the 2019 confirmation is the first exit's record: this exit's is an item of its own, not a replacement
    for day, who, step, inputs in World.EXIT_STEPS:
        world.on(day.replace(year=2020))
        world.step(who, "exit", step, case, **inputs)
    assert case_trace(world.app, world["insp"], case)["stage"] == "exited"


def test_a_reopenings_reason_is_said_in_the_readers_language_wherever_it_is_shown(world, tmp_path):
    """The reason a wrong exit finding reopened a household with was stored as the Chinese text
    "问题 #3: …": an English reader read it so in the trace, the case, the dossier and the exports. It is
    stored as the problem's number and its description as entered, said from the catalogue."""
    import csv
    case = exited(world)
    problem = wrong_exit(world, case)
    described = "第三方评估发现该户收入核算有误，错退"
    english, chinese = f"problem #{problem}: {described}", f"问题 #{problem}：{described}"
    for lang, said in (("en", english), ("zh", chinese)):
        trace = case_trace(world.app, world["insp"], case, lang)
        [step] = trace["procedures"][-1]["steps"]
        assert (step["reason"], trace["procedures"][-1]["outcome"]) == (said, said)
        assert [said] == [e["reason"] for e in trace["events"] if e["step"] == "finding"]
        [item] = [e for e in trace["evidence"] if e["type"] == "wrong_exit_finding"]
        assert said in dict(item["words"]).values(), item["words"]
        assert said in render_html(world.app, trace, lang)
    for args in (("trace", case), ("case", "show", case)):
        shown = cli(world, "insp", *args, lang="en")
        assert shown.code == 0 and english in shown.out and "问题 #" not in shown.out, shown.out
    steps, findings = tmp_path / "steps.csv", tmp_path / "findings.csv"
    assert cli(world, "insp", "export", "steps", "--csv", steps, lang="en").code == 0
    assert cli(world, "insp", "export", "evidence", "--type", "wrong_exit_finding", "--csv", findings,
               lang="en").code == 0
    for path in (steps, findings):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            cells = [c for r in csv.reader(fh) for c in r]
        assert english in cells and not any("问题 #" in c or '"key"' in c for c in cells), path


def test_a_wrong_exit_finding_on_a_household_that_has_not_exited_writes_nothing(world):
    case = world.household()
    world.identify(case)
    before = snapshot(world, (case,))
    with pytest.raises(RuleViolation) as refused:
        wrong_exit(world, case)
    assert refused.value.code == "problem.wrong_exit_never_exited"      # in words: it never exited
    said = render_text(world.app.config, "msg." + refused.value.code, refused.value.params, "zh")
    assert "没有它的脱贫（退出）程序" in said and "已识别" in said and "{" not in said
    assert "holds no exit procedure" in render_text(world.app.config, "msg." + refused.value.code,
                                                    refused.value.params, "en")
    assert snapshot(world, (case,)) == before


def test_a_problem_may_only_name_cases_in_its_region_and_only_offices_record_one(world):
    case = exited(world)
    before = snapshot(world, (case,))
    with pytest.raises(BadInput) as outside:
        wrong_exit(world, case, region=TOWNSHIP2)
    assert outside.value.code == "problem.case_outside"
    with pytest.raises(AuthError) as read_only:
        wrong_exit(world, case, by="insp")
    assert read_only.value.code == "auth.read_only"
    with pytest.raises(AuthError) as wrong_role:
        wrong_exit(world, case, by="vs")
    assert wrong_role.value.code == "auth.wrong_role"
    with pytest.raises(BadInput) as source:
        register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "rumour", "x", date(2019, 1, 5)))
    assert source.value.code == "problem.bad_source"
    assert snapshot(world, (case,)) == before


# --- rectification: assigned, acknowledged, reported, verified, referred ---------------------------

def assigned_problem(world: World, due: date = date(2020, 7, 1)) -> int:
    world.on(date(2020, 6, 1))
    problem = register_problem(world.app, world["cs"], ProblemInput(
        TOWNSHIP, "暗访", "危房改造验收资料缺失", date(2020, 5, 30)))
    world.step("cd", "assignment", "assign", problem, assignee="th", lead_unit="县住建局", responsible_unit="梅江镇",
               due=due)
    return problem


def report(world: World, problem: int, who: str = "th", replace: bool = False) -> None:
    attach_evidence(world.app, world[who], problem, "rectification_report",
                    {"reported_on": world.today().isoformat(), "summary": "已补齐验收资料"},
                    replace=replace, reason="补充" if replace else None)
    world.step(who, "rectification", "report", problem)


def stage(world: World, case: int) -> str:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.cases.c.stage).where(t.cases.c.id == case)).scalar_one()


def test_only_the_assignee_acknowledges_and_reports_and_someone_else_verifies(world):
    from engine.reads.case_lists import list_cases
    problem = assigned_problem(world)
    waiting = lambda who: [c["id"] for c in list_cases(world.app, world[who], waiting_for_me=True)]  # noqa: E731
    assert problem in waiting("th") and problem not in waiting("tsec")     # not everyone's work: the assignee's
    with pytest.raises(RuleViolation) as other:
        world.step("tsec", "assignment", "receipt", problem)
    assert other.value.code == "check.is_assignee"
    world.step("th", "assignment", "receipt", problem)
    assert stage(world, problem) == "assigned"
    with pytest.raises(RuleViolation) as not_assignee:
        attach_evidence(world.app, world["ts1"], problem, "rectification_report",
                        {"reported_on": "2020-06-01", "summary": "x"})
        world.step("ts1", "rectification", "report", problem)
    assert not_assignee.value.code == "check.is_assignee"
    world.step("th", "rectification", "report", problem)
    assert stage(world, problem) == "reported"
    with pytest.raises(RuleViolation) as own:
        world.step("th", "verification", "verify", problem, decision="approve")
    assert own.value.code == "check.not_rectifier"
    world.step("cs", "verification", "verify", problem, decision="approve")
    assert stage(world, problem) == "closed"
    assert {code for _, code, _ in responsibility(world, problem, "assignment")} == {"cd", "th"}
    assert {code for _, code, _ in responsibility(world, problem, "verification")} == {"cs"}


def test_an_assignment_names_someone_who_can_act_there_and_a_deadline_after_it(world):
    world.on(date(2020, 6, 1))
    problem = register_problem(world.app, world["cs"], ProblemInput(TOWNSHIP, "audit", "资金拨付滞后", date(2020, 5, 30)))
    before = snapshot(world, (problem,))
    with pytest.raises(RuleViolation) as elsewhere:
        world.step("cd", "assignment", "assign", problem, assignee="vs2", lead_unit="a", responsible_unit="b",
                   due=date(2020, 7, 1))
    assert elsewhere.value.code == "problem.assignee_cannot_act"
    with pytest.raises(BadInput) as late:
        world.step("cd", "assignment", "assign", problem, assignee="th", lead_unit="a", responsible_unit="b",
                   due=date(2020, 5, 1))
    assert late.value.code == "problem.due_not_after"
    with pytest.raises(BadInput) as incomplete:
        world.step("cd", "assignment", "assign", problem, assignee="th", due=date(2020, 7, 1))
    assert incomplete.value.code == "problem.assign_incomplete"
    assert snapshot(world, (problem,)) == before


def test_rectification_rejected_twice_goes_back_each_time_and_is_referred_once(world):
    problem = assigned_problem(world)
    world.step("th", "assignment", "receipt", problem)
    report(world, problem)
    world.step("cs", "verification", "verify", problem, decision="reject", reason="资料不全")
    assert stage(world, problem) == "assigned"
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.discipline_referrals)).all() == []
    report(world, problem, replace=True)
    world.step("cd", "verification", "verify", problem, decision="reject", reason="仍未整改到位，属虚假整改")
    assert stage(world, problem) == "assigned"
    with world.app.engine.connect() as conn:
        referrals = conn.execute(select(t.discipline_referrals)).all()
    assert [(r.problem_id, r.reason, r.detail["rejections"]) for r in referrals] == [(problem, "rejected_twice", 2)]
    report(world, problem, replace=True)
    world.step("cs", "verification", "verify", problem, decision="approve")
    assert stage(world, problem) == "closed"
    trace = case_trace(world.app, world["insp"], problem)
    assert [r["reason"] for r in trace["problem"]["referrals"]] == ["rejected_twice"]
    assert [p["status"] for p in trace["procedures"]] == ["completed", "completed", "rejected", "completed",
                                                          "rejected", "completed", "completed"]
    assert verify(world.app).intact


def test_a_closed_problem_can_be_reopened_with_a_finding_and_an_approval(world):
    problem = assigned_problem(world)
    world.step("th", "assignment", "receipt", problem)
    report(world, problem)
    world.step("cs", "verification", "verify", problem, decision="approve")
    world.on(date(2020, 9, 1))
    attach_evidence(world.app, world["cs"], problem, "reopen_finding", {"reason": "回头看发现资料系补造"})
    world.step("cs", "reopen", "finding", problem)
    world.step("cd", "reopen", "approval", problem, decision="approve")
    assert stage(world, problem) == "assigned"
    report(world, problem, replace=True)
    assert stage(world, problem) == "reported"


def test_overdue_rectification_is_referred_once(world):
    problem = assigned_problem(world, due=date(2020, 6, 20))
    world.step("th", "assignment", "receipt", problem)
    world.on(date(2020, 6, 20))
    assert refer_overdue(world.app, world["cd"], COUNTY) == []       # due today: not late yet
    world.on(date(2020, 6, 21))
    with pytest.raises(AuthError):
        refer_overdue(world.app, world["insp"], COUNTY)
    assert refer_overdue(world.app, world["cd"], COUNTY) == [problem]
    assert refer_overdue(world.app, world["cd"], COUNTY) == []
    with world.app.engine.connect() as conn:
        assert [(r.problem_id, r.reason) for r in conn.execute(select(t.discipline_referrals))] == [(problem, "overdue")]
    assert verify(world.app).intact


# --- accountability outcomes ------------------------------------------------------------------------

def test_outcomes_are_recorded_against_persons_and_organisations_and_show_in_their_trace(world):
    case = exited(world)
    problem = wrong_exit(world, case)
    world.on(date(2020, 6, 10))
    removal = record_outcome(world.app, world["do"], OutcomeInput(
        "免职", "对错退负有主要领导责任", date(2020, 6, 10), person="tsec", problem_id=problem))
    record_outcome(world.app, world["do"], OutcomeInput(
        "admonition", "入户核实不认真", date(2020, 6, 10), person="ts3", problem_id=problem))
    record_outcome(world.app, world["do"], OutcomeInput(
        "通报", "组织核查不力", date(2020, 6, 10), organisation="梅江镇人民政府", problem_id=problem))
    with world.app.engine.connect() as conn:
        row = conn.execute(select(t.accountability_outcomes).where(t.accountability_outcomes.c.id == removal)).one()
    assert (row.outcome, row.due_on) == ("removal", date(2020, 7, 10))     # within one month
    traced = person_trace(world.app, world["insp"], "tsec")
    assert [(o["outcome"], o["problem_id"], o["due_on"]) for o in traced["outcomes"]] == \
        [("removal", problem, "2020-07-10")]
    world.on(date(2020, 7, 15))
    outcome_done(world.app, world["do"], removal, date(2020, 7, 15))
    assert person_trace(world.app, world["insp"], "tsec")["outcomes"][0]["done_on"] == "2020-07-15"
    ptrace = case_trace(world.app, world["insp"], problem)
    assert [(o["outcome"], o["person"] or o["organisation"]) for o in ptrace["problem"]["outcomes"]] == \
        [("removal", "tsec"), ("admonition", "ts3"), ("circulated_criticism", "梅江镇人民政府")]
    with world.app.engine.connect() as conn:
        done = conn.execute(select(t.audit_events).where(t.audit_events.c.action == "accountability_done")).one()
    assert done.detail["late"] is True and done.case_id == problem
    assert verify(world.app).intact


def test_a_removal_is_a_deadline_that_escalates_like_the_others_and_ends_the_post_when_carried_out(world):
    """A removal (免职) is to be carried out within a month: past that, nothing said it was overdue (the
    problems page, /supervise, the deadlines API and the sweep knew only the other deadlines), and once
    recorded carried out the person still held the post and could go on signing."""
    from engine.reads.dashboard import overdue_summary
    from engine.reads.deadlines import deadline_rows
    from engine.services.sweep import sweep
    from tests.helpers.deadlines import alerts_of, cst, deadlines_of
    case = exited(world)
    problem = wrong_exit(world, case)
    world.on(date(2020, 6, 10))
    removal = record_outcome(world.app, world["do"], OutcomeInput(
        "免职", "对错退负有主要领导责任", date(2020, 6, 10), person="tsec", problem_id=problem))
    record_outcome(world.app, world["do"], OutcomeInput(      # an admonition has nothing to carry out by a date
        "admonition", "入户核实不认真", date(2020, 6, 10), person="ts3", problem_id=problem))
    [d] = deadlines_of(world, problem, rule="outcome_carried_out")
    assert (d.type, d.subject, d.start_on, d.due_on, d.status) == ("outcome", str(removal), date(2020, 6, 10),
                                                                    date(2020, 7, 10), "open")
    assert (d.owner_id, d.owner_role) == (world["do"].person_id, "discipline_officer")   # no organisation officer
    assert [e["to"] for e in d.ladder if e["level"] > 0] == [["county_head", "county_secretary"], ["inspector"]]

    world.on(date(2020, 7, 20))
    # (the problem item itself, never assigned, is overdue to be assigned as well; and the reopened
    # household's new plan, due 30 days after the reopening, is overdue too)
    assert sorted(r["rule"] for r in deadline_rows(world.app, world["insp"], overdue=True)) == [
        "assistance_plan_again", "outcome_carried_out", "problem_assignment"]
    assert {g["key"]: g["count"] for g in overdue_summary(world.app, world["cd"])["groups"]["rule"]} == \
        {"outcome_carried_out": 1, "problem_assignment": 1, "assistance_plan_again": 1}
    sweep(world.app, now=cst(2020, 7, 20, 9, 0))
    assert [(level, who) for did, level, who in alerts_of(world) if did == d.id] == \
        [(0, ("do",)), (1, ("ch", "csec")), (2, ("insp",))]

    world.on(date(2020, 7, 25))
    outcome_done(world.app, world["do"], removal, date(2020, 7, 25))
    [d] = deadlines_of(world, problem, rule="outcome_carried_out")
    assert (d.status, d.closed_reason) == ("done", "outcome done")
    world.actors["tsec"] = authenticate(world.app, "tsec", world.tokens["tsec"])
    assert world["tsec"].assignments == ()                                  # removed from the post
    with pytest.raises(AuthError):
        world.step("tsec", "assignment", "assign", problem, assignee="th", lead_unit="a", responsible_unit="b",
                   due=date(2020, 8, 1))
    with world.app.engine.connect() as conn:
        revoked = conn.execute(select(t.audit_events).where(t.audit_events.c.action == "role_revoked")).one()
    assert (revoked.detail["person"], revoked.detail["revoked_role"], revoked.region_code) == \
        ("tsec", "township_secretary", TOWNSHIP)
    assert verify(world.app).intact


def test_only_recorders_record_outcomes_and_bad_ones_write_nothing(world):
    before = snapshot(world)
    with pytest.raises(AuthError) as inspector:
        record_outcome(world.app, world["insp"], OutcomeInput("admonition", "x", date(2019, 1, 5), person="ts1"))
    assert inspector.value.code == "auth.read_only"
    with pytest.raises(AuthError):
        record_outcome(world.app, world["cd"], OutcomeInput("admonition", "x", date(2019, 1, 5), person="ts1"))
    with pytest.raises(BadInput) as unknown:
        record_outcome(world.app, world["do"], OutcomeInput("reorganisation", "x", date(2019, 1, 5), person="ts1"))
    assert unknown.value.code == "outcome.unknown"     # reorganisation is for organisations
    with pytest.raises(BadInput) as both:
        record_outcome(world.app, world["do"], OutcomeInput("通报", "x", date(2019, 1, 5), person="ts1",
                                                            organisation="梅江镇"))
    assert both.value.code == "outcome.person_or_organisation"
    assert snapshot(world) == before


# --- tracing -------------------------------------------------------------------------------------

def test_a_case_trace_shows_every_step_evidence_notice_rule_version_and_responsibility(world):
    case = exited(world)
    trace = case_trace(world.app, world["insp"], case)
    exit_proc = next(p for p in trace["procedures"] if p["kind"] == "exit")
    steps = {s["step"]: s for s in exit_proc["steps"]}
    assert steps["county_approval"]["person"] == "ch" and steps["county_approval"]["decision"] == "approved"
    assert steps["county_approval"]["role"] == "county_head"
    relied = {e["type"]: e for e in steps["county_approval"]["evidence"]}
    assert relied["income_assessment"]["attached_by"] == "vs" and len(relied["income_assessment"]["hash"]) == 64
    assert relied["household_confirmation"]["file"]
    # the two village notices of the identification, its announcement (公告: no days), the exit's notice and announcement
    assert [n["days_required"] for n in trace["notices"]] == [7, 7, 0, 7, 0]
    assert trace["rule_versions"] == [world.app.policy_version]
    assert {r["person"] for r in exit_proc["responsibility"] if r["type"] == "main_leadership"} == {"csec", "ch", "tsec"}
    assert trace["integrity"] == {"events": len(trace["events"]), "head": trace["events"][-1]["hash"],
                                  "intact": True, "macs_checked": True, "damage": [], "damaged_events": []}


def test_a_trace_is_read_within_jurisdiction_only(world):
    case = exited(world)
    with pytest.raises(AuthError):
        case_trace(world.app, world["vs2"], case)
    with pytest.raises(AuthError):
        person_trace(world.app, world["vs2"], "ts1")
    assert person_trace(world.app, world["aud"], "ts1")["person"]["code"] == "ts1"


def test_a_person_trace_lists_every_step_they_took(world):
    case = exited(world)
    traced = person_trace(world.app, world["insp"], "ts1")
    assert [(s["procedure"], s["step"]) for s in traced["steps"]] == [        # newest first
        ("exit", "township_review"), ("assistance", "pairing"), ("identification", "township_review")]
    assert {(r["procedure"], r["basis"]) for r in traced["responsibilities"]} == {
        ("identification", "step:township_review"), ("assistance", "step:pairing"), ("exit", "step:township_review")}
    assert all(s["case_id"] == case for s in traced["steps"])


def test_the_html_dossier_is_printable_chinese_by_default_and_hides_id_numbers(world):
    case = exited(world)
    problem = wrong_exit(world, case)
    trace = case_trace(world.app, world["insp"], case)
    page = render_html(world.app, trace)
    assert "案件全程卷宗" in page and "乡镇审核" in page and "未被改动" in page
    assert "主要领导责任" in page and "脱贫退出" in page
    with world.app.engine.connect() as conn:
        ids = [m.id_number for m in conn.execute(select(t.household_members.c.id_number))]
    assert ids and not any(number in page for number in ids)
    english = render_html(world.app, case_trace(world.app, world["insp"], problem), "en")
    assert "Case dossier" in english and "wrong exit" in english and "main leadership responsibility" in english


def test_the_dossier_shows_times_on_the_office_clock_and_who_made_it(world):
    case = exited(world)            # the world signs at 02:00 UTC: 10:00 in the office (Asia/Shanghai)
    page = render_html(world.app, case_trace(world.app, world["insp"], case))
    assert "2019-11-20 10:00" in page and "2019-11-28 10:00" in page
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", page) and "02:00" not in page
    assert f"生成时间 2019-11-28 10:00，生成人 {world['insp'].name}（insp）" in page
    english = render_html(world.app, case_trace(world.app, world["insp"], case), "en")
    assert f"Generated at 2019-11-28 10:00 by {world['insp'].name} (insp)" in english


def replaced_income(world: World) -> int:
    """An exited household whose income sheet was replaced (10,000 -> 12,000) before the exit."""
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case)
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 12000.0},
                    replace=True, reason="重新核算务工收入")
    world.exit(case)
    return case


def test_a_trace_says_what_each_decision_was_based_on_and_what_a_replacement_changed(world):
    case = replaced_income(world)
    text = cli(world, "insp", "trace", case).out
    dossier = render_html(world.app, case_trace(world.app, world["insp"], case))
    for shown in (text, dossier):
        assert "到会人数：38" in shown and "赞成票：33" in shown and "反对票：1" in shown       # the exit vote
        assert re.search(r"退出收入核对：人均纯收入 6,000 元，标准线 [\d,.]+ 元（.+2019 年", shown)
        assert "家庭纯收入：12,000" in shown                                   # the evidence relied on
        assert "收入核算明细表：家庭纯收入 10,000 → 12,000" in shown            # what the replacement changed
    english = cli(world, "insp", "trace", case, lang="en").out
    assert "per-capita net income 6,000 yuan against the line of" in english


def test_a_person_trace_lists_their_other_acts_a_page_at_a_time(world):
    case = replaced_income(world)
    shown = cli(world, "insp", "trace", "--person", "vs").out        # the replacement the flags name them for
    assert "更换材料" in shown and "收入核算明细表：家庭纯收入 10,000 → 12,000" in shown
    assert "2019-11-20 10:00" in shown
    first = person_trace(world.app, world["insp"], "vs", limit=2)
    assert dict(first["acts_kinds"]) == {"case_registered": 1, "evidence_attached": 6, "evidence_replaced": 1}
    assert [a["action"] for a in first["acts"]] == ["evidence_replaced", "evidence_attached"]
    assert first["acts"][0]["case_id"] == case and "收入核算明细表：家庭纯收入 10,000 → 12,000" in first["acts"][0]["lines"]
    pages = [first]
    while pages[-1]["acts_older"]:
        pages.append(person_trace(world.app, world["insp"], "vs", before=pages[-1]["acts_older"], limit=2))
    seqs = [a["seq"] for page in pages for a in page["acts"]]
    assert len(pages) == 4 and len(seqs) == 8 == len(set(seqs)) and seqs == sorted(seqs, reverse=True)
    assert pages[-1]["acts"][-1]["action"] == "case_registered"
    only = person_trace(world.app, world["insp"], "vs", action="evidence_replaced")["acts"]
    assert [a["action"] for a in only] == ["evidence_replaced"]
    older = json.loads(cli(world, "insp", "trace", "--person", "vs", "--before", str(seqs[1]), "--json").out)
    assert [a["seq"] for a in older["acts"]] == seqs[2:]                # the command line pages too
    kind = json.loads(cli(world, "insp", "trace", "--person", "vs", "--act", "evidence_replaced", "--json").out)
    assert [a["action"] for a in kind["acts"]] == ["evidence_replaced"]
    dossier = render_html(world.app, person_trace(world.app, world["insp"], "vs"), template="trace_person.html")
    assert "收入核算明细表：家庭纯收入 10,000 → 12,000" in dossier and f"生成人 {world['insp'].name}（insp）" in dossier
    with pytest.raises(AuthError):       # still read within the reader's jurisdiction
        person_trace(world.app, world["vs2"], "vs")


# --- the command line ----------------------------------------------------------------------------

def cli(world: World, who: str, *args, lang: str | None = None):
    from tests.test_cli import jingzhun
    argv = ["--home", world.app.settings.home, *db_option(world.app.engine.url.render_as_string(hide_password=False))]
    if lang:
        argv += ["--lang", lang]
    return jingzhun(argv + ["--as", who, *args], world.tokens[who])


def test_trace_and_problem_commands(world, tmp_path):
    case = exited(world)
    shown = cli(world, "insp", "trace", case)
    assert shown.code == 0, shown.err
    assert "主要领导责任" in shown.out and "ch" in shown.out and "未被改动" in shown.out
    as_json = json.loads(cli(world, "insp", "trace", case, "--json").out)
    assert as_json["integrity"]["intact"] and as_json["id"] == case
    page = tmp_path / "dossier.html"
    assert cli(world, "insp", "trace", case, "--html", page).code == 0
    assert "<table>" in page.read_text(encoding="utf-8")
    person = cli(world, "insp", "trace", "--person", "ch", lang="en")
    assert person.code == 0 and "main leadership responsibility" in person.out
    assert "cases: 1," in person.out and "1 cases" not in person.out, person.out      # one case: no "1 cases"
    assert cli(world, "insp", "trace").code == 2
    assert cli(world, "insp", "trace", case, "--person", "ch").code == 2

    added = cli(world, "cd", "problem", "add", "--region", TOWNSHIP, "--source", "考核", "--description", "错退",
                "--found-on", "2020-05-30", "--finding", "wrong_exit", "--case", case)
    assert added.code == 0, added.err
    assert json.loads(cli(world, "insp", "case", "show", case, "--json").out)["stage"] == "assisted"
    refused = cli(world, "insp", "problem", "add", "--region", TOWNSHIP, "--source", "考核", "--description", "x")
    assert refused.code == 1 and "auth.read_only" in refused.err
    recorded = cli(world, "do", "accountability", "record", "--person", "ch", "--outcome", "诫勉", "--reason", "审批把关不严",
                   "--decided-on", "2020-06-10")
    assert recorded.code == 0, recorded.err
    assert "诫勉" in cli(world, "insp", "trace", "--person", "ch").out
    listed = cli(world, "insp", "accountability", "list")         # where `accountability done` finds its id
    assert listed.code == 0, listed.err
    header, *rows = listed.out.splitlines()
    assert header.split("\t")[:3] == ["编号", "决定日期", "问责方式"]
    oid, decided, outcome, who, *_, state = rows[0].split("\t")
    assert (decided, outcome, state) == ("2020-06-10", "诫勉", "未执行") and "（ch）" in who
    assert cli(world, "do", "accountability", "done", oid, "--on", "2020-06-20").code == 0
    assert cli(world, "insp", "accountability", "list").out.splitlines()[1].endswith("\t2020-06-20")
    assert oid not in [r.split("\t")[0] for r in cli(world, "insp", "accountability", "list", "--pending").out.splitlines()]
    english = cli(world, "insp", "accountability", "list", lang="en").out
    assert "admonition" in english and " (ch)" in english
    bad = cli(world, "do", "accountability", "record", "--person", "ch", "--outcome", "槍斃", "--reason", "x")
    assert bad.code == 2 and "问责方式" in bad.err


def test_rewriting_who_was_responsible_in_the_audit_event_breaks_its_hash(world):
    """The names are inside the completing step's hashed event: editing them there is found by verify."""
    case = exited(world)
    from tests.test_audit_verify import raw
    column = "detail" if world.app.engine.dialect.name == "sqlite" else "detail::text"
    cast = "" if world.app.engine.dialect.name == "sqlite" else "::json"
    raw(world, f"UPDATE audit_events SET detail = (replace({column}, '\"ch\"', '\"cd\"')){cast} "
               "WHERE to_stage = 'exited'")
    report = verify(world.app)
    assert not report.intact and "changed" in {d.kind for d in report.damage}


def test_accountability_rows_are_append_only_in_the_database(world):
    from sqlalchemy import text
    case = exited(world)
    problem = wrong_exit(world, case)
    world.on(date(2020, 6, 10))
    outcome = record_outcome(world.app, world["do"], OutcomeInput("免职", "x", date(2020, 6, 10), person="tsec",
                                                                  problem_id=problem))
    for statement in ("UPDATE responsibilities SET person_code = 'cd'", "DELETE FROM responsibilities",
                      "DELETE FROM problem_links", "UPDATE problem_links SET finding = 'other'",
                      f"UPDATE accountability_outcomes SET outcome = 'admonition' WHERE id = {outcome}",
                      "DELETE FROM accountability_outcomes"):
        with pytest.raises(Exception) as refused:
            with world.app.engine.begin() as conn:
                conn.execute(text(statement))
        assert "append-only" in str(refused.value) or "only once" in str(refused.value) or "never" in str(refused.value)
    world.on(date(2020, 7, 1))
    outcome_done(world.app, world["do"], outcome, date(2020, 7, 1))     # the one change allowed
    with pytest.raises(Exception):
        with world.app.engine.begin() as conn:
            conn.execute(text(f"UPDATE accountability_outcomes SET done_on = NULL WHERE id = {outcome}"))


def test_a_trace_shows_rows_edited_behind_the_engine_even_when_the_chain_is_intact(world):
    import sqlite3
    case = exited(world)
    assert case_trace(world.app, world["insp"], case)["integrity"]["intact"]
    if world.app.engine.dialect.name != "sqlite":
        from sqlalchemy import text
        with world.app.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER responsibilities_no_change ON responsibilities"))
            conn.execute(text("UPDATE responsibilities SET person_code = 'cd' WHERE person_code = 'ch'"))
            conn.execute(text("UPDATE steps SET reason = 'backfilled' WHERE step_key = 'county_approval'"))
    else:
        with sqlite3.connect(world.app.engine.url.database) as db:
            db.execute("DROP TRIGGER responsibilities_no_update")
            db.execute("UPDATE responsibilities SET person_code = 'cd' WHERE person_code = 'ch'")
            db.execute("UPDATE steps SET reason = 'backfilled' WHERE step_key = 'county_approval'")
    trace = case_trace(world.app, world["insp"], case)
    assert not trace["integrity"]["intact"]
    damage = " | ".join(trace["integrity"]["damage"])
    assert "步骤 县级审批：事由与其审计事件" in damage
    assert "记载的责任人与其审计事件不符" in damage
    damage = " | ".join(case_trace(world.app, world["insp"], case, "en")["integrity"]["damage"])
    assert "step county approval: grounds differ from its audit event" in damage
    assert "persons named responsible differ" in damage
    shown = cli(world, "insp", "trace", case)                # a script sees it too: exit 1
    assert shown.code == 1 and "事由与其审计事件" in shown.out


def test_a_step_whose_signer_was_changed_in_the_table_says_whom_its_event_records(world):
    """The trace said only that a step's person and post differ from its event: the signer the event
    recorded appeared nowhere, the forged one on every line. The damage line names the recorded one."""
    from tests.helpers.tamper import raw
    case = exited(world)
    raw(world, "UPDATE steps SET person_id = (SELECT id FROM persons WHERE code = 'cd') WHERE step_key = "
               f"'county_approval' AND procedure_id IN (SELECT id FROM procedures WHERE case_id = {case})")
    damage = " | ".join(case_trace(world.app, world["insp"], case)["integrity"]["damage"])
    assert "审计事件记录的是 ch（县长）于 2019-11-28「同意」" in damage and "以审计事件为准" in damage, damage
    english = " | ".join(case_trace(world.app, world["insp"], case, "en")["integrity"]["damage"])
    assert "the event records ch (" in english, english


def test_an_evidence_item_whose_values_were_changed_is_marked_where_the_trace_shows_them(world):
    """A forged income showed in the trace's history as the figure the director added, with nothing beside
    it: the values now carry a warning that they are not what was recorded."""
    from tests.helpers.tamper import raw
    case = exited(world)
    raw(world, "UPDATE evidence SET fields = '{\"year\": 2019, \"net_income\": 1.0}' WHERE case_id = "
               f"{case} AND type = 'income_assessment'")
    trace = case_trace(world.app, world["insp"], case)
    shown = [line for e in trace["events"] for line in e["lines"] if "家庭纯收入" in line and " 1" in line]
    assert shown and all(line.endswith("以上数值不可信）") for line in shown), shown
    untouched = [line for e in trace["events"] for line in e["lines"] if "收支核查表" in line]
    assert untouched and not any("不可信" in line for line in untouched)
    listed = {item["type"]: dict(item["words"]) for item in trace["evidence"]}      # the evidence list, and
    assert "以上数值不可信" in listed["income_assessment"]["注意"] and "注意" not in listed["income_check"]
    relied = [dict(ref["words"]) for p in trace["procedures"] for s in p["steps"] for ref in s["evidence"]
              if ref["type"] == "income_assessment"]                                 # a step's that relied on it
    assert relied and all("注意" in words for words in relied)


def test_jurisdiction_holds_for_outcomes_person_traces_and_wrong_exit_findings(world):
    case = exited(world)
    admin = authenticate(world.app, "admin", world.tokens["admin"])
    from engine.services.org import add_regions
    add_regions(world.app, admin, [("360731000000", "石城县")])
    add_persons(world.app, admin, [NewPerson("far", "石城县干部", (("county_office_staff", "360731000000"),))])
    before = snapshot(world)
    with pytest.raises(AuthError) as elsewhere:     # even when the recorder names their own county
        record_outcome(world.app, world["do"], OutcomeInput("admonition", "x", date(2019, 11, 28), person="far",
                                                            region=COUNTY))
    assert elsewhere.value.code == "auth.jurisdiction"
    with pytest.raises(AuthError) as staff:          # a wrong exit reopens at once: exit approvers only
        wrong_exit(world, case, by="cs")
    assert staff.value.code == "auth.wrong_role"
    assert snapshot(world) == before
    # A reader of the other township sees the secretary's record there, not in the first township.
    grant_role(world.app, admin, "tsec", "township_secretary", TOWNSHIP2)
    assert person_trace(world.app, world["ts_other"], "tsec")["responsibilities"] == []
    assert person_trace(world.app, world["insp"], "tsec")["responsibilities"]


@pytest.mark.parametrize("said, kind, code", [("党内警告", "person", "party_warning"),         # as the pages show it
                                              ("警告", "person", "party_warning"),
                                              ("Party warning", "person", "party_warning"),
                                              ("作出书面检查", "organisation", "self_examination")])
def test_an_outcome_is_taken_by_the_label_the_pages_show(world, said, kind, code):
    """The trace and the pages name outcomes by the catalogue's labels (党内警告, 作出书面检查); a
    recorder typing that label was refused, only the service's own short names were taken."""
    who = {"person": "ts1"} if kind == "person" else {"organisation": "梅江镇人民政府", "region": TOWNSHIP}
    made = record_outcome(world.app, world["do"], OutcomeInput(said, "x", date(2019, 1, 5), **who))
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.accountability_outcomes.c.outcome)
                            .where(t.accountability_outcomes.c.id == made)).scalar_one() == code


@pytest.mark.parametrize("edit, said", [
    ("UPDATE evidence SET fields = '{\"year\": 2019, \"net_income\": 1.0}' WHERE case_id = {case} "
     "AND type = 'income_assessment'", "材料被改动"),
    ("UPDATE household_members SET name = '改名' WHERE case_id = {case} AND relation = 'head'", "家庭成员"),
    # a MAC's first digit changed (one that began 'ff' was left as it was: 1 run in 256 passed it as intact)
    ("UPDATE audit_events SET mac = CASE WHEN substr(mac, 1, 1) = '0' THEN '1' ELSE '0' END || substr(mac, 2) "
     "WHERE case_id = {case} AND case_seq = 2", "伪造"),
    # its attributes (an exit year moved, causes): verify found it, the trace said 未被改动
    ("UPDATE cases SET attrs = '{\"causes\": [\"lack_skills\"]}' WHERE id = {case}", "案件属性与记录不符"),
])
def test_a_trace_finds_what_audit_verify_finds_of_its_case(world, edit, said):
    """The integrity line an inspector prints and signs: an edited evidence item, an edited member or
    an event whose signature is wrong is said there, not 'unaltered' (they had been verify's alone)."""
    from tests.helpers.tamper import raw
    case = exited(world)
    assert case_trace(world.app, world["insp"], case)["integrity"]["intact"]
    raw(world, edit.replace("{case}", str(case)))
    integrity = case_trace(world.app, world["insp"], case)["integrity"]
    assert not integrity["intact"] and said in " | ".join(integrity["damage"]), integrity
    assert not verify(world.app).intact


def test_a_steps_stored_reason_and_coded_values_are_said_in_words():
    """A failed appraisal's outcome is stored as a message's text, an acceptance's quality as a code:
    both in words in the trace (they had been the stored JSON under 问责方式, and `pass`)."""
    from config import load_config
    from engine.domain.errors import Msg, stored
    from engine.reads.words import data_words
    config = load_config()
    outcome = stored(Msg("outcome_reason.appraisal_vote_failed", {"votes_for": 3, "attendance": 41}))
    shown = dict(data_words(config, {"outcome": outcome, "quality": "pass"}))
    assert shown == {"未通过的原因": "民主评议未通过：到会 41 人，赞成 3 人", "质量": "合格"}, shown
    english = dict(data_words(config, {"quality": "excellent"}, "en"))
    assert list(english.values()) == ["excellent"]


def test_a_reopenings_reason_recorded_before_is_shown_as_it_was_and_none_is_typed_as_the_engines():
    """A reason recorded before it was stored as a message (问题 #3: …, in hashed events that never change)
    is shown as it is, in either language; the one stored now is said in the reader's."""
    from config import load_config
    from engine.domain.errors import Msg, stored
    from engine.reads.words import field_words
    config = load_config()
    old = "问题 #3: 第三方评估发现该户收入核算有误"
    now = stored(Msg("reopen_reason.wrong_exit", {"problem": 3, "description": "收入核算有误"}))
    for lang in ("zh", "en"):
        assert field_words(config, {"reason": old}, lang)[0][1] == old
    assert field_words(config, {"reason": now}, "en")[0][1] == "problem #3: 收入核算有误"
    assert field_words(config, {"reason": now}, "zh")[0][1] == "问题 #3：收入核算有误"


def test_an_evidence_text_written_as_the_engines_own_words_is_refused(world):
    """An item's text field is now read as the engine's words when it is stored as a message: a person
    may not type one (it would be shown as the engine's finding), as for a reason."""
    from engine.domain.errors import Msg, stored
    case = world.household()
    forged = stored(Msg("reopen_reason.wrong_exit", {"problem": 1, "description": "x"}))
    with pytest.raises(BadInput) as refused:
        attach_evidence(world.app, world["vs"], case, "wrong_exit_finding",
                        {"source": "third_party_evaluation", "reason": forged})
    assert refused.value.code == "input.engine_text"


def test_a_trace_hashes_a_case_s_files_again_only_when_they_changed(world, monkeypatch):
    """Each view of a case's trace checks its evidence files, but reads a file again only once it
    was written since (a 400 MB scan had cost every view its hashing); an altered file is still said."""
    from engine.reads import audit_verify
    case = exited(world)
    assert case_trace(world.app, world["insp"], case)["integrity"]["intact"]
    hashed = []
    real = world.app.evidence.intact
    monkeypatch.setattr(world.app.evidence, "intact", lambda sha: hashed.append(sha) or real(sha))
    assert case_trace(world.app, world["insp"], case)["integrity"]["intact"] and hashed == []
    with world.app.engine.connect() as conn:
        sha = conn.execute(select(t.evidence.c.file_sha256).where(t.evidence.c.case_id == case,
                                                                 t.evidence.c.file_sha256.is_not(None))).scalar()
    world.app.evidence.path_for(sha).write_bytes(b"altered")
    integrity = case_trace(world.app, world["insp"], case)["integrity"]
    assert not integrity["intact"] and hashed == [sha] and any("已被改动" in d for d in integrity["damage"])
    assert any(d.kind == "evidence_file_changed" for d in verify(world.app).damage)
    audit_verify._FILES_SEEN.clear()


def test_an_item_whose_assignee_left_is_assigned_to_another_who_reports_it(world):
    """The person assigned is deactivated (or removed): an office reassigns the item, the new assignee
    signs for it and reports; the rectification deadline is theirs, the old one superseded."""
    from engine.services.accounts import deactivate
    problem = assigned_problem(world)
    world.step("th", "assignment", "receipt", problem)
    deactivate(world.app, world["admin"], "th", "调任")
    world.on(date(2020, 6, 10))
    world.step("cd", "reassignment", "assign", problem, assignee="tsec", lead_unit="县住建局", responsible_unit="梅江镇",
               due=date(2020, 7, 10))
    with pytest.raises(RuleViolation):
        world.step("cd", "reassignment", "receipt", problem)          # only the new assignee signs for it
    world.step("tsec", "reassignment", "receipt", problem)
    with world.app.engine.connect() as conn:
        deadlines = conn.execute(select(t.deadlines.c.owner_id, t.deadlines.c.status, t.deadlines.c.due_on).where(
            t.deadlines.c.case_id == problem, t.deadlines.c.rule == "rectification").order_by(t.deadlines.c.id)).all()
    tsec = world["tsec"].person_id
    assert [(d.status, d.owner_id == tsec) for d in deadlines] == [("cancelled", False), ("open", True)]
    assert str(deadlines[-1].due_on) == "2020-07-10"
    report(world, problem, who="tsec")
    assert stage(world, problem) == "reported"


def test_a_removal_carried_out_refuses_the_posts_still_proposed_for_the_person_there(world):
    """A post proposed for the person before the removal and confirmed after it would have given the
    removal back: recording it carried out refuses such proposals, with the outcome's reason."""
    from engine.services import role_proposals
    from engine.domain.errors import NotFound
    admin = world["admin"]
    tokens = activate_all(world.app, add_persons(world.app, admin, [NewPerson("adm2", "第二管理员", (("admin", COUNTY),))]))
    second = authenticate(world.app, "adm2", tokens["adm2"])
    case = exited(world)
    problem = wrong_exit(world, case)
    world.on(date(2020, 6, 10))
    proposal = grant_role(world.app, admin, "tsec", "township_head", TOWNSHIP)     # waits for a second administrator
    assert proposal is not None
    removal = record_outcome(world.app, world["do"], OutcomeInput(
        "免职", "对错退负有主要领导责任", date(2020, 6, 10), person="tsec", problem_id=problem))
    world.on(date(2020, 6, 20))
    outcome_done(world.app, world["do"], removal, date(2020, 6, 20))
    with pytest.raises(NotFound):
        role_proposals.confirm(world.app, second, [proposal])
    with world.app.engine.connect() as conn:
        status, reason = conn.execute(select(t.role_proposals.c.status, t.role_proposals.c.reason).where(
            t.role_proposals.c.id == proposal)).one()
    assert (status, reason) == ("refused", "对错退负有主要领导责任")
    world.actors["tsec"] = authenticate(world.app, "tsec", world.tokens["tsec"])
    assert world["tsec"].assignments == ()
    assert verify(world.app).intact
