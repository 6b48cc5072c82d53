"""Deadlines (DOMAIN §6): created and closed with the work, escalated level by level, each once.

Time is the world's FixedClock or an explicit `now`; nothing sleeps.
"""
from __future__ import annotations

import threading
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from entrypoints.bootstrap import make_app
from engine.services.case_actions import attach_evidence
from engine.adapters.db import Settings
from engine.services.sweep import sweep
from engine.domain.errors import RuleViolation
from tests.helpers.deadlines import alerts_of, awaiting_plan, deadlines_of, reach_everyone
from tests.helpers.deadlines import CST, count, cst, identified  # noqa: F401 (other test modules import them from here)


# --- creation and closing, in the same transaction as the step --------------------------------

def test_identification_starts_the_assistance_plan_deadline_and_assistance_closes_it(world):
    case = identified(world)[0]
    plan = deadlines_of(world, case, rule="assistance_plan")
    assert len(plan) == 1
    d = plan[0]
    assert (d.status, d.start_on, d.due_on, d.counting, d.provisional) == \
        ("open", date(2019, 3, 15), date(2019, 4, 14), "calendar", False)
    assert d.owner_id == world["ts1"].person_id and d.owner_role == "township_staff"   # the pairing's, first
    assert d.rules_version == world.app.policy_version
    assert [e["level"] for e in d.ladder] == [-1, 0, 1, 2, 3]
    assert d.ladder[2]["to"] == ["township_head", "township_secretary"] and d.ladder[4]["to"] == ["inspector"]
    # Each identification notice left a "next step due" deadline, closed by that next step.
    notices = deadlines_of(world, case, rule="notice_expiry")
    assert [(n.step_key, n.status, n.closed_reason) for n in notices] == [
        ("township_review", "done", "step:township_review"), ("county_approval", "done", "step:county_approval")]
    world.assist(case)
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert (d.status, d.closed_reason) == ("done", "stage:assisted")
    assert d.closed_at is not None


def test_a_refused_step_writes_no_deadline(world):
    case = identified(world)[0]
    before = deadlines_of(world)
    world.on(date(2019, 3, 20))
    with pytest.raises(RuleViolation):
        world.step("vs", "assistance", "plan", case, measures=(("industry", "x"),))   # pairing comes first
    assert deadlines_of(world) == before


def test_sign_off_waiting_at_the_county_counts_working_days_and_uses_the_county_ladder(world):
    reach_everyone(world)
    case = identified(world)[0]
    world.assist(case)
    world.exit_evidence(case)
    world.exit(case, through="township_review")          # 2019-11-28: the county approval is next
    plan_approval, waiting = deadlines_of(world, case, rule="signoff_waiting")
    assert (plan_approval.step_key, plan_approval.status, plan_approval.basis) == ("plan_approval", "done",
                                                                                   "level:township")
    d = waiting
    assert (d.step_key, d.basis, d.counting, d.start_on, d.due_on) == \
        ("county_approval", "level:county", "working", date(2019, 11, 28), date(2019, 12, 12))
    assert d.owner_id == world["cd"].person_id            # first of the step's roles over the case
    result = sweep(world.app, now=cst(2019, 12, 30, 9, 0))
    assert result.by_level == {0: 1, 1: 1, 2: 1}
    got = {level: who for _, level, who in alerts_of(world) if _ == d.id}
    assert got == {0: ("cd",), 1: ("ch", "csec"), 2: ("insp",)}
    world.step("ch", "exit", "county_approval", case, decision="approve")   # the waiting deadline is done
    assert deadlines_of(world, case, rule="signoff_waiting")[1].status == "done"


# --- the ladder: the right people, each level once, at the right time --------------------------

