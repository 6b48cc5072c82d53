"""A village's list in one action: one step for many households (each first dry-run, the ready ones
then signed in ONE call: one meeting, one notice, all or none) or an evidence sheet (one row per
household, attached all or none), each answered with a result per household; notices with the
entry and resolution of objections, printable; and the files of evidence items.

Each route parses, calls the services and reads the CLI calls, and renders. A village, notice,
objection or evidence item outside the reader's jurisdiction is answered exactly like one that
does not exist (404); the posted case ids are checked against the village, never trusted.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.concurrency import run_in_threadpool

from engine.domain import inputs as parse
from engine.domain.errors import AuthError, BadInput, Codes, JingzhunError, Msg, NotFound, render_text
from engine.domain.evidence import left_as_prefilled, rates_read
from engine.domain.guards import Violation
from engine.reads import village_lists as lists
from engine.reads.listings import notice_detail
from engine.reads.queries import minimums, people_holding
from engine.services.case_actions import (OBJECTION_RECORDERS, OBJECTION_RESOLVERS, EvidenceItem,
                                          attach_evidence_many, file_objection, resolve_objection)
from engine.services.notices import notice_in_words, render
from engine.services.evidence_sheet import SheetRow, sheet_items
from engine.services.list_steps import perform_list_step

from . import forms
from .access import downloads, needs
from .api_common import LIST_BODY_MAX, UPLOAD_BODY_MAX, uploads_saved
from .deps import Reader, form_of
from .render import for_pages, htmx, page

router = APIRouter(include_in_schema=False)
DEFAULT_KIND = "household"
# Served inline (a phone shows the photo); anything else is downloaded, never rendered by the browser.
ATTACHED_TYPES = {".txt": "text/plain; charset=utf-8", ".csv": "text/csv; charset=utf-8",
                  ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
                  ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@contextmanager
def hidden_as(missing: NotFound) -> Iterator[None]:
    """What the reader may not see is, for them, what does not exist."""
    try:
        yield
    except AuthError as exc:
        if exc.code == "auth.jurisdiction":
            raise missing from None
        raise


def _no_village(code: str) -> NotFound:
    return NotFound("region.unknown", code=code[:12])


def _text(form: dict[str, Any], name: str, default: str = "") -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default


def _ids(raw: Any) -> list[int]:
    """The case ids a form posted (one checkbox or many)."""
    values = raw if isinstance(raw, list) else [] if raw is None else [raw]
    texts = [v.strip() for v in values if isinstance(v, str)]
    bad = [v for v in texts if not (v.isascii() and v.isdigit()) or len(v) > 12]
    if bad:
        raise BadInput("input.number", value=bad[0][:20], field=Msg("web.field.case_number"))
    return [int(v) for v in texts]


# --- the reader's villages and what waits there ---------------------------------------------

@router.get("/villages")
def villages(request: Request, reader: Reader = Depends(needs("signed_in"))):
    villages = lists.my_villages(reader.core, reader.actor)
    from .routes_register import may_register
    return page(request, "bulk_villages.html", villages=villages, registers=may_register(reader),
                areas=lists.my_list_regions(reader.core, reader.actor, villages))


@router.get("/villages/{code}/list")
def village_list(request: Request, code: str, procedure: str = "", step: str = "", kind: str = DEFAULT_KIND,
                 after: int = Query(0, ge=0, le=2 ** 62), reader: Reader = Depends(needs("signed_in"))):
    """Without a step: the steps the village's cases wait at, with counts. With one: its households,
    50 a page (`after`: the case the page follows), and one button for every household waiting, whichever
    page is shown. A township or county: the same over all its villages (its sign-off in one action),
    under how many wait in each village."""
    with hidden_as(_no_village(code)):
        village = lists.list_region(reader.core, reader.actor, code)
        if not (procedure and step):
            from .routes_register import may_register
            return page(request, "bulk_choose.html", village=village, registers=may_register(reader),
                        pairs=lists.waiting_steps(reader.core, reader.actor, code),
                        notices=lists.village_notices(reader.core, reader.actor, code)
                        if village["level"] == "village" else [])
        step_def = lists.step_def(reader.core, kind, procedure, step)
        proc_def = reader.core.config.workflows[kind].procedures[procedure]
        # 50 a page, a village's too (one of 1,660 households took 3.3 s, 4.7 s on a phone): the button
        # for all waiting acts on every page's households
        shown = lists.waiting_page(reader.core, reader.actor, code, kind, procedure, step, after, size=lists.LIST_PAGE)
        choices = forms.candidates(reader.core, reader.actor, code, step_def,       # none who took part in any
                                   lists.participants(reader.core, code, kind, procedure, step))   # of the list
    return page(request, "bulk_list.html", village=village, kind=kind, procedure=procedure, step=step,
                step_type=step_def.type, cases=shown["cases"], shown=shown,
                every=forms.one_record_for_all(step_def.type) and shown["size"] is not None,
                fields=forms.describe(step_def.type, many_cases=True, procedure=proc_def, step=step_def.key), choices=choices,
                n=minimums(reader.core, code, step_def, reader.core.clock.today()),
                mine=lists.may_do(reader.core, reader.actor, code, kind, procedure, step),
                who_may=[reader.core.config.role_label(r, reader.lang)
                         for r in lists.who_may(reader.core, code, kind, procedure, step)])


@router.post("/villages/{code}/list", max_body_size=UPLOAD_BODY_MAX)    # an appraisal's minutes: one file
async def sign_list(request: Request, code: str, form: dict = Depends(form_of),
                    reader: Reader = Depends(needs("works"))):
    """Dry-run the step on every chosen household; sign the ready ones in one call; say for each
    household whether it was done or refused, and why. An appraisal's minutes serve the whole list."""
    async with uploads_saved(form, forms.FILE_FIELDS) as files:
        return await run_in_threadpool(_sign_list, request, code, form, files, reader)


