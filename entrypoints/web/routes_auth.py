"""Signing in and out, first sign-in with an enrolment code, and the language switch.

The sign-in forms carry a token that must match a cookie set with the form (double submit), so
another site cannot sign a browser in as somebody else. A successful sign-in always opens a new
session (a session id planted before sign-in is never promoted) and drops the old one.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from engine.domain.errors import AuthError, BadInput
from engine.services import accounts

from .deps import COOKIE, Reader, core, form_of, page_reader
from .render import LANGS, error_text, lang_of, page

router = APIRouter(include_in_schema=False)
PRE = "jz_pre"
COOKIE_KEPT_AFTER = timedelta(days=7)     # the session cookie, past the session's own end (_signed_in)


def _safe_next(target: str | None) -> str:
    """Only a path of this site: `next=//evil.example` or a full URL goes home instead."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target \
            or urlsplit(target).netloc or any(ord(ch) < 32 for ch in target):
        return "/"
    return target


def home_of(reader: Reader) -> str:
    if reader.read_only:
        return "/inspect"
    if reader.admin and all(r.admin for r in reader.roles()):     # an administrator has no casework of their own
        return "/admin/people"
    return "/work"


def secure_cookies(request: Request) -> bool:
    """Cookies only over TLS when the request came over TLS (behind a trusted proxy, its
    X-Forwarded-Proto says so) or the server was told it always does (JINGZHUN_SECURE_COOKIES=1)."""
    return request.app.state.secure_cookies or request.url.scheme == "https"


def _anonymous_form(request: Request, template: str, status: int = 200, **context) -> Response:
    token = request.cookies.get(PRE) or secrets.token_urlsafe(24)
    response = page(request, template, status, pre=token, **context)
    response.set_cookie(PRE, token, httponly=True, samesite="strict", secure=secure_cookies(request))
    return response


def _check_pre(request: Request, pre: str) -> None:
    cookie = request.cookies.get(PRE) or ""
    if not cookie or not hmac.compare_digest(cookie.encode(), (pre or "").encode()):
        raise AuthError("signin.csrf")


def _signed_in(request: Request, actor, target: str) -> Response:
    accounts.close_session(core(request), request.cookies.get(COOKIE))
    secret, _csrf = accounts.open_session(core(request), actor)
    response = RedirectResponse(_safe_next(target), status_code=303)
    # The browser keeps the cookie a week past the session's 12 hours (the server ends the session
    # then, whatever the cookie says): who comes back to a page the next morning is told it ended.
    response.set_cookie(COOKIE, secret, httponly=True, samesite="lax", secure=secure_cookies(request),
                        max_age=int((accounts.SESSION_MAX + COOKIE_KEPT_AFTER).total_seconds()))
    response.delete_cookie(PRE)
    return response


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


# Why the sign-in page was sent to (`?ended=`): a session that ended under an open page, or under a form
# whose answer was lost.
ENDED = {"1": "web.signin.ended", "unsaved": "web.signin.ended_unsaved"}


@router.get("/signin")
def signin_form(request: Request, next: str = "/", ended: str = ""):
    said = core(request).config.label(ENDED[ended], lang_of(request)) if ended in ENDED else None
    return _anonymous_form(request, "signin.html", next=_safe_next(next), error=None, person="", ended=said,
                           unsaved=ended == "unsaved")


@router.post("/signin")
def signin(request: Request, person: str = Form(""), password: str = Form(""), pre: str = Form(""),
           next: str = Form("/")):
    _check_pre(request, pre)
    try:
        actor = accounts.sign_in(core(request), person, password, _address(request))
    except AuthError as exc:
        status = 429 if exc.code == "signin.throttled" else 401
        return _anonymous_form(request, "signin.html", status, next=_safe_next(next),
                               error=error_text(request, exc), person=person[:40], ended=None, unsaved=False)
    return _signed_in(request, actor, next if next != "/" else "/home")


@router.get("/enrol")
def enrol_form(request: Request):
    return _anonymous_form(request, "enrol.html", error=None, person="", code="")


@router.post("/enrol")
def enrol(request: Request, person: str = Form(""), code: str = Form(""), password: str = Form(""),
          again: str = Form(""), pre: str = Form("")):
    _check_pre(request, pre)
    current = accounts.session_of(core(request), request.cookies.get(COOKIE))
    admin_session = current is not None and Reader(core(request), current.actor, "zh").admin
    try:
        if password != again:
            raise BadInput("password.mismatch")
        actor = accounts.redeem_enrolment(core(request), person.strip(), code, password, _address(request),
                                          admin_session=admin_session)
    except (AuthError, BadInput) as exc:
        status = 429 if exc.code == "signin.throttled" else 400 if isinstance(exc, BadInput) else 401
        # A password the form refused (the two differ, too short) keeps the code typed from the paper slip;
        # a code refused is not shown again.
        kept = code[:40] if isinstance(exc, BadInput) and exc.code.startswith("password.") else ""
        response = _anonymous_form(request, "enrol.html", status, error=error_text(request, exc), person=person[:40],
                                   code=kept)
        response.headers["Cache-Control"] = "no-store"
        return response
    return _signed_in(request, actor, "/home")


@router.post("/signout")
def signout(request: Request, _form: dict = Depends(form_of)):
    accounts.close_session(core(request), request.cookies.get(COOKIE))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/lang/{lang}")
def switch_language(request: Request, lang: str, next: str = "/"):
    response = RedirectResponse(_safe_next(next), status_code=303)
    if lang in LANGS:
        response.set_cookie("lang", lang, samesite="lax", max_age=3600 * 24 * 365)
    return response


@router.get("/")
def root(request: Request):
    return RedirectResponse("/home", status_code=303)


@router.get("/home")
def home(reader: Reader = Depends(page_reader)):
    return RedirectResponse(home_of(reader), status_code=303)
