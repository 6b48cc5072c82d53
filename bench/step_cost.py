"""Cost of one committed procedure step (with its audit event) as the database grows.

Prints, from one run: µs per committed step with 10,000 and with 100,000 cases in the database
(it must stay flat), and the ratio of a raw SQL `UPDATE + INSERT + COMMIT` loop on the same
database file to our step (target: at least 0.3), for two raw loops: one that updates the case
and inserts a real audit row (the same tables and indexes a step writes), and one that inserts
into a table without indexes (the cheapest possible).

    python bench/step_cost.py [--sizes 10000 100000] [--steps 1000]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.adapters.app import FixedClock  # noqa: E402
from engine.adapters.db import Settings  # noqa: E402
from engine.domain.evidence import content_hash  # noqa: E402
from engine.services.org import NewPerson, add_persons, add_regions, authenticate  # noqa: E402
from engine.domain.cases import StepInput  # noqa: E402
from engine.services.procedures import perform_step  # noqa: E402
from entrypoints.bootstrap import init_home  # noqa: E402
from tests.world import id_number  # noqa: E402

VILLAGE = "360730100201"


def distinct_id(i: int) -> str:
    """The i-th of many distinct valid ID numbers (one birth day per 1,000 people, from 1950)."""
    born = date(1950, 1, 1) + timedelta(days=i // 1000)
    return id_number(f"362131{born:%Y%m%d}{i % 1000:03d}")


def populate(home: Path, n_cases: int):
    clock = FixedClock(datetime(2019, 3, 1, 2, tzinfo=timezone.utc))
    app, token = init_home(Settings.from_env(str(home)), clock=clock)
    admin = authenticate(app, "admin", token)
    add_regions(app, admin, [("360000000000", "江西省"), ("360700000000", "赣州市"), ("360730000000", "宁都县"),
                             ("360730100000", "梅江镇"), (VILLAGE, "洋塘村")])
    tokens = add_persons(app, admin, [NewPerson("vs", "村支书", (("village_secretary", VILLAGE),))])
    actor = authenticate(app, "vs", tokens["vs"])
    now = clock.now().replace(tzinfo=None).isoformat(sep=" ")
    application = {"applicant": "x", "applied_on": "2019-02-01"}
    income = {"year": 2018, "net_income": 4000.0}
    raw = sqlite3.connect(str(home / "jingzhun.db"))
    with raw:
        raw.executemany(
            "INSERT INTO cases (id, kind, region_code, title, stage, version, workflow_version, attrs, created_at, "
            "updated_at, event_count, pending_procedure, pending_step) VALUES (?, 'household', ?, ?, 'candidate', 1, 1, "
            "'{}', ?, ?, 0, 'identification', 'application')",
            ((i, VILLAGE, f"户主{i}", now, now) for i in range(1, n_cases + 1)))
        raw.executemany(
            "INSERT INTO household_members (case_id, name, id_number, relation, labour_ability, health, "
            "school_enrolment, insured_basic, insured_critical, active) VALUES (?, ?, ?, 'head', 'normal', "
            "'healthy', 'none', 1, 1, 1)", ((i, f"户主{i}", distinct_id(i)) for i in range(1, n_cases + 1)))
        for etype, fields in (("application", application), ("income_check", income)):
            raw.executemany(
                "INSERT INTO evidence (case_id, type, fields, content_hash, attached_by, attached_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                ((i, etype, json.dumps(fields), content_hash(etype, fields, None), actor.person_id, now)
                 for i in range(1, n_cases + 1)))
    raw.close()
    return app, actor


def time_steps(app, actor, cases: list[int]) -> float:
    started = time.perf_counter()
    for case in cases:
        perform_step(app, actor, "identification", "application", [case], StepInput())
    return (time.perf_counter() - started) / len(cases) * 1e6


def time_raw(db: Path, cases: list[int], into: str) -> float:
    """A raw UPDATE of the case + INSERT + COMMIT per case, with sqlite3 alone.

    into="audit": the INSERT is a real audit event row (the table and indexes a step writes to);
    into="bare": into a table with no index at all (the cheapest INSERT there is).
    """
    conn = sqlite3.connect(str(db), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")   # the same durability as the application's connection
    conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, case_id INTEGER, payload TEXT)")
    payload = "x" * 400
    started = time.perf_counter()
    for case in cases:
        conn.execute("BEGIN")
        conn.execute("UPDATE cases SET version = version + 1, event_count = event_count + 1 WHERE id = ?", (case,))
        if into == "audit":
            conn.execute(
                "INSERT INTO audit_events (case_id, case_seq, at, person_id, person_code, person_name, action, "
                "evidence_hashes, detail, hash) VALUES (?, (SELECT event_count FROM cases WHERE id = ?) + 1000, "
                "'2019-03-01 02:00:00.000000', 1, 'bench', 'bench', 'raw', '[]', ?, ?)",
                (case, case, '{"payload": "%s"}' % payload, "0" * 64))
        else:
            conn.execute("INSERT INTO bench_raw (case_id, payload) VALUES (?, ?)", (case, payload))
        conn.execute("COMMIT")
    elapsed = (time.perf_counter() - started) / len(cases) * 1e6
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for size in args.sizes:
        home = Path(tempfile.mkdtemp(prefix=f"jz-bench-{size}-"))
        try:
            t0 = time.perf_counter()
            app, actor = populate(home, size)
            fill = time.perf_counter() - t0
            ours, raw_audit, raw_bare = [], [], []
            stride = size // (args.steps * args.rounds + 1)
            cases = list(range(1, size + 1, max(1, stride)))
            for r in range(args.rounds):   # interleaved, so drift hits all three equally
                chunk = cases[r * args.steps:(r + 1) * args.steps]
                ours.append(time_steps(app, actor, chunk))
                raw_audit.append(time_raw(home / "jingzhun.db", chunk, "audit"))
                raw_bare.append(time_raw(home / "jingzhun.db", chunk, "bare"))
            app.close()
            step_us = statistics.median(ours)
            audit_us, bare_us = statistics.median(raw_audit), statistics.median(raw_bare)
            results[size] = (step_us, audit_us)
            print(f"{size:>7} cases (filled in {fill:.1f} s): committed step {step_us:6.0f} µs | raw UPDATE case + "
                  f"INSERT audit row + COMMIT {audit_us:5.0f} µs, ratio {audit_us / step_us:.2f} | raw UPDATE + "
                  f"INSERT into an unindexed table + COMMIT {bare_us:5.0f} µs, ratio {bare_us / step_us:.2f}")
        finally:
            shutil.rmtree(home, ignore_errors=True)
    if len(results) > 1:
        small, large = min(results), max(results)
        print(f"flatness: step at {large:,} / step at {small:,} cases = {results[large][0] / results[small][0]:.2f}")


if __name__ == "__main__":
    main()
