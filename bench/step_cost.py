"""Cost of a committed procedure step, of a village list's step, and of the CLI's start-up.

Prints, from one run:
- µs per committed step (with its audit event) with 10,000 and with 100,000 cases in the database (it
  must stay flat), and the ratio of a raw SQL `UPDATE + INSERT + COMMIT` loop on the same database to
  our step (target: at least 0.3), for two raw loops: one that updates the case and inserts a real
  audit row (the same tables and indexes a step writes), and one that inserts into a table without
  indexes (the cheapest possible);
- a list step of 1,000 cases (`perform_list_step`, as the web's village list and `step --each` do it)
  against the same UPDATE + INSERT batched raw in one transaction (executemany; target at least 0.3);
- the CLI's start-up: the wall time of `jingzhun --help` and of a real read (`jingzhun case list`) in
  a subprocess, beside `python -c pass` and `python -c "import click"` (target: under 0.3 s).

    python bench/step_cost.py [--sizes 10000 100000] [--steps 1000] [--list 1000] [--json] [--pg]

--pg runs on a new database of the PostgreSQL server of JINGZHUN_TEST_PG_URL; --json prints one JSON
object per figure (bench/run.py reads them).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, make_url  # noqa: E402

from bench.figures import at_least, pg_database, run_database, run_main  # noqa: E402

from engine.adapters import tables as t  # noqa: E402
from engine.adapters.app import FixedClock  # noqa: E402
from engine.adapters.db import Settings  # noqa: E402
from engine.domain.cases import StepInput  # noqa: E402
from engine.domain.evidence import content_hash  # noqa: E402
from engine.services.list_steps import perform_list_step  # noqa: E402
from engine.services.accounts import activate_all
from engine.services.org import NewPerson, add_persons, add_regions, authenticate  # noqa: E402
from engine.services.procedures import perform_step  # noqa: E402
from entrypoints.bootstrap import init_home  # noqa: E402
from tests.world import id_number  # noqa: E402

VILLAGE = "360730100201"
FILLED_ON = datetime(2019, 3, 1, 2, tzinfo=timezone.utc)
CHUNK = 5_000
STEP_TARGET = LIST_TARGET = 0.3
START_TARGET_S = 0.3
JSON_KEYS = ("figure", "backend", "n", "ours_s", "raw_s", "ratio", "peak_mb", "target")
RAW_AUDIT = ("INSERT INTO audit_events (case_id, case_seq, at, person_id, person_code, person_name, action, "
             "evidence_hashes, detail, hash) VALUES (?, (SELECT event_count FROM cases WHERE id = ?) + 1000, "
             "'2019-03-01 02:00:00', 1, 'bench', 'bench', 'raw', '[]', ?, ?)")
RAW_UPDATE = "UPDATE cases SET version = version + 1, event_count = event_count + 1 WHERE id = ?"
PAYLOAD = '{"payload": "%s"}' % ("x" * 400)


@dataclass
class Home:
    """A filled database: the App, the village secretary (and the token the CLI signs in with)."""
    settings: Settings
    app: Any
    actor: Any
    token: str
    backend: str


def distinct_id(i: int) -> str:
    """The i-th of many distinct valid ID numbers (one birth day per 1,000 people, from 1950)."""
    born = date(1950, 1, 1) + timedelta(days=i // 1000)
    return id_number(f"362131{born:%Y%m%d}{i % 1000:03d}")


def populate(settings: Settings, n_cases: int, backend: str) -> Home:
    app, token = init_home(settings, clock=FixedClock(FILLED_ON))
    admin = authenticate(app, "admin", token)
    add_regions(app, admin, [("360000000000", "江西省"), ("360700000000", "赣州市"), ("360730000000", "宁都县"),
                             ("360730100000", "梅江镇"), (VILLAGE, "洋塘村")])
    # the village's secretary applies; its director appraises, its first secretary posts the notice (a
    # step must leave someone for each step to come)
    tokens = activate_all(app, add_persons(app, admin, [NewPerson("vs", "村支书", (("village_secretary", VILLAGE),)),
                                                        NewPerson("vd", "村主任", (("village_director", VILLAGE),)),
                                                        NewPerson("fs", "第一书记", (("first_secretary", VILLAGE),))]))
    actor = authenticate(app, "vs", tokens["vs"])
    for start in range(0, n_cases, CHUNK):
        fill_chunk(app, actor.person_id, range(start + 1, min(start + CHUNK, n_cases) + 1))
    return Home(settings, app, actor, tokens["vs"], backend)


def fill_chunk(app, by: int, numbers: range) -> None:
    """Households waiting for their application step, with their application and 2018 income check."""
    kinds = (("application", {"applicant": "x", "applied_on": "2019-02-01"}),
             ("income_check", {"year": 2018, "net_income": 4000.0}))
    with app.engine.begin() as conn:
        ids = conn.execute(insert(t.cases).returning(t.cases.c.id, sort_by_parameter_order=True), [dict(
            kind="household", region_code=VILLAGE, title=f"户主{i}", stage="candidate", version=1,
            workflow_version=1, attrs={"causes": ["illness"]}, created_at=FILLED_ON, updated_at=FILLED_ON, event_count=0,
            pending_procedure="identification", pending_step="application") for i in numbers]).scalars().all()
        conn.execute(insert(t.household_members), [dict(
            case_id=c, name=f"户主{i}", id_number=distinct_id(i), relation="head", labour_ability="normal",
            health="healthy", school_enrolment="none", insured_basic=True, insured_critical=True, active=True)
            for c, i in zip(ids, numbers)])
        conn.execute(insert(t.evidence), [dict(
            case_id=c, type=k, fields=f, content_hash=content_hash(k, f, None), attached_by=by,
            attached_at=FILLED_ON) for c in ids for k, f in kinds])


# --- raw loops: the database driver alone ------------------------------------------------------------
class Raw:
    """A driver connection in autocommit mode with explicit BEGIN/COMMIT (sqlite3 or psycopg)."""

    def __init__(self, settings: Settings, backend: str):
        self.pg = backend == "postgresql"
        if self.pg:
            import psycopg
            url = make_url(settings.db_url).set(drivername="postgresql")
            self.conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
        else:
            import sqlite3
            self.conn = sqlite3.connect(make_url(settings.db_url).database, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")   # the same durability as the application's connection
        key = "bigserial PRIMARY KEY" if self.pg else "INTEGER PRIMARY KEY"
        self.run(f"CREATE TABLE IF NOT EXISTS bench_raw (id {key}, case_id INTEGER, payload TEXT)")

    def run(self, sql: str, params: Any = ()) -> None:
        self.conn.execute(sql.replace("?", "%s") if self.pg else sql, params)

    def many(self, sql: str, rows: list) -> None:
        if self.pg:
            self.conn.cursor().executemany(sql.replace("?", "%s"), rows)
        else:
            self.conn.executemany(sql, rows)

    def loop(self, cases: list[int], into: str) -> float:
        """µs per case of a raw UPDATE of the case + INSERT + COMMIT, one transaction per case.

        into="audit": the INSERT is a real audit event row (the table and indexes a step writes to);
        into="bare": into a table with no index at all (the cheapest INSERT there is)."""
        started = time.perf_counter()
        for case in cases:
            self.run("BEGIN")
            self.run(RAW_UPDATE, (case,))
            if into == "audit":
                self.run(RAW_AUDIT, (case, case, PAYLOAD, "0" * 64))
            else:
                self.run("INSERT INTO bench_raw (case_id, payload) VALUES (?, ?)", (case, PAYLOAD))
            self.run("COMMIT")
        return (time.perf_counter() - started) / len(cases) * 1e6

    def batched(self, cases: list[int]) -> float:
        """Seconds for the same UPDATE + audit INSERT of every case in one transaction (executemany)."""
        started = time.perf_counter()
        self.run("BEGIN")
        self.many(RAW_UPDATE, [(c,) for c in cases])
        self.many(RAW_AUDIT, [(c, c, PAYLOAD, "1" * 64) for c in cases])
        self.run("COMMIT")
        return time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()


# --- ours ----------------------------------------------------------------------------------------------
def time_steps(home: Home, cases: list[int]) -> float:
    started = time.perf_counter()
    for case in cases:
        perform_step(home.app, home.actor, "identification", "application", [case], StepInput())
    return (time.perf_counter() - started) / len(cases) * 1e6


def time_list(home: Home, cases: list[int]) -> float:
    started = time.perf_counter()
    result = perform_list_step(home.app, home.actor, "identification", "application", cases)
    took = time.perf_counter() - started
    if result.refused:
        raise SystemExit(f"the list step refused {len(result.refused)} cases: {next(iter(result.refused.items()))}")
    return took


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def figure(name: str, backend: str, n: int, ours: float, raw: float, target: float | None) -> dict:
    return {"figure": name, "backend": backend, "n": n, "ours_s": round(ours, 6), "raw_s": round(raw, 6),
            "ratio": round(raw / ours, 3), "peak_mb": peak_mb(), "target": target}


def measure_size(home: Home, size: int, args) -> list[dict]:
    """Single steps and list steps, rounds interleaved with their raw loops (drift hits all equally)."""
    stride = max(1, size // (args.steps * args.rounds + 1))
    cases = list(range(1, size + 1, stride))[:args.steps * args.rounds]
    chosen = set(cases)
    listed = [c for c in range(size, 0, -1) if c not in chosen][:args.list * args.rounds]
    if len(listed) < args.list * args.rounds:
        raise SystemExit(f"--sizes {size}: too few cases for {args.rounds} rounds of steps and lists")
    raw = Raw(home.settings, home.backend)
    ours, audit, bare, lists, batched = [], [], [], [], []
    try:
        for r in range(args.rounds):
            chunk, batch = cases[r * args.steps:(r + 1) * args.steps], listed[r * args.list:(r + 1) * args.list]
            ours.append(time_steps(home, chunk))
            audit.append(raw.loop(chunk, "audit"))
            bare.append(raw.loop(chunk, "bare"))
            lists.append(time_list(home, batch))
            batched.append(raw.batched(batch))
    finally:
        raw.close()
    step_us, audit_us, bare_us = (statistics.median(v) for v in (ours, audit, bare))
    list_s, batched_s = statistics.median(lists), statistics.median(batched)
    return [dict(figure("committed step", home.backend, size, step_us / 1e6, audit_us / 1e6,
                        STEP_TARGET), bare_s=round(bare_us / 1e6, 6)),
            figure(f"list step of {args.list}", home.backend, size, list_s, batched_s, LIST_TARGET)]


# --- the CLI's start-up ----------------------------------------------------------------------------------
# Runs its arguments as a command and prints the wall time and the command's own peak RSS: this small
# launcher forks, so the peak is not that of a copy of the bench's process.
LAUNCHER = ("import resource, subprocess, sys, time; began = time.perf_counter(); "
            "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
            "print(time.perf_counter() - began, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)")


def wall(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall time of `argv` in a subprocess (which must succeed), and its peak RSS in MB."""
    times, peaks = [], []
    for _ in range(runs):
        took, peak, code = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], env=env, check=True,
                                          capture_output=True, text=True).stdout.split()
        if code != "0":
            raise SystemExit(f"{' '.join(argv)}: exit {code}")
        times.append(float(took))
        peaks.append(int(peak) / 1024)
    return statistics.median(times), round(max(peaks), 1)


