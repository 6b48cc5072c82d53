"""/api/v1 on cases: list, show, next, steps, evidence, registering cases and households, notices
and objections. Each route calls the service or read of the matching CLI command
(entrypoints/cli/cases.py, households.py); a case outside the reader's jurisdiction is a 404."""
from __future__ import annotations

import email.message
import json
from contextlib import asynccontextmanager
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, AsyncIterator, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.datastructures import UploadFile

from engine.domain.cases import StepInput
from engine.domain.errors import BadInput, JingzhunError
from engine.domain.evidence import rates_read
from engine.reads.case_record import case_detail
from engine.reads.handbook import handbook
from engine.reads.listings import notice_detail
from engine.reads.case_lists import list_cases
from engine.reads.queries import next_for
from engine.services.case_actions import attach_evidence, file_objection, resolve_objection
from engine.services.procedures import perform_step
from engine.services.registration import register_case

from . import api_models as m
from .api_common import (BODY_MAX, LIST_BODY_MAX, UPLOAD_BODY_MAX, api_user, forget_upload, require_objection_reach,
                         require_reach, saved_upload, titled, uploads_saved, within_reach)
from .deps import Reader

router = APIRouter(prefix="/api/v1", tags=["cases"])
PAGE_MAX = 1000
Model = TypeVar("Model", bound=BaseModel)


@router.get("/cases", response_model=m.CaseList, summary="List cases in my jurisdiction (`case list`)")
def cases(kind: str | None = None, stage: str | None = None, region: str | None = None,
          waiting: bool = Query(False, description="Only cases waiting for a step I may do (and, on the first page "
                                                      "of a list not otherwise filtered, `registrations_due`)."),
          monitoring: str | None = Query(None, description="Only households monitored now (防返贫监测): a type "
                                         "(`unstable`, `edge`, `sudden_hardship`) or `any`."),
          transition_ends: int | None = Query(None, description="Only households whose transition period (过渡期) "
                                              "ends in this year."),
          mine: bool = Query(False, description="Only the households I am pairing cadre of now and the cases waiting "
                                                "for a step I may do (`case list --mine`)."),
          limit: int = Query(100, ge=1, le=PAGE_MAX), after: int = Query(0, ge=0, description="Keyset: ids above it."),
          reader: Reader = Depends(api_user)) -> m.CaseList:
    rows = list(islice(list_cases(reader.core, reader.actor, kind, stage, region, waiting, limit + 1, after=after,
                                  monitoring=monitoring or None, transition_ends=transition_ends, mine=mine),
                      limit + 1))
    more = len(rows) > limit
    due = []
    if waiting and not (after or kind or stage or region or monitoring or transition_ends):   # as /work lists them
        from engine.reads.sample_waits import registrations_due
        due = titled(reader, registrations_due(reader.core, reader.actor))
    return m.CaseList(cases=titled(reader, rows[:limit]), next_after=rows[limit - 1]["id"] if more else None,
                      registrations_due=due)


@router.get("/cases/find", response_model=m.Found,
            summary="Find cases by a member's name, an ID number, a household code or a case number (`case find`)")
def find(q: str = Query(..., description="What to look for, as a person types it (spaces and full-width digits "
                                         "are read past)."), reader: Reader = Depends(api_user)) -> Any:
    from engine.reads.find import find_cases
    found = find_cases(reader.core, reader.actor, q)
    return {**found, "cases": titled(reader, found["cases"])}


@router.get("/cases/{case_id}", response_model=m.CaseDetail, summary="A case's record (`case show`)")
def case(case_id: int, full_ids: bool = False, reader: Reader = Depends(api_user)) -> Any:
    with within_reach(case_id):
        return case_detail(reader.core, reader.actor, case_id, full_ids, reader.lang)


@router.get("/cases/{case_id}/handbook", response_model=m.Handbook,
            summary="A household's handbook (`household handbook`): its six parts from the record")
def case_handbook(case_id: int, reader: Reader = Depends(api_user)) -> Any:
    with within_reach(case_id):
        return handbook(reader.core, reader.actor, case_id, reader.lang)


@router.get("/cases/{case_id}/application-form", response_model=m.Open,
            summary="A household's application form from the record (`household application-form`)")
