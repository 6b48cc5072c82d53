"""The administrator's pages: people of their jurisdiction (searched, a page at a time), one person
(posts and their history, proposals for a second administrator, a new first-sign-in code, alert
channels), adding a person with a post, and the region tree with adding a region.

Each write calls the service its CLI command calls (`person add/grant/revoke/enrol/channel/confirm/
refuse/deactivate/reactivate`, `region add`); a refusal is the service's, said in the reader's language
on the page the form was on, with what was typed kept. A paper enrolment code is shown once, on a page no browser
keeps (Cache-Control: no-store), and never again: only its digest is stored.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from engine.domain.errors import BadInput, JingzhunError
from engine.reads import administration as reads
from engine.reads.case_lists import region_names
from engine.reads.oversight import region_code_of
from engine.services import accounts, org, role_proposals

from .access import needs
from .deps import Reader, form_of
from .render import error_text, page
from .statuses import status_of
from notifications.channels import KINDS as CHANNEL_KINDS   # the channel kinds a person may be given

router = APIRouter(include_in_schema=False)
admin = needs("admin")
# What a successful action tells on the person's page it returns to (web.admin.done.<key>).
DONE = ("added", "readded", "granted", "proposed", "revoked", "sent", "channels", "confirmed", "refused",
        "deactivated", "reactivated")


def _text(form: dict[str, Any], name: str, most: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:most] if isinstance(value, str) else ""


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"        # a code shown once is not kept by the browser
    return response


def _person_url(code: str, done: str | None = None) -> str:
    return f"/admin/people/{quote(code, safe='')}" + (f"?done={done}" if done else "")


def _roles(reader: Reader) -> list[str]:
    return list(reader.core.config.roles)


def _region(reader: Reader, typed: dict[str, str]) -> str:
    """The region the form names, by its code or its name (洋塘村, 宁都县梅江镇, or the suggestion's
    洋塘村 (360730100201)) as the CLI's REGION reads it: its code."""
    return region_code_of(reader.core, reader.actor, typed["region"])


# --- people ------------------------------------------------------------------------------------

@router.get("/admin/people")
def people(request: Request, q: str = "", after: str | None = None, reader: Reader = Depends(admin)):
    found = reads.people_page(reader.core, reader.actor, q, after or None)
    waiting = role_proposals.pending(reader.core, reader.actor)
    query = {"q": found["search"]} if found["search"] else {}
    return page(request, "admin_people.html", found=found, waiting=waiting,
                waiting_names=region_names(reader.core, [w["region"] for w in waiting]),
                next_query=urlencode({**query, "after": found["next"]}) if found["next"] else None,
                first_query=urlencode(query) if after else None)


def _new_form(request: Request, reader: Reader, status: int = 200, error: str | None = None,
              typed: dict[str, str] | None = None) -> Response:
    return page(request, "admin_person_new.html", status, roles=_roles(reader), kinds=CHANNEL_KINDS,
                regions=reads.region_choices(reader.core, reader.actor), error=error,
                typed=typed or {"enrol": "yes", "lang": "zh"})


@router.get("/admin/people/new")
def new_person_form(request: Request, reader: Reader = Depends(admin)):
    return _new_form(request, reader)


@router.post("/admin/people/new")
def new_person(request: Request, reader: Reader = Depends(admin), form: dict = Depends(form_of)):
    from notifications.contacts import parse_channel
    typed = {k: _text(form, k) for k in ("code", "name", "role", "region", "kind", "address", "lang", "enrol")}
    try:
        reach = (parse_channel(f"{typed['kind']}:{typed['address']}", typed["lang"] or "zh"),) \
            if typed["address"] else ()
        roles = ((typed["role"], _region(reader, typed)),) if typed["role"] or typed["region"] else ()
        made = org.add_persons(reader.core, reader.actor, [org.NewPerson(
            typed["code"], typed["name"], roles, typed["enrol"] == "yes", reach)])
    except JingzhunError as exc:
        if exc.code == "person.exists" and _just_added(reader, typed):
            return RedirectResponse(_person_url(typed["code"], "readded"), status_code=303)
        return _new_form(request, reader, status_of(exc), error_text(request, exc), typed)
    enrolment = made.get(typed["code"])
    if enrolment is not None and enrolment.code:
        return _person(request, reader, typed["code"], done="added", enrolment=enrolment)
    return RedirectResponse(_person_url(typed["code"], "added"), status_code=303)


