"""The ASGI application: `create_app(core)` for a process's App, `from_env()` for uvicorn's workers.

Every route is a plain function (FastAPI runs it in its thread pool, where the App keeps one
database connection per thread); pages and API answer refusals in the reader's language, with the
status a browser or client expects, and never with a traceback.
"""
from __future__ import annotations

import errno
import logging
import re
import traceback
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.adapters.app import App
from engine.adapters.private_files import clear_orphans
from engine.services import replays
from engine.domain.errors import (DISK_FULL, READER_PLACE, SERVER_FILES, AuthError, BadInput, JingzhunError, NotFound,
                                  said_by_server)

from . import (api, routes_account, routes_admin, routes_auth, routes_backups, routes_bulk, routes_cadre, routes_export,
               routes_funds, routes_handbook, routes_find, routes_import, routes_inspector, routes_problems, routes_projects,
               routes_register,
               routes_samples, routes_supervisor)
from .api_cli import CLAIMED
from .api_common import BODY_MAX, UPLOAD_BODY_MAX, asked_lang, query_fields
from .deps import COOKIE, SignInNeeded, session_reader
from .render import HERE, error_text, for_pages, htmx, lang_of, page
from .routes_export import DownloadCutShort
from .statuses import status_of

log = logging.getLogger("jingzhun.web")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'",
}
# A static file's caching: a vendored file whose name carries its version (htmx-2.0.11.min.js) never
# changes under that name, kept a year; the app's own (app.css, app.js) checked again on each use
# (answered 304 while unchanged, by its ETag). Pages themselves are never stored (no-store).
VERSIONED = re.compile(r"^/static/vendor/[^/]+-\d+(?:\.\d+)+[^/]*$")
STATIC_CACHE = ("public, max-age=31536000, immutable", "no-cache")
GZIP_LEAST = 1024       # bytes: a smaller answer is sent as it is (compressing it gains little)
GZIP_NOT = (*DEFAULT_EXCLUDED_CONTENT_TYPES,        # a workbook is a zip already
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(core: App, *, secure_cookies: bool = False, scheduler=None) -> FastAPI:
    """The server over `core`. `scheduler`: a callable started with the server and returning a
    stop function (the scheduler with its database lease), or None."""

    @asynccontextmanager
    async def lifespan(_web):
        clear_orphans(core.settings.home)       # files of a server that crashed: personal data, not kept
        stop = scheduler() if scheduler else None
        try:
            yield
        finally:
            if stop:
                stop()

    web = _Web(title="Jingzhun 精准", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/api/v1/openapi.json", lifespan=lifespan, max_body_size=BODY_MAX,
                  dependencies=[Depends(_within_body_limit)])
    web.state.core = core
    web.state.secure_cookies = secure_cookies
    web.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    web.add_middleware(_Crashed)        # the innermost of ours: a route's failure answered without its text logged
    web.add_middleware(_SentAgain, core=core)      # an answer given again is compressed as the client asks now
    # a weak phone signal: pages (a village's sheet, a notice of 200 households) and scripts compressed
    web.add_middleware(GZipMiddleware, minimum_size=GZIP_LEAST, exclude_content_types=GZIP_NOT)
    for module in (routes_auth, routes_account, routes_admin, routes_cadre, routes_bulk, routes_export, routes_supervisor,
                   routes_funds, routes_inspector, routes_samples, routes_problems, routes_projects, routes_import, routes_handbook,
                   routes_find, routes_register, routes_backups, api):
        web.include_router(module.router)
    _handlers(web)

    web.add_middleware(_Headers)
    web.add_middleware(_RulesInForce, core=core)
    return web


class _HttpOnly:
    """A plain ASGI middleware of HTTP requests (`http`); anything else (the lifespan) passed through."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class _RulesInForce(_HttpOnly):
    """Each request is judged and recorded under the rules in force when it starts: those `config install`
    put in the data home since the server started, once recorded; its events are MACed with the key
    `audit rotate-key` made since (App.in_force: two stats a request while nothing changed)."""

    def __init__(self, app: ASGIApp, core: App):
        super().__init__(app)
        self.core = core

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self.core.in_force():
            await self.app(scope, receive, send)


class _SentAgain(_HttpOnly):
    """A request sent again with the `Idempotency-Key` of one already answered (a phone that lost the
    answer on a weak signal; an API client retrying) gets the first answer again, marked
    `Idempotent-Replayed: true`, and nothing is done twice (engine/services/replays.py). A key counts only
    for a live session (pages) or a valid API token, and is bound to it, the method, the path and query;
    the same key with another body is refused (422). Only a success answered whole is kept: a refused,
    failed or cut-short request sent again runs again. Routes whose answer holds a secret (a token, an
    enrolment code) and sign-in take no key; the CLI's commands (whose refusals answer 200) are kept by
    their route, by the command's exit."""

    def __init__(self, app: ASGIApp, core: App):
        super().__init__(app)
        self.core = core

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        if key is None or scope["method"] in ("GET", "HEAD", "OPTIONS") or NOT_KEYED.search(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if not replays.well_formed(key):
            await _refusal(request, BadInput("request.key_invalid", most=replays.KEY_MAX), 400)(scope, receive, send)
            return
        try:
            credential = await run_in_threadpool(_credential, self.core, request)
            if credential is None:      # nobody signed in: the route says so, the key is not looked at
                await self.app(scope, receive, send)
                return
            digest = replays.key_hash(key, credential, scope["method"],
                                      scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1"))
            earlier = await run_in_threadpool(replays.claim, self.core, digest)
        except SQLAlchemyError as exc:
            log.error("database unusable (%s) on %s %s", type(exc).__name__, scope["method"], scope["path"])
            await _database_unusable(request)(scope, receive, send)
            return
        if earlier is not None:
            await (await _given_again(request, receive, earlier))(scope, receive, send)
            return
        body = replays.BodyDigest(headers.get("content-type", ""))
        answer: dict = {"status": None, "headers": [], "body": [], "size": 0, "whole": False}

        async def read() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.update(message.get("body", b""), more=message.get("more_body", False))
            return message

        if KEPT_BY_ROUTE.match(scope["path"]):
            await self._kept_by_route(scope, read, send, replays.Claimed(digest, body.hexdigest))
            return

        async def copied(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
                                     if k.lower() not in NOT_GIVEN_AGAIN]
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                answer["size"] += len(chunk)
                if answer["size"] <= replays.BODY_KEPT_MAX:
                    answer["body"].append(chunk)
                answer["whole"] = not message.get("more_body", False)
            await send(message)

        kept = False
        try:
            await self.app(scope, read, copied)
            status = answer["status"]
            kept = status is not None and 200 <= status < 400 and answer["whole"]
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    if kept:
                        whole = b"".join(answer["body"]) if answer["size"] <= replays.BODY_KEPT_MAX else None
                        await run_in_threadpool(replays.keep, self.core, digest, answer["status"], answer["headers"],
                                                whole, body.hexdigest())
                    else:
                        await run_in_threadpool(replays.release, self.core, digest)
                except SQLAlchemyError as exc:      # the answer is gone already: the key expires on its own
                    log.error("request key not %s (%s) on %s %s", "kept" if kept else "released",
                              type(exc).__name__, scope["method"], scope["path"])

    async def _kept_by_route(self, scope: Scope, receive: Receive, send: Send, claimed: replays.Claimed) -> None:
        """A CLI command run for a client (answered 200 even when refused, and run to its end when its client
        has gone): the route keeps or releases the key once the command has ended, by its exit and kind
        (api_cli.py); here it is released when the route refused the request before running anything."""
        scope[CLAIMED] = claimed
        try:
            await self.app(scope, receive, send)
        finally:
            if not claimed.taken:
                with anyio.CancelScope(shield=True):
                    try:
                        await run_in_threadpool(replays.release, self.core, claimed.digest)
                    except SQLAlchemyError as exc:
                        log.error("request key not released (%s) on %s %s", type(exc).__name__, scope["method"],
                                  scope["path"])


# Sign-in, enrolment, tokens and passwords (their answers hold secrets), the administrators' pages (an
# enrolment code on paper) and registry imports take no key. The CLI's commands take one, kept by their route.
NOT_KEYED = re.compile(r"^/(signin|signout|enrol|account|admin|imports)(/|$)|"
                       r"^/api/v1/(activate|me/token|me/password|households/import)(/|$)|/enrol$")
KEPT_BY_ROUTE = re.compile(r"^/api/v1/cli(/stream)?$")
NOT_GIVEN_AGAIN = (b"set-cookie", b"date", b"server", b"content-length")


def _credential(core: App, request: Request) -> str | None:
    """Who sends a keyed request, as a key is bound to it: a live session's person and secret (pages), an
    API token's person and token; None for a session ended or a token refused (the route says so)."""
    from engine.services import accounts
    if _is_api(request):
        auth = request.headers.get("authorization", "")
        person = request.headers.get("x-jingzhun-person", "").strip()
        if not auth.lower().startswith("bearer ") or not person:
            return None
        try:        # no client address: a wrong token is counted once, by the route's own check
            actor = accounts.api_actor(core, person, auth[7:].strip(), None)
        except JingzhunError:
            return None
        return f"token\0{actor.person_id}\0{auth[7:].strip()}"
    secret = request.cookies.get(COOKIE)
    session = accounts.session_of(core, secret)
    return None if session is None else f"session\0{session.actor.person_id}\0{secret}"


async def _given_again(request: Request, receive: Receive, earlier: replays.Earlier) -> Response:
    """The answer to a key already used: its first request's answer, or why there is none. A body other
    than the first's (read whole here, its digest compared) is another request under the same key."""
    if earlier.pending:
        return _refusal(request, BadInput("request.still_running"), 409)
    if earlier.request_sha is not None:
        body = replays.BodyDigest(request.headers.get("content-type", ""))
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            more = message.get("more_body", False)
            body.update(message.get("body", b""), more=more)
        if body.hexdigest() != earlier.request_sha:
            return _refusal(request, BadInput("request.key_reused"), 422)
    if earlier.body is None:
        return _refusal(request, BadInput("request.done_not_kept"), 409)
    response = Response(earlier.body, earlier.status)
    response.headers.update({**dict(earlier.headers), "Idempotent-Replayed": "true"})
    return response


def _database_unusable(request: Request) -> Response:
    if _is_api(request):
        said = request.app.state.core.config.label("web.error.database", asked_lang(request))
        return JSONResponse({"error": "db.unusable", "message": said}, 503)
    return _error_page(request, 500, "web.error.server", "500")


class _Headers(_HttpOnly):
    """Every answer's security and caching headers, and the place a request's texts are said in (catalogue
    KEY@page: a form's words, not the CLI's options; the API its own, KEY@api: its fields; the CLI's
    commands run for a client, /api/v1/cli, the CLI's). Plain ASGI: Starlette's `BaseHTTPMiddleware`
    raised "No response returned" (logged with a traceback) whenever a client went away mid-request."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        place = READER_PLACE.set(None if path.startswith("/api/v1/cli") else "api" if path.startswith("/api/")
                                 else "page")

        async def said(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers.setdefault(key, value)
                if not path.startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
                elif message["status"] in (200, 304):
                    headers.setdefault("Cache-Control", STATIC_CACHE[0] if VERSIONED.match(path) else STATIC_CACHE[1])
            await send(message)

        try:
            await self.app(scope, receive, said)
        finally:
            READER_PLACE.reset(place)


async def _within_body_limit(request: Request) -> None:
    """A body declared over its route's limit refuses the request before the route runs: Starlette
    answers 413 for it, but only after a route that never reads its body has done its work."""
    limit, declared = request.scope.get("starlette.max_body_size"), request.headers.get("content-length", "")
    if limit == UPLOAD_BODY_MAX and not request.headers.get("content-type", "").startswith("multipart/"):
        limit = request.scope["starlette.max_body_size"] = BODY_MAX     # a file comes in multipart only
    if limit is not None and declared.isdigit() and int(declared) > limit:
        raise StarletteHTTPException(413)


class _Web(FastAPI):
    """FastAPI, its refusal of a body declared over its route's limit said like every other refusal;
    its OpenAPI description naming how a client signs in (an API token), and its interactive page
    (`/api/docs`) served from the vendored Swagger UI, with no inline script (the pages' CSP has none)."""

    def build_middleware_stack(self) -> ASGIApp:
        return _TooLargeSaid(super().build_middleware_stack())

    def setup(self) -> None:
        super().setup()

        async def docs(_request: Request) -> Response:
            return Response(API_DOCS, media_type="text/html; charset=utf-8")
        self.add_route("/api/docs", docs, include_in_schema=False)

        async def health(request: Request) -> Response:
            """For a load balancer or a monitor: 200 when the database answers, else 503; no personal
            data, no sign-in."""
            ok = await run_in_threadpool(_database_answers, request.app.state.core)
            return JSONResponse({"ok": ok, "database": ok}, 200 if ok else 503, headers={"Cache-Control": "no-store"})
        self.add_route("/healthz", health, include_in_schema=False)

    def openapi(self) -> dict:
        if self.openapi_schema is None:
            spec = super().openapi()
            spec.setdefault("components", {})["securitySchemes"] = {
                "person": {"type": "apiKey", "in": "header", "name": "X-Jingzhun-Person",
                           "description": "The person code the token belongs to (v01_secretary)."},
                "token": {"type": "http", "scheme": "bearer",
                          "description": "The person's login token (`jingzhun activate`, or the account page)."}}
            spec["security"] = [{"person": [], "token": []}]
            from .api_cases import STEP_SCHEMAS         # the bodies documented by hand (JSON or multipart)
            for name, schema in STEP_SCHEMAS.items():
                spec["components"].setdefault("schemas", {}).setdefault(name, schema)
            _refusals_described(spec)
            _sent_again_described(spec)
            self.openapi_schema = spec
        return self.openapi_schema


# The refusals every route may answer, as they really come (`{error, message}`; a 422's `fields`).
REFUSALS = {"400": "Bad input: what is wrong and how to fix it", "401": "No token, or a wrong one",
            "403": "The person's posts do not allow it", "404": "No such record, or outside the jurisdiction",
            "409": "A rule refuses it as the record stands (or the case changed meanwhile)",
            "413": "The body is too large", "429": "Too many tries: wait (Retry-After)",
            "507": "The server cannot write a file of its own (its disk full, its data home unwritable): tell its "
                   "administrator (web.disk_full, server.own_disk_full, server.own_files_unwritable)"}


def _refusals_described(spec: dict) -> None:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Refusal"] = {"type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string", "description": "The refusal's code (case.unknown, step.order…)"},
        "message": {"type": "string", "description": "What is wrong, in the asked language (Accept-Language or ?lang=)"},
        "fields": {"type": "array", "items": {"type": "string"}, "description": "422: the fields in question"},
        "refused": {"type": "array", "items": {"type": "object"}, "description": "A list step: each refused case"}}}
    schemas["HTTPValidationError"] = {"$ref": "#/components/schemas/Refusal"}
    schemas.pop("ValidationError", None)
    refusal = {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}}
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            for status, said in REFUSALS.items():
                answers.setdefault(status, {"description": said, "content": refusal})
            if "422" in answers:
                answers["422"] = {"description": "The body is not as this route takes it", "content": refusal}
            if path == "/api/v1/activate":
                operation["security"] = []          # before the person has any token


def _sent_again_described(spec: dict) -> None:
    """Every write that takes an `Idempotency-Key` (the _SentAgain middleware) says so."""
    header = {"name": "Idempotency-Key", "in": "header", "required": False,
              "schema": {"type": "string", "minLength": 1, "maxLength": replays.KEY_MAX},
              "description": "A key of the client's own for this request (1-200 visible ASCII characters), bound to "
                             "the token's person, the method, the path and the query, kept a day. Sent again with the "
                             "same key and body after a success (the answer lost), the request gets the first answer "
                             "again, with the header `Idempotent-Replayed: true`, and nothing is done twice; 409 "
                             "`request.still_running` while the first is being answered, 409 `request.done_not_kept` "
                             "for a first answer over 512 KB, 422 `request.key_reused` for another body. A refusal or "
                             "failure is not kept: sent again, it runs again."}
    command = {**header, "description": header["description"] + " A CLI command (answered 200 even when refused) "
               "is kept only when it succeeded (`exit` 0), and never when its answer holds a secret (a token, an "
               "enrolment code: `person add`, `enrol`, `token`, `import`) or it is an import."}
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch", "delete") and not NOT_KEYED.search(path):
                operation.setdefault("parameters", []).append(command if KEPT_BY_ROUTE.match(path) else header)


def _database_answers(core: App) -> bool:
    from sqlalchemy import text
    try:
        with core.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:           # any failure to reach it: the monitor is told, the log names the kind
        log.warning("health check: the database does not answer")
        return False


API_DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Jingzhun 精准 · API</title><link rel="icon" href="/static/favicon.svg">
<link rel="stylesheet" href="/static/vendor/swagger-ui-5.35.0.css">
</head><body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui-bundle-5.35.0.js"></script>
<script src="/static/api-docs.js"></script>
</body></html>
"""


class _TooLargeSaid(_HttpOnly):
    """A request whose declared length is over its route's max_body_size is answered by Starlette, body
    unread, with a bare "Content Too Large" in place of any response; this says it instead in the
    reader's language, as JSON on the API and as the error page (or HTMX refusal) on the web pages."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        replaced = False

        async def said(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413 and \
                    (b"content-type", b"text/plain; charset=utf-8") in message.get("headers", []):
                replaced = True
                refusal = await _too_big(Request(scope))
                refusal.headers.update({**SECURITY_HEADERS, "Cache-Control": "no-store"})
                await refusal(scope, receive, send)
            elif not replaced:
                await send(message)

        await self.app(scope, receive, said)


def _handlers(web: FastAPI) -> None:
    @web.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, _exc: SignInNeeded) -> Response:
        if _is_api(request):
            return JSONResponse({"error": "signin.required", "message": error_text(
                request, AuthError("signin.token_required"), asked_lang(request))}, 401)
        # Back to the page the reader was on once signed in again: the page asked for, or the page a form
        # (or an HTMX request: the URL it says it came from) was sent from; the sign-in page says the
        # session ended where the page was open already, or where a page is asked for with the cookie of
        # a session that has ended (not to who never signed in on this browser, or signed out: no cookie),
        # and that what a form sent was not saved.
        sent, by_htmx = request.method not in ("GET", "HEAD"), htmx(request)
        if by_htmx or sent:
            target = _came_from(request, request.headers.get("hx-current-url" if by_htmx else "referer"))
        else:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        ended = "unsaved" if sent else "1" if by_htmx or request.cookies.get(COOKIE) else ""
        where = f"/signin?next={quote(target)}" + (f"&ended={ended}" if ended else "")
        if by_htmx:
            return Response(status_code=401, headers={"HX-Redirect": where})
        return RedirectResponse(where, status_code=303)

    @web.exception_handler(JingzhunError)
    async def refused(request: Request, exc: JingzhunError) -> Response:
        exc = _own_files(request, exc)
        status = status_of(exc)
        # a case page's form sent without HTMX: the case page again, the refusal at the form (a case out
        # of reach, a refused role or form token: the error page, as for any request)
        if getattr(request.state, "case_form", None) and not isinstance(exc, (NotFound, AuthError)):
            try:
                return await run_in_threadpool(routes_cadre.refused_on_page, request, exc, status)
            except JingzhunError:
                pass
        return _refusal(request, exc, status)

    @web.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 413:      # a body over its route's max_body_size, refused as it came
            return await _too_big(request)
        key = "web.error.not_found" if exc.status_code == 404 else "web.error.http"
        if _is_api(request):      # said in the client's language; a 405 keeps its Allow header
            key = {404: key, 405: "web.error.method"}.get(exc.status_code, key)
            said = request.app.state.core.config.label(key, asked_lang(request))
            return JSONResponse({"error": key, "message": said}, exc.status_code,
                                headers=getattr(exc, "headers", None))
        if getattr(request.state, "reader", None) is None:       # an address no route has: the header still
            reader = await run_in_threadpool(session_reader, request)   # shows who is signed in, and the menu
            if reader is not None:
                request.state.reader = reader
        return _error_page(request, exc.status_code, key, str(exc.status_code))

    @web.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        fields = sorted({".".join(str(p) for p in e.get("loc", ())[1:]) for e in errors})
        if _is_api(request):
            return JSONResponse(_invalid(errors, fields, error_text, request), 422)
        return _error_page(request, 400, "web.error.bad_request", ", ".join(fields))

    @web.exception_handler(ClientDisconnect)
    async def gone(request: Request, exc: ClientDisconnect) -> Response:
        # A client gone while it sent (a cadre's Ctrl-C during an import through `--server`) is
        # ordinary: one line naming the route, no traceback; the request wrote nothing. The answer
        # reaches nobody (499: the client closed the request, as proxies log it).
        log.info("client went away while sending %s %s", request.method, request.url.path)
        return Response(status_code=499)

    async def database_failed(request: Request, exc: Exception) -> Response:
        # The database does not answer (/healthz says 503): to a program, said as what it is, the error a
        # direct command gives (db.unusable), not as a refusal, and without the server's URL or driver text.
        log.error("database unusable (%s) on %s %s", type(exc).__name__, request.method, request.url.path)
        return _database_unusable(request)

    from sqlalchemy.exc import InterfaceError, OperationalError
    for failure in (OperationalError, InterfaceError):
        web.add_exception_handler(failure, database_failed)

    web.add_exception_handler(Exception, _crashed)     # what fails outside a route: see _Crashed


async def _crashed(request: Request, exc: Exception) -> Response:
    """A failure no handler of its kind answers: a disk the server cannot write said so (507), anything else
    a server error, its page or the API's JSON."""
    if isinstance(exc, UnicodeEncodeError):    # a lone surrogate sent (JSON's "\\ud800"): no text has one
        return _refusal(request, BadInput("input.bad_text"), 400)
    if isinstance(exc, OSError) and exc.errno in DISK_FULL:    # an upload spooled, a page's file written
        return _refusal(request, _own_files(request, exc), 507)
    # The log names the route, the exception's type and where it was raised (files and lines), never its
    # text: an exception's text can hold a row's data (a driver's error quotes its parameters).
    log.error("unexpected %s on %s %s at %s", type(exc).__name__, request.method, request.url.path,
              " < ".join(f"{Path(f.filename).name}:{f.lineno}"
                         for f in reversed(traceback.extract_tb(exc.__traceback__)[-6:])))
    if _is_api(request):
        return JSONResponse({"error": "server.error"}, 500)
    return _error_page(request, 500, "web.error.server", "500")


def _own_files(request: Request, exc: Exception) -> Exception:
    """A file of the server's own it could not write (a work file, an upload spooled, the evidence store's)
    said as the server's, without its path (errors.said_by_server); logged with the route."""
    said = said_by_server(exc)
    if said is not exc:
        kind = errno.errorcode.get(exc.errno, exc.errno) if isinstance(exc, OSError) else getattr(exc, "code", "")
        if said.code == "web.disk_full" or said.code == SERVER_FILES[0]:
            log.error("the server's disk is full (%s on %s %s)", kind, request.method, request.url.path)
        else:
            log.error("the server cannot write a file of its own (%s on %s %s)", kind, request.method,
                      request.url.path)
    return said


class _Crashed(_HttpOnly):
    """A route's failure that no handler of its kind answers, answered here (_crashed), inside the other
    middleware: under Starlette's handler for Exception it is answered as well, but raised again for the
    server to log whole (uvicorn's "Exception in ASGI application"), its text with it. A failure after
    the answer began is raised on, as before."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def said(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, said)
        except DownloadCutShort:
            if not started:
                raise
            # logged where it failed: ended with no end to its body (the server closes the connection)
        except Exception as exc:
            if started:
                raise
            await (await _crashed(Request(scope, receive), exc))(scope, receive, send)


def _error_page(request: Request, status: int, key: str, code: str) -> Response:
    """An error of the server's own (not a rule's refusal): its page, or within a part of a page
    (HTMX) the message in its place rather than a whole page nested there."""
    if htmx(request):
        reader = getattr(request.state, "reader", None)
        said = request.app.state.core.config.label(key, reader.lang if reader else lang_of(request))
        return page(request, "_refusal.html", status, message=said, code=code)
    return page(request, "error.html", status, message=None, key=key, code=code)


def _invalid(errors: list, fields: list[str], error_text, request: Request) -> dict:
    """An API request FastAPI could not take: a body that is not JSON, or not a JSON object, said so
    (it named the position of the broken character as a field), with this endpoint's own example when
    it declares its body; a query parameter it does not read, or a number out of its declared range,
    said with what it takes; else the fields in question."""
    lang = asked_lang(request)
    route = request.scope.get("route")
    whole = [e for e in errors if tuple(e.get("loc", ())[:1]) == ("body",) and
             (e.get("type") == "json_invalid" or len(e.get("loc", ())) == 1)]
    if whole:
        example = _body_example(route)
        refusal = BadInput("web.json_invalid") if whole[0].get("type") == "json_invalid" else \
            BadInput("web.json_object_example", example=example) if example else BadInput("web.json_object_expected")
        return {"error": "request.invalid", "message": error_text(request, refusal, lang), "fields": []}
    told = [(e, _query_refusal(route, e)) for e in errors]
    rest = sorted({".".join(str(p) for p in e.get("loc", ())[1:]) for e, said in told if said is None})
    parts = [error_text(request, said, lang) for _e, said in told if said is not None]
    if rest or not parts:
        parts.append(error_text(request, BadInput("web.request_invalid", fields=", ".join(rest) or "-"), lang))
    return {"error": "request.invalid", "message": ("；" if lang == "zh" else "; ").join(parts), "fields": fields}


def _query_refusal(route, error: dict) -> BadInput | None:
    """A query parameter the endpoint does not read, or a number outside the range it declares (FastAPI
    names the one bound crossed): what it takes."""
    loc = tuple(error.get("loc", ()))
    if len(loc) != 2 or loc[0] != "query":
        return None
    name, value = str(loc[1]), str(error.get("input", ""))[:20]
    if error.get("type") == "query_unknown":
        return BadInput("web.query_unknown", name=name, known=", ".join(error["ctx"]["known"]))
    if error.get("type") not in ("greater_than_equal", "less_than_equal"):
        return None
    field = query_fields(route).get(name)
    metadata = getattr(getattr(field, "field_info", None), "metadata", ())
    least = next((m.ge for m in metadata if getattr(m, "ge", None) is not None), None)
    most = next((m.le for m in metadata if getattr(m, "le", None) is not None), None)
    if least is not None and most is not None:
        return BadInput("web.query_range", name=name, least=least, most=most, value=value)
    return BadInput("web.query_least", name=name, least=least, value=value) if least is not None else \
        BadInput("web.query_most", name=name, most=most, value=value) if most is not None else None


def _body_example(route) -> str | None:
    """A JSON object this endpoint takes, its required fields with a placeholder, when the route
    declares its body's model (`{}` when none is required); None when it reads its body itself."""
    field = getattr(route, "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", None)
    if not hasattr(model, "model_fields"):
        return None
    import json
    return json.dumps({name: "…" for name, f in model.model_fields.items() if f.is_required()}, ensure_ascii=False)


