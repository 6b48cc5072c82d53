"""A village's lists, for work on many households at once: what is waiting there (step by step,
with counts), the households waiting at one step, a sheet of one evidence type, the posted case
ids checked against the village; and the two look-ups the pages need to keep a reader within
their jurisdiction (an objection's notice, an evidence item's file).

Every read checks that the reader covers the village (or the case's region) first.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import and_, case, exists, func, or_, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.evidence_store import head_of
from engine.adapters.repository import held_evidence
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, NotFound
from engine.domain.evidence import prefilled
from engine.domain.facts import announced, last_day
from engine.domain.scans import SCAN_MEDIA, scan_kind
from engine.domain.regions import LEVEL_RANK, ancestor, ascii_digits, check_code, covers, level_of
from engine.services.context import step_roles
from engine.services.org import require_reader
from engine.reads.case_lists import region_range, within
from engine.reads.stale_checks import stale_for_next_step
from engine.services.guards import ASSIGNEE_ONLY


def village_of(app: App, actor: Actor, code: str) -> dict[str, Any]:
    """The village `code` (a NotFound for any other region), once the reader covers it."""
    return region_at(app, actor, code, ("village",))


LIST_LEVELS = ("village", "township", "county")     # a list step over a village, or all a township's or county's


def list_region(app: App, actor: Actor, code: str) -> dict[str, Any]:
    """The village, township or county `code` whose waiting cases a list takes (a NotFound for any
    other region), once the reader covers it, with its `level` (a township's sign-off over all its
    villages is one list, not one a village)."""
    return {**region_at(app, actor, code, LIST_LEVELS), "level": level_of(code)}


def _in_list(code: str, column=t.cases.c.region_code):
    """The cases of the list's region: the village's own, or those of every village under a township
    or county (a range on the code's prefix, which the cases' region index serves)."""
    return column == code if level_of(code) == "village" else region_range(code, column)


def region_at(app: App, actor: Actor, code: str, levels: tuple[str, ...]) -> dict[str, Any]:
    """The region `code` at one of `levels` (a NotFound for any other), once the reader covers it; a
    region of theirs at another level is said to be one (a township's code where a village's page is
    asked: what it is and what to open instead, not "no such region")."""
    if len(code) != 12 or not ascii_digits(code):
        raise NotFound("region.unknown", code=code[:12])
    with app.engine.connect() as conn:
        row = conn.execute(select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code == code)).first()
    if row is None:
        raise NotFound("region.unknown", code=code)
    require_reader(app, actor, code)
    if level_of(check_code(code)) not in levels:
        raise NotFound("bulk.not_a_village" if levels == ("village",) else "region.unknown", code=code, region=row.name)
    return {"code": row.code, "name": row.name}


VILLAGE_NOTICES = 10       # the latest notices a village's page lists (each links to its page and its objections)


def village_notices(app: App, actor: Actor, code: str, limit: int = VILLAGE_NOTICES) -> list[dict[str, Any]]:
    """The latest notices holding a household of the village `code` (posted in the village or above it),
    newest first: where a villager's objection is entered days after, without going through a household.
    One posted above the village (a township's notice, a county's announcement) says where (`above`: the
    region's name and level) and how many of the village's cases it lists (`listed`, of `kind`); read from
    the village's cases by their region index and their notices by the case's."""
    village_of(app, actor, code)
    n, nc = t.notices.c, t.notice_cases.c
    held = (select(nc.notice_id, func.count().label("listed"), func.min(t.cases.c.kind).label("kind"))
            .join(t.cases, t.cases.c.id == nc.case_id).where(t.cases.c.region_code == code)
            .group_by(nc.notice_id).subquery())
    with app.engine.connect() as conn:
        rows = conn.execute(select(n.id, n.procedure_kind, n.step_key, n.start_date, n.end_date, n.days_required,
                                   n.scope, n.region_code, held.c.listed, held.c.kind)
                            .join(held, held.c.notice_id == n.id)
                            .order_by(n.start_date.desc(), n.id.desc()).limit(limit)).all()
        above = {r.region_code for r in rows if r.region_code != code}
        names = dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(
            t.regions.c.code.in_(sorted(above)))).all()) if above else {}
    # an announcement (公告) among them: its day, no period that runs
    return [{"id": r.id, "procedure": r.procedure_kind, "step": r.step_key, "start": r.start_date,
             "last": r.start_date if (a := announced(r.days_required, r.start_date, r.end_date)) else last_day(r.end_date),
             "end": r.end_date, "announcement": a, "listed": r.listed, "kind": r.kind,
             "above": {"region": names.get(r.region_code, r.region_code), "level": level_of(r.region_code)}
             if r.region_code != code else None} for r in rows]


def my_villages(app: App, actor: Actor) -> list[dict[str, Any]]:
    """The villages under the reader's posts, each with how many of its cases wait for a step."""
    scopes = {a.region_code for a in actor.assignments}
    r, parent = t.regions.c, t.regions.alias("township")
    with app.engine.connect() as conn:       # read within the reader's regions (a province holds many)
        mine = conn.execute(select(r.code, r.name, parent.c.name.label("township"))
                            .outerjoin_from(t.regions, parent, parent.c.code == r.parent_code)
                            .where(r.level == "village", within(scopes, r.code)).order_by(r.code)).all()
        waiting = dict(conn.execute(
            select(t.cases.c.region_code, func.count()).where(t.cases.c.pending_step.is_not(None),
                                                              t.cases.c.region_code.in_([r.code for r in mine]))
            .group_by(t.cases.c.region_code)).all()) if mine else {}
    return [{"code": r.code, "name": r.name, "township": r.township, "waiting": waiting.get(r.code, 0)} for r in mine]


def my_list_regions(app: App, actor: Actor, villages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The townships and counties under the reader's posts (those holding some of `villages`, the
    reader's villages as `my_villages` gave them), each with how many cases of its villages wait: where
    a township or county signs a step off for all its villages at once."""
    scopes = {a.region_code for a in actor.assignments}
    r = t.regions.c
    with app.engine.connect() as conn:
        rows = conn.execute(select(r.code, r.name, r.level).where(r.level.in_(("township", "county")),
                                                                  within(scopes, r.code)).order_by(r.code)).all()
    shown = []
    for row in rows:
        held = [v for v in villages if covers(row.code, v["code"])]
        if held:
            shown.append({"code": row.code, "name": row.name, "level": row.level, "villages": len(held),
                          "waiting": sum(v["waiting"] for v in held)})
    return shown


def my_townships(app: App, actor: Actor) -> list[dict[str, Any]]:
    """The townships under the reader's posts, by code, with their names (a county's: each township's
    own tables to download)."""
    scopes = {a.region_code for a in actor.assignments}
    r = t.regions.c
    with app.engine.connect() as conn:
        return [{"code": row.code, "name": row.name} for row in conn.execute(
            select(r.code, r.name).where(r.level == "township", within(scopes, r.code)).order_by(r.code))]


def waiting_steps(app: App, actor: Actor, code: str) -> list[dict[str, Any]]:
    """The (kind, procedure, step) at which the village's cases wait, with counts; `signed`: of those,
    the cases whose open procedure the reader already signed (separation of duties: not theirs to do);
    `mine` when the reader holds a role that may do the step and some case is left for them. `code`
    may be a township or county: the cases of all its villages."""
    list_region(app, actor, code)
    c = t.cases.c
    signed = exists().where(t.steps.c.procedure_id == c.open_procedure_id, t.steps.c.person_id == actor.person_id,
                            t.steps.c.voided_at.is_(None))
    with app.engine.connect() as conn:
        rows = conn.execute(select(c.kind, c.pending_procedure, c.pending_step, func.count().label("n"),
                                   func.sum(case((signed, 1), else_=0)).label("signed"))
                            .where(_in_list(code), c.pending_step.is_not(None))
                            .group_by(c.kind, c.pending_procedure, c.pending_step)
                            .order_by(c.kind, c.pending_procedure, c.pending_step)).all()
        return [{"kind": r.kind, "procedure": r.pending_procedure, "step": r.pending_step, "count": r.n,
                 "signed": int(r.signed or 0),
                 "mine": r.n > (r.signed or 0) and may_do(app, actor, code, r.kind, r.pending_procedure, r.pending_step)
                 and _assigned_if_asked(app, conn, actor, code, r),
                 "per_region": _per_notice_region(app, conn, code, r)} for r in rows]


def _per_notice_region(app: App, conn, code: str, r) -> list[dict[str, Any]]:
    """A notice posted in each village (or township) of a township's (county's) list is one notice a
    board: its cases are listed by the regions that post it ([{code, name, count}]), each its own list;
    [] for any other step, or a list no wider than the notice's board (one notice for all of it)."""
    proc = app.config.workflows[r.kind].procedures.get(r.pending_procedure)
    step = proc.step(r.pending_step) if proc is not None else None
    scope = getattr(step, "scope", None) if step is not None and step.type == "notice" else None
    if scope not in LEVEL_RANK or LEVEL_RANK[scope] >= LEVEL_RANK[level_of(code)]:
        return []
    c = t.cases.c
    counts: dict[str, int] = {}
    for region, n in conn.execute(select(c.region_code, func.count()).where(
            _in_list(code), c.kind == r.kind, c.pending_procedure == r.pending_procedure,
            c.pending_step == r.pending_step).group_by(c.region_code)):
        counts[ancestor(region, scope)] = counts.get(ancestor(region, scope), 0) + n
    names = dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code.in_(sorted(counts)))).all())
    return [{"code": k, "name": names.get(k, k), "count": n} for k, n in sorted(counts.items())]


