"""A sample check's wrong exits waiting for the county office to register their problem item (DOMAIN §8,
§9): the household's procedure that was under way when they were recorded has ended, none is registered,
and a deadline (a rule `when: {sample_waiting: true}`, config/deadlines.yaml) is open for it, owned by a
person of the office. Their list of work shows theirs, with the draws they were found in."""
from __future__ import annotations

from typing import Any

from sqlalchemy import literal_column, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.one_of import one_of
from engine.domain.auth import Actor
from engine.domain.deadline_rules import compiled

SHOWN = 50
_OPEN = literal_column("'open'")      # as the partial index uq_deadlines_open reads it


def sample_rules(app: App) -> list[str]:
    """The names of the rules that start when a sample check's wrong exit waits to be registered."""
    rules = compiled(app.config)
    return sorted(n for n, r in (rules.rules.items() if rules is not None else ())
                  if any(tr.sample_waiting for tr in r.when))


def registrations_due(app: App, actor: Actor, limit: int = SHOWN) -> list[dict[str, Any]]:
    """The actor's open deadlines to register a sample check's wrong exit, earliest due first: each
    household (`case`, `title`, `region`), `due_on` and `rule`, and the `draws` its waiting wrong exits
    were recorded in. Read by the (rule, status, due_on) index: a few a county a year."""
    names = sample_rules(app)
    if not names:
        return []
    d = t.deadlines.c
    with app.engine.connect() as conn:
        rows = conn.execute(select(d.case_id, d.due_on, d.rule, t.cases.c.title, t.cases.c.region_code)
                            .join(t.cases, t.cases.c.id == d.case_id)
                            .where(d.rule.in_(names), d.status == _OPEN, d.owner_id == actor.person_id)
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
    return [{"case": r.case_id, "title": r.title, "region": r.region_code, "due_on": r.due_on, "rule": r.rule,
             "draws": draws.get(r.case_id, [])} for r in rows]
