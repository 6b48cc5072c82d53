"""A county office's 为全部 of households it may not sign (all refused, every one told) sends a number of
statements that does not grow with the list (12 for 3 households as for 33): bench/area_list.py --post-all,
5,000 households refused, took 68 s on PostgreSQL when each refusal looked its names up (a round trip each);
1.71 s now, as on SQLite (1.80 s). With the names looked up per refusal again, this test counts 16 and 76."""
from __future__ import annotations

from datetime import date

from sqlalchemy import event

from tests.world import COUNTY


def _statements_of_all_refused(world, client, count: int) -> int:
    for _ in range(count):
        world.household()
    sent = []

    def seen(conn, cursor, statement, *args):
        sent.append(statement)
    event.listen(world.app.engine, "before_cursor_execute", seen)
    try:
        answer = client.post(f"/villages/{COUNTY}/list", data={
            "csrf": client.csrf, "kind": "household", "procedure": "identification", "step": "application",
            "all": "1"}, headers={"HX-Request": "true"})
    finally:
        event.remove(world.app.engine, "before_cursor_execute", seen)
    assert answer.status_code == 409 and answer.text.count('data-result="refused"') >= count, answer.text[-1500:]
    return len(sent)


def test_all_refused_sends_as_many_statements_for_thirty_households_as_for_three(world, world_clients):
    world.on(date(2019, 3, 1))
    page, _api = world_clients
    client = page("cd")
    few = _statements_of_all_refused(world, client, 3)
    many = _statements_of_all_refused(world, client, 30)      # 33 waiting now
    assert many <= few, (few, many)
