"""The scheduler (`jingzhun scheduler run`, and inside `jingzhun serve`): APScheduler 3 with a few
jobs declared here, run by whichever process holds the database lease `scheduler`.

There is no job per deadline: the overdue sweep is one indexed range scan of the deadlines table
every few minutes (engine/deadlines.py), so 20,000 deadlines cost no more to schedule than one.
Every job runs with coalesce=True (runs missed while the process was down collapse into one),
max_instances=1 (a slow run is never overlapped by the next) and misfire_grace_time=None (a late
run still runs). Jobs are kept in the project database (table apscheduler_jobs, created by the
migrations), and this file is their one definition: at every start a job that is missing from the
store, or whose trigger or options changed, is written from here; an unchanged one is left as
stored, with its next run time, so a run missed while the process was down (the 08:00 digest
during a night's outage) runs once at start; a stored job no longer declared here is removed.

Jobs: the overdue sweep; due-soon reminders (hourly, 08:00-18:00 office time); the daily digest
per supervisor at 08:00 Asia/Shanghai; delivery of the outbox; and, when the process runs as an
administrator (`jingzhun --as ADMIN scheduler run`, token in JINGZHUN_TOKEN, checked once at
start), sealing the audit log every night by the one sealing function, recorded as sealed by that
administrator, and referring problem items whose rectification is overdue to the discipline
commission every morning. The sweep, the digest and delivery write alerts and messages only; they need no
person. Where the installation's settings name a backup folder (JINGZHUN_BACKUP_DIR), a process that seals
also backs the home up every night, as the scheduler itself (engine/services/backup_rotation.py).
"""
from __future__ import annotations

import functools
import logging
import signal
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from engine.adapters.lease import SCHEDULER as LEASE      # (what `move-database` asks after too)
from engine.domain.deadline_rules import compiled

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
TABLE = "apscheduler_jobs"
log = logging.getLogger("jingzhun.scheduler")
_state: dict[str, Any] = {"app": None, "actor": None}


class ProjectJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store on the application's own engine, which it must not dispose."""

    def __init__(self, app):
        super().__init__(engine=app.engine, tablename=TABLE)

    def shutdown(self):
        pass


def _app():
    if _state["app"] is None:
        raise RuntimeError("the scheduler's jobs run inside `jingzhun scheduler run`")
    return _state["app"]


def _job(run):
    """A job is judged under the rules in force when it starts, with the record key in use: those `config
    install` and `audit rotate-key` put in the data home since the process started, as a request of the
    server is (App.in_force)."""
    @functools.wraps(run)
    def job(*args, **kwargs):
        if _state["app"] is None:
            return run(*args, **kwargs)
        with _state["app"].in_force():
            return run(*args, **kwargs)
    return job


@_job
def job_overdue_sweep() -> dict:
    from engine.services.replays import purge
    from engine.services.sweep import sweep
    result = sweep(_app(), mode="overdue").as_dict()
    log.info("overdue sweep: %s", result)
    purge(_app())       # answers kept for forms sent again: a day at most, whether or not more keys come
    return result


@_job
def job_reminders() -> dict:
    from engine.services.sweep import sweep
    result = sweep(_app(), mode="reminders").as_dict()
    log.info("due-soon reminders: %s", result)
    return result


@_job
def job_digest() -> dict:
    from engine.services.sweep import digest
    result = digest(_app())
    log.info("daily digest: %s", result)
    return result


@_job
def job_dispatch() -> dict:
    from notifications.dispatcher import dispatch
    result = dispatch(_app()).as_dict()
    if any(result.values()):
        log.info("delivery: %s", result)
    return result


NIGHT_SEAL_WAIT_S = 1800.0     # the nightly seal waits this long for writers still at work (PostgreSQL)


