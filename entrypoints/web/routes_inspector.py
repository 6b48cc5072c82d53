"""The inspector's pages (read-only): the audit status with "verify now", inspection flags with the
audit events behind them, a case's or a person's trace (printable), problem items and outcomes.

Readers: the read-only roles (inspector, auditor, evaluator) and the discipline and organisation
officers (`Reader.inspects`); anybody else is refused (403). Everything is read within the reader's
jurisdiction: a case or person outside it is a 404. No page here holds a write form; "verify now"
is a read (it re-computes the hash chains), posted with the CSRF token like every form.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from engine.domain.errors import BadInput, JingzhunError, NotFound, RuleViolation
from engine.domain.members import mask_id
from engine.reads import audit_verify, oversight
from engine.reads.audit_damage import by_cause
from engine.reads.audit_seal import seal_refusal
from engine.reads.case_lists import region_names
from engine.reads.inspection import ranked
from engine.reads.inspection.flag import KINDS
from engine.reads.record_warnings import checked_words, last_verify, leads_shown, verify_remembered
from engine.reads.trace import ROWS_PAGE, Page, basis_text, case_trace, person_leads, person_trace
from engine.domain.inputs import published_head

from .access import downloads, needs
from .deps import Reader, form_of
from .render import htmx, page
from .routes_cadre import within_reach

router = APIRouter(include_in_schema=False)
FLAGS_PAGE = 25          # flags per page: the page stays small whatever the county
DAMAGE_SHOWN = 100
SEQS_MAX = oversight.EVENTS_LIMIT
VERIFYING = threading.Lock()


inspector = needs("inspects")     # whoever may read the inspector's pages; a 403 for anybody else


def _basis(reader: Reader):
    return lambda b: basis_text(reader.core.config, b, reader.lang) if b else "-"


# --- home: the audit status -------------------------------------------------------------------

@router.get("/inspect")
def home(request: Request, reader: Reader = Depends(inspector)):
    return page(request, "inspect_home.html", **_audit_status(request, reader), verified=None)


def _audit_status(request: Request, reader: Reader) -> dict[str, Any]:
    core = reader.core
    refused = seal_refusal(core)          # the latest seal refused for a broken chain, until one is sealed
    if refused is not None:
        refused["lines"] = [d.render(core.config.labels, reader.lang) for d in refused["damage"]]
    last, kept = getattr(request.app.state, "last_verify", None), last_verify(core)
    if kept is not None and last is not None and kept["at"] <= last["at"]:
        kept = None                       # this process's own is the latest: it says more
    elif kept is not None:
        last = None                       # a later verify (`audit verify`, another process) is what holds now
    return {"head": audit_verify.head(core), "tip": oversight.log_tip(core), "seal_refused": refused,
            "checkpoints": oversight.checkpoints(core), "last": last, "kept": kept}


@router.post("/inspect/verify")
def verify_now(request: Request, form: dict = Depends(form_of), reader: Reader = Depends(inspector)):
    """Re-compute every hash chain and check the evidence now (a read: it changes nothing); against
    a published head (`against`, SEQ:HASH) too when one is given, as `audit verify --against`."""
    typed = str(form.get("against") or "").strip()
    try:
        against = published_head(typed) if typed else None
    except BadInput:
        raise BadInput("inspect.bad_head", value=typed[:80]) from None
    if not VERIFYING.acquire(blocking=False):      # one at a time per process: it reads the whole log
        raise RuleViolation("inspect.verify_running")
    try:
        report = verify_remembered(reader.core, reader.actor, against)     # kept for the leads' readers
    finally:
        VERIFYING.release()
    result = _verified(reader, report) | {"against": against and against[0],
                                          "published_ok": not any(d.kind == "published_head" for d in report.damage)}
    request.app.state.last_verify = result
    if htmx(request):
        return page(request, "_inspect_verify.html", result=result, oob=True)   # the status above it too
    return page(request, "inspect_home.html", **_audit_status(request, reader), verified=result)


def _verified(reader: Reader, report) -> dict[str, Any]:
    labels = reader.core.config.labels
    damage = by_cause(report.damage or [])         # root causes, each with what follows from it (not counted)
    return {"intact": report.intact, "macs_checked": report.macs_checked, "after_head": report.after_head,
            "events": report.events, "cases": report.cases, "evidence": report.evidence,
            "damage": [d.render(labels, reader.lang) for d, _ in damage[:DAMAGE_SHOWN]],
            "caused": [[c.render(labels, reader.lang) for c in caused] for _, caused in damage[:DAMAGE_SHOWN]],
            "more": max(len(damage) - DAMAGE_SHOWN, 0), "at": reader.core.clock.now().isoformat(),
            "by": reader.actor.name}


# --- flags and the events behind them ----------------------------------------------------------

@router.get("/inspect/flags")
def flag_list(request: Request, kinds: list[str] = Query([]), page_no: int = Query(1, alias="page", ge=1),
              case: int | None = Query(None, ge=1, le=2 ** 63 - 1), person: str | None = Query(None, max_length=64),
              reader: Reader = Depends(inspector)):
    """The flags, the weightiest first, a page at a time; above them, how many of each kind; `case`:
    those naming that case only; `person` (a code): those about that person only."""
    wanted = [k for raw in kinds for k in raw.split(",") if k]
    person = person or None
    found = ranked(reader.core, reader.actor, None, wanted or None, case, person)     # a case beyond reach: 404
    shown = found[(page_no - 1) * FLAGS_PAGE:page_no * FLAGS_PAGE]
    rows, altered = leads_shown(reader.core, shown, reader.lang)       # warned of first if altered
    return page(request, "inspect_flags.html", flags=rows, altered=altered, total=len(found), kinds=KINDS, chosen=wanted,
                checked=checked_words(reader.core, shown, reader.lang),
                by_kind=_by_kind(found), page_no=page_no, offset=(page_no - 1) * FLAGS_PAGE,
                pages=max(1, -(-len(found) // FLAGS_PAGE)),
                regions=region_names(reader.core, [f.region for f in shown]), case=case, person=person,
                query=urlencode([("kinds", k) for k in wanted] + ([("case", case)] if case else [])
                                + ([("person", person)] if person else [])))


def _by_kind(found: list) -> list[tuple[str, int, float]]:
    """(kind, how many, weight) of the kinds found, the weightiest first."""
    counts: dict[str, list] = {}
    for f in found:
        counts.setdefault(f.kind, [0, f.weight])[0] += 1
    return [(k, n, w) for k, (n, w) in sorted(counts.items(), key=lambda kv: -kv[1][1])]


@router.get("/inspect/events")
def flag_events(request: Request, seqs: str = "", batch: str = "", seq: int = Query(0, ge=0, le=2 ** 63 - 1),
                reader: Reader = Depends(inspector)):
    """The audit events with these seqs (comma-separated) in the reader's jurisdiction; or the step
    events of the village's list `batch` that the event `seq` was done in (a case trace's link)."""
    numbers = sorted({int(s) for s in seqs.split(",") if s.strip().isascii() and s.strip().isdigit()})
    batch, refused = batch.strip()[:32], None
    if batch:
        numbers = oversight.batch_seqs(reader.core, reader.actor, batch, seq)
        refused = oversight.batch_refused(reader.core, reader.actor, batch, seq, reader.lang)
    rows = oversight.events(reader.core, reader.actor, numbers, lang=reader.lang)
    found = {e["seq"] for e in rows}
    missing = [n for n in numbers[:SEQS_MAX] if n not in found]     # none such, or outside the jurisdiction
    template = "_inspect_events.html" if htmx(request) else "inspect_events.html"
    return page(request, template, events=rows, missing=missing, beyond=max(len(numbers) - SEQS_MAX, 0),
                limit=SEQS_MAX, batch=batch, refused=refused)


@router.get("/inspect/activity")
def activity_log(request: Request, action: str = "", person: str = "", before: int | None = Query(None, ge=1),
                 reader: Reader = Depends(inspector)):
    """What was done outside any case (imports, exports, people and posts…), newest first, a page at
    a time; filtered by action and by person."""
    action, person = action[:40], person.strip()[:64]
    try:
        found, problem = oversight.activity(reader.core, reader.actor, action=action or None, person=person or None,
                                            before=before, limit=oversight.ACTIVITY_PAGE), None
    except JingzhunError as refused:      # a person or kind of entry there is none of: said on the form
        found = {"events": [], "older": None, "actions": oversight.activity_kinds(reader.core, reader.actor)}
        problem = refused.render(reader.core.config, reader.lang)
    kept = [(k, v) for k, v in (("action", action), ("person", person)) if v]
    return page(request, "inspect_activity.html", status=400 if problem else 200, **found, action=action,
                person=person, before=before, query=urlencode(kept), problem=problem)


# --- traces ------------------------------------------------------------------------------------

@router.get("/inspect/trace")
def trace_search(request: Request, case: str = "", person: str = "", reader: Reader = Depends(inspector)):
    """The search form's answer: a case number or a person's code goes to the trace; a name (a
    household's head, a person's name) lists whom it names in the reader's jurisdiction, or goes
    straight to the one it names."""
    number, person = case.strip().lstrip("#"), person.strip()
    if number.isascii() and number.isdigit() and len(number) < 15:     # a case number, not an ID number
        return RedirectResponse(f"/inspect/trace/case/{int(number)}", status_code=303)
    if number:
        from engine.reads.find import find_cases
        found = find_cases(reader.core, reader.actor, number, limit=oversight.FOUND_MAX)["cases"]
        if len(found) == 1:
            return RedirectResponse(f"/inspect/trace/case/{found[0]['id']}", status_code=303)
        as_id = oversight.id_number(number)     # an ID number typed: shown back masked, as everywhere
        return page(request, "inspect_found.html", asked=number, cases=found[:oversight.FOUND_MAX],
                    more=len(found) > oversight.FOUND_MAX, persons=None, masked=as_id and mask_id(as_id))
    if person:
        found = oversight.persons_named(reader.core, reader.actor, person)
        exact = [p for p in found if p["code"] == person]
        if len(found) == 1 or exact:
            code = (exact or found)[0]["code"]
            return RedirectResponse(f"/inspect/trace/person/{quote(code, safe='')}", status_code=303)
        as_id = oversight.id_number(person)     # an ID number typed in the person box: shown back masked too
        return page(request, "inspect_found.html", asked=person, persons=found[:oversight.FOUND_MAX],
                    more=len(found) > oversight.FOUND_MAX, cases=None, masked=as_id and mask_id(as_id))
    return RedirectResponse("/inspect", status_code=303)


@router.get("/inspect/trace/case/{case_id}")
def trace_case(request: Request, case_id: int, reader: Reader = Depends(inspector)):
    with within_reach(case_id):
        rec = case_trace(reader.core, reader.actor, case_id, reader.lang)
    return page(request, "inspect_case.html", rec=rec, basis=_basis(reader))


@contextmanager
def person_within_reach(code: str) -> Iterator[None]:
    """A person with no post inside the reader's jurisdiction is, for them, nobody (404): said so in words
    that do not tell an unknown code from a person beyond the reader's jurisdiction."""
    try:
        yield
    except JingzhunError as exc:
        if isinstance(exc, NotFound) or exc.code == "auth.jurisdiction":
            raise NotFound("person.not_in_reach", code=code) from None
        raise


