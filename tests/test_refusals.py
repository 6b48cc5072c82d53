"""Refusals (DOMAIN.md §4): every rule refuses the action, says why in both languages, writes nothing.

Each test brings a case to the point where the rule applies, then calls `assert_refused`, which checks
the exception type and its code, that the Chinese and English messages are real translations naming
the thing refused, and that the database is exactly as it was before the attempt.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Callable, NamedTuple

import pytest
from sqlalchemy import func, select, update

from engine.adapters import tables as t
from engine.services.case_actions import attach_evidence, file_objection, record_relative, resolve_objection
from engine.domain.errors import AuthError, BadInput, CaseChanged, JingzhunError, RuleViolation
from engine.services.org import NewPerson, add_persons, authenticate, grant_role
from tests.world import TOWNSHIP, VILLAGE, World, member_ids
from workflows.household import MemberInput, register_household

# --- the walk through a procedure, step by step ------------------------------------------------

MAR1, MAR3, MAR5, MAR8, MAR15, MAR20 = (date(2019, 3, d) for d in (1, 3, 5, 8, 15, 20))
NOV20, NOV28 = date(2019, 11, 20), date(2019, 11, 28)


class Step(NamedTuple):
    who: str
    key: str
    day: date
    inputs: dict[str, Any] = {}


# The same walk as World.identify / World.exit, as data, so a test can stop before any step.
IDENTIFICATION = (
    Step("vs", "application", MAR1),
    Step("vd", "appraisal", MAR1, dict(attendance=40, votes_for=35, votes_against=2)),
    Step("tl", "village_verification", MAR1, dict(verifiers=("tm",))),
    Step("fs", "first_notice", MAR1),
    Step("ts1", "township_review", MAR8, dict(decision="approve")),
    Step("ts2", "second_notice", MAR8),
    Step("cd", "county_approval", MAR15, dict(decision="approve")),
    Step("cs", "announcement", MAR15),
)
EXIT = (
    Step("vd", "proposal", NOV20, dict(attendance=38, votes_for=33, votes_against=1)),
    Step("tl", "verification", NOV20, dict(verifiers=("ts2", "ts3", "ts4"))),
    Step("fs", "acknowledgement", NOV20),
    Step("vs", "village_notice", NOV20),
    Step("ts1", "township_review", NOV28, dict(decision="approve")),
    Step("ch", "county_approval", NOV28, dict(decision="approve")),
    Step("cs", "announcement", NOV28),
)
PROCEDURES = {"identification": IDENTIFICATION, "exit": EXIT}


def walk(world: World, procedure: str, case: int | list[int], until: str | None = None) -> dict[str, list]:
    """Do the steps of `procedure` in order up to (not including) `until`, the clock set for that step.

    Returns the outcomes of the steps done, by step key (notice steps carry their notice id).
    """
    done = {}
    for who, key, day, inputs in PROCEDURES[procedure]:
        world.on(day)
        if key == until:
            return done
        done[key] = world.step(who, procedure, key, case, **inputs)
    assert until is None, f"{until} is not a step of {procedure}"
    return done


def assisted_household(world: World, tmp_path, members: int = 2, school_age_child: str | None = None,
                       **exit_evidence: Any) -> int:
    """A household identified and under assistance (first cadre pc1), with its exit evidence attached."""
    case = world.household(members=members, school_age_child=school_age_child)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, tmp=tmp_path, **exit_evidence)
    return case


# --- nothing written, and a message that says why -----------------------------------------------

def snapshot(world: World, cases: tuple[int, ...] = ()) -> dict[str, Any]:
    """Row counts of every table, a few updated columns, and each case's version, stage and pending step."""
    with world.app.engine.connect() as conn:
        state: dict[str, Any] = {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                                 for table in t.metadata.sorted_tables}
        state["steps voided"] = conn.execute(select(func.count()).select_from(t.steps).where(
            t.steps.c.voided_at.is_not(None))).scalar_one()
        state["evidence superseded"] = conn.execute(select(func.count()).select_from(t.evidence).where(
            t.evidence.c.superseded_by.is_not(None))).scalar_one()
        state["objections resolved"] = conn.execute(select(func.count()).select_from(t.objections).where(
            t.objections.c.resolution.is_not(None))).scalar_one()
        state["procedures ended"] = conn.execute(select(func.count()).select_from(t.procedures).where(
            t.procedures.c.status != "open")).scalar_one()
        for case in cases:
            state[f"case {case}"] = tuple(conn.execute(select(
                t.cases.c.version, t.cases.c.stage, t.cases.c.open_procedure_id, t.cases.c.pending_procedure,
                t.cases.c.pending_step).where(t.cases.c.id == case)).one())
    return state


