"""Refusals (DOMAIN.md §4), continued: objections, frozen evidence, dates, the standards, batches,
order, capacity and versions.

Each test brings a case to the point where the rule applies, then calls `assert_refused`, which checks
the exception type and its code, that the Chinese and English messages are real translations naming
the thing refused, and that the database is exactly as it was before the attempt.
"""
from __future__ import annotations

import pytest

from datetime import date, timedelta

from sqlalchemy import select, update

from engine.adapters import tables as t
from engine.services.case_actions import attach_evidence, file_objection, resolve_objection
from engine.domain.errors import BadInput, CaseChanged, RuleViolation
from tests.world import VILLAGE, World, id_number, scan_file
from tests.helpers.refusals import MAR15, MAR20, MAR22, MAR3, MAR5, MAR8, NOV20, assert_refused, assisted_household, walk


def step_rows(world: World, case: int) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.steps.c.step_key, t.steps.c.voided_at, t.steps.c.voided_reason)
                            .where(t.steps.c.case_id == case).order_by(t.steps.c.id)).all()


def case_row(world: World, case: int):
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.cases).where(t.cases.c.id == case)).one()


def evidence_row(world: World, case: int, etype: str):
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.evidence).where(
            t.evidence.c.case_id == case, t.evidence.c.type == etype,
            t.evidence.c.superseded_by.is_(None))).one()


def _objection_during_first_notice(world: World, case: int) -> int:
    notice_id = walk(world, "identification", case, until="township_review")["first_notice"][0].notice_id
    world.on(MAR3)
    objection = file_objection(world.app, world["vs"], notice_id, case, "村民张三", "家有轿车，收入不实")
    world.on(MAR8)
    return objection


def test_open_objection_blocks_the_next_step(world):
    case = world.household()
    objection = _objection_during_first_notice(world, case)
    assert_refused(world, RuleViolation, "notice.objection",
                   lambda: world.step("ts1", "identification", "township_review", case, decision="approve"),
                   names=(objection, case), cases=(case,))
    assert resolve_objection(world.app, world["th"], objection, upheld=False, reason="核实无轿车") == "dismissed"
    [outcome] = world.step("ts1", "identification", "township_review", case, decision="approve")
    assert outcome.decision == "approved"


def test_open_objection_upheld_rejects_the_procedure_and_case_keeps_its_stage(world):
    case = world.household()
    objection = _objection_during_first_notice(world, case)
    procedure_id = case_row(world, case).open_procedure_id
    with world.app.engine.connect() as conn:
        waiting = conn.execute(select(t.deadlines.c.id).where(t.deadlines.c.procedure_id == procedure_id,
                                                               t.deadlines.c.status == "open")).scalars().all()
    assert resolve_objection(world.app, world["th"], objection, upheld=True, reason="确有轿车") == "upheld"
    with world.app.engine.connect() as conn:
        procedure = conn.execute(select(t.procedures).where(t.procedures.c.id == procedure_id)).one()
        still = conn.execute(select(t.deadlines.c.status, t.deadlines.c.closed_reason).where(
            t.deadlines.c.id.in_(waiting))).all()
    assert procedure.status == "rejected" and "确有轿车" in procedure.outcome_reason
    # its deadlines end with it (they stayed open, and overdue, until the next sweep)
    assert waiting and set(still) == {("cancelled", "procedure rejected")}
    row = case_row(world, case)
    # not included (stop 52): it waits for nothing, on nobody's list of work; it may apply again
    assert (row.stage, row.open_procedure_id, row.pending_step) == ("candidate", None, None)
    # The rejected procedure is over: its next step is refused, and a new identification starts afresh.
    assert_refused(world, RuleViolation, "step.order",
                   lambda: world.step("ts1", "identification", "township_review", case, decision="approve"),
                   names=("township_review", "application"), cases=(case,))
    # on a new application form of its own (the rejected procedure's stays that procedure's record)
    attach_evidence(world.app, world["vs"], case, "application", {"applicant": "户主", "applied_on": world.today().isoformat()})
    [outcome] = world.step("vs", "identification", "application", case)
    assert outcome.procedure_id != procedure_id and case_row(world, case).stage == "candidate"


def test_an_objection_upheld_is_answered_for_by_the_post_that_ruled_on_it(world):
    """The household it turns down is not included (stop 52): on no office's list of cases sent back to be
    put right, its rejection names who ruled in which post, and the ruling as the reason."""
    from engine.reads.rejected import last_rejections, returned_by_my_posts
    by_township, by_county = world.household(), world.household()
    ruled = {case: _objection_during_first_notice(world, case) for case in (by_township, by_county)}
    resolve_objection(world.app, world["th"], ruled[by_township], upheld=True, reason="确有轿车")
    resolve_objection(world.app, world["cs"], ruled[by_county], upheld=True, reason="县里复核属实")
    assert returned_by_my_posts(world.app, world["ts1"]) == returned_by_my_posts(world.app, world["cd"]) == []
    township = last_rejections(world.app, [by_township])
    county = last_rejections(world.app, [by_county], "en")
    assert (township[by_township]["person"], township[by_township]["role"], township[by_township]["step"]) == \
        (world["th"].code, "township_head", "first_notice")
    assert township[by_township]["reason"] == f"异议 #{ruled[by_township]} 成立：确有轿车"
    assert (county[by_county]["role"], county[by_county]["reason"]) == \
        ("county_office_staff", f"objection #{ruled[by_county]} upheld: 县里复核属实")


