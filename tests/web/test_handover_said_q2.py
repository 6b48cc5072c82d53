"""A successor's inherited work is said as inherited (a13 #4): after `person deactivate` and a successor
appointed to the vacant post, case 3's page named the two-hour-old appointee alone as 责任人 of work 17
working days overdue and escalated to 纪委. Wherever a deadline's holder is shown (the case page, /work,
`deadline list` and its API, the overdue table, the hand-over mail) it now says on which day the work was
handed to them, from whom, and who held it when it lapsed. SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.dashboard import OverdueFilter, overdue_page
from engine.reads.deadlines import deadline_rows
from engine.services import accounts
from engine.services.org import NewPerson, add_persons, load_actor
from engine.services.sweep import sweep
from tests.helpers.deadlines import awaiting_plan, cst, reach_everyone
from tests.world import VILLAGE

SAID = "（2019-07-02 转交，原责任人：first_secretary-fs；逾期时责任人：first_secretary-fs）"


def _successor(world) -> int:
    """fs leaves with the plan overdue since 2019-04-15 (every level sent); fs2 is appointed that day."""
    reach_everyone(world)
    case = awaiting_plan(world)[0]
    sweep(world.app, now=cst(2019, 7, 1, 8, 0))
    world.on(date(2019, 7, 2))
    accounts.deactivate(world.app, world["admin"], "fs", "调任县农业农村局")
    add_persons(world.app, world["admin"], [
        NewPerson("fs2", "接任第一书记", (("first_secretary", VILLAGE),), channels=(("file", "fs2", "zh"),))])
    with world.app.engine.connect() as conn:
        world.actors["fs2"] = load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == "fs2")).one())
    return case


def test_the_case_page_and_the_overdue_table_say_the_successor_took_it_over_and_who_let_it_lapse(world, world_clients):
    case = _successor(world)
    page, api = world_clients
    text = page("th").get(f"/cases/{case}").text
    assert "接任第一书记" in text and SAID in text, text[text.find('id="deadlines"'):][:1500]
    [row] = overdue_page(world.app, world["th"], OverdueFilter())["rows"]
    assert row["owner"] == "fs2" and (row["handed"]["on"], row["handed"]["from"], row["handed"]["lapsed_under"]) \
        == ("2019-07-02", "fs", "fs"), row
    overdue = page("th").get("/supervise/overdue").text
    assert SAID in overdue, overdue

    en = page("th")
    en.cookies.set("lang", "en")
    said = "(handed over on 2019-07-02; held before by first_secretary-fs; overdue while held by first_secretary-fs)"
    assert said in en.get(f"/cases/{case}").text


def test_deadline_list_and_its_api_say_when_and_from_whom_and_the_successor_s_work_shows_it_first(world, world_clients):
    case = _successor(world)
    [row] = [r for r in deadline_rows(world.app, world["th"], case_id=case) if r["rule"] == "assistance_plan"]
    assert (row["owner"], row["handed_on"], row["handed_from"], row["handed_lapsed"], row["lapsed_under"]) \
        == ("fs2", "2019-07-02", "fs", True, "fs"), row
    page, api = world_clients
    answer = api("th").get("/api/v1/deadlines", params={"case": case})
    assert answer.status_code == 200, answer.text
    [got] = [r for r in answer.json()["deadlines"] if r["rule"] == "assistance_plan"]
    assert (got["handed_from"], got["lapsed_under"]) == ("fs", "fs"), got

    work = page("fs2").get("/work").text
    assert 'id="handed-to-me"' in work and "转交给您的工作" in work, work
    handed = work[work.find('id="handed-to-me"'):]
    assert f'href="/cases/{case}#deadlines"' in handed and SAID in handed, handed[:1500]


def test_a_successor_to_a_vacant_post_is_told_whose_work_it_was(world):
    _successor(world)
    with world.app.engine.connect() as conn:
        [body] = conn.execute(select(t.outbox.c.body).where(t.outbox.c.address == "fs2",
                                                           t.outbox.c.kind == "handover")).scalars().all()
    assert "此项工作原由 first_secretary-fs（fs） 负责，因您新任该岗位" in body, body


def test_the_assessment_counts_the_lapse_against_whom_let_it_lapse_not_the_successor(world):
    from engine.reads.assessment import assessment
    from tests.world import COUNTY
    _successor(world)
    people = assessment(world.app, world["cd"], COUNTY, "2019")["overdue"]["person"]
    assert [(p["key"], p["count"]) for p in people] == [("fs", 1)], people      # not fs2, appointed 79 days after


def test_who_appoints_a_successor_with_no_channel_is_told_the_work_handed_over_reached_nobody(world, world_clients):
    from tests.helpers.notifications import cli
    reach_everyone(world)
    case = awaiting_plan(world)[0]
    sweep(world.app, now=cst(2019, 7, 1, 8, 0))
    world.on(date(2019, 7, 2))
    accounts.deactivate(world.app, world["admin"], "fs", "调任县农业农村局")
    added = cli(world, "admin", "person", "add", "fs2", "接任第一书记", "--role", f"first_secretary:{VILLAGE}")
    assert added.code == 0, added.err
    said = "接任第一书记（fs2）尚无通知渠道：转交给其的 1 项期限（其中已逾期 1 项）未能通知到本人"
    assert said in added.out and "`person channel fs2 --add" in added.out, added.out

    page, _api = world_clients
    person = page("admin").get("/admin/people/fs2").text
    assert 'id="handed-unheard"' in person and said in person, person[:3000]
    cli(world, "admin", "person", "channel", "fs2", "--add", "file:fs2")
    assert 'id="handed-unheard"' not in page("admin").get("/admin/people/fs2").text     # a channel now: said no more

    granted = cli(world, "admin", "person", "grant", "vs", "first_secretary", VILLAGE)   # fs2 has it: nothing moves
    assert granted.code == 0 and "尚无通知渠道" not in granted.out, granted.out + granted.err
    assert case


def test_an_escalation_after_the_hand_over_names_the_successor_as_one_who_took_it_over(world):
    reach_everyone(world)
    awaiting_plan(world)
    world.on(date(2019, 4, 13))
    accounts.deactivate(world.app, world["admin"], "fs", "调任县农业农村局")    # before its due day: nobody holds it
    sweep(world.app, now=cst(2019, 4, 15, 8, 0))
    world.on(date(2019, 4, 16))
    add_persons(world.app, world["admin"], [
        NewPerson("fs2", "接任第一书记", (("first_secretary", VILLAGE),), channels=(("file", "fs2", "zh"),))])
    sweep(world.app, now=cst(2019, 4, 18, 8, 0))                   # the ladder's next rung: the township's leaders
    with world.app.engine.connect() as conn:
        bodies = conn.execute(select(t.outbox.c.body).where(t.outbox.c.address == "th",
                                                           t.outbox.c.kind == "alert")).scalars().all()
    assert any("接任第一书记（fs2）（2019-04-16 转交，原责任人：first_secretary-fs；逾期时责任人：无人）" in b
               for b in bodies), bodies


def test_the_trace_lists_the_overdue_work_still_open_with_who_let_it_lapse_and_who_holds_it_now(world, world_clients):
    from tests.helpers.notifications import cli
    case = _successor(world)
    said = "尚未办理：已逾期 79 天（逾期时责任人：first_secretary-fs (fs)；2019-07-02 转交现责任人 接任第一书记）"
    traced = cli(world, "do", "trace", case)          # the command's clock is today's: its days are more
    assert traced.code == 0 and said.split("天")[1] in traced.out, traced.out + traced.err
    page, _api = world_clients
    assert said in page("insp").get(f"/inspect/trace/case/{case}").text
