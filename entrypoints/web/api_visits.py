"""/api/v1 on household visits (走访): a case's visits, recording one, correcting or withdrawing it
(`household visit`, `visit-correct`, `visit-withdraw`: the same services, the same rules and refusals as
the case page), and who has not visited (`household visits`, /supervise/visits: a post at township level
or above, or an inspector). A case outside the reader's jurisdiction is a 404, as another's region is."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from engine.domain.errors import NotFound, render_text
from engine.reads.visits import PAGE, VisitFilter, case_visits, visit_page
from engine.services.case_actions import VisitInput, correct_visit, visit_recorded, withdraw_visit

from . import api_models as m
from .api_common import api_user, require_reach, within_reach
from .deps import Reader
from .routes_bulk import hidden_as

router = APIRouter(prefix="/api/v1", tags=["visits"])


def _said(reader: Reader, key: str, **params: Any) -> str:
    return render_text(reader.core.config, f"cli.{key}", params, reader.lang) or key


@router.get("/cases/{case_id}/visits", response_model=m.CaseVisits,
            summary="A household's visits, corrected and withdrawn ones kept (`case show`'s visits)")
def visits_of(case_id: int, reader: Reader = Depends(api_user)) -> Any:
    with within_reach(case_id):
        return case_visits(reader.core, reader.actor, case_id)


@router.post("/cases/{case_id}/visits", response_model=m.VisitDone, status_code=201,
             summary="Record a visit to the household (`household visit`); the same visit sent again is not stored twice")
def visit_add(case_id: int, body: m.VisitAdd, reader: Reader = Depends(api_user)) -> m.VisitDone:
    require_reach(reader, case_id)
    with within_reach(case_id):
        done = visit_recorded(reader.core, reader.actor, case_id, VisitInput(
            body.date or reader.core.clock.today(), body.findings, body.risk, body.measure, body.result))
    message = _said(reader, "visit_again" if done.again else "visit_recorded", visit=done.id, case=case_id)
    if not done.paired:
        message += "\n" + _said(reader, "visit_not_paired", case=case_id)
    return m.VisitDone(id=done.id, case=case_id, again=done.again, paired=done.paired, message=message)


@router.post("/cases/{case_id}/visits/{visit_id}/correct", response_model=m.VisitDone,
             summary="Correct a visit one recorded, with the reason: a new record, the old kept (`household visit-correct`)")
def visit_correct(case_id: int, visit_id: int, body: m.VisitCorrection, reader: Reader = Depends(api_user)) -> m.VisitDone:
    require_reach(reader, case_id)
    with within_reach(case_id):
        done = correct_visit(reader.core, reader.actor, visit_id, body.reason, body.date, body.findings, body.measure,
                             body.result, keep_measure=not body.no_measure, case_id=case_id)
    return m.VisitDone(id=done.id, case=case_id, paired=done.paired, replaces=visit_id,
                       message=_said(reader, "visit_corrected", visit=done.id, old=visit_id, case=case_id))


@router.post("/cases/{case_id}/visits/{visit_id}/withdraw", response_model=m.VisitDone,
             summary="Withdraw a visit one recorded by mistake, with the reason; kept as withdrawn "
                     "(`household visit-withdraw`)")
def visit_withdraw(case_id: int, visit_id: int, body: m.VisitWithdrawal,
                   reader: Reader = Depends(api_user)) -> m.VisitDone:
    require_reach(reader, case_id)
    with within_reach(case_id):
        withdraw_visit(reader.core, reader.actor, visit_id, body.reason, case_id=case_id)
    return m.VisitDone(id=visit_id, case=case_id, message=_said(reader, "visit_withdrawn", visit=visit_id, case=case_id))


@router.get("/visits", response_model=m.UnvisitedList, tags=["oversight"],
            summary="Who has not visited: each pairing cadre's households, the longest unvisited first "
                    "(`household visits`, /supervise/visits)")
def unvisited(region: str | None = Query(None, description="A region in my jurisdiction (default: my first post's)."),
              overdue: bool = Query(False, description="Only households unvisited past the policy's "
                                                       "`visit_interval_days`."),
              limit: int = Query(PAGE, ge=1, le=1000),
              after: str | None = Query(None, description="The `next_after` of the page before."),
              reader: Reader = Depends(api_user)) -> Any:
    where = VisitFilter.asked(reader.actor, region, overdue)
    with hidden_as(NotFound("region.unknown", code=where.region)):
        found = visit_page(reader.core, reader.actor, where, after or None, limit, reader.lang, count=not after)
    return {**found, "next_after": found["next"]}
