"""The scheduler: a few jobs declared in code, safe options, job store on the project database.

Jobs run against the world's FixedClock; the one real run waits for APScheduler's own
"job executed" event, never on a sleep.
"""
from __future__ import annotations

import json
import threading
from datetime import date, datetime, timezone

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from entrypoints import scheduler as jobs
from engine.adapters import tables as t
from engine.domain.errors import AuthError
from notifications.contacts import set_channels
from tests.helpers.deadlines import awaiting_plan
from tests.test_deadlines import CST, count, cst, identified
from tests.test_notifications import cli

DECLARED = {"overdue_sweep", "due_soon_reminders", "daily_digest", "dispatch", "audit_seal", "refer_overdue"}
AS_ADMIN = {"audit_seal", "refer_overdue"}


@pytest.fixture
def started(world):
    made = []

    def start(actor="admin"):
        scheduler = jobs.build(world.app, world[actor] if actor else None, BackgroundScheduler)
        scheduler.start(paused=True)
        made.append(scheduler)
        return scheduler
    yield start
    for s in made:
        if s.running:
            s.shutdown(wait=False)


def stored(world) -> list[str]:
    with world.app.engine.connect() as conn:
        return sorted(r.id for r in conn.execute(select(t.apscheduler_jobs.c.id)))


def test_a_few_jobs_declared_in_code_with_coalesce_one_instance_and_no_grace_limit(world, started):
    scheduler = started()
    declared = {j.id: j for j in scheduler.get_jobs()}
    assert set(declared) == DECLARED
    for job in declared.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None), job.id
    store = scheduler._lookup_jobstore("default")
    assert isinstance(store, SQLAlchemyJobStore) and store.engine is world.app.engine
    assert stored(world) == sorted(DECLARED)
    # The digest at 08:00 Asia/Shanghai, every day; reminders hourly in office hours.
    after = cst(2019, 5, 1, 9, 0).astimezone(CST)
    nxt = declared["daily_digest"].trigger.get_next_fire_time(None, after)
    assert nxt.astimezone(CST).replace(tzinfo=None) == datetime(2019, 5, 2, 8, 0)
    nxt = declared["due_soon_reminders"].trigger.get_next_fire_time(None, cst(2019, 5, 1, 18, 30).astimezone(CST))
    assert nxt.astimezone(CST).replace(tzinfo=None) == datetime(2019, 5, 2, 8, 0)
    assert declared["overdue_sweep"].trigger.interval.total_seconds() == 300


def test_a_restart_replaces_the_jobs_and_deadlines_add_none(world, started):
    started().shutdown(wait=False)
    identified(world, 4)
    started()
    assert stored(world) == sorted(DECLARED)
    assert count(world, t.deadlines) >= 4            # deadlines are rows, not scheduler jobs


def test_without_an_administrator_the_process_holding_the_keys_seals_and_a_non_administrator_is_refused(
        world, started):
    first = started(None)
    assert {j.id for j in first.get_jobs()} == DECLARED - {"refer_overdue"}    # the keys are here
    said = jobs.started_text(world.app, None, "zh")         # and the start says so (it said "不封存")
    assert "审计日志每晚由调度程序自行封存" in said and "不移送" in said and "不封存" not in said
    first.shutdown(wait=False)
    keys, world.app.keyring = world.app.keyring, None
    try:
        assert {j.id for j in started(None).get_jobs()} == DECLARED - AS_ADMIN        # no keys: no seal
        assert "不封存审计日志" in jobs.started_text(world.app, None, "zh")
    finally:
        world.app.keyring = keys
    assert "no --as" not in jobs.started_text(world.app, world["admin"], "en")
    with pytest.raises(AuthError):
        jobs.build(world.app, world["cd"], BackgroundScheduler)


