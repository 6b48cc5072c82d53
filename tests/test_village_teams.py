"""Poor villages (贫困村): the resident work team, the approver level from configuration, industry
coverage (产业带动率) and the command line.

The world (tests/world.py) is Ningdu county, Jiangxi: 洋塘村 (VILLAGE) has a person for every village
post. Jiangxi is not a western province: a village exits below 2% and its county approves.
"""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import event, func, insert, select

from engine.adapters import tables as t
from engine.domain.auth import Actor
from engine.services.case_actions import attach_evidence
from engine.domain.errors import AuthError
from engine.reads.indicators import coverage_report
from engine.services.org import NewPerson, add_persons, add_regions, grant_role, load_actor
from engine.reads.queries import next_for
from tests.world import CITY, COUNTY, VILLAGE, World, scan_file
from workflows.village import TeamMemberInput, register_village, set_team
from tests.helpers.villages import (CHECKLIST, PROFILE, TEAM, assisted_village, figures, identified_village,
                                    refused)
from tests.helpers.db_option import db_option


# --- the resident work team --------------------------------------------------------------------

@pytest.mark.parametrize("members, end, code", [
    (TEAM[:2], date(2021, 1, 20), "village.team_too_small"),
    ((TeamMemberInput("tl", "leader", "县财政局"), TeamMemberInput("tm", "member", "县林业局"),
      TeamMemberInput("tm2", "member", "县水利局")), date(2021, 1, 20), "village.team_first_secretary"),
    (TEAM, date(2021, 1, 19), "village.team_term_short"),
    (TEAM[:2] + (TeamMemberInput("vs", "member", "村委"),), date(2021, 1, 20), "village.team_post"),
])
def test_a_work_team_needs_three_people_a_first_secretary_and_two_year_terms(world, members, end, code):
    village = identified_village(world)
    world.on(date(2019, 1, 20))
    refused(world, code, lambda: set_team(world.app, world["tsec"], village, members, date(2019, 1, 20), end),
            village)


def test_the_team_is_checked_at_the_assistance_signoff_and_rotates_keeping_its_history(world, tmp_path):
    village = identified_village(world)
    world.on(date(2019, 1, 20))
    plan = scan_file(tmp_path / "plan.pdf", "plan")
    attach_evidence(world.app, world["fs"], village, "village_plan", {"drawn_up_on": "2019-01-20", "summary": "x"},
                    plan)
    error = refused(world, "check.team_in_place",
                    lambda: world.step("fs", "village_assistance", "village_plan", village), village)
    assert [c for c, _ in error.params["failures"]] == ["village_team_too_small", "village_team_no_first_secretary"]
    refused(world, "auth.wrong_role",
            lambda: set_team(world.app, world["fs"], village, TEAM, date(2019, 1, 20), date(2021, 1, 20)), village,
            error=AuthError)
    set_team(world.app, world["tsec"], village, TEAM, date(2019, 1, 20), date(2021, 1, 20))
    world.step("fs", "village_assistance", "village_plan", village)
    world.step("th", "village_assistance", "plan_approval", village, decision="approve")
    world.on(date(2019, 6, 1))                               # tm recalled (召回), tm2 sent instead
    done = set_team(world.app, world["tsec"], village, TEAM[:2] + (TeamMemberInput("tm2", "member", "县水利局"),),
                    date(2019, 6, 1), date(2021, 6, 1), "召回调整")
    assert done["left"] == [["tm", "member", "2019-06-01"]] and done["joined"][0][:2] == ["tm2", "member"]
    with world.app.engine.connect() as conn:
        rows = conn.execute(select(t.persons.c.code, t.village_team.c.left_on).join(
            t.persons, t.persons.c.id == t.village_team.c.person_id).order_by(t.village_team.c.id)).all()
    assert [(r.code, r.left_on) for r in rows] == [("fs", None), ("tl", None), ("tm", date(2019, 6, 1)),
                                                   ("tm2", None)]
    assert [m["person"] for m in figures(world, village)["team"]] == ["fs", "tl", "tm2"]
    world.on(date(2021, 3, 1))      # fs and tl's terms ended on 2021-01-20: the same team renewed for two years
    renewed = set_team(world.app, world["tsec"], village, TEAM[:2] + (TeamMemberInput("tm2", "member", "县水利局"),),
                       date(2021, 3, 1), date(2023, 3, 1), "期满续任")
    assert sorted(j[0] for j in renewed["joined"]) == ["fs", "tl"] and sorted(x[0] for x in renewed["left"]) == ["fs", "tl"]
    assert [m["person"] for m in figures(world, village)["team"]] == ["tm2", "fs", "tl"]