def test_objection_cannot_be_resolved_by_the_person_who_recorded_it(world):
    case = world.household()
    notice_id = walk(world, "identification", case, until="township_review")["first_notice"][0].notice_id
    world.on(MAR3)
    objection = file_objection(world.app, world["ts1"], notice_id, case, "村民张三", "家有轿车，收入不实")
    assert_refused(world, RuleViolation, "duty.own_objection",
                   lambda: resolve_objection(world.app, world["ts1"], objection, upheld=False, reason="无轿车"),
                   names=("ts1", objection), cases=(case,))


def test_objection_dated_after_today_within_the_notice_is_refused_as_a_date_not_yet_come(world):
    """Filed on 3 March for 5 March, inside the notice (1 to 8 March): the reason is that the day has not
    come, not that it lies outside the notice."""
    case = world.household()
    notice_id = walk(world, "identification", case, until="township_review")["first_notice"][0].notice_id
    world.on(MAR3)
    assert_refused(world, RuleViolation, "date.future",
                   lambda: file_objection(world.app, world["vs"], notice_id, case, "村民张三", "收入不实",
                                          filed_on=MAR5),
                   names=("2019-03-05", "2019-03-03"), cases=(case,))


def test_objection_to_a_notice_the_procedure_has_already_passed_is_refused(world):
    """The engine let the township review proceed on the notice's end date, so the notice was over: an
    objection recorded afterwards for that date could never block anything and must not be accepted."""
    case = world.household()
    notice_id = walk(world, "identification", case, until="township_review")["first_notice"][0].notice_id
    world.step("ts1", "identification", "township_review", case, decision="approve")     # on the end date
    assert_refused(world, RuleViolation, "objection.outside_notice",
                   lambda: file_objection(world.app, world["vs"], notice_id, case, "村民张三", "收入不实"),
                   names=("2019-03-08",), cases=(case,))


# === evidence frozen by the steps that relied on it =============================================================

def test_evidence_relied_on_by_a_step_is_frozen(world):
    """The income check came with the application step, and the appraisal and the signers went by it:
    the first step that relied on it is the application (it names the item it was done with)."""
    case = world.household()
    walk(world, "identification", case, until="county_approval")
    assert_refused(world, RuleViolation, "evidence.frozen",
                   lambda: attach_evidence(world.app, world["vs"], case, "income_check",
                                           {"year": 2018, "net_income": 4200}, replace=True, reason="漏报工资"),
                   names=("income_check", "application", "6"), cases=(case,))


def test_evidence_relied_on_by_a_step_replaced_with_void_signoffs_voids_it_and_later_steps(world):
    case = world.household()
    walk(world, "identification", case, until="county_approval")
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": 4200},
                    replace=True, void_signoffs=True, reason="漏报工资")
    every = ["application", "appraisal", "village_verification", "first_notice", "township_review", "second_notice"]
    voided = {r.step_key: r for r in step_rows(world, case) if r.voided_at is not None}
    assert set(voided) == set(every)
    assert all("漏报工资" in r.voided_reason for r in voided.values())
    with world.app.engine.connect() as conn:
        event = conn.execute(select(t.audit_events).where(t.audit_events.c.case_id == case)
                             .order_by(t.audit_events.c.seq.desc())).first()
    assert event.action == "evidence_replaced"
    assert [v["step"] for v in event.detail["voided_steps"]] == every
    assert case_row(world, case).pending_step == "application"
    # The voided steps must be redone before the county may approve, by the same people if need be:
    # the meeting votes again, on the income as it now is. The refusal says which replacement voided them.
    assert_refused(world, RuleViolation, "step.voided",
                   lambda: world.step("cd", "identification", "county_approval", case, decision="approve"),
                   names=("county_approval", "application"), cases=(case,))
    world.on(MAR8)
    world.up_to_first_notice(case)
    world.on(MAR15)
    world.step("ts1", "identification", "township_review", case, decision="approve")
    world.step("ts2", "identification", "second_notice", case)
    world.on(MAR22)
    world.step("cd", "identification", "county_approval", case, decision="approve")
    world.step("cs", "identification", "announcement", case)
    assert case_row(world, case).stage == "identified"


def test_income_replaced_after_the_exit_proposal_is_refused_unless_the_proposal_is_voided(world, tmp_path):
    """The village's proposal was held to the exit standard on the income it names: a new figure
    after it leaves no proposal standing on the old one (walk of 2026-12-05, finding 2)."""
    case = assisted_household(world, tmp_path)
    walk(world, "exit", case, until="acknowledgement")              # proposed and verified, no sign-off yet
    assert_refused(world, RuleViolation, "evidence.frozen",
                   lambda: attach_evidence(world.app, world["vs"], case, "income_assessment",
                                           {"year": 2019, "net_income": 7600}, replace=True, reason="更正"),
                   names=("income_assessment", "proposal", "2"), cases=(case,))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 7600},
                    replace=True, void_signoffs=True, reason="更正")
    voided = [r.step_key for r in step_rows(world, case) if r.voided_at is not None]
    assert voided == ["proposal", "verification"] and case_row(world, case).pending_step == "proposal"


def test_a_confirmation_replaced_after_the_acknowledgement_relying_on_it_is_refused(world, tmp_path):
    case = assisted_household(world, tmp_path)
    walk(world, "exit", case, until="township_review")
    scan = scan_file(tmp_path / "重签.pdf")
    assert_refused(world, RuleViolation, "evidence.frozen",
                   lambda: attach_evidence(world.app, world["pc1"], case, "household_confirmation",
                                           {"signed_on": "2019-11-20"}, scan, replace=True, reason="重签"),
                   names=("household_confirmation", "acknowledgement", "2"), cases=(case,))