def shown_as(world: World, value: Any, lang: str) -> set[str]:
    """How a message may show `value`: as given, or by its label (step, procedure, stage, evidence, role)."""
    config, value = world.app.config, str(value)
    forms = {value}
    for prefix in ("step", "procedure", "stage", "evidence", "fail"):
        if f"{prefix}.{value}" in config.labels:
            forms.add(config.label(f"{prefix}.{value}", lang).split("：")[0].split(":")[0])
    if value in config.roles:
        forms.add(config.role_label(value, lang))
    return forms


def assert_refused(world: World, error_type: type[JingzhunError], code: str, action: Callable[[], Any], *,
                   names: tuple = (), cases: tuple[int, ...] = ()) -> JingzhunError:
    """`action` raises exactly `error_type` with `code`, both messages name `names`, nothing is written."""
    before = snapshot(world, cases)
    with pytest.raises(JingzhunError) as info:
        action()
    error = info.value
    assert type(error) is error_type, f"{type(error).__name__} {error.code} {error.params}"
    assert error.code == code, f"{error.code} {error.params}"
    texts = {lang: error.render(world.app.config, lang) for lang in ("zh", "en")}
    for lang, text in texts.items():
        assert text, lang
        assert not text.startswith(f"{code}:"), f"no msg.{code} label in {lang}: {text}"
        assert "{" not in text, f"unfilled placeholder in {lang}: {text}"
        for name in names:
            assert any(form in text for form in shown_as(world, name, lang)), \
                f"{lang} message does not name {name!r}: {text}"
    assert texts["zh"] != texts["en"]
    assert snapshot(world, cases) == before, "the refusal wrote something"
    return error


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


def relogin(world: World, code: str) -> None:
    """Actors carry the roles in force when they logged in: log in again after a grant."""
    world.actors[code] = authenticate(world.app, code, world.tokens[code])


# === separation of duties ======================================================================

def test_same_person_cannot_sign_two_steps_of_one_procedure(world):
    case = world.household()
    walk(world, "identification", case, until="appraisal")
    assert_refused(world, RuleViolation, "duty.same_person",
                   lambda: world.step("vs", "identification", "appraisal", case,
                                      attendance=40, votes_for=35, votes_against=2),
                   names=("vs", "application"), cases=(case,))


def test_same_person_cannot_sign_two_steps_verifier_cannot_sign_township_review(world, tmp_path):
    case = assisted_household(world, tmp_path)
    walk(world, "exit", case, until="township_review")      # ts3 and ts4 were door-to-door verifiers
    assert_refused(world, RuleViolation, "duty.same_person",
                   lambda: world.step("ts3", "exit", "township_review", case, decision="approve"),
                   names=("ts3", "verification"), cases=(case,))
    world.step("ts1", "exit", "township_review", case, decision="approve")   # someone else may


def test_same_person_cannot_sign_two_steps_signer_cannot_be_named_verifier(world):
    case = world.household()
    walk(world, "identification", case, until="village_verification")
    assert_refused(world, RuleViolation, "duty.same_person",
                   lambda: world.step("tl", "identification", "village_verification", case, verifiers=("vs",)),
                   names=("vs", "application"), cases=(case,))


