"""Deadlines (DOMAIN §6): rules in configuration (a change moves open due times, a year can be
added), owners found again at alert time, changed ladders, the review's fixes.

Time is the world's FixedClock or an explicit `now`; nothing sleeps.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import event, select

from config import load_config
from engine.domain import deadline_rules as dl
from engine.services.deadlines import MOVE
from engine.adapters import tables as t
from engine.services.case_actions import attach_evidence
from engine.adapters.db import Settings
from engine.reads.deadlines import alert_rows, calendar_warnings, deadline_rows
from engine.services.sweep import sweep
from engine.services.setup import install_config
from notifications.contacts import set_channels
from tests.helpers.deadlines import (CST, alerts_of, awaiting_plan, config_copy, cst, deadlines_of, identified,
                                    reach_everyone)
from tests.world import scan_file


def test_a_changed_rule_moves_open_due_times_in_one_update(world, tmp_path):
    cases = identified(world, 3)
    world.assist(cases[0])                       # done: it stays as it was
    folder = config_copy(tmp_path, edit_policy=lambda p: p["defaults"].update(assistance_plan_due_days=20))
    statements = []

    def seen(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE DEADLINES"):
            statements.append(statement)

    event.listen(world.app.engine, "before_cursor_execute", seen)
    try:
        version = install_config(world.app, world["admin"], folder).version
    finally:
        event.remove(world.app.engine, "before_cursor_execute", seen)
    assert len(statements) == 1
    rows = deadlines_of(world, rule="assistance_plan")
    by_case = {r.case_id: r for r in rows}
    assert by_case[cases[0]].due_on == date(2019, 4, 14) and by_case[cases[0]].status == "done"
    for c in cases[1:]:
        assert (by_case[c].due_on, by_case[c].rules_version) == (date(2019, 4, 4), version)
        assert datetime.fromisoformat(by_case[c].ladder[1]["at"]).astimezone(CST).date() == date(2019, 4, 5)


def _forget_2019(monkeypatch):
    from engine.domain import calendar
    monkeypatch.setattr(calendar, "PACKAGE_YEARS", frozenset(calendar.PACKAGE_YEARS - {2019}))
    dl.clear_compiled()


def test_a_year_no_calendar_knows_is_counted_on_weekends_marked_provisional_and_fixed_by_configuration(
        world, tmp_path, monkeypatch):
    """As if the package stopped at 2018: the deadline is provisional until an office adds 2019."""
    import chinese_calendar
    _forget_2019(monkeypatch)
    reach_everyone(world)
    case = world.household()
    world.on(date(2019, 9, 20))
    world.up_to_first_notice(case)
    d = deadlines_of(world, case, rule="notice_expiry")[0]
    assert (d.due_on, d.provisional) == (date(2019, 10, 2), True)      # weekends only: Mon 30, Tue 1, Wed 2
    sweep(world.app, now=cst(2019, 10, 3, 9, 0))
    [alert] = alert_rows(world.app, world["insp"])
    assert alert["provisional"]
    with world.app.engine.connect() as conn:
        body = conn.execute(select(t.outbox.c.body).where(t.outbox.c.alert_id == alert["id"])).scalar()
    assert "暂定" in body and "2019" in body
    assert deadline_rows(world.app, world["insp"])[0]["provisional"]
    # The State Council's schedule for 2019, entered by the office:
    year = {"holidays": [d_ for d_ in chinese_calendar.constants.holidays if d_.year == 2019],
            "workdays": [d_ for d_ in chinese_calendar.constants.workdays if d_.year == 2019]}
    folder = config_copy(tmp_path, edit_deadlines=lambda y: y["calendar"].update(years={2019: year}))
    install_config(world.app, world["admin"], folder)
    d = deadlines_of(world, case, rule="notice_expiry")[0]
    assert (d.due_on, d.provisional) == (date(2019, 10, 8), False)
    # Level 0 went out on the provisional date; level 1 now falls on the worked Saturday, 12 October.
    assert d.next_level == 1 and dl.aware(d.next_alert_at) == cst(2019, 10, 12, 8, 0)


def test_config_check_warns_about_years_no_calendar_knows(world, monkeypatch, tmp_path):
    from cli import main
    warnings = calendar_warnings(load_config(), date(2026, 12, 1))
    assert len(warnings) == 1 and "2027" in warnings[0] and "暂定" in warnings[0] and "provisional" not in warnings[0]
    [english] = calendar_warnings(load_config(), date(2026, 12, 1), "en")
    assert "2027" in english and "provisional" in english
    assert calendar_warnings(load_config(), date(2019, 3, 1)) == []
    _forget_2019(monkeypatch)
    case = world.household()
    world.on(date(2019, 9, 20))
    world.up_to_first_notice(case)
    world.app.close()
    monkeypatch.setenv("JINGZHUN_HOME", str(world.app.settings.home))
    if world.app.settings.db_url.startswith("postgresql"):
        monkeypatch.setenv("JINGZHUN_DB", world.app.settings.db_url)
    import io
    from contextlib import redirect_stderr
    captured = io.StringIO()
    with redirect_stderr(captured):
        assert main(["config", "check"]) == 0
    said = captured.getvalue()
    assert "1 个未办结期限为暂定" in said and "jingzhun deadline reschedule" in said
    assert "deadline reschedule" in warnings[0]       # after upgrading the calendar package


def test_the_demo_leaves_work_undone_sweeps_later_and_writes_alerts_to_a_file_mailbox(tmp_path):
    import io as _io
    from pathlib import Path
    from rich.console import Console
    from demo.county import run_demo
    printed = _io.StringIO()
    summary = run_demo(Settings.from_env(str(tmp_path / "demo")), load_config(), households=60, seed=3,
                       console=Console(file=printed, width=200))
    scene = summary["overdue"]
    # the monitoring notice run out with no township review: one lapse, on the 15 days, not also on the notice's
    # 3 working days (a12 #11)
    assert scene["by_rule"].get("monitoring_identification") and "notice_expiry" not in scene["by_rule"]
    assert scene["alerts"] > 0 and set(scene["by_level"]) >= {"0", "1", "2", "3"}
    assert scene["delivered"] > 0       # a person's many alerts of the sweep in one summary message each
    mailbox = Path(scene["mailbox"])
    inspector = sorted((mailbox / "inspector").iterdir())
    assert inspector and "升级·第3级】" in inspector[0].read_text(encoding="utf-8")   # alone or in a summary
    assert str(mailbox) in printed.getvalue() and "alerts list" in printed.getvalue()


def test_fixed_dates_month_days_and_monthly_reports(world):
    rules = dl.compiled(world.app.config)
    relocation, report = rules.rules["relocation_handover"], dl.compiled(world.app.config).file.rules["disbursement_report"]
    assert rules.due_on(relocation, "date:09-30", date(2019, 3, 20), "36") == (date(2019, 9, 30), False)
    assert rules.due_on(relocation, "date:09-30", date(2019, 10, 2), "36") == (date(2020, 9, 30), False)
    assert rules.due_on(report, "monthly:5", date(2019, 12, 12), "36") == (date(2020, 1, 5), False)
    # Dormant while no workflow of kind `project` exists, and `config check` says so.
    if "project" not in world.app.config.workflows:
        assert "disbursement_report" not in rules.rules
        assert any("disbursement_report" in n for n in world.app.config.notes)
    else:
        assert "disbursement_report" in rules.rules


@pytest.mark.parametrize("edit, key", [
    (lambda y: y["rules"]["assistance_plan"].update(ladder="nope"), "rules.assistance_plan.ladder"),
    (lambda y: y["ladders"]["standard"][1].update(to=["no_such_role"]), "ladders.standard.1.to"),
    (lambda y: y["rules"]["signoff_waiting"]["when"].update(waiting=["meeting"]), "rules.signoff_waiting.when"),
    (lambda y: y["calendar"].update(years={2027: {"workdays": ["2027-01-04"]}}), "calendar.years.2027.workdays"),
    (lambda y: y["rules"]["assistance_plan"].update(days=5, due="09-30"), "rules.assistance_plan"),
])
def test_a_wrong_deadlines_file_is_refused_naming_the_key(tmp_path, edit, key):
    from config import ConfigError
    folder = config_copy(tmp_path, edit_deadlines=edit)
    from entrypoints.bootstrap import check_references
    with pytest.raises(ConfigError) as found:
        check_references(load_config(folder))   # step types: the engine's registry
    assert "deadlines.yaml" in str(found.value) and f"键 {key}" in str(found.value) and f"key {key}" in found.value.render(lang="en")


# --- the review's fixes ----------------------------------------------------------------------------

def test_times_are_converted_to_utc_not_just_labelled(world):
    """A `now` given in office time is the same moment in UTC: stored as such, SQLite included."""
    from notifications.dispatcher import dispatch
    from notifications.channels import NotifySettings
    from pathlib import Path
    office = datetime(2019, 5, 1, 9, 0, tzinfo=CST)
    assert dl.aware(office) == office and dl.aware(office).utcoffset().total_seconds() == 0
    assert dl.aware(office).hour == 1 and dl.aware(datetime(2019, 5, 1, 1, 0)).tzinfo is timezone.utc
    set_channels(world.app, world["admin"], "fs", [("file", "fs", "zh")])
    awaiting_plan(world)
    assert sweep(world.app, now=office).alerts == 4
    with world.app.engine.connect() as conn:
        created = conn.execute(select(t.alerts.c.created_at)).scalars().all()
    assert {dl.aware(c) for c in created} == {office}
    # Queued at 01:00 UTC, so due for delivery at 01:30 UTC (not at 09:00 UTC, eight hours late).
    sent = dispatch(world.app, NotifySettings(mailbox=Path(world.app.settings.home) / "mailbox"),
                    now=datetime(2019, 5, 1, 1, 30, tzinfo=timezone.utc))
    assert sent.delivered == 1


def test_an_owner_who_lost_the_post_is_replaced_by_the_post_s_next_holder_not_another_post_s(world):
    from engine.services.org import grant_role, revoke_role
    from tests.world import VILLAGE
    reach_everyone(world)
    set_channels(world.app, world["admin"], "tl", [("file", "tl", "zh")])
    case = awaiting_plan(world)[0]
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert d.owner_id == world["fs"].person_id
    sweep(world.app, now=cst(2019, 4, 12, 8, 0))                 # the reminder: fs still holds the post
    assert alerts_of(world) == [(d.id, -1, ("fs",))]
    world.on(date(2019, 4, 13))
    revoke_role(world.app, world["admin"], "fs", "first_secretary", VILLAGE)
    sweep(world.app, now=cst(2019, 4, 15, 8, 0))
    # nobody holds the post: the owner's level reaches nobody, not tl (another of the rule's posts)
    assert alerts_of(world)[1:] == [(d.id, 0, ())]
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert (d.owner_id, d.owner_role) == (None, "first_secretary")
    # found again when the post ended (engine/services/handover.py), not only at the next alert
    paired, ended = d.owner_changes             # the pairing done: the plan's, fs's; then the post ended
    assert (paired["to"], paired["reason"]) == (world["fs"].person_id, "step:pairing")
    assert (ended["from"], ended["to"], ended["reason"]) == (world["fs"].person_id, None, "post ended")
    assert dl.aware(datetime.fromisoformat(ended["at"])) == cst(2019, 4, 13, 10, 0)
    grant_role(world.app, world["admin"], "tl", "first_secretary", VILLAGE)    # the post filled: its holder's
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert (d.owner_id, d.owner_role) == (world["tl"].person_id, "first_secretary")
    sweep(world.app, now=cst(2019, 4, 18, 8, 0))                 # the township's leaders
    with world.app.engine.connect() as conn:
        body = conn.execute(select(t.outbox.c.body).where(t.outbox.c.address == "th")
                            .order_by(t.outbox.c.id.desc())).scalars().first()
    assert "（tl）" in body                                      # the message names the owner in force
    # Inactive is the same as gone: tl is switched off (behind the engine, so nothing handed over), and the
    # next sweep hands the deadline to the post's other holder: nobody; an owner alert later finds nobody
    # again (not vs, the rule's last post).
    with world.app.transaction() as conn:
        conn.execute(t.persons.update().where(t.persons.c.code == "tl").values(active=False))
    sweep(world.app, now=cst(2019, 4, 22, 8, 0))
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert d.owner_id is None and d.owner_changes[-1]["reason"] == "inactive"     # never the leaver's
    with world.app.transaction() as conn:                        # a reminder-like owner alert again, by hand
        conn.execute(t.deadlines.update().where(t.deadlines.c.id == d.id).values(
            ladder=d.ladder + [{"level": 4, "key": "owner_again", "after": 20, "to": "owner",
                                "at": cst(2019, 5, 5, 8, 0).isoformat()}], next_level=4,
            next_alert_at=cst(2019, 5, 5, 8, 0)))
    sweep(world.app, now=cst(2019, 5, 5, 8, 0))
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert d.owner_id is None and d.owner_changes[-1]["reason"] == "inactive"
    assert alerts_of(world)[-1] == (d.id, 4, ())


def test_a_deadline_nobody_ever_owned_goes_to_a_holder_of_any_of_the_rule_s_posts(world):
    """Made when none of the rule's posts was held: as at creation, the first one held later."""
    from engine.services.org import grant_role, revoke_role
    from tests.world import VILLAGE
    for code, role in (("fs", "first_secretary"), ("tl", "resident_team_leader"), ("vs", "village_secretary")):
        revoke_role(world.app, world["admin"], code, role, VILLAGE)
    case = awaiting_plan(world)[0]
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert d.owner_id is None
    grant_role(world.app, world["admin"], "tm", "resident_team_leader", VILLAGE)
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert (d.owner_id, d.owner_role) == (world["tm"].person_id, "resident_team_leader")


