"""A case's open deadlines as its page shows them (a user audit: every alert and 督办 mail links to the
case page, which had said nothing of a time limit): what is due, when, whose it is, since when it is
overdue, the escalation level it reached and to whom, and each press (督办) with who pressed, when and
the note; whether the reader may press it there. And the presses of the cases of a cadre's work.

A case has a few deadlines: they are read through the index of deadlines by case and status; their
alerts by deadline; their presses, organisation events, through the index of events by action and region.
"""
from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.deadline_rules import aware, lapse, office_zone, overdue_by, owner_when, reached
from engine.domain.errors import NotFound
from engine.reads.handed import Handovers, handovers
from engine.services.org import require_reader
from engine.services.press import PRESSED, PRESSED_DEADLINE, pressed_today, pressing_roles

_d, _a, _ae, _p = t.deadlines.c, t.alerts.c, t.audit_events.c, t.persons.c
_OPEN = (select(_d.id, _d.case_id, _d.rule, _d.step_key, _d.subject, _d.region_code, _d.owner_id, _d.owner_role,
                _d.due_on, _d.due_at, _d.counting, _d.provisional, _d.ladder, _d.owner_changes, _p.code.label("owner"),
                _p.name.label("owner_name"))
         .select_from(t.deadlines.outerjoin(t.persons, _p.id == _d.owner_id))
         .where(_d.status == "open").order_by(_d.due_at, _d.id))


def case_deadlines(app, actor, case_id: int) -> list[dict[str, Any]]:
    """The case's open deadlines, the earliest due first: {id, rule, step, subject, owner, owner_name,
    owner_role, due_on, counting, provisional, overdue, overdue_since (the office day it became overdue),
    level (the highest escalation level reached, None: none), level_to (to whom it went), presses
    [{at, by, role, note}], handed (None, or when and from whom it came to its owner, and who held it when
    it lapsed: engine.reads.handed), may_press (the reader may press its owner here and now)}."""
    now = aware(app.clock.now())
    zone = office_zone(app.config)
    with app.engine.connect() as conn:
        region = conn.execute(select(t.cases.c.region_code).where(t.cases.c.id == case_id)).scalar()
        if region is None:
            raise NotFound("case.unknown", case=case_id)
        require_reader(app, actor, region)
        rows = conn.execute(_OPEN.where(_d.case_id == case_id)).all()
        ids = [r.id for r in rows]
        levels: dict[int, tuple[int, str | None]] = {}
        for deadline, level, rung in conn.execute(select(_a.deadline_id, _a.level, _a.rung)
                                                  .where(_a.deadline_id.in_(ids)).order_by(_a.level)) if ids else ():
            levels[deadline] = (level, rung)
        presses = _presses(conn, [(r.id, r.region_code) for r in rows])
        handed = handovers(app, conn, rows, now)
    may = actor.first_role(pressing_roles(app), region) is not None     # never a read-only or village post
    found = []
    for r in rows:
        overdue = aware(r.due_at) <= now
        level, rung = levels.get(r.id, (None, None))
        pressed = presses.get(r.id, [])
        mine_today = any(p["person_id"] == actor.person_id and pressed_today(app, p["at"], now) for p in pressed)
        found.append({
            "id": r.id, "rule": r.rule, "step": r.step_key, "subject": r.subject or None, "owner": r.owner,
            "owner_name": r.owner_name, "owner_role": r.owner_role, "due_on": r.due_on, "counting": r.counting,
            "provisional": bool(r.provisional), "overdue": overdue,
            "overdue_since": aware(r.due_at).astimezone(zone).date() if overdue else None,
            "level": level, "level_to": reached(r.ladder, rung),
            "presses": [{k: p[k] for k in ("at", "by", "role", "note")} for p in pressed],
            "pressed_by_me_today": mine_today, "handed": handed.get(r.id),
            "may_press": may and overdue and r.owner_id is not None and r.owner_id != actor.person_id
            and not mine_today})
    return found


_LAPSED = (select(_d.id, _d.rule, _d.step_key, _d.subject, _d.status, _d.due_on, _d.due_at, _d.closed_at, _d.counting,
                  _d.owner_id, _d.owner_changes, _d.closed_reason, _d.met_on)
           .where(_d.status != "open", _d.closed_at > _d.due_at).order_by(_d.due_at, _d.id))


