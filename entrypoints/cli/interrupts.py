"""Ctrl-C around a command whose write commits before it ends (a registry's import, then its files).

Before the commit a Ctrl-C stops the command and the transaction rolls back: "aborted" is true. An
interrupt during the commit or after it had told a saved import as aborted, and lost the files
written after it (the ID numbers to confirm). From just before the commit on it is held: the commit
is done, and so is what follows it, the reader told (once the commit is done) why the command goes
on; after the commit a second Ctrl-C stops what is left (the files), and the command says what was
saved and what was not written. Only in the main thread, and only where Ctrl-C is Python's own (a
server's threads, or a caller that handles it itself, are left alone).

Through `--server` the same holds across the connection: the server runs the command for a client
(`client`, entrypoints/web/api_cli.py) that is told just before the commit, and holds its Ctrl-C from
then on with an AfterCommit of its own (entrypoints/cli/remote.py); a client gone before that word
reached it stops the command, which rolls back, so the "aborted" it said is true.

A SIGTERM (`kill`, a closed session, a job stopped by its scheduler) stops a `--server` command as a
Ctrl-C does (`terminated_as_interrupted`), not on the spot: a file coming back is not left half
written beside its place (`.NAME.part`).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator


class AfterCommit:
    """Use as a context manager around the command; `committing()` just before the commit (the
    workflow's `on_commit`), `committed()` once the write has returned."""

    def __init__(self, note: str, client=None):
        self.note = note            # told on stderr at the first interrupt held
        self.pressed = 0            # interrupts held
        self.saving = self.saved = False      # committing() and committed() told
        self._before = None
        self.client = client        # run by the server for a client: told the commit, asked if it is still there

    def __enter__(self) -> "AfterCommit":
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._before = signal.signal(signal.SIGINT, self._interrupted)
        return self

    def __exit__(self, *exc) -> None:
        if self._before is not None:
            signal.signal(signal.SIGINT, self._before)

    def going_on(self) -> None:
        """Between the command's batches: a client gone stops it, as a Ctrl-C would (nothing written)."""
        if self.client is not None and self.client.gone():
            raise KeyboardInterrupt

    def committing(self) -> None:
        if self.client is not None:
            self.client.committing(self.note)      # a client gone before it heard of the commit: rolled back
        self.saving = True

    def committed(self) -> None:
        self.saved = True
        if self.client is not None:
            self.client.committed()
        if self.pressed:        # held through the commit: said now that it is done
            self._tell()

    def _interrupted(self, signum, frame) -> None:
        if not self.saving or (self.pressed and self.saved):
            raise KeyboardInterrupt
        self.pressed += 1
        if self.pressed == 1 and self.saved:
            self._tell()

    def _tell(self) -> None:
        try:
            sys.stderr.write(f"\n{self.note}\n")
            sys.stderr.flush()
        except (RuntimeError, OSError, ValueError):     # stderr in the middle of a write: to its file
            os.write(2, f"\n{self.note}\n".encode())


@contextmanager
def terminated_as_interrupted() -> Iterator[None]:
    """Within the block a SIGTERM is a Ctrl-C (KeyboardInterrupt, never held): the block's own clean-up
    runs (files begun are removed) and the command says it stopped. Only in the main thread, and only
    where SIGTERM does what it does by default (ends the process on the spot)."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    before = signal.signal(signal.SIGTERM, _terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt
