"""A household registered from a village's page (登记农户), as `household add` and `POST /api/v1/households`
register one: its head and members, an applicant (申请识别为贫困户, with its causes of poverty) or an ordinary
household (一般农户, never registered poor, to be monitored).

The route parses the form and calls the same service (workflows.household.register_households), after the
same check of every problem at once the API makes (`household_problems`, `registered_refusals`): each
refusal is said beside its field, the form kept as typed, nothing written. Registered, the browser goes
to the new household's page. Who may: the CLI's registrars (REGISTRAR_ROLES) over the village; a village
outside the reader's jurisdiction is answered like one that does not exist (404).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from engine.domain.errors import AuthError, BadInput, JingzhunError, NotFound

from .access import needs
from .deps import Reader, form_of
from .render import error_text, for_pages, page

router = APIRouter(include_in_schema=False)
MEMBERS_MOST = 30        # rows a form may hold: a household of 30 is already a list for `household import`
MEMBER_FIELDS = ("name", "id_number", "relation", "labour_ability", "health")
# refusals worded for the command line (`--ordinary`, `--cause`): the page says its own choices
PAGE_WORDS = {"household.ordinary_causes": "s56_p3.ordinary_causes", "household.ordinary_type": "s56_p3.ordinary_type"}


def may_register(reader: Reader):
    """village code -> whether the reader holds a registrar's post over it (the village pages' link here)."""
    from workflows.household import REGISTRAR_ROLES
    return lambda code: not reader.read_only and reader.actor.first_role(REGISTRAR_ROLES, code) is not None


def _village(reader: Reader, code: str) -> dict[str, Any]:
    """The village, once the reader may register a household in it (a registrar's post over it)."""
    from engine.reads.village_lists import region_at
    from engine.services.org import require_role
    from workflows.household import REGISTRAR_ROLES
    try:
        village = region_at(reader.core, reader.actor, code, ("village",))
    except AuthError as exc:           # a village outside the reader's jurisdiction: for them, none
        if exc.code == "auth.jurisdiction":
            raise NotFound("region.unknown", code=code[:12]) from None
        raise
    require_role(reader.core, reader.actor, REGISTRAR_ROLES, code, "household add")   # who asks, before what is wrong
    return village


def _codes() -> dict[str, tuple[str, tuple[str, ...]]]:
    from workflows.household_codes import CAUSES, HEALTH, HOUSEHOLD_TYPES, LABOUR, RELATIONS
    return {"relation": ("relation", tuple(c for c in RELATIONS if c != "head")), "labour_ability": ("labour", tuple(LABOUR)),
            "health": ("health", tuple(HEALTH)), "cause": ("cause", tuple(CAUSES)),
            "household_type": ("household_type", tuple(HOUSEHOLD_TYPES))}


def _form(request: Request, village: dict, sent: dict, status: int = 200, problems: dict | None = None,
          refusal: str | None = None):
    return page(request, "household_new.html", status=status, village=village, sent=sent, codes=_codes(),
                problems=problems or {}, refusal=refusal, read=[_id_read(m["id_number"]) for m in sent["members"]])


def _id_read(typed: str) -> tuple[str, str] | None:
    """(sex, birth date) read from an ID number as typed, when it is a valid one; else None."""
    from workflows.household_codes import birth_date, checked_id, sex_of
    try:
        number = checked_id(typed)
    except Exception:          # not a valid number: the refusal beside it says why, on sending
        return None
    return sex_of(number), birth_date(number).isoformat()


def _blank_member(relation: str = "") -> dict[str, str]:
    return {"name": "", "id_number": "", "relation": relation, "labour_ability": "normal", "health": "healthy"}


def _sent(form: dict) -> dict[str, Any]:
    """The form as typed: its member rows (the first the head; a later row left blank is no member),
    applicant or ordinary, causes and type."""
    try:
        rows = max(1, min(MEMBERS_MOST, int(str(form.get("rows") or "1"))))
    except ValueError:
        rows = 1
    members = [{f: str(form.get(f"m{i}_{f}") or "").strip() for f in MEMBER_FIELDS} for i in range(rows)]
    members[0]["relation"] = "head"
    causes = form.get("cause") or []
    return {"members": members, "ordinary": form.get("ordinary") == "1",
            "causes": [c for c in (causes if isinstance(causes, list) else [causes]) if isinstance(c, str)],
            "household_type": str(form.get("household_type") or "general")}


@router.get("/villages/{code}/households/new")
def household_new(request: Request, code: str, reader: Reader = Depends(needs("works"))):
    """The empty form: the head's row and one more member's."""
    village = _village(reader, code)
    return _form(request, village, {"members": [_blank_member("head"), _blank_member()], "ordinary": False,
                                    "causes": [], "household_type": "general"})


@router.post("/villages/{code}/households/new")
def household_register(request: Request, code: str, form: dict = Depends(form_of),
                       reader: Reader = Depends(needs("works"))):
    """One more member's row (`more`), or the household registered and its page shown; refused, the
    form again as typed (400), each refusal beside its field."""
    from workflows.household import HouseholdInput, household_problems, member_of, register_households
    village = _village(reader, code)
    sent = _sent(form)
    if form.get("more") and len(sent["members"]) < MEMBERS_MOST:
        sent["members"].append(_blank_member())
        return _form(request, village, sent)
    kept = [(i, m) for i, m in enumerate(sent["members"]) if i == 0 or m["name"] or m["id_number"]]
    members = [member_of(m) for _i, m in kept]
    household = HouseholdInput(members, sent["causes"], sent["household_type"], sent["ordinary"])
    problems = _problems(request, reader, household_problems([household]), [i for i, _m in kept])
    if not problems:
        problems = _registered_elsewhere(request, reader, members, [i for i, _m in kept])
    if problems:
        return _form(request, village, sent, 400, problems)
    try:
        [case_id] = register_households(reader.core, reader.actor, code, [household])
    except JingzhunError as exc:
        if isinstance(exc, AuthError):
            raise
        return _form(request, village, sent, 400, refusal=for_pages(error_text(request, exc)))
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def _said(request: Request, exc: JingzhunError):
    if exc.code in PAGE_WORDS:
        exc = BadInput(PAGE_WORDS[exc.code], **exc.params)
    return for_pages(error_text(request, exc))


def _problems(request: Request, reader: Reader, found: list, rows: list[int]) -> dict[str, list]:
    """Each problem keyed by where it is shown: `m{row}_{field}` beside a member's field, else the
    household's field (`relation`: the head, `causes`, `household_type`, `members`)."""
    shown: dict[str, list] = {}
    for _n, member, field, exc in found:
        where = f"m{rows[member - 1]}_{field}" if member else field
        shown.setdefault(where, []).append(_said(request, exc))
    return shown


def _registered_elsewhere(request: Request, reader: Reader, members: list, rows: list[int]) -> dict[str, list]:
    from workflows.household import registered_refusals
    from workflows.household_codes import checked_id
    numbers = {checked_id(m.id_number): row for m, row in zip(members, rows)}
    return {f"m{numbers[number]}_id_number": [_said(request, refusal)]
            for number, refusal in registered_refusals(reader.core, reader.actor, list(numbers)).items()}
