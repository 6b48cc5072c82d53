"""A poor village's and a fund project's procedures are due at every step they wait for, as a household's are.

Before, no deadline rule named a village (identification, plan, exit, the team's enrolment), and a project's
steps other than its milestones and monthly report were undated: a village's exit could wait at the county's
approval for a year with no alert, nothing on the overdue page, nothing in `deadline list`.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete

from engine.adapters import tables as t
from engine.reads.dashboard import OverdueFilter, overdue_page
from engine.services.case_actions import attach_evidence
from engine.services.setup import install_config
from engine.services.sweep import sweep
from tests.helpers.deadlines import alerts_of, config_copy, cst, deadlines_of, reach_everyone
from tests.helpers.notifications import cli
from tests.helpers.projects import add_project, households
from tests.helpers.villages import CHECKLIST, assisted_village


def exit_noticed(world, tmp_path) -> int:
    """A village with no poor household left proposes its exit on 2019-12-02 (a Monday); the township posts the
    notice that day: the county's approval is next, once the notice has run."""
    village = assisted_village(world, tmp_path, population=200)
    world.on(date(2019, 12, 2))
    attach_evidence(world.app, world["vs"], village, "village_exit_checklist", CHECKLIST)
    world.step("vs", "village_exit", "exit_application", village)
    world.step("ts1", "village_exit", "township_notice", village)
    return village


def test_a_village_exit_waiting_at_the_county_is_due_and_escalates_to_the_county(world, tmp_path):
    reach_everyone(world)
    village = exit_noticed(world, tmp_path)
    d, = deadlines_of(world, village, rule="village_notice_expiry", status="open")
    with world.app.engine.connect() as conn:
        notice_end = conn.execute(t.notices.select().where(t.notices.c.procedure_kind == "village_exit")).one().end_date
    # due 3 working days after the notice ran, owned by the county office's director (the county approves in Jiangxi)
    assert (d.step_key, d.start_on, d.basis, d.counting) == ("exit_approval", notice_end, "level:county", "working")
    assert d.due_on > notice_end and (d.owner_id, d.owner_role) == (world["cd"].person_id, "county_office_director")
    # the township posted its notice within its week (village_step_waiting, done by the notice)
    posted = deadlines_of(world, village, rule="village_step_waiting", procedure_id=d.procedure_id)
    assert [(x.step_key, x.status) for x in posted] == [("township_notice", "done")]
    world.on(date(2020, 3, 2))
    sweep(world.app, now=cst(2020, 3, 2, 9, 0))          # months late: the owner, the county's leaders, the inspector
    got = {level: who for deadline, level, who in alerts_of(world) if deadline == d.id}
    assert got == {-1: ("cd",), 0: ("cd",), 1: ("ch", "csec"), 2: ("insp",)} or \
        {k: v for k, v in got.items() if k >= 0} == {0: ("cd",), 1: ("ch", "csec"), 2: ("insp",)}, got
    rows = overdue_page(world.app, world["ch"], OverdueFilter(rule="village_notice_expiry"))["rows"]   # /supervise/overdue
    assert [(r["case"], r["step"], r["owner"]) for r in rows] == [(village, "exit_approval", "cd")]
    listed = cli(world, "cd", "deadline", "list", "--case", str(village), "--overdue")
    assert listed.code == 0 and "贫困村公示期满后续办理" in listed.out, listed.out + listed.err
    english = cli(world, "cd", "--lang", "en", "deadline", "list", "--case", str(village), "--overdue").out
    assert "poor village's next step after the notice ran" in english and str(d.due_on) in english, english
    # approved: done; the county's announcement is due within a working week
    world.step("cd", "village_exit", "exit_approval", village, decision="approve")
    assert deadlines_of(world, village, rule="village_notice_expiry")[0].status == "done"
    announce, = deadlines_of(world, village, rule="village_step_waiting", status="open")
    assert (announce.step_key, announce.basis, announce.ladder[-1]["to"]) == ("announcement", "level:county",
                                                                             ["inspector"])