def test_a_member_change_after_the_exit_proposal_voids_it_only_when_confirmed(world, tmp_path):
    """The proposal's exit standard read the members (their count divides the income; the children's
    schooling): changing them is refused before any sign-off, unless the proposal is voided."""
    from workflows.household import update_member
    case = assisted_household(world, tmp_path, school_age_child="enrolled", income_2019=15000)
    walk(world, "exit", case, until="verification")
    with world.app.engine.connect() as conn:
        child = conn.execute(select(t.household_members.c.id_number).where(
            t.household_members.c.case_id == case, t.household_members.c.relation == "child")).scalar_one()
    assert_refused(world, RuleViolation, "facts.frozen",
                   lambda: update_member(world.app, world["vs"], case, child, {"school_enrolment": "dropped_out"},
                                         "辍学"),
                   names=("proposal", "1"), cases=(case,))
    # a phone number is read by no standard: changing it voids nothing
    update_member(world.app, world["vs"], case, child, {"phone": "13907970001"}, "换号")
    assert [r.step_key for r in step_rows(world, case) if r.voided_at is not None] == []
    update_member(world.app, world["vs"], case, child, {"school_enrolment": "dropped_out"}, "辍学", void_signoffs=True)
    assert [r.step_key for r in step_rows(world, case) if r.voided_at is not None] == ["proposal"]
    assert case_row(world, case).pending_step == "proposal"


def test_a_member_fact_no_check_of_the_procedure_read_voids_nothing_before_its_sign_offs(world):
    """The identification standard counts the members (the income per head): a member's insurance
    recorded after the appraisal leaves it standing; a birth does not."""
    from workflows.household import MemberInput, add_member, update_member
    case = world.household()
    walk(world, "identification", case, until="township_review")
    with world.app.engine.connect() as conn:
        spouse = conn.execute(select(t.household_members.c.id_number).where(
            t.household_members.c.case_id == case, t.household_members.c.relation == "spouse")).scalar_one()
    update_member(world.app, world["vs"], case, spouse, {"insured_critical": "否"}, "大病保险已断缴")
    assert [r.step_key for r in step_rows(world, case) if r.voided_at is not None] == []
    baby = MemberInput("新生儿", id_number("36073020190201001"), "child", "none", "healthy", "none")
    assert_refused(world, RuleViolation, "facts.frozen",
                   lambda: add_member(world.app, world["vs"], case, baby, "出生"),
                   names=("appraisal", "3"), cases=(case,))


def test_evidence_file_edited_after_a_signoff_is_tampered(world, tmp_path):
    case = assisted_household(world, tmp_path)
    walk(world, "exit", case, until="county_approval")          # township_review signed the confirmation
    confirmation = evidence_row(world, case, "household_confirmation")
    world.app.evidence.path_for(confirmation.file_sha256).write_text("forged confirmation", encoding="utf-8")
    assert_refused(world, RuleViolation, "evidence.tampered",
                   lambda: world.step("ch", "exit", "county_approval", case, decision="approve"),
                   names=(confirmation.id, "household_confirmation", "township_review"), cases=(case,))


def test_evidence_file_edited_before_the_first_signoff_cannot_be_signed(world, tmp_path):
    """A sign-off records the file hash it relied on: it must not sign a stored file that no longer has it."""
    case = assisted_household(world, tmp_path)
    walk(world, "exit", case, until="township_review")          # no sign-off yet in this procedure
    confirmation = evidence_row(world, case, "household_confirmation")
    world.app.evidence.path_for(confirmation.file_sha256).write_text("forged confirmation", encoding="utf-8")
    assert_refused(world, RuleViolation, "evidence.tampered",
                   lambda: world.step("ts1", "exit", "township_review", case, decision="approve"),
                   names=(confirmation.id, "household_confirmation"), cases=(case,))


def test_evidence_fields_edited_in_the_database_after_a_signoff_is_tampered(world):
    case = world.household()
    walk(world, "identification", case, until="second_notice")
    income = evidence_row(world, case, "income_check")
    with world.app.engine.begin() as conn:
        conn.execute(update(t.evidence).where(t.evidence.c.id == income.id).values(
            fields={"year": 2018, "net_income": 1.0}))
    assert_refused(world, RuleViolation, "evidence.tampered",
                   lambda: world.step("ts2", "identification", "second_notice", case),
                   names=(income.id, "income_check", "township_review"), cases=(case,))


# === dates =====================================================================================

def test_step_dated_before_the_previous_step_is_refused(world):
    case = world.household()
    walk(world, "identification", case, until="appraisal")
    world.on(MAR5)
    assert_refused(world, RuleViolation, "date.order",
                   lambda: world.step("vd", "identification", "appraisal", case, date=date(2019, 2, 20),
                                      attendance=40, votes_for=35, votes_against=2),
                   names=("2019-02-20", "2019-03-01", "application"), cases=(case,))


def test_step_dated_in_the_future_is_refused(world):
    case = world.household()
    walk(world, "identification", case, until="appraisal")
    tomorrow = world.today() + timedelta(days=1)
    assert_refused(world, RuleViolation, "date.future",
                   lambda: world.step("vd", "identification", "appraisal", case, date=tomorrow,
                                      attendance=40, votes_for=35, votes_against=2),
                   names=(tomorrow.isoformat(),), cases=(case,))


