"""Inspection flags (engine/inspection.py, `jingzhun inspect flags`): each fires on a case built to
show it, none fires on a clean household life, and only readers of the region may run them."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update

from config import Policy
from engine.adapters import tables as t
from engine.domain.errors import AuthError
from engine.services.case_actions import attach_evidence
from engine.reads.inspection import flags
from tests.world import scan_file

UTC = timezone.utc


def found(world, who: str = "insp", region: str | None = None, kinds=None):
    return list(flags(world.app, world[who], region, kinds))


def of(world, kind: str, who: str = "insp"):
    return [f for f in found(world, who) if f.kind == kind]


def with_inspection(world, **changes) -> None:
    """The world's rules with other inspection thresholds (they are not part of the rules version)."""
    config = world.app.config
    data = config.policy.data
    inspection = type(data.inspection).model_validate({**data.inspection.model_dump(), **changes})
    world.app.config = dataclasses.replace(config, policy=Policy(data.model_copy(update={"inspection": inspection})))


def step_events(world, case: int, step_key: str, procedure: str = "exit") -> list[int]:
    with world.app.engine.connect() as conn:
        return list(conn.execute(select(t.audit_events.c.seq).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "step", t.audit_events.c.step_key == step_key,
            t.audit_events.c.detail["procedure"].as_string() == procedure).order_by(t.audit_events.c.seq)).scalars())


def at_china(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone(timedelta(hours=8))).astimezone(UTC)


def ready_to_exit(world, income_2019: float = 10000.0, tmp: Path | None = None) -> int:
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=income_2019, tmp=tmp)
    return case


# --- a clean life raises nothing --------------------------------------------------------------

def test_a_clean_household_life_raises_no_flag(world, tmp_path):
    case = ready_to_exit(world, tmp=tmp_path)
    world.exit(case)
    world.step("ts2", "consolidation", "enrolment", case)
    world.step("cs", "consolidation", "county_filing", case, decision="approve")
    assert found(world) == []
    assert found(world) == []
    for cadre in ("cd", "vs"):        # leads are about cadres: read by inspectors only
        with pytest.raises(AuthError) as refused:
            found(world, cadre)
        assert refused.value.code == "auth.not_inspector"


# --- 1. signoff_off_hours ---------------------------------------------------------------------

def test_a_signoff_recorded_at_night_or_on_a_weekend_is_flagged(world, tmp_path):
    case = ready_to_exit(world, tmp=tmp_path)
    world.exit(case, through="village_notice")
    world.clock.at = at_china(date(2019, 11, 28), 23, 30)          # a Thursday, 23:30 in China
    world.step("ts1", "exit", "township_review", case, decision="approve")
    world.on(date(2019, 11, 30))                                   # a Saturday, 10:00
    world.step("ch", "exit", "county_approval", case, decision="approve")
    world.on(date(2019, 12, 2))                                    # Monday, 10:00: in hours
    world.step("cs", "exit", "announcement", case)
    night, weekend = of(world, "signoff_off_hours")
    assert (night.case_id, night.person[0], night.detail["step"]) == (case, "ts1", "township_review")
    assert night.detail["local_time"] == "2019-11-28 23:30" and night.detail["weekday"] == 4
    assert night.events == tuple(step_events(world, case, "township_review"))
    assert (weekend.person[0], weekend.detail["weekday"]) == ("ch", 6)
    assert "23:30" in night.text(world.app.config, "en") and "周四" in night.text(world.app.config)
    assert {f.kind for f in found(world)} == {"signoff_off_hours"}


def test_working_hours_and_signing_step_types_are_configurable(world, tmp_path):
    case = ready_to_exit(world, tmp=tmp_path)
    world.exit(case, through="village_notice")
    world.clock.at = at_china(date(2019, 11, 28), 19, 0)
    world.step("ts1", "exit", "township_review", case, decision="approve")
    assert len(of(world, "signoff_off_hours")) == 1
    with_inspection(world, working_hours={"start": "08:00", "end": "20:00", "days": [1, 2, 3, 4, 5]})
    assert of(world, "signoff_off_hours") == []
    with_inspection(world, signing_step_types=("notice",), timezone="+00:00")   # 02:00 UTC: before 08:00
    assert {f.detail["step"] for f in of(world, "signoff_off_hours")} == {
        "first_notice", "second_notice", "village_notice"}


def test_a_time_zone_with_summer_time_is_read_from_the_time_zone_database(world, tmp_path):
    case = ready_to_exit(world, tmp=tmp_path)
    world.exit(case, through="village_notice")
    world.clock.at = datetime(2019, 11, 28, 12, 0, tzinfo=UTC)      # 13:00 in Berlin (winter time)
    world.step("ts1", "exit", "township_review", case, decision="approve")
    with_inspection(world, timezone="Europe/Berlin")
    flagged = {(f.detail["procedure"], f.detail["step"]): f.detail["local_time"] for f in of(world, "signoff_off_hours")}
    assert ("exit", "township_review") not in flagged              # every other step: 03:00 in Berlin
    assert flagged[("identification", "township_review")] == "2019-03-08 03:00"
    assert flagged[("exit", "verification")] == "2019-11-20 03:00"


