"""Registering a problem item on a page (问题整改事项: `problem add`, `POST /api/v1/problems`): what a
poverty office or a township leader found (a supervision, an audit, a sample check's wrong exit that waits
for them), the households it names, and the finding's document, through the same service
(workflows/problem.register). Who may register, where and what is the service's to say; the form is offered
to the posts that register, prefilled from where it was opened (a waiting wrong exit: its household, its
finding and the draw's source)."""
from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.domain.errors import BadInput
from engine.domain.inputs import parse_date
from engine.reads.case_lists import region_names

from .api_common import UPLOAD_BODY_MAX, uploads_saved
from .access import needs
from .deps import Reader, form_of
from .render import htmx, page

router = APIRouter(include_in_schema=False)
registrar = needs("registers_problems")
CASES = re.compile(r"[\s,，、;；#]+")


@router.get("/problems/new")
def new_problem(request: Request, reader: Reader = Depends(registrar)):
    from workflows.problem import ADDING_ROLES, REGISTRAR_ROLES, SOURCES, findings_for
    held = {a.role for a in reader.actor.assignments}
    regions = sorted({a.region_code for a in reader.actor.assignments if a.role in ADDING_ROLES})
    asked = {k: str(request.query_params.get(k, ""))[:500] for k in ("region", "source", "finding", "cases",
                                                                       "description")}
    return page(request, "problem_new.html", regions=regions, names=region_names(reader.core, regions),
                sources=list(SOURCES), findings=findings_for(held), any_finding=bool(held & set(REGISTRAR_ROLES)),
                asked=asked)


@router.post("/problems/new", max_body_size=UPLOAD_BODY_MAX)      # the finding's document, a photo or a scan
async def add_problem(request: Request, form: dict = Depends(form_of), reader: Reader = Depends(registrar)):
    async with uploads_saved(form, ("file",)) as files:
        problem_id = await run_in_threadpool(_register, reader, form, files.get("file"))
    where = f"/cases/{problem_id}"
    if htmx(request):           # the problem item's own page, where its assignment and rectification go on
        return Response(status_code=200, headers={"HX-Redirect": where})
    return RedirectResponse(where, status_code=303)


def _register(reader: Reader, form: dict, file: Path | None) -> int:
    from workflows.problem import ProblemInput, register_problem
    typed = str(form.get("cases") or "").strip()
    words = [w for w in CASES.split(typed) if w]
    if any(not (w.isascii() and w.isdigit()) for w in words):
        raise BadInput("web.problem.cases_not_numbers", value=typed[:40])
    found_on = str(form.get("found_on") or "").strip()[:40]
    on = parse_date(found_on) if found_on else reader.core.clock.today()       # as every form's date is read
    return register_problem(reader.core, reader.actor, ProblemInput(
        str(form.get("region") or ""), str(form.get("source") or ""), str(form.get("description") or "").strip(),
        on, str(form.get("finding") or "") or None, tuple(int(w) for w in words), file))