def test_step_dated_before_the_previous_procedure_ended_is_refused(world):
    """Dates are in order along the whole case: no pairing dated before the county identified the household."""
    case = world.household()
    world.identify(case)                                       # announced 2019-03-15
    world.on(MAR20)
    assert_refused(world, RuleViolation, "date.order",
                   lambda: world.step("ts1", "assistance", "pairing", case, date=date(2019, 3, 10),
                                      first_cadre="pc1", second_cadre="pc2"),
                   names=("2019-03-10", "2019-03-15"), cases=(case,))


def _confirmed_on(world: World, case: int, tmp_path, signed_on: str, **options) -> int:
    return attach_evidence(world.app, world["pc1"], case, "household_confirmation", {"signed_on": signed_on},
                           scan_file(tmp_path / f"确认书-{signed_on}.pdf"), **options)


def test_a_confirmation_signed_before_the_proposal_it_confirms_is_refused_at_the_acknowledgement(world, tmp_path):
    """Dates in order (walk of 2026-12-05, finding 8): the household confirms the village's proposal,
    so it signs on the proposal's day or later; attached beforehand, it is refused at the step."""
    from engine.reads.queries import check_step
    case = assisted_household(world, tmp_path, confirm=False)
    _confirmed_on(world, case, tmp_path, "2019-11-18")
    walk(world, "exit", case, until="acknowledgement")             # proposed and verified on 20 November
    assert_refused(world, RuleViolation, "date.evidence_before_step",
                   lambda: world.step("fs", "exit", "acknowledgement", case),
                   names=("household_confirmation", "2019-11-18", "proposal", "2019-11-20"), cases=(case,))
    said = check_step(world.app, world["fs"], case, "exit", "acknowledgement")      # case next says it too
    assert [v.code for v in said] == ["date.evidence_before_step"]
    _confirmed_on(world, case, tmp_path, "2019-11-20", replace=True, reason="按提议当日重签")
    world.step("fs", "exit", "acknowledgement", case)


def test_a_confirmation_signed_before_a_proposal_already_made_is_refused_as_it_comes_in(world, tmp_path):
    case = assisted_household(world, tmp_path, confirm=False)
    walk(world, "exit", case, until="verification")
    assert_refused(world, RuleViolation, "date.evidence_before_step",
                   lambda: _confirmed_on(world, case, tmp_path, "2019-11-18"),
                   names=("household_confirmation", "2019-11-18", "proposal", "2019-11-20"), cases=(case,))
    _confirmed_on(world, case, tmp_path, "2019-11-20")


def income_assessed_again(world, case: int) -> None:
    """The income the county questioned, assessed again after its rejection (a proposal again waits for it)."""
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 9800.0},
                    replace=True, reason="县级退回后重新核算")


def test_a_fresh_exit_is_not_confirmed_by_the_confirmation_of_the_rejected_one(world, tmp_path):
    case = assisted_household(world, tmp_path)                      # confirmation signed 20 November
    walk(world, "exit", case, until="county_approval")
    world.step("cd", "exit", "county_approval", case, decision="reject", reason="收入核算有误")
    world.on(date(2019, 12, 2))
    income_assessed_again(world, case)
    world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    world.step("tl", "exit", "verification", case, decision="approve", verifiers=("ts2", "ts3", "ts4"))
    # the rejected exit's confirmation is that exit's record: the household signs again for this one
    assert_refused(world, RuleViolation, "evidence.earlier_procedure",
                   lambda: world.step("fs", "exit", "acknowledgement", case),
                   names=("household_confirmation", "acknowledgement"), cases=(case,))


def test_a_fresh_exits_confirmation_is_an_item_of_its_own_beside_the_rejected_exits(world, tmp_path):
    """The household signs again for the fresh exit: a new item, no replacement asked for, and the
    confirmation the rejected exit's steps named stays that exit's record, not replaced."""
    case = assisted_household(world, tmp_path)                      # confirmation signed 20 November
    first = evidence_row(world, case, "household_confirmation")
    walk(world, "exit", case, until="county_approval")
    world.step("cd", "exit", "county_approval", case, decision="reject", reason="收入核算有误")
    world.on(date(2019, 12, 2))
    income_assessed_again(world, case)
    world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    world.step("tl", "exit", "verification", case, decision="approve", verifiers=("ts2", "ts3", "ts4"))
    # the village's confirmation sheet lists it among the households to fill: the first is that exit's
    from engine.reads.village_lists import sheet_rows
    from tests.world import VILLAGE
    rows = sheet_rows(world.app, world["vs"], VILLAGE, "household", "household_confirmation", False, missing_only=True)
    assert [r["current"] for r in rows if r["id"] == case] == [None]
    again = _confirmed_on(world, case, tmp_path, "2019-12-02")
    with world.app.engine.connect() as conn:
        rows = conn.execute(select(t.evidence.c.id, t.evidence.c.superseded_by).where(
            t.evidence.c.case_id == case, t.evidence.c.type == "household_confirmation")
            .order_by(t.evidence.c.id)).all()
    assert [tuple(r) for r in rows] == [(first.id, None), (again, None)]
    [outcome] = world.step("fs", "exit", "acknowledgement", case)
    assert outcome.step_key == "acknowledgement"


