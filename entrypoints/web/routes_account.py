"""One's own account (`/account`): who one is and the posts one holds, a new login token for the CLI
and the API (shown once), and a new password. Only ever for the signed-in person themselves."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from engine.domain.errors import AuthError, BadInput
from engine.reads.case_lists import region_names
from engine.services import accounts

from .access import needs
from .deps import COOKIE, Reader, form_of
from .render import error_text, page

router = APIRouter(include_in_schema=False)


def _account(request: Request, reader: Reader, status: int = 200, **shown):
    names = region_names(reader.core, [a.region_code for a in reader.actor.assignments])
    response = page(request, "account.html", status,
                    **({"token": None, "error": None, "done": None, "region_names": names} | shown))
    response.headers["Cache-Control"] = "no-store"          # a token shown once is not kept by the browser
    return response


@router.get("/account")
def account(request: Request, reader: Reader = Depends(needs("signed_in"))):
    return _account(request, reader)


@router.post("/account/token")
def new_token(request: Request, reader: Reader = Depends(needs("signed_in")), form: dict = Depends(form_of)):
    if form.get("understood") != "yes":        # the old token stops working: scripts using it break
        return _account(request, reader, 400, error=error_text(request, BadInput("token.not_understood")))
    address = request.client.host if request.client else "-"
    try:                                       # a token outlives the session: the password first
        accounts.confirm_password(reader.core, reader.actor, str(form.get("current") or ""), address)
    except AuthError as exc:
        return _account(request, reader, 429 if exc.code == "signin.throttled" else 400,
                        error=error_text(request, exc))
    return _account(request, reader, token=accounts.renew_token(reader.core, reader.actor))


@router.post("/account/password")
def new_password(request: Request, reader: Reader = Depends(needs("signed_in")), form: dict = Depends(form_of)):
    address = request.client.host if request.client else "-"
    try:
        if form.get("password") != form.get("again"):
            raise BadInput("password.mismatch")
        accounts.change_password(reader.core, reader.actor, str(form.get("current") or ""),
                                 str(form.get("password") or ""), address, request.cookies.get(COOKIE))
    except (AuthError, BadInput) as exc:
        status = 429 if exc.code == "signin.throttled" else 400
        return _account(request, reader, status, error=error_text(request, exc))
    return _account(request, reader, done="password")
