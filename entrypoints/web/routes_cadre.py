"""The cadre's pages: my work, a case, the form of its next step, evidence with a file.

Each route parses, calls one service or read, and renders. A case outside the reader's
jurisdiction is answered exactly like a case that does not exist (404).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, quote, unquote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from engine.domain.errors import AuthError, BadInput, JingzhunError, NotFound, RuleViolation, joined
from engine.domain.evidence import rates_read
from engine.reads.case_record import case_detail, require_case_reader
from engine.reads.case_lists import count_waiting, list_cases
from engine.reads.queries import check_step, next_for, render_violation
from engine.services.case_actions import attach_evidence
from engine.services.procedures import perform_step

from . import forms
from .access import needs
from .api_common import UPLOAD_BODY_MAX, uploads_saved
from .deps import Reader, form_of
from .render import error_text, for_pages, htmx, page, texts
from .routes_auth import secure_cookies as secure

router = APIRouter(include_in_schema=False)
WORK_LIMIT = 200


@contextmanager
def within_reach(case_id: int, reader: Reader | None = None) -> Iterator[None]:
    """A case the reader may not see is, for them, a case that does not exist (checked first when
    `reader` is given, before any other answer could tell the case exists)."""
    try:
        if reader is not None:
            require_case_reader(reader.core, reader.actor, case_id)
        yield
    except AuthError as exc:
        if exc.code == "auth.jurisdiction":
            raise NotFound("case.unknown", case=case_id) from None
        raise
    except KeyError:
        raise NotFound("case.unknown", case=case_id) from None


RISK_PROCEDURE = "monitoring"      # what a visit that finds a risk of poverty leads to (防返贫监测)


@router.get("/work")
def my_work(request: Request, reader: Reader = Depends(needs("works"))):
    """Cases waiting for me, each with what it needs (the same answer as `case next`) and, handed back
    by a rejection, who rejected it, when and why; for a post above a village, the cases its office
    rejected that nobody has taken up since (waiting below, on nobody's list here)."""
    from engine.reads.deadlines import earliest_due, risk_due
    from engine.reads.rejected import last_rejections, returned_by_my_posts
    rows = list(islice(list_cases(reader.core, reader.actor, waiting_for_me=True), WORK_LIMIT + 1))
    more, rows = len(rows) > WORK_LIMIT, rows[:WORK_LIMIT]
    total = max(count_waiting(reader.core, reader.actor), len(rows) + 1) if more else len(rows)
    due = earliest_due(reader.core, [r["id"] for r in rows])       # what is due, and what is overdue, first seen
    listed = {r["id"] for r in rows}
    returned = [c for c in returned_by_my_posts(reader.core, reader.actor, reader.lang) if c["id"] not in listed]
    from engine.reads.queries import ids_to_confirm, paired_households, risks_unanswered
    from workflows.household import REGISTRAR_ROLES
    risks = risks_unanswered(reader.core, reader.actor, "household", RISK_PROCEDURE)
    # a risk seen: the monitoring's days run (not another procedure's deadline on the case)
    risk_dues = risk_due(reader.core, [h["id"] for h in risks], RISK_PROCEDURE)
    from engine.reads.sample_waits import registrations_due
    from engine.reads.case_deadlines import cases_pressed
    from engine.reads.deadlines import stalled_elsewhere
    paired = paired_households(reader.core, reader.actor)      # each with what holds it up above the cadre, overdue
    from engine.reads.handed import handed_to_me
    return page(request, "work.html", handed=handed_to_me(reader.core, reader.actor), cases=rows, more=more, total=total, due=due, as_of=reader.core.clock.today(),
                pressed=cases_pressed(reader.core, [r["id"] for r in rows]),    # 督办 by a supervisor: said here too
                sample_waits=registrations_due(reader.core, reader.actor),
                rejected=last_rejections(reader.core, listed, reader.lang), returned=returned,
                paired=paired, stalled=stalled_elsewhere(reader.core, reader.actor, [h["id"] for h in paired]),
                ids=ids_to_confirm(reader.core, reader.actor, REGISTRAR_ROLES),
                risks=risks, risk_due=risk_dues,
                risk_procedure=RISK_PROCEDURE)


@router.get("/work/{case_id}/needs")
def waiting_needs(request: Request, case_id: int, role_said: bool = False, brief: bool = False,
                  reader: Reader = Depends(needs("signed_in"))):
    """What one waiting case needs (loaded by each row of "my work", so the list shows at once);
    `role_said`: the reader's want of the step's role left out, said once above a village's list;
    `brief`: folded to how many conditions it fails, a tap showing them (a village's list, whose summary
    above says each condition once for all its households)."""
    with within_reach(case_id):
        nxt = next_for(reader.core, reader.actor, case_id, reader.lang)
    return page(request, "_needs.html", nxt=nxt, case_id=case_id, role_said=role_said, brief=brief)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: int, procedure: str | None = None, poor_page: str | None = None,
              reader: Reader = Depends(needs("signed_in"))):
    """A case's page; `procedure` shows the first step of another procedure that may start from the
    case's stage (a removal, monitoring, a reopening) in place of the main path's. What a form sent
    without HTMX did (DONE_COOKIE) is said on it once."""
    said = unquote(request.cookies.get(DONE_COOKIE) or "")[:DONE_LONGEST]
    response = case_view(request, reader, case_id, procedure, done=said or None, poor_page=poor_page)
    if said:
        response.delete_cookie(DONE_COOKIE, path=f"/cases/{case_id}")
    return response