def test_a_confirmation_dated_after_today_is_refused_as_it_comes_in(world, tmp_path):
    """A date not yet come is refused when the item is attached, naming the field and today (it was
    accepted, and then stopped the household's next step with a message about step dates)."""
    case = assisted_household(world, tmp_path, confirm=False)      # today 20 November 2019
    walk(world, "exit", case, until="acknowledgement")
    error = assert_refused(world, BadInput, "evidence.date_future",
                           lambda: _confirmed_on(world, case, tmp_path, "2019-12-31"),
                           names=("household_confirmation", "2019-12-31", "2019-11-20"), cases=(case,))
    assert "签字日期" in error.render(world.app.config, "zh")
    assert "signed on" in error.render(world.app.config, "en")
    _confirmed_on(world, case, tmp_path, "2019-11-20")


def test_a_confirmation_sheet_holds_back_the_row_signed_before_the_proposal(world, tmp_path):
    from engine.services.evidence_sheet import SheetRow, sheet_items
    early, fine = world.household(), world.household()
    world.identify([early, fine])
    for case, cadre in ((early, "pc1"), (fine, "pc3")):
        world.assist(case, first=cadre)
        world.exit_evidence(case, confirm=False)
    walk(world, "exit", [early, fine], until="verification")
    rows = [SheetRow(str(early), fields={"signed_on": "2019-11-18"}, file=scan_file(tmp_path / "a.pdf")),
            SheetRow(str(fine), fields={"signed_on": "2019-11-20"}, file=scan_file(tmp_path / "b.pdf"))]
    items, problems = sheet_items(world.app, world["vs"], "household_confirmation", rows)
    assert items[0] is None and items[1] is not None
    assert [(line, column, p.code) for line, column, p in problems] == [(1, "signed_on", "date.evidence_before_step")]
    assert "2019-11-18" in problems[0][2].render(world.app.config, "zh")


# === policy standards ==========================================================================

def test_exit_standard_income_under_the_line(world, tmp_path):
    case = assisted_household(world, tmp_path, income_2019=7000)     # 3500 per person, line 3747
    walk(world, "exit", case, until="proposal")
    assert_refused(world, RuleViolation, "check.exit_standard",
                   lambda: world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1),
                   names=("3,500", "3,747"), cases=(case,))


def test_exit_standard_school_age_child_not_enrolled(world, tmp_path):
    case = assisted_household(world, tmp_path, school_age_child="dropped_out", income_2019=20000)
    walk(world, "exit", case, until="proposal")
    assert_refused(world, RuleViolation, "check.exit_standard",
                   lambda: world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1),
                   names=("education",), cases=(case,))


def test_an_exit_standard_refusal_says_what_the_cadre_can_do(world, tmp_path):
    """义务教育 not met and an income under the line gave no next step, unlike a pending renovation."""
    import pytest
    case = assisted_household(world, tmp_path, school_age_child="dropped_out", income_2019=7000)
    walk(world, "exit", case, until="proposal")
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    zh, en = refused.value.render(world.app.config, "zh"), refused.value.render(world.app.config, "en")
    assert "未在校（请先劝返入学或办理因病免学，再在本户成员信息中把其在校情况改为在校生或因病免学，然后提出退出）" in zh, zh
    assert "（收入稳定超过标准线前继续帮扶，暂不退出；收入增加后，请登记本户当年新的收入核算明细表" in zh and "若是原来的收入算错了，请核实后替换本户的收入核算明细表" in zh
    assert "is not enrolled (get them back to school or arrange a medical exemption first" in en, en
    assert "(keep assisting the household until its income is steadily above the line;" in en


def test_exit_missing_household_confirmation_blocks_acknowledgement(world, tmp_path):
    case = assisted_household(world, tmp_path, confirm=False)
    walk(world, "exit", case, until="acknowledgement")
    assert_refused(world, RuleViolation, "evidence.missing",
                   lambda: world.step("fs", "exit", "acknowledgement", case),
                   names=("household_confirmation", "acknowledgement", case), cases=(case,))


def test_identification_standard_income_above_the_line(world):
    case = world.household(income_2018=8000)                         # 4000 per person, line 3535
    walk(world, "identification", case, until="appraisal")
    assert_refused(world, RuleViolation, "check.identification_standard",
                   lambda: world.step("vd", "identification", "appraisal", case,
                                      attendance=40, votes_for=35, votes_against=2),
                   names=("4,000", "3,535"), cases=(case,))


def test_batch_with_one_case_over_the_line_writes_nothing_for_any_case(world):
    poor, rich = world.household(income_2018=4000), world.household(income_2018=8000)
    walk(world, "identification", [poor, rich], until="appraisal")
    assert_refused(world, RuleViolation, "check.identification_standard",
                   lambda: world.step("vd", "identification", "appraisal", [poor, rich],
                                      attendance=40, votes_for=35, votes_against=2),
                   names=("3,535",), cases=(poor, rich))


def test_check_refusal_in_a_batch_names_the_failing_case(world):
    """In a village's list the refusal must say which household failed, as every other case refusal does."""
    poor, rich = world.household(income_2018=4000), world.household(income_2018=8000)
    walk(world, "identification", [poor, rich], until="appraisal")
    error = assert_refused(world, RuleViolation, "check.identification_standard",
                           lambda: world.step("vd", "identification", "appraisal", [poor, rich],
                                              attendance=40, votes_for=35, votes_against=2),
                           cases=(poor, rich))
    assert error.params["case"] == rich
    assert f"案件 {rich}" in error.render(world.app.config, "zh")
    assert f"case {rich}" in error.render(world.app.config, "en")


