"""Monitoring's 15 days run from the first clue, owned by whoever the case waits for; a problem item
found has a due date to be assigned (DOMAIN §3, §6, §9; audit a2 findings 1, 3 and 8)."""
from __future__ import annotations

from datetime import date

from engine.reads.dashboard import OverdueFilter, overdue_page
from engine.services.case_actions import attach_evidence, record_visit
from engine.services.sweep import sweep
from tests.helpers.deadlines import alerts_of, cst, deadlines_of, reach_everyone
from tests.test_household_life import consolidated, village_steps

RULE = "monitoring_identification"


def clue(world, case: int, clue_date: str) -> None:
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": clue_date, "monitoring_type": "unstable"})
    world.step("pc1", "monitoring", "clue", case)


def test_a_risk_found_on_a_visit_starts_the_15_days_and_a_later_clue_date_does_not_move_them(world, tmp_path):
    reach_everyone(world)
    case = consolidated(world, tmp_path)
    world.on(date(2020, 11, 2))
    record_visit(world.app, world["pc1"], case, date(2020, 10, 30), "家中主劳力患病住院", True)
    d, = deadlines_of(world, case, rule=RULE)
    # due 15 days from the visit, owned by the household's pairing cadre, who must start the monitoring
    assert (d.status, d.start_on, d.due_on, d.step_key) == ("open", date(2020, 10, 30), date(2020, 11, 14), "clue")
    assert (d.owner_id, d.owner_role) == (world["pc1"].person_id, "pairing_cadre")
    record_visit(world.app, world["vs"], case, date(2020, 11, 1), "再次走访", True)   # a second visit: the same clock
    clue(world, case, "2020-11-02")                      # the clue's date typed later than the visit
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.start_on, d.due_on) == ("open", date(2020, 10, 30), date(2020, 11, 14))
    assert d.step_key == "verification" and d.procedure_id is not None
    sweep(world.app, now=cst(2020, 11, 15, 9, 0))      # overdue: the owner of the waiting step is alerted
    assert [level for deadline, level, _ in alerts_of(world) if deadline == d.id] == [0]


def test_a_clue_dated_before_the_visit_moves_the_clock_earlier(world, tmp_path):
    case = consolidated(world, tmp_path)
    world.on(date(2020, 11, 2))
    record_visit(world.app, world["pc1"], case, date(2020, 10, 30), "家中主劳力患病住院", True)
    assert [d.start_on for d in deadlines_of(world, case, rule=RULE)] == [date(2020, 10, 30)]
    clue(world, case, "2020-10-25")
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.start_on, d.due_on) == ("open", date(2020, 10, 25), date(2020, 11, 9))


def test_only_a_risk_on_a_household_not_yet_monitored_starts_the_clock(world, tmp_path):
    from tests.test_household_life import monitor
    case = consolidated(world, tmp_path)
    world.on(date(2020, 3, 2))
    record_visit(world.app, world["pc1"], case, date(2020, 3, 1), "一切正常", False)
    assert deadlines_of(world, case, rule=RULE) == []
    world.on(date(2020, 3, 21))
    record_visit(world.app, world["pc1"], case, date(2020, 3, 20), "务工中断", True)
    monitor(world, case)                                  # clue 2020-03-30, monitored since 2020-04-06
    assert [(d.status, d.start_on) for d in deadlines_of(world, case, rule=RULE)] == [("done", date(2020, 3, 20))]
    world.on(date(2020, 5, 2))
    record_visit(world.app, world["pc1"], case, date(2020, 5, 1), "仍有风险", True)
    assert [d.status for d in deadlines_of(world, case, rule=RULE)] == ["done"]     # monitored: nothing to identify


def at_the_township(world, tmp_path) -> int:
    """A risk found on 2020-10-30 (the 15 days due 2020-11-14), the village's steps and notice done on 2020-11-02:
    the case waits for the township's review."""
    case = consolidated(world, tmp_path)
    world.on(date(2020, 11, 2))
    record_visit(world.app, world["pc1"], case, date(2020, 10, 30), "家中主劳力患病住院", True)
    clue(world, case, "2020-10-30")
    village_steps(world, "monitoring", case)
    return case


