"""A request sent again with the same `Idempotency-Key`: answered as the first was, not done twice.

A village cadre's phone on a weak signal sends a form (a piece of evidence, an objection, a step); the
server does the work and answers, and the answer is lost on the way. Sent again, the form carries the same
key, and the server gives back the first answer instead of saving the evidence twice or refusing the step
as "moved on" over its own success. A key is only ever compared as the SHA-256 of itself with the sender's
credential, method and path (`key_hash`), so one person's key is nothing to another's.

The web's middleware (entrypoints/web/app.py) claims a key before the request runs, keeps the answer when
it was a success (2xx or a redirect), and releases the key otherwise (a refusal or a failure is answered
afresh when sent again: the person may have fixed what was refused). While its request runs, a claimed key's
row is marked alive every BEAT_EVERY by this process (`running`), however long the request takes (a city's
export through the CLI); a key whose row no process has marked for PENDING_FOR (a server that stopped
mid-request) can be claimed again. Rows older than KEPT are dropped.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.adapters import tables as t
from engine.adapters.app import App

KEPT = timedelta(hours=24)
PENDING_FOR = timedelta(minutes=10)
BEAT_EVERY = PENDING_FOR.total_seconds() / 4    # seconds between a running request's marks
BEAT_AT_MOST = timedelta(hours=6)               # a key not kept nor released by then is let go (never held for ever)
BODY_KEPT_MAX = 512 * 1024          # bytes of an answer kept to give again; a larger one is said as done
KEY_MAX = 200


@dataclass(frozen=True)
class Earlier:
    """What a key's first request got: still being answered (`pending`), or its answer (`body` None:
    too large to keep)."""
    pending: bool
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    request_sha: str | None = None      # the first request's body digest (BodyDigest); None: not compared


@dataclass
class Claimed:
    """A key claimed for a request whose route keeps or releases it once its work has ended, not by its
    answer's status (a CLI command run for a client: a refusal answered 200, a command run to its end when
    its client has gone). `body_sha`: the request body's digest, once read; `taken`: the route has it."""
    digest: str
    body_sha: Callable[[], str | None]
    taken: bool = False


class BodyDigest:
    """The SHA-256 of a request's body as it streams, a multipart body's boundary (a browser draws a new
    one each time it sends the same form) read as one fixed marker, so the same form sent again digests
    the same; None when the body was not read to its end (nothing to compare)."""

    def __init__(self, content_type: str):
        boundary = content_type.partition("boundary=")[2].split(";")[0].strip().strip('"')
        self.marker = ("--" + boundary).encode("latin-1", "replace") if boundary else b""
        self.sha, self.tail, self.whole = hashlib.sha256(), b"", False

    def update(self, chunk: bytes, more: bool) -> None:
        data = self.tail + chunk
        if not self.marker:
            self.sha.update(data)
            data = b""
        else:
            cut, at = len(data) - len(self.marker) + 1, 0
            while True:          # every marker that starts before `cut` ends within `data`
                found = data.find(self.marker, at)
                if found < 0 or found >= cut:
                    break
                self.sha.update(data[at:found] + b"--boundary")
                at = found + len(self.marker)
            keep_from = max(at, cut) if more else len(data)
            self.sha.update(data[at:keep_from])
            data = data[keep_from:]
        self.tail = data
        self.whole = not more

    def hexdigest(self) -> str | None:
        return self.sha.hexdigest() if self.whole else None


def well_formed(key: str) -> bool:
    """A key as a client may send it: 1–200 visible ASCII characters."""
    return 0 < len(key) <= KEY_MAX and all(33 <= ord(c) <= 126 for c in key)


def key_hash(key: str, credential: str, method: str, path: str) -> str:
    return hashlib.sha256("\0".join(("jingzhun-request-key", credential, method, path, key)).encode()).hexdigest()