@_job
def job_audit_seal() -> dict | None:
    """The nightly seal: by the administrator the scheduler runs as, else by the scheduler itself
    when this process holds the record's keys (the server); without either, nothing is sealed. A seal
    refused for a forked witness (an older backup restored) is logged and told to the administrators
    over their channels, once per fork."""
    from engine.domain.errors import RuleViolation
    from engine.reads.audit_seal import SCHEDULER, tell_of_fork
    from engine.reads.audit_verify import seal
    app = _app()
    actor = _state["actor"] or (SCHEDULER if app.keyring is not None else None)
    if actor is None:
        return None
    try:
        row = seal(app, actor, wait_s=NIGHT_SEAL_WAIT_S)
    except RuleViolation as exc:
        if exc.code == "audit.seal_damaged":            # a broken chain: never signed over, never silently
            log.error("audit seal refused: the audit log is damaged (%s findings); run `jingzhun audit verify`",
                      exc.params.get("n"))
            told = tell_of_fork(app, exc, ("admin", "inspector"))      # once per damage found
            if told:
                log.info("audit seal refused: %s messages to the administrators and inspectors", told)
            return None
        if exc.code == "audit.seal_witness_ahead":      # an older backup restored: a person must decide
            log.error("audit seal refused: witness %s holds seq %s, which this database does not continue "
                      "(its last checkpoint: %s); run `jingzhun audit seal` for what to do", exc.params.get("witness"),
                      exc.params.get("seq"), exc.params.get("sealed"))
            told = tell_of_fork(app, exc)       # the administrators hear of it once per fork, not each night
            if told:
                log.info("audit seal refused: %s messages to the administrators", told)
            return None
        if exc.code != "audit.seal_deferred":
            raise
        # a city's import still writing: its events are sealed by the next run, with everything since
        log.warning("audit seal deferred: %s transactions still writing events after %s s", exc.params.get("count"),
                    exc.params.get("seconds"))
        return None
    log.info("audit seal: %s", "nothing new" if row is None else f"{row['events']} events up to {row['upto_seq']}")
    return row


@_job
def job_refer_overdue() -> list[int]:
    """Problem items still not rectified after their deadline go to the discipline commission (DOMAIN §9)."""
    from workflows.problem import refer_overdue
    from engine.domain.regions import ROOT
    if _state["actor"] is None:
        return []
    referred = refer_overdue(_app(), _state["actor"], ROOT)
    if referred:
        log.info("referred overdue problem items: %s", referred)
    return referred


@_job
def job_backup() -> dict | None:
    """The nightly backup into the folder the installation's settings name (JINGZHUN_BACKUP_DIR), the
    oldest beyond JINGZHUN_BACKUP_KEEP removed, by the scheduler itself (the system, in the activity log).
    A failure removes nothing; it is recorded, logged and told to the administrators where it happens
    (engine.services.backup_rotation)."""
    from engine.reads.audit_seal import SCHEDULER
    from engine.services.backup_rotation import backup_plan, take_kept_backup
    app = _app()
    plan = backup_plan(home=app.settings.home)
    if plan is None:
        return None
    try:
        done = take_kept_backup(app, SCHEDULER, plan.root, plan.keep)
    except Exception as exc:
        from engine.services.backup_rotation import failure_of
        problem = failure_of(exc)
        log.error("nightly backup into %s failed, nothing removed: %s %s", plan.root, problem["key"], problem["params"])
        return None
    log.info("nightly backup: %s (%s bytes), removed %s", done["folder"],
             sum(f["bytes"] for f in done["manifest"]["files"].values()), done["removed"] or "none")
    return done


def declared_jobs(app, sweep_minutes: int = 5, dispatch_seconds: int = 60, seal: bool = True,
                  refer: bool | None = None) -> list[dict]:
    """The jobs, as add_job keyword arguments (the same ones are written to the store at every start)."""
    tz = compiled(app.config).tz if app.config.deadlines is not None else "Asia/Shanghai"
    jobs = [
        {"id": "overdue_sweep", "func": "entrypoints.scheduler:job_overdue_sweep",
         "trigger": IntervalTrigger(minutes=sweep_minutes, timezone=tz)},
        {"id": "due_soon_reminders", "func": "entrypoints.scheduler:job_reminders",
         "trigger": CronTrigger(hour="8-18", minute=0, timezone=tz)},
        {"id": "daily_digest", "func": "entrypoints.scheduler:job_digest",
         "trigger": CronTrigger(hour=8, minute=0, timezone=tz)},
        {"id": "dispatch", "func": "entrypoints.scheduler:job_dispatch",
         "trigger": IntervalTrigger(seconds=dispatch_seconds, timezone=tz)},
    ]
    if seal:   # by the administrator the process was started as, or by the process holding the keys
        jobs.append({"id": "audit_seal", "func": "entrypoints.scheduler:job_audit_seal",
                     "trigger": CronTrigger(hour=23, minute=50, timezone=tz)})
    plan = _backup_plan(app)
    if seal and plan is not None:     # the installation's nightly backup (it seals the log first)
        jobs.append({"id": "nightly_backup", "func": "entrypoints.scheduler:job_backup",
                     "trigger": CronTrigger(hour=plan.at.hour, minute=plan.at.minute, timezone=tz)})
    if seal if refer is None else refer:     # acts as the administrator the process was started as
        jobs.append({"id": "refer_overdue", "func": "entrypoints.scheduler:job_refer_overdue",
                     "trigger": CronTrigger(hour=8, minute=30, timezone=tz)})
    return [{**job, **JOB_DEFAULTS, "name": job["id"], "replace_existing": True} for job in jobs]


