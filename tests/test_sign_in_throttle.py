"""The sign-in throttle's table keeps one window's failures: rows of made-up person codes go."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.domain.errors import AuthError
from engine.services import accounts


def _rows(world) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.sign_in_failures)).scalar()


def _fail(world, code: str, address: str) -> None:
    with pytest.raises(AuthError):
        accounts.sign_in(world.app, code, "not-the-password", address)


def test_failures_of_made_up_codes_are_dropped_once_their_window_passed_and_a_lock_still_holds(world):
    made = accounts.issue_enrolment(world.app, world["admin"], "vs", paper=True)
    accounts.redeem_enrolment(world.app, "vs", made.code, "村里的登录密码2019")
    for i in range(40):                                   # a scanner trying made-up codes from many addresses
        _fail(world, f"bot{i}", f"203.0.113.{i}")
    _fail(world, "vs", "198.51.100.7")                    # vs's own code: its window opens now...
    assert _rows(world) == 2 * 41
    world.clock.at += timedelta(minutes=14)
    for _ in range(4):                                    # ...and is locked at its fifth failure
        _fail(world, "vs", "198.51.100.7")
    world.clock.at += timedelta(minutes=2)                # the window of every made-up code has passed
    _fail(world, "bot-new", "203.0.113.200")
    assert _rows(world) == 2 + 1                          # the new failure's two rows and vs's lock
    with pytest.raises(AuthError) as refused:             # the lock holds though its window has passed
        accounts.sign_in(world.app, "vs", "村里的登录密码2019", "198.51.100.7")
    assert refused.value.code == "signin.throttled"
    world.clock.at += timedelta(minutes=15)               # the lock over: vs signs in
    assert accounts.sign_in(world.app, "vs", "村里的登录密码2019", "198.51.100.7").code == "vs"
