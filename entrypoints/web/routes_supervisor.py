"""The supervisor's pages: overdue work by township, post, person and rule with the escalation rung
reached; the drill-down to the deadlines and their cases; alerts and their delivery; figures
(households by stage, exits per month) as charts with their tables, each bar a link to its cases.

Every page reads the reader's jurisdiction only; a village post does not supervise (403).
"""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from engine.reads import dashboard
from engine.reads.deadlines import ALERT_STATUSES, alert_rows
from engine.domain.deadline_rules import overdue_by, wall_clock
from engine.domain.errors import BadInput, JingzhunError, Msg, NotFound
from engine.domain.monitoring import monitoring_types
from engine.services.exports import record_report
from engine.services.press import press_deadline
from engine.services.resend import resend_message

from .access import downloads, needs
from .deps import Reader, form_of
from .render import error_text, page, texts
from .routes_bulk import hidden_as
from .statuses import status_of
from .routes_export import FORMATS, attachment, reader_ctx, table_download, workbook_download

router = APIRouter(include_in_schema=False)
GROUP_SHOWN = 10         # rows of each grouping on the overview before the rest is folded
ALERTS_PAGE = 50
ALERTS_MAX = 1000
STAGE_ORDER = ("candidate", "not_identified", "identified", "assisted", "exited", "consolidated", "ordinary", "removed")


supervisor = needs("supervises")     # a post at township level or above, or an inspector

def _number(value: str | None, name: str, lo: int = -1, hi: int = 2 ** 62) -> int | None:
    """A whole number from the query within [lo, hi], None when not given; refused naming the
    parameter in the reader's words (supervise.param.NAME)."""
    if value is None or value.strip() == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadInput("supervise.bad_number", field=Msg(f"supervise.param.{name}"), value=value[:20]) from None
    if not lo <= number <= hi:
        raise BadInput("supervise.out_of_range", field=Msg(f"supervise.param.{name}"), value=value[:20], lo=lo, hi=hi)
    return number


def _hidden(township: str | None):
    """A township outside the reader's jurisdiction answered as one that does not exist (404), as
    /regions/CODE/export/... answers another's region."""
    return hidden_as(NotFound("region.unknown", code=(township or "")[:12]))


