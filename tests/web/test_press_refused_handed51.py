"""A press refused for a reason found after the deadline was handed over from a leaver keeps the
hand-over, as the vacant-post refusal does: the new holder who presses the work handed to them is
told it is theirs now (own work), and a second press on the same office day is told whom the
deadline went to; either way the deadline is the new holder's from then on, on the overdue page
and in `deadline press`. Before, the refusal rolled the hand-over back and the deadline stayed the
leaver's until the next sweep. SQLite and PostgreSQL, both languages."""
from __future__ import annotations

from datetime import date

from engine.adapters import tables as t
from engine.services.accounts import activate_all
from engine.services.org import NewPerson, add_persons, authenticate
from engine.services.press import press_deadline
from engine.services.sweep import sweep
from notifications.contacts import set_channels
from tests.helpers.deadlines import cst, deadlines_of, reach_everyone
from tests.test_accountability import cli
from tests.world import COUNTY, TOWNSHIP
from workflows.problem import ProblemInput, register_problem

HX = {"HX-Request": "true"}


def _overdue_assignment(world) -> int:
    """A problem item waiting past its deadline to be assigned: the county office director's (cd)."""
    reach_everyone(world)
    world.on(date(2020, 6, 1))
    problem = register_problem(world.app, world["cs"], ProblemInput(TOWNSHIP, "暗访", "危房改造验收资料缺失",
                                                                     date(2020, 5, 30)))
    sweep(world.app, now=cst(2020, 6, 10, 8, 0))
    world.on(date(2020, 6, 10))
    [d] = deadlines_of(world, problem, rule="problem_assignment")
    assert d.owner_id == world["cd"].person_id
    return d.id


def _cd_leaves(world) -> None:
    """cd leaves behind the engine (as before stop 50); cd2 holds the post now."""
    tokens = activate_all(world.app, add_persons(world.app, world["admin"], [
        NewPerson("cd2", "新任主任", (("county_office_director", COUNTY),))]))
    set_channels(world.app, world["admin"], "cd2", [("file", "cd2", "zh")])
    world.tokens["cd2"] = tokens["cd2"]
    world.actors["cd2"] = authenticate(world.app, "cd2", tokens["cd2"])
    with world.app.transaction() as conn:
        conn.execute(t.persons.update().where(t.persons.c.code == "cd").values(active=False))


def _owner(world, deadline: int) -> int | None:
    return deadlines_of(world, id=deadline)[0].owner_id


def test_pressing_work_just_handed_to_oneself_is_refused_and_it_is_one_s_own(world, world_clients):
    deadline = _overdue_assignment(world)
    _cd_leaves(world)
    page, _api = world_clients
    cd2 = page("cd2")
    answer = cd2.post(f"/supervise/deadlines/{deadline}/press", data={"csrf": cd2.csrf}, headers=HX)
    assert answer.status_code == 403, answer.text
    assert "原责任人 cd 已不在该岗位，期限" in answer.text and "已转交给您" in answer.text, answer.text
    assert _owner(world, deadline) == world["cd2"].person_id             # before: still cd's
    again = cli(world, "cd2", "deadline", "press", str(deadline), lang="en")
    assert again.code != 0 and "you cannot press your own work" in again.err, again.err


def test_a_second_press_the_same_day_goes_to_whom_the_deadline_went_to(world, world_clients):
    """The morning's press went to cd, who has left: it holds back no press to cd2, who holds the work
    now (stop 52, a8 #8: the overdue page had refused it as pressed today already)."""
    deadline = _overdue_assignment(world)
    press_deadline(world.app, world["th"], deadline)                      # cd pressed in the morning
    _cd_leaves(world)
    page, _api = world_clients
    th = page("th")
    th.cookies.set("lang", "en")
    answer = th.post(f"/supervise/deadlines/{deadline}/press", data={"csrf": th.csrf}, headers=HX)
    assert answer.status_code == 200, answer.text
    assert "cd no longer holds the post: the deadline went to 新任主任" in answer.text, answer.text
    assert "Pressed 新任主任" in answer.text, answer.text
    assert _owner(world, deadline) == world["cd2"].person_id             # before: still cd's
    again = th.post(f"/supervise/deadlines/{deadline}/press", data={"csrf": th.csrf}, headers=HX)
    assert again.status_code == 409 and "already pressed deadline" in again.text, again.text   # cd2: once a day