def test_the_ladder_on_a_calendar_rule(world):
    reach_everyone(world)
    case = awaiting_plan(world)[0]
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    steps = [
        (cst(2019, 4, 12, 7, 59), {}),
        (cst(2019, 4, 12, 8, 0), {-1: ("fs",)}),               # due-soon reminder, 2 days before
        (cst(2019, 4, 15, 7, 59), {}),
        (cst(2019, 4, 15, 8, 0), {0: ("fs",)}),                # overdue: the owner
        (cst(2019, 4, 17, 23, 0), {}),
        (cst(2019, 4, 18, 8, 0), {1: ("th", "tsec")}),         # +3 days: township leaders
        (cst(2019, 4, 29, 9, 0), {2: ("cd",), 3: ("insp",)}),  # late sweep: +7 and +14 together
        (cst(2019, 6, 1, 9, 0), {}),                           # nothing more, ever
    ]
    seen: dict = {}
    for now, expected in steps:
        before = len(alerts_of(world))
        sweep(world.app, now=now)
        new = {level: who for _, level, who in alerts_of(world)[before:]}
        assert new == expected, now
        seen.update(new)
    assert sorted(seen) == [-1, 0, 1, 2, 3]
    assert [(a[0], a[1]) for a in alerts_of(world)] == [(d.id, lv) for lv in (-1, 0, 1, 2, 3)]
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert (d.next_level, d.next_alert_at, d.status) == (None, None, "open")


def test_the_ladder_on_working_days_across_the_national_day_week(world):
    """2019: 1-7 October are holidays; Sunday 29 September and Saturday 12 October are worked."""
    reach_everyone(world)
    case = world.household()
    world.on(date(2019, 9, 20))
    world.up_to_first_notice(case)        # runs to Friday 27 September
    d = deadlines_of(world, case, rule="notice_expiry")[0]
    assert (d.start_on, d.due_on) == (date(2019, 9, 27), date(2019, 10, 8))   # Sun 29, Mon 30, Tue 8 Oct
    at = {e["level"]: datetime.fromisoformat(e["at"]).astimezone(CST).strftime("%m-%d %H:%M") for e in d.ladder}
    assert at == {-1: "09-29 08:00", 0: "10-09 08:00", 1: "10-12 08:00", 2: "10-17 08:00", 3: "10-28 08:00"}
    owner = d.owner_id
    assert owner not in (world["fs"].person_id, world["vs"].person_id)   # who took part may not review
    for now, level in ((cst(2019, 9, 28, 20, 0), None), (cst(2019, 9, 29, 8, 0), -1), (cst(2019, 10, 8, 20, 0), None),
                       (cst(2019, 10, 9, 8, 0), 0), (cst(2019, 10, 11, 9, 0), None),
                       (cst(2019, 10, 12, 8, 0), 1), (cst(2019, 10, 17, 8, 0), 2), (cst(2019, 10, 28, 8, 0), 3)):
        before = len(alerts_of(world))
        sweep(world.app, now=now)
        assert [a[1] for a in alerts_of(world)[before:] if a[0] == d.id] == ([] if level is None else [level]), now
    assert not d.provisional


