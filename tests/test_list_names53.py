"""A list's refusals name each region and person by its name, looked up once for the whole list: a county
office's "all 4,000 waiting" refused for want of the step's role looked the county up 16,000 times, 22 of the
answer's 26 seconds (bench/area_list.py --post-all); now once, and the words are the same."""
from __future__ import annotations

from sqlalchemy import event

from engine.services.list_steps import perform_list_step


def test_a_list_s_refusals_look_each_name_up_once_and_say_it_in_every_refusal(world):
    cases = [world.household() for _ in range(6)]
    result = perform_list_step(world.app, world["ts1"], "identification", "application", cases)
    assert sorted(result.refused) == sorted(cases) and not result.done
    lookups = []

    def seen(conn, cursor, statement, *args):
        if "FROM regions" in statement or "FROM persons" in statement:
            lookups.append(statement)
    event.listen(world.app.engine, "before_cursor_execute", seen)
    try:
        groups = result.grouped(world.app, cases)
        texts = [result.reasons(world.app, c) for c in cases]
    finally:
        event.remove(world.app.engine, "before_cursor_execute", seen)
    assert len(groups) == 1 and groups[0].cases == cases
    assert all(t == texts[0] for t in texts) and any("（" in t and "村" in t or "镇" in t for t in texts[0]), texts[0]
    assert len(lookups) <= 2, lookups        # one for the regions named, one for the persons: not one a case
