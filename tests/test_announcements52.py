"""The county's announcement (公告) is a document (a7 #5): the step publishes the households approved, with
their village, head and size (never an ID number), its day and the office that issues it, kept as posted
with its digest in the log like a notice, and listed with the case's and the village's notices."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select, update

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.reads.audit_verify import verify
from engine.reads.case_record import case_detail
from engine.reads.village_lists import village_notices
from engine.services.case_actions import file_objection
from engine.services.notices import notice_printed
from tests.test_accountability import cli
from tests.world import VILLAGE


def announced_households(world) -> tuple[list[int], int]:
    """Two households identified (a village's list), and the announcement their last step posted."""
    cases = [world.household(members=3), world.household(members=1, income_2018=2000.0)]
    world.identify(cases)
    with world.app.engine.connect() as conn:
        notice = conn.execute(select(t.steps.c.notice_id).where(
            t.steps.c.case_id == cases[0], t.steps.c.step_key == "announcement")).scalar()
    return cases, notice


def heads(world, cases: list[int]) -> list[str]:
    with world.app.engine.connect() as conn:
        return [conn.execute(select(t.cases.c.title).where(t.cases.c.id == c)).scalar() for c in cases]


def test_the_identification_announcement_publishes_the_approved_households_with_its_day_and_office(world):
    cases, notice = announced_households(world)
    assert notice is not None                        # before: "公告：完成", and nothing posted
    with world.app.engine.connect() as conn:
        row = conn.execute(select(t.notices).where(t.notices.c.id == notice)).first()
        ids = list(conn.execute(select(t.household_members.c.id_number)).scalars())
    posted = row.rendered
    first, second = heads(world, cases)
    assert posted.splitlines()[0] == "洋塘村贫困识别公告"
    assert "下列农户识别为建档立卡贫困户，现予公告" in posted
    assert f"1. {first}　洋塘村　3人" in posted and f"2. {second}　洋塘村　1人" in posted
    assert "公告日期：2019-03-15" in posted and "发布单位：宁都县扶贫开发领导小组办公室" in posted
    assert "公示期" not in posted and "异议" not in posted        # an announcement runs no period
    assert not any(n in posted for n in ids) and not re.search(r"\d{15,}", posted)
    english = notice_printed(world.app, world["cs"], notice, "en")
    assert english.startswith("Announcement: identification, 洋塘村")
    assert "Date of announcement: 2019-03-15" in english
    assert "Poverty Alleviation and Development Leading Group Office of 宁都县" in english
    assert f"1. {first}, 洋塘村, 3 persons" in english


def test_the_announcement_is_listed_with_the_notices_and_takes_no_objection(world):
    cases, notice = announced_households(world)
    record = case_detail(world.app, world["vs"], cases[0])
    listed = {n["id"]: n for n in record["notices"]}
    assert listed[notice]["announcement"] and listed[notice]["last"] == "2019-03-15"
    step = next(s for p in record["procedures"] for s in p["steps"] if s["step"] == "announcement")
    assert step["notice"] == notice
    village = {n["id"]: n for n in village_notices(world.app, world["vs"], VILLAGE)}
    assert village[notice]["announcement"] and not village[min(village)]["announcement"]
    with pytest.raises(RuleViolation):
        file_objection(world.app, world["vs"], notice, cases[0], "村民甲", "不同意", date(2019, 3, 15))


def test_a_changed_announcement_is_found_by_audit_verify(world):
    _cases, notice = announced_households(world)
    assert verify(world.app).intact
    with world.app.transaction() as conn:
        conn.execute(update(t.notices).where(t.notices.c.id == notice).values(
            rendered=conn.execute(select(t.notices.c.rendered).where(t.notices.c.id == notice)).scalar()
            .replace("3人", "4人")))
    found = verify(world.app).damage
    assert [d.code for d in found] == ["notice_text_changed"], found
    assert dict(found[0].params)["notice"] == notice


def test_the_exit_announcement_is_a_document_too_and_notice_render_prints_it(world):
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case)
    world.exit(case)
    with world.app.engine.connect() as conn:
        notice = conn.execute(select(t.steps.c.notice_id).where(
            t.steps.c.case_id == case, t.steps.c.step_key == "announcement",
            t.steps.c.effective_date == date(2019, 11, 28))).scalar()
    assert notice is not None
    shown = cli(world, "insp", "notice", "render", notice)
    assert shown.code == 0, shown.err
    assert shown.out.startswith("洋塘村脱贫退出公告")
    assert "达到退出标准，于 2019 年度退出建档立卡贫困户，现予公告" in shown.out and heads(world, [case])[0] in shown.out
    assert "公告日期：2019-11-28" in shown.out
    printed = cli(world, "insp", "notice", "render", notice, "--html", str(world.app.settings.home / "公告.html"))
    assert printed.code == 0, printed.err
    html = (world.app.settings.home / "公告.html").read_text(encoding="utf-8")
    assert "<h2>洋塘村 · 脱贫退出</h2>" in html, html[:2000]      # not "… · 公告" under the title 公告
    english = cli(world, "insp", "notice", "show", notice, lang="en")
    assert english.code == 0 and "meet the exit standard" in english.out


def test_case_show_notice_show_and_trace_say_an_announcement_by_its_day(world):
    cases, notice = announced_households(world)
    shown = cli(world, "insp", "notice", "show", notice)
    assert shown.code == 0, shown.err
    assert shown.out.splitlines()[0] == f"公告 {notice}：贫困识别 / 公告，2019-03-15，村级 洋塘村"
    case = cli(world, "vs", "case", "show", cases[0])
    assert f"  公告 {notice} 公告：2019-03-15（村级）" in case.out, case.out
    trace = cli(world, "insp", "trace", cases[0])
    assert f"公告 {notice} 公告：2019-03-15" in trace.out, trace.out
    assert "须满 0 天" not in case.out + trace.out + shown.out


def to_county_approval(world) -> list[int]:
    """Two households approved by the county, their announcement still to make (2019-03-15)."""
    cases = [world.household(), world.household()]
    world.identify(cases)       # (its announcement posted: a second household list is announced below)
    more = [world.household(), world.household()]
    world.on(date(2019, 3, 1))
    world.up_to_first_notice(more)
    world.on(date(2019, 3, 8))
    world.step("ts1", "identification", "township_review", more, decision="approve")
    world.step("ts2", "identification", "second_notice", more)
    world.on(date(2019, 3, 15))
    world.step("cd", "identification", "county_approval", more, decision="approve")
    return more


def test_the_step_that_posts_the_announcement_says_it_by_its_number(world):
    cases = to_county_approval(world)
    done = cli(world, "cs", "step", "identification", "announcement", *cases)
    assert done.code == 0, done.err
    with world.app.engine.connect() as conn:
        notice = conn.execute(select(t.steps.c.notice_id).where(
            t.steps.c.case_id == cases[0], t.steps.c.step_key == "announcement")).scalar()
    assert f"，公告 {notice}" in done.out and "公示" not in done.out, done.out