# === order, stage, pairing and plan ============================================================

def test_step_out_of_order_is_refused(world):
    case = world.household()
    assert_refused(world, RuleViolation, "step.order",
                   lambda: world.step("vd", "identification", "appraisal", case,
                                      attendance=40, votes_for=35, votes_against=2),
                   names=("appraisal", "application", case), cases=(case,))


def test_a_step_done_already_is_refused_as_done_by_whom_and_when(world):
    """A second tab or a list opened before the step was done sends it again: it was refused as out of
    order (步骤顺序错误) and, for whoever did it, as separation of duties (职责分离), where it had simply
    been done; the refusal names who did it and when, and nothing else."""
    from engine.domain.deadline_rules import wall_clock
    from engine.reads.queries import check_step
    case = world.household()
    walk(world, "identification", case, until="village_verification")       # the appraisal by vd, on MAR1
    with world.app.engine.connect() as conn:
        at = wall_clock(world.app.config, conn.execute(select(t.steps.c.recorded_at).where(
            t.steps.c.case_id == case, t.steps.c.step_key == "appraisal")).scalar_one())
    again = lambda who: lambda: world.step(who, "identification", "appraisal", case,   # noqa: E731
                                           attendance=40, votes_for=35, votes_against=2)
    error = assert_refused(world, RuleViolation, "step.done", again("vd"), names=("appraisal", "vd", case),
                           cases=(case,))
    assert at in error.render(world.app.config, "zh") and at in error.render(world.app.config, "en")
    assert [v.code for v in check_step(world.app, world["vd"], case, "identification", "appraisal")] == ["step.done"]
    assert_refused(world, RuleViolation, "step.done", again("vs"), names=("vd",), cases=(case,))   # by anybody


def test_procedure_not_allowed_from_the_stage(world):
    case = world.household()
    assert_refused(world, RuleViolation, "stage.not_allowed",
                   lambda: world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1),
                   names=("exit", "candidate", case), cases=(case,))


def test_pairing_capacity_first_cadre_cannot_pair_a_second_household(world):
    first, second = world.household(), world.household()
    world.identify([first, second])
    world.assist(first, first="pc1", second="pc2")
    refused = assert_refused(world, RuleViolation, "pairing.capacity",
                             lambda: world.step("ts1", "assistance", "pairing", second, first_cadre="pc1", second_cadre="pc3"),
                             names=("pc1", "1", second), cases=(first, second))
    # who else in the village may take the household: those with room, the least paired first, not pc1
    zh, en = refused.render(world.app.config), refused.render(world.app.config, "en")
    assert "本村尚有名额的帮扶责任人：" in zh and "pairing cadres of the village with room: " in en
    room = zh.split("本村尚有名额的帮扶责任人：")[1]
    assert "（pc3）" in room and "（pc1）" not in room and "（pc2）" in room      # pc2 is only pc1's second
    assert "（" not in en.split("with room: ")[1]


def test_pairing_capacity_says_when_no_cadre_of_the_village_has_room(world):
    cases = [world.household() for _ in range(4)]
    world.identify(cases)
    for case, cadre in zip(cases, ("pc1", "pc2", "pc3")):
        world.assist(case, first=cadre, second=None)
    with pytest.raises(RuleViolation) as full:
        world.step("ts1", "assistance", "pairing", cases[3], first_cadre="pc1", second_cadre=None)
    text = full.value.render(world.app.config)
    assert "本村的帮扶责任人都已满额" in text and "pairing_cadre:360730100201" in text


def test_pairing_capacity_holds_within_one_batch(world):
    """Pairing two households in one batch must not make pc1 the first cadre of both."""
    first, second = world.household(), world.household()
    world.identify([first, second])
    world.on(MAR20)
    assert_refused(world, RuleViolation, "pairing.capacity",
                   lambda: world.step("ts1", "assistance", "pairing", [first, second], first_cadre="pc1"),
                   names=("pc1",), cases=(first, second))


def test_plan_without_measures_is_refused(world):
    case = world.household()
    world.identify(case)
    world.on(MAR20)
    world.step("ts1", "assistance", "pairing", case, first_cadre="pc1", second_cadre="pc2")
    assert_refused(world, RuleViolation, "plan.no_measure",
                   lambda: world.step("fs", "assistance", "plan", case, measures=()),
                   names=(case,), cases=(case,))


# === other refusals of a step ==================================================================

def test_stale_expected_version_is_refused(world):
    case = world.household()
    walk(world, "identification", case, until="appraisal")
    stale = case_row(world, case).version - 1
    assert_refused(world, CaseChanged, "case.changed",
                   lambda: world.step("vd", "identification", "appraisal", case, expect_version=stale,
                                      attendance=40, votes_for=35, votes_against=2),
                   names=(case,), cases=(case,))


def test_rejection_without_reason_is_refused(world):
    case = world.household()
    walk(world, "identification", case, until="township_review")
    assert_refused(world, BadInput, "step.reason_required",
                   lambda: world.step("ts1", "identification", "township_review", case, decision="reject"),
                   cases=(case,))


