"""What the bench scripts share: a figure as bench/run.py reads it, a fresh PostgreSQL database, a data
home with a county's regions, a child process whose time and peak memory are measured, a raw driver
connection to the same database, options' minimums and an exit on SIGTERM/SIGHUP that cleans up.

A module, not a script: the scripts beside it import it."""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parents[1]
PROVINCE, CITY, COUNTY = "360000000000", "360700000000", "360730000000"
FILLED_ON = datetime(2019, 3, 1, 2, tzinfo=timezone.utc)
VILLAGES_PER_TOWNSHIP = 20


def township(n: int) -> str:
    """The n-th township of the county."""
    return f"{COUNTY[:6]}{100 + n:03d}000"


def village(n: int) -> str:
    """The n-th village of the county (20 a township)."""
    return township(n // VILLAGES_PER_TOWNSHIP)[:9] + f"{200 + n % VILLAGES_PER_TOWNSHIP:03d}"


def county_regions(villages: int) -> list[tuple[str, str]]:
    """The townships and villages of a county of `villages` villages, as add_regions takes them."""
    towns = [(township(n), f"镇{n}") for n in range(-(-villages // VILLAGES_PER_TOWNSHIP))]
    return towns + [(village(n), f"村{n}") for n in range(villages)]


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number no smaller than `minimum` (a usage error otherwise)."""
    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value:,} is too small: at least {minimum:,}")
        return value
    whole.__name__ = f"whole number ≥ {minimum}"
    return whole


STOPPED: list[int] = []      # the signals that asked this process to stop, as they came


def stop_on_signals() -> None:
    """SIGTERM (a CI timeout, kill) and SIGHUP (a closed terminal or dropped SSH) end this process as
    Ctrl-C does, by KeyboardInterrupt (its args: the signal), through its finally-blocks, which remove its
    folder and database. A worker process forked from it keeps the signals' default. Each signal is also
    noted in STOPPED: one that lands inside a library's own handling may come out as another exception, or
    be dropped where it lands in a finalizer (sent again then, from another thread)."""
    owner = os.getpid()

    def stop(signum, _frame):
        if os.getpid() != owner:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        STOPPED.append(signum)
        raise KeyboardInterrupt(signum)

    def swallowed(unraisable):
        # raised inside a finalizer or weakref callback (SQLAlchemy's event registry has them), Python prints
        # and drops it; sent again a moment later from another thread (from here it would land in this hook)
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and os.getpid() == owner:
            threading.Timer(0.02, os.kill, (owner, STOPPED[-1] if STOPPED else signal.SIGINT)).start()
            return
        default_hook(unraisable)

    default_hook = sys.unraisablehook
    sys.unraisablehook = swallowed
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)


def run_main(main: Callable[[], Any]) -> None:
    """Run a script's main, stopped by SIGTERM and SIGHUP as by Ctrl-C; an interrupted run says so and
    exits 128 + the signal's number (130 for Ctrl-C) without a traceback, its folder and database removed
    (also when the interruption came out of a library as another error)."""
    stop_on_signals()
    stopped = False
    try:
        main()
    except BaseException as ended:
        if not STOPPED and not isinstance(ended, KeyboardInterrupt):
            raise
        stopped = True
    if stopped or STOPPED:      # STOPPED alone: dropped wherever it landed, and the run ran to its end
        signum = STOPPED[0] if STOPPED else signal.SIGINT
        print(f"{Path(sys.argv[0]).name}: stopped by {signal.Signals(signum).name}; the folders and databases "
              "this run made are removed", file=sys.stderr)
        sys.exit(128 + signum)


def pg_database(name: str, drop: bool = False) -> str:
    """The database `name` made anew (or dropped) on the server of JINGZHUN_TEST_PG_URL; a server that
    does not answer is one line that says so."""
    base = os.environ.get("JINGZHUN_TEST_PG_URL")
    if not base:
        raise SystemExit("--pg needs JINGZHUN_TEST_PG_URL (the URL of a PostgreSQL server to make databases on)")
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.pool import NullPool
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        url = make_url(base)
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise SystemExit(f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432} (JINGZHUN_TEST_PG_URL): "
                         f"{reason}") from None
    finally:
        admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def run_database(what: str) -> str:
    """A database name of this run's own, `jz_bench_<what>_<pid>`: two runs on one server never drop
    each other's database."""
    return f"jz_bench_{what}_{os.getpid()}"


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def figure(name: str, backend: str, n: int, ours: float, raw: float | None, target: float | None = None,
           peak: float | None = None, **extra: Any) -> dict[str, Any]:
    """One figure: ours beside the raw baseline (ratio raw/ours; a target is a ratio's lower bound).
    Other targets ride along: target_s (ours at most so many seconds), target_mb (peak at most)."""
    return {"figure": name, "backend": backend, "n": n, "ours_s": round(ours, 6),
            "raw_s": None if raw is None else round(raw, 6),
            "ratio": None if raw is None or not ours else round(raw / ours, 3),
            "peak_mb": peak_mb() if peak is None else round(peak, 1), "target": target, **extra}


def print_json(figures: Iterable[dict[str, Any]]) -> None:
    for f in figures:
        print(json.dumps(f, ensure_ascii=False), flush=True)


def backend_of(db_url: str | None) -> str:
    return "postgresql" if db_url and db_url.startswith("postgresql") else "sqlite"


def make_home(home: Path, db_url: str | None, regions: list[tuple[str, str]], persons: list) -> tuple[Any, dict]:
    """A new data home (SQLite in `home`, or the database `db_url`) with a county's regions under
    江西省/赣州市/宁都县 and `persons` (NewPerson); the App (clock at FILLED_ON) and the persons' tokens."""
    from engine.adapters.app import FixedClock
    from engine.adapters.db import Settings
    from engine.services.accounts import activate_all
    from engine.services.org import add_persons, add_regions, authenticate
    from entrypoints.bootstrap import init_home
    app, token = init_home(Settings.from_env(str(home), db_url), clock=FixedClock(FILLED_ON))
    admin = authenticate(app, "admin", token)
    add_regions(app, admin, [(PROVINCE, "江西省"), (CITY, "赣州市"), (COUNTY, "宁都县"), *regions])
    return app, activate_all(app, add_persons(app, admin, persons))


# The child: runs the CLI with its arguments, stdout silenced, and writes its wall time (from just
# before the command, lazy imports included), exit code, CPU seconds and peak resident memory to a
# JSON file.
CHILD = """import contextlib, json, os, resource, sys, time
began = time.perf_counter()
from entrypoints.cli.main import main
with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
    code = main(sys.argv[2:])
used = resource.getrusage(resource.RUSAGE_SELF)
peak_kb = used.ru_maxrss      # on Linux this counts the parent's size at the fork: VmHWM (this image's) if known
with contextlib.suppress(OSError):
    with open("/proc/self/status") as status:
        peak_kb = next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), peak_kb)
with open(sys.argv[1], "w") as out:
    json.dump({"s": time.perf_counter() - began, "code": code, "cpu_s": used.ru_utime + used.ru_stime,
               "peak_mb": peak_kb / 1024}, out)
"""


def run_cli(argv: list[str], token: str, db_url: str | None, result: Path) -> tuple[float, float, float]:
    """`jingzhun argv` in a child process: its seconds, peak resident memory in MB and CPU seconds (it
    must succeed). On a busy machine the CPU seconds tell the command's own cost."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    env.update(JINGZHUN_TOKEN=token, PYTHONPATH=str(ROOT))
    if db_url:
        env["JINGZHUN_DB"] = db_url
    done = subprocess.run([sys.executable, "-c", CHILD, str(result), *argv], env=env, cwd=ROOT,
                          stderr=subprocess.PIPE, text=True)
    found = json.loads(result.read_text()) if result.exists() else {"code": done.returncode}
    if done.returncode or found["code"]:
        raise SystemExit(f"jingzhun {' '.join(argv[:6])}…: exit {found['code']}\n{done.stderr[-2000:]}")
    return found["s"], found["peak_mb"], round(found["cpu_s"], 2)


class Raw:
    """The database driver alone on the same database (sqlite3, or psycopg), autocommit with explicit
    BEGIN/COMMIT; SQL is written with ? placeholders."""

    def __init__(self, db_url: str):
        from sqlalchemy import make_url
        url = make_url(db_url)
        self.pg = url.drivername.startswith("postgresql")
        if self.pg:
            import psycopg
            self.conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False),
                                        autocommit=True)
        else:
            import sqlite3
            self.conn = sqlite3.connect(url.database, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")   # the application's durability

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.pg else statement

    def run(self, statement: str, params: Any = ()) -> Any:
        return self.conn.execute(self.sql(statement), params)

    def many(self, statement: str, rows: Iterable) -> None:
        (self.conn.cursor() if self.pg else self.conn).executemany(self.sql(statement), rows)

    def stream(self, statement: str, params: Any = ()) -> Iterable[tuple]:
        """The rows of a SELECT, read a batch at a time (a server-side cursor on PostgreSQL)."""
        cursor = self.conn.cursor("bench") if self.pg else self.conn.cursor()
        if self.pg:
            self.run("BEGIN")
        cursor.execute(self.sql(statement), params)
        while batch := cursor.fetchmany(5000):
            yield from batch
        cursor.close()
        if self.pg:
            self.run("COMMIT")

    def close(self) -> None:
        self.conn.close()