# --- 2. signoff_burst -------------------------------------------------------------------------

def identified_up_to_county_approval(world, count: int) -> list[int]:
    cases = [world.household() for _ in range(count)]
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", cases)
    world.step("vd", "identification", "appraisal", cases, attendance=40, votes_for=35, votes_against=2)
    world.step("tl", "identification", "village_verification", cases, decision="approve", verifiers=("tm",))
    world.step("fs", "identification", "first_notice", cases)
    world.on(date(2019, 3, 8))
    world.step("ts1", "identification", "township_review", cases, decision="approve")
    world.step("ts2", "identification", "second_notice", cases)
    return cases


def test_many_signoffs_in_a_few_minutes_make_one_flag_per_burst(world):
    with_inspection(world, burst={"count": 3, "minutes": 10})
    cases = identified_up_to_county_approval(world, 4)
    start = at_china(date(2019, 3, 15), 10, 0)
    for i, case in enumerate(cases):                 # 10:00, 10:02, 10:04, 10:06: one burst of 4
        world.clock.at = start + timedelta(minutes=2 * i)
        world.step("cd", "identification", "county_approval", case, decision="approve")
    for i, case in enumerate(cases):                 # 11:00, 11:06, 11:12, 11:18: never 3 within 10 minutes
        world.clock.at = start + timedelta(hours=1, minutes=6 * i)
        world.step("cs", "identification", "announcement", case)
    bursts = of(world, "signoff_burst")
    by_person = {f.person[0]: f for f in bursts}
    assert "cs" not in by_person
    cd = by_person["cd"]
    assert [f.person[0] for f in bursts].count("cd") == 1
    assert cd.detail["count"] == 4 and cd.detail["cases"] == sorted(cases)
    assert (cd.detail["from"], cd.detail["to"]) == ("2019-03-15 10:00", "2019-03-15 10:06")
    assert cd.events == tuple(sorted(s for c in cases for s in step_events(world, c, "county_approval",
                                                                            "identification")))
    # A list signed in one go is one act: the township review of the 4 in one step is no burst.
    assert "ts1" not in by_person


def test_a_burst_below_the_threshold_is_not_flagged(world):
    cases = identified_up_to_county_approval(world, 3)      # default threshold: 30 within 10 minutes
    world.on(date(2019, 3, 15))
    world.step("cd", "identification", "county_approval", cases, decision="approve")
    assert of(world, "signoff_burst") == []


# --- 3. short_notice, notice_backdated --------------------------------------------------------

def _first_notice(world, case: int):
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.notices).join(t.notice_cases, t.notice_cases.c.notice_id == t.notices.c.id)
                            .where(t.notice_cases.c.case_id == case, t.notices.c.step_key == "first_notice")).one()


def test_a_notice_shorter_than_its_rule_is_flagged(world):
    case = world.household()
    world.identify(case)
    notice = _first_notice(world, case)
    with world.app.engine.begin() as conn:           # the engine refuses this; the row was edited
        conn.execute(update(t.notices).where(t.notices.c.id == notice.id).values(
            end_date=notice.start_date + timedelta(days=5)))
    (flag,) = of(world, "short_notice")
    assert (flag.variant, flag.detail["notice"], flag.detail["days"], flag.detail["required"]) == (
        "rule", notice.id, 5, 7)
    assert flag.case_id == case and flag.person[0] == "fs"
    assert flag.events == tuple(step_events(world, case, "first_notice", "identification"))


def test_a_step_relying_on_a_notice_before_it_ended_is_flagged(world):
    case = world.household()
    world.identify(case)
    notice = _first_notice(world, case)
    with world.app.engine.begin() as conn:
        conn.execute(update(t.notices).where(t.notices.c.id == notice.id).values(
            start_date=date(2019, 3, 3), end_date=date(2019, 3, 10)))
    (flag,) = of(world, "short_notice")
    assert flag.variant == "relied_early"
    assert (flag.detail["next_step"], flag.detail["date"], flag.detail["end"]) == (
        "township_review", "2019-03-08", "2019-03-10")
    assert flag.person[0] == "ts1"
    assert flag.events == tuple(sorted(step_events(world, case, "first_notice", "identification")
                                       + step_events(world, case, "township_review", "identification")))