@router.get("/inspect/trace/person/{code}")
def trace_person(request: Request, code: str, before: int | None = Query(None, ge=1), action: str = "",
                 steps_before: int | None = Query(None, ge=1), steps: str = "",
                 responsibilities_before: int | None = Query(None, ge=1), responsibilities: str = "",
                 reader: Reader = Depends(inspector)):
    """A person's dossier; a person who holds no post within the reader's jurisdiction is a 404. Their
    steps and responsibilities summed up by group, and a page of each (`steps_before`: the older page's
    start; `steps`: one group's key), and their other acts a page at a time (`before`), of one kind if
    `action` is given."""
    action = action[:40]
    pages = Page(steps_before, steps[:200] or None), Page(responsibilities_before, responsibilities[:200] or None)
    with person_within_reach(code):
        rec = person_trace(reader.core, reader.actor, code, reader.lang, before=before, action=action or None,
                           steps=pages[0], responsibilities=pages[1], leads=False)     # the leads: read after it
    regions = region_names(reader.core, _regions_of(rec))
    return page(request, "inspect_person.html", rec=rec, regions=regions, basis=_basis(reader),
                before=before, action=action, steps_before=steps_before,
                responsibilities_before=responsibilities_before, rows_page=ROWS_PAGE)


@router.get("/inspect/trace/person/{code}/leads")
def trace_person_leads(request: Request, code: str, reader: Reader = Depends(inspector)):
    """The leads about the person, their trace page's section (loaded after the page; a page of its own
    without HTMX)."""
    with person_within_reach(code):
        about = person_leads(reader.core, reader.actor, code, reader.lang)
    template = "_person_leads.html" if htmx(request) else "inspect_person_leads.html"
    return page(request, template, about=about, code=code)


@router.get("/inspect/trace/person/{code}/{name}")
def trace_person_download(code: str, name: str, reader: Reader = Depends(downloads("inspects"))):
    """A person's steps or responsibilities, every one within the reader's jurisdiction, oldest first, as
    CSV (streamed) or a workbook: steps.csv, steps.xlsx, responsibilities.csv, responsibilities.xlsx."""
    from .routes_export import person_download
    with person_within_reach(code):
        return person_download(reader, code, name)


def _regions_of(rec: dict[str, Any]) -> list[str]:
    return [p["region"] for p in rec["posts"]] + [r["region"] for r in rec["responsibilities"]] + \
        [s["region"] for s in rec["steps"]] + [o["region"] for o in rec["outcomes"]]


# --- problem items and outcomes ----------------------------------------------------------------

@router.get("/inspect/problems")
def problem_list(request: Request, reader: Reader = Depends(inspector)):
    from engine.reads.deadlines import earliest_due
    problems = oversight.problems(reader.core, reader.actor)
    return page(request, "inspect_problems.html", problems=problems,
                outcomes=oversight.outcomes(reader.core, reader.actor),
                due=earliest_due(reader.core, [p["id"] for p in problems]), as_of=reader.core.clock.today())