def case_view(request: Request, reader: Reader, case_id: int, procedure: str | None = None, status: int = 200,
              done: str | None = None, answer: dict[str, Any] | None = None, poor_page: str | None = None,
              done_outcome: str | None = None, done_start: tuple[str, ...] = ()) -> Response:
    """The case page; `answer`: a form's refusal to show where the form is, with what it sent kept in it
    (a form sent without HTMX), `done`: what a form sent so did (`done_outcome`: a step's decision,
    `done_start`: procedures it offers to start at once)."""
    start_refused = None
    with within_reach(case_id):
        case = case_detail(reader.core, reader.actor, case_id, lang=reader.lang)
        try:
            nxt = next_for(reader.core, reader.actor, case_id, reader.lang, procedure=procedure or None)
        except (BadInput, RuleViolation) as exc:     # a stale or mistyped link: the page, saying why not
            if not procedure:
                raise
            start_refused = exc.render(reader.core.config, reader.lang)
            nxt = next_for(reader.core, reader.actor, case_id, reader.lang)
        project = _project(reader, case, nxt)
        poor = _poor_page(reader, case, poor_page)
        from engine.reads.case_deadlines import case_deadlines, case_lapses
        deadlines = case_deadlines(reader.core, reader.actor, case_id)
        lapses = case_lapses(reader.core, reader.actor, case_id)
    workflow = reader.core.config.workflows[case["kind"]]
    n = nxt.get("next") or {}
    may = _reader_may(reader, case, n)
    may["start"] = _may_start(reader, nxt)
    choices = forms.candidates(reader.core, reader.actor, case["region"],
                               workflow.procedures[n["procedure"]].step(n["step"]), n.get("excluded", ()), case_id) \
        if may["step"] else {}
    from engine.reads.rejected import last_rejections
    rejected = last_rejections(reader.core, [case_id], reader.lang).get(case_id)
    return page(request, "case.html", status, case=case, nxt=nxt, evidence_types=_evidence_types(workflow, nxt, case),
                rejected=rejected, rejected_advice=_advice(reader, rejected),
                field_choices=forms.evidence_choices(workflow.evidence_types.values(), case["stage"]), start_refused=start_refused,
                prefill=forms.prefilled(case, n, reader.lang), evidence_prefill=forms.evidence_prefill(case, n, reader.lang),
                plan=forms.plan_lines(case.get("measures") or []),
                fields=_fields_of(nxt, workflow), member_codes=_member_codes(case), choices=choices, may=may,
                main_next=workflow.main_path.get(case["stage"]), done=done, answer=answer, project=project,
                poor=poor, done_outcome=done_outcome, done_start=done_start, deadlines=deadlines,
                lapses=lapses)


def _poor_page(reader: Reader, case: dict[str, Any], asked: str | None) -> dict[str, Any] | None:
    """A later page (2, 3…) of a poor village's households still poor; None: the first, as `case next` names them."""
    if case["kind"] != "village" or not asked:
        return None
    if not (asked.isascii() and asked.isdigit() and 0 < int(asked) < 10**6):
        raise BadInput("input.number", value=asked[:20])
    from engine.reads.indicators import poor_households_page
    return poor_households_page(reader.core, reader.actor, case["id"], int(asked)) if int(asked) > 1 else None


def _project(reader: Reader, case: dict[str, Any], nxt: dict[str, Any]) -> dict[str, Any] | None:
    """A fund project's budget, money, milestones, payments and assets (what `project show` reads)."""
    if case["kind"] != "project":
        return None
    from engine.reads.money_words import change_words, contractor_change_words, supplementary_contract_words
    from workflows.project import project_detail
    project = project_detail(reader.core, reader.actor, case["id"])
    # a plan change under way: the change its steps approve and announce, old -> new (as the trace says it)
    changing = [s for p in case.get("procedures") or () if p["kind"] == "plan_change" and not p["ended_at"]
                for s in p["steps"] if s["step"] == "change_request" and not s["voided"]]
    changes = (changing[-1]["data"] or {}).get("changes") if changing else None
    project["change"] = change_words(reader.core.config, changes, reader.lang) if changes else []
    # a change of contractor under way: the contractor it replaces, the new one and its contract
    replacing = [s for p in case.get("procedures") or () if p["kind"] == "contractor_change" and not p["ended_at"]
                 for s in p["steps"] if s["step"] == "contractor_change_request" and not s["voided"]]
    replaced = (replacing[-1]["data"] or {}).get("contractor_change") if replacing else None
    project["contractor_change"] = contractor_change_words(reader.core.config, replaced, reader.lang) if replaced else []
    # a supplementary contract under way: the contract's amount old -> new, what it adds and why
    supplementing = [s for p in case.get("procedures") or ()
                     if p["kind"] == "supplementary_contract" and not p["ended_at"]
                     for s in p["steps"] if s["step"] == "supplementary_contract_request" and not s["voided"]]
    supplement = (supplementing[-1]["data"] or {}).get("supplementary_contract") if supplementing else None
    project["supplementary_contract"] = supplementary_contract_words(reader.core.config, supplement, reader.lang) \
        if supplement else []
    # the monthly disbursement report's form: the figures it records (dated today), from the payments
    project["report"] = None
    if (nxt.get("next") or {}).get("step") == "disbursement_report":
        from workflows.project_money import disbursement_report_preview
        project["report"] = disbursement_report_preview(reader.core, reader.actor, case["id"])
        if project["report"] and project["report"]["entered_late"]:    # listed apart: entered late (补录)
            from engine.reads.money_words import late_lines
            project["report"]["late_lines"] = late_lines(reader.core.config, project["report"]["entered_late"], reader.lang)
    return project