def jingzhun_command() -> list[str]:
    script = Path(sys.executable).parent / "jingzhun"
    return [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from cli import main; "
                                                                         "sys.exit(main())"]


def measure_start(home: Home, runs: int) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    env.update(JINGZHUN_TOKEN=home.token, PYTHONDONTWRITEBYTECODE="")
    if home.backend == "postgresql":
        env["JINGZHUN_DB"] = home.settings.db_url
    py = [sys.executable]
    bare, click = wall(py + ["-c", "pass"], env, runs)[0], wall(py + ["-c", "import click"], env, runs)[0]
    jz = jingzhun_command()
    listing = ["--as", "vs", "case", "list", "--limit", "20"]
    found = []
    with served(home.settings) as base:
        for name, argv in (("CLI start-up", ["--help"]),
                           ("CLI start-up, case list", ["--home", str(home.settings.home), *listing]),
                           ("CLI start-up, case list via server", ["--server", base, *listing])):
            took, peak = wall(jz + argv, env, runs)
            found.append(dict(figure(name, home.backend, 0, took, click, None), peak_mb=peak,
                              python_s=round(bare, 4), target_s=START_TARGET_S))
    return found


@contextmanager
def served(settings: Settings, replay_from: str | None = None) -> Iterator[str]:
    """`jingzhun serve` over the home on a loopback port, for as long as the block runs; its URL."""
    with served_process(settings, replay_from) as (base, _server):
        yield base


