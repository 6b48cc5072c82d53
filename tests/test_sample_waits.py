"""A sample check's wrong exit recorded while another procedure of the household was under way waits for
the county office to register its problem item once that procedure ends: a deadline says so, the sweep
alerts and escalates it like any other, and the item registered (the finding linked) closes it."""
from __future__ import annotations

from datetime import date

from engine.services.problems import ProblemInput, register_problem
from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.sampling import Finding, draw, record_finding, show
from engine.services.sweep import sweep
from tests.helpers.deadlines import alerts_of, cst, deadlines_of, reach_everyone
from tests.test_accountability import exited
from tests.test_household_life import village_chain
from tests.test_sample_problems import monitoring_under_way
from tests.world import COUNTY, TOWNSHIP

RULE = "sample_problem_registration"


def test_a_waiting_wrong_exit_is_due_to_be_registered_once_the_monitoring_ends(world):
    """Before: the monitoring ended and nothing reminded anybody; the finding stayed counted, no item."""
    reach_everyone(world)
    case, drawn = monitoring_under_way(world, "cd")
    record_finding(world.app, world["cd"], Finding(drawn["id"], case, "wrong_exit", "收入不实"))
    assert deadlines_of(world, case, rule=RULE) == []          # nothing to register while it runs
    village_chain(world, "monitoring", case, date(2020, 3, 9), "county_decision")     # a Monday
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.start_on, d.due_on) == ("open", date(2020, 3, 9), date(2020, 3, 16))   # 5 working days
    assert (d.owner_id, d.owner_role) == (world["cd"].person_id, "county_office_director")
    awaits = show(world.app, world["cd"], drawn["id"])["households"][0]["findings"][0]["awaits"]
    assert awaits == {"procedure": None, "kind": None, "due_on": "2020-03-16"}
    sweep(world.app, now=cst(2020, 3, 24, 9, 0))            # overdue: the office, then the county's leaders
    assert {level: who for deadline, level, who in alerts_of(world) if deadline == d.id} == {
        0: ("cd",), 1: ("ch", "csec")}
    world.on(date(2020, 3, 25))
    register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "assessment", "抽查发现错退", date(2020, 3, 25),
                                                          "wrong_exit", [case]))
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.closed_reason) == ("done", "problem registered")


def test_a_wrong_exit_found_during_a_correction_that_is_rejected_is_due_to_be_registered(world):
    """Before: the evaluator's wrong exit waited for the 错退纠正; rejected, it stayed counted with no
    problem item and nobody was told. Now the rejection starts the county office's deadline."""
    from engine.services.case_actions import attach_evidence
    case = exited(world)
    world.on(date(2019, 12, 10))
    drawn = draw(world.app, world["cd"], COUNTY, 1, "2019-县", 2019)
    attach_evidence(world.app, world["ts2"], case, "wrong_exit_finding", {"source": "督查", "reason": "收入不实"})
    world.step("ts2", "reopen_wrong_exit", "finding", case)
    record_finding(world.app, world["cd"], Finding(drawn["id"], case, "wrong_exit", "收入核算漏计支出"))
    assert deadlines_of(world, case, rule=RULE) == []
    world.on(date(2019, 12, 12))
    world.step("th", "reopen_wrong_exit", "township_review", case, decision="reject", reason="证据不足")
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.start_on, d.owner_role) == ("open", date(2019, 12, 12), "county_office_director")
    # the village starts its correction again: the office cannot register it meanwhile, and is not chased
    world.on(date(2019, 12, 13))            # on a finding of its own (the rejected one's was that procedure's)
    attach_evidence(world.app, world["ts2"], case, "wrong_exit_finding", {"source": "督查", "reason": "收入不实，补充支出凭证"})
    world.step("ts2", "reopen_wrong_exit", "finding", case)
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.closed_reason) == ("cancelled", "procedure under way")
    world.step("th", "reopen_wrong_exit", "township_review", case, decision="approve")
    world.step("ch", "reopen_wrong_exit", "county_approval", case, decision="approve")     # the item: the finding's
    assert [r.status for r in deadlines_of(world, case, rule=RULE)] == ["cancelled"]
    assert show(world.app, world["cd"], drawn["id"])["households"][0]["findings"][0]["problem"] is not None