def test_relative_of_household_cannot_sign_off(world):
    case = world.household()
    record_relative(world.app, world["vs"], case, "ts3", "表兄")
    walk(world, "identification", case, until="township_review")
    assert_refused(world, RuleViolation, "duty.relative",
                   lambda: world.step("ts3", "identification", "township_review", case, decision="approve"),
                   names=("ts3", "表兄"), cases=(case,))
    world.step("ts1", "identification", "township_review", case, decision="approve")


def test_pairing_cadre_cannot_sign_off_the_household(world, tmp_path):
    # A cadre who is both a pairing cadre in the village and township staff, paired with the household.
    tokens = add_persons(world.app, world["admin"], [NewPerson(
        "pc_ts", "帮扶兼乡镇干部", (("pairing_cadre", VILLAGE), ("township_staff", TOWNSHIP)))])
    world.actors["pc_ts"] = authenticate(world.app, "pc_ts", tokens["pc_ts"])
    case = world.household()
    world.identify(case)
    world.assist(case, first="pc_ts")
    world.exit_evidence(case, tmp=tmp_path)
    walk(world, "exit", case, until="township_review")
    assert_refused(world, RuleViolation, "duty.pairing_cadre",
                   lambda: world.step("pc_ts", "exit", "township_review", case, decision="approve"),
                   names=("pc_ts", case), cases=(case,))


def test_pairing_cadre_given_a_township_role_by_grant_cannot_sign_off(world, tmp_path):
    case = assisted_household(world, tmp_path)          # pc1 is the household's first pairing cadre
    grant_role(world.app, world["admin"], "pc1", "township_staff", TOWNSHIP)
    relogin(world, "pc1")
    walk(world, "exit", case, until="township_review")
    assert_refused(world, RuleViolation, "duty.pairing_cadre",
                   lambda: world.step("pc1", "exit", "township_review", case, decision="approve"),
                   names=("pc1", case), cases=(case,))


# === who may act ===============================================================================

def test_wrong_role_level_cannot_sign_county_approval(world):
    case = world.household()
    walk(world, "identification", case, until="county_approval")
    assert_refused(world, AuthError, "auth.wrong_role",
                   lambda: world.step("vs", "identification", "county_approval", case, decision="approve"),
                   names=("vs", "county_office_director", "county_approval"), cases=(case,))


def test_administrator_without_step_role_cannot_sign(world):
    case = world.household()
    walk(world, "identification", case, until="county_approval")
    assert_refused(world, AuthError, "auth.wrong_role",
                   lambda: world.step("admin", "identification", "county_approval", case, decision="approve"),
                   names=("admin", "county_approval"), cases=(case,))


def test_administrator_without_step_role_cannot_attach_evidence(world):
    case = world.household()
    assert_refused(world, AuthError, "auth.wrong_role",
                   lambda: attach_evidence(world.app, world["admin"], case, "drinking_water", {"safe": True}),
                   names=("admin",), cases=(case,))


@pytest.mark.parametrize("who, until", [("vs2", "application"), ("ts_other", "township_review")])
def test_wrong_jurisdiction_cannot_act_on_another_village(world, who, until):
    case = world.household()
    walk(world, "identification", case, until=until)
    step = next(s for s in IDENTIFICATION if s.key == until)
    assert_refused(world, AuthError, "auth.jurisdiction",
                   lambda: world.step(who, "identification", until, case, **step.inputs),
                   names=(who, VILLAGE), cases=(case,))


def test_wrong_jurisdiction_cannot_attach_evidence_or_register_in_another_village(world):
    case = world.household()
    assert_refused(world, AuthError, "auth.jurisdiction",
                   lambda: attach_evidence(world.app, world["vs2"], case, "drinking_water", {"safe": True}),
                   names=("vs2", VILLAGE), cases=(case,))
    people = [MemberInput("外村户主", member_ids(1, 90)[0])]
    assert_refused(world, AuthError, "auth.jurisdiction",
                   lambda: register_household(world.app, world["vs2"], VILLAGE, people, ["illness"]),
                   names=("vs2", VILLAGE))


