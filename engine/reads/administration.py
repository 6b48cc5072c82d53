"""What the administrator's pages read: the people of their jurisdiction a page at a time (keyset on
the person code, searched by name or code), one person's record (posts with their history, the
proposals waiting for a second administrator, alert channels, how far the account is taken up), the
regions an administrator may name in a form, and the region tree with its households.

Scoped like the administrator's own writes: the regions of their administrator posts (a person is
theirs when a post of theirs, held or ended, or a proposal lies there). Nothing is read into memory
beyond one page."""
from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, or_, select, true

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.deadline_rules import aware, wall_clock
from engine.domain.errors import NotFound
from engine.domain.regions import ROOT, ancestors_of, covers, highest, level_of
from engine.reads.case_lists import region_names_in, within
from engine.reads.leaving import left_behind
from engine.services.org import require_admin

PEOPLE_PAGE = 50          # people a page
REGIONS_OFFERED = 3000    # regions offered as a form's choices at most (a city has a few thousand villages)
SEARCH_MAX = 40           # characters of a search kept


def admin_regions(app: App, actor: Actor) -> list[str]:
    """The top regions of the actor's administrator posts (refused when they hold none)."""
    roles = app.config.roles
    found = [a.region_code for a in actor.assignments if a.role in roles and roles[a.role].admin]
    if not found:
        require_admin(app, actor, ROOT, "person list")
    return highest(found)


def _theirs(mine: list[str]):
    """A condition on persons: one of their posts (held or ended) or proposals lies in `mine`; every
    person for an administrator of the whole country (people without a post too)."""
    if ROOT in mine:
        return true()
    p, ra, rp = t.persons.c, t.role_assignments.c, t.role_proposals.c
    return or_(exists().where(ra.person_id == p.id, within(mine, ra.region_code)),
               exists().where(rp.person_id == p.id, within(mine, rp.region_code)))


def people_page(app: App, actor: Actor, search: str = "", after: str | None = None,
                limit: int = PEOPLE_PAGE) -> dict[str, Any]:
    """One page of the administrator's people in code order, after the code `after`; `search` is
    part of a name or of a code (any case). {rows, total, next (the code to go on after, or None)}."""
    mine = admin_regions(app, actor)
    p = t.persons.c
    conds = [_theirs(mine)]
    search = (search or "").strip()[:SEARCH_MAX]
    if search:
        conds.append(or_(p.name.contains(search, autoescape=True),
                         func.lower(p.code).contains(search.lower(), autoescape=True)))
    with app.engine.connect() as conn:
        rows = conn.execute(select(p.id, p.code, p.name, p.active, p.token_hash).where(
            *conds, *([p.code > after] if after else [])).order_by(p.code).limit(limit + 1)).all()
        total = conn.execute(select(func.count()).select_from(t.persons).where(*conds)).scalar()
        shown = rows[:limit]
        accounts = _accounts(app, conn, shown)
        posts = _posts(conn, [r.id for r in shown], held_only=True)
        names = region_names_in(conn, [x["region"] for found in posts.values() for x in found])
    people = [{"code": r.code, "name": r.name, "active": r.active, "posts": posts.get(r.id, []),
               **accounts[r.id]} for r in shown]
    return {"rows": people, "total": total, "region_names": names, "search": search,
            "next": shown[-1].code if len(rows) > limit else None}


def _posts(conn, ids: list[int], held_only: bool = False) -> dict[int, list[dict[str, Any]]]:
    ra = t.role_assignments.c
    if not ids:
        return {}
    q = select(ra.person_id, ra.role, ra.region_code, ra.granted_at, ra.revoked_at, ra.granted_by).where(
        ra.person_id.in_(ids)).order_by(ra.id)
    if held_only:
        q = q.where(ra.revoked_at.is_(None))
    found: dict[int, list[dict[str, Any]]] = {}
    for r in conn.execute(q):
        found.setdefault(r.person_id, []).append({"role": r.role, "region": r.region_code, "granted_at": r.granted_at,
                                                  "revoked_at": r.revoked_at, "granted_by": r.granted_by})
    return found