def _assigned_if_asked(app: App, conn, actor: Actor, code: str, r) -> bool:
    """A step its case's assignee alone does (a problem item's receipt, report): one of the village's
    cases there is assigned to the reader."""
    proc = app.config.workflows[r.kind].procedures.get(r.pending_procedure)
    if proc is None or ASSIGNEE_ONLY not in proc.step(r.pending_step).checks:
        return True
    c = t.cases.c
    return conn.execute(select(c.id).where(
        _in_list(code), c.kind == r.kind, c.pending_procedure == r.pending_procedure,
        c.pending_step == r.pending_step, c.attrs["assignee_id"].as_integer() == actor.person_id).limit(1)).first() \
        is not None


def participants(app: App, code: str, kind: str, procedure: str, step: str) -> set[str]:
    """The codes of everyone who took part in the open procedures of the cases of the list (those of
    the village, township or county `code` waiting at the step: every page of a township's): none of
    them may verify or sign again there (separation of duties)."""
    c, s = t.cases.c, t.steps.c
    with app.engine.connect() as conn:
        return set(conn.execute(select(t.persons.c.code).distinct()
                                .join(t.steps, s.person_id == t.persons.c.id)
                                .join(t.cases, c.open_procedure_id == s.procedure_id)
                                .where(_waiting_at(code, kind, procedure, step), s.voided_at.is_(None))).scalars())


