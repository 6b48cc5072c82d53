"""Who may open which pages: one table, read by every route's dependency (`needs`) and by the
generated test that tries every route as every kind of user (tests/web/test_access.py).

Jurisdiction is checked again inside, by the services and reads themselves (a case outside the
reader's regions is a 404); this table says only which kind of person a page is for.
"""
from __future__ import annotations

from typing import Callable

from fastapi import Depends

from engine.domain.errors import AuthError, Msg

from .deps import Reader, download_reader, page_reader

RULES: dict[str, Callable[[Reader], bool]] = {
    "signed_in": lambda r: True,             # any signed-in person (reads scoped to their regions)
    "works": lambda r: not r.read_only,      # does casework: holds a post that is not read-only
    "supervises": lambda r: r.supervises,    # a post at township level or above, or an inspector
    "presses": lambda r: r.presses,          # may press the owner of overdue work (督办)
    "inspects": lambda r: r.inspects,        # inspectors, discipline and organisation officers
    "samples": lambda r: r.samples,          # the sample checks' pages: inspectors, and who draws and records
    "registers_problems": lambda r: r.registers_problems,   # poverty offices, township leaders: problem items
    "admin": lambda r: r.admin,
}


# What a refused reader is told, where a page has more to say than "not for your post".
REFUSALS = {"supervises": "supervise.village_post"}


def refusal(requirement: str, reader: Reader) -> AuthError:
    from engine.services.org import is_read_only
    if not reader.actor.assignments:     # no post at all: said so, not that theirs is the wrong one
        return AuthError("web.no_post", page=Msg(f"web.need.{requirement}"), person=reader.actor.code)
    # a read-only post (an inspector) is not told to ask for a cadre's post, but where it reads
    default = "web.not_for_read_only" if is_read_only(reader.core, reader.actor) else "web.not_for_you"
    return AuthError(REFUSALS.get(requirement, default), page=Msg(f"web.need.{requirement}"),
                     person=reader.actor.code)


class Need:
    """The dependency of a route for people who meet `requirement` (a key of RULES)."""

    def __init__(self, requirement: str):
        if requirement not in RULES:
            raise KeyError(requirement)
        self.requirement = requirement

    def __call__(self, reader: Reader = Depends(page_reader)) -> Reader:
        if not RULES[self.requirement](reader):
            raise refusal(self.requirement, reader)
        return reader


class DownloadNeed(Need):
    """The same, for a download a program may fetch too (an export, an evidence file, the
    assessment's workbook): a signed-in browser, or an API token in the request's headers."""

    def __call__(self, reader: Reader = Depends(download_reader)) -> Reader:
        return super().__call__(reader)


_NEEDS = {name: Need(name) for name in RULES}
_DOWNLOADS = {name: DownloadNeed(name) for name in RULES}


def needs(requirement: str) -> Need:
    return _NEEDS[requirement]


def downloads(requirement: str) -> Need:
    return _DOWNLOADS[requirement]