def test_a_notice_entered_days_after_its_start_is_flagged_as_backdated(world):
    case = world.household()
    world.on(date(2019, 3, 1))                       # the procedure runs live ...
    for who, step, inputs in (("vs", "application", {}),
                              ("vd", "appraisal", dict(attendance=40, votes_for=35, votes_against=2)),
                              ("tl", "village_verification", dict(decision="approve", verifiers=("tm",)))):
        world.step(who, "identification", step, case, **inputs)
    world.on(date(2019, 3, 12))                      # ... and its notice is entered on 12 March, dated 1 March
    world.step("fs", "identification", "first_notice", case, date=date(2019, 3, 1))
    world.step("ts1", "identification", "township_review", case, decision="approve", date=date(2019, 3, 8))
    (flag,) = of(world, "notice_backdated")
    assert (flag.detail["start"], flag.detail["posted"], flag.detail["days"], flag.detail["limit"]) == (
        "2019-03-01", "2019-03-12 10:00", 11, 3)
    assert flag.person[0] == "fs" and flag.case_id == case
    assert of(world, "short_notice") == []
    # The township review, dated 8 March and recorded on the 12th of a live procedure, is a backdated decision.
    assert [(f.detail["step"], f.detail["days"]) for f in of(world, "decision_backdated")] == [("township_review", 4)]


def _paper_identification(world, case: int, entered: date) -> None:
    """A county entering its paper files: every step recorded on `entered`, dated as the file says,
    with evidence dated as the paper was."""
    world.on(entered)
    world.clock.at = at_china(entered, 21, 30)       # in the evening, after office hours
    dated = ((date(2019, 3, 1), "vs", "application", {}),
             (date(2019, 3, 2), "vd", "appraisal", dict(attendance=40, votes_for=35, votes_against=2)),
             (date(2019, 3, 3), "tl", "village_verification", dict(decision="approve", verifiers=("tm",))),
             (date(2019, 3, 4), "fs", "first_notice", {}),
             (date(2019, 3, 12), "ts1", "township_review", dict(decision="approve")),
             (date(2019, 3, 13), "ts2", "second_notice", {}),
             (date(2019, 3, 21), "cd", "county_approval", dict(decision="approve")))
    for day, who, step, inputs in dated:
        world.step(who, "identification", step, case, date=day, **inputs)


def test_a_paper_procedure_entered_late_is_not_a_backdating_flag(world):
    case = world.household()
    _paper_identification(world, case, date(2019, 6, 18))
    assert found(world, kinds=["decision_backdated", "notice_backdated", "signoff_off_hours"]) == []


def up_to_county_approval(world) -> int:
    """A household's identification, live, up to the county approval (second notice posted 8 March)."""
    case = world.household()
    world.up_to_county_approval(case)
    return case


def test_a_backdated_decision_in_a_live_procedure_is_flagged(world):
    case = up_to_county_approval(world)
    world.clock.at = at_china(date(2019, 4, 2), 22, 0)   # approved on 2 April at night, dated 16 March
    world.step("cd", "identification", "county_approval", case, decision="approve", date=date(2019, 3, 16))
    (flag,) = of(world, "decision_backdated")
    assert (flag.case_id, flag.person[0], flag.detail["step"]) == (case, "cd", "county_approval")
    assert (flag.detail["date"], flag.detail["days"], flag.detail["recorded"]) == ("2019-03-16", 17, "2019-04-02 22:00")
    assert flag.events == tuple(step_events(world, case, "county_approval", "identification"))
    assert of(world, "signoff_off_hours") == []          # its hour says nothing: it is flagged for its date
    assert "17" in flag.text(world.app.config, "en")


def test_a_list_step_of_many_cases_gives_at_most_one_flag(world):
    with_inspection(world, burst={"count": 3, "minutes": 10})
    cases = identified_up_to_county_approval(world, 12)
    world.on(date(2019, 3, 15))
    world.step("cd", "identification", "county_approval", cases, decision="approve")   # one list, one act
    assert of(world, "signoff_burst") == []
    others = identified_up_to_county_approval(world, 3)
    start = at_china(date(2019, 3, 18), 10, 0)
    for i, case in enumerate(others):                # three separate acts in four minutes: a burst
        world.clock.at = start + timedelta(minutes=2 * i)
        world.step("cd", "identification", "county_approval", case, decision="approve")
    (burst,) = of(world, "signoff_burst")
    assert burst.detail["count"] == 3 and burst.detail["cases"] == sorted(others)


