"""Identification paperwork printed from the record (a7 #5): a household's application form (贫困户申请书) and
the village meeting's appraisal result (民主评议结果), each with its lines to sign, by the CLI and the API."""
from __future__ import annotations

import re
from datetime import date

import pytest

from engine.domain.errors import BadInput
from engine.reads.paperwork import application_form, appraisal_result, render_paper
from tests.test_accountability import cli
from tests.test_announcements52 import heads


def text_of(page: str) -> str:
    """A page's words, its tags and spaces taken out."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", page))


def test_the_application_form_is_filled_in_from_the_record_with_a_line_to_sign(world, tmp_path):
    case = world.household(members=2)
    written = tmp_path / "form.html"
    before = cli(world, "vs", "household", "application-form", case, "--html", written)
    assert before.code == 0, before.err                 # before: no such command, the village typed it by hand
    page = text_of(written.read_text(encoding="utf-8"))
    head = heads(world, [case])[0]
    assert "贫困户申请书" in page and head in page and "宁都县梅江镇洋塘村" in page and "2人" in page
    assert "致贫原因因病" in page                          # the causes as registered
    assert "2018年家庭纯收入4,000元，人均纯收入2,000元（当年扶贫标准" in page
    assert f"申请人（{head}）签字或按手印：" in page and "申请日期：2019-01-10" in page
    assert "村民委员会（盖章）：" in page
    assert not re.search(r"\d{15,}", page)             # ID numbers partly hidden, as on the case page
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    after = text_of(render_paper(world.app, "application_form.html", application_form(world.app, world["vs"], case)))
    assert f"村委会受理人：{world['vs'].name}（村党支部书记）受理日期：2019-03-01" in after
    english = text_of(render_paper(world.app, "application_form.html",
                                   application_form(world.app, world["vs"], case, "en"), "en"))
    assert "Applicationtoberegisteredasapoorhousehold" in english and "Dateofapplication:2019-01-10" in english


def test_the_appraisal_result_lists_the_meetings_households_and_their_votes(world, tmp_path):
    passed = [world.household(), world.household()]
    failed = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", passed + [failed])
    world.step("vd", "identification", "appraisal", passed, attendance=40, votes_for=35, votes_against=2)
    world.on(date(2019, 3, 2))
    world.step("vd", "identification", "appraisal", failed, attendance=30, votes_for=10, votes_against=18)
    result = appraisal_result(world.app, world["vs"], passed[1])
    assert [h["id"] for h in result["households"]] == passed          # that meeting's, not the next day's
    assert result["date"] == "2019-03-01" and result["one_vote"] == (40, 35, 2)
    written = tmp_path / "result.html"
    shown = cli(world, "vs", "household", "appraisal-result", passed[0], "--html", written)
    assert shown.code == 0, shown.err
    page = text_of(written.read_text(encoding="utf-8"))
    first, second = heads(world, passed)
    assert "民主评议结果" in page and "会议日期2019-03-01" in page and "到会人数40人" in page
    assert "贫困识别·民主评议" in page and "赞成票超过到会人数的" in page
    assert f"1{first}240352通过" in page and f"2{second}240352通过" in page
    for line in ("会议主持人签字：", "记录人签字：", "参会村民代表签字：", "村党组织（盖章）："):
        assert line in page
    assert "与会议记录一并存入村级档案" in page and "申请人" not in page
    other = text_of(render_paper(world.app, "appraisal_result.html", appraisal_result(world.app, world["vs"], failed)))
    assert "会议日期2019-03-02" in other and "301018未通过" in other and first not in other


def test_a_household_never_appraised_has_no_result_to_print(world, tmp_path):
    case = world.household()
    with pytest.raises(BadInput) as refused:
        appraisal_result(world.app, world["vs"], case)
    assert refused.value.code == "paperwork.not_appraised"
    shown = cli(world, "vs", "household", "appraisal-result", case, "--html", tmp_path / "x.html")
    assert shown.code == 2 and "尚未经过民主评议" in shown.err and not (tmp_path / "x.html").exists()
    assert cli(world, "vs2", "household", "application-form", case, "--html", tmp_path / "y.html").code != 0
