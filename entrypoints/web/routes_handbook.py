"""A household's handbook (扶贫手册) and a village's, and its exit confirmation (脱贫确认书) filled in, as pages
to print: `household handbook` and `household exit-confirmation` on the web.

The page is the engine's printable handbook (engine/reads/handbook.py) with a bar above it, hidden on
paper: a button to print or save it as PDF (a phone's browser may have no print menu) and the way back.
A village's handbooks stream as they are read, one household at a time, and leave the system as an
export does: recorded in the activity log before the first is sent."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from engine.domain.errors import NotFound
from engine.reads.handbook import (exit_confirmation, handbook, render_confirmation, render_handbooks,
                                   village_handbooks)
from engine.reads.paperwork import printed_paper
from engine.services.exports import record_handbooks

from .access import needs
from .deps import Reader
from .render import page
from .routes_bulk import PRINT_BAR_STYLE, hidden_as
from .routes_cadre import within_reach

router = APIRouter(include_in_schema=False)


@router.get("/cases/{case_id}/handbook")
def case_handbook(request: Request, case_id: int, reader: Reader = Depends(needs("signed_in"))):
    with within_reach(case_id, reader):
        book = handbook(reader.core, reader.actor, case_id, reader.lang)
    bar = print_bar(request, f"/cases/{case_id}", "web.handbook.back_case", id=case_id)
    return HTMLResponse("".join(render_handbooks(reader.core, [book], reader.lang, bar=bar)))


@router.get("/cases/{case_id}/exit-confirmation")
def case_exit_confirmation(request: Request, case_id: int, reader: Reader = Depends(needs("signed_in"))):
    """The exit confirmation (脱贫确认书) filled in from the record, to print and have the household sign."""
    with within_reach(case_id, reader):
        filled = exit_confirmation(reader.core, reader.actor, case_id, reader.lang)
    bar = print_bar(request, f"/cases/{case_id}#ev-household_confirmation", "web.confirmation.back", id=case_id)
    return HTMLResponse(render_confirmation(reader.core, filled, reader.lang, bar=bar))


@router.get("/cases/{case_id}/application-form")
def case_application_form(request: Request, case_id: int, reader: Reader = Depends(needs("signed_in"))):
    """The household's application form (贫困户申请书) filled in from the record, to print and sign."""
    return _paper(request, reader, case_id, "application_form")


@router.get("/cases/{case_id}/appraisal-result")
def case_appraisal_result(request: Request, case_id: int, reader: Reader = Depends(needs("signed_in"))):
    """The result of the village meeting that appraised the household (民主评议结果), to print and sign."""
    return _paper(request, reader, case_id, "appraisal_result")


def _paper(request: Request, reader: Reader, case_id: int, kind: str) -> HTMLResponse:
    bar = print_bar(request, f"/cases/{case_id}", "web.paperwork.back", id=case_id)
    with within_reach(case_id, reader):
        return HTMLResponse(printed_paper(reader.core, reader.actor, kind, case_id, reader.lang, bar=bar))


@router.get("/villages/{code}/handbooks")
def village_handbooks_page(request: Request, code: str, reader: Reader = Depends(needs("signed_in"))):
    with hidden_as(NotFound("region.unknown", code=code[:12])):     # beyond reach: no such village
        shown, books = village_handbooks(reader.core, reader.actor, code, reader.lang)
    record_handbooks(reader.core, reader.actor, shown["code"], "html")
    bar = print_bar(request, f"/villages/{shown['code']}/list", "web.handbook.back_village", village=shown["name"])
    pieces = render_handbooks(reader.core, books, reader.lang, village=shown, bar=bar)
    return StreamingResponse(_chunks(pieces), media_type="text/html; charset=utf-8")


def _chunks(pieces, size: int = 64 * 1024):
    """The page's pieces (a template yields one for every few words) sent 64 KB at a time: each piece sent
    alone crossed to the server's thread pool and back, and a village of 191 households took 13 s, not 4."""
    held: list[str] = []
    count = 0
    for piece in pieces:
        held.append(piece)
        count += len(piece)
        if count >= size:
            yield "".join(held).encode("utf-8")
            held, count = [], 0
    if held:
        yield "".join(held).encode("utf-8")


def print_bar(request: Request, back: str, text: str, **params) -> tuple[str, str]:
    """A printable page's bar (hidden on paper): its style for the head, and the print button with the way
    back (`back`, said by the text `text` with `params`) for above the page."""
    nav = page(request, "_handbook_print_bar.html", back=back, back_text=text, params=params).body.decode()
    return PRINT_BAR_STYLE, nav
