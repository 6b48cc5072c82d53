"""A sample check's pages (抽查): the draws within the reader's reach, and a draw's households, each with
a form to record what was found at its door (on a phone), through the service `sample record` calls
(engine/services/sampling.record_finding): a wrong exit found opens its problem item there.

For the inspector's readers (`inspects`: an evaluator is one) and the posts that draw and record (`samples`:
the county and city poverty offices); whether they may record a finding is the service's to say (the sample
check's roles over the draw's region: the form is offered to them alone), and a draw they do not read is a 404.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from engine.domain.errors import AuthError, BadInput, NotFound
from engine.reads.case_lists import region_names
from engine.services import sampling

from .access import needs
from .api_common import UPLOAD_BODY_MAX, uploads_saved
from .deps import Reader, form_of
from .render import page

router = APIRouter(include_in_schema=False)
reader_of_samples = needs("samples")


@router.get("/inspect/samples")
def draws(request: Request, reader: Reader = Depends(reader_of_samples)):
    found = sampling.recent_draws(reader.core, reader.actor)
    return page(request, "inspect_samples.html", draws=found,
                regions=region_names(reader.core, [d["region"] for d in found]))


def _draw(reader: Reader, draw_id: int, read=sampling.show) -> dict[str, Any]:
    """The draw as `read` gives it (its page's `show`, its sheet's `field_sheet`)."""
    try:
        return read(reader.core, reader.actor, draw_id)
    except AuthError:             # a draw the reader does not read is, for them, no draw
        raise NotFound("sample.unknown_draw", draw=draw_id) from None


@router.get("/inspect/samples/{draw_id}/sheet")
def draw_sheet(request: Request, draw_id: int, reader: Reader = Depends(reader_of_samples)):
    """The draw's sheet for the visits (抽查入户核查表), from the record, to print and take to the doors."""
    from fastapi.responses import HTMLResponse

    from engine.reads.handbook import render_sheet
    from engine.services.exports import record_sample_sheet
    from .routes_handbook import print_bar
    sheet = _draw(reader, draw_id, lambda core, actor, draw: sampling.field_sheet(core, actor, draw, reader.lang))
    record_sample_sheet(reader.core, reader.actor, sheet["region"], draw_id, "html")
    region = region_names(reader.core, [sheet["region"]]).get(sheet["region"], sheet["region"])
    bar = print_bar(request, f"/inspect/samples/{draw_id}", "web.sample.back", id=draw_id)
    return HTMLResponse(render_sheet(reader.core, sheet, region, reader.lang, bar=bar))


@router.get("/inspect/samples/{draw_id}")
def draw_page(request: Request, draw_id: int, done: int | None = None, reader: Reader = Depends(reader_of_samples)):
    drawn = _draw(reader, draw_id)
    recorded = next(({"case": h["case"], **f} for h in drawn["households"] for f in h["findings"] if f["id"] == done),
                    None)
    return page(request, "inspect_sample.html", draw=drawn, findings=list(sampling.FINDINGS), recorded=recorded,
                records=sampling.records_on(reader.actor, drawn["region"]),
                region=region_names(reader.core, [drawn["region"]]).get(drawn["region"], drawn["region"]))


@router.post("/inspect/samples/{draw_id}/{case_id}", max_body_size=UPLOAD_BODY_MAX)   # a photo of the visit
async def record(request: Request, draw_id: int, case_id: int, form: dict = Depends(form_of),
                 reader: Reader = Depends(reader_of_samples)):
    _draw(reader, draw_id)
    async with uploads_saved(form, ("file",)) as files:
        finding_id = await run_in_threadpool(_record, reader, draw_id, case_id, form, files.get("file"))
    return RedirectResponse(f"/inspect/samples/{draw_id}?done={finding_id}#case-{case_id}", status_code=303)


def _record(reader: Reader, draw_id: int, case_id: int, form: dict, file: Path | None) -> int:
    typed = str(form.get("persons") or "").strip()
    if typed and not (typed.isdigit() and int(typed) > 0):
        raise BadInput("sample.persons_not_count", value=typed[:20])
    note = str(form.get("note") or "").strip()[:500] or None
    item = sampling.Finding(draw_id, case_id, str(form.get("finding") or ""), note, int(typed) if typed else None, file)
    return sampling.record_finding(reader.core, reader.actor, item)
