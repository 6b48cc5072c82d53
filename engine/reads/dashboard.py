"""The supervisor's figures (DOMAIN §6, §8): overdue work grouped by township, responsible post,
owner and rule with the highest escalation rung each reached; one page of overdue deadlines at a
time; households by stage and exits per month, per township.

Every figure is one aggregate query over the reader's jurisdiction (GROUP BY in the database);
lists are read a page at a time by keyset, never whole.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, and_, bindparam, case, extract, func, literal_column, or_, select
from sqlalchemy.sql import ColumnElement

from engine.adapters import tables as t
from engine.domain.deadline_rules import aware, month_spans, office_span, overdue_by, reached
from engine.domain.errors import BadInput, Codes
from engine.domain.regions import level_of
from engine.reads.deadlines import after_cursor, due_cursor
from engine.reads.handed import handovers
from engine.reads.exits import IMPORTED, ExitYear, completed_between, exited_in, imported_in
from engine.reads.case_lists import monitoring_filter, within
from engine.domain.monitoring import monitoring_types
from engine.reads.case_lists import why_not_identified
from engine.reads.standing import NOT_IDENTIFIED, standing_filter, standing_of, standings
from engine.services.org import require_reader
from engine.services.press import pressed_today, presses_of

PAGE = 50
NONE = "-"          # the group of deadlines with no owner (or no owner's post)
GROUPS = ("township", "unit", "person", "rule")
d, c = t.deadlines.c, t.cases.c


def scope(actor, column) -> ColumnElement:
    """Rows whose region lies in one of the actor's jurisdictions."""
    return within([a.region_code for a in actor.assignments], column)


def township_of(column):
    """The 12-digit code of the township holding a region (a county's own region stays the county's)."""
    return func.substr(column, literal_column("1"), literal_column("9"), type_=String).concat(
        literal_column("'000'", String))


# --- overdue work ----------------------------------------------------------------------------

_NOW = bindparam("now", type_=t.deadlines.c.due_at.type)     # given by _read at each execution
# The highest ladder level alerted per overdue open deadline (the closed history is not read).
_OPEN = t.deadlines.alias("open_deadline")
_TOP = (select(t.alerts.c.deadline_id, func.max(t.alerts.c.level).label("top"))
        .join(_OPEN, _OPEN.c.id == t.alerts.c.deadline_id)
        .where(t.alerts.c.level >= 0, _OPEN.c.status == "open", _OPEN.c.due_at <= _NOW)
        .group_by(t.alerts.c.deadline_id).subquery("top"))


def _overdue(app, actor) -> list:
    return [d.status == "open", d.due_at <= _NOW, scope(actor, d.region_code)]


def _read(app, conn, q):
    """The rows of an overdue query, as of the app's clock."""
    return conn.execute(q, {"now": aware(app.clock.now())}).all()


# Inline constants, not parameters: PostgreSQL matches a GROUP BY expression to the selected one by its text.
_NONE = literal_column(f"'{NONE}'", String)
_KEYS = {"township": township_of(d.region_code), "unit": func.coalesce(d.owner_role, _NONE),
         "person": func.coalesce(t.persons.c.code, _NONE), "rule": d.rule}


def overdue_summary(app, actor) -> dict[str, Any]:
    """The open overdue deadlines in the reader's jurisdiction: {total, rungs: [{rung, count}],
    groups: {township|unit|person|rule: [{key, name, count, rung, oldest}]}}, most first.

    One GROUP BY over the four keys and the rung reached; its rows (at most one per owner, rule
    and rung) are rolled up here into the four groupings."""
    keys = [expr.label(by) for by, expr in _KEYS.items()]
    q = (select(*keys, _TOP.c.top.label("rung"), func.count().label("n"), func.min(d.due_on).label("oldest"),
                func.max(t.persons.c.name).label("person_name"))
         .select_from(t.deadlines.outerjoin(_TOP, _TOP.c.deadline_id == d.id)
                      .outerjoin(t.persons, t.persons.c.id == d.owner_id))
         .where(*_overdue(app, actor)).group_by(*keys, _TOP.c.top))
    with app.engine.connect() as conn:
        rows = _read(app, conn, q)
        towns = _region_names(conn, sorted({r.township for r in rows}))
    names = {"township": towns, "person": {r.person: r.person_name for r in rows}}
    rungs: dict[Any, int] = {}
    for r in rows:
        rungs[r.rung] = rungs.get(r.rung, 0) + r.n
    return {"total": sum(r.n for r in rows), "groups": {by: _rolled(rows, by, names.get(by, {})) for by in GROUPS},
            "rungs": [{"rung": k, "count": n} for k, n in sorted(rungs.items(), key=lambda x: -1 if x[0] is None else x[0])]}


