"""The HTTP status of each kind of refusal, for the pages and the API alike."""
from __future__ import annotations

from engine.domain.errors import SERVER_FILES, AuthError, BadInput, JingzhunError, NotFound


def status_of(exc: JingzhunError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, AuthError):
        return 401 if exc.code.startswith(("signin.failed", "auth.no_token", "auth.bad_token", "enrol.bad",
                                           "web.api_no_person")) else \
            429 if exc.code == "signin.throttled" else 403
    if isinstance(exc, BadInput):
        return 413 if exc.code == "evidence.too_big" else \
            507 if exc.code in ("evidence.store_unwritable", "web.disk_full") else 400
    if exc.code in SERVER_FILES:
        return 507      # a file of the server's own it could not write (errors.said_by_server)
    if exc.code == "remote.busy":
        return 503      # the server runs as many streamed commands as it takes: try again shortly
    if exc.code == "remote.busy_person":
        return 429      # this person runs as many as one may at once
    return 409      # a rule refuses the action as the record stands