def test_a_team_whose_terms_ended_is_said_to_have_ended_not_to_be_awaited(world, tmp_path):
    village = assisted_village(world, tmp_path)                 # fs, tl, tm from 2019-01-20 to 2021-01-20
    assert "resident work team of 3" in "\n".join(figures(world, village)["lines"])
    world.on(date(2026, 12, 6))
    assert "the resident work team's term ended on 2021-01-20; no team is in post" in figures(world, village)["lines"]
    zh = figures(world, village, "zh")["lines"]
    assert "驻村工作队任期已于 2021-01-20 届满，目前没有在岗的工作队" in zh and "尚无在岗的驻村工作队" not in zh
    assert figures(world, village)["team"] == []


def test_the_village_exit_names_the_work_team_and_the_leaders_responsible(world, tmp_path):
    village = assisted_village(world, tmp_path)
    world.on(date(2019, 12, 2))
    attach_evidence(world.app, world["vs"], village, "village_exit_checklist", CHECKLIST)
    world.step("vs", "village_exit", "exit_application", village)
    world.step("ts1", "village_exit", "township_notice", village)
    world.on(date(2019, 12, 9))
    world.step("cd", "village_exit", "exit_approval", village, decision="approve")
    world.step("cs", "village_exit", "announcement", village)
    with world.app.engine.connect() as conn:
        rows = conn.execute(select(t.responsibilities.c.type, t.responsibilities.c.person_code,
                                   t.responsibilities.c.basis, t.responsibilities.c.role).where(
            t.responsibilities.c.case_id == village, t.responsibilities.c.procedure_kind == "village_exit")).all()
    named = {(r.type, r.person_code, r.basis) for r in rows}
    assert {("direct", "fs", "team:first_secretary"), ("direct", "tl", "team:leader"),
            ("direct", "tm", "team:member")} <= named
    assert {("direct", code, f"step:{s}") for code, s in (("vs", "exit_application"), ("ts1", "township_notice"),
                                                          ("cd", "exit_approval"), ("cs", "announcement"))} <= named
    assert {(t_, c) for t_, c, _ in named if t_ == "main_leadership"} == {
        ("main_leadership", "csec"), ("main_leadership", "ch"), ("main_leadership", "tsec")}
    assert {c for t_, c, _ in named if t_ == "important_leadership"} == {"cl"}
    assert {r.role for r in rows if r.basis.startswith("team:")} == {"first_secretary", "resident_team_leader",
                                                                    "resident_team_member"}
    world.on(date(2020, 1, 10))                              # 四个不摘: the team stays, the transition period starts
    world.step("ts2", "village_consolidation", "enrolment", village)
    assert world.step("cs", "village_consolidation", "county_filing", village, decision="approve")[0].to_stage \
        == "consolidated"
    with world.app.engine.connect() as conn:
        attrs = conn.execute(select(t.cases.c.attrs).where(t.cases.c.id == village)).scalar()
    assert (attrs["exited_on"], attrs["transition_until"]) == ("2019-12-09", "2024-12-09")


# --- the approver level is configuration --------------------------------------------------------

def _people(world: World, specs: dict[str, tuple[str, str]]) -> dict[str, Actor]:
    """Persons without tokens (no scrypt), acting through actors loaded from the database."""
    add_persons(world.app, world["admin"], [NewPerson(code, f"{role}-{code}", ((role, region),), enrol=False)
                                            for code, (role, region) in specs.items()])
    with world.app.engine.connect() as conn:
        return {code: load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).one())
                for code in specs}