# A form of the case page sent without HTMX (its script not loaded on a weak signal, or scripts off) is
# a plain POST: done, the browser is sent back to the case page (303), which says what was done once
# (this cookie, for that case's page alone); refused, the case page is the answer, the refusal where
# the form is and what was typed kept in it. With HTMX, the part of the page that says either.
DONE_COOKIE = "jz_done"
DONE_LONGEST = 1000


def plain_form(request: Request, case_id: int, slot: str, form: dict) -> None:
    """Notes a form sent without HTMX: its refusal (app.py's handler) is the whole case page with the
    form `slot` (its element's id) as it was sent."""
    if not htmx(request):
        request.state.case_form = {"case_id": case_id, "slot": slot, "sent": form}


def _origin(request: Request, case_id: int) -> str | None:
    """The procedure the case page the form was sent from showed (?procedure=), if it was this case's page."""
    came = urlsplit(request.headers.get("referer") or "")
    if came.netloc != request.url.netloc or came.path != f"/cases/{case_id}":
        return None
    return (parse_qs(came.query).get("procedure") or [None])[0]


# An action of the case page done with HTMX is answered with the case page as it now is, `said` at its top,
# swapped in place of the page's main part (these headers): the state the action left (the next step's form,
# the plan's measures, a number confirmed) is shown at once, and the form just sent is gone, not to be sent
# again by a cadre who thought nothing happened. A piece of evidence keeps its own answer (the step form
# being filled in beside it is kept).
REDRAWN = {"HX-Retarget": "main", "HX-Reselect": "main", "HX-Reswap": "outerHTML show:#done:top"}


def done_on_page(request: Request, case_id: int, said: str, template: str, redraw: bool = True,
                 **context: Any) -> Response:
    """An action of the case page done: with HTMX, the case page drawn again saying `said` (REDRAWN), or
    (`redraw` False) `template` in place of its form's result; else back to the case page, which says it."""
    procedure = _origin(request, case_id)
    if htmx(request) and redraw:
        outcome = context.get("outcome")
        # a step done: the case's open procedure (if any) is what the page shows next, not the page's ?procedure=
        shown = None if outcome else procedure
        drawn = case_view(request, request.state.reader, case_id, shown, done=said,
                          done_outcome=outcome.decision if outcome else None, done_start=context.get("start") or ())
        # the address says what is shown: a page opened to start a procedure (?procedure=) is, once its
        # first step is done, the case's page (reloaded, it would be refused as started already)
        drawn.headers.update({**REDRAWN, "HX-Replace-Url": f"/cases/{case_id}" + (f"?procedure={quote(shown)}"
                                                                                 if shown else "")})
        return drawn
    if htmx(request):
        return page(request, template, case_id=case_id, said=said, **context)
    # to what it says (a browser keeps the scroll of a page sent back to itself: the form's, far below)
    back = RedirectResponse(f"/cases/{case_id}" + (f"?procedure={quote(procedure)}" if procedure else "") + "#done",
                            303)
    back.set_cookie(DONE_COOKIE, quote(said[:DONE_LONGEST]), max_age=600, path=f"/cases/{case_id}", httponly=True,
                    samesite="lax", secure=secure(request))
    return back


def refused_on_page(request: Request, exc: JingzhunError, status: int, said: list[str] | None = None) -> Response:
    """A plain form's refusal (plain_form noted it): the case page, the refusal at the form."""
    sent = request.state.case_form
    reader = request.state.reader
    refusal = page(request, "_refusal_list.html" if said else "_refusal.html", status, code=exc.code, texts=said,
                   message=None if said else for_pages(error_text(request, exc)), params=exc.params)
    procedure = sent["sent"].get("procedure") if sent["slot"] == "step-form" else _origin(request, sent["case_id"])
    return case_view(request, reader, sent["case_id"], procedure if isinstance(procedure, str) else None, status,
                     answer={**sent, "html": Markup(refusal.body.decode()),
                             "files": any(isinstance(v, UploadFile) and v.filename for v in sent["sent"].values())})