def case_lapses(app, actor, case_id: int) -> list[dict[str, Any]]:
    """The case's deadlines closed after they lapsed, the earliest due first (a12 #5: a late identification
    dropped off the page once decided): {id, rule, step, subject, status (done: met late; cancelled: ended
    with its procedure while overdue), due_on, closed_on, late_by, counting, held_by (code), held_by_name
    (who held it when it lapsed), closed_reason}. Read through the deadlines' (case, status) index."""
    with app.engine.connect() as conn:
        region = conn.execute(select(t.cases.c.region_code).where(t.cases.c.id == case_id)).scalar()
        if region is None:
            raise NotFound("case.unknown", case=case_id)
        require_reader(app, actor, region)
        found = [(r, late) for r in conn.execute(_LAPSED.where(_d.case_id == case_id))
                 if (late := lapse(app.config, r)) is not None]
        ids = sorted({late["held_by"] for _, late in found if late["held_by"] is not None})
        people = {p.id: p for p in conn.execute(select(_p.id, _p.code, _p.name).where(_p.id.in_(ids)))} if ids else {}
    return [{"id": r.id, "rule": r.rule, "step": r.step_key, "subject": r.subject or None, "status": r.status,
             "due_on": r.due_on, "closed_on": late["closed_on"], "late_by": late["late_by"], "counting": r.counting,
             "held_by": getattr(people.get(late["held_by"]), "code", None),
             "held_by_name": getattr(people.get(late["held_by"]), "name", None), "closed_reason": r.closed_reason}
            for r, late in found]


def case_overdue(app, actor, case_id: int) -> list[dict[str, Any]]:
    """The case's open deadlines past due, for the trace beside its lapses (a13 #4: a successor took over
    work already overdue, and nothing on the record said who let it lapse): {id, rule, step, subject,
    status "open", due_on, late_by (its own days overdue today), counting, held_by, held_by_name (who held
    it on its due day), owner, owner_name (who holds it now), handed_on (the day it came to them; None:
    they held it from the start)}. Read through the deadlines' (case, status) index."""
    now = aware(app.clock.now())
    today = now.astimezone(office_zone(app.config)).date()
    with app.engine.connect() as conn:
        region = conn.execute(select(t.cases.c.region_code).where(t.cases.c.id == case_id)).scalar()
        if region is None:
            raise NotFound("case.unknown", case=case_id)
        require_reader(app, actor, region)
        rows = conn.execute(_OPEN.where(_d.case_id == case_id, _d.due_at <= now)).all()
        seen = Handovers(app, conn, now)
        found = []
        for r in rows:
            held = seen.person(owner_when(r.owner_id, r.owner_changes, aware(r.due_at)))
            handed = seen.of(r)
            found.append({"id": r.id, "rule": r.rule, "step": r.step_key, "subject": r.subject or None,
                          "status": "open", "due_on": r.due_on, "closed_on": None, "counting": r.counting,
                          "late_by": overdue_by(app.config, r.due_on, today, r.counting),
                          "held_by": held[0], "held_by_name": held[1], "owner": r.owner, "owner_name": r.owner_name,
                          "handed_on": handed["on"] if handed else None})
    return found


def _presses(conn, deadlines: Sequence[tuple[int, str]]) -> dict[int, list[dict[str, Any]]]:
    """{deadline id: [{at, by, person_id, role, note}] oldest first} of (deadline id, region) pairs."""
    if not deadlines:
        return {}
    found: dict[int, list[dict[str, Any]]] = {}
    q = (select(PRESSED_DEADLINE.label("deadline"), _ae.at, _ae.person_id, _ae.person_name, _ae.role, _ae.detail)
         .where(PRESSED, _ae.region_code.in_(sorted({r for _, r in deadlines})),
                PRESSED_DEADLINE.in_(sorted({i for i, _ in deadlines})))
         .order_by(_ae.seq))
    for r in conn.execute(q):
        found.setdefault(r.deadline, []).append({"at": r.at, "by": r.person_name, "person_id": r.person_id,
                                                 "role": r.role, "note": (r.detail or {}).get("note")})
    return found


def cases_pressed(app, case_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """{case id: {times, at, by, role, note, rule, step}} of the cases (a page of a cadre's work) whose
    open deadlines were pressed (督办): how often, and the last press."""
    if not case_ids:
        return {}
    with app.engine.connect() as conn:
        rows = conn.execute(select(_d.id, _d.case_id, _d.rule, _d.step_key, _d.region_code)
                            .where(_d.case_id.in_(list(case_ids)), _d.status == "open")).all()
        presses = _presses(conn, [(r.id, r.region_code) for r in rows])
    found: dict[int, dict[str, Any]] = {}
    for r in rows:
        for p in presses.get(r.id, ()):
            seen = found.get(r.case_id)
            times = (seen["times"] if seen else 0) + 1
            if seen is None or p["at"] >= seen["at"]:
                seen = {"at": p["at"], "by": p["by"], "role": p["role"], "note": p["note"], "rule": r.rule,
                        "step": r.step_key}
            found[r.case_id] = {**seen, "times": times}
    return found