def case_application_form(case_id: int, reader: Reader = Depends(api_user)) -> Any:
    from engine.reads.paperwork import application_form
    with within_reach(case_id):
        return application_form(reader.core, reader.actor, case_id, reader.lang)


@router.get("/cases/{case_id}/appraisal-result", response_model=m.Open,
            summary="The result of the village meeting that appraised the household (`household appraisal-result`)")
def case_appraisal_result(case_id: int, reader: Reader = Depends(api_user)) -> Any:
    from engine.reads.paperwork import appraisal_result
    with within_reach(case_id):
        return appraisal_result(reader.core, reader.actor, case_id, reader.lang)


@router.get("/cases/{case_id}/next", response_model=m.NextStep, summary="What the case needs next (`case next`)")
def case_next(case_id: int, as_of: date | None = None, procedure: str | None = None,
              reader: Reader = Depends(api_user)) -> Any:
    """`procedure`: the first step of another procedure that may start from the case's stage (`others`
    lists them while none is open)."""
    with within_reach(case_id):
        return next_for(reader.core, reader.actor, case_id, reader.lang, as_of=as_of, procedure=procedure or None)


def step_input(fields: m.StepFields, minutes: Path | None = None) -> StepInput:
    """The request's step fields as the service takes them (the CLI's `step` options); `minutes`: the
    file a multipart request sent in its part `minutes`."""
    given = fields.model_dump(exclude={"procedure", "step", "case_ids", "region"})
    given["pairings"] = {p.case: (p.first, p.second) for p in fields.pairings}
    given["votes"] = {v.case: (v.votes_for, v.votes_against) for v in fields.votes}
    given["measures"] = tuple((x.category, x.description) for x in fields.measures)
    given["funds"] = tuple((f.source, f.amount, f.document) for f in fields.funds)
    given["milestones"] = tuple((x.name, x.due) for x in fields.milestones)
    given["assets"] = tuple((a.asset_class, a.name, a.value, a.owner, a.case) for a in fields.assets)
    return StepInput(**{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()}, minutes=minutes)


def steps_done(results) -> list[m.StepDone]:
    return [m.StepDone(**{k: getattr(r, k) for k in m.StepDone.model_fields}) for r in results]


def components(*models: type[BaseModel]) -> dict[str, Any]:
    """The models' JSON schemas as OpenAPI components, their nested models too: what a body documented
    by hand refers to (app.openapi adds them)."""
    found: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    return found


STEP_SCHEMAS = components(m.StepRequest, m.ListStepRequest, m.EachStepRequest)


def step_body(model: type[m.StepFields]) -> dict[str, Any]:
    """A step's request as OpenAPI describes it: JSON, or multipart with an appraisal's minutes."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["step"], "properties": {
            "step": {"type": "string", "description": "The request's JSON, as the JSON body would be."},
            "minutes": {"type": "string", "format": "binary", "description": (
                "An appraisal's minutes: a photo or scan of the signed minutes (JPEG, PNG, WebP, GIF or "
                "PDF), one file for the meeting, kept with each case of the list.")}}}}}}}


@asynccontextmanager
async def _step_posted(request: Request, model: type[m.StepFields]) -> AsyncIterator[tuple[Any, StepInput]]:
    """The step request and its inputs: a JSON body, or multipart/form-data with that JSON in the part
    `step` and an appraisal's minutes in the part `minutes` (saved for the call, removed after it)."""
    if not request.headers.get("content-type", "").startswith("multipart/"):
        body = _validated(model, await _json_body(request))
        yield body, step_input(body)
        return
    form = await request.form()
    body = _validated(model, _json_of(str(form.get("step") or "")))
    async with uploads_saved(form, ("minutes",)) as files:
        yield body, step_input(body, files.get("minutes"))


@router.post("/cases/{case_id}/steps", response_model=list[m.StepDone], summary="Do a step on a case (`step`)",
             openapi_extra=step_body(m.StepRequest), max_body_size=UPLOAD_BODY_MAX)