def _sign_list(request: Request, code: str, form: dict, files: dict[str, Path], reader: Reader):
    kind, procedure, step_key = _text(form, "kind", DEFAULT_KIND), _text(form, "procedure"), _text(form, "step")
    with hidden_as(_no_village(code)):
        # "all waiting": every case of the region at the step, as the server finds them now (a township's
        # list is shown a page at a time; the list signed is the whole of it), else the boxes ticked
        ids = lists.waiting_ids(reader.core, reader.actor, code, procedure, step_key) \
            if _text(form, "all") == "1" else _ids(form.get("case"))
        chosen = lists.cases_in_village(reader.core, reader.actor, code, ids, kind)
    step_type = lists.step_def(reader.core, kind, procedure, step_key).type
    inputs = forms.step_input(step_type, form, many_cases=True, files=files)
    result = perform_list_step(reader.core, reader.actor, procedure, step_key, list(chosen), inputs)
    outcomes = result.done
    if not outcomes and (wrong := _form_problem(result.refused)) is not None:
        raise wrong                 # the form's own entries (a count left blank): said once, at the form
    # each reason once with its households (a village refused for one rule: one group, not a card a household)
    groups = [{"reasons": [for_pages(text) for text in g.texts()],      # catalogue texts: their commands as code
               "codes": [c for c, _ in g.reasons], "cases": [chosen[c] for c in g.cases]}
              for g in result.grouped(reader.core, list(chosen), reader.lang)]
    done_groups: dict[tuple, list] = {}         # the done ones alike: by the decision and the stage reached
    for cid, case in chosen.items():
        if (outcome := outcomes.get(cid)) is not None:
            done_groups.setdefault((outcome.decision, outcome.to_stage, outcome.kind), []).append(case)
    notice = next((o.notice_id for o in outcomes.values() if o.notice_id), None)
    return _result(request, "_bulk_result.html", 200 if outcomes else 409, "web.bulk.result_title",
                   f"/villages/{quote(code)}/list?" + urlencode({"kind": kind, "procedure": procedure, "step": step_key}),
                   groups=groups, done_groups=done_groups, done=len(outcomes), refused=len(result.refused),
                   notice=notice, procedure=procedure, step=step_key,     # 409: nothing done
                   announced=any(o.announced for o in outcomes.values()))     # its notice a 公告


