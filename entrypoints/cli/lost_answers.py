"""A command sent through `--server` whose answer was lost on the way (a township's weak line, a proxy
restarting): tried again, and never done twice.

A command that writes (remote.keyed) goes with a request key of its own (`Idempotency-Key`), a fresh
random one each run, the same on each try of that run. The server runs a key once: a success is kept a
day and given again to the same key (`Idempotent-Replayed: true`), a refusal is judged again. So an
answer lost (the connection closed or reset before it came, no answer in time, a bare 502/503/504 from
a proxy before the server) is tried again a few times, a short growing pause between, each said on
stderr; a key whose first sending is still running (409 `request.still_running`) is waited for. A read
is tried again the same way (it changes nothing); an import or a command whose answer holds a secret
goes with no key and is never sent twice. A refusal (4xx) is never tried again.

A run that got no answer at all leaves its key here (click's application folder, a day at most), and
the same command run again from this machine within the day goes with the same key: what the server
saved is shown, not done again. A server from before keys (one that would run a write twice) is
found out before a write is tried again, and the write is then not tried again.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import click

from engine.domain.errors import BadInput, JingzhunError, Msg

from .context import Ctx
from .printing import err, visible

PAUSES = (1, 2, 4, 8)        # seconds before each try again of an answer lost: 5 tries in 15 seconds
RUNNING_WAITS = (2, 3, 5, 8, 10, 15, 15, 15, 15)     # seconds, each wait for a first sending still running
KEPT_FOR = 23 * 3600         # seconds a key is sent again by a later run (the server keeps it 24 hours)
HEADER = "Idempotency-Key"
# What a lost answer looked like (remote.py's errors): the connection could not be made, was cut while
# the command was sent, or closed (or gave no answer in time) before the whole answer came.
LOST = {"remote.unreachable": "cli.lost.why.unreachable", "remote.send_cut": "cli.lost.why.send_cut",
        "remote.stopped_receiving": "cli.lost.why.cut", "remote.stopped_running": "cli.lost.why.cut",
        "remote.cut_short": "cli.lost.why.cut"}
NOT_SENT = {"remote.unreachable", "remote.send_cut"}      # the server had not the whole command: nothing done
BUSY = (502, 503, 504)       # a proxy before the server (or the server, without its own refusal) could not answer now


def lost(exc: JingzhunError) -> Msg | None:
    """Why the answer did not come, when it was lost rather than refused; None for a refusal."""
    status = getattr(exc, "status", None)
    if status in BUSY and exc.code == "server.error":     # not the server's own word (its database, its slots)
        return Msg("cli.lost.why.status", {"status": status})
    if exc.code in LOST and not getattr(exc, "status", None):
        return Msg(LOST[exc.code])
    return None


def tried(ctx: Ctx, call: Callable[[], Any], key: str | None, writes: bool, keys: "Keys | None" = None,
          files_header: str = "") -> Any:
    """`call`'s answer, tried again while its answer is lost (a read, or a write sent with `key`), and
    while the first sending of `key` is still running on the server. A write without a key is tried once.
    `keys`: where `key` is left until an answer comes (done or refused); `files_header`: remote.FILES_HEADER."""
    tries = waits = sent = 0
    first: JingzhunError | None = None
    maybe_done = False          # a sending reached the server whole (it may have done it)
    confirmed: bool | None = False      # the server keeps keys of CLI commands (asked before a write goes again)
    while True:
        try:
            sent += 1
            answer = call()
        except JingzhunError as exc:
            if key is not None and exc.code == "request.done_not_kept":     # done: its answer too large to keep
                if keys is not None:
                    keys.answered()
                raise BadInput("remote.done_not_kept", url=ctx.server) from None
            if key is not None and exc.code == "request.still_running":
                confirmed = True        # only a server that keeps keys says so
                if waits == len(RUNNING_WAITS):
                    raise BadInput("remote.lost_keyed", url=ctx.server, tries=sent,
                                   why=Msg("cli.lost.why.running")) from None
                _say(ctx, "cli.lost.waiting", pause=RUNNING_WAITS[waits])
                time.sleep(RUNNING_WAITS[waits])
                waits += 1
                continue
            why = lost(exc)
            if why is None or (writes and key is None):
                if keys is not None and why is None:
                    keys.answered()
                raise
            maybe_done = maybe_done or exc.code not in NOT_SENT
            first = first or exc        # what happened to the first sending says most (the server stopped while
            while True:     # it ran: nothing changed by a read); a write that may have been done goes again
                if tries == len(PAUSES):                    # only to a server known to keep its key
                    if key is None or not maybe_done:       # a read, or nothing reached the server: said so
                        raise first if key is None else exc
                    raise BadInput("remote.lost_keyed", url=ctx.server, tries=sent, why=why) from None
                if key is not None and maybe_done and not confirmed:
                    confirmed = keeps_keys(ctx, files_header)
                    if confirmed is False:      # a server from before keys would do it again: said as before
                        if keys is not None:
                            keys.answered()
                        raise exc from None
                _say(ctx, "cli.lost.retrying.write" if key else "cli.lost.retrying.read", why=why,
                     pause=PAUSES[tries], n=tries + 1, most=len(PAUSES))
                time.sleep(PAUSES[tries])
                tries += 1
                if key is None or confirmed or not maybe_done:
                    break
        else:
            if keys is not None:
                keys.answered()
            return answer


def keeps_keys(ctx: Ctx, files_header: str) -> bool | None:
    """Whether the server keeps the request keys of CLI commands (a server from before them would run a
    write sent again twice): asked with a key no server takes (too long), which such a server refuses
    at once (400 `request.key_invalid`) and an older one ignores (it refuses the empty command). Nothing
    runs either way. None: no answer (the line still down)."""
    request = urllib.request.Request(
        f"{ctx.server}/api/v1/cli/stream", data=b"", method="POST",
        headers={HEADER: "k" * 201, "Content-Type": "multipart/form-data; boundary=none", files_header: "0",
                 "Accept-Language": ctx.lang, "X-Jingzhun-Person": ctx._require_person(),
                 "Authorization": f"Bearer {ctx._token() or ''}"})
    try:
        with urllib.request.urlopen(request, timeout=30):
            return False
    except urllib.error.HTTPError as exc:
        if exc.code in BUSY:
            return None
        try:
            said = json.loads(exc.read().decode())
        except (OSError, ValueError):
            return False
        return isinstance(said, dict) and said.get("error") == "request.key_invalid"
    except (OSError, ValueError):
        return None


class Keys:
    """The request key of a command run that writes: the key a run of the same command (the same server,
    person, command line and files) left unanswered within KEPT_FOR, else a new one. Left here until an
    answer comes, so a run cut off (the line, a Ctrl-C) leaves it for the next."""

    def __init__(self, ctx: Ctx, command: dict[str, Any], files: list[Path]):
        # the command as sent (its line, language, terminal or not: another is another request to the
        # server) and each file sent, by its place, size and time of change
        sent = [(str(p), *_stamp(p)) for p in files]
        self.which = hashlib.sha256(json.dumps([ctx.server, ctx.as_code, command, sent], sort_keys=True,
                                               default=str).encode()).hexdigest()
        self.place = Path(click.get_app_dir("jingzhun")) / "unanswered-keys.json"
        now = time.time()
        left = {k: v for k, v in self._read().items() if now - v[1] < KEPT_FOR}
        self.again = self.which in left
        self.key = left[self.which][0] if self.again else secrets.token_urlsafe(24)
        left[self.which] = [self.key, left[self.which][1] if self.again else now]
        self._write(left)

    def answered(self) -> None:
        """An answer came (done, or refused): the next run of the command is a new one."""
        left = self._read()
        if left.pop(self.which, None) is not None:
            self._write(left)

    def _read(self) -> dict[str, list]:
        try:
            found = json.loads(self.place.read_text())
            return found if isinstance(found, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write(self, left: dict[str, list]) -> None:
        from engine.adapters.private_files import replacing
        with contextlib.suppress(OSError, JingzhunError):          # not kept: a run again is simply a new one
            self.place.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with replacing(self.place) as (out, _made):
                out.write(json.dumps(left))


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
        return st.st_size, st.st_mtime_ns
    except OSError:
        return -1, -1


def _say(ctx: Ctx, key: str, **params: Any) -> None:
    from engine.domain.errors import render_text
    from .context import packaged_config
    err.print(visible(render_text(packaged_config(), key, params, ctx.lang) or key))