def test_the_jobs_do_their_work_as_of_the_apps_clock(world, started):
    set_channels(world.app, world["admin"], "fs", [("file", "fs", "zh")])
    set_channels(world.app, world["admin"], "th", [("file", "th", "zh")])
    awaiting_plan(world)                                            # fs's plan, due 2019-04-14
    started()
    world.clock.at = cst(2019, 4, 12, 9, 0)
    assert jobs.job_overdue_sweep()["alerts"] == 0
    assert jobs.job_reminders()["reminders"] == 1
    world.clock.at = cst(2019, 4, 30, 8, 0)
    assert jobs.job_reminders()["alerts"] == 0
    assert jobs.job_overdue_sweep()["by_level"] == {"0": 1, "1": 1, "2": 1, "3": 1}
    assert jobs.job_digest()["messages"] == 1                       # th: the one supervisor with a channel
    assert jobs.job_dispatch()["delivered"] == 4                    # reminder, owner, township head, digest
    row = jobs.job_audit_seal()
    assert row["sealed_by"] == "admin" and row["events"] > 0
    assert jobs.job_audit_seal() is None                            # nothing new since


def test_a_nightly_seal_a_witness_would_fork_seals_nothing_and_says_so_in_the_log(world, started, tmp_path,
                                                                                  monkeypatch, caplog):
    """An older backup restored: the witness holds a head this database does not continue."""
    witness = tmp_path / "witness.jsonl"
    witness.write_text(json.dumps({"seq": 99999, "hash": "0" * 64}) + "\n", encoding="utf-8")
    monkeypatch.setenv("JINGZHUN_WITNESS", str(witness))
    identified(world)
    started()
    with caplog.at_level("ERROR", logger=jobs.log.name):
        assert jobs.job_audit_seal() is None
    assert "audit seal refused: witness" in caplog.text and "holds seq 99999" in caplog.text
    assert count(world, t.audit_checkpoints) == 0 and len(witness.read_text(encoding="utf-8").splitlines()) == 1


def test_a_nightly_seal_a_witness_would_fork_is_told_to_the_administrators_once_per_fork(world, started, tmp_path,
                                                                                      monkeypatch):
    """It was only logged: an administrator who reads no server log never heard that no event is sealed
    any more. Each administrator over the installation is sent what happened and what to do over their
    channels, once for that fork (not every night anew) and again for another; no one else is."""
    from datetime import timedelta
    set_channels(world.app, world["admin"], "admin", [("file", "admin", "zh")])
    set_channels(world.app, world["admin"], "th", [("file", "th", "zh")])
    witness = tmp_path / "witness.jsonl"
    witness.write_text(json.dumps({"seq": 99999, "hash": "0" * 64}) + "\n", encoding="utf-8")
    monkeypatch.setenv("JINGZHUN_WITNESS", str(witness))
    identified(world)
    started()
    mailbox = world.app.settings.home / "mailbox"

    def night() -> list[str]:
        assert jobs.job_audit_seal() is None
        jobs.job_dispatch()
        world.clock.at += timedelta(days=1)
        return sorted(p.read_text(encoding="utf-8") for p in (mailbox / "admin").glob("*"))

    told = night()
    assert len(told) == 1 and "审计日志未能封存" in told[0], told
    assert f"见证方 {witness} 已保存序号 99999 的链头，而本库的记录并不延续该历史" in told[0] and "请恢复包含序号 99999" in told[0]
    assert "此情况只通知一次" in told[0]
    assert night() == told and night() == told                   # the next nights: refused again, not told again
    assert not (mailbox / "th").exists()                          # a township head is not an administrator
    with witness.open("a", encoding="utf-8") as fh:               # another fork: told once more
        fh.write(json.dumps({"seq": 100500, "hash": "1" * 64}) + "\n")
    again = night()
    assert len(again) == 2 and any("已保存序号 100500 的链头" in m for m in again)


def test_the_morning_job_refers_overdue_rectification_once(world, started):
    from tests.test_accountability import assigned_problem
    problem = assigned_problem(world, due=date(2020, 6, 20))
    world.step("th", "assignment", "receipt", problem)
    started()
    world.on(date(2020, 6, 20))
    assert jobs.job_refer_overdue() == []                           # due today: not late yet
    world.on(date(2020, 6, 21))
    assert jobs.job_refer_overdue() == [problem]
    assert jobs.job_refer_overdue() == []