def test_monitoring_identification_runs_from_the_clue_date(world):
    case = identified(world)[0]
    world.assist(case)
    world.exit_evidence(case)
    world.exit(case)
    world.on(date(2020, 1, 10))
    world.step("ts2", "consolidation", "enrolment", case)
    world.step("cs", "consolidation", "county_filing", case, decision="approve")
    world.on(date(2020, 3, 2))
    attach_evidence(world.app, world["vs"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": "2020-02-25", "monitoring_type": "unstable"})
    world.step("vs", "monitoring", "clue", case)
    d = deadlines_of(world, case, rule="monitoring_identification")[0]
    assert (d.start_on, d.due_on, d.owner_id) == (date(2020, 2, 25), date(2020, 3, 11), world["tl"].person_id)
    assert d.step_key == "verification"       # owned by who the case waits for: the village's verification


def test_relocation_measure_is_due_by_30_september_and_closed_by_the_keys(world):
    case = identified(world)[0]
    world.on(date(2019, 3, 20))
    world.step("ts1", "assistance", "pairing", case, first_cadre="pc1")
    world.step("fs", "assistance", "plan", case, measures=(("relocation", "易地搬迁到县城安置点"),))
    assert deadlines_of(world, case, rule="relocation_handover") == []      # proposed, not yet in force
    world.step("th", "assistance", "plan_approval", case, decision="approve")
    d = deadlines_of(world, case, rule="relocation_handover")[0]
    assert (d.due_on, d.owner_id, d.subject) == (date(2019, 9, 30), world["pc1"].person_id, "relocation")
    attach_evidence(world.app, world["vs"], case, "housing_safety", {"grade": "D", "relocated_keys_handed": "true"})
    d = deadlines_of(world, case, rule="relocation_handover")[0]
    assert (d.status, d.closed_reason) == ("done", "evidence")


def test_rectification_deadline_reads_the_assignment_and_closes_when_reported(world):
    from engine.domain.cases import StepInput
    from engine.services.procedures import perform_step
    from workflows.problem import ProblemInput, register_problem
    from tests.world import TOWNSHIP
    reach_everyone(world)
    world.on(date(2019, 6, 3))
    problem = register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "supervision", "帮扶手册未更新",
                                                                    date(2019, 6, 1)))
    perform_step(world.app, world["cd"], "assignment", "assign", [problem],
                 StepInput(assignee="ts1", lead_unit="县扶贫办", responsible_unit="梅江镇", due=date(2019, 6, 30)))
    d = deadlines_of(world, problem, rule="rectification")[0]
    assert (d.due_on, d.owner_id, d.status) == (date(2019, 6, 30), world["ts1"].person_id, "open")
    sweep(world.app, now=cst(2019, 7, 1, 9, 0))
    assert [(a[1], a[2]) for a in alerts_of(world)] == [(0, ("ts1",))]
    workflow = world.app.config.workflows["problem"]   # its later steps, by the assignee
    for proc in ("assignment", "rectification"):
        for step in workflow.procedures[proc].steps:
            if step.key == "assign":
                continue
            for etype in step.evidence:
                fields = {name: "2019-06-03" if kind.rstrip("?") == "date" else "已更新"
                          for name, kind in workflow.evidence_types[etype].fields.items() if not kind.endswith("?")}
                attach_evidence(world.app, world["ts1"], problem, etype, fields)
            perform_step(world.app, world["ts1"], proc, step.key, [problem])
    d = deadlines_of(world, problem, rule="rectification")
    assert [(x.status, x.closed_reason) for x in d] == [("done", "stage:reported")]


def test_a_rectification_owned_by_its_assignee_counts_under_the_post_they_hold(world):
    """/supervise groups overdue work by the owner's post: a rectification names its assignee, not a
    role, and was counted under "no post" though the assignee holds one over the problem's region."""
    from engine.reads.dashboard import overdue_summary
    from tests.test_accountability import assigned_problem
    problem = assigned_problem(world, due=date(2020, 6, 20))        # assigned to th, the township head
    [d] = deadlines_of(world, problem, rule="rectification")
    assert (d.owner_id, d.owner_role) == (world["th"].person_id, "township_head")
    world.on(date(2020, 6, 25))
    units = overdue_summary(world.app, world["cd"])["groups"]["unit"]
    assert [(g["key"], g["count"]) for g in units] == [("township_head", 1)]


# --- idempotence ---------------------------------------------------------------------------------

def test_sweeping_twice_writes_each_alert_once(world):
    reach_everyone(world)
    identified(world, 5)
    first = sweep(world.app, now=cst(2019, 5, 1, 9, 0))
    assert first.alerts == 5 * 4 and first.by_level == {0: 5, 1: 5, 2: 5, 3: 5}
    assert first.messages == 1 + 2 + 1 + 1         # 5 alerts to each person: one summary message each
    again = sweep(world.app, now=cst(2019, 5, 1, 9, 0))
    later = sweep(world.app, now=cst(2019, 7, 1, 9, 0))
    assert (again.alerts, again.messages, later.alerts) == (0, 0, 0)
    assert count(world, t.alerts) == 20 and count(world, t.outbox) == 25 + 5   # each alert's own row, and the summaries