def test_a_village_exit_the_city_approves_is_the_citys_to_approve_and_escalates_at_the_city(world, tmp_path):
    """A province whose cities approve village exits (policy village_exit_approver_level: city): the approval
    waits for the city's poverty office, escalated there, not for the county office's director."""
    def city_approves(policy):
        policy["provinces"]["36"].setdefault("params", {})["village_exit_approver_level"] = "city"
    world.on(date(2019, 11, 1))
    world.app.config = install_config(world.app, world["admin"], config_copy(tmp_path, edit_policy=city_approves)).config
    village = exit_noticed(world, tmp_path)
    d, = deadlines_of(world, village, rule="village_notice_expiry", status="open")
    assert (d.step_key, d.basis) == ("exit_approval", "level:city")
    assert d.owner_role == "city_office_staff" and d.owner_id != world["cd"].person_id
    assert [e["to"] for e in d.ladder if e["level"] >= 0] == ["owner", ["city_office_staff"], ["inspector"]]


def test_villages_already_waiting_get_their_deadline_when_the_rules_are_installed(world, tmp_path):
    """A home from before these rules: the village waiting at the county since its notice ran gets its
    deadline at `config install` (or `init` of a release with them), dated from then, once."""
    village = exit_noticed(world, tmp_path)
    with world.app.engine.begin() as conn:           # as a home before this rule: nothing due
        conn.execute(delete(t.deadlines).where(t.deadlines.c.case_id == village))
    world.on(date(2020, 3, 2))
    install_config(world.app, world["admin"], config_copy(tmp_path))
    d, = deadlines_of(world, village, rule="village_notice_expiry")
    assert (d.status, d.step_key, d.owner_role, d.basis) == ("open", "exit_approval", "county_office_director",
                                                             "level:county")
    install_config(world.app, world["admin"], config_copy(tmp_path / "again"))
    assert len(deadlines_of(world, village, rule="village_notice_expiry")) == 1


# --- fund projects ---------------------------------------------------------------------------------------

def test_a_project_sign_off_waiting_is_due_and_escalates_over_the_county(world, tmp_path):
    reach_everyone(world)
    case = add_project(world, households(world, 2))
    world.step("vs", "library_entry", "submission", case)
    world.step("fs", "library_entry", "village_notice", case)
    noticed, = deadlines_of(world, case, rule="project_notice_expiry", status="open")
    assert (noticed.step_key, noticed.basis, noticed.owner_role) == ("township_review", "level:township",
                                                                     "township_staff")
    world.on(date(2019, 4, 8))
    world.step("ts1", "library_entry", "township_review", case, decision="approve")
    world.step("ts2", "library_entry", "township_notice", case)
    world.on(date(2019, 4, 15))
    world.step("cd", "library_entry", "county_approval", case, decision="approve")
    assert {(d.rule, d.step_key, d.status) for d in deadlines_of(world, case) if d.type == "waiting"} >= {
        ("project_notice_expiry", "township_review", "done"), ("project_step_waiting", "township_notice", "done"),
        ("project_notice_expiry", "county_approval", "done")}
    # a change of plan asked for on 2019-04-22 (a Monday) waits for the county's approval: 10 working days
    world.on(date(2019, 4, 22))
    world.step("ts3", "plan_change", "change_request", case, reason="雨季延误", completion=date(2019, 12, 20))
    d, = deadlines_of(world, case, rule="project_signoff_waiting", status="open")
    assert (d.step_key, d.basis, d.start_on, d.due_on) == ("change_approval", "level:county", date(2019, 4, 22),
                                                          date(2019, 5, 7))     # 劳动节 1-4 May; 28 April, 5 May worked
    assert (d.owner_id, d.owner_role) == (world["cd"].person_id, "county_office_director")
    world.on(date(2019, 6, 3))
    sweep(world.app, now=cst(2019, 6, 3, 9, 0))
    got = {level: who for deadline, level, who in alerts_of(world) if deadline == d.id and level >= 0}
    assert got == {0: ("cd",), 1: ("ch", "csec"), 2: ("insp",)}, got
    rows = overdue_page(world.app, world["cd"], OverdueFilter(rule="project_signoff_waiting"))["rows"]
    assert [(r["case"], r["step"]) for r in rows] == [(case, "change_approval")]
    world.step("cd", "plan_change", "change_approval", case, decision="approve")
    assert deadlines_of(world, case, rule="project_signoff_waiting")[0].status == "done"


