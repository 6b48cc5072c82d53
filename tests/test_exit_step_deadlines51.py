"""Every step a case waits for between two others has a due date, and a deadline names the step it waits for.

Audit a6, findings 1 and 2: 48 demo households had waited at their exit's acknowledgement (签字确认) since
2019-11-20 with no deadline, no alert, nothing on /supervise/overdue; and the new-plan deadline of a household
back in poverty was listed, exported and mailed as waiting for the exit's proposal (评议并提出退出), a step
refused until the new plan is approved.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, update

from engine.adapters import tables as t
from engine.reads.dashboard import OverdueFilter, overdue_page
from engine.services.case_actions import attach_evidence
from engine.services.setup import install_config
from engine.services.sweep import digest, sweep
from tests.helpers.deadlines import alerts_of, config_copy, cst, deadlines_of, reach_everyone
from tests.helpers.notifications import cli, outbox
from tests.world import scan_file

RULE = "step_waiting"


def at_acknowledgement(world, tmp_path) -> int:
    """A household proposed for exit and verified on 2019-11-20 (a Wednesday), its signed confirmation missing:
    it waits for its acknowledgement."""
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, confirm=False, tmp=tmp_path)
    world.exit(case, through="verification")
    return case


def test_an_exit_waiting_at_its_acknowledgement_is_due_within_a_working_week_and_escalates(world, tmp_path):
    reach_everyone(world)
    case = at_acknowledgement(world, tmp_path)
    d, = deadlines_of(world, case, rule=RULE, status="open")
    # due 5 working days after the verification, owned by the household's own pairing cadre
    assert (d.step_key, d.start_on, d.due_on, d.counting) == ("acknowledgement", date(2019, 11, 20),
                                                              date(2019, 11, 27), "working")
    assert (d.owner_id, d.owner_role) == (world["pc1"].person_id, "pairing_cadre")
    # the verification it waited for before is done (proposed and verified the same day)
    assert [(x.step_key, x.status) for x in deadlines_of(world, case, rule=RULE)][-2:] == [
        ("verification", "done"), ("acknowledgement", "open")]
    world.on(date(2019, 12, 10))
    sweep(world.app, now=cst(2019, 12, 10, 9, 0))       # 9 working days late: owner, township leaders, county
    got = {level: who for deadline, level, who in alerts_of(world) if deadline == d.id}
    assert got == {0: ("pc1",), 1: ("th", "tsec"), 2: ("cd",)}
    mail = [r for r in outbox(world) if r.kind != "digest" and r.address == "th"]
    assert any("农户认可签字" in r.body for r in mail), [r.body for r in mail]
    # on the overdue page, in the CLI's list and in the supervisors' digest
    rows = overdue_page(world.app, world["cd"], OverdueFilter(rule=RULE))["rows"]      # /supervise/overdue
    assert [(r["case"], r["step"], r["owner"]) for r in rows] == [(case, "acknowledgement", "pc1")]
    listed = cli(world, "cd", "deadline", "list", "--case", str(case), "--overdue")
    assert listed.code == 0 and "农户认可签字" in listed.out, listed.out + listed.err
    assert "2019-11-27" in listed.out, listed.out
    english = cli(world, "cd", "--lang", "en", "deadline", "list", "--case", str(case), "--overdue").out
    assert "step waiting" in english and "2019-11-27" in english, english
    assert digest(world.app, now=cst(2019, 12, 11, 8, 0))["messages"] >= 1
    body = next(r.body for r in outbox(world) if r.kind == "digest" and r.address == "th")
    assert "待办步骤" in body, body
    # the confirmation signed and acknowledged: done; the notice is due next
    world.on(date(2019, 12, 12))
    attach_evidence(world.app, world["pc1"], case, "household_confirmation", {"signed_on": "2019-12-12"},
                    scan_file(tmp_path / "confirm.pdf"))
    world.step("fs", "exit", "acknowledgement", case)
    assert [(x.step_key, x.status) for x in deadlines_of(world, case, rule=RULE)][-3:] == [
        ("verification", "done"), ("acknowledgement", "done"), ("village_notice", "open")]


def test_an_acknowledgement_voided_by_its_confirmation_replaced_is_due_again_from_that_day(world, tmp_path):
    """The signed confirmation replaced after the notice was posted: the acknowledgement and the notice are
    voided, the case waits for its acknowledgement again, due a working week from the replacement."""
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, tmp=tmp_path)
    world.exit(case, through="village_notice")        # 2019-11-20: the township's review is next
    world.on(date(2019, 11, 25))
    attach_evidence(world.app, world["pc1"], case, "household_confirmation", {"signed_on": "2019-11-25"},
                    scan_file(tmp_path / "again.pdf"), replace=True, void_signoffs=True,
                    reason="原确认书签名不清，重新签字")
    waits = [(x.rule, x.step_key, x.status, x.start_on, x.due_on) for x in deadlines_of(world, case)
             if x.type == "waiting" and x.start_on >= date(2019, 11, 20)]
    assert waits[-2:] == [("notice_expiry", "township_review", "cancelled", date(2019, 11, 27), date(2019, 12, 2)),
                          (RULE, "acknowledgement", "open", date(2019, 11, 25), date(2019, 12, 2))], waits


def test_every_household_procedure_leaves_no_step_between_two_without_a_due_date(world):
    """Each step a household's procedure waits for after its first has a rule that dates it: a sign-off, the
    step after a notice, a monitoring's 15 days, the assistance plan's 30, or the steps' own week."""
    from engine.domain.deadline_rules import compiled
    rules = compiled(world.app.config).by_kind["household"]
    workflow = world.app.config.workflows["household"]
    uncovered = []
    for name, proc in workflow.procedures.items():
        for before, step in zip(proc.steps, proc.steps[1:]):
            after_notice = before.type == "notice"
            dated = any(
                tr.waiting is not None and ("any" in tr.waiting or step.type in tr.waiting)
                and tr.after_notice in (None, after_notice)
                or tr.starts == name or tr.enters is not None and workflow.main_path.get(tr.enters) == name
                for rule in rules.values() for tr in rule.when)
            if not dated:
                uncovered.append(f"{name}.{step.key}")
    assert uncovered == []


