"""ID numbers "to confirm" (issue 12, a user audit's defects 3 and 4): a number registered although its
county code did not exist in its holder's birth year is kept marked on its member until the cadre
checks the card and confirms it (or corrects it); the case, its trace, the cadre's lists say so; a
member added later is warned of as a household registered is. A household a registry moved in with
its stage says so in its record."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select, update

from engine.adapters import tables as t
from engine.domain.errors import AuthError, BadInput, RuleViolation, render_text
from engine.domain.members import mask_id
from engine.reads.audit_verify import verify
from engine.reads.case_lists import list_cases
from engine.reads.case_record import case_detail
from engine.reads.oversight import activity
from engine.reads.queries import ids_to_confirm
from engine.reads.trace import case_trace
from tests.helpers.refusals import assert_refused, assisted_household, walk
from tests.world import VILLAGE, id_number, member_ids
from tests.helpers.schema import downgrade
from workflows.household import (REGISTRAR_ROLES, MemberInput, add_member, confirm_member_id, register_household,
                                 update_member)

NINGDU_1969 = id_number("36073019690315004")      # 宁都县's code since the late 1990s, born 1969: "later"
NINGDU_1971 = id_number("36073019710909004")
OLD_CODE_1969 = id_number("36213119690315004")
YUDU_1969 = id_number("36073119690315004")        # 于都县's code since 1999, born 1969: in a 宁都县 household, "later"    # the same person's number under the code of 1969: sound


def flagged_household(world) -> int:
    head, spouse = member_ids(2, 77)
    return register_household(world.app, world["vs"], VILLAGE, [MemberInput("曾老汉", NINGDU_1969, "head"),
                                                               MemberInput("钟大婶", spouse, "spouse")], ["illness"])


def marks(world, case: int) -> dict[str, str | None]:
    with world.app.engine.connect() as conn:
        return dict(conn.execute(select(t.household_members.c.name, t.household_members.c.id_check).where(
            t.household_members.c.case_id == case)).all())


def events(world, case: int, action: str) -> list[dict]:
    with world.app.engine.connect() as conn:
        return [e.detail for e in conn.execute(select(t.audit_events).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == action).order_by(t.audit_events.c.seq))]


def test_a_number_to_confirm_is_kept_on_its_member_shown_listed_and_confirmed_once(world):
    case = flagged_household(world)
    assert marks(world, case) == {"曾老汉": "later", "钟大婶": None}
    shown = {m["name"]: m["id_check"] for m in case_detail(world.app, world["vs"], case)["members"]}
    assert shown == {"曾老汉": "later", "钟大婶": None}
    # the cadre's lists: how many households, which, and `case list --id-to-confirm`
    other = world.household()
    found = ids_to_confirm(world.app, world["vs"], REGISTRAR_ROLES)
    assert found["count"] == 1 and [c["id"] for c in found["cases"]] == [case]
    assert [c["id"] for c in list_cases(world.app, world["vs"], id_to_confirm=True)] == [case]
    assert other in [c["id"] for c in list_cases(world.app, world["vs"])]
    assert ids_to_confirm(world.app, world["vs2"], REGISTRAR_ROLES)["count"] == 0     # another village's cadre
    # read-only and out of reach: refused, nothing written
    with pytest.raises(AuthError):
        confirm_member_id(world.app, world["insp"], case, NINGDU_1969)
    with pytest.raises(AuthError):
        confirm_member_id(world.app, world["vs2"], case, NINGDU_1969)
    assert marks(world, case)["曾老汉"] == "later"
    # confirmed, as typed (spaces, a lower-case x): the mark cleared, the event names member, number masked, who
    spaced = f"{NINGDU_1969[:6]} {NINGDU_1969[6:14]} {NINGDU_1969[14:].lower()}"
    assert confirm_member_id(world.app, world["vs"], case, spaced) == "曾老汉"
    assert marks(world, case)["曾老汉"] is None
    [confirmed] = events(world, case, "member_id_confirmed")
    assert {k: confirmed[k] for k in ("member", "id", "id_check")} == {"member": "曾老汉", "id": mask_id(NINGDU_1969),
                                                                       "id_check": "later"}
    assert ids_to_confirm(world.app, world["vs"], REGISTRAR_ROLES)["count"] == 0
    assert list(list_cases(world.app, world["vs"], id_to_confirm=True)) == []
    # a second confirmation, or one of a number never marked: a clear refusal
    for number in (NINGDU_1969, member_ids(2, 77)[1]):
        with pytest.raises(RuleViolation) as refused:
            confirm_member_id(world.app, world["vs"], case, number)
        assert refused.value.code == "member.id_not_to_confirm" and number not in refused.value.render(world.app.config)
    # the trace: the registration's warning and the confirmation, in words
    trace = case_trace(world.app, world["insp"], case)
    said = {e["action"]: e["lines"] for e in trace["events"]}
    assert said["case_registered"] == ["第 1 名成员的身份证号留待对照身份证原件核实（地区码与出生年份不符）"]
    assert said["member_id_confirmed"] == [f"曾老汉 的身份证号 {mask_id(NINGDU_1969)} 经核对身份证原件无误"]
    english = {e["action"]: e["lines"] for e in case_trace(world.app, world["insp"], case, "en")["events"]}
    assert english["member_id_confirmed"] == [f"曾老汉's ID number {mask_id(NINGDU_1969)} checked against the ID card: right"]
    assert trace["integrity"]["intact"] and verify(world.app, processes=1).intact


def test_a_member_added_with_such_a_number_is_warned_of_and_marked(world):
    case = world.household()
    warning = add_member(world.app, world["vs"], case, MemberInput("钟大伯", f"{NINGDU_1971[:6]} {NINGDU_1971[6:]}",
                                                                 "other"), "迁回")
    assert warning is not None and warning.key == "warning.member_id_county_later"
    zh = render_text(world.app.config, warning.key, warning.params, "zh")
    assert "地区码 360730 在其出生年份尚未设立" in zh and "钟大伯" not in zh and NINGDU_1971 not in zh
    assert "did not yet exist" in render_text(world.app.config, warning.key, warning.params, "en")
    assert marks(world, case)["钟大伯"] == "later"
    assert events(world, case, "member_added")[0]["id_to_confirm"] == "later"
    sound = add_member(world.app, world["vs"], case, MemberInput("新生儿", id_number("36073020190501001"), "child"),
                       "出生")
    assert sound is None and marks(world, case)["新生儿"] is None


def test_a_wrong_number_is_corrected_checked_as_at_registration_and_judged_afresh(world):
    case = flagged_household(world)
    other = world.household()
    with world.app.engine.connect() as conn:
        registered = conn.execute(select(t.household_members.c.id_number).where(
            t.household_members.c.case_id == other)).scalars().all()
    before = events(world, case, "member_updated")
    # refused as at registration: a wrong check digit, an impossible date, another household's member
    wrong = OLD_CODE_1969[:-1] + ("0" if OLD_CODE_1969[-1] != "0" else "1")
    for number, code in ((wrong, "member.bad_id"), (id_number("36213130190315004"), "member.impossible_age"),
                         (registered[0], "member.already_registered")):
        with pytest.raises((BadInput, RuleViolation)) as refused:
            update_member(world.app, world["vs"], case, NINGDU_1969, {"id_number": number}, "按身份证原件更正")
        assert refused.value.code == code
    assert events(world, case, "member_updated") == before and marks(world, case)["曾老汉"] == "later"
    # corrected (typed with spaces): stored compact, the mark judged afresh (none), the event masked
    typed = f"{OLD_CODE_1969[:6]} {OLD_CODE_1969[6:14]} {OLD_CODE_1969[14:]}"
    assert update_member(world.app, world["vs"], case, NINGDU_1969, {"身份证号": typed}, "按身份证原件更正") is None
    with world.app.engine.connect() as conn:
        row = conn.execute(select(t.household_members).where(t.household_members.c.case_id == case,
                                                             t.household_members.c.name == "曾老汉")).one()
    assert (row.id_number, row.id_check) == (OLD_CODE_1969, None)
    [changed] = events(world, case, "member_updated")
    assert changed["old"] == {"id_number": mask_id(NINGDU_1969)} and changed["new"] == {"id_number": mask_id(OLD_CODE_1969)}
    assert NINGDU_1969 not in json.dumps(changed) and OLD_CODE_1969 not in json.dumps(changed)
    [registered_event] = events(world, case, "case_registered")
    assert changed["members_digest"] != registered_event["members_digest"]
    said = [e["lines"] for e in case_trace(world.app, world["insp"], case)["events"] if e["action"] == "member_updated"]
    assert said == [[f"曾老汉：身份证号 {mask_id(NINGDU_1969)} → {mask_id(OLD_CODE_1969)}"]]
    # corrected to a number whose code asks for the card again: marked again, and said so
    warning = update_member(world.app, world["vs"], case, OLD_CODE_1969, {"id_number": NINGDU_1971}, "再次更正")
    assert warning.key == "warning.member_id_county_later" and marks(world, case)["曾老汉"] == "later"
    assert verify(world.app, processes=1).intact


def test_correcting_a_number_a_step_relied_on_voids_it_only_when_confirmed(world, tmp_path):
    """An ID number is the member's identity, and the exit standard reads ages from it: the proposal
    held to it is voided by a correction only when the cadre agrees (as for the member's schooling)."""
    case = assisted_household(world, tmp_path, school_age_child="enrolled", income_2019=15000)
    walk(world, "exit", case, until="verification")
    with world.app.engine.connect() as conn:
        child = conn.execute(select(t.household_members.c.id_number).where(
            t.household_members.c.case_id == case, t.household_members.c.relation == "child")).scalar_one()
    right = id_number("36073020100607001")
    assert_refused(world, RuleViolation, "facts.frozen",
                   lambda: update_member(world.app, world["vs"], case, child, {"id_number": right}, "按身份证原件更正"),
                   names=("proposal", "1"), cases=(case,))
    update_member(world.app, world["vs"], case, child, {"id_number": right}, "按身份证原件更正", void_signoffs=True)
    with world.app.engine.connect() as conn:
        voided = conn.execute(select(t.steps.c.step_key).where(t.steps.c.case_id == case,
                                                               t.steps.c.voided_at.is_not(None))).scalars().all()
    assert voided == ["proposal"]


def test_a_registry_import_marks_its_numbers_and_a_household_moved_in_says_from_which_file(world):
    from workflows.household_import import ListedHousehold, import_households
    spouse = member_ids(2, 901)[1]
    listed = ListedHousehold("E1", VILLAGE, [(2, MemberInput("迁入", YUDU_1969, "head")),
                                             (3, MemberInput("配偶", spouse, "spouse"))],
                             ["illness"], code="E1", stage="已脱贫（2018年）")
    warned = []
    import_households(world.app, world["cd"], [listed], keep_good=False,
                      source={"file": "户籍名单.csv", "sha256": "ab" * 32},
                      on_problem=lambda *problem: None, on_skipped=lambda h: None,
                      on_warning=lambda *w: warned.append(w))
    with world.app.engine.connect() as conn:
        case = conn.execute(select(t.cases.c.id).where(t.cases.c.external_code == "E1")).scalar()
    assert marks(world, case) == {"迁入": "later", "配偶": None} and warned
    expected = ["由名单文件 户籍名单.csv（SHA-256 abababababababab）直接登记为「已脱贫」", "脱贫年度：2018",
                "第 1 名成员的身份证号留待对照身份证原件核实（地区码与出生年份不符）"]
    trace = case_trace(world.app, world["insp"], case)
    assert [e["lines"] for e in trace["events"] if e["action"] == "case_registered"] == [expected]
    shown = case_detail(world.app, world["cd"], case)["registered"]
    assert shown["lines"] == expected and shown["person"] == "cd"
    assert shown["source"] == {"file": "户籍名单.csv", "sha256": "ab" * 32}
    english = case_detail(world.app, world["cd"], case, lang="en")["registered"]["lines"]
    assert english[0] == "registered as exited poverty from the list file 户籍名单.csv (SHA-256 abababababababab)"
    # the import's own entry in the activity log: households by the stage they start in
    [entry] = [e for e in activity(world.app, world["insp"], action="households_imported")["events"]]
    assert ("stages", [["exited", "1"]]) in entry["detail"]


def test_a_case_registered_by_hand_says_who_registered_it_and_nothing_of_a_file(world):
    case = world.household()
    shown = case_detail(world.app, world["vs"], case)["registered"]
    assert (shown["action"], shown["person"], shown["lines"], shown["source"]) == ("case_registered", "vs", [], None)


def test_migration_0020_marks_the_numbers_registered_before_it(world):
    import migrations
    case = flagged_household(world)
    downgrade(world.app.engine, "0019")
    migrations.upgrade(world.app.engine)
    assert marks(world, case) == {"曾老汉": "later", "钟大婶": None}
    with world.app.engine.begin() as conn:        # a number confirmed stays so: the mark is the row's own
        conn.execute(update(t.household_members).where(t.household_members.c.case_id == case).values(id_check=None))
    assert ids_to_confirm(world.app, world["vs"], REGISTRAR_ROLES)["count"] == 0