def claim(app: App, digest: str) -> Earlier | None:
    """Claim the key for a request about to run (None: go on), or say what its first request got."""
    now = app.clock.now()
    rk = t.request_keys
    try:
        with app.transaction() as conn:
            conn.execute(_expired(now))
            row = conn.execute(select(rk).where(rk.c.key_hash == digest)).first()
            if row is None:
                conn.execute(insert(rk).values(key_hash=digest, state="pending", created_at=now))
            elif row.state == "pending":
                taken = conn.execute(update(rk).where(rk.c.key_hash == digest, rk.c.state == "pending",
                                                      rk.c.created_at < now - PENDING_FOR).values(created_at=now))
                if not taken.rowcount:
                    return Earlier(pending=True)
            else:
                headers = tuple((name, value) for name, value in json.loads(row.headers or "[]"))
                return Earlier(pending=False, status=row.status, headers=headers, body=row.body,
                               request_sha=row.request_sha)
    except IntegrityError:          # the same key claimed by a request at the same moment
        return Earlier(pending=True)
    running.add(app, digest)
    return None


def keep(app: App, digest: str, status: int, headers: list[tuple[str, str]], body: bytes | None,
         request_sha: str | None = None) -> None:
    """The key's request was answered with success: its answer kept to be given again (with its body's
    digest, compared when the key comes again)."""
    rk = t.request_keys
    running.discard(digest)
    with app.transaction() as conn:
        conn.execute(update(rk).where(rk.c.key_hash == digest).values(
            state="done", status=status, headers=json.dumps(headers, ensure_ascii=True), request_sha=request_sha,
            body=body if body is not None and len(body) <= BODY_KEPT_MAX else None))


def purge(app: App) -> int:
    """Rows older than KEPT dropped (the scheduler's sweep, and each claim): how many."""
    with app.transaction() as conn:
        return conn.execute(_expired(app.clock.now())).rowcount


def _expired(now):
    """The rows older than KEPT, deleted."""
    return delete(t.request_keys).where(t.request_keys.c.created_at < now - KEPT)


def release(app: App, digest: str) -> None:
    """The key's request was refused or failed: sent again, it runs again."""
    rk = t.request_keys
    running.discard(digest)
    with app.transaction() as conn:
        conn.execute(delete(rk).where(rk.c.key_hash == digest, rk.c.state == "pending"))


class RunningKeys:
    """The keys this process has claimed and whose requests still run, each marked alive (its row's
    `created_at` set to now) every BEAT_EVERY by one daemon thread, started when first needed: a command
    running longer than PENDING_FOR is still said to be running to a client sending its key again, never
    run a second time beside it. A key is let go when kept or released, or after BEAT_AT_MOST."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[App, float]] = {}     # digest -> (its app, when claimed: monotonic)
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def add(self, app: App, digest: str) -> None:
        with self._lock:
            self._keys[digest] = (app, time.monotonic())
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="jingzhun-request-keys", daemon=True)
                self._thread.start()

    def discard(self, digest: str) -> None:
        with self._lock:
            self._keys.pop(digest, None)

    def _run(self) -> None:
        while not self._wake.wait(BEAT_EVERY):
            now = time.monotonic()
            with self._lock:
                for digest in [d for d, (_a, since) in self._keys.items() if now - since > BEAT_AT_MOST.total_seconds()]:
                    del self._keys[digest]
                by_app: dict[int, tuple[App, list[str]]] = {}
                for digest, (app, _since) in self._keys.items():
                    by_app.setdefault(id(app), (app, []))[1].append(digest)
            for app, digests in by_app.values():
                self.mark(app, digests)

    @staticmethod
    def mark(app: App, digests: list[str]) -> None:
        rk = t.request_keys
        try:
            with app.transaction() as conn:
                for at in range(0, len(digests), 500):
                    conn.execute(update(rk).where(rk.c.key_hash.in_(digests[at:at + 500]), rk.c.state == "pending")
                                 .values(created_at=app.clock.now()))
        except Exception as exc:      # a database away for a moment: marked at the next beat
            logging.getLogger("jingzhun.web").error("running requests' keys not marked alive (%s)", type(exc).__name__)


running = RunningKeys()