def _sweep_at(world, *moments) -> list[tuple]:
    before = len(alerts_of(world))
    for moment in moments:
        sweep(world.app, now=moment)
    return alerts_of(world)[before:]


def test_a_changed_ladder_moves_open_deadlines_even_when_the_next_alert_keeps_its_time(world, tmp_path):
    case = identified(world)[0]
    folder = config_copy(tmp_path, edit_deadlines=lambda y: y["ladders"]["standard"][3].update(
        to=["inspector", "discipline_officer"]))
    install_config(world.app, world["admin"], folder)
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert d.ladder[4]["to"] == ["inspector", "discipline_officer"] and d.next_level == -1
    assert _sweep_at(world, cst(2019, 5, 1, 9, 0))[-1] == (d.id, 3, ("do", "insp"))


def test_a_level_inserted_into_the_ladder_is_alerted_and_none_is_alerted_twice(world, tmp_path):
    case = awaiting_plan(world)[0]
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert _sweep_at(world, cst(2019, 4, 12, 8, 0), cst(2019, 4, 15, 8, 0), cst(2019, 4, 18, 8, 0)) == [
        (d.id, -1, ("fs",)), (d.id, 0, ("fs",)), (d.id, 1, ("th", "tsec"))]
    # The office adds township staff one day after the due date, before the township leaders.
    folder = config_copy(tmp_path, edit_deadlines=lambda y: y["ladders"]["standard"].insert(
        1, {"after": 1, "to": ["township_staff"]}))
    world.on(date(2019, 4, 19))
    install_config(world.app, world["admin"], folder)
    moved = deadlines_of(world, case, rule="assistance_plan")[0]
    assert _sweep_at(world, cst(2019, 4, 19, 9, 0)) == [(d.id, 1, ("ts1", "ts2", "ts3", "ts4"))]   # not skipped
    assert _sweep_at(world, cst(2019, 4, 22, 8, 0), cst(2019, 5, 1, 9, 0), cst(2019, 6, 1, 9, 0)) == [
        (d.id, 3, ("cd",)), (d.id, 4, ("insp",))]                 # township leaders: not again
    assert (moved.next_level, dl.aware(moved.next_alert_at)) == (1, cst(2019, 4, 16, 8, 0))
    assert [e["key"] for e in moved.ladder] == ["reminder", "owner", "township_staff",
                                                "township_head+township_secretary", "county_office_director", "inspector"]
    with world.app.engine.connect() as conn:
        rungs = conn.execute(select(t.alerts.c.rung).where(t.alerts.c.deadline_id == d.id)
                             .order_by(t.alerts.c.id)).scalars().all()
    assert rungs == ["reminder", "owner", "township_head+township_secretary", "township_staff",
                     "county_office_director", "inspector"]


