"""A person's own credentials over the API: spending an enrolment code for a login token (what
`jingzhun --server URL --as CODE activate ENROLMENT-CODE` sends, before the person has any token),
and a new token for oneself. Nobody can make a token for somebody else."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from engine.services import accounts

from . import api_models as m
from .api_common import api_user
from .deps import Reader, core

router = APIRouter(prefix="/api/v1", tags=["organisation"])


@router.post("/activate", response_model=m.Token,
             summary="Spend one's enrolment code for one's own login token (`activate`); no token needed")
def activate(body: m.Activate, request: Request) -> m.Token:
    address = request.client.host if request.client else "-"
    actor, token = accounts.activate(core(request), body.person.strip(), body.code, body.password or None, address)
    return m.Token(person=actor.code, token=token)


@router.get("/me", response_model=m.Me, summary="Who the token or session is: code, name, roles and their regions")
def me(reader: Reader = Depends(api_user)) -> m.Me:
    return m.Me(code=reader.actor.code, name=reader.actor.name,
                roles=[m.RoleHeld(role=a.role, region=a.region_code) for a in reader.actor.assignments])


@router.post("/me/token", response_model=m.Token,
             summary="A new login token for oneself, shown once (`person token`); the old one stops working")
def my_token(request: Request, body: m.Current | None = None, reader: Reader = Depends(api_user)) -> m.Token:
    _confirmed(request, reader, body.current if body else None)
    return m.Token(person=reader.actor.code, token=accounts.renew_token(reader.core, reader.actor))


@router.post("/me/password", response_model=m.Done,
             summary="Set one's own password for the sign-in page (`password`); one's sessions end")
def my_password(request: Request, body: m.NewPassword, reader: Reader = Depends(api_user)) -> m.Done:
    _confirmed(request, reader, body.current)
    accounts.set_password(reader.core, reader.actor, body.password)
    return m.Done()


def _confirmed(request: Request, reader: Reader, current: str | None) -> None:
    """A browser's session changes its person's credentials only with their current password, as the
    account page asks (a token is the credential itself); `current`, when a token's client sends it,
    is checked all the same."""
    if current is not None or not reader.via_token:
        address = request.client.host if request.client else "-"
        accounts.confirm_password(reader.core, reader.actor, current or "", address)