def query_string(**params: Any) -> str:
    """A query string of the parameters that have a value."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


@router.get("/supervise")
def home(request: Request, reader: Reader = Depends(supervisor)):
    """Overdue work grouped four ways, each group a link to its deadlines."""
    from engine.reads.village_lists import my_townships
    summary = dashboard.overdue_summary(reader.core, reader.actor)
    campaign = dashboard.exit_campaign(reader.core, reader.actor, reader.core.clock.today().year)
    return page(request, "supervise_home.html", shown=GROUP_SHOWN, townships=my_townships(reader.core, reader.actor),
                campaign=campaign, **summary)


@router.get("/supervise/overdue")
def overdue(request: Request, township: str | None = None, unit: str | None = None, person: str | None = None,
            rule: str | None = None, rung: str | None = None, after: str | None = None,
            reader: Reader = Depends(supervisor)):
    """The overdue deadlines of one group, oldest due first, a page at a time."""
    where = dashboard.OverdueFilter(township or None, unit or None, person or None, rule or None,
                                    _number(rung, "rung", -1, 99))
    with _hidden(township):
        found = dashboard.overdue_page(reader.core, reader.actor, where, after or None)
    params = dict(township=where.township, unit=where.unit, person=where.person, rule=where.rule, rung=where.rung)
    return page(request, "supervise_overdue.html", found=found, where=where, presses=reader.presses,
                township=dashboard.region_name(reader.core, where.township), download_query=query_string(**params),
                next_query=query_string(**params, after=found["next"]) if found["next"] else None,
                first_query=query_string(**params) if after else None)


@router.get("/supervise/overdue.{fmt}")
def overdue_download(fmt: str, township: str | None = None, unit: str | None = None, person: str | None = None,
                     rule: str | None = None, rung: str | None = None,
                     reader: Reader = Depends(downloads("supervises"))):
    """What /supervise/overdue lists with the same filters, every page of it, as the deadlines'
    export writes it (CSV or a workbook; recorded with its filter in the activity log). Another's
    township is, for the reader, one that does not exist (404), as for the region exports."""
    from entrypoints.cli.exports import file_cells
    if fmt not in FORMATS:
        raise NotFound("web.export.bad_format", name=f"overdue.{fmt}"[:40])
    where = dashboard.OverdueFilter(township or None, unit or None, person or None, rule or None,
                                    _number(rung, "rung", -1, 99))
    with _hidden(township):
        title, header, cells, record = file_cells(reader_ctx(reader), "deadlines", None, fmt, overdue=where)
    return table_download(reader, title, where.township or reader.actor.code, fmt, header, cells, record)


def _visit_filter(reader: Reader, region: str | None, overdue: str | None):
    from engine.reads.visits import VisitFilter
    return VisitFilter.asked(reader.actor, region, overdue not in (None, "", "0"))


@router.get("/supervise/visits")
def visits(request: Request, region: str | None = None, overdue: str | None = None, after: str | None = None,
           reader: Reader = Depends(needs("signed_in"))):
    """Who has not visited: each pairing cadre of the region with their households, each household's last
    visit and whether it is overdue (the policy's `visit_interval_days`), the longest unvisited first. For
    every post over the region, as `household visits` and `GET /api/v1/visits`: a village's resident team
    and two committees answer for their pairing cadres' visits, a township and the county for theirs."""
    from engine.reads.visits import visit_page
    where = _visit_filter(reader, region, overdue)
    with _hidden(where.region):
        found = visit_page(reader.core, reader.actor, where, after or None, lang=reader.lang)
    params = dict(region=region or None, overdue="1" if where.overdue else None)
    return page(request, "supervise_visits.html", found=found, where=where,
                region_name=dashboard.region_name(reader.core, where.region),
                download_query=query_string(**params),
                next_query=query_string(**params, after=found["next"]) if found["next"] else None,
                first_query=query_string(**params) if after else None)


@router.get("/supervise/visits.{fmt}")
def visits_download(fmt: str, region: str | None = None, overdue: str | None = None,
                    reader: Reader = Depends(downloads("signed_in"))):
    """What /supervise/visits lists, every page of it, as CSV or a workbook, recorded in the activity log as
    taken out (the table `visits` of the region, overdue when so narrowed)."""
    from engine.reads.visits import visit_rows
    from engine.services.exports import record_visits
    if fmt not in FORMATS:
        raise NotFound("web.export.bad_format", name=f"visits.{fmt}"[:40])
    where = _visit_filter(reader, region, overdue)
    with _hidden(where.region):
        rows = visit_rows(reader.core, reader.actor, where, reader.lang)
    from engine.domain.errors import translator
    L = translator(reader.core.config, reader.lang)
    header = L("cli.visits_header").split("\t")
    kind = {k: L(f"web.work.pairing_kind.{k}") for k in ("first", "second")}
    late = L("cli.visits_overdue")
    cells = ((r["cadre_name"], kind.get(r["kind"], r["kind"]), r["case"], r["title"], r["last_visit"],
              r["visitor_name"], r["days"], late if r["overdue"] else "") for r in rows)
    record = lambda: record_visits(reader.core, reader.actor, where.region, fmt, where.overdue)  # noqa: E731
    return table_download(reader, L("visits.title"), where.region, fmt, header, cells, record)


@router.post("/supervise/deadlines/{deadline_id}/press")
def press(request: Request, deadline_id: int, form: dict = Depends(form_of), reader: Reader = Depends(needs("presses"))):
    """督办: press the owner of an overdue deadline, with an optional note; answers in place of the
    row's form (the refusal keeps the note typed)."""
    note = form.get("note")
    note = note if isinstance(note, str) else None
    try:
        result = press_deadline(reader.core, reader.actor, deadline_id, note)
    except NotFound:
        raise
    except JingzhunError as refused:
        return page(request, "_supervise_press.html", status_of(refused), r={"id": deadline_id}, note=note or "",
                    refused=error_text(request, refused), code=refused.code)
    return page(request, "_supervise_press.html", r={"id": deadline_id}, done=result)


@router.post("/supervise/messages/{message_id}/resend")
def resend(request: Request, message_id: int, form: dict = Depends(form_of), reader: Reader = Depends(needs("admin"))):
    """An administrator sends a message that failed for good once more; answers in place of its button."""
    try:
        done = resend_message(reader.core, reader.actor, message_id)
    except NotFound:
        raise
    except JingzhunError as refused:
        return page(request, "_supervise_resend.html", status_of(refused), message=message_id,
                    refused=error_text(request, refused), code=refused.code)
    return page(request, "_supervise_resend.html", message=message_id, done=done)


@router.get("/supervise/alerts")
def alerts(request: Request, status: str | None = None, level: str | None = None, limit: str | None = None,
           reader: Reader = Depends(supervisor)):
    """Alerts, newest first, with each recipient's delivery."""
    status = status if status in ALERT_STATUSES else None
    wanted = min(max(_number(limit, "limit", 1) or ALERTS_PAGE, 1), ALERTS_MAX)
    lvl = _number(level, "level", -1, 99)
    rows = alert_rows(reader.core, reader.actor, status=status, level=lvl, limit=wanted + 1, lang=reader.lang)
    more = len(rows) > wanted
    rows = rows[:wanted]
    people = dashboard.recipient_states(reader.core, rows)
    today = reader.core.clock.today()
    for row in rows:
        row["sent"] = wall_clock(reader.core.config, row["created_at"])
        due = row.get("due_on")
        # in the deadline's own kind of days, as the mail, /work and the overdue page say it
        row["late_days"] = overdue_by(reader.core.config, date.fromisoformat(due), today, row.get("counting") or "calendar") \
            if due and row.get("deadline_status") == "open" else None
    return page(request, "supervise_alerts.html", rows=_one_per_deadline(list(zip(rows, people))), chosen=status,
                level=lvl, statuses=ALERT_STATUSES, levels=range(-1, _top_level(reader) + 1),
                more_query=query_string(status=status, level=lvl, limit=wanted * 2) if more and wanted < ALERTS_MAX else None)


def _one_per_deadline(rows: list[tuple[dict, list]]) -> list[tuple[dict, list, list[int]]]:
    """Each deadline's newest alert once, with the levels of its earlier ones on this page that fared
    the same (a sweep that found work long overdue sent every level at once: the same case stood four
    times in a row). An earlier alert whose delivery fared otherwise (failed where the newest was
    delivered) keeps its own row, and a digest (no deadline) is never folded into another."""
    shown: dict[Any, tuple[dict, list, list[int]]] = {}
    for n, (alert, people) in enumerate(rows):
        deadline = alert.get("deadline")
        key = (deadline, alert.get("status")) if deadline is not None else ("row", n)
        if key in shown:
            if alert.get("level") is not None:
                shown[key][2].append(alert["level"])
        else:
            shown[key] = (alert, people, [])
    return list(shown.values())


def _top_level(reader: Reader) -> int:
    """The highest escalation level of the rules in force (the level filter offers those up to it)."""
    deadlines = reader.core.config.deadlines
    return max((len(levels) - 1 for levels in deadlines.ladders.values()), default=3) if deadlines else 3


@router.get("/supervise/figures")
def figures(request: Request, year: str | None = None, reader: Reader = Depends(supervisor)):
    """Households by stage per township; exits per month of a year (no exit plan is configured)."""
    from engine.reads.assessment import parse_period
    the_year = parse_period(year, reader.core.clock.today())     # a year with figures: 2013 to this one
    stages = dashboard.households_by_stage(reader.core, reader.actor)
    monitored = dashboard.monitoring_figures(reader.core, reader.actor, the_year)
    exits = dashboard.exits_by_month(reader.core, reader.actor, the_year)
    say = texts(reader.core.config, reader.lang)
    return page(request, "supervise_figures.html", year=the_year, stage_chart=stage_chart(stages, say["label"]),
                exit_chart=exit_chart(exits, the_year, say["t"]), years=dashboard.exit_years(reader.core, reader.actor),
                imported=dashboard.imported_exits(reader.core, reader.actor, the_year), monitored=monitored,
                pipeline=dashboard.monitoring_pipeline(reader.core, reader.actor),
                pipeline_by=dashboard.monitoring_pipeline_by(reader.core, reader.actor))


def stage_chart(rows: list[dict[str, Any]], named) -> dict[str, Any]:
    """A stacked bar per township, a series per stage; each bar links to its cases."""
    towns = list(dict.fromkeys((r["township"], r["name"]) for r in rows))
    present = {r["stage"] for r in rows}
    stages = [s for s in STAGE_ORDER if s in present] + sorted(present - set(STAGE_ORDER))
    counts = {(r["township"], r["stage"]): r["count"] for r in rows}
    series = [{"name": named("stage", s), "key": s, "data": [counts.get((code, s), 0) for code, _ in towns],
               "links": [f"/supervise/cases?{query_string(township=code, stage=s)}" for code, _ in towns]} for s in stages]
    return {"kind": "stacked", "categories": [name for _, name in towns], "codes": [code for code, _ in towns],
            "series": series, "totals": [sum(counts.get((code, s), 0) for s in stages) for code, _ in towns]}


def exit_chart(rows: list[dict[str, Any]], year: int, t) -> dict[str, Any]:
    """A bar per month, a series per township (stacked); each bar links to the households that exited."""
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    series = [{"name": r["name"], "key": r["township"], "data": r["months"],
               "links": [f"/supervise/cases?{query_string(township=r['township'], exited=m)}" for m in months]}
              for r in rows]
    return {"kind": "stacked", "categories": [t("supervise.month", month=m) for m in range(1, 13)], "codes": months,
            "series": series, "totals": [sum(r["months"][i] for r in rows) for i in range(12)]}


@router.get("/supervise/cases")
def cases(request: Request, township: str | None = None, stage: str | None = None, exited: str | None = None,
          monitoring: str | None = None, transition_ends: str | None = None, after: str | None = None,
          kind: str | None = None, waiting: str | None = None, open: str | None = None,
          reader: Reader = Depends(supervisor)):
    """The households (or the villages, projects, problem items: `kind`) behind a chart's bar or a figure,
    a page at a time; `monitoring`: monitored now, of a type or of any; `transition_ends`: whose
    transition period ends in a year; `waiting`: waiting now at a step (PROCEDURE.STEP, the exit campaign's
    cells on /supervise); `open`: a procedure open now (monitoring: identifications under way,
    risk_elimination: risk eliminations under way)."""
    where = dashboard.CaseFilter(township or None, stage or None, exited or None, monitoring or None,
                                 transition_ends or None, kind or "household", waiting or None,
                                 open or None)
    with _hidden(township):
        found = dashboard.case_page(reader.core, reader.actor, where, _number(after, "after", 0))
    params = dict(township=where.township, stage=where.stage, exited=where.exited, monitoring=where.monitoring,
                  transition_ends=where.transition_ends, kind=None if where.kind == "household" else where.kind,
                  waiting=where.waiting, open=where.open)
    return page(request, "supervise_cases.html", found=found, where=where,
                kinds=list(reader.core.config.workflows),
                monitoring_types=monitoring_types(reader.core.config.workflows["household"]),
                township=dashboard.region_name(reader.core, where.township),
                next_query=query_string(**params, after=found["next"]) if found["next"] else None,
                first_query=query_string(**params) if after else None)


@router.get("/supervise/assessment")
def assessment_page(request: Request, region: str | None = None, year: str | None = None,
                    reader: Reader = Depends(supervisor)):
    """The assessment of the reader's jurisdiction (or a region within it) for a year: the figures
    and the five charts of the HTML report (`jingzhun report --html`), drawn by the same code; the
    households by stage and the overdue bars link to their lists, as the figures' do."""
    from engine.reads.assessment import top_regions
    from engine.reads.case_lists import region_names
    from entrypoints.report_html import Words, charts
    tops = top_regions(reader.actor)
    data = _assessment(reader, region, year)
    say = texts(reader.core.config, reader.lang)
    scope = _listed(reader, data, tops)
    stage_links = {} if scope is None else {
        s["stage"]: f"/supervise/cases?{query_string(**scope, stage=s['stage'])}" for s in data["stages"]}
    overdue_link = None if scope is None else (lambda key: f"/supervise/overdue?{query_string(**scope, unit=key)}")
    drawn = charts(data, say["t"], say["role"], overdue_link)
    return page(request, "supervise_assessment.html", a=data, charts=drawn, tops=tops, stage_links=stage_links,
                words=Words(say["t"], reader.lang), names=region_names(reader.core, tops),
                query=query_string(region=data["region"], year=data["period"]))


def _listed(reader: Reader, data: dict[str, Any], tops: list[str]) -> dict[str, str] | None:
    """The filter under which /supervise/cases and /supervise/overdue list what the assessment counts;
    None when they cannot: a past year (counted as it stood at its end, the lists are as things stand
    now) or a region they cannot be narrowed to (they filter the reader's jurisdiction by township)."""
    if data["as_of"] != reader.core.clock.today().isoformat():
        return None
    if data["level"] == "township":
        return {"township": data["region"]}
    return {} if tops == [data["region"]] else None


@router.get("/supervise/assessment.xlsx")
def assessment_workbook(region: str | None = None, year: str | None = None,
                        reader: Reader = Depends(downloads("supervises"))):
    """The assessment's tables as one workbook, as `report --xlsx` writes it (written to a private
    temporary file, recorded once it is whole, sent, then removed)."""
    from entrypoints.cli.report import report_xlsx
    data = _assessment(reader, region, year)

    def write(path: str) -> None:
        report_xlsx(reader_ctx(reader), data, path, reader.lang)
        record_report(reader.core, reader.actor, data["region"], data["period"], "xlsx")
    return workbook_download(reader, "assessment", write, _attachment(reader, data, "xlsx"))


@router.get("/supervise/assessment.html")
def assessment_report(region: str | None = None, year: str | None = None,
                      reader: Reader = Depends(downloads("supervises"))):
    """The assessment as one self-contained page with its charts, to keep or pass on offline, as
    `report --html` writes it."""
    from entrypoints.report_html import render
    data = _assessment(reader, region, year)
    record_report(reader.core, reader.actor, data["region"], data["period"], "html")
    return Response(render(reader.core.config, data, reader.lang), media_type="text/html; charset=utf-8",
                    headers=_attachment(reader, data, "html"))


def _assessment(reader: Reader, region: str | None, year: str | None) -> dict[str, Any]:
    """The assessment of `region` (default: the reader's first top region) for `year` (default this year)."""
    from engine.reads.assessment import assessment, top_regions
    tops = top_regions(reader.actor)
    chosen = region or (tops[0] if tops else None)
    the_year = _number(year, "year", 1949, 2200) or reader.core.clock.today().year
    return assessment(reader.core, reader.actor, chosen, the_year)


def _attachment(reader: Reader, data: dict[str, Any], fmt: str) -> dict[str, str]:
    title = texts(reader.core.config, reader.lang)["t"]("assess.title")
    return attachment(f"{title}-{data['region']}-{data['period']}.{fmt}", f"assessment.{fmt}")