def test_two_levels_that_would_share_a_key_are_refused(tmp_path):
    from config import ConfigError
    folder = config_copy(tmp_path, edit_deadlines=lambda y: y["ladders"]["standard"].append(
        {"after": 20, "to": ["inspector"]}))
    with pytest.raises(ConfigError, match=r"ladders\.standard\.4"):
        load_config(folder)


def test_escalation_goes_to_the_nearest_holders_of_each_role(world):
    from engine.services.org import NewPerson, add_persons
    from tests.world import PROVINCE
    add_persons(world.app, world["admin"], [NewPerson("pinsp", "省纪委 检查员", (("inspector", PROVINCE),), False)])
    case = identified(world)[0]
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert (d.id, 3, ("insp",)) in _sweep_at(world, cst(2019, 5, 1, 9, 0))   # the county's, not also the province's
    # Fund projects are county work: their ladder's levels are held over the county.
    rules = dl.compiled(world.app.config).file.rules
    assert rules["project_milestone"].ladder == rules["disbursement_report"].ladder == "county"


def test_a_case_removed_cancels_its_open_deadlines_rather_than_doing_them(world, tmp_path):
    case = identified(world)[0]
    scan = scan_file(tmp_path / "death.pdf", "death certificate")
    world.on(date(2019, 4, 1))
    attach_evidence(world.app, world["vs"], case, "natural_change_proof", {"reason": "户内成员全部死亡"}, scan)
    world.step("vs", "removal_natural", "finding", case)
    world.step("th", "removal_natural", "township_review", case, decision="approve")
    world.step("cd", "removal_natural", "county_approval", case, decision="approve")
    d = deadlines_of(world, case, rule="assistance_plan")[0]
    assert (d.status, d.closed_reason) == ("cancelled", "stage:removed")