def _advice(reader: Reader, rejected: dict[str, Any] | None) -> str | None:
    """What to do after a rejection of this procedure (as its notice to the cadres says), if it has any."""
    key = f"notify.rejection.todo.{rejected['procedure']}" if rejected else ""
    return reader.core.config.label(key, reader.lang) if key in reader.core.config.labels else None


def _may_start(reader: Reader, nxt: dict[str, Any]) -> list[dict[str, Any]]:
    """The procedures that may start from the case's stage whose first step the reader holds a role for."""
    if reader.read_only:
        return []
    return [o for o in nxt["others"] if reader.actor.first_role(roles_for(reader, o), nxt["region"]) is not None]


def roles_for(reader: Reader, step: dict[str, Any]) -> tuple[str, ...]:
    """The step's roles the reader could act in: a role narrowed to some people (a pairing cadre to
    their own households) only if the reader is one of them."""
    only = step.get("only")
    return tuple(r for r in step["roles"] if not only or r not in only["roles"] or reader.actor.code in only["persons"])


def _reader_may(reader: Reader, case: dict[str, Any], n: dict[str, Any]) -> dict[str, bool]:
    """Which of the case page's forms the reader holds a role for over the case's region, by the rule
    the action itself checks: the next step (a role of the step), evidence (a role of the case's
    workflow), members (a registrar's role), visits (any signing role). A form for an action the
    reader could never do is not drawn: the page is read-only for them. Whether the rules allow it
    today (dates, who signed already…) is still said by the step's refusal box."""
    from engine.services.case_actions import signing_roles
    from engine.services.context import workflow_roles
    from workflows.household import REGISTRAR_ROLES
    from workflows.exit_year import may_note
    from workflows.project_completion import may_withdraw
    from workflows.poverty_causes import may_correct
    if reader.read_only:
        return {"step": False, "step_named_only": False, "evidence": False, "members": False, "visits": False,
                "paired": False, "exit_year": False, "withdraw_completion": False, "causes": False}
    holds = lambda roles: reader.actor.first_role(tuple(roles), case["region"]) is not None  # noqa: E731
    step = bool(n) and holds(roles_for(reader, {"roles": n.get("roles") or (), "only": n.get("only")}))
    return {"step": step,
            # the reader holds the step's role, yet the step is narrowed to named people they are not one of
            "step_named_only": bool(n) and not step and holds(n.get("roles") or ()),
            "evidence": holds(workflow_roles(reader.core, case["kind"])),
            "members": case["kind"] == "household" and holds(REGISTRAR_ROLES),
            "visits": holds(signing_roles(reader.core)),
            # the household's pairing cadre now: recording a visit comes first on its page
            "paired": case["kind"] == "household" and holds(signing_roles(reader.core)) and any(
                p["person"] == reader.actor.code and not p["end"] and p["in_office"] for p in case.get("pairings") or ()),
            "exit_year": may_note(case["kind"], case["stage"], case.get("attrs"), holds),
            # a completion under way, before its final accounts: the county may withdraw it (补充合同)
            "withdraw_completion": may_withdraw(case["kind"], n, holds),
            "causes": may_correct(case["kind"], holds)}


