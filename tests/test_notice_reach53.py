"""A township's or county's notice or announcement is read by the villages it lists (s53 h2): a village's
cadres open, print and download the document that lists households (projects, poor villages) of theirs
whatever level posted it, told who posted it and how many of theirs it lists; a cadre of a village it does
not list is still refused; the village's own list of notices says it. The CLI, the API and the pages alike,
on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import AuthError
from engine.services.accounts import activate_all
from engine.services.notices import notice_printed
from engine.services.org import NewPerson, add_persons, authenticate
from tests.helpers.villages import identified_village
from tests.test_accountability import cli
from tests.world import COUNTY, TOWNSHIP, TOWNSHIP2, VILLAGE2

# the second village's cadres (the world has its secretary alone), who take its household to the county
THERE = {"vd2": ("village_director", VILLAGE2), "tl2": ("resident_team_leader", VILLAGE2),
         "tmb": ("resident_team_member", VILLAGE2), "fs2": ("first_secretary", VILLAGE2),
         "ts_other2": ("township_staff", TOWNSHIP2)}
HERE_TEAM = ("vs", "vd", "tl", "tm", "fs", "ts1", "ts2")
THERE_TEAM = ("vs2", "vd2", "tl2", "tmb", "fs2", "ts_other", "ts_other2")


def county_announcement(world) -> tuple[int, int, int]:
    """A household of VILLAGE and one of VILLAGE2 (another township), each identified up to the county's
    approval by its own village and township, then announced by the county in one CLI step: one
    announcement, posted at the county. (here, there, the announcement)"""
    tokens = activate_all(world.app, add_persons(world.app, world["admin"], [
        NewPerson(code, f"{role}-{code}", ((role, region),)) for code, (role, region) in THERE.items()]))
    world.tokens.update(tokens)
    world.actors.update({code: authenticate(world.app, code, token) for code, token in tokens.items()})
    here, there = world.household(), world.household(village=VILLAGE2, by="vs2")
    for case, (vs, vd, tl, tm, fs, review, notice) in ((here, HERE_TEAM), (there, THERE_TEAM)):
        world.on(date(2019, 3, 1))
        world.step(vs, "identification", "application", case)
        world.step(vd, "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
        world.step(tl, "identification", "village_verification", case, decision="approve", verifiers=(tm,))
        world.step(fs, "identification", "first_notice", case)
        world.on(date(2019, 3, 8))
        world.step(review, "identification", "township_review", case, decision="approve")
        world.step(notice, "identification", "second_notice", case)
        world.on(date(2019, 3, 15))
        world.step("cd", "identification", "county_approval", case, decision="approve")
    done = cli(world, "cs", "step", "identification", "announcement", here, there)
    assert done.code == 0, done.err
    with world.app.engine.connect() as conn:
        notice = conn.execute(select(t.steps.c.notice_id).where(
            t.steps.c.case_id == here, t.steps.c.step_key == "announcement")).scalar()
        region = conn.execute(select(t.notices.c.region_code).where(t.notices.c.id == notice)).scalar()
    assert region == COUNTY
    return here, there, notice


def township_notice(world) -> int:
    """The township's notice of VILLAGE's recognition as a poor village (posted at TOWNSHIP)."""
    case = identified_village(world)
    with world.app.engine.connect() as conn:
        notice = conn.execute(select(t.steps.c.notice_id).where(
            t.steps.c.case_id == case, t.steps.c.step_key == "township_notice")).scalar()
        assert conn.execute(select(t.notices.c.region_code).where(t.notices.c.id == notice)).scalar() == TOWNSHIP
    return notice


def test_a_village_secretary_reads_and_prints_the_countys_announcement_of_its_household_from_the_cli(world):
    here, there, notice = county_announcement(world)
    for who, mine in (("vs", here), ("vs2", there)):
        shown = cli(world, who, "notice", "show", notice)
        assert shown.code == 0, shown.err                   # before: refused, out of jurisdiction
        assert "由宁都县（县级）发布，列有您辖区内 1 户" in shown.out, shown.out
        assert f"  案件 {mine} " in shown.out and shown.out.count("（您辖区）") == 1
        printed = cli(world, who, "notice", "render", notice)
        assert printed.code == 0 and "贫困识别公告" in printed.out.splitlines()[0], printed.err
        english = cli(world, who, "notice", "show", notice, lang="en")
        assert "Posted by 宁都县 (county level); lists 1 of your households" in english.out, english.out
    as_json = cli(world, "vs", "notice", "show", notice, "--json")
    data = json.loads(as_json.out)
    assert data["yours"] == 1 and [c["id"] for c in data["cases"] if c.get("yours")] == [here]
    inspector = cli(world, "insp", "notice", "show", notice)        # the county's readers: as before
    assert inspector.code == 0 and "您辖区" not in inspector.out


def test_a_cadre_of_a_village_the_notice_does_not_list_is_still_refused(world):
    notice = township_notice(world)
    refused = cli(world, "vs2", "notice", "show", notice)
    assert refused.code == 1 and "auth.jurisdiction" in refused.err and "竹" not in refused.err
    with pytest.raises(AuthError):
        notice_printed(world.app, world["vs2"], notice)
    shown = cli(world, "vs", "notice", "show", notice)         # the village it lists: read, and said so
    assert shown.code == 0, shown.err
    assert "由梅江镇（乡镇级）发布，列有您辖区内 1 个村" in shown.out, shown.out