def test_reschedule_moves_each_group_through_an_index(world):
    if world.app.engine.dialect.name != "sqlite":
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    with world.app.engine.connect() as conn:
        compiled = MOVE.compile(dialect=conn.dialect)
        plan = " | ".join(str(r[-1]) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled), tuple(None for _ in compiled.positiontup)))
    assert "USING INDEX ix_deadlines_rule_due (rule=? AND status=? AND due_on=? AND start_on=?)" in plan, plan


def test_alerts_list_filters_in_the_query_and_stops_at_the_limit(world):
    from notifications.channels import NotifySettings
    from notifications.dispatcher import dispatch
    from pathlib import Path
    set_channels(world.app, world["admin"], "fs", [("file", "fs", "zh")])
    set_channels(world.app, world["admin"], "th", [("file", "th", "zh")])
    awaiting_plan(world, 3)
    sweep(world.app, now=cst(2019, 5, 1, 9, 0))               # 12 alerts: fs, th reachable; tsec, cd, insp not
    dispatch(world.app, NotifySettings(mailbox=Path(world.app.settings.home) / "mailbox"),
             now=cst(2019, 5, 1, 9, 0))
    loaded = []

    def seen(conn, cursor, statement, params, context, executemany):
        if "FROM outbox" in statement and ("alert_id IN" in statement or "alert_id = ANY" in statement):
            loaded.append(len(params["ids"]) if isinstance(params, dict) else len(params))   # PostgreSQL: one array

    event.listen(world.app.engine, "before_cursor_execute", seen)
    try:
        failed = alert_rows(world.app, world["insp"], status="failed")
        delivered = alert_rows(world.app, world["insp"], status="delivered")
        mine = alert_rows(world.app, world["th"], mine=True)
        two = alert_rows(world.app, world["insp"], limit=2)
    finally:
        event.remove(world.app.engine, "before_cursor_execute", seen)
    assert [r["level"] for r in failed] == [3, 2, 1] * 3 and all(r["unreachable"] for r in failed)
    assert [r["level"] for r in delivered] == [0, 0, 0]
    assert [r["level"] for r in mine] == [1, 1, 1] and len(two) == 2 and two[0]["id"] > two[1]["id"]
    assert loaded == [9, 3, 3, 2]       # messages read for the alerts shown only


def test_deadline_list_takes_a_rule_by_the_name_it_shows(world):
    """`--rule 帮扶计划…` as the list names it, not only its code: a name used to list nothing, exit 0."""
    import json as _json
    from tests.helpers.notifications import cli
    identified(world, 2)
    done = cli(world, "th", "deadline", "list", "--rule", "assistance_plan", "--json")
    by_code = _json.loads(done.out)
    assert done.code == 0 and len(by_code) == 2, done.err
    name = world.app.config.label("rule.assistance_plan", "zh")
    named = cli(world, "th", "deadline", "list", "--rule", name, "--json")
    assert named.code == 0 and _json.loads(named.out) == by_code
    unknown = cli(world, "th", "deadline", "list", "--rule", "nosuch")
    assert unknown.code == 2 and "assistance_plan" in unknown.err