def _rolled(rows: list, by: str, names: dict[str, str]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = getattr(r, by)
        g = found.setdefault(key, {"key": key, "name": names.get(key), "count": 0, "rung": None, "oldest": r.oldest})
        g["count"] += r.n
        g["rung"] = r.rung if g["rung"] is None or (r.rung is not None and r.rung > g["rung"]) else g["rung"]
        g["oldest"] = min(g["oldest"], r.oldest)
    return sorted(found.values(), key=lambda g: (-g["count"], g["key"]))


def _region_names(conn, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code.in_(codes))).all())


def region_name(app, code: str | None) -> str | None:
    """A region's name (None for no code, the code itself for an unknown one)."""
    if not code:
        return None
    with app.engine.connect() as conn:
        return _region_names(conn, [code]).get(code, code)


def _check_township(app, actor, code: str | None) -> None:
    """A township filter names a township (or a county's own work) that exists, within the reader's
    jurisdiction; anything else is refused (another's township as any region outside it is: the web
    answers it as one that does not exist, as for its region exports)."""
    if not code:
        return
    ok = isinstance(code, str) and len(code) == 12 and code.isascii() and code.isdigit() and \
        level_of(code) in ("township", "county")
    if ok:
        with app.engine.connect() as conn:
            ok = bool(_region_names(conn, [code]))
    if not ok:
        raise BadInput("supervise.bad_township", township=str(code)[:20])
    require_reader(app, actor, code)


def highest_rung(app) -> int:
    """The highest escalation rung any ladder has (0: the owner at the due date)."""
    ladders = app.config.deadlines.ladders if app.config.deadlines is not None else {}
    return max((len(levels) - 1 for levels in ladders.values()), default=0)


@dataclass(frozen=True)
class OverdueFilter:
    township: str | None = None     # a township's 12-digit code
    unit: str | None = None         # the responsible post (the owner's role; NONE: no post)
    person: str | None = None       # the owner's person code (NONE: nobody)
    rule: str | None = None
    rung: int | None = None         # the highest rung reached (-1: none yet)

    def check(self, app, actor) -> None:
        """Refuses a filter that could match nothing because it names nothing (a typed address), or a
        township outside the reader's jurisdiction."""
        _check_township(app, actor, self.township)
        if self.unit and self.unit != NONE and self.unit not in app.config.roles:
            raise BadInput("supervise.bad_unit", unit=self.unit[:40])
        rules = app.config.deadlines.rules if app.config.deadlines is not None else {}
        if self.rule and self.rule not in rules:
            raise BadInput("supervise.bad_rule", rule=self.rule[:40])
        top = highest_rung(app)
        if self.rung is not None and not -1 <= self.rung <= top:
            raise BadInput("supervise.bad_rung", rung=self.rung, top=top)

    def where(self) -> list:
        found = []
        if self.township:
            found.append(d.region_code.like(self.township[:9] + "%"))
        if self.unit:
            found.append(func.coalesce(d.owner_role, NONE) == self.unit)
        if self.person:
            found.append(func.coalesce(t.persons.c.code, NONE) == self.person)
        if self.rule:
            found.append(d.rule == self.rule)
        if self.rung is not None:
            found.append(_TOP.c.top.is_(None) if self.rung < 0 else _TOP.c.top == self.rung)
        return found


def overdue_matching(query, where: OverdueFilter):
    """`query` of open overdue deadlines (joined to their owners, t.persons) narrowed to those `where`
    matches, as the overdue page narrows its list (the rung reached read from their top alert)."""
    if where.rung is not None:
        query = query.outerjoin(_TOP, _TOP.c.deadline_id == d.id)
    return query.where(*where.where())