def test_a_relative_who_signed_is_flagged_and_flags_rank_by_weight(world, tmp_path):
    from engine.services.case_actions import record_relative
    case = ready_to_exit(world, tmp=tmp_path)
    world.exit(case, through="village_notice")
    world.clock.at = at_china(date(2019, 11, 28), 23, 30)          # also out of hours: a lesser flag
    world.step("ts1", "exit", "township_review", case, decision="approve")
    record_relative(world.app, world["ts2"], case, "ts1", "外甥女", "督查中查明")   # the relation comes out afterwards
    (flag,) = of(world, "relative_signed")         # one flag for the person and the household
    assert (flag.case_id, flag.person[0], flag.detail["relation"]) == (case, "ts1", "niece")     # its kinship's code
    assert [s[:2] for s in flag.detail["signed"]] == [["identification", "township_review"],
                                                      ["exit", "township_review"]]
    with world.app.engine.connect() as conn:
        noted = conn.execute(select(t.audit_events.c.seq).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "relative_recorded")).scalar_one()
    assert flag.events == tuple(sorted([*step_events(world, case, "township_review"),
                                        *step_events(world, case, "township_review", "identification"), noted]))
    assert "侄女或外甥女" in flag.text(world.app.config) and "exit / township review" not in flag.text(world.app.config)
    assert "(niece)" in flag.text(world.app.config, "en")
    from engine.reads.inspection import ranked
    order = [f.kind for f in ranked(world.app, world["insp"])]
    assert order == ["relative_signed", "signoff_off_hours"]
    assert [f.weight for f in ranked(world.app, world["insp"])] == [10, 1]
    with_inspection(world, weights={"signoff_off_hours": 20})
    assert [f.kind for f in ranked(world.app, world["insp"])] == ["signoff_off_hours", "relative_signed"]


# --- 4. evidence_after_signoff ----------------------------------------------------------------

def test_evidence_dated_after_the_signoff_relying_on_it_is_flagged(world, tmp_path):
    """A confirmation put in place of the one the acknowledgement had relied on, then a sign-off dated
    before the new one was signed. The engine refuses that replacement now (it voids the
    acknowledgement); records written before it did not: such a record is made here by clearing
    the acknowledgement's reliance first."""
    case = ready_to_exit(world, tmp=tmp_path)
    world.exit(case, through="village_notice")
    world.on(date(2019, 11, 28))
    with world.app.engine.begin() as conn:
        conn.execute(update(t.steps).where(t.steps.c.case_id == case, t.steps.c.step_key == "acknowledgement")
                     .values(evidence_hashes=[]))
    scan = scan_file(tmp_path / "late-confirmation.pdf", "signed later")
    new = attach_evidence(world.app, world["pc1"], case, "household_confirmation", {"signed_on": "2019-11-28"},
                          scan, replace=True, reason="重签")
    world.step("ts1", "exit", "township_review", case, decision="approve", date=date(2019, 11, 27))
    (flag,) = of(world, "evidence_after_signoff")
    assert flag.variant == "dated"
    assert (flag.detail["step"], flag.detail["evidence"], flag.detail["field"], flag.detail["value"]) == (
        "township_review", new, "signed_on", "2019-11-28")
    with world.app.engine.connect() as conn:
        replaced = conn.execute(select(t.audit_events.c.seq).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "evidence_replaced")).scalar_one()
    assert flag.events == tuple(sorted([replaced, *step_events(world, case, "township_review")]))


def test_evidence_attached_after_the_signoff_is_flagged(world, tmp_path):
    case = ready_to_exit(world, tmp=tmp_path)
    world.exit(case)
    with world.app.engine.begin() as conn:           # the row claims a later upload than the sign-offs
        income = conn.execute(select(t.evidence.c.id).where(t.evidence.c.case_id == case,
                                                            t.evidence.c.type == "income_assessment")).scalar_one()
        conn.execute(update(t.evidence).where(t.evidence.c.id == income).values(
            attached_at=datetime(2019, 12, 1, 2, 0, tzinfo=UTC)))
    flagged = of(world, "evidence_after_signoff")
    assert {f.detail["step"] for f in flagged} == {"township_review", "county_approval", "announcement"}
    assert all(f.variant == "attached" and f.detail["evidence"] == income for f in flagged)
    assert flagged[0].detail["attached"] == "2019-12-01 10:00"


# --- 5. override_chain ------------------------------------------------------------------------

def test_a_signer_moving_to_another_step_after_a_void_is_flagged(world):
    case = up_to_county_approval(world)
    world.on(date(2019, 3, 9))
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": 4000,
                                                                   "assets_note": "补充资产说明"},
                    replace=True, reason="补充", void_signoffs=True)     # voids from the application on
    world.up_to_first_notice(case)          # the village's steps again, each by who did it before
    world.on(date(2019, 3, 16))
    world.step("ts2", "identification", "township_review", case, decision="approve")    # roles swapped
    world.step("ts1", "identification", "second_notice", case)
    flagged = of(world, "override_chain")
    assert {(f.variant, f.person[0]) for f in flagged} == {("repeated", "ts1"), ("repeated", "ts2")}
    ts1 = next(f for f in flagged if f.person[0] == "ts1")
    assert ts1.detail["steps"] == [["township_review", True], ["second_notice", False]]
    assert ts1.events == tuple(sorted(step_events(world, case, "township_review", "identification")[:1]
                                      + step_events(world, case, "second_notice", "identification")[1:]))
    assert "已作废" in ts1.text(world.app.config)