def _just_added(reader: Reader, typed: dict[str, str]) -> bool:
    """The form sent again (a reload of the page that showed the paper code): the person of that code
    and name is there already, one of this administrator's."""
    try:
        record = reads.person_record(reader.core, reader.actor, typed["code"])
    except JingzhunError:
        return False
    return record["person"]["name"] == typed["name"]


def _person(request: Request, reader: Reader, code: str, status: int = 200, *, done: str | None = None,
            error: str | None = None, typed: dict[str, str] | None = None, enrolment=None) -> Response:
    record = reads.person_record(reader.core, reader.actor, code)
    from engine.reads.handed import handed_unheard
    return _no_store(page(request, "admin_person.html", status, r=record,
                          unheard=handed_unheard(reader.core, reader.actor, code) if record["person"]["active"] else None, roles=_roles(reader), kinds=CHANNEL_KINDS,
                          regions=reads.region_choices(reader.core, reader.actor), done=done if done in DONE else None,
                          error=error, typed=typed or {}, enrolment=enrolment))


@router.get("/admin/people/{person}")
def person_page(request: Request, person: str, done: str | None = None, reader: Reader = Depends(admin)):
    return _person(request, reader, person, done=done)


def _acted(request: Request, reader: Reader, person: str, typed: dict[str, str], action) -> Response:
    """Run `action` (one service call, returning the done key); a refusal is said on the person's
    page with what was typed kept."""
    try:
        done = action()
    except JingzhunError as exc:
        return _person(request, reader, person, status_of(exc), error=error_text(request, exc), typed=typed)
    return RedirectResponse(_person_url(person, done), status_code=303)


@router.post("/admin/people/{person}/grant")
def grant(request: Request, person: str, reader: Reader = Depends(admin), form: dict = Depends(form_of)):
    typed = {"form": "grant", "role": _text(form, "role"), "region": _text(form, "region")}

    def action() -> str:
        proposal = org.grant_role(reader.core, reader.actor, person, typed["role"], _region(reader, typed))
        return "granted" if proposal is None else "proposed"
    return _acted(request, reader, person, typed, action)


@router.post("/admin/people/{person}/revoke")
def revoke(request: Request, person: str, reader: Reader = Depends(admin), form: dict = Depends(form_of)):
    typed = {"form": "revoke", "role": _text(form, "role"), "region": _text(form, "region")}

    def action() -> str:
        org.revoke_role(reader.core, reader.actor, person, typed["role"], _region(reader, typed))
        return "revoked"
    return _acted(request, reader, person, typed, action)


@router.post("/admin/people/{person}/deactivate")
def deactivate(request: Request, person: str, reader: Reader = Depends(admin), form: dict = Depends(form_of)):
    """The person leaves: every post and credential ends (as `person deactivate`)."""
    typed = {"form": "leave", "reason": _text(form, "reason", 600)}

    def action() -> str:
        accounts.deactivate(reader.core, reader.actor, person, typed["reason"])
        return "deactivated"
    return _acted(request, reader, person, typed, action)


@router.post("/admin/people/{person}/reactivate")
def reactivate(request: Request, person: str, reader: Reader = Depends(admin), form: dict = Depends(form_of)):
    """A deactivated person active again, with no post nor credential (as `person reactivate`); `form_of`
    checks the form's CSRF token."""
    def action() -> str:
        accounts.reactivate(reader.core, reader.actor, person)
        return "reactivated"
    return _acted(request, reader, person, {"form": "back"}, action)