def test_a_plan_typed_on_a_chinese_keyboard_is_read(world):
    """产业：种植脐橙 (a full-width colon, the start of the category's label) is 产业帮扶; a start that
    is not one label's alone is refused, naming the categories."""
    from engine.domain import inputs
    from sqlalchemy import select
    from engine.adapters import tables as t
    assert inputs.measure("产业：种植脐橙2亩") == ("产业", "种植脐橙2亩")
    assert inputs.measure("健康帮扶:家庭医生签约") == ("健康帮扶", "家庭医生签约")
    case = world.household()
    world.identify(case)
    world.on(MAR20)
    world.step("ts1", "assistance", "pairing", case, first_cadre="pc1", second_cadre="pc2")
    assert_refused(world, BadInput, "plan.bad_category",
                   lambda: world.step("fs", "assistance", "plan", case, measures=(("帮扶", "x"),)),
                   names=("帮扶",))
    world.step("fs", "assistance", "plan", case, measures=(inputs.measure("产业：种植脐橙2亩"),
                                                           inputs.measure("健康：家庭医生签约")))
    with world.app.engine.connect() as conn:
        kept = conn.execute(select(t.measures.c.category, t.measures.c.description)
                            .where(t.measures.c.case_id == case).order_by(t.measures.c.id)).all()
    assert [tuple(r) for r in kept] == [("industry", "种植脐橙2亩"), ("health", "家庭医生签约")]


def test_my_work_of_a_pairing_cadre_holds_their_own_households_alone(world, tmp_path):
    """Two households waiting for the exit's acknowledgement, a pairing cadre's step for the households
    they are paired with: each cadre's "my work" holds their own household, not the other's (it had
    listed every household of the village at that step, each refused when opened)."""
    from engine.reads.case_lists import list_cases
    from tests.helpers.refusals import walk
    mine = assisted_household(world, tmp_path)                       # pc1 first, pc2 second
    theirs = world.household(members=2)
    world.identify(theirs)
    world.assist(theirs, first="pc3", second=None)
    world.exit_evidence(theirs, tmp=tmp_path)
    walk(world, "exit", [mine, theirs], until="acknowledgement")
    waiting = lambda who: {c["id"] for c in list_cases(world.app, world[who], waiting_for_me=True)}  # noqa: E731
    assert {mine, theirs} <= waiting("fs")                           # the first secretary: every household
    assert mine in waiting("pc1") and theirs not in waiting("pc1")
    assert theirs in waiting("pc3") and mine not in waiting("pc3")
    from engine.reads.queries import paired_households         # their households, whatever waits or not
    assert [(h["id"], h["kind"]) for h in paired_households(world.app, world["pc3"])] == [(theirs, "first")]
    assert [(h["id"], h["kind"]) for h in paired_households(world.app, world["pc2"])] == [(mine, "second")]
    # a cadre of this village who is also a first secretary elsewhere: still only their own households
    # here (a post in another region does not make the village's households theirs)
    from engine.services.accounts import activate_all
    from engine.services.org import NewPerson, add_persons, authenticate, grant_role, revoke_role
    from tests.world import VILLAGE2
    made = add_persons(world.app, world["admin"], [NewPerson("mix", "兼职干部", (("pairing_cadre", VILLAGE),
                                                                                 ("first_secretary", VILLAGE2)))])
    mix = authenticate(world.app, "mix", activate_all(world.app, made)["mix"])
    assert mine not in {c["id"] for c in list_cases(world.app, mix, waiting_for_me=True)}
    # a cadre who has left the village: its households are no longer theirs to read
    grant_role(world.app, world["admin"], "pc3", "village_secretary", VILLAGE2)
    revoke_role(world.app, world["admin"], "pc3", "pairing_cadre", VILLAGE)
    moved = authenticate(world.app, "pc3", world.tokens["pc3"])
    assert paired_households(world.app, moved) == []


def test_a_step_that_would_leave_nobody_to_do_the_next_one_is_refused_saying_who_could(world):
    """The first secretary verifying a household herself, where she and the village secretary (who
    applied) alone may post the notice: refused before it leaves the household where nobody may ever
    act (a phone walk got one stuck so, on no one's list and with no deadline); the team leader may."""
    from tests.helpers.refusals import walk
    case = world.household()
    walk(world, "identification", case, until="village_verification")
    assert_refused(world, RuleViolation, "duty.no_signer_left",
                   lambda: world.step("fs", "identification", "village_verification", case, decision="approve", verifiers=("tm",)),
                   names=(case,), cases=(case,))
    refused = None
    try:
        world.step("fs", "identification", "village_verification", case, decision="approve", verifiers=("tm",))
    except RuleViolation as exc:
        refused = exc.render(world.app.config)
    assert "公示" in refused, refused
    assert world["fs"].name in refused
    # and who may act says so before she tries: she is not listed as able, her own "case next" tells why
    from engine.reads.queries import next_for
    assert "fs" not in [e["person"] for e in next_for(world.app, world["tl"], case)["next"]["eligible"]]
    assert "tl" in [e["person"] for e in next_for(world.app, world["tl"], case)["next"]["eligible"]]
    assert "duty.no_signer_left" in next_for(world.app, world["fs"], case)["next"]["rules"]
    world.step("tl", "identification", "village_verification", case, decision="approve", verifiers=("tm",))     # leaves fs to post it
    world.step("fs", "identification", "first_notice", case)
    # a second village secretary posted: the first secretary may verify the next household herself
    # (the holders a step reads are kept a minute, and read again once a post changes here)
    from engine.services.org import NewPerson, add_persons
    other = world.household()
    walk(world, "identification", other, until="village_verification")
    add_persons(world.app, world["admin"], [NewPerson("vs_new", "新村支书", (("village_secretary", VILLAGE),))])
    world.step("fs", "identification", "village_verification", other, decision="approve", verifiers=("tm",))