def _read_only_attempts(world: World, who: str, case: int, notice_id: int) -> dict[str, Callable[[], Any]]:
    actor = world[who]
    return {
        "step": lambda: world.step(who, "identification", "township_review", case, decision="approve"),
        "evidence": lambda: attach_evidence(world.app, actor, case, "drinking_water", {"safe": True}),
        "evidence replacement": lambda: attach_evidence(world.app, actor, case, "income_check",
                                                        {"year": 2018, "net_income": 1000}, replace=True,
                                                        reason="核查"),
        "household registration": lambda: register_household(
            world.app, actor, VILLAGE, [MemberInput("只读户主", member_ids(1, 91)[0])], ["illness"]),
        "relative": lambda: record_relative(world.app, actor, case, "ts1", "表兄"),
        "objection": lambda: file_objection(world.app, actor, notice_id, case, "村民", "收入不实"),
    }


@pytest.mark.parametrize("who", ["insp", "aud"])
@pytest.mark.parametrize("attempt", ["step", "evidence", "evidence replacement", "household registration",
                                     "relative", "objection"])
def test_read_only_roles_cannot_write(world, who, attempt):
    case = world.household()
    notice_id = walk(world, "identification", case, until="township_review")["first_notice"][0].notice_id
    world.on(MAR5)        # the notice is still running, so an objection would be in time
    if attempt == "step":
        world.on(MAR8)
    assert_refused(world, AuthError, "auth.read_only", _read_only_attempts(world, who, case, notice_id)[attempt],
                   names=(who,), cases=(case,))


def test_bad_token_is_refused(world):
    assert_refused(world, AuthError, "auth.bad_token", lambda: authenticate(world.app, "vs", "not-the-token"),
                   names=("vs",))
    assert_refused(world, AuthError, "auth.bad_token",
                   lambda: authenticate(world.app, "vs", world.tokens["vd"]), names=("vs",))
    assert_refused(world, AuthError, "auth.bad_token",
                   lambda: authenticate(world.app, "nobody", world.tokens["vs"]), names=("nobody",))


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token_is_refused(world, token):
    assert_refused(world, AuthError, "auth.no_token", lambda: authenticate(world.app, "vs", token),
                   names=("vs",))


# === notices and objections ====================================================================

def test_notice_shorter_than_required_is_refused(world):
    case = world.household()
    walk(world, "identification", case, until="first_notice")
    assert_refused(world, RuleViolation, "notice.short",
                   lambda: world.step("fs", "identification", "first_notice", case, days=5),
                   names=("5", "7", "household_identification"), cases=(case,))


def test_next_step_waits_until_the_notice_has_run(world):
    case = world.household()
    walk(world, "identification", case, until="township_review")       # notice 2019-03-01 .. 03-08
    world.on(MAR5)
    assert_refused(world, RuleViolation, "notice.running",
                   lambda: world.step("ts1", "identification", "township_review", case, decision="approve"),
                   names=("2019-03-08", case), cases=(case,))
    world.on(MAR20)       # even late, a step cannot be dated inside the notice
    assert_refused(world, RuleViolation, "notice.running",
                   lambda: world.step("ts1", "identification", "township_review", case, decision="approve",
                                      date=MAR5),
                   names=("2019-03-08", case), cases=(case,))


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
    assert resolve_objection(world.app, world["th"], objection, upheld=True, reason="确有轿车") == "upheld"
    with world.app.engine.connect() as conn:
        procedure = conn.execute(select(t.procedures).where(t.procedures.c.id == procedure_id)).one()
    assert procedure.status == "rejected" and "确有轿车" in procedure.outcome_reason
    row = case_row(world, case)
    assert (row.stage, row.open_procedure_id, row.pending_step) == ("candidate", None, "application")
    # The rejected procedure is over: its next step is refused, and a new identification starts afresh.
    assert_refused(world, RuleViolation, "step.order",
                   lambda: world.step("ts1", "identification", "township_review", case, decision="approve"),
                   names=("township_review", "application"), cases=(case,))
    [outcome] = world.step("vs", "identification", "application", case)
    assert outcome.procedure_id != procedure_id and case_row(world, case).stage == "candidate"


