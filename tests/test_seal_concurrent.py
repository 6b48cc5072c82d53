"""The seal while others write, on PostgreSQL (SQLite has one writer at a time: a seal never sees a
number after one still to come).

An event's number is drawn when it is inserted and seen when its transaction commits. A seal during a
registry import sealed every event it could see: the import's, numbered below events committed since,
appeared inside a sealed range once it committed, and every later `audit verify` called the untouched
record damaged (检查点不符), each later checkpoint too; those events were never sealed (found by a
concurrency audit: 2 of 2 runs of an import of 20,000 households with a seal every second)."""
from __future__ import annotations

import threading
import time

import pytest

from engine.domain.errors import RuleViolation
from engine.reads.audit_seal import seal
from engine.reads.audit_verify import verify
from tests.conftest import PG_URL
from tests.world import COUNTY

pytestmark = [pytest.mark.skipif(not PG_URL, reason="PostgreSQL: set JINGZHUN_TEST_PG_URL (.ci/run starts one)"),
              pytest.mark.parametrize("world", ["postgresql"], indirect=True)]


class Writer(threading.Thread):
    """A transaction that inserts an event and stays open until released (an import at work)."""

    def __init__(self, world):
        super().__init__(daemon=True)
        self.world, self.written, self.release, self.seq = world, threading.Event(), threading.Event(), None

    def run(self) -> None:
        with self.world.app.unit_of_work() as uow:
            self.seq = uow.append_org_event(self.world["admin"], "channels_changed", "admin", COUNTY, persons=0)["seq"]
            self.written.set()
            self.release.wait(30)


def sealed(world, **kwargs) -> dict:
    """seal() in a thread of its own: {"row": …} or {"refused": RuleViolation}, and when it ended."""
    out: dict = {}

    def run() -> None:
        try:
            out["row"] = seal(world.app, world["admin"], **kwargs)
        except RuleViolation as exc:
            out["refused"] = exc
        out["at"] = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    out["thread"] = thread
    return out


def test_a_seal_waits_for_a_transaction_still_writing_and_the_record_verifies_intact(world):
    writer = Writer(world)
    writer.start()
    assert writer.written.wait(10)
    world.household()                       # events numbered after the writer's, committed first
    pending = sealed(world, wait_s=20)
    time.sleep(0.8)
    assert "at" not in pending              # still waiting for the writer: nothing sealed without its event
    released = time.monotonic()
    writer.release.set()
    writer.join(10)
    pending["thread"].join(20)
    assert pending["at"] >= released and pending["row"]["upto_seq"] > writer.seq
    report = verify(world.app)
    assert report.intact, [d.what for d in report.damage]


def test_a_seal_that_waited_long_enough_seals_nothing_and_says_why(world):
    writer = Writer(world)
    writer.start()
    assert writer.written.wait(10)
    world.household()
    pending = sealed(world, wait_s=0.5)
    pending["thread"].join(20)
    refused = pending["refused"]
    assert refused.code == "audit.seal_deferred"
    said = refused.render(world.app.config, "zh")
    assert "还没有结束" in said and "jingzhun audit seal" in said
    assert "large import" in refused.render(world.app.config, "en")
    writer.release.set()
    writer.join(10)
    row = seal(world.app, world["admin"])     # once the import has ended, everything is sealed
    assert row is not None and row["upto_seq"] > writer.seq
    report = verify(world.app)
    assert report.intact, [d.what for d in report.damage]
