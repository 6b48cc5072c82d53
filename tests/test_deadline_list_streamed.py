"""`deadline list` over a city (issue 12): its rows read and printed as they come, not held first."""
from __future__ import annotations

import tracemalloc
from datetime import date

from sqlalchemy import func, insert, select

from engine.adapters import tables as t
from engine.reads.deadlines import deadline_rows, deadlines_streamed

N = 10_000


def _peak(read) -> int:
    tracemalloc.start()
    try:
        read()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_deadline_list_reads_a_city_s_overdue_work_without_holding_it_all(world):
    """`deadline list --overdue` built every row before printing the first: a city's 151,200 overdue
    deadlines held 300 MB. Read as they come, 10,000 rows take a small part of what holding them does,
    and they are the same rows in the same order."""
    case = world.household()
    world.identify(case)
    world.on(date(2020, 6, 1))                         # the assistance plan is long overdue
    columns = [c for c in t.deadlines.c if c.name != "id"]
    with world.app.transaction() as conn:
        template = conn.execute(select(*columns).where(t.deadlines.c.case_id == case, t.deadlines.c.status == "open",
                                                       t.deadlines.c.rule == "assistance_plan")).one()
        conn.execute(insert(t.deadlines), [{**template._asdict(), "subject": f"copy {i}"} for i in range(N)])
        assert conn.execute(select(func.count()).select_from(t.deadlines)).scalar() > N
    held = deadline_rows(world.app, world["cd"], overdue=True)
    assert len(held) > N
    assert [r["id"] for r in deadlines_streamed(world.app, world["cd"], overdue=True)] == [r["id"] for r in held]
    streamed = _peak(lambda: [None for _ in deadlines_streamed(world.app, world["cd"], overdue=True)])
    listed = _peak(lambda: deadline_rows(world.app, world["cd"], overdue=True))
    assert streamed * 3 < listed, (streamed, listed)
