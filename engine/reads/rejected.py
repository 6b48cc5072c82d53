"""What was rejected, and why: a case whose procedure a step (or an objection upheld) ended rejected
is handed back to whoever must do it again, and they read here at which step, by whom, when and for
what reason (the village on its list of work and on the case's page; the office that rejected it,
the cases it handed back and nobody has taken up since)."""
from __future__ import annotations

from datetime import date
from typing import Any, Sequence

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.one_of import one_of
from engine.domain.auth import Actor
from engine.domain.deadline_rules import aware, office_zone
from engine.domain.errors import render_stored
from engine.domain.regions import level_of
from engine.reads.case_record import person_names
from engine.reads.case_lists import within

RETURNED_SHOWN = 50


def last_rejections(app: App, case_ids: Sequence[int], lang: str = "zh") -> dict[int, dict[str, Any]]:
    """{case: its rejection} for the cases whose latest procedure to end was rejected, while nothing but
    that procedure again (its redo) has started since: `procedure`, `step`, `person` and `person_name`
    (who rejected it, or who upheld the objection that did), `role` (their post), `day`, `reason` (in
    the reader's language: an objection upheld's is its ruling). Three indexed reads, whatever the
    number of cases."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    p, c = t.procedures.c, t.cases.c
    opened = aliased(t.procedures)
    with app.engine.connect() as conn:
        latest = select(func.max(p.id)).where(one_of(p.case_id), p.status != "open").group_by(p.case_id)
        rows = conn.execute(select(p.id, p.case_id, p.kind, p.ended_at, p.outcome_reason)
                            .join(t.cases, c.id == p.case_id).outerjoin(opened, opened.c.id == c.open_procedure_id)
                            .where(p.id.in_(latest.scalar_subquery()), p.status == "rejected",
                                   (opened.c.id.is_(None)) | (opened.c.kind == p.kind)), {"ids": ids}).all()
        return _described(app, conn, rows, lang)


def returned_by_my_posts(app: App, actor: Actor, lang: str = "zh", limit: int = RETURNED_SHOWN) -> list[dict[str, Any]]:
    """The cases under the reader's posts above a village that a step done in one of those posts' names
    rejected (a township's review, a county's approval), or whose notice an objection upheld by one of
    those posts ended rejected, where nothing has started since and a step waits: handed back to the
    village (or township) below, on nobody's list at the office that rejected them. Each
    case with where it waits now and its rejection, the latest rejection first."""
    posts = sorted({a.region_code for a in actor.assignments if level_of(a.region_code) != "village"})
    if not posts:
        return []
    p, s, c, e = t.procedures.c, t.steps.c, t.cases.c, t.audit_events.c
    later = aliased(t.procedures)
    by_step = exists().where(s.procedure_id == p.id, s.decision == "rejected", s.voided_at.is_(None),
                             s.role_region.in_(posts), s.role_region != c.region_code)
    by_objection = exists().where(e.case_id == c.id, e.procedure_id == p.id, *UPHELD, _ruled_in(app, posts))
    with app.engine.connect() as conn:
        found = conn.execute(
            select(c.id.label("case_id"), c.title, c.region_code, c.pending_procedure, c.pending_step)
            .join(t.procedures, p.case_id == c.id)
            .where(within(posts), c.open_procedure_id.is_(None), c.pending_step.is_not(None), p.status == "rejected",
                   ~exists().where(later.c.case_id == c.id, later.c.id > p.id), or_(by_step, by_objection))
            .order_by(p.ended_at.desc(), c.id).limit(limit)).all()
        names = dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(
            t.regions.c.code.in_({r.region_code for r in found}))).all()) if found else {}
    why = last_rejections(app, [r.case_id for r in found], lang)
    return [{"id": r.case_id, "title": r.title, "region": r.region_code, "region_name": names.get(r.region_code),
             "pending_procedure": r.pending_procedure, "pending_step": r.pending_step, "rejected": why[r.case_id]}
            for r in found if r.case_id in why]


# The event of the objection upheld that ended its procedure rejected (engine.services.case_actions.
# resolve_objection): one a procedure so ended, read through its case's events.
UPHELD = (t.audit_events.c.action == "objection_resolved",
          t.audit_events.c.detail["procedure_rejected"].as_boolean())


def _ruled_in(app: App, posts: Sequence[str]):
    """The objection's ruling was made in one of `posts`. Its event records the role of who ruled, not
    the post's region: the post is the one of that role over the case, held at the role's level (a post
    is held over a region of its own level, engine.services.org), so that post answers for the case
    sent back, as the post whose step rejected a procedure does. It is not taken to be the township
    over the village: a county's office may rule on an objection too (OBJECTION_RESOLVERS), and then it
    is the county that sent the case back."""
    roles = app.config.roles
    return or_(*(and_(within([post]), t.cases.c.region_code != post,
                      t.audit_events.c.role.in_([name for name, r in roles.items() if r.level == level_of(post)]))
                 for post in posts))


def _described(app: App, conn, rows, lang: str) -> dict[int, dict[str, Any]]:
    """Each rejected procedure's rejecting step (its last step decided `rejected`, not voided) or, where
    no step rejected it, the objection upheld at its notice: its ruling's event (who, in which post, when)."""
    if not rows:
        return {}
    s, o, n = t.steps.c, t.objections.c, t.notices.c
    pids = [r.id for r in rows]
    by: dict[int, tuple[str, int, str | None, date]] = {}
    for step in conn.execute(select(s.procedure_id, s.step_key, s.person_id, s.role, s.effective_date)
                             .where(one_of(s.procedure_id), s.decision == "rejected", s.voided_at.is_(None))
                             .order_by(s.id), {"ids": pids}):
        by[step.procedure_id] = (step.step_key, step.person_id, step.role, step.effective_date)
    upheld = [r for r in rows if r.id not in by]
    if upheld:
        zone = office_zone(app.config)
        e = t.audit_events.c
        for ruled in conn.execute(select(e.procedure_id, n.step_key, e.person_id, e.role, e.at)
                                  .join(t.objections, o.id == e.detail["objection"].as_integer())
                                  .join(t.notices, n.id == o.notice_id)
                                  .where(one_of(e.case_id), e.procedure_id.in_([r.id for r in upheld]), *UPHELD),
                                  {"ids": [r.case_id for r in upheld]}):
            by[ruled.procedure_id] = (ruled.step_key, ruled.person_id, ruled.role,
                                      aware(ruled.at).astimezone(zone).date())
    people = person_names(conn, [who for _k, who, _r, _d in by.values()])
    found = {}
    for r in rows:
        step, who, role, day = by.get(r.id, (None, None, None, aware(r.ended_at).astimezone(office_zone(app.config)).date()))
        code, name = people.get(who, (None, None))
        found[r.case_id] = {"procedure_id": r.id, "procedure": r.kind, "step": step, "person": code,
                            "person_name": name, "role": role, "day": day,
                            "reason": render_stored(app.config, r.outcome_reason, lang) or ""}
    return found
