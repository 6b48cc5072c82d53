"""Public notices (公示公告) as objects: the text posted on the board, generated from the record.

A notice lists the cases of one step at one scope (a village's list is one notice). What it shows
is chosen here and nowhere else: the case's name (a household's head), its village, its size and
what is proposed; a fund project's notice (its step's `wording: project`) the project's own facts
instead of a size (engine/reads/notice_words.py). It never shows an ID number, phone number, bank
account or health detail, so the template is given only those fields (it cannot print what it is
not given).
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
from engine.domain.facts import announced, last_day
from engine.reads.listings import notice_detail, notice_reach
from engine.reads.notice_words import notice_words, project_facts

_ENVIRONMENTS: dict = {}
# How an announcement (no `wording` of its own) lists the cases of a kind: a household's is a household list
KIND_WORDING = {"project": "project", "village": "village"}


def _environment(html: bool):
    if html not in _ENVIRONMENTS:
        from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape  # when first posted
        _ENVIRONMENTS[html] = Environment(loader=FileSystemLoader(TEMPLATES), trim_blocks=True, lstrip_blocks=True,
                                          autoescape=select_autoescape(["html"]) if html else False,
                                          undefined=StrictUndefined)
    return _ENVIRONMENTS[html]


def notice_view(app: App, conn: Connection, notice_id: int) -> dict[str, Any]:
    """What the board may show: the only data the templates receive. A notice counted in working
    days gives its working days (a 7-working-day notice over the National Day holiday spans 15).
    Its step's `wording` says how it reads: a household list (each household's size), or a fund
    project's (each project's unit, leader, money and beneficiaries, `project`), as the record held
    them when it was posted; what its `shows` names beside each case is in `shown`."""
    n = conn.execute(select(t.notices).where(t.notices.c.id == notice_id)).first()
    if n is None:
        raise NotFound("notice.unknown", notice=notice_id)
    sizes = (select(t.household_members.c.case_id, func.count().label("size"))
             .where(t.household_members.c.active == true()).group_by(t.household_members.c.case_id).subquery())
    rows = conn.execute(
        select(t.cases.c.id, t.cases.c.kind, t.cases.c.title, t.cases.c.region_code, t.regions.c.name.label("region"),
               t.notice_cases.c.procedure_id, sizes.c.size)
        .join(t.notice_cases, t.notice_cases.c.case_id == t.cases.c.id)
        .join(t.regions, t.regions.c.code == t.cases.c.region_code)
        .outerjoin(sizes, sizes.c.case_id == t.cases.c.id)
        .where(t.notice_cases.c.notice_id == notice_id).order_by(t.cases.c.id)).all()
    region = conn.execute(select(t.regions.c.name).where(t.regions.c.code == n.region_code)).scalar()
    poster = conn.execute(select(t.persons.c.name).where(t.persons.c.id == n.posted_by)).scalar()
    workflow, step = _step(app, n, rows)
    announcement = announced(n.days_required, n.start_date, n.end_date)
    # an announcement lists what was decided as its kind's notices do: a fund project's facts, a village by name
    own = KIND_WORDING.get(rows[0].kind) if announcement and rows else None
    wording = (step.wording if step is not None else None) or own or "household"
    shown = _shown(conn, n, step, rows, workflow.evidence_types if workflow is not None else {})
    projects = project_facts(conn, rows, n.posted_at) if wording == "project" else {}
    return {"id": n.id, "scope": n.scope, "region": region, "region_code": n.region_code, "wording": wording,
            "procedure": n.procedure_kind, "step": n.step_key, "start": n.start_date, "end": n.end_date,
            "last": n.start_date if announcement else last_day(n.end_date), "announcement": announcement,
            "issuer": _issuer(conn, n, rows) if announcement else None,
            "days_required": n.days_required, "days": _days(app, n),
            "working_days": bool(n.working_days), "posted_by": poster, "yours": None,
            "cases": [{"no": i, "id": r.id, "kind": r.kind, "name": r.title, "village": r.region,
                       "size": r.size if wording == "household" else None, "shown": shown.get(r.id, []),
                       "project": projects.get(r.id), "yours": None} for i, r in enumerate(rows, start=1)]}


def _issuer(conn: Connection, n: Any, rows: list) -> dict[str, str] | None:
    """Who issues an announcement: the office of the post its signer signed in (its region's name, and
    `office`: a poverty office's staff sign for the office (扶贫开发领导小组办公室), others for their
    government), read from the step that posted it (by the first case's steps, an index)."""
    if not rows:
        return None
    signed = conn.execute(select(t.steps.c.role, t.steps.c.role_region).where(
        t.steps.c.case_id == rows[0].id, t.steps.c.notice_id == n.id).limit(1)).first()
    if signed is None:
        return None
    name = conn.execute(select(t.regions.c.name).where(t.regions.c.code == signed.role_region)).scalar()
    return {"region": name or signed.role_region, "office": "office" if "office" in signed.role else "government"}


def _step(app: App, n: Any, rows: list) -> tuple[Any, Any]:
    """The notice's workflow and step as the rules in force define them (None: a notice of no case, or
    of a step gone)."""
    workflow = app.config.workflows.get(rows[0].kind) if rows else None
    procedure = workflow.procedures.get(n.procedure_kind) if workflow is not None else None
    return workflow, next((s for s in procedure.steps if s.key == n.step_key), None) if procedure else None


def _shown(conn: Connection, n: Any, step: Any, rows: list, evidence_types: Any) -> dict[int, list[dict[str, Any]]]:
    """What the notice's step names beside each case (its `shows`, each SOURCE.FIELD), as the record held
    it when the notice was posted: {case: [{source, field, kind, value}]}. An evidence type's field from
    the case's item of that type in force then (the latest attached by then: a later change's contract
    is not this notice's); an earlier step's recorded key from that step of the case's procedure."""
    if step is None or not step.shows or not rows:
        return {}
    ids = [r.id for r in rows]
    procedures = {r.id: r.procedure_id for r in rows}
    shown: dict[int, list[dict[str, Any]]] = {}
    for entry in step.shows:
        source, _, fname = entry.partition(".")
        kind = "evidence" if source in evidence_types else "data"     # else an earlier step (the rules checked)
        if kind == "evidence":
            found = conn.execute(select(t.evidence.c.case_id, t.evidence.c.fields).where(
                t.evidence.c.case_id.in_(ids), t.evidence.c.type == source,
                t.evidence.c.attached_at <= n.posted_at).order_by(t.evidence.c.id)).all()
            values = {e.case_id: (e.fields or {}).get(fname) for e in found}
        else:
            found = conn.execute(select(t.steps.c.case_id, t.steps.c.procedure_id, t.steps.c.data).where(
                t.steps.c.procedure_id.in_(set(procedures.values())), t.steps.c.step_key == source,
                t.steps.c.voided_at.is_(None), t.steps.c.recorded_at <= n.posted_at).order_by(t.steps.c.id)).all()
            values = {s.case_id: (s.data or {}).get(fname) for s in found if procedures.get(s.case_id) == s.procedure_id}
        if kind == "data":
            values = _households_named(conn, values)
        for case_id, value in values.items():
            if value not in (None, "", [], {}):
                shown.setdefault(case_id, []).append({"source": source, "field": fname, "kind": kind,
                                                      "value": value[:100] if isinstance(value, str) else value})
    return shown


def _households_named(conn: Connection, values: dict[int, Any]) -> dict[int, Any]:
    """A plan change's beneficiary households added and removed named on the board by their heads (the
    notice lists names, as a household list does), not by case numbers that mean nothing to a villager."""
    people = {case_id: v["beneficiaries"] for case_id, v in values.items()
              if isinstance(v, dict) and isinstance(v.get("beneficiaries"), dict)}
    ids = {i for p in people.values() for k in ("added", "removed") for i in p.get(k) or [] if isinstance(i, int)}
    if not ids:
        return values
    titles = dict(conn.execute(select(t.cases.c.id, t.cases.c.title).where(t.cases.c.id.in_(ids))).all())
    return {case_id: {**v, "beneficiaries": {k: [titles.get(i, i) for i in people[case_id].get(k) or []]
                                             for k in ("added", "removed")}} if case_id in people else v
            for case_id, v in values.items()}


def _days(app: App, notice: Any) -> int:
    rules = compiled(app.config) if notice.working_days else None
    if rules is None:
        return (notice.end_date - notice.start_date).days
    return rules.calendar.days_between(notice.start_date, notice.end_date, "working")[0]


def render(app: App, view: dict[str, Any], lang: str = "zh", html: bool = False, posted: str | None = None) -> str:
    """The notice's text (or its page for the board) in `lang`: each case's lines in words; in another
    language than Chinese, `posted` (the text posted on the board) after it, labelled as posted."""
    config = app.config
    template = _environment(html).get_template("notice.html" if html else "notice.txt.j2")
    worded = notice_words(config, view, lang)
    return template.render(n=worded, t=translator(config, lang), lang=lang, posted=posted if lang != "zh" else None)


def notice_printed(app: App, actor: Actor, notice_id: int, lang: str = "zh", html: bool = False) -> str:
    """The notice whole, as `notice render` prints it (its text, or with `html` its page for the board),
    `notice show` after its facts and its print page: for a Chinese reader the text as posted; for a
    reader in another language the notice worded in it from the record and, after it, the text posted on
    the board labelled as such (the legal record, in Chinese), never one without the other."""
    view, posted = notice_for_reader(app, actor, notice_id)
    if posted and lang == "zh" and not html:        # as notice_in_words says it to a Chinese reader
        return posted
    return render(app, view, lang, html, posted=posted)


def store_rendered(app: App, conn: Connection, notice_id: int) -> str:
    """Keep the text as posted with the notice, in the transaction that posts it; returns it."""
    text = render(app, notice_view(app, conn, notice_id))
    conn.execute(update(t.notices).where(t.notices.c.id == notice_id).values(rendered=text))
    return text


def notice_for_reader(app: App, actor: Actor, notice_id: int) -> tuple[dict[str, Any], str | None]:
    """The notice's view for `actor` and its text as posted: a reader of its region, or one whose cases it
    lists (notice_reach: the view's `yours` counts them and marks each case of theirs `yours`)."""
    with app.engine.connect() as conn:
        view = notice_view(app, conn, notice_id)
        yours = notice_reach(conn, actor, notice_id, view["region_code"])
        posted = conn.execute(select(t.notices.c.rendered).where(t.notices.c.id == notice_id)).scalar()
    if yours is not None:
        view = {**view, "yours": len(yours), "cases": [{**c, "yours": c["id"] in yours} for c in view["cases"]]}
    return view, posted


def notice_in_words(app: App, actor: Actor, notice_id: int, lang: str = "zh", reworded: bool = False) -> dict[str, Any]:
    """A notice as a reader of `lang` is shown it, by the notice page, `notice render`, `notice show` and
    the API alike: `view` (notice_view), `posted` (the text as posted, in Chinese: the legal record, None
    for a notice from before texts were kept), `text` (in `lang`: the text as posted for a Chinese reader,
    else the notice worded from the record as the board words it), `words` (notice_words in `lang`: each
    case's lines) and, asked for (`reworded`: a render of the whole notice more), `reworded`: whether the
    record words it today otherwise than the text as posted (a household's size changed since, a kind
    given its own words since), else None."""
    view, posted = notice_for_reader(app, actor, notice_id)
    text = posted if posted and lang == "zh" else render(app, view, lang)
    return {"view": view, "posted": posted, "text": text, "words": notice_words(app.config, view, lang),
            "reworded": bool(posted) and render(app, view) != posted if reworded else None}


def notice_shown(app: App, actor: Actor, notice_id: int, lang: str = "zh") -> dict[str, Any]:
    """What `notice show --json` and GET /api/v1/notices/{id} give: the notice, its cases and objections
    (notice_detail) with its text as posted kept apart as the legal record (`posted_text`, in Chinese:
    `posted_lang`), and the notice in the reader's language as its page words it (notice_in_words): `text`,
    `lang`, `reworded`, its procedure, step, scope and region by name, and each case's `no`, `village`,
    `size` (a household's) and `lines` ([label, value]: a project's facts, what its step names beside it)."""
    detail = notice_detail(app, actor, notice_id)
    shown = notice_in_words(app, actor, notice_id, lang, reworded=True)
    words = {c["id"]: c for c in shown["words"]["cases"]}
    cases = [{**c, **{k: words[c["id"]][k] for k in ("no", "village", "size", "lines")}} if c["id"] in words else c
             for c in detail["cases"]]
    label = app.config.label
    return {**{k: v for k, v in detail.items() if k not in ("rendered", "cases")},
            "procedure_name": label(f"procedure.{detail['procedure']}", lang), "step_name": label(f"step.{detail['step']}", lang),
            "scope_name": label(f"cli.scope.{detail['scope']}", lang), "region_name": shown["view"]["region"],
            "posted_by": shown["view"]["posted_by"], "wording": shown["words"]["wording"],
            "cases": cases, "lang": lang, "text": shown["text"], "reworded": shown["reworded"],
            "posted_text": shown["posted"], "posted_lang": "zh",
            "rendered": shown["posted"]}       # its name before `posted_text`, kept for the API's clients