_TOP_ALERT = t.alerts.alias("top_alert")
_PAGE = (select(d.id, d.case_id, d.rule, d.step_key, d.subject, d.region_code, d.owner_id, d.owner_changes, d.owner_role,
                d.due_on, d.due_at,
                d.counting, d.provisional, d.ladder, c.title, t.persons.c.code.label("owner"), t.persons.c.name.label("owner_name"),
                _TOP.c.top.label("rung"), _TOP_ALERT.c.rung.label("rung_key"))
         .select_from(t.deadlines.join(t.cases, t.cases.c.id == d.case_id)
                      .outerjoin(t.persons, t.persons.c.id == d.owner_id)
                      .outerjoin(_TOP, _TOP.c.deadline_id == d.id)
                      .outerjoin(_TOP_ALERT, and_(_TOP_ALERT.c.deadline_id == d.id, _TOP_ALERT.c.level == _TOP.c.top))))


def overdue_page(app, actor, where: OverdueFilter, after: str | None = None,
                 limit: int = PAGE) -> dict[str, Any]:
    """One page of the overdue deadlines that match, oldest due first: {rows, total, next} where
    `next` is the keyset cursor of the following page (None on the last)."""
    where.check(app, actor)
    conds = [*_overdue(app, actor), *where.where()]
    q = _PAGE.where(*conds, *after_cursor(after)).order_by(d.due_at, d.id).limit(limit + 1)
    total_q = (select(func.count()).select_from(t.deadlines.outerjoin(t.persons, t.persons.c.id == d.owner_id)
                                                .outerjoin(_TOP, _TOP.c.deadline_id == d.id)).where(*conds))
    today = app.clock.today()
    with app.engine.connect() as conn:
        rows, total = _read(app, conn, q), _read(app, conn, total_q)[0][0]
        more = len(rows) > limit
        rows = rows[:limit]
        pressed = presses_of(conn, [(r.id, r.region_code) for r in rows], actor.person_id,
                             {r.id: r.owner for r in rows})
        now = app.clock.now()
        handed = handovers(app, conn, rows, now)       # a leaver's, a vacant post's: when, from whom (a13 #4)

    def row(r) -> dict[str, Any]:
        times, last, mine = pressed.get(r.id, (0, None, None))
        # pressed by the reader today: a second press would be refused, so none is offered
        return {**_overdue_row(app, r, today), "handed": handed.get(r.id), "pressed": times, "pressed_at": last,
                "pressed_by_me_today": mine if pressed_today(app, mine, now) else None}
    return {"rows": [row(r) for r in rows], "total": total,
            "next": due_cursor(rows[-1]) if more else None}


def _overdue_row(app, r, today: date) -> dict[str, Any]:
    return {"id": r.id, "case": r.case_id, "title": r.title, "rule": r.rule, "step": r.step_key,
            "subject": r.subject or None, "region": r.region_code, "unit": r.owner_role, "owner": r.owner,
            "owner_name": r.owner_name, "due_on": r.due_on, "days": overdue_by(app.config, r.due_on, today, r.counting),
            "counting": r.counting,
            "rung": r.rung, "rung_to": reached(r.ladder, r.rung_key), "provisional": bool(r.provisional)}


# --- households by stage, exits per month -------------------------------------------------------

def households_by_stage(app, actor) -> list[dict[str, Any]]:
    """[{township, name, stage, count}] of the household cases in the reader's jurisdiction; `stage` is
    the standing (a rejected applicant with nothing open is not identified, not applying)."""
    h = (select(c.region_code, standing_of(c.id, c.stage, c.open_procedure_id).label("stage"))
         .where(c.kind == "household", scope(actor, c.region_code)).subquery("households"))
    town = township_of(h.c.region_code).label("township")
    q = select(town, h.c.stage, func.count().label("n")).group_by(town, h.c.stage).order_by(town, h.c.stage)
    with app.engine.connect() as conn:
        rows = conn.execute(q).all()
        names = _region_names(conn, sorted({r.township for r in rows}))
    return [{"township": r.township, "name": names.get(r.township, r.township), "stage": r.stage, "count": r.n}
            for r in rows]