def _result(request: Request, fragment: str, status: int, title_key: str, back: str, **shown: Any):
    """The result's fragment for HTMX; sent without it (scripts off or lost on a weak signal), the
    same in a whole page with the way back."""
    if htmx(request):
        return page(request, fragment, status, **shown)
    return page(request, "bulk_result_page.html", status, fragment=fragment, title_key=title_key, back=back, **shown)


def _form_problem(refused: dict[int, list]) -> JingzhunError | None:
    """A problem of what the form says for every household (an input refused alike for each of
    them), or None: a household's own reasons are told household by household."""
    shared: dict | None = None
    for reasons in refused.values():
        said = [Violation.of(v) if isinstance(v, JingzhunError) else v for v in reasons]
        found = {(v.code, repr(sorted(v.params.items()))): v for v in said if v.kind == "input"}
        shared = found if shared is None else {k: v for k, v in shared.items() if k in found}
        if not shared:
            return None
    return next(iter(shared.values())).error() if shared else None


# --- the evidence sheet ---------------------------------------------------------------------

def _sheet_types(reader: Reader, kind: str) -> dict[str, Any]:
    """The evidence types a sheet can take (those without a file: a file is attached per case)."""
    workflow = reader.core.config.workflows.get(kind)
    if workflow is None:
        raise BadInput("case.bad_kind", kind=kind[:20], known=Codes("kind", tuple(reader.core.config.workflows)))
    return {k: d for k, d in workflow.evidence_types.items() if not d.file and d.fields}


def _sheet_type(reader: Reader, kind: str, etype: str):
    types = _sheet_types(reader, kind)
    if etype not in types:
        raise BadInput("bulk.sheet_type", type=etype[:40], known=Codes("evidence", tuple(types)))
    return types[etype]


@router.get("/villages/{code}/list/holds")
def village_list_holds(request: Request, code: str, procedure: str = "", step: str = "", kind: str = DEFAULT_KIND,
                       reader: Reader = Depends(needs("signed_in"))):
    """What holds the list's households back, each condition said once with its households (loaded by the
    list's page after it, as each household's own needs are)."""
    from engine.reads.list_holds import list_holds
    with hidden_as(_no_village(code)):
        village = lists.list_region(reader.core, reader.actor, code)
        holds = list_holds(reader.core, reader.actor, code, kind, procedure, step, reader.lang)
    return page(request, "_list_holds.html", village=village, kind=kind, holds=holds)


@router.get("/villages/{code}/evidence")
def evidence_sheet(request: Request, code: str, etype: str = Query("", alias="type"), kind: str = DEFAULT_KIND,
                   needed: str = "", missing: str = "", after: int = Query(0, ge=0, le=2 ** 62), held: str = "",
                   every: str = Query("", alias="all"), reader: Reader = Depends(needs("signed_in"))):
    """One row per household of the village (or only those whose next step asks for the type, or
    only those missing it), 50 a page, those without the type first: `after` the case the page
    follows (`held`: among those holding it). Asked for none of these views, those whose next step
    asks for the type when there are any (`all`: every household)."""
    with hidden_as(_no_village(code)):
        village = lists.village_of(reader.core, reader.actor, code)
        if not etype:
            return page(request, "bulk_sheet.html", village=village, kind=kind, etype=None,
                        types=list(_sheet_types(reader, kind)), rows=[], fields={}, field_choices={}, needed=False)
        definition = _sheet_type(reader, kind, etype)
        shown = lists.sheet_page(reader.core, reader.actor, code, kind, etype,
                                 needed_only=True if needed else False if (every or missing) else None,
                                 missing_only=bool(missing), after=after, held=bool(held))
    rows = shown["rows"]
    return page(request, "bulk_sheet.html", village=village, kind=kind, etype=etype, types=[], rows=rows,
                fields=definition.fields, field_choices=forms.evidence_choices([definition]),
                needed=shown["needed_only"], missing=bool(missing), sheet=shown,
                fillable=any(r["current"] is None or _revisit(r) for r in rows)
                or (bool(rows) and "year" in definition.fields),
                revisits=sum(1 for r in rows if _revisit(r)),
                since=next((r["checked_before"]["since"] for r in rows if r["checked_before"]), None))