def step_def(app: App, kind: str, procedure: str, step: str):
    """The configured step, or a BadInput naming what exists."""
    workflow = app.config.workflows.get(kind)
    if workflow is None:
        raise BadInput("case.bad_kind", kind=kind, known=", ".join(app.config.workflows))
    proc = workflow.procedures.get(procedure)
    if proc is None:
        raise BadInput("procedure.unknown", procedure=procedure, known=", ".join(workflow.procedures))
    try:
        return proc.step(step)
    except KeyError:
        raise BadInput("step.unknown", procedure=procedure, step=step,
                       known=", ".join(s.key for s in proc.steps)) from None


def may_do(app: App, actor: Actor, code: str, kind: str, procedure: str, step: str) -> bool:
    return actor.first_role(who_may(app, code, kind, procedure, step), code) is not None


def who_may(app: App, code: str, kind: str, procedure: str, step: str) -> tuple[str, ...]:
    """The roles that may do the step in the village today (none for a step the procedure lacks)."""
    proc = app.config.workflows[kind].procedures.get(procedure)
    if proc is None or step not in {s.key for s in proc.steps}:
        return ()
    return tuple(step_roles(app, proc.step(step), code, app.clock.today()))


def _waiting_at(code: str, kind: str, procedure: str, step: str):
    """The cases of the list's region of `kind` whose next step is `step` of `procedure`."""
    c = t.cases.c
    return and_(_in_list(code), c.kind == kind, c.pending_procedure == procedure, c.pending_step == step)