def test_a_jiangxi_village_exit_is_approved_by_the_county_not_the_city(world, tmp_path):
    village = assisted_village(world, tmp_path)
    city = _people(world, {"city1": ("city_office_staff", CITY)})["city1"]
    world.on(date(2019, 12, 2))
    attach_evidence(world.app, world["vs"], village, "village_exit_checklist", CHECKLIST)
    world.step("vs", "village_exit", "exit_application", village)
    world.step("ts1", "village_exit", "township_notice", village)
    world.on(date(2019, 12, 9))
    nxt = next_for(world.app, world["insp"], village)["next"]
    assert nxt["roles"] == ["county_office_director", "county_head"]
    assert {e["person"] for e in nxt["eligible"]} == {"cd", "ch"}
    from engine.domain.cases import StepInput
    from engine.services.procedures import perform_step
    error = refused(world, "step.approver_level", lambda: perform_step(
        world.app, city, "village_exit", "exit_approval", [village], StepInput(decision="approve")), village)
    assert "county" in error.render(world.app.config, "en")


def test_a_shaanxi_village_exit_is_approved_by_the_city_under_the_western_threshold(world, tmp_path):
    p, ci, co, tw, vi = "610000000000", "610500000000", "610526000000", "610526100000", "610526100201"
    add_regions(world.app, world["admin"], [(p, "陕西省"), (ci, "渭南市"), (co, "蒲城县"), (tw, "城关镇"), (vi, "东村")])
    who = _people(world, {
        "sn_vs": ("village_secretary", vi), "sn_fs": ("first_secretary", vi), "sn_tl": ("resident_team_leader", vi),
        "sn_tm": ("resident_team_member", vi), "sn_ts1": ("township_staff", tw), "sn_ts2": ("township_staff", tw),
        "sn_th": ("township_head", tw), "sn_tsec": ("township_secretary", tw), "sn_cd": ("county_office_director", co),
        "sn_cs": ("county_office_staff", co), "sn_ch": ("county_head", co), "sn_city1": ("city_office_staff", ci),
        "sn_city2": ("city_office_staff", ci)})
    from engine.domain.cases import StepInput
    from engine.services.procedures import perform_step

    def step(code, procedure, key, day, **inputs):
        world.on(day)
        return perform_step(world.app, who[code], procedure, key, [village], StepInput(date=day, **inputs))

    world.on(date(2019, 1, 10))
    village = register_village(world.app, who["sn_vs"], vi, 100, 2018)
    attach_evidence(world.app, who["sn_vs"], village, "village_profile", PROFILE)
    step("sn_vs", "village_identification", "village_application", date(2019, 1, 10))
    step("sn_ts1", "village_identification", "township_review", date(2019, 1, 10), decision="approve")
    step("sn_ts2", "village_identification", "township_notice", date(2019, 1, 10))
    step("sn_cd", "village_identification", "county_approval", date(2019, 1, 17), decision="approve")
    step("sn_cs", "village_identification", "announcement", date(2019, 1, 17))
    set_team(world.app, who["sn_tsec"], village, (TeamMemberInput("sn_fs", "first_secretary", "省扶贫办"),
             TeamMemberInput("sn_tl", "leader", "市农业局"), TeamMemberInput("sn_tm", "member", "县林业局")),
             date(2019, 1, 17), date(2021, 1, 17))
    plan = scan_file(tmp_path / "plan-sn.pdf", "Dongcun plan")
    attach_evidence(world.app, who["sn_fs"], village, "village_plan", {"drawn_up_on": "2019-01-17", "summary": "苹果"},
                    plan)
    step("sn_fs", "village_assistance", "village_plan", date(2019, 1, 17))
    step("sn_th", "village_assistance", "plan_approval", date(2019, 1, 17), decision="approve")
    attach_evidence(world.app, who["sn_vs"], village, "village_exit_checklist", CHECKLIST)
    step("sn_vs", "village_exit", "exit_application", date(2019, 12, 2))
    step("sn_ts1", "village_exit", "township_notice", date(2019, 12, 2))
    refused(world, "step.approver_level", lambda: step("sn_ch", "village_exit", "exit_approval", date(2019, 12, 9),
                                                       decision="approve"), village)
    step("sn_city1", "village_exit", "exit_approval", date(2019, 12, 9), decision="approve")
    refused(world, "step.approver_level", lambda: step("sn_cs", "village_exit", "announcement", date(2019, 12, 9)),
            village)
    assert step("sn_city2", "village_exit", "announcement", date(2019, 12, 9))[0].to_stage == "exited"
    with world.app.engine.connect() as conn:
        data = conn.execute(select(t.steps.c.data).where(t.steps.c.case_id == village,
                                                         t.steps.c.step_key == "exit_approval")).scalar()
    assert data["incidence_check"]["threshold_pct"] == 3.0 and "west" in data["incidence_check"]["source"]