def test_the_person_who_voided_a_signoff_then_signing_the_procedure_is_flagged(world, tmp_path):
    """The township head's correction voids the exit from its proposal on; the village does its steps
    again (each their own: not flagged), then the head signs the review that was ts1's."""
    case = ready_to_exit(world, tmp=tmp_path)
    world.exit(case, through="township_review")
    world.clock.advance(hours=1)
    attach_evidence(world.app, world["th"], case, "income_assessment", {"year": 2019, "net_income": 10001},
                    replace=True, reason="更正", void_signoffs=True)
    world.clock.advance(hours=1)
    world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    world.step("tl", "exit", "verification", case, decision="approve", verifiers=("ts2", "ts3", "ts4"))
    attach_evidence(world.app, world["pc1"], case, "household_confirmation", {"signed_on": "2019-11-28"},
                    scan_file(tmp_path / "confirmation-again.pdf"), replace=True, reason="按新的提议重签")
    world.step("fs", "exit", "acknowledgement", case)
    world.step("vs", "exit", "village_notice", case)
    world.on(date(2019, 12, 6))
    world.step("th", "exit", "township_review", case, decision="approve")
    (flag,) = of(world, "override_chain")
    assert (flag.variant, flag.person[0], flag.detail["step"], flag.detail["cause"]) == (
        "voider", "th", "township_review", "evidence_replaced")
    with world.app.engine.connect() as conn:
        cause = conn.execute(select(t.audit_events.c.seq).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "evidence_replaced",
            t.audit_events.c.person_id == world["th"].person_id)).scalar_one()
    assert flag.events == (cause, step_events(world, case, "township_review")[-1])


# --- 6. exit_near_line ------------------------------------------------------------------------

def test_an_exit_just_above_the_line_is_flagged_once_completed(world, tmp_path):
    case = ready_to_exit(world, income_2019=7800, tmp=tmp_path)    # 3,900 a head; Jiangxi 2019 line 3,747
    world.exit(case, through="county_approval")
    assert of(world, "exit_near_line") == []                       # not completed yet
    world.step("cs", "exit", "announcement", case)
    (flag,) = of(world, "exit_near_line")
    assert (flag.case_id, flag.detail["per_capita"], flag.detail["line"], flag.detail["above_pct"]) == (
        case, 3900, 3747, 4.1)
    assert flag.person[0] == "ch"
    assert flag.events == tuple(sorted(step_events(world, case, "proposal")
                                       + step_events(world, case, "county_approval")))
    with_inspection(world, exit_near_line_margin=0.04)
    assert of(world, "exit_near_line") == []


# --- 7. figure_changed_before_decision --------------------------------------------------------

def test_income_raised_over_the_line_just_before_the_exit_proposal_is_flagged(world, tmp_path):
    case = ready_to_exit(world, income_2019=6000, tmp=tmp_path)    # 3,000 a head: under the line
    new = attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 10000},
                          replace=True, reason="重新核算")
    world.exit(case)
    (flag,) = of(world, "figure_changed_before_decision")
    assert flag.variant == "up"
    assert (flag.detail["step"], flag.detail["old_per_capita"], flag.detail["per_capita"], flag.detail["line"]) == (
        "proposal", 3000, 5000, 3747)
    assert flag.detail["new"] == new and flag.person[0] == "vs"
    with world.app.engine.connect() as conn:
        replaced = conn.execute(select(t.audit_events.c.seq).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "evidence_replaced")).scalar_one()
    assert replaced in flag.events and set(step_events(world, case, "proposal")) <= set(flag.events)
    with_inspection(world, figure_changed_days=1)                  # county approval: 8 days later
    assert [f.detail["step"] for f in of(world, "figure_changed_before_decision")] == ["proposal"]


def test_income_raised_from_exactly_the_line_just_before_the_exit_is_flagged(world, tmp_path):
    """The exit standard needs an income strictly above the line: a figure equal to it did not pass,
    and raised over it a day before the decision is a lead as one under it is (three members, so the
    per capita recorded is rounded: 12,500 / 3 = 4,166.67)."""
    case = world.household(members=3)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=3 * 3747, tmp=tmp_path)   # 3,747 a head: the 2019 line exactly
    new = attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 12500},
                          replace=True, reason="重新核算")
    world.exit(case)
    (flag,) = of(world, "figure_changed_before_decision")
    assert (flag.variant, flag.detail["step"], flag.detail["old_per_capita"], flag.detail["per_capita"],
            flag.detail["line"], flag.detail["new"]) == ("up", "proposal", 3747, 4166.67, 3747, new)
    assert "人均 3747 元（未高于标准线 3747 元）改为 4166.67 元" in flag.text(world.app.config, "zh")
    assert "per capita 3747 (not above the line 3747) became 4166.67" in flag.text(world.app.config, "en")