def _trigger_signature(trigger) -> tuple:
    # str() names the schedule (interval, cron fields) without an interval's start date, which is
    # "now" each time a trigger is made; the zone is compared apart.
    return type(trigger).__name__, str(trigger), str(getattr(trigger, "timezone", ""))


def _declared_signature(job: dict) -> tuple:
    return (job["func"], _trigger_signature(job["trigger"]), job["name"], job["coalesce"], job["max_instances"],
            job["misfire_grace_time"], (), {}, "default")


def _stored_signature(job) -> tuple:
    return (job.func_ref, _trigger_signature(job.trigger), job.name, job.coalesce, job.max_instances,
            job.misfire_grace_time, tuple(job.args), dict(job.kwargs), job.executor)


def build(app, actor=None, scheduler_class=BackgroundScheduler, sweep_minutes: int = 5,
          dispatch_seconds: int = 60):
    """A scheduler with its job store on the project database and the declared jobs in it: only
    those missing or changed are (re)written, so the others keep their stored next run time."""
    if actor is not None:
        from engine.services.org import require_admin
        from engine.domain.regions import ROOT
        require_admin(app, actor, ROOT, "scheduler run")   # the nightly seal needs an administrator
    _state["app"], _state["actor"] = app, actor
    tz = compiled(app.config).tz if app.config.deadlines is not None else "Asia/Shanghai"
    scheduler = scheduler_class(jobstores={"default": ProjectJobStore(app)},
                                executors={"default": ThreadPoolExecutor(4)}, job_defaults=dict(JOB_DEFAULTS),
                                timezone=tz)
    declared = declared_jobs(app, sweep_minutes, dispatch_seconds, seal=_seals(app, actor), refer=actor is not None)
    plan = _backup_plan(app)
    if plan is not None and any(job["id"] == "nightly_backup" for job in declared):
        log.info("nightly backup at %s into %s, the last %s kept", plan.at.strftime("%H:%M"), plan.root, plan.keep)
    stored = {job.id: job for job in _store(app).get_all_jobs()}
    gone = sorted(set(stored) - {job["id"] for job in declared})
    if gone:   # e.g. the seal of an earlier run as an administrator
        _remove_jobs(app, gone)
    for job in declared:
        old = stored.get(job["id"])
        if old is None or _stored_signature(old) != _declared_signature(job):
            scheduler.add_job(**job)
    return scheduler


def run(app, actor=None, sweep_minutes: int = 5, dispatch_seconds: int = 60, console=None,
        lang: str = "zh") -> None:
    """The jobs in this process until SIGTERM or Ctrl+C, under the database lease a server's workers
    take too: beside a running `jingzhun serve` (or another `scheduler run`) one of them runs the
    jobs and the others stand by, taking over when it stops. Two sets of jobs would have delivered
    every message twice."""
    import threading
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if actor is not None:
        from engine.services.org import require_admin
        from engine.domain.regions import ROOT
        require_admin(app, actor, ROOT, "scheduler run")   # refused now, not in the lease's thread
    _backup_plan(app)                   # a backup setting that cannot be meant: said now, in words
    from notifications.channels import NotifySettings
    NotifySettings.from_env(app.settings.home).check()      # and a notification setting
    done = threading.Event()

    def tell(held: bool, other: str | None) -> None:
        if console is not None:
            console.print(app.config.label("scheduler.holding" if held else "scheduler.standing_by", lang)
                          .format(holder=other or "-"))

    def stop_signal(_signum, _frame):
        done.set()

    signal.signal(signal.SIGTERM, stop_signal)
    signal.signal(signal.SIGINT, stop_signal)
    if console is not None:
        console.print(started_text(app, actor, lang))
    stop = in_background(app, actor=actor, sweep_minutes=sweep_minutes, dispatch_seconds=dispatch_seconds,
                         on_change=tell)
    try:
        done.wait()
    finally:
        stop()