def test_a_village_list_that_would_leave_nobody_to_post_the_notice_refuses_each_household_saying_who_could(world):
    """The same rule on a village's list: judged once for its households (one village, the same signers
    so far), each household refused with who could; the team leader's list goes through."""
    from engine.domain.cases import StepInput
    from engine.services.list_steps import perform_list_step
    cases = [world.household() for _ in range(3)]
    walk(world, "identification", cases, until="village_verification")
    result = perform_list_step(world.app, world["fs"], "identification", "village_verification", cases,
                               StepInput(decision="approve", verifiers=("tm",)))
    assert not result.done and sorted(result.refused) == sorted(cases)
    for case in cases:
        [why] = result.refused[case]
        assert why.code == "duty.no_signer_left" and why.params["case"] == case
        assert world["fs"].name in why.params["persons"].codes and why.params["step"] == "first_notice"
    result = perform_list_step(world.app, world["tl"], "identification", "village_verification", cases,
                               StepInput(decision="approve", verifiers=("tm",)))
    assert sorted(result.done) == sorted(cases) and not result.refused


def test_a_running_notice_says_the_first_day_the_next_step_may_be_done(world):
    """The notice page shows its last day; the refusal says the day the next step may be done (it had
    said the notice ends on that day, one day after the page's last day)."""
    from tests.helpers.refusals import walk
    case = world.household()
    notice = walk(world, "identification", case, until="township_review")["first_notice"][0].notice_id
    world.on(MAR5)
    try:
        world.step("ts1", "identification", "township_review", case, decision="approve")
        raise AssertionError("a running notice was not refused")
    except RuleViolation as refused:
        said = refused.render(world.app.config)
    assert f"{MAR8.isoformat()} 起方可办理" in said and f"公示 {notice}" in said, said
    world.on(MAR8)
    world.step("ts1", "identification", "township_review", case, decision="approve")


def test_the_pairing_form_tells_each_cadres_load_and_marks_a_full_one(world):
    """Choosing pairing cadres: each with the households they hold in the slot against the limit, a
    full one not to be chosen (a township clerk had found a free cadre by trial and refusal)."""
    from engine.reads.queries import pairing_loads
    from entrypoints.web.forms import candidates
    case = world.household()
    world.identify(case)
    world.assist(case, first="pc1", second="pc2")
    loads = pairing_loads(world.app, VILLAGE, ["pc1", "pc2", "pc3"], world.app.clock.today())
    params = world.app.config.policy.params("36", world.app.clock.today().year)
    first_max = int(params["first_cadre_max_households"])
    assert loads["pc1"]["first"] == 1 and loads["pc1"]["first_full"] == (first_max <= 1)
    assert loads["pc2"]["second"] == 1 and loads["pc3"] == {**loads["pc3"], "first": 0, "second": 0}
    other = world.household()
    world.identify(other)
    step = world.app.config.workflows["household"].procedures["assistance"].step("pairing")
    chosen = candidates(world.app, world["ts1"], VILLAGE, step)
    first = {c["person"]: c for c in chosen["first_cadre"]}
    assert first["pc1"]["held"] == 1 and first["pc1"]["most"] == first_max and first["pc3"]["held"] == 0
    # a change of the first household's cadres: its own pairing is not counted against them (the step
    # does not either), so a cadre paired with it already is not offered as full
    again = candidates(world.app, world["ts1"], VILLAGE, step, case_id=case)
    assert {c["person"]: c["held"] for c in again["first_cadre"]}["pc1"] == 0


def test_a_step_that_would_leave_nobody_for_a_later_step_is_refused_too(world, tmp_path):
    """Two steps on: the village secretary proposes an exit, the first secretary would lead its
    verification; they two alone may post the exit's notice after the pairing cadre's acknowledgement.
    Refused at the verification, which takes the last of them (the case had been stuck at the notice,
    on nobody's list)."""
    case = assisted_household(world, tmp_path)
    world.on(NOV20)
    world.step("vs", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    assert_refused(world, RuleViolation, "duty.no_signer_left",
                   lambda: world.step("fs", "exit", "verification", case, decision="approve", verifiers=("ts2", "ts3", "ts4")),
                   names=(case,), cases=(case,))
    world.step("tl", "exit", "verification", case, decision="approve", verifiers=("ts2", "ts3", "ts4"))     # leaves fs for the notice
    world.step("pc1", "exit", "acknowledgement", case)
    world.step("fs", "exit", "village_notice", case)


def test_a_problem_is_not_assigned_to_the_one_assigning_it(world):
    """The receipt is the assignee's alone and one signs a procedure once: a county director assigning
    a problem to himself had left it where nobody could ever receive it."""
    from engine.domain.cases import StepInput
    from engine.services.procedures import perform_step
    from workflows.problem import ProblemInput, register_problem
    from tests.world import TOWNSHIP
    world.on(date(2019, 6, 3))
    problem = register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "supervision", "帮扶手册未更新",
                                                                    date(2019, 6, 1)))
    assign = lambda who: perform_step(world.app, world["cd"], "assignment", "assign", [problem], StepInput(  # noqa: E731
        assignee=who, lead_unit="县扶贫办", responsible_unit="梅江镇", due=date(2019, 6, 30)))
    assert_refused(world, RuleViolation, "problem.assign_self", lambda: assign("cd"), names=("cd",))
    assign("th")