def test_a_monitoring_rejected_by_an_objection_upheld_leaves_the_wrong_exit_due_to_be_registered(world):
    """The other way a procedure ends: an objection to its notice upheld (`notice resolve --uphold`)."""
    from engine.services.case_actions import file_objection, resolve_objection
    from tests.test_household_life import village_steps
    case, drawn = monitoring_under_way(world, "cd")
    record_finding(world.app, world["cd"], Finding(drawn["id"], case, "wrong_exit", "收入不实"))
    village_steps(world, "monitoring", case)
    with world.app.engine.connect() as conn:
        notice = conn.execute(select(t.notice_cases.c.notice_id).where(t.notice_cases.c.case_id == case)
                              .order_by(t.notice_cases.c.notice_id.desc())).scalars().first()
    world.on(date(2020, 3, 4))
    objection = file_objection(world.app, world["vs"], notice, case, "村民王某", "该户收入稳定", date(2020, 3, 4))
    assert deadlines_of(world, case, rule=RULE) == []
    resolve_objection(world.app, world["ts1"], objection, True, "经核实，异议属实")
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.start_on, d.owner_role) == ("open", date(2020, 3, 4), "county_office_director")


def waiting_from_before(world) -> int:
    """A household whose wrong exit was left waiting before its home had the rule: recorded while its
    monitoring ran, the monitoring ended on 2020-03-09, no deadline; the clock on 2020-04-01."""
    from sqlalchemy import delete
    case, drawn = monitoring_under_way(world, "cd")
    record_finding(world.app, world["cd"], Finding(drawn["id"], case, "wrong_exit", "收入不实"))
    village_chain(world, "monitoring", case, date(2020, 3, 9), "county_decision")
    with world.app.engine.begin() as conn:         # as a home before this rule: nothing due
        conn.execute(delete(t.deadlines).where(t.deadlines.c.rule == RULE))
    world.on(date(2020, 4, 1))
    return case


def test_config_install_opens_the_deadline_of_a_wrong_exit_waiting_from_before(world, tmp_path):
    """A home whose wrong exit was left waiting before it had the rule (recorded, its monitoring ended,
    no deadline): installing the configuration that brings the rule makes it due from that day."""
    from engine.services.setup import install_config
    from tests.helpers.deadlines import config_copy
    case = waiting_from_before(world)
    install_config(world.app, world["admin"], config_copy(tmp_path))
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.start_on, d.due_on, d.owner_role) == ("open", date(2020, 4, 1), date(2020, 4, 9),
                                                              "county_office_director")   # 4-6 April: 清明
    install_config(world.app, world["admin"], config_copy(tmp_path / "again"))          # once only
    assert len(deadlines_of(world, case, rule=RULE)) == 1


def back_under_assistance(world, finding_during: bool) -> tuple[int, dict]:
    """An exited household drawn for a sample check, then back under assistance by its 返贫 reopening
    (completed 2020-03-10); the evaluator's wrong exit recorded while the reopening ran, or after it."""
    from engine.services.case_actions import attach_evidence
    case = exited(world)
    world.on(date(2019, 12, 10))
    drawn = draw(world.app, world["cd"], COUNTY, 1, "2019-县", 2019)
    world.on(date(2020, 3, 1))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 3000},
                    replace=True, reason="因病支出大增，重新核算")
    world.step("pc1", "reopen_return_to_poverty", "finding", case)
    if finding_during:
        record_finding(world.app, world["cd"], Finding(drawn["id"], case, "wrong_exit", "收入不实"))
    village_chain(world, "reopen_return_to_poverty", case, date(2020, 3, 10), "county_approval")
    return case, drawn