@pytest.mark.parametrize("members, before, after, old_per_capita, per_capita", [
    (2, 8000, 6000, 4000, 3000),                  # 4,000 a head: over the 2018 line 3,535
    (3, 3 * 3535, 10000, 3535, 3333.33),          # 3,535 a head: the line exactly, which did not pass either
])
def test_income_lowered_under_the_line_before_identification_is_flagged(world, members, before, after,
                                                                       old_per_capita, per_capita):
    """Identification needs an income strictly under the line: a figure on it did not pass, and lowered
    under it just before the decision is flagged as one over it, however the recorded per capita was
    rounded (10,000 / 3)."""
    case = world.household(members=members, income_2018=before)
    world.on(date(2019, 2, 25))
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": after},
                    replace=True, reason="重新核算")
    world.identify(case)
    (flag,) = of(world, "figure_changed_before_decision")
    assert (flag.variant, flag.detail["step"], flag.detail["old_per_capita"], flag.detail["per_capita"],
            flag.detail["line"]) == ("down", "county_approval", old_per_capita, per_capita, 3535)


def test_an_old_correction_or_one_that_crosses_nothing_is_not_flagged(world, tmp_path):
    case = ready_to_exit(world, income_2019=9000, tmp=tmp_path)    # 4,500 a head: already over
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 10000},
                    replace=True, reason="更正")
    world.exit(case)
    assert of(world, "figure_changed_before_decision") == []


def test_a_later_years_income_check_in_place_of_last_years_is_not_a_changed_figure(world, tmp_path):
    """A village's yearly check puts 2020's item in place of 2019's: a new measure, not last year's
    figure changed (nor last year's income held against this year's line)."""
    case = world.household(income_2018=8000)                       # 4,000 a head in 2018
    world.on(date(2019, 2, 25))
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2019, "net_income": 6000},
                    replace=True, reason="2019 年度的新记录")
    world.identify(case)                                           # 3,000 a head in 2019: under its line
    assert of(world, "figure_changed_before_decision") == []


# --- 7b. fact_changed_before_exit -------------------------------------------------------------

def assisted_with_a_child_out_of_school(world) -> tuple[int, str, str]:
    """A household identified and assisted whose school-age child has dropped out: the case, the
    child's name and ID number."""
    case = world.household(school_age_child="dropped_out")
    world.identify(case)
    world.assist(case)
    with world.app.engine.connect() as conn:
        name, number = conn.execute(select(t.household_members.c.name, t.household_members.c.id_number).where(
            t.household_members.c.case_id == case, t.household_members.c.relation == "child")).one()
    return case, name, number


def another_ready_to_exit(world, tmp_path) -> int:
    """A second household, paired with other cadres, with the evidence of an exit that passes."""
    other = world.household()
    world.identify(other)
    world.assist(other, first="pc2", second="pc3")
    world.exit_evidence(other, tmp=tmp_path)
    return other


def child_back_in_school(world, tmp_path, changed_on: date | None = None) -> tuple[int, str, int]:
    """A household refused its exit for a child out of school, the child then recorded in school (on
    `changed_on`, long before the exit round, if given)."""
    from workflows.household import update_member
    from engine.domain.errors import RuleViolation
    case, name, number = assisted_with_a_child_out_of_school(world)
    if changed_on:
        world.on(changed_on)
        update_member(world.app, world["vs"], case, number, {"school_enrolment": "enrolled"}, "已返校")
    world.exit_evidence(case, income_2019=12000, tmp=tmp_path)          # 4,000 a head: over the line
    if not changed_on:
        with pytest.raises(RuleViolation):
            world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
        update_member(world.app, world["vs"], case, number, {"school_enrolment": "enrolled"}, "已返校")
    with world.app.engine.connect() as conn:
        seq = conn.execute(select(t.audit_events.c.seq).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "member_updated")).scalar_one()
    return case, name, seq


def test_a_child_recorded_back_in_school_just_before_a_refused_exit_is_proposed_again_is_flagged(world, tmp_path):
    case, child, changed = child_back_in_school(world, tmp_path)
    world.exit(case)
    (flag,) = of(world, "fact_changed_before_exit")
    assert (flag.variant, flag.case_id, flag.person[0], flag.detail["step"]) == ("member", case, "vs", "proposal")
    assert flag.detail["failures"] == [["education", {"name": child, "age": 9}]]
    assert changed in flag.events and set(step_events(world, case, "proposal")) <= set(flag.events)
    assert set(step_events(world, case, "county_approval")) <= set(flag.events)     # one lead, both decisions
    assert flag.text(world.app.config, "zh") == (
        f"2019-11-20 10:00（「评议并提出退出」前 0 天）修改成员：{child}：在校情况 辍学 → 在校生；"
        f"按修改前的记录不符合脱贫标准：义务教育：{child}（9 岁）未在校")
    assert flag.text(world.app.config, "en") == (
        f"member updated at 2019-11-20 10:00, 0 days before appraisal and exit proposal: {child}: school "
        f"enrolment dropped out → enrolled; as recorded before, the exit standard was not met: "
        f"compulsory education: {child}, aged 9, is not enrolled")
    assert [f.kind for f in found(world, kinds=["退出决定前改动脱贫条件"])] == ["fact_changed_before_exit"]