def test_households_already_waiting_get_their_deadline_dated_from_when_they_began_to_wait(world, tmp_path):
    """A home from before the rule: the households stuck at their acknowledgement since 2019-11-20 get their
    deadline when the rules are installed, due from that day (overdue at once, alerted by the next sweep), and
    only once."""
    reach_everyone(world)
    case = at_acknowledgement(world, tmp_path)
    with world.app.engine.begin() as conn:         # as a home before this rule: nothing due
        conn.execute(delete(t.deadlines).where(t.deadlines.c.rule == RULE))
    world.on(date(2020, 10, 20))
    install_config(world.app, world["admin"], config_copy(tmp_path))
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.step_key, d.start_on, d.due_on, d.owner_role) == (
        "open", "acknowledgement", date(2019, 11, 20), date(2019, 11, 27), "pairing_cadre")
    install_config(world.app, world["admin"], config_copy(tmp_path / "again"))          # once only
    assert len(deadlines_of(world, case, rule=RULE)) == 1
    sweep(world.app, now=cst(2020, 10, 20, 9, 0))
    assert {level for deadline, level, _ in alerts_of(world) if deadline == d.id} == {0, 1, 2, 3}
    rows = overdue_page(world.app, world["th"], OverdueFilter(rule=RULE))["rows"]
    assert [(r["case"], r["step"]) for r in rows] == [(case, "acknowledgement")]


# --- finding 2: the new plan's deadline names the plan, not the exit --------------------------------------

def back_in_poverty(world, tmp_path) -> int:
    from tests.test_household_life import consolidated
    from tests.test_plan_again import back_in_poverty as reopened
    case = consolidated(world, tmp_path)
    reopened(world, case)                               # approved by the county on 2020-03-10
    return case