def _revisit(row: dict[str, Any]) -> bool:
    """A row whose check its next step finds too old, which this visit's check replaces on the sheet (not one
    a step of the open procedure relied on: replacing that voids steps, on the household's page)."""
    return bool(row["checked_before"]) and not row["checked_before"]["relied"]


def _sheet_values(form: dict[str, Any]) -> dict[int, dict[str, str]]:
    """{case: {field: value}} from inputs named f_<case>_<field>; a row left blank is no row."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        case, _, field = key[2:].partition("_")
        if key.startswith("f_") and (case.isascii() and case.isdigit()) and len(case) <= 12 and isinstance(value, str) and value.strip():
            rows.setdefault(int(case), {})[field] = value.strip()
    return rows


@router.post("/villages/{code}/evidence", max_body_size=LIST_BODY_MAX)    # a row per household
def attach_sheet(request: Request, code: str, form: dict = Depends(form_of), reader: Reader = Depends(needs("works"))):
    """Attach every filled row, all or none; a row that cannot be read refuses the sheet, named."""
    kind, etype, values = _text(form, "kind", DEFAULT_KIND), _text(form, "type"), _sheet_values(form)
    with hidden_as(_no_village(code)):
        lists.village_of(reader.core, reader.actor, code)
    _sheet_type(reader, kind, etype)             # a type this kind of case has
    if not values:
        raise BadInput("bulk.no_rows")
    chosen = lists.cases_in_village(reader.core, reader.actor, code, values, kind)
    # a row holding only what the sheet came with (its applicant, the head) was left unfilled
    values = {c: v for c, v in values.items() if not left_as_prefilled(v, chosen[c]["title"])}
    if not values:
        raise BadInput("bulk.no_rows")
    chosen = {c: chosen[c] for c in values}
    items, refused = _sheet_problems(reader, etype, values, form.get("confirm_figures") == "1")
    written = {} if refused else _attach(reader, items, refused)
    replaced = {i.case_id for i in items if i.replace and i.case_id in written}   # a new visit's over a stale check
    rows = [{**case, "evidence_id": written.get(cid), "reasons": refused.get(cid, []), "replaced": cid in replaced,
             "rates_read": rates_read(reader.core.config, etype, values[cid], reader.lang) if cid in written else []}
            for cid, case in chosen.items()]          # back as read (50%)
    # the sheet's count said again as it is now (the page above the result still said it before the save)
    counts = lists.sheet_counts(reader.core, reader.actor, code, kind, etype) if written and htmx(request) else None
    return _result(request, "_bulk_sheet_result.html", 200 if written else 409, "web.sheet.result_title",
                   f"/villages/{quote(code)}/evidence?" + urlencode({"type": etype, "kind": kind}),
                   rows=rows, written=len(written), refused=len(refused), etype=etype,   # 409: nothing saved (all or none)
                   replaced=len(replaced),
                   counts=counts, needed_view=_text(form, "view") == "needed")


def _sheet_problems(reader: Reader, etype: str, values: dict[int, dict[str, str]],
                    confirm_figures: bool = False) -> tuple[list[EvidenceItem], dict[int, list[str]]]:
    """The rows' evidence items and every problem of every row at once, by case (the command line's
    sheet service: each field, the household holding this evidence already…), each as "field: reason";
    `confirm_figures`: the sheet's box saying incomes far past the poverty line are right as typed."""
    cases = list(values)
    items, problems = sheet_items(reader.core, reader.actor, etype,
                                  [SheetRow(case=str(c), fields=values[c]) for c in cases], lines=cases,
                                  confirm_figures=confirm_figures)
    config, lang = reader.core.config, reader.lang
    refused: dict[int, list[str]] = {}
    for case_id, column, exc in problems:
        label = config.label(f"field.{column}", lang) if f"field.{column}" in config.labels else None
        text = for_pages(exc.render(config, lang))
        said = for_pages(render_text(config, "pair", {"name": label, "value": text}, lang)) \
            if label and column not in ("case", "-") else text
        refused.setdefault(case_id, []).append(said)
    return [i for i in items if i is not None], refused


