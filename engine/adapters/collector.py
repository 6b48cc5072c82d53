"""The garbage collector's pace while a process starts and while a list is worked on.

Python's cyclic collector runs after every 700 new objects. Starting a command makes some 300,000
objects that live as long as the process (the libraries' modules and classes, the tables, the
configuration), and at that pace it walked them again and again: about 40 ms of a 0.25 s command
(`case list` on SQLite). A list step makes tens of thousands of objects that live until it ends: the
collector ran some 60 times during a list of 1,000, 5-10% of its time. Both raise the first threshold
for as long as they last; cyclic garbage made meanwhile (a file, a socket) is freed at the next
collection, as soon as before once they end. This module imports nothing heavy: a command holds the
collector before it imports the rest.
"""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

YOUNG_OBJECTS = 50_000      # the first threshold while a list is worked on (fewer_collections)
STARTING_OBJECTS = 100_000  # the first threshold while a process starts (starting … started)

_lock = threading.Lock()
_held: list = [0, None]     # holds in force, and the threshold before the first


def _hold(young: int) -> None:
    with _lock:
        if _held[0] == 0:
            _held[1] = gc.get_threshold()
            if _held[1][0] < young:
                gc.set_threshold(young, *_held[1][1:])
        _held[0] += 1


def _release() -> None:
    with _lock:
        _held[0] -= 1
        if _held[0] == 0:
            gc.set_threshold(*_held[1])


@contextmanager
def fewer_collections(young: int = YOUNG_OBJECTS) -> Iterator[None]:
    """The first threshold at `young` new objects while the block runs, as it was after. The threshold
    is the process's: blocks in several threads keep it raised until the last ends."""
    _hold(young)
    try:
        yield
    finally:
        _release()


_starting: list[bool] = []     # a start is held (starting), not yet started


def starting() -> None:
    """A process begins to start (a command line, before it imports its parts): the collector held
    back until `started`."""
    if not _starting:
        _hold(STARTING_OBJECTS)
        _starting.append(True)


def started() -> None:
    """The process has started (its application is made, or its command is done): the collector at
    its pace again. Nothing if no start was held."""
    if _starting:
        _starting.clear()
        _release()
