"""Proposing a fund project on a page (项目申报入库, audit a13 #5): what `project add --submit` does, for
the village cadre on a phone. The form is read into the ProjectInput the command builds, with the same
parsers, and given to the one service (workflows.project.propose_project) that registers the project and
submits it into the library in one act. A refusal is said beside the field it is about, the form kept as
typed, and nothing is written."""
from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.domain import inputs
from engine.domain.errors import BadInput, JingzhunError
from engine.domain.regions import level_of
from engine.reads.case_lists import region_names

from .access import needs
from .deps import Reader, form_of
from .render import error_text, htmx, page

router = APIRouter(include_in_schema=False)
proposer = needs("works")
FIELDS = ("site", "name", "category", "unit", "unit_head", "leader", "funds", "beneficiaries", "targets",
          "complete_by", "description")
NUMBERS = re.compile(r"[\s,，、;；#]+")
LINES = re.compile(r"[\r\n]+")
CLI_WORDS = re.compile(r"\s*[（(][^（）()]*--[a-z][^（）()]*[）)]")      # "（请用 --target 填写绩效目标）": the field is here
# which field a refusal is about (the service's codes); one not here is said above the form
FIELD_OF = {"project.no_name": "name", "project.bad_site": "site", "region.unknown": "site",
            "project.no_unit": "unit", "project.no_budget": "funds", "project.bad_amount": "funds",
            "input.fund_source_line": "funds", "project.no_beneficiaries": "beneficiaries",
            "project.beneficiary_not_household": "beneficiaries", "project.beneficiary_outside": "beneficiaries",
            "project.beneficiary_not_registered": "beneficiaries", "web.project.beneficiaries_not_numbers":
            "beneficiaries", "project.no_performance_target": "targets", "project.completion_not_after":
            "complete_by", "web.project.no_complete_by": "complete_by", "input.bad_date": "complete_by",
            "input.no_such_day": "complete_by",
            "auth.jurisdiction": "site", "auth.wrong_role": "site"}


def _sites(reader: Reader) -> list[str]:
    """The villages and townships where the reader holds a post that submits a project into the library."""
    roles = reader.core.config.workflows["project"].procedures["library_entry"].steps[0].roles
    return sorted({a.region_code for a in reader.actor.assignments if a.role in roles and
                   level_of(a.region_code) in ("village", "township")})


def _form(request: Request, reader: Reader, asked: dict[str, str], errors: dict[str, str] | None = None,
          status: int = 200):
    from workflows.project_base import CATEGORIES
    sites = _sites(reader)
    return page(request, "project_new.html", status, sites=sites, names=region_names(reader.core, sites),
                categories=list(CATEGORIES), asked=asked, errors=errors or {})


@router.get("/projects/new")
def new_project(request: Request, reader: Reader = Depends(proposer)):
    return _form(request, reader, {**dict.fromkeys(FIELDS, ""), "leader": reader.actor.code})


@router.post("/projects/new")
async def propose(request: Request, form: dict = Depends(form_of), reader: Reader = Depends(proposer)):
    asked = {k: str(form.get(k) or "")[:4000] for k in FIELDS}
    try:
        case_id = await run_in_threadpool(_propose, reader, asked)
    except JingzhunError as exc:
        said = CLI_WORDS.sub("", str(error_text(request, exc)))
        field = FIELD_OF.get(exc.code)
        if exc.code in ("person.unknown", "project.person_cannot_act"):       # which of the two named persons
            field = "leader" if _named(exc) == asked["leader"].strip() else "unit_head"
        if exc.code == "project.bad_code":
            field = "funds" if exc.params.get("field") == "fund_source" else "category"
        return _form(request, reader, asked, {field or "form": said}, 400)
    where = f"/cases/{case_id}"
    if htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": where})
    return RedirectResponse(where, status_code=303)


def _named(exc: JingzhunError) -> str:
    person = exc.params.get("person")
    return str(exc.params.get("code") or (person.params.get("code") if person is not None else "") or "")


def _propose(reader: Reader, asked: dict[str, str]) -> int:
    from workflows.project import ProjectInput, propose_project
    words = [w for w in NUMBERS.split(asked["beneficiaries"].strip()) if w]
    if any(not (w.isascii() and w.isdigit()) or len(w) > 18 for w in words):
        raise BadInput("web.project.beneficiaries_not_numbers", value=asked["beneficiaries"].strip()[:40])
    funds = [inputs.fund_line(line.strip()) for line in LINES.split(asked["funds"]) if line.strip()]
    if not asked["complete_by"].strip():
        raise BadInput("web.project.no_complete_by")
    complete_by = inputs.parse_date(asked["complete_by"].strip())
    targets = [line.strip() for line in LINES.split(asked["targets"]) if line.strip()]
    return propose_project(reader.core, reader.actor, ProjectInput(
        asked["name"], asked["category"], asked["site"], asked["unit"], asked["unit_head"].strip(),
        asked["leader"].strip(), funds, tuple(int(w) for w in words), targets, complete_by, None,
        asked["description"] or None))