_p = t.procedures.c
_EXITS = and_(_p.to_stage == "exited", _p.status == "completed", c.kind == "household")


def exits_by_month(app, actor, year: int) -> list[dict[str, Any]]:
    """[{township, name, months: [12 counts]}]: completed exit procedures of households in `year`,
    per month in office time (one conditional count per month, so the months' edges are the office's).
    Households imported as exited in `year` have no month: `imported_exits` counts them."""
    town, spans = township_of(c.region_code).label("township"), month_spans(app.config, year)
    months = [func.count(case((and_(_p.ended_at >= lo, _p.ended_at < hi), 1))).label(f"m{i}")
              for i, (lo, hi) in enumerate(spans, 1)]
    q = (select(town, *months).select_from(t.procedures.join(t.cases, c.id == _p.case_id))
         .where(_EXITS, _p.ended_at >= spans[0][0], _p.ended_at < spans[-1][1], scope(actor, c.region_code))
         .group_by(town).order_by(town))
    with app.engine.connect() as conn:
        rows = conn.execute(q).all()
        names = _region_names(conn, [r.township for r in rows])
    return [{"township": r.township, "name": names.get(r.township, r.township), "months": list(r[1:])}
            for r in rows]


def exit_procedure(app) -> tuple[str, Any] | None:
    """The household procedure that takes a household out of poverty (to `exited`: 贫困退出), as the
    rules in force define it, with its name; None when they define none."""
    workflow = app.config.workflows.get("household")
    return next(((n, p) for n, p in workflow.procedures.items() if p.to == "exited"), None) if workflow else None


def exit_campaign(app, actor, year: int) -> dict[str, Any]:
    """The exit campaign (脱贫退出) as it runs, per township of the reader's jurisdiction: how many
    households wait now at each step of the exit procedure (at its first step, the village's proposal:
    those not proposed yet or proposed again) and how many exited in `year` (completed, as the exits
    per month count them): {procedure, steps, year, rows: [{township, name, counts: {step: n}, exited}],
    totals: {step: n, "exited": n}}. One GROUP BY through the cases' pending index (procedure, step,
    region), one through the procedures as exits_by_month reads them."""
    found = exit_procedure(app)
    if found is None:
        return {"procedure": None, "steps": [], "year": year, "rows": [], "totals": {}}
    name, proc = found
    steps = [s.key for s in proc.steps]
    town = township_of(c.region_code).label("township")
    q = (select(town, c.pending_step, func.count()).where(
            c.pending_procedure == name, c.pending_step.in_(steps), c.kind == "household",
            scope(actor, c.region_code)).group_by(town, c.pending_step))
    rows: dict[str, dict[str, Any]] = {}
    new = lambda code: {"township": code, "counts": dict.fromkeys(steps, 0), "exited": 0}  # noqa: E731
    with app.engine.connect() as conn:
        for code, step, n in conn.execute(q):
            rows.setdefault(code, new(code))["counts"][step] = n
    for r in exits_by_month(app, actor, year):
        rows.setdefault(r["township"], new(r["township"]))["exited"] = sum(r["months"])
    with app.engine.connect() as conn:
        names = _region_names(conn, sorted(rows))
    listed = [{**r, "name": names.get(code, code)} for code, r in sorted(rows.items())]
    totals = {**{k: sum(r["counts"][k] for r in listed) for k in steps}, "exited": sum(r["exited"] for r in listed)}
    return {"procedure": name, "steps": steps, "year": year, "rows": listed, "totals": totals}


def imported_exits(app, actor, year: int) -> int:
    """How many households in the reader's jurisdiction were imported as exited in `year` (the year
    their registry noted: no month, so no month's bar holds them)."""
    q = select(func.count()).select_from(t.cases).where(imported_in(year), scope(actor, c.region_code))
    with app.engine.connect() as conn:
        return conn.execute(q).scalar() or 0


