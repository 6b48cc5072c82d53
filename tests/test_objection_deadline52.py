"""Filing an objection starts a deadline for the township to rule on it (a7 finding 7): 5 working days
(config/deadlines.yaml `objection_ruling` [LOCAL]), owned by a township cadre who may rule on it (not who
recorded it), alerted and escalated as any deadline, and closed by the ruling."""
from __future__ import annotations

from datetime import date

from engine.services.case_actions import file_objection, resolve_objection
from engine.services.sweep import sweep
from tests.helpers.deadlines import alerts_of, cst, deadlines_of, reach_everyone
from tests.helpers.notifications import cli
from tests.test_notices import private_households, to_first_notice


def _filed(world) -> tuple[int, int]:
    cases, _ = private_households(world)
    notice = to_first_notice(world, cases)
    world.on(date(2019, 3, 4))          # a Monday
    oid = file_objection(world.app, world["ts1"], notice, cases[0], "村民王某", "该户有轿车未申报", date(2019, 3, 4))
    return cases[0], oid


def test_an_objection_filed_is_due_to_be_ruled_on_by_the_township_and_its_ruling_closes_it(world):
    reach_everyone(world)
    case, oid = _filed(world)
    [due] = deadlines_of(world, case, rule="objection_ruling")
    assert (due.status, due.subject, due.start_on, due.due_on) == ("open", str(oid), date(2019, 3, 4), date(2019, 3, 11))
    assert due.owner_role in ("township_staff", "township_head", "township_secretary")
    assert due.owner_id != world["ts1"].person_id            # who recorded it may not rule on it
    listed = cli(world, "th", "deadline", "list", "--case", str(case))
    assert listed.code == 0 and "异议裁定" in listed.out and "2019-03-11" in listed.out, listed.out + listed.err
    # overdue: the owner is alerted, then the township's leaders (the standard ladder)
    sweep(world.app, now=cst(2019, 3, 15, 9, 0))
    sent = [a for a in alerts_of(world) if a[0] == due.id]
    assert [a[1] for a in sent] == [0, 1], sent
    world.on(date(2019, 3, 15))
    resolve_objection(world.app, world["ts2"], oid, False, "经入户核实，轿车系亲属所有", date(2019, 3, 15))
    [closed] = deadlines_of(world, case, rule="objection_ruling")
    assert (closed.status, closed.closed_reason) == ("done", "objection ruled")


def test_an_objection_open_before_its_rule_was_installed_gets_its_deadline_at_install(world, tmp_path):
    """A home whose objections were filed before the rule (its deadline missing): `config install` gives
    each objection still open the deadline its filing would have started, from its filing day."""
    from engine.services.setup import install_config
    from tests.helpers.deadlines import config_copy
    from tests.helpers.tamper import raw
    case, oid = _filed(world)
    raw(world, "DELETE FROM deadlines WHERE rule = 'objection_ruling'", tables=("deadlines",))
    assert deadlines_of(world, case, rule="objection_ruling") == []
    folder = config_copy(tmp_path, edit_deadlines=lambda d: d["rules"]["objection_ruling"].update(days=6))
    install_config(world.app, world["admin"], folder)
    [due] = deadlines_of(world, case, rule="objection_ruling")
    assert (due.status, due.subject, due.start_on, due.due_on) == ("open", str(oid), date(2019, 3, 4), date(2019, 3, 12))
    assert due.owner_id is not None and due.owner_id != world["ts1"].person_id
    install_config(world.app, world["admin"], config_copy(tmp_path / "again"))       # not opened twice
    assert len(deadlines_of(world, case, rule="objection_ruling")) == 1