# --- industry coverage (产业带动率) --------------------------------------------------------------

def _project(world: World, village: str, category: str, stage: str, beneficiaries: list[int]) -> int:
    """A fund project case as the project workflow keeps it (attrs category, beneficiary links)."""
    now = world.clock.now()
    with world.app.transaction() as conn:
        pid = conn.execute(insert(t.cases), {
            "kind": "project", "region_code": village, "title": f"{category} project", "stage": stage, "version": 1,
            "workflow_version": 1, "attrs": {"category": category}, "created_at": now, "updated_at": now,
            "event_count": 0}).inserted_primary_key[0]
        conn.execute(insert(t.project_beneficiaries), [{"project_id": pid, "case_id": c} for c in beneficiaries])
    return pid


def test_industry_coverage_per_village_and_county_against_hand_computed_values(world):
    v3 = "360730100202"                                      # a second village of 梅江镇
    add_regions(world.app, world["admin"], [(v3, "大布村")])
    for code, role in (("vs", "village_secretary"), ("vd", "village_director"), ("tl", "resident_team_leader"),
                       ("tm", "resident_team_member"), ("fs", "first_secretary"), ("pc3", "pairing_cadre")):
        grant_role(world.app, world["admin"], code, role, v3)
    world.actors.update({c: _reload(world, c) for c in ("vs", "vd", "tl", "tm", "fs", "pc3")})
    # 洋塘村: a (industry measure, and in an industry project too), b (health measure only),
    # c (in a funded industry project), d (in an infrastructure project), f (in an industry project not
    # yet funded), e (an applicant in an industry project: not registered poor).
    a, b, c, d, f, e = (world.household() for _ in range(6))
    g, h = world.household(village=v3), world.household(village=v3)
    world.identify([a, b, c, d, f])
    world.identify([g, h])
    world.assist(a, first="pc1", second=None)
    world.on(date(2019, 3, 20))
    world.step("ts1", "assistance", "pairing", b, first_cadre="pc2")
    world.step("fs", "assistance", "plan", b, measures=(("health", "家庭医生签约"),))
    world.assist(g, first="pc3", second=None)
    _project(world, VILLAGE, "industry", "assisted", [a, c, e])
    _project(world, VILLAGE, "infrastructure", "assisted", [d])
    _project(world, VILLAGE, "industry", "identified", [f])

    statements = []
    world.app.close()
    listen = lambda conn, cursor, sql, *args: statements.append(sql)  # noqa: E731
    event.listen(world.app.engine, "before_cursor_execute", listen)
    try:
        rows = coverage_report(world.app, world["cd"], COUNTY, 2023)
    finally:
        event.remove(world.app.engine, "before_cursor_execute", listen)
    assert sum("GROUP BY" in s for s in statements) == 1 and len(statements) == 2   # the figures, the names
    by_region = {r["region"]: r for r in rows}
    assert by_region[VILLAGE] == {"region": VILLAGE, "name": "洋塘村", "level": "village", "households": 5,
                                  "covered": 2, "coverage_pct": 40.0, "target_pct": 45.0, "target_year": 2023,
                                  "gap_points": 5.0, "households_short": 1}
    assert (by_region[v3]["households"], by_region[v3]["covered"], by_region[v3]["households_short"]) == (2, 1, 0)
    county = by_region[COUNTY]
    assert (county["level"], county["households"], county["covered"], county["coverage_pct"]) == ("county", 7, 3, 42.86)
    assert county["households_short"] == 1                    # 45% of 7 is 3.15: 4 households
    next_year = {r["region"]: r for r in coverage_report(world.app, world["cd"], COUNTY, 2024)}
    assert (next_year[VILLAGE]["target_pct"], next_year[VILLAGE]["households_short"]) == (65.0, 2)
    assert next_year[COUNTY]["households_short"] == 2        # 65% of 7 is 4.55: 5 households
    assert coverage_report(world.app, world["cd"], COUNTY, 2019)[0]["target_pct"] is None   # none configured
    township = coverage_report(world.app, world["ts1"], None, 2023)
    assert {r["level"] for r in township} == {"village"}      # no county row from one township's villages

    village = register_village(world.app, world["vs"], VILLAGE, 500, 2018)
    world.on(date(2023, 3, 1))
    text = "\n".join(figures(world, village)["lines"])
    assert "industry coverage 40.0% (households: 2 of 5); the 2023 target is 45.0%: 5.0 points short, households still to cover: 1" in text


