"""An owner's alert names what else holds the step (a10 #8): the pairing cadre told to sign a household's exit
acknowledgement also reads that its checks are too old for the exit (as `case next` says), shortly, so that
they do not go for a signature the exit cannot use; an alert above the owner names none."""
from __future__ import annotations

from datetime import date, datetime, timezone

from engine.services.sweep import sweep
from tests.helpers.notifications import by_email, outbox
from tests.helpers.refusals import assisted_household, walk


def test_the_owners_alert_lists_the_cases_other_holds(world, tmp_path):
    case = assisted_household(world, tmp_path)                          # pc1 first; checks of 2019-11-20
    walk(world, "exit", case, until="acknowledgement")                  # the pairing cadre's signature awaited
    by_email(world, ("pc1", "th"), "zh")
    world.on(date(2020, 6, 1))                                          # the checks now older than six months
    sweep(world.app, now=datetime(2020, 6, 1, 2, tzinfo=timezone.utc))
    mine = [r for r in outbox(world) if r.kind == "alert" and r.address == "pc1@example.cn"]
    assert mine, [(r.kind, r.address) for r in outbox(world)]
    body = mine[0].body
    assert "此外，以下条件未满足前，该步办了也不能通过" in body, body
    assert "不愁吃不愁穿核查登记于 2019-11-20" in body and "请重新入户核实" not in body      # short: no advice
    assert f"`jingzhun case next {case}`" in body                      # 4 holds: 3 named, the rest counted
    above = [r for r in outbox(world) if r.kind == "alert" and r.address == "th@example.cn"]
    assert all("此外，以下条件" not in r.body for r in above)