def waiting_cases(app: App, actor: Actor, code: str, kind: str, procedure: str, step: str) -> list[dict[str, Any]]:
    """The village's cases of `kind` whose next step is `step` of `procedure`, in id order (a village's
    households: a few hundred; a township's or county's list is read a page at a time, `waiting_page`)."""
    return waiting_page(app, actor, code, kind, procedure, step, size=None)["cases"]


LIST_PAGE = 50      # a township's or county's list, a page at a time: 50 households a phone can tick and send


def waiting_page(app: App, actor: Actor, code: str, kind: str, procedure: str, step: str, after: int = 0,
                 size: int | None = LIST_PAGE) -> dict[str, Any]:
    """The cases of the village, township or county `code` waiting at the step, by village and then by
    case, each with its village's name: the `size` after case `after` (None: every one), and how many
    wait in all (`total`), how many come before the page (`before`), where the next page starts
    (`next_after`, None on the last) and, for a township or county, how many wait in each of its
    villages (`villages`: [{code, name, count}], each its own list). Read through the cases' pending
    index a page at a time: a county of thousands waiting is never read whole."""
    list_region(app, actor, code)
    step_def(app, kind, procedure, step)
    c, r = t.cases.c, t.regions.c
    waiting = _waiting_at(code, kind, procedure, step)
    with app.engine.connect() as conn:
        start = conn.execute(select(c.region_code).where(c.id == after, waiting)).scalar() if after else None
        page = waiting if start is None else \
            and_(waiting, c.region_code >= start, or_(c.region_code > start, c.id > after))
        query = select(c.id, c.title, c.stage, c.version, c.region_code, r.name.label("village")) \
            .outerjoin(t.regions, r.code == c.region_code).where(page).order_by(c.region_code, c.id)
        rows = conn.execute(query if size is None else query.limit(size + 1)).all()
        more = size is not None and len(rows) > size
        rows = rows[:size] if more else rows
        counts = [] if level_of(code) == "village" else conn.execute(
            select(c.region_code, r.name, func.count()).outerjoin(t.regions, r.code == c.region_code)
            .where(waiting).group_by(c.region_code, r.name).order_by(c.region_code)).all()
        total = sum(n for _, _, n in counts) if level_of(code) != "village" else len(rows) if size is None else \
            conn.execute(select(func.count()).where(waiting)).scalar()
        before = 0 if start is None else conn.execute(select(func.count()).where(
            waiting, or_(c.region_code < start, and_(c.region_code == start, c.id <= after)))).scalar()
    return {"cases": [{"id": row.id, "title": row.title, "stage": row.stage, "version": row.version,
                       "village": row.village, "village_code": row.region_code} for row in rows],
            "total": total, "before": before, "size": size, "after": after if start is not None else 0,
            "next_after": rows[-1].id if more else None,
            "villages": [{"code": v, "name": name or v, "count": n} for v, name, n in counts]}


def waiting_ids(app: App, actor: Actor, code: str, procedure: str, step: str) -> list[int]:
    """The ids of the cases of the village, township or county `code` whose next step is `step` of
    `procedure` (of the kind of case that has it), in id order: `step --region`'s list, and a township
    list's "all waiting" (the ids alone, whatever the number)."""
    kinds = [k for k, w in app.config.workflows.items() if procedure in w.procedures]
    if not kinds:
        step_def(app, "household", procedure, step)         # the unknown procedure, said with those known
    kind = "household" if "household" in kinds else kinds[0]
    list_region(app, actor, code)
    step_def(app, kind, procedure, step)
    with app.engine.connect() as conn:
        return sorted(conn.execute(select(t.cases.c.id).where(_waiting_at(code, kind, procedure, step))).scalars())