@contextmanager
def served_process(settings: Settings, replay_from: str | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """The same, with the server's process (its pid: its memory)."""
    port = free_port()
    server = serve(settings, port, replay_from)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base, server)
        yield base, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(settings: Settings, port: int, replay_from: str | None = None) -> subprocess.Popen:
    """`jingzhun serve` over the home in its own process (no scheduler); `replay_from`: its clock's start."""
    env = {**os.environ, "JINGZHUN_DB": settings.db_url}
    if replay_from:
        env["JINGZHUN_REPLAY_FROM"] = replay_from
    for name in ("JINGZHUN_DB_FILE", "JINGZHUN_SERVER"):     # a server of its own, over this home
        env.pop(name, None)
    root = Path(__file__).resolve().parents[1]
    return subprocess.Popen([sys.executable, str(root / "cli.py"), "--home", str(settings.home), "serve", "--port",
                             str(port), "--no-scheduler"], cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def wait_for(base: str, server: subprocess.Popen) -> None:
    import httpx
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit(f"the server stopped: {server.stderr.read()[-2000:]}")
        try:
            if httpx.get(base + "/static/app.css", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not answer in 60 s")


# --- a database per size -------------------------------------------------------------------------------
def run_size(size: int, args, first: bool) -> tuple[list[dict], float]:
    folder = Path(tempfile.mkdtemp(prefix=f"jz-bench-step-{size}-"))
    name = run_database(f"step_{size}")
    backend = "postgresql" if args.pg else "sqlite"
    try:
        began = time.perf_counter()
        home = populate(Settings.from_env(str(folder / "home"), pg_database(name) if args.pg else None), size, backend)
        filled = time.perf_counter() - began
        try:
            found = measure_size(home, size, args)
            if first and not args.no_cli:
                found += measure_start(home, args.cli_runs)
        finally:
            home.app.close()
        return found, filled
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if args.pg:
            pg_database(name, drop=True)


def print_human(size: int, filled: float, found: list[dict]) -> None:
    step, listed = found[0], found[1]
    print(f"{size:>7} cases (filled in {filled:.1f} s, {step['backend']}): "
          f"committed step {step['ours_s'] * 1e6:6.0f} µs"
          f" | raw UPDATE case + INSERT audit row + COMMIT {step['raw_s'] * 1e6:5.0f} µs, ratio {step['ratio']:.2f}"
          f" | raw UPDATE + INSERT into an unindexed table + COMMIT {step['bare_s'] * 1e6:5.0f} µs, ratio "
          f"{step['bare_s'] / step['ours_s']:.2f}")
    print(f"{'':>7} list step of {listed['figure'].rsplit(' ', 1)[-1]} cases {listed['ours_s'] * 1000:6.0f} ms | raw "
          f"batched UPDATE + INSERT (executemany, one transaction) {listed['raw_s'] * 1000:5.0f} ms, ratio "
          f"{listed['ratio']:.2f} (target {LIST_TARGET})")
    for start in found[2:]:
        what = {"CLI start-up": "jingzhun --help", "CLI start-up, case list": "jingzhun case list --limit 20"}.get(
            start["figure"], "jingzhun --server URL case list --limit 20")
        print(f"CLI start-up: {what:<42} {start['ours_s'] * 1000:5.0f} ms (target {START_TARGET_S * 1000:.0f}) | "
              f"python -c pass {start['python_s'] * 1000:4.0f} ms | python -c \"import click\" "
              f"{start['raw_s'] * 1000:4.0f} ms | peak {start['peak_mb']} MB")


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The options; a size too small for its rounds of steps and lists is refused."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=at_least(1), nargs="+", default=[10_000, 100_000],
                        help="Cases in the database, one run each; at least (steps + list) × rounds.")
    parser.add_argument("--steps", type=at_least(1), default=1000, help="Committed steps a round.")
    parser.add_argument("--list", type=at_least(1), default=1000, help="Cases in a list step.")
    parser.add_argument("--rounds", type=at_least(1), default=3)
    parser.add_argument("--cli-runs", type=at_least(1), default=5, help="Runs of each CLI command (the median counts).")
    parser.add_argument("--no-cli", action="store_true", help="Leave out the CLI's start-up.")
    parser.add_argument("--json", action="store_true", help="One JSON object per figure.")
    parser.add_argument("--pg", action="store_true", help="On PostgreSQL (JINGZHUN_TEST_PG_URL).")
    args = parser.parse_args(argv)
    needed = (args.steps + args.list) * args.rounds
    if min(args.sizes) < needed:
        parser.error(f"--sizes {min(args.sizes):,}: too few cases for {args.rounds} rounds of {args.steps:,} steps "
                     f"and a list of {args.list:,}: at least {needed:,} (or lower --steps, --list or --rounds)")
    return args


def main() -> None:
    args = arguments()
    steps = {}
    for i, size in enumerate(args.sizes):
        found, filled = run_size(size, args, i == 0)
        steps[size] = found[0]["ours_s"]
        if args.json:     # the shared format's keys only (the human table shows the others)
            for f in found:
                print(json.dumps({k: f[k] for k in JSON_KEYS + ("target_s",) if k in f}, ensure_ascii=False))
        else:
            print_human(size, filled, found)
    if len(steps) > 1 and not args.json:
        small, large = min(steps), max(steps)
        print(f"flatness: step at {large:,} / step at {small:,} cases = {steps[large] / steps[small]:.2f}")


if __name__ == "__main__":
    run_main(main)