def test_the_monitoring_deadline_follows_the_step_the_case_waits_for(world, tmp_path):
    reach_everyone(world)
    case = at_the_township(world, tmp_path)
    d, = deadlines_of(world, case, rule=RULE)
    # waiting at the township's review: the township's staff own it, not the village's first secretary
    assert (d.step_key, d.owner_id, d.owner_role) == ("township_review", world["ts1"].person_id, "township_staff")
    world.on(date(2020, 11, 25))
    sweep(world.app, now=cst(2020, 11, 25, 9, 0))        # 11 days overdue: owner, township leaders, county office
    got = {level: who for deadline, level, who in alerts_of(world) if deadline == d.id}
    assert got == {0: ("ts1",), 1: ("th", "tsec"), 2: ("cd",)}
    rows = overdue_page(world.app, world["cd"], OverdueFilter(rule=RULE))["rows"]   # /supervise/overdue
    assert [(r["case"], r["step"], r["owner"]) for r in rows] == [(case, "township_review", "ts1")]
    world.on(date(2020, 11, 26))
    world.step("ts1", "monitoring", "township_review", case, decision="approve")
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.step_key, d.owner_role) == ("county_decision", "county_office_director")
    world.step("cd", "monitoring", "county_decision", case, decision="approve")
    assert deadlines_of(world, case, rule=RULE)[0].status == "done"


def test_a_problem_item_found_is_due_to_be_assigned_and_assignment_closes_it(world):
    from engine.domain.cases import StepInput
    from engine.services.procedures import perform_step
    from workflows.problem import ProblemInput, register_problem
    from tests.world import TOWNSHIP
    reach_everyone(world)
    world.on(date(2019, 6, 10))                           # a Monday
    problem = register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "supervision", "帮扶手册未更新",
                                                                    date(2019, 6, 1)))
    d, = deadlines_of(world, problem, rule="problem_assignment")
    assert (d.status, d.start_on, d.due_on, d.step_key) == ("open", date(2019, 6, 10), date(2019, 6, 17), "assign")
    assert (d.owner_id, d.owner_role) == (world["cd"].person_id, "county_office_director")
    sweep(world.app, now=cst(2019, 6, 24, 9, 0))          # 5 working days: 06-17; owner, then the county
    assert {level: who for deadline, level, who in alerts_of(world) if deadline == d.id} == {
        0: ("cd",), 1: ("ch", "csec")}
    perform_step(world.app, world["cd"], "assignment", "assign", [problem],
                 StepInput(assignee="ts1", lead_unit="县扶贫办", responsible_unit="梅江镇", due=date(2019, 6, 30)))
    d, = deadlines_of(world, problem, rule="problem_assignment")
    assert (d.status, d.closed_reason) == ("done", "step:assign")


def test_steps_voided_hand_the_monitoring_deadline_back_to_who_must_do_them_again(world, tmp_path):
    case = consolidated(world, tmp_path)
    world.on(date(2020, 11, 2))
    clue(world, case, "2020-10-30")
    village_steps(world, "monitoring", case)
    assert deadlines_of(world, case, rule=RULE)[0].owner_role == "township_staff"
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",      # the clue corrected: its steps again
                    {"source": "走访排查", "clue_date": "2020-10-30", "monitoring_type": "sudden_hardship"},
                    replace=True, reason="类型填错", void_signoffs=True)
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.step_key, d.owner_id, d.due_on) == ("open", "clue", world["pc1"].person_id, date(2020, 11, 14))


def test_a_problem_item_registered_as_any_case_is_due_to_be_assigned_too(world):
    from engine.services.registration import register_case
    from tests.world import TOWNSHIP
    world.on(date(2019, 6, 10))
    problem = register_case(world.app, world["cd"], "problem", TOWNSHIP, "帮扶手册未更新")     # `case add problem`
    d, = deadlines_of(world, problem, rule="problem_assignment")
    assert (d.status, d.due_on, d.step_key, d.owner_id) == ("open", date(2019, 6, 17), "assign", world["cd"].person_id)