def test_a_job_runs_when_it_falls_due(world, started):
    identified(world)
    world.clock.at = cst(2019, 5, 1, 9, 0)
    scheduler = started()
    done, outcome = threading.Event(), {}

    def listener(event):
        if event.job_id == "overdue_sweep":
            outcome["event"] = event
            done.set()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.modify_job("overdue_sweep", next_run_time=datetime.now(timezone.utc))
    scheduler.resume()
    assert done.wait(60)
    assert outcome["event"].exception is None and outcome["event"].retval["alerts"] == 4
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.alerts)).scalar() == 4


def test_scheduler_jobs_lists_the_stored_jobs(world, started):
    started().shutdown(wait=False)
    listed = cli(world, "insp", "scheduler", "jobs", "--json")
    assert listed.code == 0, listed.err
    rows = json.loads(listed.out)
    assert {r["id"] for r in rows} == DECLARED
    assert all(r["misfire_grace_time"] is None and r["coalesce"] and r["max_instances"] == 1 for r in rows)


def test_a_digest_missed_while_the_scheduler_was_down_runs_once_at_restart(world, started):
    """The 08:00 digest fell due during an outage: a restart keeps its stored next run time
    (instead of recomputing it from the code's trigger), so it runs once, then at 08:00 again."""
    from datetime import timedelta
    set_channels(world.app, world["admin"], "th", [("file", "th", "zh")])
    identified(world)
    started().shutdown(wait=False)
    missed = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2, hours=1)
    store = jobs.ProjectJobStore(world.app)      # as the store was left when the process stopped
    store.start(None, "default")
    job = store.lookup_job("daily_digest")
    job.next_run_time = missed
    store.update_job(job)
    world.clock.at = cst(2019, 5, 1, 8, 0)
    scheduler = started()
    job = scheduler.get_job("daily_digest")
    assert job.next_run_time == missed                       # not moved to the next 08:00
    assert scheduler.get_job("overdue_sweep").next_run_time > datetime.now(timezone.utc)
    runs, done = [], threading.Event()

    def listener(event):
        if event.job_id == "daily_digest":
            runs.append(event)
            done.set()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.resume()
    assert done.wait(60)
    assert runs[0].exception is None and runs[0].retval["messages"] == 1
    # Two missed days coalesced into this one run; the next is a future 08:00 in Shanghai.
    following = scheduler.get_job("daily_digest").next_run_time
    assert following > datetime.now(timezone.utc) and following.astimezone(CST).strftime("%H:%M") == "08:00"
    assert len(runs) == 1


def test_a_job_whose_trigger_changed_is_rewritten_and_an_undeclared_one_removed(world):
    first = jobs.build(world.app, world["admin"], BackgroundScheduler)
    first.start(paused=True)
    first.shutdown(wait=False)
    scheduler = jobs.build(world.app, None, BackgroundScheduler, sweep_minutes=10)
    scheduler.start(paused=True)
    try:
        assert scheduler.get_job("overdue_sweep").trigger.interval.total_seconds() == 600
        assert scheduler.get_job("refer_overdue") is None          # an administrator's job, undeclared now
    finally:
        scheduler.shutdown(wait=False)
    assert stored(world) == sorted(DECLARED - {"refer_overdue"})


def test_a_job_runs_under_the_rules_installed_since_the_process_started(world, started, tmp_path):
    """`config install` is another process than the server's scheduler: the next job takes its rules (the
    digest no longer goes to township heads once the installed rules leave them out)."""
    from engine.adapters.db import Settings
    from entrypoints.bootstrap import make_app
    from engine.services.setup import install_config
    from tests.helpers.deadlines import config_copy
    set_channels(world.app, world["admin"], "th", [("file", "th", "zh")])
    identified(world)
    started()
    world.clock.at = cst(2019, 4, 30, 8, 0)
    jobs.job_overdue_sweep()
    folder = config_copy(tmp_path, edit_deadlines=lambda d: d.update(
        digest_roles=[r for r in d["digest_roles"] if r != "township_head"]))
    installer = make_app(Settings.from_env(str(world.app.settings.home), world.app.settings.db_url), clock=world.clock)
    try:
        install_config(installer, world["admin"], folder)
    finally:
        installer.close()
    assert jobs.job_digest()["messages"] == 0
