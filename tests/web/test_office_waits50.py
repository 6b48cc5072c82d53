"""A sample check's wrong exit waiting for the county office to register its problem item is shown to everyone
who may register it (the problem kind's registrar: the county office's director over the household's county),
whoever owns its deadline, saying whose it is: on /work, in `case list --waiting` and in the API's worklist
(GET /api/v1/cases?waiting=true). Before, only its one owner saw it, and it was missed while they were away.
SQLite and PostgreSQL, both languages."""
from __future__ import annotations

import json
from datetime import date

from engine.reads.sample_waits import registrations_due
from engine.services.accounts import activate_all
from engine.services.org import NewPerson, add_persons, add_regions, authenticate
from engine.services.problems import ProblemInput, register_problem
from engine.services.sampling import Finding, record_finding
from tests.helpers.db_option import db_option
from tests.test_cli import jingzhun
from tests.test_household_life import village_chain
from tests.test_sample_problems import monitoring_under_way
from tests.world import COUNTY

OTHER_COUNTY = "360731000000"
OWNER = "county_office_director-cd"          # the deadline's owner, as the world names them


def waiting_with_a_colleague(world) -> tuple[int, int]:
    """The office's deputy director `cd2` (the same post over the same county) and a director of another
    county `far`; a wrong exit recorded while the household's monitoring ran, the monitoring decided on
    2020-03-09: its registration due 2020-03-16, owned by `cd`. The household and its draw."""
    admin = world["admin"]
    add_regions(world.app, admin, [(OTHER_COUNTY, "石城县")])
    tokens = activate_all(world.app, add_persons(world.app, admin, [
        NewPerson("cd2", "扶贫办副主任", (("county_office_director", COUNTY),)),
        NewPerson("far", "石城县扶贫办主任", (("county_office_director", OTHER_COUNTY),))]))
    world.tokens.update(tokens)
    world.actors.update({code: authenticate(world.app, code, token) for code, token in tokens.items()})
    case, drawn = monitoring_under_way(world, "cd")
    record_finding(world.app, world["cd"], Finding(drawn["id"], case, "wrong_exit", "收入不实"))
    village_chain(world, "monitoring", case, date(2020, 3, 9), "county_decision")
    world.on(date(2020, 3, 20))                       # overdue by 4 days
    return case, drawn["id"]


def test_everyone_who_may_register_the_wrong_exit_sees_it_whoever_owns_it(world):
    case, draw = waiting_with_a_colleague(world)
    mine, = registrations_due(world.app, world["cd"])
    colleague, = registrations_due(world.app, world["cd2"])          # before: [] (not the owner)
    assert (mine["case"], mine["mine"], mine["owner"]) == (case, True, "cd")
    assert (colleague["case"], colleague["mine"], colleague["owner"], colleague["owner_name"]) == (case, False, "cd", OWNER)
    assert colleague["draws"] == [draw] and colleague["owner_role"] == "county_office_director"
    # who may not register a wrong exit does not see it: the office's staff, another county (the county
    # head may: tests/web/test_wrong_exit_head51.py)
    assert [registrations_due(world.app, world[who]) for who in ("cs", "far", "insp", "ts1")] == [[]] * 4
    # the deputy registers it while its owner is away: done, off both lists
    register_problem(world.app, world["cd2"], ProblemInput(COUNTY, "assessment", "抽查发现错退", date(2020, 3, 20),
                                                           "wrong_exit", [case]))
    assert registrations_due(world.app, world["cd"]) == registrations_due(world.app, world["cd2"]) == []


def test_my_work_lists_it_for_the_office_saying_whose_it_is(world, world_clients):
    case, draw = waiting_with_a_colleague(world)
    page, api = world_clients
    deputy = page("cd2")
    shown = deputy.get("/work").text
    waits = shown[shown.index('id="sample-waits"'):]
    assert f'data-case="{case}"' in waits and f"责任人：{OWNER}（县扶贫办主任），我也可登记" in waits
    assert "已逾期 4 个工作日" in waits and f"/problems/new?finding=wrong_exit&amp;cases={case}" in waits
    assert "由我负责" in page("cd").get("/work").text
    assert 'id="sample-waits"' not in page("cs").get("/work").text
    deputy.cookies.set("lang", "en")
    english = deputy.get("/work").text
    assert f"{OWNER}&#39;s (County" in english and "yours to register as well" in english
    due, = api("cd2", "en").get("/api/v1/cases?waiting=true").json()["registrations_due"]
    assert (due["case"], due["owner"], due["mine"], due["draws"], due["due_on"]) == (case, "cd", False, [draw],
                                                                                      "2020-03-16")
    assert api("cs").get("/api/v1/cases?waiting=true").json()["registrations_due"] == []


def test_case_list_waiting_lists_it_for_the_office_saying_whose_it_is(world):
    case, draw = waiting_with_a_colleague(world)
    home = ["--home", world.app.settings.home, *db_option(world.app.engine.url.render_as_string(hide_password=False))]
    listed = jingzhun([*home, "--as", "cd2", "case", "list", "--waiting"], token=world.tokens["cd2"])
    assert listed.code == 0, listed.err
    row, = [line for line in listed.out.splitlines() if line.startswith(f"{case}\t")]
    assert f"抽查 #{draw}；责任人：{OWNER}（县扶贫办主任），我也可登记；已逾期 " in row    # (a command's clock is today's)
    assert row.endswith("个工作日，2020-03-16 到期）"), row           # the rule's own days, as on /work (stop 52)
    english = jingzhun([*home, "--as", "cd2", "--lang", "en", "case", "list", "--waiting"], token=world.tokens["cd2"])
    assert f"sample check #{draw}; {OWNER}'s (" in english.out and "working days overdue, due 2020-03-16" in english.out
    rows = json.loads(jingzhun([*home, "--as", "cd2", "case", "list", "--waiting", "--json"],
                               token=world.tokens["cd2"]).out)
    assert [(r["id"], r["registration"]["owner"], r["registration"]["mine"]) for r in rows if "registration" in r] == [
        (case, "cd", False)]
    staff = jingzhun([*home, "--as", "cs", "case", "list", "--waiting"], token=world.tokens["cs"])
    assert staff.code == 0 and f"{case}\t" not in staff.out
