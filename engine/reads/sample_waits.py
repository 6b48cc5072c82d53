"""A sample check's wrong exits waiting for the county office to register their problem item (DOMAIN §8,
§9): the household's procedure that was under way when they were recorded has ended, none is registered,
and a deadline (a rule `when: {sample_waiting: true}`, config/deadlines.yaml) is open for it, owned by a
person of the office. Everyone who may register it (the problem kind's registrar: role and jurisdiction) sees
it on their list of work, whose ever it is, so it is not missed while its owner is away: `/work`, `case list
--waiting` and GET /api/v1/cases?waiting=true, each with the draws it was found in and its owner."""
from __future__ import annotations

from typing import Any

from sqlalchemy import literal_column, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.one_of import one_of
from engine.domain.auth import Actor
from engine.domain.deadline_rules import compiled, overdue_by
from engine.domain.errors import JingzhunError
from engine.reads.case_lists import within

SHOWN = 50
_OPEN = literal_column("'open'")      # as the partial index uq_deadlines_open reads it


def sample_rules(app: App) -> list[str]:
    """The names of the rules that start when a sample check's wrong exit waits to be registered."""
    rules = compiled(app.config)
    return sorted(n for n, r in (rules.rules.items() if rules is not None else ())
                  if any(tr.sample_waiting for tr in r.when))


def registration_scopes(app: App, actor: Actor) -> list[str]:
    """The regions where `actor` may register a wrong exit's problem item: those of their posts the problem
    kind's registrar admits for `wrong_exit` (workflows/problem.py: the county office's director over their
    county), the same rule `problem add --finding wrong_exit` is refused by. A household there waits for them."""
    rules = app.rules.get("problem")
    registrar = getattr(rules, "registrar", None)
    if registrar is None:
        return []
    scopes = []
    for region in dict.fromkeys(a.region_code for a in actor.assignments):
        try:
            registrar(app, actor, region, "wrong_exit")
        except JingzhunError:
            continue
        scopes.append(region)
    return scopes


def registrations_due(app: App, actor: Actor, limit: int = SHOWN) -> list[dict[str, Any]]:
    """The open deadlines to register a sample check's wrong exit that `actor` may register (within
    registration_scopes), whoever owns them, earliest due first: each household (`case`, `title`,
    `region`, `kind`, `stage`), `due_on` and `rule`, its owner (`owner`: code, `owner_name`, `owner_role`, `mine`: the actor's
    own) and the `draws` its waiting wrong exits were recorded in. Read by the (rule, status, due_on) index:
    a few a county a year."""
    names = sample_rules(app)
    scopes = registration_scopes(app, actor) if names else []
    if not scopes:
        return []
    d, p = t.deadlines.c, t.persons.c
    with app.engine.connect() as conn:
        rows = conn.execute(select(d.case_id, d.due_on, d.rule, d.counting, d.owner_id, d.owner_role, p.code, p.name,
                                   t.cases.c.title, t.cases.c.region_code, t.cases.c.kind, t.cases.c.stage)
                            .join(t.cases, t.cases.c.id == d.case_id)
                            .outerjoin(t.persons, t.persons.c.id == d.owner_id)
                            .where(d.rule.in_(names), d.status == _OPEN, within(scopes, d.region_code))
                            .order_by(d.due_on, d.case_id).limit(limit)).all()
        f = t.sample_findings.c
        draws: dict[int, list[int]] = {}
        if rows:
            for case_id, draw_id in conn.execute(select(f.case_id, f.draw_id).where(
                    one_of(f.case_id), f.finding == "wrong_exit", f.problem_id.is_(None)).order_by(f.id),
                    {"ids": [r.case_id for r in rows]}):
                draws.setdefault(case_id, [])
                if draw_id not in draws[case_id]:
                    draws[case_id].append(draw_id)
    return [{"case": r.case_id, "title": r.title, "region": r.region_code, "kind": r.kind, "stage": r.stage,
             "due_on": r.due_on, "rule": r.rule, "counting": r.counting,
             "overdue_days": overdue_by(app.config, r.due_on, app.clock.today(), r.counting),
             "owner": r.code, "owner_name": r.name, "owner_role": r.owner_role,
             "mine": r.owner_id == actor.person_id, "draws": draws.get(r.case_id, [])} for r in rows]