def started_text(app, actor, lang: str) -> str:
    """What a started scheduler says it does: with an administrator, everything; without, the seal
    only where this process holds the record's keys, and no referral of overdue problem items."""
    seal = _seals(app, actor)
    n = len(declared_jobs(app, seal=seal, refer=actor is not None))
    key = "scheduler.started" if actor else "scheduler.started_no_admin" if seal else "scheduler.started_no_seal"
    return app.config.label(key, lang).format(jobs=n, table=TABLE)


def _backup_plan(app):
    from engine.services.backup_rotation import backup_plan
    return backup_plan(home=app.settings.home)


def _seals(app, actor) -> bool:
    """The process seals the audit log: as the administrator it runs as, or holding the record's keys."""
    return actor is not None or app.keyring is not None


def _store(app) -> ProjectJobStore:
    store = ProjectJobStore(app)
    store.start(None, "default")
    return store


def _remove_jobs(app, ids: list[str]) -> None:
    from sqlalchemy import delete
    from engine.adapters import tables as t
    with app.engine.begin() as conn:
        conn.execute(delete(t.apscheduler_jobs).where(t.apscheduler_jobs.c.id.in_(ids)))


def stored_jobs(app) -> list[dict]:
    """The jobs in the database's job store, with their next run time."""
    store = _store(app)
    return [{"id": job.id, "next_run": job.next_run_time.isoformat() if job.next_run_time else None,
             "trigger": str(job.trigger), "coalesce": job.coalesce, "max_instances": job.max_instances,
             "misfire_grace_time": job.misfire_grace_time} for job in store.get_all_jobs()]


LEASE_SECONDS = 45.0
RENEW_SECONDS = 15.0


def in_background(app, renew_seconds: float = RENEW_SECONDS, lease_seconds: float = LEASE_SECONDS, *,
                  actor=None, sweep_minutes: int = 5, dispatch_seconds: int = 60, on_change=None):
    """The scheduler in a background thread, run by whichever process holds the database lease:
    every server worker and `scheduler run` calls this; one runs the jobs, the others wait to take
    over if it dies. `on_change(held, holder)` hears when this process starts or stops holding it
    (and, standing by at first, who holds it). Returns the function that stops it (and gives the
    lease back)."""
    import os
    import socket
    import threading
    import uuid
    from datetime import datetime, timezone

    from engine.adapters import lease

    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    stopping = threading.Event()
    state: dict[str, Any] = {"scheduler": None, "told": None}

    def told(held: bool) -> None:
        if on_change is not None and state["told"] != held:
            state["told"] = held
            other = None if held else lease.holder_of(app.engine, LEASE, datetime.now(timezone.utc))
            on_change(held, other)

    def loop() -> None:
        while not stopping.is_set():
            try:
                held = lease.take(app.engine, LEASE, holder, datetime.now(timezone.utc), lease_seconds)
            except Exception as exc:     # the database is away: hold nothing until it is back
                log.warning("scheduler lease: %s", type(exc).__name__)
                held = False
            running = state["scheduler"]
            if held and running is None:
                state["scheduler"] = build(app, actor, BackgroundScheduler, sweep_minutes, dispatch_seconds)
                state["scheduler"].start()
                log.info("scheduler: this process (%s) runs the jobs", holder)
            elif not held and running is not None:
                running.shutdown(wait=False)
                state["scheduler"] = None
                log.info("scheduler: lease lost, jobs stopped in %s", holder)
            try:
                told(held)
            except Exception as exc:
                log.warning("scheduler lease: %s", type(exc).__name__)
            stopping.wait(renew_seconds)

    thread = threading.Thread(target=loop, name="jingzhun-scheduler-lease", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=5)
        if state["scheduler"] is not None:
            state["scheduler"].shutdown(wait=False)
            state["scheduler"] = None
        try:
            lease.release(app.engine, LEASE, holder)
        except Exception:
            pass

    return stop
