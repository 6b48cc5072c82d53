"""Public notices (公示公告) as objects: the text posted on the board, generated from the record.

A notice lists the cases of one step at one scope (a village's list is one notice). What it shows
is chosen here and nowhere else: the case's name (a household's head), its village, its size and
what is proposed. It never shows an ID number, phone number, bank account or health detail, so the
template is given only those fields (it cannot print what it is not given).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, true, update
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.templates import TEMPLATES
from engine.domain.auth import Actor
from engine.domain.deadline_rules import compiled
from engine.domain.errors import NotFound, translator
from engine.domain.facts import last_day
from engine.services.org import require_reader

_ENVIRONMENTS: dict = {}


def _environment(html: bool):
    if html not in _ENVIRONMENTS:
        from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape  # when first posted
        _ENVIRONMENTS[html] = Environment(loader=FileSystemLoader(TEMPLATES), trim_blocks=True, lstrip_blocks=True,
                                          autoescape=select_autoescape(["html"]) if html else False,
                                          undefined=StrictUndefined)
    return _ENVIRONMENTS[html]


def notice_view(app: App, conn: Connection, notice_id: int) -> dict[str, Any]:
    """What the board may show: the only data the templates receive. A notice counted in working
    days gives its working days (a 7-working-day notice over the National Day holiday spans 15)."""
    n = conn.execute(select(t.notices).where(t.notices.c.id == notice_id)).first()
    if n is None:
        raise NotFound("notice.unknown", notice=notice_id)
    sizes = (select(t.household_members.c.case_id, func.count().label("size"))
             .where(t.household_members.c.active == true()).group_by(t.household_members.c.case_id).subquery())
    rows = conn.execute(
        select(t.cases.c.id, t.cases.c.kind, t.cases.c.title, t.cases.c.region_code, t.regions.c.name.label("region"),
               sizes.c.size)
        .join(t.notice_cases, t.notice_cases.c.case_id == t.cases.c.id)
        .join(t.regions, t.regions.c.code == t.cases.c.region_code)
        .outerjoin(sizes, sizes.c.case_id == t.cases.c.id)
        .where(t.notice_cases.c.notice_id == notice_id).order_by(t.cases.c.id)).all()
    region = conn.execute(select(t.regions.c.name).where(t.regions.c.code == n.region_code)).scalar()
    poster = conn.execute(select(t.persons.c.name).where(t.persons.c.id == n.posted_by)).scalar()
    field, shown = _shown(app, conn, n, rows)
    return {"id": n.id, "scope": n.scope, "region": region, "region_code": n.region_code, "shows": field,
            "procedure": n.procedure_kind, "step": n.step_key, "start": n.start_date, "end": n.end_date,
            "last": last_day(n.end_date),
            "days_required": n.days_required, "days": _days(app, n),
            "working_days": bool(n.working_days), "posted_by": poster,
            "cases": [{"no": i, "id": r.id, "kind": r.kind, "name": r.title, "village": r.region,
                       "size": r.size, "shown": shown.get(r.id)} for i, r in enumerate(rows, start=1)]}


def _shown(app: App, conn: Connection, n: Any, rows: list) -> tuple[str | None, dict[int, str]]:
    """What the notice's step names beside each case (its `shows`: TYPE.FIELD, a contractor notice's
    contractor), from each case's evidence of TYPE in force when the notice was posted (the latest
    attached by then: a later change's contract is not this notice's): (FIELD, {case: text}); (None, {})
    for a notice that names nothing more."""
    if not rows:
        return None, {}
    procedure = app.config.workflows[rows[0].kind].procedures.get(n.procedure_kind)
    step = next((s for s in procedure.steps if s.key == n.step_key), None) if procedure else None
    if step is None or step.shows is None:
        return None, {}
    etype, _, fname = step.shows.partition(".")
    found = conn.execute(select(t.evidence.c.case_id, t.evidence.c.fields).where(
        t.evidence.c.case_id.in_([r.id for r in rows]), t.evidence.c.type == etype,
        t.evidence.c.attached_at <= n.posted_at).order_by(t.evidence.c.id)).all()
    return fname, {e.case_id: str((e.fields or {}).get(fname) or "")[:100] for e in found}


def _days(app: App, notice: Any) -> int:
    rules = compiled(app.config) if notice.working_days else None
    if rules is None:
        return (notice.end_date - notice.start_date).days
    return rules.calendar.days_between(notice.start_date, notice.end_date, "working")[0]


def render(app: App, view: dict[str, Any], lang: str = "zh", html: bool = False) -> str:
    config = app.config

    template = _environment(html).get_template("notice.html" if html else "notice.txt.j2")
    return template.render(n=view, t=translator(config, lang), lang=lang)


def store_rendered(app: App, conn: Connection, notice_id: int) -> str:
    """Keep the text as posted with the notice, in the transaction that posts it; returns it."""
    text = render(app, notice_view(app, conn, notice_id))
    conn.execute(update(t.notices).where(t.notices.c.id == notice_id).values(rendered=text))
    return text


def notice_for_reader(app: App, actor: Actor, notice_id: int) -> tuple[dict[str, Any], str | None]:
    with app.engine.connect() as conn:
        view = notice_view(app, conn, notice_id)
        require_reader(app, actor, view["region_code"])
        posted = conn.execute(select(t.notices.c.rendered).where(t.notices.c.id == notice_id)).scalar()
    return view, posted