def _said(reader: Reader, exc: JingzhunError) -> str:
    return for_pages(exc.render(reader.core.config, reader.lang))


def _attach(reader: Reader, items: list[EvidenceItem], refused: dict[int, list[str]]) -> dict[int, int]:
    try:
        ids = attach_evidence_many(reader.core, reader.actor, items)
    except JingzhunError as exc:
        named = exc.params.get("case")
        refused.update({i.case_id: [_said(reader, exc)] for i in items if named in (None, i.case_id)})
        return {}
    return {item.case_id: eid for item, eid in zip(items, ids)}


# --- notices and objections -----------------------------------------------------------------

def _notice(reader: Reader, notice_id: int, reworded: bool = False) -> dict[str, Any]:
    """What the notice page shows: the notice, its cases and objections, its text in the reader's language
    and the text as posted (notice_in_words, as `notice render` and the API say them); `reworded`: whether
    the record words it otherwise today is asked."""
    with hidden_as(NotFound("notice.unknown", notice=notice_id)):
        detail = notice_detail(reader.core, reader.actor, notice_id)
        shown = notice_in_words(reader.core, reader.actor, notice_id, reader.lang, reworded)
    titles = {c["id"]: c["title"] for c in detail["cases"]}
    may_resolve = _holds(reader, OBJECTION_RESOLVERS)
    # who may be named as having verified a ruling on the spot: the village's and township's cadres
    ruling_people = people_holding(reader.core, reader.actor, detail["region"], OBJECTION_RECORDERS) \
        if may_resolve and any(not o["resolution"] for o in detail["objections"]) else []
    return {"n": shown["words"], "detail": detail, "text": shown["text"], "titles": titles,
            "view": shown["view"], "posted": shown["posted"], "reworded": shown["reworded"],
            "may_object": _holds(reader, OBJECTION_RECORDERS), "may_resolve": may_resolve,
            "ruling_people": ruling_people}


def _holds(reader: Reader, roles: tuple[str, ...]) -> bool:
    """The reader holds one of `roles` (the form is shown; the service judges the region)."""
    return not reader.read_only and any(a.role in roles for a in reader.actor.assignments)


@router.get("/notices/{notice_id}")
def notice_page(request: Request, notice_id: int, reader: Reader = Depends(needs("signed_in"))):
    return page(request, "notice_page.html", **_notice(reader, notice_id, reworded=reader.lang != "zh"))


@router.get("/notices/{notice_id}/print")
def notice_print(request: Request, notice_id: int, reader: Reader = Depends(needs("signed_in"))):
    """The notice for the board, as `notice render --html` writes it: a page of its own to print."""
    shown = _notice(reader, notice_id, reworded=reader.lang == "zh")
    if shown["reworded"]:      # the board as it was posted, not as the record words it now
        board = page(request, "notice_posted.html", n=shown["n"], posted=shown["posted"]).body.decode()
    else:
        board = render(reader.core, shown["view"], reader.lang, html=True, posted=shown["posted"])   # in English, as posted after
    # a phone's browser (WeChat's) has no print menu: a button to print or save it, and the way back
    bar = page(request, "_notice_print_bar.html", n=shown["n"]).body.decode()
    return HTMLResponse(board.replace("</head>", PRINT_BAR_STYLE + "</head>", 1).replace("<body>", "<body>" + bar, 1))