def _member_codes(case: dict[str, Any]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each coded member field's label prefix and the codes it may take (the member forms' choices;
    a second head is no choice), for a household."""
    if case["kind"] != "household":
        return {}
    from engine.domain.kin import KIN
    from workflows.household import MEMBER_EDITABLE
    from workflows.household_codes import LABEL_PREFIX
    from workflows.household_codes import CAUSES, HOUSEHOLD_TYPES
    return {**{f: (LABEL_PREFIX[f], tuple(c for c in codes if c != "head")) for f, codes in MEMBER_EDITABLE.items()},
            "kin": ("kin", tuple(KIN)),     # a cadre's kinship to the household (the relatives form)
            "cause": ("cause", tuple(CAUSES)), "household_type": ("household_type", tuple(HOUSEHOLD_TYPES))}


def _fields_of(nxt: dict[str, Any], workflow) -> list[dict[str, Any]]:
    n = nxt.get("next")
    return forms.describe(n["type"], procedure=workflow.procedures[n["procedure"]], step=n["step"],
                          stage=nxt.get("stage")) if n else []


def _evidence_types(workflow, nxt: dict[str, Any], case: dict[str, Any]) -> list[dict[str, Any]]:
    """The evidence types of this kind, those the next step asks for first; `current`: the case's item
    of that type in force, which a new one replaces (a new year's income, a correction) with a reason
    (an earlier procedure's minutes or confirmation is its record: a new one is an item of its own)."""
    wanted = (nxt.get("next") or {}).get("evidence") or []
    order = [*wanted, *[k for k in workflow.evidence_types if k not in wanted]]
    current = {e["type"]: e for e in case.get("evidence") or []
               if not e.get("superseded_by") and not e.get("earlier_procedure")}
    return [{"key": k, "fields": workflow.evidence_types[k].fields, "file": workflow.evidence_types[k].file,
             "wanted": k in wanted, "current": current.get(k)} for k in order]


@router.post("/cases/{case_id}/step", max_body_size=UPLOAD_BODY_MAX)     # an appraisal comes with its minutes
async def do_step(request: Request, case_id: int, form: dict = Depends(form_of),
                  reader: Reader = Depends(needs("works"))):
    """The step named by the form (the case's next step when the form was drawn)."""
    plain_form(request, case_id, "step-form", form)
    async with uploads_saved(form, forms.FILE_FIELDS) as files:
        return await run_in_threadpool(_do_step, request, case_id, form, files, reader)


def _do_step(request: Request, case_id: int, form: dict, files: dict[str, Path], reader: Reader):
    procedure, step_key = str(form.get("procedure", "")), str(form.get("step", ""))
    with within_reach(case_id):
        nxt = next_for(reader.core, reader.actor, case_id, reader.lang, procedure=procedure or None)
        expected = nxt.get("next") or {}
        if (expected.get("procedure"), expected.get("step")) != (procedure, step_key):
            _moved_on(reader, case_id, procedure, step_key)
        inputs = forms.step_input(expected["type"], form, files=files)
        version = form.get("version")
        if isinstance(version, str) and (version.isascii() and version.isdigit()):
            inputs = replace(inputs, expect_version=int(version))
        try:
            outcome = perform_step(reader.core, reader.actor, procedure, step_key, [case_id], inputs)[0]
        except RuleViolation as exc:
            if exc.code == "case.changed" and inputs.expect_version is not None:
                _sent_again(reader, case_id, inputs.expect_version, procedure, step_key)
            return _refused(request, reader, exc, case_id, procedure, step_key, inputs)
    words = texts(reader.core.config, reader.lang)
    said = words["t"]("web.step.done", step=words["label"]("step", outcome.step_key),
                      decision=words["label"]("decision", outcome.decision),
                      stage=words["stage"](outcome.to_stage, outcome.kind))
    return done_on_page(request, case_id, said, "_step_done.html", outcome=outcome)


def _sent_again(reader: Reader, case_id: int, version: int, procedure: str, step_key: str) -> None:
    """The case changed since the form was drawn because its reader did this very step since (the form sent
    again: a double tap, a page left open): said as that, nothing written twice."""
    from engine.reads.sent_again import own_step_since
    at = own_step_since(reader.core, reader.actor, case_id, version, procedure, step_key)
    if at is not None:
        from engine.domain.deadline_rules import wall_clock
        raise RuleViolation("step.sent_again", case=case_id, step=step_key,
                            at=wall_clock(reader.core.config, at))


def _moved_on(reader: Reader, case_id: int, procedure: str, step_key: str) -> None:
    """The form's step is no longer the case's next (a second tab, a page open since): done already is
    said as that, by whom and when; anything else as a case that moved on."""
    done = [v for v in check_step(reader.core, reader.actor, case_id, procedure, step_key) if v.code == "step.done"] \
        if procedure and step_key else []
    raise done[0].error() if done else BadInput("web.step_moved", case=case_id)


def _refused(request: Request, reader: Reader, exc: RuleViolation, case_id: int, procedure: str, step_key: str,
             inputs) -> Any:
    """A refused step, with every rule it does not meet (the same dry run as `case next`), not only
    the first one the step stopped at."""
    violations = check_step(reader.core, reader.actor, case_id, procedure, step_key, inputs=inputs)
    said = [for_pages(text) for v in violations for text in render_violation(reader.core, v, reader.lang)] or \
        [for_pages(exc.render(reader.core.config, reader.lang))]
    if not htmx(request):
        return refused_on_page(request, exc, 409, said)
    return page(request, "_refusal_list.html", 409, code=exc.code, texts=said)


@router.post("/cases/{case_id}/evidence", max_body_size=UPLOAD_BODY_MAX)
async def add_evidence(request: Request, case_id: int, form: dict = Depends(form_of),
                       reader: Reader = Depends(needs("works"))):
    etype = str(form.get("type", ""))
    plain_form(request, case_id, f"ev-{etype}", form)
    fields = {k[len("f_"):]: v.strip() for k, v in form.items() if k.startswith("f_") and isinstance(v, str)
              and v.strip()}
    reason = form.get("reason")
    options = {"replace": form.get("replace") == "1", "void_signoffs": form.get("void_signoffs") == "1",
               "confirm_figure": form.get("confirm_figure") == "1",
               "reason": reason.strip() if isinstance(reason, str) and reason.strip() else None}
    async with uploads_saved(form, ("file",)) as files:
        eid = await run_in_threadpool(_attach, reader, case_id, etype, fields, files.get("file"), options)
    words = texts(reader.core.config, reader.lang)
    said = words["t"]("web.evidence.done", id=eid, type=words["label"]("evidence", etype))
    said = " ".join([said, *rates_read(reader.core.config, etype, fields, reader.lang)])    # 0.5 is 50%: said back
    if not htmx(request):       # back to the case page, drawn afresh
        return done_on_page(request, case_id, said, "_evidence_done.html")
    form_now = await run_in_threadpool(_evidence_form_now, reader, case_id, etype)
    # the step form on the page is still the reader's to send: its version follows the evidence they added
    return done_on_page(request, case_id, said, "_evidence_done.html", redraw=False, evidence_id=eid, etype=etype,
                        version=form_now["case"]["version"], **form_now)


def _evidence_form_now(reader: Reader, case_id: int, etype: str) -> dict[str, Any]:
    """What the evidence form of `etype` is drawn from now that the case holds an item of that type: a
    form to replace it (with its reason), as the page opened again would show."""
    case = case_detail(reader.core, reader.actor, case_id, lang=reader.lang, integrity=False)
    workflow = reader.core.config.workflows[case["kind"]]
    et = next(e for e in _evidence_types(workflow, {}, case) if e["key"] == etype)
    return {"case": case, "et": et, "field_choices": forms.evidence_choices(workflow.evidence_types.values(), case["stage"])}


# A member's facts a cadre keeps up to date on the case page (a birth or a departure: their own forms).
# A bank account is never shown whole, so its box starts empty: left empty, it is unchanged.
MEMBER_FORM = ("name", "id_number", "relation", "insured_basic", "insured_critical", "health", "labour_ability",
               "school_enrolment", "phone", "bank_account")


def _text(form: dict, key: str) -> str:
    return str(form.get(key) or "").strip()


@router.post("/cases/{case_id}/members/{member_id}")
def update_member_page(request: Request, case_id: int, member_id: int, form: dict = Depends(form_of),
                       reader: Reader = Depends(needs("works"))):
    """A member's name, relation, insurance, health, labour, schooling, phone or bank account changed,
    with a reason: only the fields the form changed are sent (each is recorded with its old value)."""
    from workflows.household import update_member_row
    plain_form(request, case_id, f"member-{member_id}", form)
    changes = {f: _text(form, f"m_{f}") for f in MEMBER_FORM
               if f"m_{f}" in form and _text(form, f"m_{f}") != _text(form, f"was_{f}")}
    if not changes:
        raise BadInput("web.member.unchanged")
    with within_reach(case_id, reader):
        warning = update_member_row(reader.core, reader.actor, case_id, member_id, changes, _text(form, "reason"),
                                    form.get("void_signoffs") == "1")
    names = joined((reader.core.config.label(f"field.{f}", reader.lang) for f in changes), reader.lang)
    return _member_done(request, case_id, _warned(reader, reader.core.config.label("web.member.done", reader.lang)
                                                  .format(fields=names), warning))


@router.post("/cases/{case_id}/head")
def change_head_page(request: Request, case_id: int, form: dict = Depends(form_of),
                     reader: Reader = Depends(needs("works"))):
    """A new head of household, the former head's relation (or departure) and the others' relations to
    the new head, in one change with a reason."""
    from workflows.household import change_head_row
    plain_form(request, case_id, "head-form", form)
    heir, former = _text(form, "heir"), _text(form, "former")
    with within_reach(case_id, reader):        # a case out of reach is not found, whatever the form says
        relations = {int(k[4:]): _text(form, k) for k in form
                     if k.startswith("rel_") and k[4:].isascii() and k[4:].isdigit()}
        if not (heir.isascii() and heir.isdigit()):
            raise BadInput("member.unknown", case=case_id)
        name = change_head_row(reader.core, reader.actor, case_id, int(heir), _text(form, "reason"), former,
                               relations, form.get("void_signoffs") == "1")
    return _member_done(request, case_id,
                        reader.core.config.label("web.member.head_done", reader.lang).format(name=name))


@router.post("/cases/{case_id}/exit-year")
def exit_year_page(request: Request, case_id: int, form: dict = Depends(form_of),
                   reader: Reader = Depends(needs("works"))):
    """The year a household imported as exited left poverty, noted (or corrected) by a county office."""
    from workflows.exit_year import note_exit_year
    plain_form(request, case_id, "exit-year-form", form)
    with within_reach(case_id, reader):
        year, before = note_exit_year(reader.core, reader.actor, case_id, _text(form, "year"), _text(form, "reason"))
    said = reader.core.config.label("cli.exit_year_noted" if before is None else "cli.exit_year_corrected", reader.lang)
    return _member_done(request, case_id, said.format(case=case_id, year=year, before=before))


@router.post("/cases/{case_id}/completion/withdraw")
def withdraw_completion_page(request: Request, case_id: int, form: dict = Depends(form_of),
                             reader: Reader = Depends(needs("works"))):
    """A fund project's completion under way withdrawn by the county, so that a supplementary contract
    can be signed (`project withdraw-completion`)."""
    from workflows.project_completion import withdraw_completion, withdrawn_words
    plain_form(request, case_id, "withdraw-completion-form", form)
    with within_reach(case_id, reader):
        done = withdraw_completion(reader.core, reader.actor, case_id, _text(form, "reason"))
    return _member_done(request, case_id, withdrawn_words(reader.core.config, done, reader.lang))


@router.post("/cases/{case_id}/visits")
def visit_page(request: Request, case_id: int, form: dict = Depends(form_of), reader: Reader = Depends(needs("works"))):
    """A visit to the household (走访): its date, what was found, whether it is at risk of poverty, the
    measure of the plan it concerns and what it brought (`household visit`)."""
    from engine.domain.inputs import parse_date
    from engine.services.case_actions import VisitInput, visit_recorded
    plain_form(request, case_id, "visit-form", form)
    with within_reach(case_id, reader):
        day = _text(form, "visit_date")
        risk = form.get("risk") == "1"
        done = visit_recorded(reader.core, reader.actor, case_id, VisitInput(
            parse_date(day) if day else reader.core.clock.today(), _text(form, "findings"), risk, _measure(form),
            _text(form, "result") or None))
        # a risk found is what starts monitoring (防返贫监测): offered at once to whoever may start it
        start = [o["procedure"] for o in _may_start(reader, next_for(reader.core, reader.actor, case_id, reader.lang))
                 if o["procedure"] == RISK_PROCEDURE] if risk and not done.again else []
    said = [reader.core.config.label("visit.again" if done.again else "web.visit.done", reader.lang)]
    if not done.paired:
        said.append(reader.core.config.label("visit.not_paired", reader.lang))
    return _member_done(request, case_id, " ".join(said), start=start)


def _measure(form: dict) -> int | None:
    """The measure a visit form names (its id), or None."""
    value = _text(form, "measure")
    if value and not (value.isascii() and value.isdigit() and len(value) < 12):
        raise BadInput("input.number", value=value[:20])
    return int(value) if value else None


@router.post("/cases/{case_id}/visits/{visit_id}/correct")
def visit_correct_page(request: Request, case_id: int, visit_id: int, form: dict = Depends(form_of),
                       reader: Reader = Depends(needs("works"))):
    """A mistaken visit corrected (a new version, the old kept with the reason) or, `act=withdraw`,
    withdrawn (`household visit-correct`, `household visit-withdraw`)."""
    from engine.domain.errors import render_text
    from engine.domain.inputs import parse_date
    from engine.services.case_actions import correct_visit, withdraw_visit
    plain_form(request, case_id, f"fix-visit-{visit_id}", form)
    with within_reach(case_id, reader):
        if _text(form, "act") == "withdraw":
            withdraw_visit(reader.core, reader.actor, visit_id, _text(form, "reason"), case_id=case_id)
            key, params = "cli.visit_withdrawn", {"visit": visit_id, "case": case_id}
        else:
            day = _text(form, "visit_date")
            done = correct_visit(reader.core, reader.actor, visit_id, _text(form, "reason"),
                                 parse_date(day) if day else None, _text(form, "findings") or None, _measure(form),
                                 _text(form, "result"), keep_measure=False, case_id=case_id)
            key, params = "cli.visit_corrected", {"visit": done.id, "old": visit_id, "case": case_id}
    return _member_done(request, case_id, render_text(reader.core.config, key, params, reader.lang))


@router.post("/cases/{case_id}/relatives")
def relative_page(request: Request, case_id: int, form: dict = Depends(form_of), reader: Reader = Depends(needs("works"))):
    """A cadre recorded as a relative of the household (they may not sign it off): who, their kinship
    (one of the list, chosen), and how it was found (`household relative`)."""
    from engine.domain.errors import render_text
    from engine.services.case_actions import record_relative
    plain_form(request, case_id, "relative-form", form)
    person = _text(form, "person")
    with within_reach(case_id, reader):
        kin = record_relative(reader.core, reader.actor, case_id, person, _text(form, "relation"), _text(form, "reason"))
    return _member_done(request, case_id, render_text(reader.core.config, "cli.relative_recorded",
                                                      {"case": case_id, "person": person, "relation": kin}, reader.lang))


@router.post("/cases/{case_id}/members/{member_id}/leave")
def member_leaves_page(request: Request, case_id: int, member_id: int, form: dict = Depends(form_of),
                       reader: Reader = Depends(needs("works"))):
    """A member no longer in the household (a death, a marriage out, a move), with a reason."""
    from workflows.household import member_leaves_row
    plain_form(request, case_id, f"leave-{member_id}", form)
    with within_reach(case_id, reader):
        member_leaves_row(reader.core, reader.actor, case_id, member_id, _text(form, "reason"),
                          form.get("void_signoffs") == "1")
    return _member_done(request, case_id, reader.core.config.label("web.member.left", reader.lang))


@router.post("/cases/{case_id}/members")
def member_add_page(request: Request, case_id: int, form: dict = Depends(form_of),
                    reader: Reader = Depends(needs("works"))):
    """A new member (a birth, a marriage in, a return), with a reason."""
    from workflows.household import MEMBER_ADDED, add_member, member_of
    plain_form(request, case_id, "add-member-form", form)
    # the relation as given: an empty one is refused (a second head is never a default)
    member = replace(member_of({f: _text(form, f"m_{f}") for f in MEMBER_ADDED}), relation=_text(form, "m_relation"))
    with within_reach(case_id, reader):
        warning = add_member(reader.core, reader.actor, case_id, member, _text(form, "reason"),
                             form.get("void_signoffs") == "1")
    return _member_done(request, case_id, _warned(reader, reader.core.config.label("web.member.added", reader.lang),
                                                  warning))


@router.post("/cases/{case_id}/members/{member_id}/id-confirm")
def member_id_confirm_page(request: Request, case_id: int, member_id: int, form: dict = Depends(form_of),
                           reader: Reader = Depends(needs("works"))):
    """A member's ID number checked against the ID card and found right (one left to confirm)."""
    from workflows.household import confirm_member_id_row
    plain_form(request, case_id, f"id-confirm-{member_id}", form)
    with within_reach(case_id, reader):
        name = confirm_member_id_row(reader.core, reader.actor, case_id, member_id)
    return _member_done(request, case_id, reader.core.config.label("web.member.id_confirmed", reader.lang)
                        .format(name=name))


@router.post("/cases/{case_id}/causes")
def causes_page(request: Request, case_id: int, form: dict = Depends(form_of), reader: Reader = Depends(needs("works"))):
    """A household's causes of poverty (each one ticked: they replace those registered) and type corrected,
    with a reason (`household causes`)."""
    from workflows.poverty_causes import correct_causes, corrected_words
    plain_form(request, case_id, "causes-form", form)
    ticked = form.get("cause") or []
    ticked = [c for c in (ticked if isinstance(ticked, list) else [ticked]) if isinstance(c, str) and c]
    with within_reach(case_id, reader):
        done = correct_causes(reader.core, reader.actor, case_id, ticked, _text(form, "household_type") or None,
                              _text(form, "reason"))
    return _member_done(request, case_id, corrected_words(reader.core.config, case_id, done, reader.lang))


@router.post("/cases/{case_id}/deadlines/{deadline_id}/press")
def press_on_case_page(request: Request, case_id: int, deadline_id: int, form: dict = Depends(form_of),
                       reader: Reader = Depends(needs("presses"))):
    """督办 from the case page an alert or a press links to: the same press as /supervise/overdue's (one a day
    by each supervisor), with an optional note; the case page then shows it among the deadline's presses."""
    from engine.services.press import press_deadline
    plain_form(request, case_id, f"press-form-{deadline_id}", form)
    note = form.get("note")
    with within_reach(case_id, reader):
        done = press_deadline(reader.core, reader.actor, deadline_id, note if isinstance(note, str) else None,
                              case_id=case_id)
    t_ = texts(reader.core.config, reader.lang)["t"]
    said = t_("supervise.press.done", owner=done["owner_name"], n=done["channels"]) if done["channels"] else \
        t_("supervise.press.unreached", owner=done["owner_name"])
    if done.get("handed_from"):
        said = t_("supervise.press.handed", person=done["handed_from"], owner=done["owner_name"]) + said
    return _member_done(request, case_id, str(said))


@router.post("/cases/{case_id}/id-confirm-all")
def member_ids_confirm_page(request: Request, case_id: int, form: dict = Depends(form_of),
                            reader: Reader = Depends(needs("works"))):
    """Every ID number of the household still to confirm checked against the cards at once."""
    from workflows.household import confirm_member_ids
    plain_form(request, case_id, "id-confirm-all", form)
    with within_reach(case_id, reader):
        names = confirm_member_ids(reader.core, reader.actor, case_id)
    return _member_done(request, case_id, reader.core.config.label("web.member.ids_confirmed", reader.lang)
                        .format(count=len(names), names=joined(names, reader.lang)))


@router.post("/work/ids-confirm")
def ids_confirm_list(request: Request, form: dict = Depends(form_of), reader: Reader = Depends(needs("works"))):
    """The households ticked on "my work"'s list of numbers to confirm, each checked against the cards:
    all confirmed in one act (each member's check recorded), or none; back to the list, which says so."""
    from workflows.household import confirm_households_ids
    raw = form.get("case")
    chosen = [int(c) for c in (raw if isinstance(raw, list) else [raw] if raw else []) if str(c).isdigit()]
    done = confirm_households_ids(reader.core, reader.actor, chosen)
    said = reader.core.config.label("web.work.ids_confirmed", reader.lang).format(
        households=len(done), members=sum(len(n) for n in done.values()))
    return HTMLResponse(f'<p class="done" role="status">{escape(said)}</p>') if htmx(request) else \
        RedirectResponse("/work#ids-to-confirm", status_code=303)


def _warned(reader: Reader, said: str, warning) -> str:
    """What a member form did, and what the cadre is asked to confirm of the number it entered."""
    from engine.domain.errors import render_text
    return f"{said} {render_text(reader.core.config, warning.key, warning.params, reader.lang)}" if warning else said


def _member_done(request: Request, case_id: int, said: str, **context: Any) -> Response:
    return done_on_page(request, case_id, said, "_member_done.html", **context)


def _attach(reader: Reader, case_id: int, etype: str, fields: dict, path: Path | None, options: dict) -> int:
    with within_reach(case_id, reader):
        return attach_evidence(reader.core, reader.actor, case_id, etype, fields, path, **options)