def exit_years(app, actor) -> list[dict[str, Any]]:
    """[{year, count, imported}] of the years with household exits in the reader's jurisdiction, newest
    first: `count` the completed exit procedures and the households imported as exited that year,
    `imported` those of them imported (engine/reads/exits.py)."""
    year = extract("year", _p.ended_at).label("year")
    q = (select(year, func.count()).select_from(t.procedures.join(t.cases, c.id == _p.case_id))
         .where(_EXITS, scope(actor, c.region_code)).group_by(year))
    noted = IMPORTED.label("year")
    imported = (select(noted, func.count())
                .where(c.kind == "household", IMPORTED.isnot(None), scope(actor, c.region_code)).group_by(noted))
    with app.engine.connect() as conn:
        exits = {int(r[0]): r[1] for r in conn.execute(q)}
        brought = {int(r[0]): r[1] for r in conn.execute(imported)}
    return [{"year": y, "count": exits.get(y, 0) + brought.get(y, 0), "imported": brought.get(y, 0)}
            for y in sorted(exits.keys() | brought.keys(), reverse=True)]


def monitoring_figures(app, actor, year: int) -> dict[str, Any]:
    """The households monitored now (防返贫监测) per township and type, those whose risk was eliminated
    (风险消除) in `year` and those whose transition period (过渡期) ends in it and in each later year (a
    county planning ahead): {types, ending_years: [year, …, the last year a period ends], rows: [{township,
    name, counts: {type: n}, monitored, eliminated, ending, ending_years: {year: n}}], totals: {...},
    ending_totals: {year: n}}. Three GROUP BYs, the first and the last through the case row's partial
    indexes (engine/domain/monitoring.py), the second through the procedures of the jurisdiction's
    households as the exits per month are read."""
    types = monitoring_types(app.config.workflows["household"])
    town = township_of(c.region_code).label("township")
    here = [c.kind == "household", scope(actor, c.region_code)]
    monitored = (select(town, c.monitoring, func.count()).where(*here, c.monitoring.is_not(None))
                 .group_by(town, c.monitoring))
    lo, hi = office_span(app.config, date(year, 1, 1), date(year + 1, 1, 1))
    eliminated = (select(town, func.count()).select_from(t.procedures.join(t.cases, c.id == _p.case_id))
                  .where(*here, _p.kind == "risk_elimination", _p.status == "completed", _p.ended_at >= lo,
                         _p.ended_at < hi).group_by(town))
    ends_in = extract("year", c.transition_until).label("ends_in")
    ending = (select(town, ends_in, func.count()).where(*here, c.transition_until >= date(year, 1, 1))
              .group_by(town, ends_in))
    rows: dict[str, dict[str, Any]] = {}
    new = lambda code: {"township": code, "counts": dict.fromkeys(types, 0), "monitored": 0,  # noqa: E731
                        "eliminated": 0, "ending": 0, "ending_years": {}}
    with app.engine.connect() as conn:
        for code, kind, n in conn.execute(monitored):
            row = rows.setdefault(code, new(code))
            row["counts"][kind] = row["counts"].get(kind, 0) + n
            row["monitored"] += n
        for code, n in conn.execute(eliminated):
            rows.setdefault(code, new(code))["eliminated"] = n
        for code, ends, n in conn.execute(ending):
            rows.setdefault(code, new(code))["ending_years"][int(ends)] = n
        names = _region_names(conn, sorted(rows))
    last = max((y for r in rows.values() for y in r["ending_years"]), default=year)
    years = list(range(year, last + 1))      # this year and each later one to the last period's end, none skipped
    for r in rows.values():
        r["ending_years"] = {y: r["ending_years"].get(y, 0) for y in years}
        r["ending"] = r["ending_years"][year]
    listed = [{**r, "name": names.get(code, code)} for code, r in sorted(rows.items())]
    totals = {"counts": {k: sum(r["counts"].get(k, 0) for r in listed) for k in types},
              **{key: sum(r[key] for r in listed) for key in ("monitored", "eliminated", "ending")}}
    return {"year": year, "types": list(types), "rows": listed, "totals": totals, "ending_years": years,
            "ending_totals": {y: sum(r["ending_years"][y] for r in listed) for y in years}}