# The print page's bar: hidden on paper; its button works through app.js (the page's CSP runs no inline script).
PRINT_BAR_STYLE = ('<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
                   '<script src="/static/app.js" defer></script><style>.noprint { font-family: sans-serif; '
                   'margin-bottom: 1.5em; } .noprint a, .noprint button { margin-right: 1em; font-size: 1rem; } '
                   '@media print { .noprint { display: none; } }</style>\n')


@router.post("/notices/{notice_id}/objections")
def enter_objection(request: Request, notice_id: int, form: dict = Depends(form_of),
                    reader: Reader = Depends(needs("works"))):
    _notice(reader, notice_id)                     # the reader must see the notice first
    filed = _text(form, "filed_on")
    case_ids = _ids(form.get("case"))
    if not case_ids:
        raise BadInput("bulk.none_chosen")
    oid = file_objection(reader.core, reader.actor, notice_id, case_ids[0], _text(form, "objector"),
                         _text(form, "content"), parse.parse_date(filed) if filed else None)
    return _notice_done(request, ("web.objection.recorded", {"id": oid}), _notice(reader, notice_id))


@router.post("/objections/{objection_id}/resolve", max_body_size=UPLOAD_BODY_MAX)   # the checks behind it, a scan
async def resolve(request: Request, objection_id: int, form: dict = Depends(form_of),
                  reader: Reader = Depends(needs("works"))):
    async with uploads_saved(form, ("file",)) as files:
        return await run_in_threadpool(_resolve, request, objection_id, form, files.get("file"), reader)


def _resolve(request: Request, objection_id: int, form: dict, file: Path | None, reader: Reader):
    with hidden_as(NotFound("objection.unknown", objection=objection_id)):
        notice_id = lists.objection_notice(reader.core, reader.actor, objection_id)
    outcome = _text(form, "outcome")
    if outcome not in ("upheld", "dismissed"):
        raise BadInput("input.choice", field="outcome", value=outcome[:20], known="upheld, dismissed")
    ruled = _text(form, "ruled_on")
    chosen = form.get("verifiers")       # one checkbox or many
    verifiers = [c.strip() for c in (chosen if isinstance(chosen, list) else [chosen] if chosen else [])
                 if isinstance(c, str) and c.strip()]
    resolution = resolve_objection(reader.core, reader.actor, objection_id, outcome == "upheld", _text(form, "reason"),
                                   parse.parse_date(ruled) if ruled else None, verifiers, file)
    shown = reader.core.config.label(f"resolution.{resolution}", reader.lang)
    return _notice_done(request, ("web.objection.resolved", {"id": objection_id, "resolution": shown}),
                        _notice(reader, notice_id))


def _notice_done(request: Request, said: tuple[str, dict], shown: dict[str, Any]):
    """An objection entered or resolved: with HTMX, what was done and the objections now in place of the
    page's; a form sent without it (its script not loaded), the whole notice page saying it."""
    return page(request, "_notice_done.html" if htmx(request) else "notice_page.html",
                said=said, **shown)


# --- evidence files -------------------------------------------------------------------------

@router.get("/evidence/{evidence_id}/file")
def evidence_file(evidence_id: int, reader: Reader = Depends(downloads("signed_in"))):
    """The stored file under the name it was attached with: a photo or PDF shown as what its content
    is (whatever its name says), anything else (a file kept before evidence had to be a scan)
    downloaded; never served with a type the browser would run."""
    with hidden_as(NotFound("bulk.no_file", id=evidence_id)):
        path, name, inline = lists.evidence_file(reader.core, reader.actor, evidence_id)
    name = "".join(ch for ch in Path(name.replace("\\", "/")).name if ch.isprintable() and ch != '"')[-120:] \
        or f"evidence-{evidence_id}"
    media = inline or ATTACHED_TYPES.get(Path(name).suffix.lower()) or "application/octet-stream"
    return FileResponse(path, media_type=media, filename=name,
                        content_disposition_type="inline" if inline else "attachment")