def test_a_childs_schooling_a_list_did_not_give_is_asked_for_by_the_exit_and_its_first_recording_is_no_lead(
        world, tmp_path):
    """A list without 在校生状况 (or a blank cell) leaves a school-age child's schooling not recorded: the
    exit standard asks for it by name, not refusing the child as out of school; recorded then as in
    school, the exit passes and the inspection does not take that first recording as a change back."""
    from engine.domain.errors import RuleViolation, render_text
    from workflows.household import update_member
    case = world.household(school_age_child="not_recorded")
    world.identify(case)
    world.assist(case)
    with world.app.engine.connect() as conn:
        child, number, school = conn.execute(select(
            t.household_members.c.name, t.household_members.c.id_number, t.household_members.c.school_enrolment)
            .where(t.household_members.c.case_id == case, t.household_members.c.relation == "child")).one()
    assert school is None
    world.exit_evidence(case, income_2019=12000, tmp=tmp_path)
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    failures = refused.value.params["failures"]
    assert ("education_unknown", {"name": child, "age": 9}) in failures and \
        not any(code == "education" for code, _ in failures), failures
    said = render_text(world.app.config, "fail.education_unknown", {"name": child, "age": 9}, "zh")
    assert said.startswith(f"义务教育：{child}（9 岁）的在校情况尚未登记") and "未在校" not in said
    update_member(world.app, world["vs"], case, number, {"school_enrolment": "enrolled"}, "核实在校")
    world.exit(case)
    assert of(world, "fact_changed_before_exit") == []
    from engine.domain.members import member_changes
    from engine.reads.words import change_words
    with world.app.engine.connect() as conn:
        detail = conn.execute(select(t.audit_events.c.detail).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "member_updated")).scalar_one()
    assert change_words(world.app.config, member_changes("member_updated", detail)) == [f"{child}：在校情况 未登记 → 在校生"]


def test_a_child_out_of_school_recorded_as_leaving_the_household_just_before_the_exit_is_flagged(world, tmp_path):
    """拆户 to pass the standard: the household refused its exit for a child out of school, the child
    then recorded as having left the household (their row keeps them), the exit proposed again and
    approved. With the child back in, as their row keeps them, the standard fails: a lead. A member
    who left but whom the standard does not fail (an adult, insured) is no lead."""
    from engine.domain.errors import RuleViolation
    from workflows.household import member_leaves
    case, child, number = assisted_with_a_child_out_of_school(world)
    world.exit_evidence(case, income_2019=12000, tmp=tmp_path)
    with pytest.raises(RuleViolation):
        world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    member_leaves(world.app, world["vs"], case, number, "随外祖父母生活")
    world.exit(case)
    (flag,) = of(world, "fact_changed_before_exit")
    assert (flag.variant, flag.case_id, flag.person[0], flag.detail["member"]) == ("member_left", case, "vs", child)
    assert flag.detail["failures"] == [["education", {"name": child, "age": 9}]]
    assert set(step_events(world, case, "proposal")) <= set(flag.events)
    assert flag.text(world.app.config, "zh") == (
        f"2019-11-20 10:00（「评议并提出退出」前 0 天）成员 {child} 登记为离开本户（随外祖父母生活）；"
        f"连同该成员不符合脱贫标准：义务教育：{child}（9 岁）未在校")
    assert flag.text(world.app.config, "en").startswith(f"member {child} recorded as leaving the household at ")

    other = another_ready_to_exit(world, tmp_path)
    with world.app.engine.connect() as conn:
        adult = conn.execute(select(t.household_members.c.id_number).where(
            t.household_members.c.case_id == other, t.household_members.c.relation != "head")
            .order_by(t.household_members.c.id)).scalars().first()
    member_leaves(world.app, world["vs"], other, adult, "外出务工落户")
    world.exit(other)
    assert [f.case_id for f in of(world, "fact_changed_before_exit")] == [case]