def _came_from(request: Request, url: str | None) -> str:
    """The page a request came from (a form's Referer, the HX-Current-URL HTMX sends), to return to after
    signing in, when it is a page of this site; "/" when it is not known or is another site's."""
    came = urlsplit(url or "")
    if came.netloc != request.url.netloc or not came.path.startswith("/") or came.path.startswith("//"):
        return "/"
    return came.path + (f"?{came.query}" if came.query else "")


async def _too_big(request: Request) -> Response:
    """A body refused as it came, before the route read who sends it: a page's refusal still shows
    the signed-in person's header (the session looked up off the event loop)."""
    limit = request.scope.get("starlette.max_body_size") or BODY_MAX
    if not _is_api(request) and getattr(request.state, "reader", None) is None:
        reader = await run_in_threadpool(session_reader, request)
        if reader is not None:
            request.state.reader = reader
    return _refusal(request, BadInput("web.body_too_big", mb=limit // (1024 * 1024)), 413)


def _refusal(request: Request, exc: JingzhunError, status: int) -> Response:
    api = _is_api(request)      # an API refusal before its reader is known (a body refused as it came): Accept-Language
    lang = asked_lang(request) if api else None
    # A refusal may quote what was sent; a lone surrogate in it would make the answer itself fail.
    message = error_text(request, exc, lang).encode("utf-8", "replace").decode("utf-8")
    message = for_pages(message)       # a page's or a program's reader has no command line
    if api:
        body = {"error": exc.code, "message": message}
        refused = getattr(exc, "refused_cases", None)
        if refused and len(refused) > 1:          # a list, all or none: every refused case named
            from engine.services.list_steps import ListResult
            from .api_models import refused_cases, refused_groups
            core, result = request.app.state.core, ListResult(refused=refused)
            body["refused"] = [r.model_dump() for r in refused_cases(core, result, list(refused), lang)]
            body["refused_groups"] = [g.model_dump() for g in refused_groups(core, result, list(refused), lang)]
        minutes = exc.params.get("minutes") if status == 429 else None
        return JSONResponse(body, status, headers={"Retry-After": str(int(minutes) * 60)} if minutes else None)
    if htmx(request):
        return page(request, "_refusal.html", status, message=message, code=exc.code, params=exc.params)
    return page(request, "error.html", status, message=message, code=exc.code)


def from_env() -> FastAPI:
    """The application uvicorn's workers build (`jingzhun serve`): settings from JINGZHUN_HOME /
    JINGZHUN_DB(_FILE), set by the serve command."""
    import os

    from datetime import datetime

    from engine.adapters.app import ShiftedClock
    from engine.adapters.db import Settings
    from entrypoints.bootstrap import demo_clock, make_app
    settings = Settings.from_env()
    replay = os.environ.get("JINGZHUN_REPLAY_FROM")     # the demo: its year, with time passing
    clock = ShiftedClock(datetime.fromisoformat(replay)) if replay else demo_clock(settings.home)
    core = make_app(settings, clock=clock)
    # A server uses every part of its rules: read them in now (a command reads them when first used)
    # and take them out of the collector's way with the rest of start-up.
    import gc
    _ = core.lifecycles, len(core.rules)        # the machines made, the rules imported and checked, now
    gc.freeze()
    scheduler = None
    if os.environ.get("JINGZHUN_SCHEDULER", "1") == "1":
        from entrypoints.scheduler import in_background
        scheduler = lambda: in_background(core)  # noqa: E731
    return create_app(core, secure_cookies=os.environ.get("JINGZHUN_SECURE_COOKIES") == "1", scheduler=scheduler)