def test_concurrent_sweeps_write_each_alert_once(world):
    reach_everyone(world)
    identified(world, 12)
    apps = [make_app(Settings.from_env(str(world.app.settings.home), world.app.settings.db_url), config=world.app.config,
                clock=world.clock) for _ in range(3)]
    barrier = threading.Barrier(len(apps))
    results, errors = [], []

    def run(app):
        try:
            barrier.wait()
            results.append(sweep(app, now=cst(2019, 5, 1, 9, 0), batch=5))
        except Exception as exc:   # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in apps]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for a in apps:
        a.close()
    assert not errors
    assert sum(r.alerts for r in results) == 12 * 4
    pairs = [(a[0], a[1]) for a in alerts_of(world)]
    assert len(pairs) == len(set(pairs)) == 48
    with world.app.engine.connect() as conn:    # each alert's own message once (a person's many: folded)
        assert conn.execute(select(func.count()).select_from(t.outbox).where(t.outbox.c.kind == "alert")
                            ).scalar() == 12 * 5


def test_a_sweep_killed_half_way_loses_and_duplicates_nothing(world, monkeypatch):
    reach_everyone(world)
    identified(world, 6)
    now = cst(2019, 5, 1, 9, 0)
    # Stopped after its first batch (a kill between batches): that batch is committed, whole.
    sweep(world.app, now=now, batch=2, stop_after=1)
    assert count(world, t.alerts) == 2 * 4
    # Dies inside a batch: nothing of that batch stays.
    import notifications.outbox as outbox
    real = outbox.enqueue_alerts

    def dying(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt("killed")

    import dataclasses
    real_plugins = world.app.plugins
    monkeypatch.setattr(world.app, "plugins", dataclasses.replace(real_plugins, enqueue_alerts=dying))
    with pytest.raises(KeyboardInterrupt):
        sweep(world.app, now=now, batch=2)
    assert count(world, t.alerts) == 2 * 4
    monkeypatch.setattr(world.app, "plugins", real_plugins)
    sweep(world.app, now=now, batch=2)
    pairs = [(a[0], a[1]) for a in alerts_of(world)]
    assert len(pairs) == len(set(pairs)) == 6 * 4
    assert count(world, t.outbox) == 6 * 5


def test_a_deadline_whose_work_no_longer_applies_is_cancelled_not_alerted(world):
    case = identified(world)[0]
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    with world.app.transaction() as conn:   # the case moved on by a path that wrote no step
        conn.execute(t.cases.update().where(t.cases.c.id == case).values(stage="removed"))
    result = sweep(world.app, now=cst(2019, 5, 1, 9, 0))
    assert (result.alerts, result.cancelled) == (0, 1)
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert (d.status, d.closed_reason) == ("cancelled", "stage:removed")


def test_a_household_whose_plan_holds_a_renovation_exits_only_once_it_is_accepted(world):
    """An exit had closed the renovation's overdue deadline as done (案件进入「已脱贫」阶段) on a housing
    record saying grade A: the renovation the plan holds must be accepted first, and its deadline then
    closes on that evidence."""
    case = identified(world)[0]
    world.on(date(2019, 3, 20))
    world.step("ts1", "assistance", "pairing", case, first_cadre="pc1", second_cadre="pc2")
    world.step("fs", "assistance", "plan", case, measures=(("housing", "危房改造"), ("industry", "种植脐橙")))
    world.step("th", "assistance", "plan_approval", case, decision="approve")
    world.exit_evidence(case, grade="A")
    with pytest.raises(RuleViolation) as refused:
        world.exit(case, through="proposal")
    told = refused.value.render(world.app.config)
    assert "帮扶计划中的危房改造尚未竣工验收" in told and "在本户的住房安全鉴定中登记「危房改造已验收」为是" in told, told
    assert deadlines_of(world, case, rule="housing_renovation")[0].status == "open"
    attach_evidence(world.app, world["vs"], case, "housing_safety", {"grade": "C", "renovated_accepted": "true"},
                    replace=True, reason="竣工验收")
    d = deadlines_of(world, case, rule="housing_renovation")[0]
    assert (d.status, d.closed_reason) == ("done", "evidence")
    world.exit(case)
    with world.app.engine.connect() as conn:
        assert conn.execute(t.cases.select().where(t.cases.c.id == case)).one().stage == "exited"