def test_a_member_recorded_as_leaving_to_lift_the_income_per_head_over_the_line_is_flagged(world, tmp_path):
    """拆户 for the income: 8,000 yuan for three (2,667 a head) is refused against Jiangxi's 2019 line of
    3,747; the parent recorded as having left, 4,000 a head passes. With the parent back it fails."""
    from engine.domain.errors import RuleViolation
    from workflows.household import member_leaves
    case = world.household(members=3)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=8000, tmp=tmp_path)
    with pytest.raises(RuleViolation):
        world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    with world.app.engine.connect() as conn:
        parent, number = conn.execute(select(t.household_members.c.name, t.household_members.c.id_number).where(
            t.household_members.c.case_id == case, t.household_members.c.relation == "parent")).one()
    member_leaves(world.app, world["vs"], case, number, "投靠女儿")
    world.exit(case)
    (flag,) = of(world, "fact_changed_before_exit")
    assert (flag.variant, flag.detail["member"]) == ("member_left", parent)
    assert [code for code, _ in flag.detail["failures"]] == ["income_not_above"]
    assert "人均纯收入 2,667 元（3 人，2019 年）未稳定超过标准线 3,747 元" in flag.text(world.app.config, "zh")
    assert "per-capita net income 2,667 yuan (3 in the household, 2019) is not above the line 3,747" in \
        flag.text(world.app.config, "en")


def test_a_member_added_to_bring_the_income_per_head_under_the_line_before_identification_is_flagged(world):
    """挂户: 8,000 yuan for two (4,000 a head) is not under Jiangxi's 2018 line of 3,535, and the appraisal
    refuses it; a member recorded as joining, 2,667 a head is under it, and the household is identified.
    Without that member it was not under the line: a lead on the decision that relied on the income item
    (the county's approval; the appraisal names its minutes)."""
    from engine.domain.errors import RuleViolation
    from tests.world import id_number
    from workflows.household import MemberInput, add_member
    case = world.household(members=2, income_2018=8000)
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    with pytest.raises(RuleViolation):
        world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
    add_member(world.app, world["vs"], case, MemberInput("钟秀英", id_number("36073019500305001"), "parent"), "随子生活")
    world.identify(case, applied=True)          # the county approves on 2019-03-15
    (flag,) = of(world, "figure_changed_before_decision")
    assert (flag.variant, flag.case_id, flag.person[0], flag.detail["member"]) == ("member_added", case, "vs", "钟秀英")
    assert (flag.detail["old_per_capita"], flag.detail["per_capita"], flag.detail["line"]) == (4000, 2666.67, 3535)
    assert set(step_events(world, case, "county_approval", "identification")) <= set(flag.events)
    assert flag.text(world.app.config, "zh") == (
        "2019-03-01 10:00（「县级审批」前 14 天）成员 钟秀英 登记加入本户（随子生活）：不计该成员人均 4000 元"
        "（不低于标准线 3535 元），计入后 2666.67 元（低于标准线）")
    assert flag.text(world.app.config, "en").startswith("member 钟秀英 recorded as joining the household at ")


def test_housing_replaced_from_a_dangerous_grade_just_before_the_exit_is_flagged(world, tmp_path):
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, grade="C", tmp=tmp_path)          # a grade C house not renovated: refused
    new = attach_evidence(world.app, world["vs"], case, "housing_safety", {"grade": "B级"}, replace=True,
                          reason="重新鉴定")
    world.exit(case)
    (flag,) = of(world, "fact_changed_before_exit")
    assert (flag.variant, flag.detail["type"], flag.detail["failures"]) == (
        "evidence", "housing_safety", [["housing_unsafe", {"grade": "C"}]])
    assert flag.detail["new_fields"] == {"grade": "B"} and flag.detail["old"] < new
    assert "住房安全鉴定 被替换：住房安全鉴定：住房等级 C级（局部危房） → B级（基本安全）；按替换前的材料不符合脱贫标准：" \
        "住房安全：C 级危房未改造验收或搬迁入住" in flag.text(world.app.config, "zh")


def test_a_change_long_before_the_exit_or_one_that_crosses_nothing_is_not_flagged(world, tmp_path):
    from workflows.household import update_member
    case, _, _ = child_back_in_school(world, tmp_path, changed_on=date(2019, 9, 10))    # 71 days before
    world.exit(case)
    other = another_ready_to_exit(world, tmp_path)
    with world.app.engine.connect() as conn:
        head = conn.execute(select(t.household_members.c.id_number).where(
            t.household_members.c.case_id == other, t.household_members.c.relation == "head")).scalar()
    update_member(world.app, world["vs"], other, head, {"phone": "13900001111"}, "换号")        # no exit condition
    attach_evidence(world.app, world["vs"], other, "drinking_water", {"safe": True}, replace=True, reason="复核")
    world.exit(other)
    assert of(world, "fact_changed_before_exit") == []
    with_inspection(world, figure_changed_days=80)
    assert [f.case_id for f in of(world, "fact_changed_before_exit")] == [case]


# --- who may run it, and where ----------------------------------------------------------------