def exit_signers(world, case: int) -> set[str]:
    with world.app.engine.connect() as conn:
        exit_proc = select(t.procedures.c.id).where(t.procedures.c.case_id == case, t.procedures.c.kind == "exit")
        return set(conn.execute(select(t.persons.c.code).join(t.responsibilities, t.responsibilities.c.person_id
                                                              == t.persons.c.id)
                                .where(t.responsibilities.c.procedure_id.in_(exit_proc))).scalars())


def named_chain(world, case: int) -> tuple[str, set[str], list[str]]:
    """The household's stage, who its wrong-exit problem item names, and its procedures' kinds."""
    with world.app.engine.connect() as conn:
        stage = conn.execute(select(t.cases.c.stage).where(t.cases.c.id == case)).scalar_one()
        link, = conn.execute(select(t.problem_links).where(t.problem_links.c.case_id == case)).all()
        kinds = list(conn.execute(select(t.procedures.c.kind).where(t.procedures.c.case_id == case)
                                  .order_by(t.procedures.c.id)).scalars())
    assert link.finding == "wrong_exit"
    return stage, {r["person_code"] for r in link.chain}, kinds


def test_a_wrong_exit_a_return_to_poverty_then_hid_is_due_to_be_registered_with_its_exit_chain(world):
    """Before: once its 返贫 reopening completed the household was no longer exited, nothing was due, and the
    county office's `problem add` was refused (stage.not_allowed): the wrong exit (DOMAIN §9: its exit chain
    named with their responsibility) was hidden by the return to poverty. Now it is due, and the item names
    everyone of the exit's chain without reopening the household a second time."""
    case, drawn = back_under_assistance(world, finding_during=True)
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.start_on, d.owner_role) == ("open", date(2020, 3, 10), "county_office_director")
    assert show(world.app, world["cd"], drawn["id"])["households"][0]["findings"][0]["awaits"]["due_on"] \
        == d.due_on.isoformat()
    world.on(date(2020, 3, 12))
    problem = register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "assessment", "抽查发现错退",
                                                                    date(2020, 3, 12), "wrong_exit", [case]))
    stage, named, kinds = named_chain(world, case)
    assert stage == "assisted" and kinds[-1] == "reopen_return_to_poverty"     # not reopened again
    assert named and named == exit_signers(world, case)
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.closed_reason) == ("done", "problem registered")
    assert show(world.app, world["cd"], drawn["id"])["households"][0]["findings"][0]["problem"] == problem


def test_a_wrong_exit_found_after_a_return_to_poverty_is_registered_at_once(world):
    """Before: the evaluator could not record it at all (stage.not_allowed: the item tried to reopen a
    household under assistance), and the wrong-exit rate missed it."""
    case, drawn = back_under_assistance(world, finding_during=False)
    world.on(date(2020, 3, 12))
    record_finding(world.app, world["cd"], Finding(drawn["id"], case, "wrong_exit", "收入不实"))
    finding, = show(world.app, world["cd"], drawn["id"])["households"][0]["findings"]
    assert finding["problem"] is not None and finding.get("awaits") is None
    stage, named, kinds = named_chain(world, case)
    assert stage == "assisted" and kinds[-1] == "reopen_return_to_poverty"
    assert named == exit_signers(world, case)
    assert deadlines_of(world, case, rule=RULE) == []


def test_an_upgrade_bringing_the_rule_in_its_packaged_rules_opens_the_deadline_too(world, tmp_path):
    """A home running on the packaged rules takes a release's at `jingzhun init`: a wrong exit left waiting
    before the home had the rule is due from that day, as after `config install`."""
    from config import load_config
    from entrypoints.bootstrap import init_home
    from tests.helpers.rules_copy import rules_copy
    case = waiting_from_before(world)
    released = load_config(rules_copy(tmp_path, {"policy.yaml": ("transition_period_years: 5 ",
                                                                 "transition_period_years: 6 ")}))
    upgraded, _token = init_home(world.app.settings, config=released, clock=world.clock)
    upgraded.close()
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.start_on, d.due_on) == ("open", date(2020, 4, 1), date(2020, 4, 9))
