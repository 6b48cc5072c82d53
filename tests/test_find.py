"""A household found from what a cadre has at hand — a member's name, an ID number as typed, a household
code, a case number — within their jurisdiction only (`case find`, the 查找 page, the API)."""
from __future__ import annotations

import pytest

from engine.domain.errors import BadInput
from engine.reads.find import find_cases
from tests.test_cli import jingzhun
from tests.world import VILLAGE, VILLAGE2, id_number, member_ids
from workflows.household import MemberInput, register_household


def _title(world, case: int) -> str:
    from sqlalchemy import select
    from engine.adapters import tables as t
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.cases.c.title).where(t.cases.c.id == case)).scalar_one()


def _ids(found) -> list[int]:
    return [c["id"] for c in found["cases"]]


def test_a_member_is_found_by_name_by_id_number_as_typed_and_by_case_number(world):
    case = world.household(members=3)
    from sqlalchemy import select
    from engine.adapters import tables as t
    with world.app.engine.connect() as conn:
        spouse = conn.execute(select(t.household_members.c.name, t.household_members.c.id_number).where(
            t.household_members.c.case_id == case, t.household_members.c.relation == "spouse")).one()
    by_name = find_cases(world.app, world["vs"], spouse.name)        # not the head: any member
    assert _ids(by_name) == [case] and by_name["by"] == "name"
    member, = by_name["cases"][0]["members"]
    assert (member["name"], member["relation"], member["active"]) == (spouse.name, "spouse", True)
    assert member["id_number"] == spouse.id_number[:6] + "*" * 8 + spouse.id_number[-4:]    # never whole
    typed = " ".join(spouse.id_number[i:i + 4] for i in range(0, 18, 4)).lower()
    wide = typed.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})             # full-width digits
    for query in (spouse.id_number, typed, wide):
        found = find_cases(world.app, world["vs"], query)
        assert (found["by"], _ids(found)) == ("id_number", [case]), query
        assert spouse.id_number not in str(found)
    assert _ids(find_cases(world.app, world["vs"], f"#{case}")) == [case]
    assert _ids(find_cases(world.app, world["vs"], str(case))) == [case]
    head = find_cases(world.app, world["vs"], _title(world, case)[:2])     # its start: the heads so named
    assert case in _ids(head)


def test_only_the_readers_jurisdiction_is_searched(world):
    ours = world.household()
    theirs = register_household(world.app, world["vs2"], VILLAGE2, [
        MemberInput("同名同姓", id_number("36073019800101001"), "head")], ["illness"])
    mine = register_household(world.app, world["vs"], VILLAGE, [
        MemberInput("同名同姓", id_number("36073019810101001"), "head")], ["illness"])
    assert _ids(find_cases(world.app, world["vs"], "同名同姓")) == [mine]
    assert _ids(find_cases(world.app, world["vs2"], "同名同姓")) == [theirs]
    assert _ids(find_cases(world.app, world["th"], "同名同姓")) == [mine]         # its township's alone
    assert _ids(find_cases(world.app, world["cd"], "同名同姓")) == [mine, theirs]   # the county's: newest first
    assert _ids(find_cases(world.app, world["vs"], f"#{theirs}")) == []             # another village's number
    assert _ids(find_cases(world.app, world["vs"], id_number("36073019800101001"))) == []
    assert ours not in _ids(find_cases(world.app, world["vs2"], f"#{ours}"))


def test_a_household_code_finds_its_household(world):
    from workflows.household_import import ListedHousehold, import_households
    head, = member_ids(1, 777)
    listed = ListedHousehold("3607301002010077", VILLAGE, [(2, MemberInput("编码户主", head, "head"))], ["illness"],
                             code="3607301002010077")
    case = import_households(world.app, world["cd"], [listed], keep_good=False, source={"file": "c.csv"},
                             on_problem=lambda *problem: None, on_skipped=lambda h: None).first_case
    found = find_cases(world.app, world["vs"], "3607 3010 0201 0077")
    assert (found["by"], _ids(found), found["cases"][0]["household_code"]) == ("household_code", [case],
                                                                               "3607301002010077")


@pytest.mark.parametrize("query, code", [("", "find.empty"), ("   ", "find.empty"), ("x" * 41, "find.too_long")])
def test_nothing_or_too_much_to_look_for_is_refused_in_words(world, query, code):
    with pytest.raises(BadInput) as refused:
        find_cases(world.app, world["vs"], query)
    assert refused.value.code == code


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_case_find_on_the_command_line(world):
    case = world.household()
    title = _title(world, case)
    done = jingzhun(["--home", world.app.settings.home, "--as", "vs", "case", "find", title], token=world.tokens["vs"])
    assert done.code == 0, done.err
    assert str(case) in done.out and f"姓名「{title}」：找到" in done.out
    none = jingzhun(["--home", world.app.settings.home, "--as", "vs", "--lang", "en", "case", "find", "无此人"],
                    token=world.tokens["vs"])
    assert none.code == 0 and "0 households found" in none.out
    empty = jingzhun(["--home", world.app.settings.home, "--as", "vs", "case", "find", " "], token=world.tokens["vs"])
    assert empty.code != 0 and "请输入要查找的" in empty.err and "Traceback" not in empty.err