@router.post("/admin/people/{person}/enrol")
def enrol(request: Request, person: str, reader: Reader = Depends(admin), form: dict = Depends(form_of)):
    """A new first-sign-in code (it also resets a forgotten password: the person sets a new one with
    it): on paper, shown once here; or sent over the person's channels, as `person enrol` does."""
    delivery = _text(form, "delivery")
    try:
        if delivery not in ("paper", "channel"):
            raise BadInput("admin.delivery")
        made = accounts.issue_enrolment(reader.core, reader.actor, person, paper=delivery == "paper", session=True)
    except JingzhunError as exc:
        return _person(request, reader, person, status_of(exc), error=error_text(request, exc),
                       typed={"form": "enrol", "delivery": delivery})
    if made.code is None:           # sent: the page tells where, and until when it works
        return RedirectResponse(_person_url(person, "sent"), status_code=303)
    return _person(request, reader, person, enrolment=made)


@router.post("/admin/people/{person}/channels")
def channels(request: Request, person: str, reader: Reader = Depends(admin), form: dict = Depends(form_of)):
    """Add one alert channel, or end one (as `person channel --add/--remove`)."""
    from notifications.contacts import parse_channel, set_channels
    typed = {"form": "channels", **{k: _text(form, k) for k in ("kind", "address", "lang", "remove", "set")}}

    def action() -> str:
        removed = [parse_channel(typed["remove"])[:2]] if typed["remove"] else []
        added = [parse_channel(f"{typed['kind']}:{typed['address']}")[:2] + (None,)] \
            if typed["kind"] and not removed and typed["set"] != "lang" else []
        lang = (typed["lang"] or None) if not removed else None     # the person's, for all their channels
        if not added and not removed and not (typed["set"] == "lang" and lang):
            raise BadInput("admin.channel_none")
        set_channels(reader.core, reader.actor, person, added, removed, lang=lang, refuse_unchanged=True)
        return "channels"
    return _acted(request, reader, person, typed, action)


@router.post("/admin/people/{person}/proposals")
def decide(request: Request, person: str, reader: Reader = Depends(admin), form: dict = Depends(form_of)):
    """A second administrator confirms a proposed post, or an administrator refuses it with a reason
    (as `person confirm` / `person refuse`)."""
    typed = {"form": "proposal", "proposal": _text(form, "proposal", 20), "reason": _text(form, "reason", 500),
             "decision": _text(form, "decision")}

    def action() -> str:
        if not typed["proposal"].isdigit() or typed["decision"] not in ("confirm", "refuse"):
            raise BadInput("admin.proposal_none")
        ids = [int(typed["proposal"])]
        if typed["decision"] == "confirm":
            role_proposals.confirm(reader.core, reader.actor, ids)
            return "confirmed"
        if not typed["reason"]:
            raise BadInput("admin.reason_needed")
        role_proposals.refuse(reader.core, reader.actor, ids, typed["reason"])
        return "refused"
    return _acted(request, reader, person, typed, action)


# --- regions -----------------------------------------------------------------------------------

def _regions(request: Request, reader: Reader, under: str | None, status: int = 200, *, error: str | None = None,
             typed: dict[str, str] | None = None, done: str | None = None) -> Response:
    tree = reads.region_tree(reader.core, reader.actor, under or None)
    return page(request, "admin_regions.html", status, tree=tree, error=error, typed=typed or {}, done=done)


@router.get("/admin/regions")
def regions(request: Request, under: str | None = None, added: str | None = None, reader: Reader = Depends(admin)):
    return _regions(request, reader, under, done=added[:12] if added else None)


@router.post("/admin/regions")
def add_region(request: Request, reader: Reader = Depends(admin), form: dict = Depends(form_of)):
    typed = {"code": _text(form, "code", 40), "name": _text(form, "name"), "under": _text(form, "under", 12)}
    try:
        org.add_regions(reader.core, reader.actor, [(typed["code"], typed["name"])])
    except JingzhunError as exc:
        return _regions(request, reader, typed["under"], status_of(exc), error=error_text(request, exc), typed=typed)
    return RedirectResponse("/admin/regions?" + urlencode({"under": typed["under"], "added": typed["code"]}),
                            status_code=303)