def monitoring_pipeline(app, actor) -> dict[str, Any]:
    """The monitoring's work under way per township (a12 #9): the households whose 15 days to identify
    run (a first clue, from a visit or any channel, not yet decided: `clues`), of them past due
    (`overdue`), the identifications (`identifying`) and the risk eliminations (`eliminating`) open now:
    {rows: [{township, name, clues, overdue, identifying, eliminating}], totals: {...}}. The clocks
    through the deadlines' (rule, status) index, the procedures open through the cases' pending index."""
    from engine.domain.deadline_rules import compiled
    rules = compiled(app.config)
    names = sorted(n for n, r in (rules.rules.items() if rules else ()) if r.started_procedure == "monitoring")
    town = township_of(c.region_code).label("township")
    here = [c.kind == "household", scope(actor, c.region_code)]
    d = t.deadlines.c
    now = app.clock.now()
    late = func.sum(case((d.due_at <= now, 1), else_=0))
    clocks = (select(town, func.count(func.distinct(d.case_id)), late).select_from(t.deadlines.join(t.cases, c.id == d.case_id))
              .where(d.rule.in_(names), d.status == "open", *here).group_by(town)) if names else None
    open_now = (select(town, c.pending_procedure, func.count()).where(
        *here, c.pending_procedure.in_(["monitoring", "risk_elimination"])).group_by(town, c.pending_procedure))
    rows: dict[str, dict[str, Any]] = {}
    new = lambda code: {"township": code, "clues": 0, "overdue": 0, "identifying": 0, "eliminating": 0}  # noqa: E731
    with app.engine.connect() as conn:
        for code, n, overdue in (conn.execute(clocks) if clocks is not None else ()):
            row = rows.setdefault(code, new(code))
            row["clues"], row["overdue"] = n, int(overdue or 0)
        for code, procedure, n in conn.execute(open_now):
            rows.setdefault(code, new(code))["identifying" if procedure == "monitoring" else "eliminating"] = n
        names_of = _region_names(conn, sorted(rows))
    listed = [{**r, "name": names_of.get(code, code)} for code, r in sorted(rows.items())]
    return {"rows": listed, "totals": {k: sum(r[k] for r in listed)
                                       for k in ("clues", "overdue", "identifying", "eliminating")}}


CLUE_CHANNELS = ("self_report", "visit", "department", "other")    # a clue's `source` codes (m2: the research's channels)
UNTYPED = "untyped"       # a clock a risk visit started, its clue not yet recorded: no type given yet


def monitoring_pipeline_by(app, actor) -> dict[str, Any]:
    """The households whose 15 days to identify run (`monitoring_pipeline`'s `clues`), per township, by
    the monitoring type and by the channel of their newest clue in force (a12 #9): {types, channels,
    rows: [{township, name, types: {code: n}, channels: {code: n}}], totals: {types, channels}}. A clock
    a risk visit started before any clue was recorded counts as `untyped`, found by a cadre's visit; a
    clue's channel written before channels were codes counts as `other`. The clocks through the
    deadlines' (rule, status) index, each household's newest clue through the evidence's (case, type)."""
    from engine.domain.deadline_rules import compiled
    rules = compiled(app.config)
    names = sorted(n for n, r in (rules.rules.items() if rules else ()) if r.started_procedure == "monitoring")
    workflow = app.config.workflows.get("household")
    types = (*monitoring_types(workflow), UNTYPED) if workflow is not None else (UNTYPED,)
    e, d = t.evidence.c, t.deadlines.c
    newest = (select(e.id).where(e.case_id == c.id, e.type == "monitoring_clue", e.superseded_by.is_(None))
              .order_by(e.id.desc()).limit(1).correlate(t.cases).scalar_subquery())
    clue = t.evidence.alias("clue")
    running = (select(d.case_id).where(d.case_id == c.id, d.rule.in_(names), d.status == "open")
               .correlate(t.cases).exists())
    query = (select(township_of(c.region_code).label("township"), clue.c.fields["monitoring_type"].as_string(),
                    clue.c.fields["source"].as_string())
             .select_from(t.cases.outerjoin(clue, clue.c.id == newest))
             .where(c.kind == "household", scope(actor, c.region_code), running))
    from engine.domain.evidence import code_words, read_code
    words = code_words("monitoring_type", tuple(types[:-1]), app.config.labels)
    rows: dict[str, dict[str, Any]] = {}
    with app.engine.connect() as conn:
        for town, kind, source in (conn.execute(query) if names else ()):
            row = rows.setdefault(town, {"township": town, "types": dict.fromkeys(types, 0),
                                         "channels": dict.fromkeys(CLUE_CHANNELS, 0)})
            row["types"][(read_code(kind, words) or UNTYPED) if kind else UNTYPED] += 1
            row["channels"][source if source in CLUE_CHANNELS else ("visit" if kind is None else "other")] += 1
        names_of = _region_names(conn, sorted(rows))
    listed = [{**r, "name": names_of.get(code, code)} for code, r in sorted(rows.items())]
    return {"types": list(types), "channels": list(CLUE_CHANNELS), "rows": listed,
            "totals": {part: {k: sum(r[part][k] for r in listed) for k in keys}
                       for part, keys in (("types", types), ("channels", CLUE_CHANNELS))}}


