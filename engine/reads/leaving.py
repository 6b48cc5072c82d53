"""What a person leaves when they go (deactivated) or left: the cases waiting on them, their open
deadlines, the households they are paired with, and the posts only they hold (or held) in a region.

The administrator's person page and `person deactivate` say it before and after: a leaver's posts
left vacant strand the steps only that post may do, and a household whose pairing cadre left has
none in office until 调整帮扶责任人 names another.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.domain.deadline_rules import aware
from engine.domain.regions import prefix
from engine.services.org import holders
from engine.services.sweep import NO_OWNER_IN_OFFICE

LISTED = 10
_d, _ra, _p = t.deadlines.c, t.role_assignments.c, t.pairings.c


def left_behind(app, conn: Connection, person, now: datetime) -> dict[str, Any]:
    """{deadlines, overdue, waiting: [{case, title, step}], waiting_count, paired: [{case, title, kind}],
    paired_count, sole: [{role, region, unowned}]} of one person row (active: what leaving would leave;
    inactive: what their leaving left, posts still vacant and the work there without an owner).
    Waiting: the cases at a step only this person may do (their post's, nobody else in office holds
    any of its roles over the region), and those whose deadline for the step waited at they own."""
    now = aware(now)
    open_ = (_d.owner_id == person.id, _d.status == "open")
    deadlines, overdue = conn.execute(select(func.count(), func.count().filter(_d.due_at <= now)).where(*open_)).one()
    waiting = conn.execute(select(_d.case_id, t.cases.c.title, _d.step_key).join(t.cases, t.cases.c.id == _d.case_id)
                           .where(*open_, _d.step_key.is_not(None)).order_by(_d.due_at, _d.id)).all()
    sole = _sole_posts(conn, person)
    waiting = list({w.case_id: w for w in [*_stranded(app, conn, person, sole), *waiting]}.values())
    paired = conn.execute(select(_p.case_id, t.cases.c.title, _p.kind).join(t.cases, t.cases.c.id == _p.case_id)
                          .where(_p.person_id == person.id, _p.end_date.is_(None)).order_by(_p.kind, _p.case_id)
                          .limit(LISTED)).all()
    paired_count = conn.execute(select(func.count()).where(_p.person_id == person.id, _p.end_date.is_(None))).scalar()
    return {"deadlines": deadlines, "overdue": overdue,
            "waiting": [{"case": w.case_id, "title": w.title, "step": w.step_key} for w in waiting[:LISTED]],
            "waiting_count": len({w.case_id for w in waiting}),
            "paired": [{"case": p.case_id, "title": p.title, "kind": p.kind} for p in paired],
            "paired_count": paired_count, "sole": sole}


def _stranded(app, conn: Connection, person, sole: list[dict]) -> list:
    """(case_id, title, step_key) of the cases under a post only this person holds whose pending step
    none but them may do (nobody else in office holds any of its roles over the post's region)."""
    found = []
    for post in sole:
        for kind, workflow in app.config.workflows.items():
            for name, procedure in workflow.procedures.items():
                for step in procedure.steps:
                    if post["role"] not in step.roles or any(
                            code != person.code for code, _n, _r in holders(conn, step.roles, post["region"])):
                        continue
                    low = prefix(post["region"])
                    found += conn.execute(select(t.cases.c.id.label("case_id"), t.cases.c.title,
                                                 t.cases.c.pending_step.label("step_key")).where(
                        t.cases.c.pending_procedure == name, t.cases.c.pending_step == step.key,
                        t.cases.c.region_code >= low, t.cases.c.region_code < low + "~", t.cases.c.kind == kind)
                        .order_by(t.cases.c.id).limit(LISTED * 10)).all()
    return found


def _posts(conn: Connection, person) -> list:
    """The posts held now; for one who left, those that ended last (at their leaving)."""
    held = conn.execute(select(_ra.role, _ra.region_code).where(_ra.person_id == person.id, _ra.revoked_at.is_(None))
                        .order_by(_ra.id)).all()
    if held or person.active:
        return held
    last = select(func.max(_ra.revoked_at)).where(_ra.person_id == person.id).scalar_subquery()
    return conn.execute(select(_ra.role, _ra.region_code).where(_ra.person_id == person.id, _ra.revoked_at == last)
                        .order_by(_ra.id)).all()


def _sole_posts(conn: Connection, person) -> list[dict[str, Any]]:
    """The person's posts that nobody else in office holds in the same region, and for each the open
    deadlines under it with no owner (nobody, or one who left)."""
    found = []
    for post in dict.fromkeys(_posts(conn, person)):
        others = conn.execute(select(func.count()).select_from(t.role_assignments).join(
            t.persons, t.persons.c.id == _ra.person_id).where(
            _ra.role == post.role, _ra.region_code == post.region_code, _ra.revoked_at.is_(None),
            _ra.person_id != person.id, t.persons.c.active.is_(True))).scalar()
        if others:
            continue
        low = prefix(post.region_code)
        unowned = sum(conn.execute(select(func.count()).where(   # nobody, or one who left: the owner index
            owner, _d.status == "open", _d.region_code >= low, _d.region_code < low + "~")).scalar()
            for owner in NO_OWNER_IN_OFFICE)
        name = conn.execute(select(t.regions.c.name).where(t.regions.c.code == post.region_code)).scalar()
        found.append({"role": post.role, "region": post.region_code, "region_name": name or post.region_code,
                      "unowned": unowned})
    return found