def test_the_new_plan_deadline_waits_for_the_plan_everywhere_it_is_shown(world, tmp_path):
    reach_everyone(world)
    case = back_in_poverty(world, tmp_path)
    d, = deadlines_of(world, case, rule="assistance_plan_again")
    assert (d.step_key, d.due_on) == ("plan", date(2020, 4, 9))
    world.on(date(2020, 4, 20))
    sweep(world.app, now=cst(2020, 4, 20, 9, 0))
    rows = overdue_page(world.app, world["th"], OverdueFilter(rule="assistance_plan_again"))["rows"]
    assert [(r["case"], r["step"]) for r in rows] == [(case, "plan")]
    listed = cli(world, "th", "deadline", "list", "--case", str(case)).out
    assert "制定帮扶计划" in listed and "评议并提出退出" not in listed, listed
    mails = [r.body for r in outbox(world) if r.kind != "digest" and r.address == "th"]
    assert mails and all("评议并提出退出" not in b for b in mails), mails
    assert "（调整帮扶计划 / 制定帮扶计划）" in mails[0], mails[0]
    # the plan proposed: it waits for the township's approval; rejected: for a plan again
    world.on(date(2020, 4, 21))
    world.step("fs", "plan_revision", "plan", case, measures=(("health", "大病救助"),))
    assert deadlines_of(world, case, rule="assistance_plan_again")[0].step_key == "plan_approval"
    world.step("th", "plan_revision", "plan_approval", case, decision="reject", reason="措施不足")
    d, = deadlines_of(world, case, rule="assistance_plan_again")
    assert (d.status, d.step_key) == ("open", "plan")


def test_a_newly_monitored_household_s_plan_deadline_names_the_plan(world, tmp_path):
    from tests.test_household_life import consolidated, monitor
    case = consolidated(world, tmp_path)
    monitor(world, case)
    d, = deadlines_of(world, case, rule="assistance_plan_again")
    assert (d.status, d.step_key) == ("open", "plan")


def test_an_open_new_plan_deadline_recorded_with_the_exit_s_step_is_put_right(world, tmp_path):
    """A home whose open new-plan deadline was written naming the exit's proposal: set right at the upgrade."""
    from engine.services.deadlines import correct_awaited_steps
    case = back_in_poverty(world, tmp_path)
    with world.app.engine.begin() as conn:
        conn.execute(update(t.deadlines).where(t.deadlines.c.case_id == case).where(
            t.deadlines.c.rule == "assistance_plan_again").values(step_key="proposal"))
        assert correct_awaited_steps(conn, world.app.config) == 1
        assert correct_awaited_steps(conn, world.app.config) == 0
    assert deadlines_of(world, case, rule="assistance_plan_again")[0].step_key == "plan"


def test_the_workflow_tour_says_which_rule_dates_each_step_and_where_the_new_plan_waits(world):
    """`workflow show household`: a step's deadline is the one that dates the wait for it (none on a procedure's
    first step; after a notice, the notice's), and the new plan's 30 days belong to the plan's revision."""
    from engine.reads.workflow_diagram import render
    text = render(world.app.config, "household", "text", "zh")
    exit_part = text[text.index("脱贫退出 (exit)"):text.index("过渡期巩固 (consolidation)")]
    due, step = {}, None
    for line in exit_part.splitlines():
        if line.lstrip()[:1].isdigit():             # "  3. 农户认可签字 (acknowledgement) [本人认可]"
            step = line.split(" (")[1].split(")")[0]
        elif step and line.strip().startswith("时限"):
            due.setdefault(step, line.strip())
    assert "proposal" not in due and "重新制定帮扶计划" not in exit_part, exit_part
    assert due["acknowledgement"].startswith("时限: 待办步骤"), due
    assert due["township_review"].startswith("时限: 公示期满后续办理"), due
    assert due["county_approval"].startswith("时限: 待审核签署"), due
    revision = text[text.index("调整帮扶计划 (plan_revision)"):]
    assert revision.splitlines()[1].startswith("  时限: 重新制定帮扶计划"), revision
