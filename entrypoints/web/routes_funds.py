"""The fund figures of projects, for the supervisors (`funds report` on a page): per township (or county)
and per project, as of a day, with what of each disbursed amount was typed in after that day (补录),
so that the figures of a past day can be read as the record said them then; and the projects' figures
to download (CSV or a workbook), recorded as taken out.

Jurisdiction is the read's (engine.reads.funds: the reader's regions only).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterator

from fastapi import APIRouter, Depends, Request

from engine.domain.errors import BadInput, NotFound
from engine.domain.inputs import parse_date

from .access import downloads, needs
from .deps import Reader
from .render import page, texts
from .routes_export import FORMATS, table_download
from .routes_supervisor import query_string

router = APIRouter(include_in_schema=False)
PROJECTS_SHOWN = 100        # projects a page lists (the rollups are of them all)
COLUMNS = ("case", "title", "region", "township", "stage", "category", "budget", "allocated", "disbursed", "rate",
           "retention", "other", "carry_over", "to_recover", "disbursed_late", "milestones", "milestones_done",
           "milestones_behind")


def _day(value: str | None) -> date | None:
    """The report's day from the query (as every date typed in: 2019-07-15, 2019/7/15, 2019年7月15日), None
    for today; refused in the reader's words, naming the field."""
    if value is None or not value.strip():
        return None
    try:
        return parse_date(value.strip())
    except BadInput:
        raise BadInput("funds.bad_day", value=value.strip()[:20]) from None


def _after(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    if not value.strip().isdigit() or len(value.strip()) > 18:
        raise BadInput("funds.bad_after", value=value.strip()[:20])
    return int(value)


def _report(reader: Reader, region: str | None, as_of: str | None, after: int | None = None,
            limit: int | None = None) -> dict[str, Any]:
    from engine.domain.regions import check_code
    from engine.reads.funds import funds_report
    day = _day(as_of)
    if day is not None and day > reader.core.clock.today():
        raise BadInput("funds.future_day", day=day.isoformat(), today=reader.core.clock.today().isoformat())
    if region:
        try:
            check_code(region)
        except BadInput:
            raise NotFound("region.unknown", code=region[:12]) from None
    from engine.reads.assessment import top_regions
    tops = top_regions(reader.actor)          # several: the widest first, as the assessment's page
    return funds_report(reader.core, reader.actor, region or (tops[0] if tops else None), day, after, limit)


@router.get("/supervise/funds")
def funds_page(request: Request, region: str | None = None, as_of: str | None = None, after: str | None = None,
               reader: Reader = Depends(needs("supervises"))):
    """The fund figures of the reader's jurisdiction (or one region in it) as of a day: the total, each
    township's (a city: each county's too), and its projects, PROJECTS_SHOWN at a time."""
    from engine.reads.assessment import top_regions
    from engine.reads.case_lists import region_names
    data = _report(reader, region, as_of, _after(after), PROJECTS_SHOWN)
    tops = top_regions(reader.actor)
    today = reader.core.clock.today().isoformat()
    kept = dict(region=data["region"] if region else None, as_of=data["as_of"] if data["as_of"] != today else None)
    return page(request, "supervise_funds.html", f=data, tops=tops, names=region_names(reader.core, tops),
                past=data["as_of"] != today, query=query_string(**kept),
                link=lambda code: "/supervise/funds?" + query_string(region=code, as_of=kept["as_of"]),
                up=_up(reader, data, tops), next_query=query_string(**kept, after=data["next"]) if data["next"] else None,
                first_query=query_string(**kept) if after else None)


def _up(reader: Reader, data: dict[str, Any], tops: list[str]) -> str | None:
    """The region above the one shown, when the reader reads it (a township's page leads back to its county)."""
    from engine.domain.regions import covers, parent_of
    if data["region"] in tops:
        return None
    above = parent_of(data["region"])
    while above is not None and not any(covers(top, above) for top in tops):
        above = parent_of(above)
    return above


@router.get("/supervise/funds.{fmt}")
def funds_download(fmt: str, region: str | None = None, as_of: str | None = None,
                   reader: Reader = Depends(downloads("supervises"))):
    """Every project of the page (all of them, not one page) with its figures, as CSV or a workbook,
    recorded in the activity log as taken out (the table `funds` of the region, with its day)."""
    from engine.services.exports import record_funds
    if fmt not in FORMATS:
        raise NotFound("web.export.bad_format", name=f"funds.{fmt}"[:40])
    data = _report(reader, region, as_of)
    say = texts(reader.core.config, reader.lang)
    header = [say["t"](f"funds_page.col.{c}") for c in COLUMNS]

    def cells() -> Iterator[tuple]:
        for p in data["projects"]:
            yield (p["id"], p["title"], p["region_name"] or p["region"], p["township"],
                   say["stage"](p["stage"], "project"), say["label"]("category", p["category"]),
                   *(p[k] for k in ("budget", "allocated", "disbursed")),
                   None if p["rate"] is None else f"{p['rate'] * 100:.2f}%",
                   *(p[k] for k in ("retention", "other", "carry_over", "to_recover", "disbursed_late", "milestones",
                                    "milestones_done", "milestones_behind")))
    title = say["t"]("funds_page.sheet", as_of=data["as_of"])
    record = lambda: record_funds(reader.core, reader.actor, data["region"], data["as_of"], fmt)  # noqa: E731
    return table_download(reader, title, data["region"], fmt, header, cells(), record)
