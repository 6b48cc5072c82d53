"""督办 on the overdue page of a deadline whose owner left (w3, stop 51): the answer in place of the row's
form says the deadline went to the post's holder now and that they were pressed; with nobody in the
post, it says which post is vacant and what to do, and the row is nobody's from then on. SQLite and
PostgreSQL."""
from __future__ import annotations

from datetime import date

from engine.adapters import tables as t
from engine.services.org import NewPerson, add_persons
from engine.services.sweep import sweep
from tests.helpers.deadlines import awaiting_plan, cst, deadlines_of, reach_everyone
from tests.world import VILLAGE

HX = {"HX-Request": "true"}


def _left(world, successor: bool) -> int:
    reach_everyone(world)
    case = awaiting_plan(world)[0]
    sweep(world.app, now=cst(2019, 7, 1, 8, 0))
    [d] = deadlines_of(world, case, rule="assistance_plan")
    world.on(date(2019, 7, 2))
    if successor:
        add_persons(world.app, world["admin"], [
            NewPerson("fs2", "接任第一书记", (("first_secretary", VILLAGE),), channels=(("file", "fs2", "zh"),))])
    with world.app.transaction() as conn:       # deactivated behind the engine (before stop 50)
        conn.execute(t.persons.update().where(t.persons.c.code == "fs").values(active=False))
    return d.id


def test_the_press_answer_names_who_has_the_leaver_s_deadline_now(world, world_clients):
    deadline = _left(world, successor=True)
    page, _api = world_clients
    client = page("th")
    answer = client.post(f"/supervise/deadlines/{deadline}/press", data={"csrf": client.csrf}, headers=HX)
    assert answer.status_code == 200, answer.text
    assert "原责任人 fs 已不在该岗位，期限已转交现任 接任第一书记。已督办 接任第一书记" in answer.text, answer.text


def test_the_press_answer_says_which_post_is_vacant_and_the_row_is_nobody_s(world, world_clients):
    deadline = _left(world, successor=False)
    page, _api = world_clients
    client = page("th")
    client.cookies.set("lang", "en")
    answer = client.post(f"/supervise/deadlines/{deadline}/press", data={"csrf": client.csrf}, headers=HX)
    assert answer.status_code == 409, answer.text
    assert "nobody holds the post First secretary" in answer.text and "appoint a successor" in answer.text, answer.text
    assert deadlines_of(world, id=deadline)[0].owner_id is None          # before: still the leaver's