async def step(case_id: int, request: Request, reader: Reader = Depends(api_user)) -> list[m.StepDone]:
    await run_in_threadpool(require_reach, reader, case_id)
    async with _step_posted(request, m.StepRequest) as (body, inputs):
        with within_reach(case_id):
            return steps_done(await run_in_threadpool(perform_step, reader.core, reader.actor, body.procedure,
                                                      body.step, [case_id], inputs))


@router.post("/steps", response_model=list[m.StepDone], summary="Do a step on a list of cases, all or none (`step`)",
             openapi_extra=step_body(m.ListStepRequest), max_body_size=UPLOAD_BODY_MAX)
async def list_step(request: Request, reader: Reader = Depends(api_user)) -> list[m.StepDone]:
    from engine.services.list_steps import told_unknown
    async with _step_posted(request, m.ListStepRequest) as (body, inputs):
        if len(set(body.case_ids)) == 1:
            await run_in_threadpool(require_reach, reader, body.case_ids[0])
        try:
            return steps_done(await run_in_threadpool(perform_step, reader.core, reader.actor, body.procedure,
                                                      body.step, body.case_ids, inputs))
        except JingzhunError as exc:    # every refused case named, one out of reach as unknown (as /steps/each)
            raise told_unknown(exc) from None


@router.post("/steps/each", response_model=m.EachDone,
             summary="Do a step on every case of a list (or of a region, waiting at the step) that meets its "
                     "rules; every other case refused with its reasons (`step --each`, `step --region`)",
             openapi_extra=step_body(m.EachStepRequest), max_body_size=UPLOAD_BODY_MAX)
async def list_step_each(request: Request, reader: Reader = Depends(api_user)) -> m.EachDone:
    from engine.services.list_steps import list_of_region, perform_list_step, unknown_out_of_reach
    async with _step_posted(request, m.EachStepRequest) as (body, inputs):
        case_ids = list(body.case_ids)
        if body.region is not None:         # every case of it waiting at the step, after those listed
            case_ids = await run_in_threadpool(list_of_region, reader.core, reader.actor, body.region,
                                               body.procedure, body.step, case_ids)
            if not case_ids:
                return m.EachDone(done=[], refused=[], refused_groups=[])
        result = unknown_out_of_reach(await run_in_threadpool(perform_list_step, reader.core, reader.actor,
                                                              body.procedure, body.step, case_ids, inputs))
    return m.EachDone(done=steps_done(result.done[c] for c in case_ids if c in result.done),
                      refused=m.refused_cases(reader.core, result, case_ids, reader.lang),
                      refused_groups=m.refused_groups(reader.core, result, case_ids, reader.lang))


EVIDENCE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": m.EvidenceRequest.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "required": ["type", "file"], "properties": {
        "type": {"type": "string"}, "fields": {"type": "string", "description": "A JSON object of the fields."},
        "replace": {"type": "boolean"}, "reason": {"type": "string"}, "confirm_figure": {"type": "boolean"},
        "file": {"type": "string", "format": "binary"}}}}}}}


@router.post("/cases/{case_id}/evidence", response_model=m.EvidenceCreated, status_code=201, openapi_extra=EVIDENCE_BODY,
             summary="Attach evidence: JSON (typed fields), or multipart with a file (`evidence add`)",
             max_body_size=UPLOAD_BODY_MAX)
async def evidence(case_id: int, request: Request, reader: Reader = Depends(api_user)) -> m.EvidenceCreated:
    await run_in_threadpool(require_reach, reader, case_id)
    if request.headers.get("content-type", "").startswith("multipart/"):
        body, upload = await _multipart(request)
    else:
        body, upload = _validated(m.EvidenceRequest, await _json_body(request)), None
    path = await saved_upload(upload) if upload is not None else None
    try:
        with within_reach(case_id):
            eid = await run_in_threadpool(attach_evidence, reader.core, reader.actor, case_id, body.type, body.fields,
                                          path, **body.model_dump(exclude={"type", "fields"}))
    finally:
        if path is not None:
            forget_upload(path)
    return m.EvidenceCreated(id=eid, rates_read=rates_read(reader.core.config, body.type, body.fields, reader.lang))


