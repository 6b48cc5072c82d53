"""What a CLI command prints, captured per request thread.

The CLI prints through click.echo and two rich Consoles, all of which write to `sys.stdout` /
`sys.stderr` as they are when they print. Those two are replaced (once, and again if somebody put
them back) by streams that write to the current thread's buffer while a command runs in it, and to
the stream they replaced otherwise: commands running in parallel threads never see each other's
output, and the server's own output is untouched.
"""
from __future__ import annotations

import io
import os
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

_local = threading.local()
_lock = threading.Lock()


class _Capture:
    def __init__(self, piped: bool):
        self.out, self.err, self.piped = io.StringIO(), io.StringIO(), piped


class _PerThread(io.TextIOBase):
    """sys.stdout or sys.stderr: the running command's buffer in its thread, else `fallback`."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, fallback, which: str):
        super().__init__()
        self.fallback, self.which = fallback, which

    def _target(self):
        capture = getattr(_local, "capture", None)
        return getattr(capture, self.which) if capture is not None else self.fallback

    def write(self, text) -> int:
        if not isinstance(text, str):
            raise TypeError("text only")
        return self._target().write(text)

    def flush(self) -> None:
        target = self._target()
        if target is not None and hasattr(target, "flush"):
            target.flush()

    def isatty(self) -> bool:
        return False if getattr(_local, "capture", None) is not None else bool(
            getattr(self.fallback, "isatty", lambda: False)())

    def fileno(self) -> int:
        """A command asks whether its output is piped (printing.piped): as the client's is."""
        capture = getattr(_local, "capture", None)
        if capture is None:
            return self.fallback.fileno()
        if capture.piped:
            return _devnull()
        raise io.UnsupportedOperation("in memory")

    def writable(self) -> bool:
        return True


_null: list[int] = []


def _devnull() -> int:
    if not _null:
        _null.append(os.open(os.devnull, os.O_WRONLY))
    return _null[0]


def _install() -> None:
    with _lock:
        if not isinstance(sys.stdout, _PerThread):
            sys.stdout = _PerThread(sys.stdout, "out")
        if not isinstance(sys.stderr, _PerThread):
            sys.stderr = _PerThread(sys.stderr, "err")


@contextmanager
def captured(piped: bool = False) -> Iterator[_Capture]:
    """While the block runs, this thread's stdout and stderr go to the capture's buffers."""
    _install()
    capture = _Capture(piped)
    _local.capture = capture
    try:
        yield capture
    finally:
        _local.capture = None
