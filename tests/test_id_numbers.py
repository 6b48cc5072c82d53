"""ID numbers as they really are (issue 12): the check digit, the birth date and a county code that
existed at some time are required; a county code younger than its holder is a warning for the cadre
to confirm, never a refusal (python-stdnum's `ric.validate` refuses it)."""
from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import VILLAGE
from engine.domain.members import mask_id
from workflows.household_codes import checked_id, county_code_to_confirm


def with_check_digit(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


NINGDU_1969 = with_check_digit("36073019690315004")      # 宁都县's code since the late 1990s, born 1969


def test_a_county_code_younger_than_its_holder_is_accepted_and_flagged():
    with pytest.raises(ValidationError):
        ric.validate(NINGDU_1969)                           # what python-stdnum says
    assert checked_id(NINGDU_1969) == NINGDU_1969
    assert county_code_to_confirm(NINGDU_1969) == "later"
    born_later = with_check_digit("36073020010315004")
    assert checked_id(born_later) == born_later and county_code_to_confirm(born_later) is None


@pytest.mark.parametrize("number", [with_check_digit("99010119690315004"),     # a code that never existed
                                    with_check_digit("36219919710101050"),     # a known province, no such county
                                    with_check_digit("36073019691315004"),     # month 13
                                    NINGDU_1969[:-1] + ("0" if NINGDU_1969[-1] != "0" else "1")])  # check digit
def test_what_cannot_be_a_number_is_still_refused(number):
    with pytest.raises(ValidationError):
        checked_id(number)


COUNTIES = ["110101", "360730", "360721", "440305", "510104", "620102"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(COUNTIES), st.dates(date(1920, 1, 1), date(2019, 12, 31)), st.integers(0, 999))
def test_every_sound_number_is_accepted_and_flagged_only_when_stdnum_refuses_its_county(county, born, seq):
    number = with_check_digit(f"{county}{born:%Y%m%d}{seq:03d}")
    assert checked_id(number) == number
    try:
        ric.validate(number)
        stdnum_accepts = True
    except ValidationError:
        stdnum_accepts = False
    assert (county_code_to_confirm(number) is not None) == (not stdnum_accepts)


def test_household_add_registers_the_household_and_asks_the_cadre_to_confirm(home):  # noqa: F811
    result = home("vs", "household", "add", "--village", VILLAGE, "--member", f"曾老汉,{NINGDU_1969}",
                  "--cause", "因病")
    assert result.code == 0, result.err
    assert "请核实" in result.err and "第 1 户第 1 名成员" in result.err and "360730" in result.err
    assert "曾老汉" not in result.err and NINGDU_1969 not in result.err      # no personal data on the terminal
    case_id = int(result.out.strip().splitlines()[-1])
    with sqlite3.connect(home.db) as conn:
        detail = conn.execute("SELECT detail FROM audit_events WHERE case_id = ? AND action = 'case_registered'",
                              (case_id,)).fetchone()[0]
    assert json.loads(detail)["ids_to_confirm"] == [1]


def test_a_number_whose_county_code_never_existed_is_refused_on_the_command_line(home):  # noqa: F811
    never = with_check_digit("99010119690315004")
    before = home.snapshot()
    result = home("vs", "household", "add", "--village", VILLAGE, "--member", f"赵四,{never}", "--cause", "因病")
    assert result.code == 2 and "从未设立" in result.err
    assert home.snapshot() == before


def test_a_code_abolished_before_its_holder_was_born_is_flagged_as_abolished(home):  # noqa: F811
    born_2010 = with_check_digit("36213120100315004")         # 362131: 宁都县 until 1998
    assert checked_id(born_2010) == born_2010 and county_code_to_confirm(born_2010) == "abolished"
    result = home("vs", "household", "add", "--village", VILLAGE, "--member", f"曾小妹,{born_2010}", "--cause", "因病")
    assert result.code == 0, result.err
    assert "已撤销" in result.err and "尚未设立" not in result.err


def test_a_refused_number_is_told_without_the_name_or_the_whole_number(home):  # noqa: F811
    wrong = NINGDU_1969[:-1] + ("0" if NINGDU_1969[-1] != "0" else "1")
    result = home("vs", "household", "add", "--village", VILLAGE, "--member", f"钱小花,{wrong}", "--cause", "因病")
    assert result.code == 2 and "校验码" in result.err
    assert mask_id(wrong) in result.err and wrong not in result.err and "钱小花" not in result.err
    assert mask_id(wrong) == "360730********" + wrong[-4:]


def test_an_unknown_county_of_a_known_province_is_a_row_error_not_a_crash(home, tmp_path):  # noqa: F811
    unknown = with_check_digit("36219919710101050")
    sheet = tmp_path / "list.csv"
    sheet.write_text("户编号,村编码,姓名,身份证号,与户主关系\n"
                     f"H1,{VILLAGE},户主甲,{unknown},户主\n", encoding="utf-8")
    before = home.snapshot()
    result = home("vs", "household", "import", str(sheet))
    assert result.code == 2 and "Traceback" not in result.err
    assert "第 2 行" in result.err and "从未设立" in result.err and unknown not in result.err
    assert home.snapshot() == before


def test_dates_near_today_are_fine():
    today = date.today() - timedelta(days=1)
    number = with_check_digit(f"110101{today:%Y%m%d}001")
    assert checked_id(number) == number


def test_a_registry_sized_list_of_id_numbers_is_checked_in_batches(world):
    """300,000 members in one file once failed with "too many SQL variables" (one parameter each)."""
    from workflows.household import refuse_registered_ids
    numbers = [with_check_digit(f"110101{1950 + i % 60}0101{i % 1000:03d}") for i in range(40_000)]
    with world.app.transaction() as conn:
        refuse_registered_ids(conn, world["vs"], numbers)  # none registered: no refusal, and no error


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789X ", min_size=0, max_size=20))
def test_whatever_python_stdnum_accepts_is_accepted_the_same(text):
    try:
        expected = ric.validate(text)
    except ValidationError:
        return
    assert checked_id(text) == expected and county_code_to_confirm(expected) is None


def test_a_number_to_confirm_is_found_again_confirmed_or_corrected_on_the_command_line(home):  # noqa: F811
    """A user audit (defects 3 and 4): after `household add`'s warning nothing kept it, member-add gave
    none, and a wrong number could not be corrected (「成员没有字段 身份证号」)."""
    added = home("vs", "household", "add", "--village", VILLAGE, "--member", f"曾老汉,{NINGDU_1969}",
                 "--cause", "因病")
    case = int(added.out.strip().splitlines()[-1])
    assert f"household id-confirm {case}" in added.err
    shown = home.ok("vs", "case", "show", case).out
    assert "待核实身份证号：曾老汉（360730" in shown and "地区码在其出生年份尚未设立" in shown
    assert f"household id-confirm {case}" in shown
    listed = home.ok("vs", "case", "list", "--id-to-confirm").out
    assert f"{case}\t曾老汉" in listed and listed.count("\n") == 3         # header, the one case, the count
    # a member added with such a number is warned of as a household registered is
    uncle = with_check_digit("36073019710909004")
    warned = home("vs", "household", "member-add", case, f"钟大伯,{uncle[:6]} {uncle[6:]},其他", "--reason", "迁回")
    assert warned.code == 0 and "请核实：该成员的身份证号地区码 360730 在其出生年份尚未设立" in warned.err
    assert "钟大伯" not in warned.err and uncle not in warned.err
    # confirmed; a second time is refused, saying why
    done = home("vs", "household", "id-confirm", case, NINGDU_1969)
    assert done.code == 0 and f"案件 {case}：已记下 曾老汉 的身份证号经核对原件无误" in done.out
    again = home("vs", "household", "id-confirm", case, NINGDU_1969)
    assert again.code != 0 and "没有待核实的事项" in again.err and NINGDU_1969 not in again.err
    assert home("insp", "household", "id-confirm", case, uncle).code != 0          # read-only
    # the uncle's number was wrong on the card: corrected, checked, judged afresh
    right = with_check_digit("36213119710909004")
    fixed = home("vs", "household", "member-update", case, uncle, "--set", f"id_number={right}", "--reason", "按身份证更正")
    assert fixed.code == 0, fixed.err
    assert "待核实身份证号" not in home.ok("vs", "case", "show", case).out
    assert home.ok("vs", "case", "list", "--id-to-confirm").out.count("\n") == 2
    trace = home.ok("insp", "trace", case).out
    assert "第 1 名成员的身份证号留待对照身份证原件核实" in trace
    assert f"曾老汉 的身份证号 {mask_id(NINGDU_1969)} 经核对身份证原件无误" in trace
    assert f"钟大伯：身份证号 {mask_id(uncle)} → {mask_id(right)}" in trace and right not in trace
    assert home("insp", "audit", "verify").code == 0


@given(st.text(alphabet="0123456789Xx ", min_size=0, max_size=400))
def test_a_masked_number_shows_its_county_code_and_last_four_and_never_runs_on(number):
    """A number as an error shows it: its first six and last four characters around at most 12 stars
    (a number pasted twice, or a cell's whole text, printed 300 characters of stars), the rest hidden."""
    compact = "".join(number.split())
    shown = mask_id(number)
    assert len(shown) <= 22 and set(shown[6:-4] if len(compact) >= 12 else shown) <= {"*"}
    if len(compact) >= 12:
        assert shown[:6] == compact[:6] and shown[-4:] == compact[-4:]
    if 12 <= len(compact) <= 22:
        assert len(shown) == len(compact)          # a number of a sane length keeps its length