async def _json_body(request: Request) -> Any:
    """The body as FastAPI reads a body parameter's: JSON when it says it is JSON (or says nothing),
    else its bytes (refused as not a JSON object); none: None."""
    raw = await request.body()
    if not raw:
        return None
    if len(raw) > BODY_MAX:         # sent without its length (chunked) past a JSON body's limit
        request.scope["starlette.max_body_size"] = BODY_MAX
        raise StarletteHTTPException(413)
    kind = request.headers.get("content-type")
    if not kind:
        return _json_of(raw)
    said = email.message.Message()
    said["content-type"] = kind
    subtype = said.get_content_subtype()
    json_said = said.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))
    return _json_of(raw) if json_said else raw


def _json_of(raw: bytes | str) -> Any:
    """JSON text read as FastAPI reads a body (a lone surrogate is text: a rule then says what is wrong)."""
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", getattr(exc, "pos", 0)),
                                       "msg": "JSON decode error", "input": {}}]) from None


def _validated(model: type[Model], data: Any) -> Model:
    """The request's model, or its errors located in the body as FastAPI locates them."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]) \
            from None


async def _multipart(request: Request) -> tuple[m.EvidenceRequest, UploadFile | None]:
    form = await request.form()
    given = {k: v for k, v in form.items() if isinstance(v, str) and k != "fields"}
    given["fields"] = _fields(str(form.get("fields") or "{}"))
    upload = form.get("file")
    return _validated(m.EvidenceRequest, given), upload if isinstance(upload, UploadFile) and upload.filename else None


def _fields(text: str) -> dict[str, Any]:
    try:
        values = json.loads(text)
    except ValueError:
        values = None
    if not isinstance(values, dict):
        raise BadInput("api.fields_json")
    return values


@router.post("/cases", response_model=m.Created, status_code=201, summary="Register a case of any kind (`case add`)")
def case_add(body: m.CaseAdd, reader: Reader = Depends(api_user)) -> m.Created:
    return m.Created(id=register_case(reader.core, reader.actor, body.kind, body.region, body.title, body.attrs))


@router.post("/cases/{case_id}/causes", response_model=m.CausesCorrected,
             summary="Correct a household's causes of poverty and type, with a reason (`household causes`)")
def causes(case_id: int, body: m.CausesCorrection, reader: Reader = Depends(api_user)) -> Any:
    from workflows.poverty_causes import correct_causes
    require_reach(reader, case_id)
    with within_reach(case_id):
        return correct_causes(reader.core, reader.actor, case_id, body.causes, body.household_type, body.reason)


def _household(h: m.Household):
    from workflows.household import HouseholdInput
    return HouseholdInput(list(h.members), list(h.causes), h.household_type, h.ordinary)


@router.post("/households", response_model=m.Registered, status_code=201,
             summary="Register a household (`household add`); `warnings`: ID numbers to confirm")
def household_add(body: m.HouseholdAdd, reader: Reader = Depends(api_user)) -> m.Registered:
    return _registered(reader, body.village, [_household(body)])


@router.post("/households/import", response_model=m.Registered, status_code=201,
             summary="Register a village's households, all or none (`household import`)", max_body_size=LIST_BODY_MAX)
def household_import(body: m.HouseholdImport, reader: Reader = Depends(api_user)) -> m.Registered:
    return _registered(reader, body.village, [_household(h) for h in body.households])


def _registered(reader: Reader, village: str, households: list) -> Any:
    from engine.domain.errors import render_text
    from engine.services.org import require_role
    from workflows.household import REGISTRAR_ROLES, register_households
    require_role(reader.core, reader.actor, REGISTRAR_ROLES, village, "household add")   # who asks, before what is wrong is told
    refused = _every_problem(reader, households)
    if refused is not None:
        return refused
    warnings: list = []
    ids = register_households(reader.core, reader.actor, village, households, warnings)
    return m.Registered(ids=ids, warnings=[render_text(reader.core.config, w.key, w.params, reader.lang) or w.key
                                           for w in warnings])


def _every_problem(reader: Reader, households: list) -> JSONResponse | None:
    """Every problem of the list at once (400), as a file's import reports each bad row: each with its
    household and member (counted from 1), field, code and message; None when there is none here (the
    registration still checks the rest: jurisdiction, the village, the database)."""
    from workflows.household import household_problems, registered_refusals
    from workflows.household_codes import checked_id
    found = household_problems(households)
    if not found:
        sound = {checked_id(mem.id_number): (n, i) for n, h in enumerate(households, 1) for i, mem in enumerate(h.members, 1)}
        for number, refusal in registered_refusals(reader.core, reader.actor, list(sound)).items():
            n, i = sound[number]
            found.append((n, i, "id_number", refusal))
    if not found:
        return None
    config, lang = reader.core.config, reader.lang
    summary = found[0][3] if len(found) == 1 else \
        BadInput("api.bad_households", households=len({n for n, *_ in found}), problems=len(found))
    return JSONResponse({"error": summary.code, "message": summary.render(config, lang), "problems": [
        {"household": n, "member": i, "field": column, "error": exc.code, "message": exc.render(config, lang)}
        for n, i, column, exc in found]}, 400)


@router.get("/notices/{notice_id}", response_model=m.Open, summary="A notice, its cases and objections (`notice show`)",
            description="`posted_text` is the notice as it was posted on the board, in Chinese (`posted_lang`): the "
                        "legal record, kept as posted. `text` is the notice in the reader's language (`lang`, from "
                        "`Accept-Language` or `?lang=`), as its page and `notice render` word it: for a Chinese reader "
                        "the text as posted, else worded from the record; `reworded` is true when the record words it "
                        "today otherwise than as posted. Each case has its `lines` ([label, value]) in that language.")
def notice(notice_id: int, reader: Reader = Depends(api_user)) -> Any:
    from engine.services.notices import notice_shown
    with within_reach(notice_id, "notice.unknown", "notice"):
        return notice_shown(reader.core, reader.actor, notice_id, reader.lang)


@router.post("/notices/{notice_id}/objections", response_model=m.Created, status_code=201,
             summary="Record an objection to a case on a notice (`notice object`)")
def objection(notice_id: int, body: m.ObjectionAdd, reader: Reader = Depends(api_user)) -> m.Created:
    with within_reach(notice_id, "notice.unknown", "notice"):
        notice_detail(reader.core, reader.actor, notice_id)      # a notice outside my jurisdiction: not found
    require_reach(reader, body.case_id)
    with within_reach(notice_id, "notice.unknown", "notice"):
        return m.Created(id=file_objection(reader.core, reader.actor, notice_id, body.case_id, body.objector,
                                           body.content, body.filed_on))


RESOLUTION_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": m.Resolution.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "required": ["resolution"], "properties": {
        "resolution": {"type": "string", "description": "The request's JSON, as the JSON body would be."},
        "file": {"type": "string", "format": "binary", "description": (
            "The checks the ruling rests on (a registry's answer, a visit's record): a photo or scan (JPEG, "
            "PNG, WebP, GIF or PDF), kept as the case's evidence, hashed.")}}}}}}}


@router.post("/objections/{objection_id}/resolve", response_model=m.Resolved,
             summary="Uphold or dismiss an objection (`notice resolve`)", openapi_extra=RESOLUTION_BODY,
             max_body_size=UPLOAD_BODY_MAX)
async def resolve(objection_id: int, request: Request, reader: Reader = Depends(api_user)) -> m.Resolved:
    """A JSON body, or multipart/form-data with that JSON in the part `resolution` and the checks the
    ruling rests on in the part `file` (saved for the call, removed after it)."""
    await run_in_threadpool(require_objection_reach, reader, objection_id)
    if request.headers.get("content-type", "").startswith("multipart/"):
        form = await request.form()
        body = _validated(m.Resolution, _json_of(str(form.get("resolution") or "")))
        async with uploads_saved(form, ("file",)) as files:
            return await run_in_threadpool(_resolved, reader, objection_id, body, files.get("file"))
    body = _validated(m.Resolution, await _json_body(request))
    return await run_in_threadpool(_resolved, reader, objection_id, body, None)


def _resolved(reader: Reader, objection_id: int, body: m.Resolution, file: Path | None) -> m.Resolved:
    with within_reach(objection_id, "objection.unknown", "objection"):
        outcome = resolve_objection(reader.core, reader.actor, objection_id, body.upheld, body.reason,
                                    body.ruled_on, body.verifiers, file)
    return m.Resolved(id=objection_id, outcome=outcome)

