"""Overdue rectification is referred to the discipline commission (DOMAIN §9) by those who supervise
rectification in the region, that is whoever may register a problem item there: the county head, who
may now register a wrong exit (错退) and answers for the county's exits, too. Before, `problem
refer-overdue` (CLI and API) admitted only the general registrars and refused the head. Inspectors
still only read. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from tests.test_accountability import assigned_problem, cli, exited, wrong_exit
from tests.world import COUNTY


def overdue_wrong_exit(world) -> int:
    problem = wrong_exit(world, exited(world), by="ch")
    world.step("cd", "assignment", "assign", problem, assignee="th", lead_unit="县扶贫办", responsible_unit="梅江镇",
               due=date(2020, 6, 20))
    world.step("th", "assignment", "receipt", problem)
    return problem


def referred(world) -> list[tuple[int, str, str]]:
    with world.app.engine.connect() as conn:
        return [(r.problem_id, r.reason, r.detail["by"]) for r in conn.execute(
            select(t.discipline_referrals).order_by(t.discipline_referrals.c.id))]


def test_the_county_head_refers_overdue_rectification(world, world_clients):
    problem = overdue_wrong_exit(world)
    later = assigned_problem(world, due=date(2020, 6, 21))             # registered by the office: any finding
    world.step("th", "assignment", "receipt", later)
    world.on(date(2020, 6, 21))
    _, api = world_clients
    answer = api("ch", "en").post(f"/api/v1/problems/refer-overdue?region={COUNTY}")
    assert answer.status_code == 200, answer.text                      # before: 403
    assert answer.json()["ids"] == [problem]                           # the other is due today: not late yet
    assert api("insp", "en").post(f"/api/v1/problems/refer-overdue?region={COUNTY}").status_code == 403
    assert referred(world) == [(problem, "overdue", "ch")]

    refused = cli(world, "insp", "problem", "refer-overdue", "--region", COUNTY)
    assert refused.code != 0 and "Traceback" not in refused.err
    done = cli(world, "ch", "problem", "refer-overdue", "--region", COUNTY)    # the CLI's today: long after
    assert done.code == 0, done.err                                    # before: refused (not a registrar)
    assert str(later) in done.out
    assert referred(world) == [(problem, "overdue", "ch"), (later, "overdue", "ch")]