def test_every_village_and_project_procedure_leaves_no_step_between_two_without_a_due_date(world):
    """Each step a village's or a project's procedure waits for after its first has a rule that dates it."""
    from engine.domain.deadline_rules import compiled, dates_waiting
    uncovered = []
    for kind in ("village", "project"):
        rules = compiled(world.app.config).by_kind[kind]
        for name, proc in world.app.config.workflows[kind].procedures.items():
            for before, step in zip(proc.steps, proc.steps[1:]):
                if not any(dates_waiting(rule, step, before) for rule in rules.values()):
                    uncovered.append(f"{kind}:{name}.{step.key}")
    assert uncovered == []


# --- problem items: the verification of a reported rectification -------------------------------------------

def reported_problem(world) -> int:
    """A problem item assigned to ts1 on 2019-06-03 and its rectification reported the same day (a Monday)."""
    from engine.domain.cases import StepInput
    from engine.services.procedures import perform_step
    from tests.world import TOWNSHIP
    from workflows.problem import ProblemInput, register_problem
    world.on(date(2019, 6, 3))
    problem = register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "supervision", "帮扶手册未更新",
                                                                    date(2019, 6, 1)))
    perform_step(world.app, world["cd"], "assignment", "assign", [problem],
                 StepInput(assignee="ts1", lead_unit="县扶贫办", responsible_unit="梅江镇", due=date(2019, 6, 30)))
    perform_step(world.app, world["ts1"], "assignment", "receipt", [problem])
    attach_evidence(world.app, world["ts1"], problem, "rectification_report",
                    {"reported_on": "2019-06-03", "summary": "已更新"})
    perform_step(world.app, world["ts1"], "rectification", "report", [problem])
    return problem


def test_a_reported_rectification_is_due_to_be_verified_within_a_working_week(world):
    reach_everyone(world)
    problem = reported_problem(world)
    d, = deadlines_of(world, problem, rule="problem_verification")
    assert (d.status, d.step_key, d.start_on, d.due_on) == ("open", "verify", date(2019, 6, 3), date(2019, 6, 11))
    assert (d.owner_id, d.owner_role) == (world["cd"].person_id, "county_office_director")   # 端午 7 June
    world.on(date(2019, 7, 1))
    sweep(world.app, now=cst(2019, 7, 1, 9, 0))
    got = {level: who for deadline, level, who in alerts_of(world) if deadline == d.id and level >= 0}
    assert got == {0: ("cd",), 1: ("ch", "csec"), 2: ("insp",)}, got
    from engine.domain.cases import StepInput
    from engine.services.procedures import perform_step
    perform_step(world.app, world["cs"], "verification", "verify", [problem], StepInput(decision="approve"))
    assert [(x.status, x.closed_reason) for x in deadlines_of(world, problem, rule="problem_verification")] == [
        ("done", "stage:closed")]


def test_items_reported_before_the_rule_get_it_when_the_rules_are_installed(world, tmp_path):
    problem = reported_problem(world)
    with world.app.engine.begin() as conn:           # as a home before this rule: nothing due
        conn.execute(delete(t.deadlines).where(t.deadlines.c.rule == "problem_verification"))
    world.on(date(2019, 9, 2))
    install_config(world.app, world["admin"], config_copy(tmp_path))
    d, = deadlines_of(world, problem, rule="problem_verification")
    assert (d.status, d.step_key, d.start_on, d.due_on, d.owner_role) == (
        "open", "verify", date(2019, 6, 3), date(2019, 6, 11), "county_office_director")
    install_config(world.app, world["admin"], config_copy(tmp_path / "again"))     # once only
    assert len(deadlines_of(world, problem, rule="problem_verification")) == 1


def test_a_household_s_county_approval_after_its_second_notice_escalates_at_the_county(world):
    """The household's own rule had fixed days and so the standard ladder: the county office director's
    approval, due once the township's second notice ran, went up to the township's head and secretary, who
    cannot press a county office."""
    reach_everyone(world)
    case = world.household()
    world.up_to_county_approval(case)
    d, = deadlines_of(world, case, rule="notice_expiry", status="open")
    assert (d.step_key, d.basis, d.owner_role) == ("county_approval", "level:county", "county_office_director")
    assert [e["to"] for e in d.ladder if e["level"] >= 1] == [["county_head", "county_secretary"], ["inspector"]]
    world.on(date(2019, 5, 6))
    sweep(world.app, now=cst(2019, 5, 6, 9, 0))
    got = {level: who for deadline, level, who in alerts_of(world) if deadline == d.id}
    assert {k: v for k, v in got.items() if k >= 1} == {1: ("ch", "csec"), 2: ("insp",)}, got