def _reload(world: World, code: str) -> Actor:
    """The actor again, with the posts granted since it was loaded."""
    with world.app.engine.connect() as conn:
        return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).one())


# --- the command line ---------------------------------------------------------------------------

@pytest.fixture
def run(world, capsys, monkeypatch):
    """`jingzhun --lang en --as WHO ...` in this process on the world's database: (exit code, out, err)."""
    import cli
    world.app.close()
    where = ["--home", str(world.app.settings.home), *db_option(world.app.engine.url.render_as_string(hide_password=False))]

    def command(who: str, *argv: str) -> tuple[int, str, str]:
        monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens[who])
        code = cli.main([*where, "--lang", "en", "--as", who, *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return command


def test_village_commands(world, run):
    code, out, err = run("vs", "village", "add", "--village", VILLAGE, "--population", "150", "--year", "2018")
    assert code == 0, err
    case = int(out.strip().splitlines()[-1])
    code, out, err = run("vs", "village", "add", "--village", VILLAGE, "--population", "150")
    assert code == 1 and "[village.exists]" in err
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.cases).where(t.cases.c.kind == "village")).scalar() == 1
    assert run("vs", "village", "population", str(case), "--population", "160", "--reason", "户籍核对")[0] == 0
    for who, step, extra in (("vs", "village_application", ()), ("ts1", "township_review", ("--approve",)),
                             ("ts2", "township_notice", ()), ("cd", "county_approval", ("--approve",)),
                             ("cs", "announcement", ())):
        if step == "village_application":
            assert run("vs", "evidence", "add", str(case), "village_profile",
                       *[f"--field={k}={v}" for k, v in PROFILE.items()])[0] == 0
        day = "2019-01-10" if step in ("village_application", "township_review", "township_notice") else "2019-01-17"
        code, out, err = run(who, "step", "village_identification", step, str(case), "--date", day, *extra)
        assert code == 0, err
    start, end = date.today().isoformat(), date.today().replace(year=date.today().year + 3, day=1).isoformat()
    code, out, err = run("tsec", "village", "team", str(case), "--member", "fs:first_secretary:省农业农村厅",
                         "--member", "tl:leader:县财政局", "--start", start, "--end", end)
    assert code == 1 and "[village.team_too_small]" in err and "at least 3" in err
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.village_team)).scalar() == 0
    code, out, err = run("tsec", "village", "team", str(case), "--member", "fs:第一书记:省农业农村厅",
                         "--member", "tl:leader:县财政局", "--member", "tm:member:县林业局", "--start", start,
                         "--end", end)   # the command runs on today's date; a post by its code or its name
    assert code == 0, err
    assert f"tm joins as team member (县林业局) until {end}" in out
    household = world.household(members=4)
    code, out, err = run("insp", "case", "next", str(case))
    assert code == 0, err
    assert "poverty incidence 0.0% (not yet exited: persons 0, households 0 / registered population 160)" in out
    assert "resident work team of 3" in out and "next: village assistance" in out
    world.identify(household)
    code, out, err = run("cd", "report", "coverage", "--region", COUNTY, "--year", "2023", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["region"], r["level"], r["households"], r["covered"], r["target_pct"]) for r in rows] == [
        (VILLAGE, "village", 1, 0, 45.0), (COUNTY, "county", 1, 0, 45.0)]
    code, out, err = run("cd", "report", "coverage", "--region", COUNTY, "--year", "2023")
    assert code == 0 and "洋塘村" in out and "宁都县" in out