def _accounts(app: App, conn, people: list) -> dict[int, dict[str, Any]]:
    """Per person id: whether they took their account up (an enrolment code spent: signed in once),
    hold a password, a login token, a code still waiting to be spent; their alert channels' kinds."""
    ids = [r.id for r in people]
    if not ids:
        return {}
    e = t.enrolment_codes.c
    passwords = set(conn.execute(select(t.passwords.c.person_id).where(t.passwords.c.person_id.in_(ids))).scalars())
    spent = dict(conn.execute(select(e.person_id, func.max(e.spent_at)).where(
        e.person_id.in_(ids), e.spent_at.isnot(None)).group_by(e.person_id)).all())
    now = app.clock.now()
    waiting: dict[int, dict[str, Any]] = {}
    for r in conn.execute(select(e.person_id, e.delivery, e.expires_at, e.issued_at).where(
            e.person_id.in_(ids), e.spent_at.is_(None), e.withdrawn_at.is_(None)).order_by(e.id)):
        if aware(r.expires_at) > now:
            waiting[r.person_id] = {"delivery": r.delivery, "expires": wall_clock(app.config, r.expires_at)}
    channels: dict[int, list[str]] = {}
    pc = t.person_channels.c
    for r in conn.execute(select(pc.person_id, pc.channel).where(pc.person_id.in_(ids), pc.active.is_(True))
                          .order_by(pc.id)):
        if r.channel not in channels.setdefault(r.person_id, []):
            channels[r.person_id].append(r.channel)
    return {r.id: {"signed_in": wall_clock(app.config, spent[r.id]) if spent.get(r.id) else None,
                   "password": r.id in passwords, "token": r.token_hash is not None,
                   "code_waiting": waiting.get(r.id), "channels": channels.get(r.id, [])} for r in people}


def person_record(app: App, actor: Actor, code: str) -> dict[str, Any]:
    """One person of the administrator's: their posts (held and ended, who granted them), a reassignment
    or removal decided against them and not carried out yet, proposals for them (waiting, and decided),
    alert channels with their addresses, and their account. A person
    outside the administrator's regions is, for them, one that does not exist."""
    from engine.services.accountability import ENDS_POSTS
    from engine.services.role_proposals import pending
    mine = admin_regions(app, actor)
    p, rp = t.persons.c, t.role_proposals.c
    with app.engine.connect() as conn:
        person = conn.execute(select(t.persons).where(p.code == code, _theirs(mine))).first()
        if person is None:
            raise NotFound("person.unknown", code=code)
        posts = _posts(conn, [person.id]).get(person.id, [])
        decided = conn.execute(select(rp.role, rp.region_code, rp.status, rp.decided_at, rp.reason, rp.proposed_by,
                                      rp.decided_by).where(rp.person_id == person.id, rp.status != "pending")
                               .order_by(rp.id)).all()
        who = {r.id: r.code for r in conn.execute(select(p.id, p.code).where(p.id.in_(
            {x["granted_by"] for x in posts} | {d.proposed_by for d in decided} | {d.decided_by for d in decided})))}
        pc = t.person_channels.c
        channels = [{"channel": r.channel, "address": r.address, "lang": r.lang} for r in conn.execute(
            select(pc.channel, pc.address, pc.lang).where(pc.person_id == person.id, pc.active.is_(True))
            .order_by(pc.id))]
        account = _accounts(app, conn, [person])[person.id]
        ao = t.accountability_outcomes.c      # a reassignment or removal decided and not carried out yet
        undone = conn.execute(select(ao.id, ao.outcome, ao.region_code, ao.problem_id, ao.decided_on, ao.due_on).where(
            ao.person_id == person.id, ao.due_on.is_not(None), ao.done_on.is_(None)).order_by(ao.id)).all()
        waiting = pending(app, actor, [code])
        leaves = left_behind(app, conn, person, app.clock.now())
        names = region_names_in(conn, [x["region"] for x in posts] + [d.region_code for d in decided]
                                + [w["region"] for w in waiting] + [o.region_code for o in undone])
    history = [{"role": x["role"], "region": x["region"], "granted_at": wall_clock(app.config, x["granted_at"]),
                "granted_by": who.get(x["granted_by"]), "revoked_at": wall_clock(app.config, x["revoked_at"])
                if x["revoked_at"] else None} for x in posts]
    return {"person": {"code": person.code, "name": person.name, "active": person.active}, **account,
            "held": [h for h in history if h["revoked_at"] is None],
            "history": history, "waiting": waiting, "channels": channels, "region_names": names, "leaves": leaves,
            "outcomes_undone": [{"id": o.id, "outcome": o.outcome, "region": o.region_code, "problem_id": o.problem_id,
                                 "decided_on": o.decided_on.isoformat(), "due_on": o.due_on.isoformat(),
                                 "overdue_days": max(0, (app.clock.today() - o.due_on).days),
                                 "ends_posts": o.outcome in ENDS_POSTS} for o in undone],
            "decided": [{"role": d.role, "region": d.region_code, "status": d.status,
                         "decided_at": wall_clock(app.config, d.decided_at), "reason": d.reason,
                         "proposed_by": who.get(d.proposed_by), "decided_by": who.get(d.decided_by)}
                        for d in decided]}