def cases_in_village(app: App, actor: Actor, code: str, case_ids: Iterable[int],
                     kind: str | None = None) -> dict[int, dict[str, Any]]:
    """The posted cases, each checked to be of the village (and of `kind`; of a township's or county's
    villages when `code` is one): the first that is not is refused, whether it exists elsewhere or not
    at all."""
    region = list_region(app, actor, code)
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        raise BadInput("bulk.none_chosen")
    c = t.cases.c
    with app.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(c.id, c.title, c.kind, c.region_code).where(c.id.in_(ids)))}
    for cid in ids:
        row = rows.get(cid)
        if row is None or not (row.region_code == code if region["level"] == "village" else
                               covers(code, row.region_code)) or (kind and row.kind != kind):
            raise BadInput("bulk.not_in_village" if region["level"] == "village" else "bulk.not_in_region",
                           case=cid, region=region["name"])
    return {cid: {"id": cid, "title": rows[cid].title} for cid in ids}


SHEET_PAGE = 50       # a village's sheet, a page at a time: 50 rows a phone can be filled in and sent


def sheet_rows(app: App, actor: Actor, code: str, kind: str, etype: str, needed_only: bool,
               missing_only: bool = False) -> list[dict[str, Any]]:
    """One row per case of the village: its current item of `etype` (if any), whether its next step
    asks for that type, and the cells the sheet comes with filled in (its applicant: the head); with
    `needed_only`, the cases whose next step asks for it; with `missing_only`, the cases without an
    item of that type (the rows a sheet can fill)."""
    return [row for row in _sheet_all(app, actor, code, kind, etype)
            if (row["needed"] or not needed_only) and not (missing_only and not row["missing"])]


def sheet_counts(app: App, actor: Actor, code: str, kind: str, etype: str) -> dict[str, int]:
    """How many households of the village still miss the type (`missing`), and how many of those
    their next step asks it of (`needed_missing`): what the sheet's count says again after a save."""
    everyone = _sheet_all(app, actor, code, kind, etype)
    return {"missing": sum(1 for row in everyone if row["missing"]),
            "needed_missing": sum(1 for row in everyone if row["missing"] and row["needed"])}


def sheet_page(app: App, actor: Actor, code: str, kind: str, etype: str, needed_only: bool | None,
               missing_only: bool = False, after: int = 0, held: bool = False, size: int = SHEET_PAGE) -> dict[str, Any]:
    """The sheet's rows a page at a time: the households still without the type first (an item older
    than last year's counting as none), then those holding it, each part by case; the page is the `size`
    rows after case `after` (`held`: of the second part). A page filled in and sent leaves the next page
    where it was: its rows saved move behind it, to the households holding the type, and no other row
    moves. Says the rows' number in the view (`total`), where the next page starts (`next_after`, None
    on the last, and `next_held`) and how many households of the village still miss the type
    (`missing`, whatever the view; `needed_missing`: of those, the ones their next step asks it of).
    `needed_only` None: the households whose next step asks for the type when there are any (a cadre
    comes to the sheet for a step: the four new applicants, not the village's 204), else every one;
    `needed_only` in the answer says which it was."""
    everyone = _sheet_all(app, actor, code, kind, etype)
    if needed_only is None:
        needed_only = any(row["needed"] for row in everyone)
    view = [row for row in everyone
            if (row["needed"] or not needed_only) and not (missing_only and not row["missing"])]
    view = [row for row in view if row["missing"]] + [row for row in view if not row["missing"]]
    cursor = (held, after)
    before = sum(1 for row in view if (not row["missing"], row["id"]) <= cursor)
    rows = view[before:before + size]
    last = rows[-1] if rows and before + size < len(view) else None
    return {"rows": rows, "total": len(view), "size": size, "after": after, "held": held,
            "next_after": last["id"] if last else None, "next_held": bool(last and not last["missing"]),
            "missing": sum(1 for row in everyone if row["missing"]), "needed_only": needed_only,
            "needed_missing": sum(1 for row in everyone if row["missing"] and row["needed"])}


