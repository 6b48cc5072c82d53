"""Whose an open deadline was before it was handed to its owner now (a13 #4): a successor appointed to a
leaver's post took over work already overdue, and every page named him alone as its 责任人, as though the
two-hour-old appointee had let it lapse and escalate. Each page, list and answer that names a deadline's
owner says with it on which day it was handed to them, from whom, and who held it when it lapsed
(`deadline_rules.handed_to` over the deadline's own `owner_changes`; persons read once per list)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.deadline_rules import aware, handed_to, office_zone


class Handovers:
    """The hand-over of each deadline row ({id, owner_id, owner_changes, due_at}), persons read once (a
    list's deadlines are held by the few cadres of its region): `of(row)` -> {on (office day), from,
    from_name, lapsed (bool), lapsed_under, lapsed_under_name} or None; `person(id)` -> (code, name)."""

    def __init__(self, app, conn, now: datetime):
        self.conn, self.zone, self.now, self.known = conn, office_zone(app.config), aware(now), {}

    def person(self, person_id: int | None) -> tuple[str | None, str | None]:
        if person_id is None:
            return None, None
        if person_id not in self.known:
            row = self.conn.execute(select(t.persons.c.code, t.persons.c.name)
                                    .where(t.persons.c.id == person_id)).first()
            self.known[person_id] = (row.code, row.name) if row else (None, None)
        return self.known[person_id]

    def of(self, row) -> dict[str, Any] | None:
        found = handed_to(row.owner_id, row.owner_changes, row.due_at, self.now)
        if found is None:
            return None
        came, lapsed = self.person(found["came_from"]), "lapsed_under" in found
        under = self.person(found.get("lapsed_under"))
        return {"on": found["at"].astimezone(self.zone).date().isoformat(), "from": came[0], "from_name": came[1],
                "lapsed": lapsed, "lapsed_under": under[0] if lapsed else None,
                "lapsed_under_name": under[1] if lapsed else None}


def handovers(app, conn, rows: Iterable, now: datetime) -> dict[int, dict[str, Any]]:
    """{deadline id: its hand-over} of the rows handed to their owner now (the others left out)."""
    seen = Handovers(app, conn, now)
    return {r.id: h for r in rows if (h := seen.of(r)) is not None}


MINE_SHOWN = 50


def handed_to_me(app, actor, limit: int = MINE_SHOWN) -> dict[str, Any]:
    """The open deadlines handed over to the reader (a successor's first look at /work, a13 #4): {rows
    [{id, case, title, rule, step, due_on, counting, overdue_days, handed}], more}, the newest hand-over
    first, at most `limit`. Read through the deadlines' (owner, status) index: the reader's own open work."""
    from engine.domain.deadline_rules import overdue_by
    d = t.deadlines.c
    now, today = aware(app.clock.now()), app.clock.today()
    found = []
    with app.engine.connect() as conn:
        seen = Handovers(app, conn, now)
        q = (select(d.id, d.case_id, d.rule, d.step_key, d.owner_id, d.owner_changes, d.due_on, d.due_at, d.counting,
                    t.cases.c.title).join(t.cases, t.cases.c.id == d.case_id)
             .where(d.owner_id == actor.person_id, d.status == "open").order_by(d.id))
        for r in conn.execute(q.execution_options(yield_per=1000)):
            if (h := seen.of(r)) is not None:
                found.append({"id": r.id, "case": r.case_id, "title": r.title, "rule": r.rule, "step": r.step_key,
                              "due_on": r.due_on, "counting": r.counting,
                              "overdue_days": overdue_by(app.config, r.due_on, today, r.counting), "handed": h})
    found.sort(key=lambda x: (x["handed"]["on"], x["overdue_days"]), reverse=True)   # newest, then most overdue
    return {"rows": found[:limit], "more": len(found) > limit}


def handed_unheard(app, actor, code: str) -> dict[str, Any] | None:
    """A person holding work handed over to them with no channel to be told of it on (a successor
    appointed before their channel is set: the 转交给您的工作 message went nowhere, a13 #4): {person,
    name, deadlines, overdue} for the administrator who appointed them; None when they have a channel,
    or nothing handed over. Their open deadlines, through the (owner, status) index."""
    from engine.services.org import require_some_admin
    require_some_admin(app, actor, "person grant")
    d, now = t.deadlines.c, aware(app.clock.now())
    with app.engine.connect() as conn:
        person = conn.execute(select(t.persons.c.id, t.persons.c.code, t.persons.c.name)
                              .where(t.persons.c.code == code)).first()
        if person is None or app.plugins.channels_of(conn, [person.id]).get(person.id):
            return None
        rows = conn.execute(select(d.id, d.owner_id, d.owner_changes, d.due_at)
                            .where(d.owner_id == person.id, d.status == "open")).all()
        handed = [r for r in rows if handed_to(r.owner_id, r.owner_changes) is not None]
    if not handed:
        return None
    return {"person": person.code, "name": person.name, "deadlines": len(handed),
            "overdue": sum(1 for r in handed if aware(r.due_at) <= now)}
