"""Who is asking: the session cookie (pages) or an API token (machine clients), and the CSRF check
of every form. Every route takes its reader from here; none reads the cookie itself."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.errors import AuthError, BadInput
from engine.services import accounts
from engine.services.org import inspects, is_read_only

from .render import lang_of

COOKIE = "jz_session"
CSRF_HEADER = "x-csrf-token"
# Fields of one posted form: a village's list or evidence sheet has a field or a few per household
# (Starlette's default of 1,000 refused a sheet of two fields for 500 households); its size is
# bounded by its route's max_body_size.
FORM_FIELDS_MAX = 20_000


class SignInNeeded(Exception):
    """No live session: a page sends the browser to the sign-in page, the API answers 401."""


@dataclass
class Reader:
    core: App
    actor: Actor
    lang: str
    csrf: str = ""
    via_token: bool = False

    @property
    def read_only(self) -> bool:
        return is_read_only(self.core, self.actor)

    @property
    def admin(self) -> bool:
        roles = self.core.config.roles
        return any(roles[a.role].admin for a in self.actor.assignments if a.role in roles)

    def roles(self) -> list[Any]:
        roles = self.core.config.roles
        return [roles[a.role] for a in self.actor.assignments if a.role in roles]

    @property
    def supervises(self) -> bool:
        """Holds a post at township level or above (or reads as an inspector): sees the overdue pages."""
        return self.read_only or any(r.level != "village" for r in self.roles())

    @property
    def presses(self) -> bool:
        """Holds a post that may press the owner of overdue work (督办): a supervising leader's or office's."""
        from engine.services.press import may_press
        return may_press(self.core, self.actor)

    @property
    def inspects(self) -> bool:
        return inspects(self.core, self.actor)

    @property
    def registers_problems(self) -> bool:
        """Holds a post that registers problem items (问题整改事项: a poverty office's, a township leader's;
        a county head's wrong exits)."""
        from workflows.problem import ADDING_ROLES
        return any(a.role in ADDING_ROLES for a in self.actor.assignments)

    @property
    def samples(self) -> bool:
        """Reads the sample checks' pages: an inspector's reader, or a post that draws and records them
        (a county or city poverty office's, an evaluator's)."""
        from engine.services.sampling import draws_samples
        return self.inspects or draws_samples(self.actor)


def core(request: Request) -> App:
    return request.app.state.core


def session_reader(request: Request) -> Reader | None:
    session = accounts.session_of(core(request), request.cookies.get(COOKIE))
    if session is None:
        return None
    return Reader(core(request), session.actor, lang_of(request), session.csrf)


def page_reader(request: Request) -> Reader:
    """The signed-in reader of a page; the sign-in page for anybody else."""
    reader = session_reader(request)
    if reader is None:
        raise SignInNeeded()
    request.state.reader = reader
    return reader


def download_reader(request: Request) -> Reader:
    """A download's reader: an API token's when the request carries one (a program fetching an export
    or an evidence file), else the signed-in browser's."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return api_reader(request)
    return page_reader(request)


def accept_lang(request: Request) -> str:
    """The language an API client asks for: `?lang=en|zh`, else the first of `Accept-Language` (any
    case: EN, en-US); Chinese by default."""
    asked = request.query_params.get("lang") or request.headers.get("accept-language", "zh")
    return "en" if asked.strip()[:2].lower() == "en" else "zh"


def api_reader(request: Request) -> Reader:
    """A machine client (headers `X-Jingzhun-Person` and `Authorization: Bearer TOKEN`), or a
    browser's session (whose writes then need the CSRF header)."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        if not request.headers.get("x-jingzhun-person", "").strip() and auth[7:].strip():
            raise AuthError("web.api_no_person")     # not the CLI's "set JINGZHUN_TOKEN": the token was sent
        actor = accounts.api_actor(core(request), request.headers.get("x-jingzhun-person"), auth[7:].strip(),
                                   request.client.host if request.client else "-")
        reader = Reader(core(request), actor, accept_lang(request), via_token=True)
    else:
        reader = session_reader(request)
        if reader is None:
            raise SignInNeeded()
        writes = request.method not in ("GET", "HEAD")
        if writes and not accounts.csrf_ok(reader.csrf, request.headers.get(CSRF_HEADER)):
            raise AuthError("signin.csrf")
    request.state.reader = reader
    return reader


async def form_of(request: Request, reader: Reader = Depends(page_reader)) -> dict[str, Any]:
    """The posted form of a signed-in reader, once its CSRF token (field `csrf` or the header
    HTMX sends) matches the session's; files stay as UploadFile values."""
    try:
        form = await request.form(max_fields=FORM_FIELDS_MAX)
    except StarletteHTTPException as exc:     # Starlette's "Too many fields" (in English, as a bare 400)
        if exc.status_code != 400:
            raise
        raise BadInput("web.form_unreadable", most=f"{FORM_FIELDS_MAX:,}") from None
    token = request.headers.get(CSRF_HEADER) or form.get("csrf")
    if not accounts.csrf_ok(reader.csrf, token if isinstance(token, str) else None):
        raise AuthError("signin.csrf")
    values: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key in values:
            values[key] = values[key] if isinstance(values[key], list) else [values[key]]
            values[key].append(value)
        else:
            values[key] = value
    return values
