"""A list step, all or none (`step` without `--each`, the API's /steps), holding a case of another
village or one that does not exist: every refused case is named with its rule and message, as a list
refused otherwise is, and through the server a case out of reach is told exactly as a missing one
(案件不存在, the same exit code and status). It answered `[auth.out_of_reach]` naming no case (and
「查看」 for a step) for the one, `[case.unknown]` for the other: a cadre learnt the case existed."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from engine.adapters import tables as t
from tests.world import TOWNSHIP2, VILLAGE2

STEP = {"procedure": "identification", "step": "application"}
UNKNOWN = 99999999


def _listed(world) -> tuple[int, int, int]:
    """A household ready for its application, one without its evidence, and one of another village."""
    ready, bare = world.household(), world.household()
    with world.app.engine.begin() as conn:
        conn.execute(t.evidence.delete().where(t.evidence.c.case_id == bare))
    foreign = world.household(village=VILLAGE2, by="vs2")
    world.on(date(2019, 3, 1))
    return ready, bare, foreign


def _steps(world) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.steps)).scalar()


def _asked(world, world_clients, ask) -> tuple[int, int, dict]:
    """`ask(client, ready, other, bare)` as the village's secretary with a case of another village,
    then with one that does not exist, for `other`: (the case without evidence, the one of the other
    village, {other: answer}); nothing was written."""
    ready, bare, foreign = _listed(world)
    client, before = world_clients[1]("vs"), _steps(world)
    answers = {other: ask(client, ready, other, bare) for other in (foreign, UNKNOWN)}
    assert _steps(world) == before
    return bare, foreign, answers


def test_the_api_names_every_refused_case_and_tells_one_out_of_reach_as_missing(world, world_clients):
    def ask(client, ready, other, bare):
        answer = client.post("/api/v1/steps", json={**STEP, "case_ids": [ready, other, bare]})
        assert answer.status_code == 404, answer.text
        return answer.json()
    bare, foreign, answers = _asked(world, world_clients, ask)
    for other, body in answers.items():
        told = {r["case_id"]: r["reasons"] for r in body["refused"]}
        assert set(told) == {other, bare}
        assert told[other] == [{"error": "case.unknown", "message": f"案件不存在：{other}"}]
        assert told[bare][0]["error"] == "evidence.missing"
        assert body["error"] == "case.unknown" and body["message"] == f"案件不存在：{other}"
    assert VILLAGE2 not in str(answers[foreign])


def test_a_client_is_told_a_case_out_of_reach_of_its_list_as_a_missing_one_by_number(world, world_clients):
    def ask(client, ready, other, bare):
        argv = ["step", "identification", "application", str(ready), str(other), str(bare), "--date", "2019-03-01"]
        return client.post("/api/v1/cli", json={"argv": argv}).json()
    bare, foreign, told = _asked(world, world_clients, ask)
    for other, answer in told.items():
        lines = answer["stderr"].splitlines()
        assert answer["exit"] == told[UNKNOWN]["exit"] != 0, answer
        assert f"案件 {other}：未办理 — [case.unknown] 案件不存在：{other}" in lines, answer
        assert any(line.startswith(f"案件 {bare}：未办理 — [evidence.missing]") for line in lines), answer
        assert "全部未办理" in answer["stderr"] and "out_of_reach" not in answer["stderr"]
    # the same words for both, but for the case's number
    assert re.sub(str(foreign), "N", told[foreign]["stderr"]) == re.sub(str(UNKNOWN), "N", told[UNKNOWN]["stderr"])
    assert VILLAGE2 not in told[foreign]["stderr"]


def test_a_list_refused_for_a_role_held_elsewhere_is_told_as_such_not_as_a_server_error(world, world_clients):
    """A cadre holding the step's role in one village and a post that reads another (the village's
    secretary made township staff over the next township): a list of the other village's cases is
    refused for the role's jurisdiction (each case readable: not "unknown"); it was an HTTP 500 (the
    refusal of a case the cadre may read, a rule's Violation, taken for one out of reach)."""
    from engine.services.org import authenticate, grant_role
    first, second = world.household(village=VILLAGE2, by="vs2"), world.household(village=VILLAGE2, by="vs2")
    world.on(date(2019, 3, 1))
    admin = authenticate(world.app, "admin", world.tokens["admin"])
    grant_role(world.app, admin, "vs", "township_staff", TOWNSHIP2)
    client, before = world_clients[1]("vs"), _steps(world)
    answer = client.post("/api/v1/steps", json={**STEP, "case_ids": [first, second]})
    assert answer.status_code == 403, answer.text
    told = {r["case_id"]: r["reasons"] for r in answer.json()["refused"]}
    assert set(told) == {first, second} and all(r[0]["error"] == "auth.jurisdiction" for r in told.values()), told
    argv = ["step", "identification", "application", str(first), str(second), "--date", "2019-03-01"]
    said = client.post("/api/v1/cli", json={"argv": argv}).json()
    assert said["exit"] == 1 and "2 件未办理 — [auth.jurisdiction]" in said["stderr"], said      # one reason, once
    assert f"  案件：{first} {second}" in said["stderr"], said
    assert _steps(world) == before
