"""Refusals (DOMAIN.md §4): every rule refuses the action, says why in both languages, writes nothing.
This part: separation of duties, roles, jurisdiction, tokens, notices.

Each test brings a case to the point where the rule applies, then calls `assert_refused`, which checks
the exception type and its code, that the Chinese and English messages are real translations naming
the thing refused, and that the database is exactly as it was before the attempt.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable

import pytest

from engine.services.case_actions import attach_evidence, file_objection, record_relative, resolve_objection
from engine.domain.errors import AuthError, BadInput, RuleViolation
from engine.services.org import authenticate, grant_role
from tests.world import TOWNSHIP, VILLAGE, World, member_ids
from workflows.household import MemberInput, register_household
from tests.helpers.refusals import IDENTIFICATION, MAR20, MAR5, MAR8, assert_refused, assisted_household, walk
from tests.helpers.refusals import snapshot  # noqa: F401 (other test modules import them from here)


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
                   lambda: world.step("tl", "identification", "village_verification", case, decision="approve", verifiers=("vs",)),
                   names=("vs", "application"), cases=(case,))


def test_relative_of_household_cannot_sign_off(world):
    case = world.household()
    record_relative(world.app, world["vs"], case, "ts3", "表兄", "村民代表会议上本人申报")
    walk(world, "identification", case, until="township_review")
    refused = assert_refused(world, RuleViolation, "duty.relative",
                             lambda: world.step("ts3", "identification", "township_review", case, decision="approve"),
                             names=("ts3",), cases=(case,))
    assert "（堂表兄弟姐妹）" in refused.render(world.app.config) and "(cousin)" in refused.render(world.app.config, "en")
    world.step("ts1", "identification", "township_review", case, decision="approve")


def test_a_relative_record_needs_a_reason_and_the_cases_own_cadres_and_can_be_taken_back(world):
    from engine.services.case_actions import remove_relative
    case = world.household()
    with pytest.raises(BadInput):
        record_relative(world.app, world["vs"], case, "ts3", "表兄", " ")
    with pytest.raises(AuthError):               # a discipline officer does no step of a household
        record_relative(world.app, world["do"], case, "ts3", "表兄", "举报")
    record_relative(world.app, world["vs"], case, "ts3", "表兄", "误记")
    walk(world, "identification", case, until="township_review")
    remove_relative(world.app, world["vs"], case, "ts3", "核实并非亲属，系同名")
    world.step("ts3", "identification", "township_review", case, decision="approve")   # may sign again
    with pytest.raises(BadInput):
        remove_relative(world.app, world["vs"], case, "ts3", "再撤一次")


def test_only_the_cases_own_cadres_attach_evidence(world):
    case = world.household()
    with pytest.raises(AuthError):
        attach_evidence(world.app, world["do"], case, "income_check", {"year": 2018, "net_income": 1.0},
                        replace=True, reason="改一下")


def test_pairing_cadre_cannot_sign_off_the_household(world, tmp_path):
    # A cadre who is both a pairing cadre in the village and township staff, paired with the household.
    case = world.paired_staff_household(tmp_path)
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
        "relative": lambda: record_relative(world.app, actor, case, "ts1", "表兄", "村民代表会议上本人申报"),
        "objection": lambda: file_objection(world.app, actor, notice_id, case, "村民", "收入不实"),
        # told read-only before anything of the notice or the objection (its dates, its resolution)
        "objection out of time": lambda: file_objection(world.app, actor, notice_id, case, "村民", "收入不实",
                                                        filed_on=date(2018, 1, 1)),
        "resolution": lambda: resolve_objection(world.app, actor, 999_999, False, "不成立"),
    }


@pytest.mark.parametrize("who", ["insp", "aud"])
@pytest.mark.parametrize("attempt", ["step", "evidence", "evidence replacement", "household registration",
                                     "relative", "objection", "objection out of time", "resolution"])
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