def test_objection_cannot_be_resolved_by_the_person_who_recorded_it(world):
    case = world.household()
    notice_id = walk(world, "identification", case, until="township_review")["first_notice"][0].notice_id
    world.on(MAR3)
    objection = file_objection(world.app, world["ts1"], notice_id, case, "村民张三", "家有轿车，收入不实")
    assert_refused(world, RuleViolation, "duty.own_objection",
                   lambda: resolve_objection(world.app, world["ts1"], objection, upheld=False, reason="无轿车"),
                   names=("ts1", objection), cases=(case,))


def test_objection_to_a_notice_the_procedure_has_already_passed_is_refused(world):
    """The engine let the township review proceed on the notice's end date, so the notice was over: an
    objection recorded afterwards for that date could never block anything and must not be accepted."""
    case = world.household()
    notice_id = walk(world, "identification", case, until="township_review")["first_notice"][0].notice_id
    world.step("ts1", "identification", "township_review", case, decision="approve")     # on the end date
    assert_refused(world, RuleViolation, "objection.outside_notice",
                   lambda: file_objection(world.app, world["vs"], notice_id, case, "村民张三", "收入不实"),
                   names=("2019-03-08",), cases=(case,))


# === evidence frozen by a sign-off =============================================================

def test_evidence_relied_on_by_a_signoff_is_frozen(world):
    case = world.household()
    walk(world, "identification", case, until="county_approval")    # township_review relied on income_check
    assert_refused(world, RuleViolation, "evidence.frozen",
                   lambda: attach_evidence(world.app, world["vs"], case, "income_check",
                                           {"year": 2018, "net_income": 4200}, replace=True, reason="漏报工资"),
                   names=("income_check", "township_review", "2"), cases=(case,))


def test_evidence_relied_on_by_a_signoff_replaced_with_void_signoffs_voids_it_and_later_steps(world):
    case = world.household()
    walk(world, "identification", case, until="county_approval")
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": 4200},
                    replace=True, void_signoffs=True, reason="漏报工资")
    voided = {r.step_key: r for r in step_rows(world, case) if r.voided_at is not None}
    assert set(voided) == {"township_review", "second_notice"}
    assert all("漏报工资" in r.voided_reason for r in voided.values())
    with world.app.engine.connect() as conn:
        event = conn.execute(select(t.audit_events).where(t.audit_events.c.case_id == case)
                             .order_by(t.audit_events.c.seq.desc())).first()
    assert event.action == "evidence_replaced"
    assert [v["step"] for v in event.detail["voided_steps"]] == ["township_review", "second_notice"]
    assert case_row(world, case).pending_step == "township_review"
    # The voided steps must be redone before the county may approve, by the same people if need be.
    assert_refused(world, RuleViolation, "step.order",
                   lambda: world.step("cd", "identification", "county_approval", case, decision="approve"),
                   names=("county_approval", "township_review"), cases=(case,))
    world.on(MAR8)
    world.step("ts1", "identification", "township_review", case, decision="approve")
    world.step("ts2", "identification", "second_notice", case)
    world.on(MAR15)
    world.step("cd", "identification", "county_approval", case, decision="approve")
    world.step("cs", "identification", "announcement", case)
    assert case_row(world, case).stage == "identified"


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


def test_procedure_not_allowed_from_the_stage(world):
    case = world.household()
    assert_refused(world, RuleViolation, "stage.not_allowed",
                   lambda: world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1),
                   names=("exit", "candidate", case), cases=(case,))


def test_pairing_capacity_first_cadre_cannot_pair_a_second_household(world):
    first, second = world.household(), world.household()
    world.identify([first, second])
    world.assist(first, first="pc1", second="pc2")
    assert_refused(world, RuleViolation, "pairing.capacity",
                   lambda: world.step("ts1", "assistance", "pairing", second, first_cadre="pc1", second_cadre="pc3"),
                   names=("pc1", "1", second), cases=(first, second))


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
