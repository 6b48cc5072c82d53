"""A paper file entered after the fact (a county bringing in its old files): the deadlines its steps close
are judged by the dates the steps bear, and those they start are alerted from the day of entry, not at
once up the whole ladder to the discipline commission for lapses that were the entry's, not the work's."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from engine.adapters import tables as t
from engine.domain.deadline_rules import aware
from engine.reads.case_deadlines import case_lapses
from engine.services.sweep import sweep
from tests.helpers.deadlines import alerts_of, cst, deadlines_of, reach_everyone

ENTERED = date(2019, 10, 21)        # a Monday, seven months after the file's dates


def paper_up_to_first_notice(world, case: int) -> None:
    """The identification's first steps from a paper file dated 1 March, entered on ENTERED."""
    world.on(ENTERED)
    on = date(2019, 3, 1)
    world.step("vs", "identification", "application", case, date=on)
    world.step("vd", "identification", "appraisal", case, date=on, attendance=40, votes_for=35, votes_against=2)
    world.step("tl", "identification", "village_verification", case, date=on, decision="approve", verifiers=("tm",))
    world.step("fs", "identification", "first_notice", case, date=on)


def test_a_paper_file_entered_late_is_alerted_from_its_entry_not_up_the_whole_ladder_at_once(world):
    reach_everyone(world)
    case = world.household()
    paper_up_to_first_notice(world, case)
    waiting = deadlines_of(world, case, rule="notice_expiry", status="open")[0]
    assert waiting.step_key == "township_review" and waiting.due_on < date(2019, 4, 1)   # due by the file's dates
    assert waiting.alerts_from == ENTERED + timedelta(days=3)          # three days to enter the rest of the file
    sweep(world.app, now=cst(2019, 10, 22, 9, 0))           # the next morning: at most its owner's due-soon reminder
    assert {level for d, level, _ in alerts_of(world) if d == waiting.id} <= {-1}
    # left unentered past three days after its entry (time to enter the rest of the file), it is alerted as any other
    sweep(world.app, now=cst(2019, 12, 31, 9, 0))
    assert {level for d, level, _ in alerts_of(world) if d == waiting.id} >= {0}


def test_a_paper_step_on_time_by_its_date_is_no_lapse_and_one_late_by_its_date_is(world):
    case = world.household()
    paper_up_to_first_notice(world, case)
    world.step("ts1", "identification", "township_review", case, date=date(2019, 3, 8), decision="approve")
    review = deadlines_of(world, case, rule="notice_expiry", step_key="township_review")[0]
    assert (review.status, review.met_on) == ("done", date(2019, 3, 8))
    assert case_lapses(world.app, world["insp"], case) == []            # on time by the file, entered in October
    world.step("ts2", "identification", "second_notice", case, date=date(2019, 3, 8))
    world.step("cd", "identification", "county_approval", case, date=date(2019, 4, 30), decision="approve")
    late = case_lapses(world.app, world["insp"], case)
    assert [(d["step"], d["closed_on"]) for d in late] == [("county_approval", date(2019, 4, 30))]
    assert late[0]["late_by"] > 0 and late[0]["closed_on"] < ENTERED     # late by the file's dates, not by October


def test_a_step_entered_on_time_is_judged_by_its_entry_as_before(world):
    case = world.household()
    world.up_to_county_approval(case)                   # live: 1 and 8 March
    world.on(date(2019, 4, 30))
    world.step("cd", "identification", "county_approval", case, date=date(2019, 4, 29), decision="approve")
    d = deadlines_of(world, case, rule="notice_expiry", step_key="county_approval")[0]
    assert d.met_on is None                              # a day's gap is not a file entered afterwards
    assert [x["closed_on"] for x in case_lapses(world.app, world["insp"], case)] == [date(2019, 4, 30)]


def test_audit_verify_finds_a_met_date_changed_in_the_database(world):
    from engine.reads.audit_verify import verify
    case = world.household()
    paper_up_to_first_notice(world, case)
    world.step("ts1", "identification", "township_review", case, date=date(2019, 3, 8), decision="approve")
    assert verify(world.app).intact
    review = deadlines_of(world, case, rule="notice_expiry", step_key="township_review")[0]
    with world.app.engine.begin() as conn:                  # someone who holds the database hides a lapse
        conn.execute(update(t.deadlines).where(t.deadlines.c.id == review.id).values(met_on=date(2019, 3, 1)))
    report = verify(world.app)
    assert "deadline_closing_changed" in {d.code for d in report.damage}


def test_a_rules_change_keeps_a_paper_files_alerts_counted_from_its_entry(world):
    from engine.services.deadlines import reschedule
    reach_everyone(world)
    case = world.household()
    paper_up_to_first_notice(world, case)
    before = deadlines_of(world, case, rule="notice_expiry", status="open")[0]
    with world.app.engine.begin() as conn:               # `config install`, `deadline reschedule`
        reschedule(conn, world.app.config, cst(2019, 10, 21, 12, 0))
    after = deadlines_of(world, case, rule="notice_expiry", status="open")[0]
    assert (after.due_on, after.alerts_from, aware(after.next_alert_at)) == \
        (before.due_on, ENTERED + timedelta(days=3), aware(before.next_alert_at))
    sweep(world.app, now=cst(2019, 10, 22, 9, 0))
    assert {level for d, level, _ in alerts_of(world) if d == after.id} <= {-1}