def _sheet_all(app: App, actor: Actor, code: str, kind: str, etype: str) -> list[dict[str, Any]]:
    """Every case of the village as a sheet's row (a village's households: a few hundred)."""
    village_of(app, actor, code)
    workflow = app.config.workflows[kind]
    c = t.cases.c
    with app.engine.connect() as conn:
        cases = conn.execute(select(c.id, c.title, c.stage, c.pending_procedure, c.pending_step).where(
            c.region_code == code, c.kind == kind).order_by(c.id)).all()
        # a type kept per procedure (a confirmation, an application): an earlier procedure's item is its
        # record, not this one's (a fresh exit's households are rows to fill)
        definition = workflow.evidence_types.get(etype)
        current = held_evidence(conn, etype, [r.id for r in cases], bool(definition and definition.per_procedure))
        # a check without a year (两不愁, housing, water) too old for the case's next step (an exit
        # accepts one recorded since a day it says): its step's checks judge it, as the list says it
        old = stale_for_next_step(app, conn, actor, etype, [
            r.id for r in cases if r.id in current and _year_of(current[r.id].fields) is None
            and _uses(workflow, r.pending_procedure, etype)])
    rows, oldest = [], app.clock.today().year - 1
    for r in cases:
        have = current.get(r.id)
        # a yearly item older than last year's is as good as none where the case's procedure still uses the
        # type (an income check of 2018 passed the application and stopped every household at the
        # appraisal); a consolidated household's is history
        year = _year_of(have.fields) if have else None
        stale = year is not None and year < oldest and _uses(workflow, r.pending_procedure, etype)
        needed = _needs(workflow, r.pending_procedure, r.pending_step, etype) or stale or r.id in old
        rows.append({"id": r.id, "title": r.title, "stage": r.stage, "needed": needed, "stale": stale or r.id in old,
                     "checked_before": old.get(r.id),      # {date, since}: a new visit's check replaces it here
                     "missing": not have or stale or r.id in old,
                     "current": dict(have.fields) if have else None, "evidence_id": have.id if have else None,
                     "prefill": prefilled(definition.fields if definition else (), r.title)})
    return rows


def _year_of(fields: dict) -> int | None:
    try:
        return int(fields["year"])
    except (KeyError, TypeError, ValueError):
        return None


def _uses(workflow, procedure: str | None, etype: str) -> bool:
    proc = workflow.procedures.get(procedure) if procedure else None
    return proc is not None and etype in proc.evidence_types()


def _needs(workflow, procedure: str | None, step: str | None, etype: str) -> bool:
    proc = workflow.procedures.get(procedure) if procedure else None
    if proc is None or step not in {s.key for s in proc.steps}:
        return False
    return etype in proc.step(step).evidence


def objection_notice(app: App, actor: Actor, objection_id: int) -> int:
    """The notice an objection was raised on, once the reader covers the notice's region."""
    with app.engine.connect() as conn:
        row = conn.execute(select(t.objections.c.notice_id, t.notices.c.region_code).join(
            t.notices, t.notices.c.id == t.objections.c.notice_id).where(t.objections.c.id == objection_id)).first()
    if row is None:
        raise NotFound("objection.unknown", objection=objection_id)
    require_reader(app, actor, row.region_code)
    return row.notice_id


def evidence_file(app: App, actor: Actor, evidence_id: int) -> tuple[Path, str, str | None]:
    """The stored file of an evidence item, the name it was attached under and the media type of the
    photo or scan it is (from its content; None for a file kept before evidence had to be one), once
    the reader covers the case's region; an item without a file (or whose file is gone) is a NotFound."""
    e = t.evidence.c
    with app.engine.connect() as conn:
        row = conn.execute(select(e.file_sha256, e.file_name, t.cases.c.region_code).join(
            t.cases, t.cases.c.id == e.case_id).where(e.id == evidence_id)).first()
    if row is None:
        raise NotFound("bulk.no_file", id=evidence_id)
    require_reader(app, actor, row.region_code)
    path = app.evidence.path_for(row.file_sha256) if row.file_sha256 else None
    if path is None or not path.is_file():
        raise NotFound("bulk.no_file", id=evidence_id)
    return path, row.file_name or f"evidence-{evidence_id}", SCAN_MEDIA.get(scan_kind(head_of(path)))
