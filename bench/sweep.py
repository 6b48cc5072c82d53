"""The overdue sweep over many open deadlines, few of them due.

For each size (open deadlines in the database; 10,000 of them due, the rest due later) it prints,
from one run on one SQLite file:

- the sweep's selection: the time the sweep spends selecting due deadlines (its indexed range
  scan of (status, next_alert_at), in batches of 1,000), and the same due rows read by one raw
  indexed SQL query through sqlite3 on the same file, and their ratio raw/ours, as bench/run.py
  gives it (target: the selection under 1 s);
- the whole sweep: selecting, writing 10,000 alerts and their 10,000 rendered messages to the
  outbox, moving each deadline to its next level, committing each batch;
- the sweep's peak Python memory (tracemalloc, a second run on the same due rows), which must not
  grow with the number of open deadlines.

    python bench/sweep.py [--sizes 100000 1000000] [--due 10000] [--keep DIR] [--pg] [--json]

--due is at most the smallest of --sizes; --keep DIR copies each home into DIR/home-<size> (DIR is
made if it does not exist, and must be empty if it does).

--pg runs on a new database of the PostgreSQL server of JINGZHUN_TEST_PG_URL (the raw query through
psycopg); --json prints one JSON object per figure (bench/run.py reads them).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import Raw, at_least, figure, pg_database, print_json, run_database, run_main  # noqa: E402
from engine.adapters.app import FixedClock  # noqa: E402
from engine.adapters.db import Settings  # noqa: E402
from engine.domain.deadline_rules import compiled  # noqa: E402
from engine.services.sweep import BATCH, sweep  # noqa: E402
from engine.services.org import NewPerson, add_persons, add_regions, authenticate  # noqa: E402
from entrypoints.bootstrap import init_home  # noqa: E402

VILLAGE, TOWNSHIP, COUNTY = "360730100201", "360730100000", "360730000000"
NOW = datetime(2019, 6, 1, 1, 0, tzinfo=timezone.utc)          # 09:00 in China
CASES = 1000
SELECT_TARGET_S = 1.0


PG = False       # --pg: the raw rows' times carry their zone


def _ts(value: datetime) -> str:
    """How SQLAlchemy stores a UTC time in SQLite (so the raw rows compare like the engine's); on
    PostgreSQL the same time with its zone."""
    return value.astimezone(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") + (
        "+00:00" if PG else "")


def populate(home: Path, n_open: int, n_due: int, db_url: str | None = None):
    clock = FixedClock(NOW)
    app, token = init_home(Settings.from_env(str(home), db_url), clock=clock)
    admin = authenticate(app, "admin", token)
    add_regions(app, admin, [("360000000000", "江西省"), ("360700000000", "赣州市"), (COUNTY, "宁都县"),
                             (TOWNSHIP, "梅江镇"), (VILLAGE, "洋塘村")])
    add_persons(app, admin, [
        NewPerson("fs", "第一书记", (("first_secretary", VILLAGE),), False, (("file", "fs", "zh"),)),
        NewPerson("th", "镇长", (("township_head", TOWNSHIP),), False, (("file", "th", "zh"),)),
        NewPerson("cd", "扶贫办主任", (("county_office_director", COUNTY),), False, (("file", "cd", "zh"),)),
        NewPerson("insp", "纪委", (("inspector", COUNTY),), False, (("file", "insp", "zh"),))])
    rules = compiled(app.config)
    rule = rules.rules["assistance_plan"]
    raw = Raw(app.settings.db_url)
    owner = raw.run("SELECT id FROM persons WHERE code = 'fs'").fetchone()[0]
    stamp = _ts(NOW - timedelta(days=60))
    with transaction(raw):
        raw.many(
            "INSERT INTO cases (id, kind, region_code, title, stage, version, workflow_version, attrs, created_at, "
            "updated_at, event_count, pending_procedure, pending_step) VALUES (?, 'household', ?, ?, 'identified', 1, "
            "1, '{}', ?, ?, 0, 'assistance', 'pairing')",
            ((i, VILLAGE, f"户主{i}", stamp, stamp) for i in range(1, CASES + 1)))
    # One schedule per start day: the due ones started 31 days ago (due yesterday: level 0 falls due
    # this morning), the others later, up to a year ahead.
    schedules = {}

    def schedule_for(start: date):
        if start not in schedules:
            s = rules.schedule(rule, "param:assistance_plan_due_days", start, "36")
            schedules[start] = (s, json.dumps(s.ladder, ensure_ascii=False))
        return schedules[start]

    def rows():
        for i in range(n_open):
            due = i < n_due
            start = (NOW.date() - timedelta(days=31)) if due else (NOW.date() - timedelta(days=20 - i % 365))
            s, ladder = schedule_for(start)
            level = 0 if due else -1
            at = next(e["at"] for e in s.ladder if e["level"] == level)
            yield (1 + i % CASES, str(i), "assistance_plan", "stage", VILLAGE, owner, "first_secretary",
                   "param:assistance_plan_due_days", start.isoformat(), s.due_on.isoformat(), _ts(s.due_at), "calendar",
                   bool(s.provisional), ladder, level, _ts(datetime.fromisoformat(at)), "open", stamp,
                   app.policy_version)

    sql = ("INSERT INTO deadlines (case_id, subject, rule, type, region_code, owner_id, owner_role, basis, start_on, "
           "due_on, due_at, counting, provisional, ladder, next_level, next_alert_at, status, created_at, "
           "rules_version) VALUES (" + ", ".join("?" * 19) + ")")
    it = rows()
    while True:
        chunk = [r for _, r in zip(range(50_000), it)]
        if not chunk:
            break
        with transaction(raw):
            raw.many(sql, chunk)
    raw.run("ANALYZE")
    return app, raw


@contextmanager
def transaction(raw: Raw):
    raw.run("BEGIN")
    yield
    raw.run("COMMIT")


def reset(raw: Raw, n_due: int) -> None:
    """Put the due deadlines back as they were, and forget their alerts, for a second sweep."""
    with transaction(raw):
        raw.run("DELETE FROM outbox")
        raw.run("DELETE FROM alerts")
        for row_id, ladder in raw.run("SELECT id, ladder FROM deadlines WHERE next_level >= 1").fetchall():
            ladder = json.loads(ladder) if isinstance(ladder, str) else ladder
            at = next(e["at"] for e in ladder if e["level"] == 0)
            raw.run("UPDATE deadlines SET next_level = 0, next_alert_at = ? WHERE id = ?",
                        (_ts(datetime.fromisoformat(at)), row_id))


def measure(n_open: int, n_due: int, keep: Path | None, pg: bool = False) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="jz-sweep-"))
    home, name = folder / "home", run_database(f"sweep_{n_open}")
    try:
        t0 = time.perf_counter()
        app, raw = populate(home, n_open, n_due, pg_database(name) if pg else None)
        built = time.perf_counter() - t0
        # The raw indexed query for the same due rows, on the same file, in the same run (warm cache).
        query = ("SELECT * FROM deadlines WHERE status = 'open' AND next_alert_at <= ? ORDER BY next_alert_at")
        raw.run(query, (_ts(NOW),)).fetchall()
        t0 = time.perf_counter()
        due_rows = raw.run(query, (_ts(NOW),)).fetchall()
        raw_s = time.perf_counter() - t0
        explain = "EXPLAIN " if pg else "EXPLAIN QUERY PLAN "
        plan = " | ".join(r[-1].strip() for r in raw.run(explain + query, (_ts(NOW),)))
        timings: dict = {}
        t0 = time.perf_counter()
        result = sweep(app, now=NOW, timings=timings)
        sweep_s = time.perf_counter() - t0
        assert len(due_rows) == n_due and result.alerts == n_due, (len(due_rows), result.as_dict())
        reset(raw, n_due)
        tracemalloc.start()
        again = sweep(app, now=NOW)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert again.alerts == n_due
        app.close()
        raw.close()
        return {"open": n_open, "due": n_due, "build_s": round(built, 1), "raw_select_s": round(raw_s, 4),
                "sweep_select_s": round(timings["select"], 4), "ratio": round(raw_s / timings["select"], 3),
                "sweep_s": round(sweep_s, 2), "alerts": result.alerts, "messages": result.messages,
                "batches": result.batches, "peak_mib": round(peak / 2 ** 20, 1), "plan": plan}
    finally:
        if keep:
            shutil.copytree(home, keep / f"home-{n_open}", dirs_exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        if pg:
            pg_database(name, drop=True)


def figures(r: dict, backend: str) -> list[dict]:
    """The selection beside the raw indexed query (target: under 1 s), and the whole sweep."""
    return [figure(f"sweep: select {r['due']:,} due", backend, r["open"], r["sweep_select_s"], r["raw_select_s"],
                   None, r["peak_mib"], target_s=SELECT_TARGET_S),
            figure(f"sweep: {r['alerts']:,} alerts + messages", backend, r["open"], r["sweep_s"], None, None,
                   r["peak_mib"])]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The options; more due deadlines than open ones, or a --keep folder that is not empty, refused."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=at_least(1), nargs="+", default=[100_000, 1_000_000],
                        help="Open deadlines, one run each.")
    parser.add_argument("--due", type=at_least(1), default=10_000, help="Of them due (at most the smallest size).")
    parser.add_argument("--keep", type=Path, help="Keep each data home under this folder (new or empty).")
    parser.add_argument("--pg", action="store_true", help="On PostgreSQL (JINGZHUN_TEST_PG_URL).")
    parser.add_argument("--json", action="store_true", help="One JSON object per figure.")
    args = parser.parse_args(argv)
    if args.due > min(args.sizes):
        parser.error(f"--due {args.due:,} is more than --sizes {min(args.sizes):,}: the due deadlines are among "
                     "the open ones")
    if args.keep and not args.keep.parent.is_dir():
        parser.error(f"--keep {args.keep}: its folder {args.keep.parent} does not exist")
    if args.keep and args.keep.exists() and (not args.keep.is_dir() or any(args.keep.iterdir())):
        parser.error(f"--keep {args.keep}: a new or empty folder is needed (the homes are copied into it)")
    return args


def main() -> None:
    args = arguments()
    global PG
    PG = args.pg
    results = [measure(n, args.due, args.keep, args.pg) for n in args.sizes]
    if args.json:
        print_json(f for r in results for f in figures(r, "postgresql" if args.pg else "sqlite"))
        return
    print(f"sweep over open deadlines, {args.due:,} due, batches of {BATCH:,} "
          f"({'PostgreSQL' if args.pg else 'SQLite, synchronous=FULL'})")
    print(f"{'open':>10} {'raw select':>11} {'sweep select':>13} {'raw/ours':>8} {'whole sweep':>12} "
          f"{'alerts':>7} {'messages':>9} {'peak MiB':>9}")
    for r in results:
        print(f"{r['open']:>10,} {r['raw_select_s']:>10.3f}s {r['sweep_select_s']:>12.3f}s {r['ratio']:>8.3f} "
              f"{r['sweep_s']:>11.2f}s {r['alerts']:>7,} {r['messages']:>9,} {r['peak_mib']:>9.1f}")
    print(f"query plan: {results[-1]['plan']}")


if __name__ == "__main__":
    run_main(main)