def region_choices(app: App, actor: Actor, limit: int = REGIONS_OFFERED) -> list[dict[str, str]]:
    """The regions an administrator may name in a form (a post's region), in code order: [{code, name,
    level}], at most `limit`."""
    mine = admin_regions(app, actor)
    r = t.regions.c
    with app.engine.connect() as conn:
        rows = conn.execute(select(r.code, r.name, r.level).where(within(mine, r.code)).order_by(r.code)
                            .limit(limit)).all()
    return [{"code": x.code, "name": x.name, "level": x.level} for x in rows]


def region_tree(app: App, actor: Actor, under: str | None = None) -> dict[str, Any]:
    """A region of the administrator's (`under`; by default their top region, and down while it has a
    single child: a county administrator lands on their county), the path to it, its children and
    their children, each with its number of households (registered household cases under it)."""
    mine = admin_regions(app, actor)
    r = t.regions.c
    with app.engine.connect() as conn:
        if under:
            level_of(under)                     # a code that is no region code is refused as such
            known = conn.execute(select(r.code).where(r.code == under)).scalar()
            if known is None or not any(covers(m, under) for m in mine):
                raise NotFound("region.unknown", code=under)
            node = under
        else:
            node = mine[0]
            while True:
                only = conn.execute(select(r.code).where(r.parent_code == node).limit(2)).scalars().all()
                if len(only) != 1:
                    break
                node = only[0]
        children = conn.execute(select(r.code, r.name, r.level).where(r.parent_code == node).order_by(r.code)).all()
        below = conn.execute(select(r.code, r.name, r.level, r.parent_code).where(
            r.parent_code.in_([c.code for c in children])).order_by(r.code)).all() if children else []
        c = t.cases.c
        counts = conn.execute(select(c.region_code, func.count()).where(
            c.kind == "household", within([node], c.region_code)).group_by(c.region_code)).all()
        path = [a for a in reversed(ancestors_of(node)) if any(covers(m, a) for m in mine)]
        names = region_names_in(conn, path)
    households = lambda code: sum(n for where, n in counts if covers(code, where))  # noqa: E731
    grand: dict[str, list[dict[str, Any]]] = {}
    for b in below:
        grand.setdefault(b.parent_code, []).append({"code": b.code, "name": b.name, "level": b.level,
                                                    "households": households(b.code)})
    return {"node": {"code": node, "name": names.get(node, node), "level": level_of(node),
                     "households": households(node)},
            "path": [{"code": a, "name": names.get(a, a)} for a in path[:-1]],
            "tops": [m for m in mine if m != node and not covers(m, node)],
            "children": [{"code": ch.code, "name": ch.name, "level": ch.level, "households": households(ch.code),
                          "children": grand.get(ch.code, [])} for ch in children]}


def provinces_in_use(app: App) -> list[str]:
    """The provinces (two-digit codes) that hold regions of this installation: those whose income
    lines its rules must give."""
    with app.transaction() as conn:
        return list(conn.execute(select(func.substr(t.regions.c.code, 1, 2)).where(t.regions.c.code != ROOT)
                                 .distinct()).scalars())