# --- a list of cases for a chart's bar -------------------------------------------------------------

@dataclass(frozen=True)
class CaseFilter:
    township: str | None = None
    stage: str | None = None
    exited: str | None = None       # YYYY-MM: exited (a completed exit procedure) in that month; YYYY: in
                                    # that year (imported as exited with that year noted too)
    monitoring: str | None = None   # monitored now (防返贫监测): a type, or `any`
    transition_ends: str | None = None  # YYYY: the transition period (过渡期) ends in that year
    kind: str = "household"         # the cases' kind: household, village, project, problem
    waiting: str | None = None      # PROCEDURE.STEP: waiting now at that step (exit.verification)
    open: str | None = None         # PROCEDURE: that procedure open now (monitoring: an identification under
                                    # way; risk_elimination: a risk elimination under way)

    def check(self, app, actor) -> None:
        """Refuses a township, kind or stage that names nothing (a typed address), rather than show no
        cases, and a township outside the reader's jurisdiction."""
        _check_township(app, actor, self.township)
        if self.kind not in app.config.workflows:
            raise BadInput("supervise.bad_kind", kind=self.kind[:40], known=Codes("kind", tuple(app.config.workflows)))
        known = standings(app.config.workflows[self.kind].stages)
        if self.stage and self.stage not in known:
            own = f"stage.{self.kind}"     # a project's or a village's stages in its own words where it has them
            words = own if all(f"{own}.{k}" in app.config.labels for k in known) else "stage"
            raise BadInput("supervise.bad_stage", stage=self.stage[:40], known=Codes(words, tuple(known)))
        if self.waiting and self._waiting(app) is None:
            procedures = app.config.workflows[self.kind].procedures
            raise BadInput("supervise.bad_waiting", waiting=self.waiting[:60], known=", ".join(
                f"{name}.{s.key}" for name, proc in procedures.items() for s in proc.steps))
        if self.open and self.open not in app.config.workflows[self.kind].procedures:
            raise BadInput("s55_m2.bad_open", open=self.open[:40],
                           known=Codes("procedure", tuple(app.config.workflows[self.kind].procedures)))
        self.where(app)      # a monitoring type or a year that names none is refused by its filter

    def _waiting(self, app) -> tuple[str, str] | None:
        """The waiting filter's (procedure, step), None when it names no step of the kind's procedures."""
        name, _, step = (self.waiting or "").partition(".")
        proc = app.config.workflows[self.kind].procedures.get(name)
        return (name, step) if proc is not None and any(s.key == step for s in proc.steps) else None

    def where(self, app) -> list:
        found = [c.kind == self.kind]
        if self.township:
            found.append(c.region_code.like(self.township[:9] + "%"))
        if self.stage:
            found.extend(standing_filter(self.stage))
        if self.exited:
            found.append(_exited_in(app, self.exited))
        if self.waiting and (pair := self._waiting(app)) is not None:      # the cases' pending index
            found.extend([c.pending_procedure == pair[0], c.pending_step == pair[1]])
        if self.open:       # a procedure open now, whatever step it waits at: the cases' pending index
            found.append(c.pending_procedure == self.open)
        return found + monitoring_filter(app, self.monitoring, _year(self.transition_ends))


