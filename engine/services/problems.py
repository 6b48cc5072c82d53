"""Registering a problem item (问题整改, DOMAIN §9) from a service: what another action found.

A problem item is a case kind of its own, whose rules live with the workflows (workflows/problem.py);
the engine does not import them, so a service that finds a problem (a sample check's wrong exit)
registers it through the problem kind's `register` rule, which the composition root plugs in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Sequence

from sqlalchemy.engine import Connection

from engine.adapters.app import App
from engine.domain.auth import Actor, Assignment
from engine.domain.errors import Msg


@dataclass
class ProblemInput:
    region: str
    source: str
    description: str | Msg     # a person's words, or the engine's (a sample check's wrong exit: said in the reader's)
    found_on: date
    finding: str | None = None
    cases: Sequence[int] = ()
    file: Path | None = None


@dataclass(frozen=True)
class FoundBy:
    """Whose finding a problem item is the consequence of, registered by the system rather than by them:
    a sample check's wrong exit found by a third-party evaluator, whose post (read-only otherwise) the
    service recording the finding checked. The item names them as who found it."""
    assignment: Assignment
    draw: int | None = None       # the sample draw the finding was recorded on


def register_problem(app: App, actor: Actor, problem: ProblemInput, found_by: FoundBy | None = None,
                     conn: Connection | None = None) -> int:
    """Record a problem item (all or nothing); returns its case id. `conn`: in a transaction already
    open there (a sample finding's, whose own row goes in with it), else in one of its own."""
    return app.rules["problem"].register(app, actor, problem, found_by, conn)
