"""Handing over a person's open deadlines when they leave, when a post of theirs ends, or when a post is
filled (DOMAIN §6: every piece of work has an owner in office).

The sweep finds a deadline's owner again only when an alert falls due (engine/services/sweep.py), so
a deadline whose every level was already sent stayed with a person who had left: listed under them
on the supervisor's page, pressed into their mailbox. Here the owner is found again at once, in the
transaction that changes who holds the post, by the sweep's own rule (`refind_owners`):
the nearest holder of the post that owned it, the household's first pairing cadre in force, or nobody
(the deadline is then shown unowned, never the leaver's, and goes to the successor appointed to the
post). Each hand-over is one organisation event
(`deadlines_handed_over`: why, from whom, to whom, which deadlines), besides the deadline's own
`owner_changes`.
"""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any, Sequence

from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.deadline_rules import aware, compiled, handed_to, office_zone, overdue_by
from engine.domain.regions import prefix
from engine.services.plugins import HandoverMessage
from engine.services.sweep import CASES, NO_OWNER_IN_OFFICE, refind_owners

ACTION = "deadlines_handed_over"
BATCH = 1000
_d = t.deadlines.c


def owned_by(conn, person_id: int) -> list:
    """The open deadlines a person owns (the owner index)."""
    return conn.execute(select(t.deadlines).where(_d.owner_id == person_id, _d.status == "open")
                        .order_by(_d.id)).all()


def unowned_under(conn, region_code: str, after: int = 0, limit: int = BATCH) -> list:
    """Open deadlines in a region (and below) that have no owner in office: nobody, or a person who
    left. By id, in batches; both read through the (owner, status) index."""
    low = prefix(region_code)
    under = (_d.status == "open", _d.region_code >= low, _d.region_code < low + "~", _d.id > after)
    found = [r for owner in NO_OWNER_IN_OFFICE
             for r in conn.execute(select(t.deadlines).where(owner, *under).order_by(_d.id).limit(limit))]
    return sorted(found, key=lambda r: r.id)[:limit]


def hand_over(app, uow, actor, role: str | None, region: str, why: str, rows: Sequence,
              now: datetime | None = None, **detail: Any) -> list[dict[str, Any]]:
    """Find the owner of each deadline in `rows` again, now; record what changed in one organisation
    event (`why`: person_deactivated, role_revoked, role_granted, press). Returns the changes:
    {deadline, case, from, to, role} with persons' codes (`to` None: nobody holds the post)."""
    rules = compiled(app.config)
    if rules is None or not rows:
        return []
    conn, now = uow.conn, aware(now or app.clock.now())
    cases = {c.id: c for c in conn.execute(CASES, {"ids": sorted({r.case_id for r in rows})})}
    before = {r.id: r.owner_id for r in rows}
    rows = [_plain(r) for r in rows]
    changed = refind_owners(app, conn, rules, rows, cases, now)
    if not changed:
        return []
    ids = sorted({i for c in changed for i in (before[c["b_id"]], c["b_owner"]) if i is not None})
    codes = dict(conn.execute(select(t.persons.c.id, t.persons.c.code).where(t.persons.c.id.in_(ids))).all())
    case_of = {r.id: r.case_id for r in rows}
    handed = [{"deadline": c["b_id"], "case": case_of[c["b_id"]], "from": codes.get(before[c["b_id"]]),
               "to": codes.get(c["b_owner"]), "role": c["b_role"]} for c in changed]
    uow.append_org_event(actor, ACTION, role, region, why=why, **detail,
                         handed=[[h["deadline"], h["case"], h["from"], h["to"], h["role"]] for h in handed])
    _tell_new_owners(app, conn, {r.id: r for r in rows}, cases, before, changed, why, now)
    return handed


def _tell_new_owners(app, conn, rows: dict, cases: dict, before: dict[int, int | None], changed: list[dict],
                     why: str, now: datetime) -> None:
    """Each new owner is told at once, on their channels, in their language, of the work handed to them:
    what, which case, due or since when overdue, whom it came from and why. Their ladder's levels may all
    have been sent already (no sweep would ever tell them), and a press went to who held it before."""
    owners = sorted({c["b_owner"] for c in changed if c["b_owner"] is not None})
    if not owners:
        return
    ids = sorted(set(owners) | {i for i in before.values() if i is not None})
    people = {r.id: r for r in conn.execute(select(t.persons.c.id, t.persons.c.code, t.persons.c.name)
                                            .where(t.persons.c.id.in_(ids)))}
    channels = app.plugins.channels_of(conn, owners)
    today = now.astimezone(office_zone(app.config)).date()
    for c in changed:
        owner = people.get(c["b_owner"])
        if owner is None or not channels.get(owner.id):
            continue
        d = rows[c["b_id"]]
        came = people.get(before[d.id])
        if came is None:        # a vacant post filled: whoever held it before the vacancy (a13 #4)
            gone = (handed_to(d.owner_id, d.owner_changes) or {}).get("came_from")
            came = conn.execute(select(t.persons.c.id, t.persons.c.code, t.persons.c.name)
                                .where(t.persons.c.id == gone)).first() if gone is not None else None
        app.plugins.enqueue_handover(app, conn, HandoverMessage(
            deadline=d, case=cases[d.case_id], owner=(owner.id, owner.code, owner.name),
            came_from=(came.code, came.name) if came is not None else None, why=why,
            days_overdue=overdue_by(app.config, d.due_on, today, d.counting)), channels[owner.id], now)


def _plain(row) -> SimpleNamespace:
    return SimpleNamespace(**row._asdict())


def posts_filled(app, uow, actor, role: str | None, posts: Sequence[tuple[str, str]], person: str) -> list[dict]:
    """Posts (role, region) just given to `person`: the deadlines under them that had no owner in
    office (nobody, or one who left) are found an owner again, in batches."""
    handed: list[dict] = []
    for region in sorted({region for _, region in posts}):
        after = 0
        while rows := unowned_under(uow.conn, region, after):
            handed += hand_over(app, uow, actor, role, region, "role_granted", rows, person=person)
            after = rows[-1].id
            if len(rows) < BATCH:
                break
    return handed


def pairing_named(app, conn, case_ids: Sequence[int], now: datetime) -> None:
    """Pairing cadres named (调整帮扶责任人 after a cadre left or moved): the open deadlines a household's
    pairing cadre owns (by their rule, or a step of an open procedure theirs to do) go at once to the one now in force, not at their next alert (which, all sent, never
    comes). The step is the audit event; each deadline records the change in `owner_changes`."""
    rules = compiled(app.config)
    if rules is None or not case_ids:
        return
    rows = [_plain(r) for r in conn.execute(select(t.deadlines).where(
        _d.case_id.in_(sorted(set(case_ids))), _d.status == "open", _d.owner_role == "pairing_cadre"))]
    mine = [r for r in rows if (rule := rules.rules.get(r.rule)) is not None and rule.owner in ("pairing_cadre", "step_roles")]
    for r in mine:      # a step the pairing cadre owned (an open exit's acknowledgement): the new cadre's now
        r.follows_pairing = True
    if mine:
        cases = {c.id: c for c in conn.execute(CASES, {"ids": sorted({r.case_id for r in mine})})}
        refind_owners(app, conn, rules, mine, cases, aware(now))