def _year(value: str | None) -> int | None:
    """A year as a filter gives it (YYYY), None for none; anything else refused as the filter refuses it."""
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) == 4):
        raise BadInput("case.bad_transition_year", value=value[:20])
    return int(value)


def _exited_in(app, month: str):
    """Households that exited in a month (YYYY-MM: through their exit procedure), or in a year (YYYY:
    imported as exited with that year noted too, engine/reads/exits.py)."""
    if len(month) == 4 and month.isascii() and month.isdigit() and 1949 <= int(month) <= 2200:
        return exited_in(ExitYear.of(app.config, int(month)))
    try:
        year, mon = (int(x) for x in month.split("-"))
        if not 1949 <= year <= 2200:
            raise ValueError(month)
        lo, hi = office_span(app.config, date(year, mon, 1), date(year + mon // 12, mon % 12 + 1, 1))
    except ValueError:
        raise BadInput("supervise.bad_month", month=month) from None
    return completed_between(lo, hi)


def case_page(app, actor, where: CaseFilter, after: int | None = None, limit: int = PAGE) -> dict[str, Any]:
    """One page of the cases of a kind (households unless said) that match, by id: {rows, total, next}."""
    where.check(app, actor)
    conds = [scope(actor, c.region_code), *where.where(app)]
    standing = standing_of(c.id, c.stage, c.open_procedure_id).label("stage")
    q = (select(c.id, c.title, standing, c.region_code, t.regions.c.name.label("region_name"), c.pending_procedure,
                c.pending_step, c.monitoring, c.transition_until).select_from(t.cases.join(t.regions, t.regions.c.code == c.region_code))
         .where(*conds, *([c.id > after] if after else [])).order_by(c.id).limit(limit + 1))
    with app.engine.connect() as conn:
        rows = conn.execute(q).all()
        total = conn.execute(select(func.count()).select_from(t.cases).where(*conds)).scalar()
    more = len(rows) > limit
    ended = why_not_identified(app, [r.id for r in rows[:limit] if r.stage == NOT_IDENTIFIED])
    return {"rows": [{**r._mapping, "ended": ended.get(r.id)} for r in rows[:limit]], "total": total,
            "next": rows[limit - 1].id if more else None}


# --- alerts: each recipient's delivery ----------------------------------------------------------

def recipient_states(app, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """For each alert row of `alert_rows`, its recipients with how their messages fared: delivered,
    pending, failed, or unreachable (no channel reaches them)."""
    ids = sorted({m["person"] for r in rows for m in r["messages"]})
    codes = sorted({code for r in rows for code in r.get("unreachable") or []})
    with app.engine.connect() as conn:
        found = conn.execute(select(t.persons.c.id, t.persons.c.code, t.persons.c.name).where(
            or_(t.persons.c.id.in_(ids), t.persons.c.code.in_(codes)))).all() if ids or codes else []
    people = {**{p.id: p for p in found}, **{p.code: p for p in found}}
    return [_recipients(r, people) for r in rows]


def _recipients(row: dict[str, Any], people: dict) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for m in row["messages"]:
        p = people.get(m["person"])
        code = p.code if p else str(m["person"])
        entry = found.setdefault(code, {"code": code, "name": p.name if p else code, "channels": [], "state": None})
        entry["channels"].append({"channel": m["channel"], "status": m["status"], "attempts": m["attempts"],
                                  "error": m["error"], "outbox": m.get("outbox")})
        entry["state"] = _worse(entry["state"], m["status"])
    for code in row.get("unreachable") or []:
        p = people.get(code)
        found.setdefault(code, {"code": code, "name": p.name if p else code, "channels": [], "state": "unreachable"})
    return list(found.values())


_ORDER = {None: -1, "not_needed": 0, "delivered": 0, "sending": 1, "pending": 1, "failed": 2}


def _worse(a: str | None, b: str) -> str:
    b = "pending" if b == "sending" else b
    return b if _ORDER.get(b, 1) > _ORDER.get(a, -1) else a  # type: ignore[return-value]
