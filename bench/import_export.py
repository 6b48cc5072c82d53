"""Import and export of a registry against raw SQL in the same run (issue 12's benchmark, first part).

Writes a CSV of N households (3 members each, valid ID numbers, the national system's Chinese
headers), then times, on a fresh SQLite data home:
  - `jingzhun household import` (in process: read, check every row, register all in one transaction)
    against a raw `executemany` of the same member rows into a table of the same shape;
  - `jingzhun export members --csv` against a raw `SELECT` of the same rows written with csv;
and prints members per second, the ratio of each to its raw baseline, and the peak resident memory.

    python bench/import_export.py [--households 10000]
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.step_cost import VILLAGE, distinct_id, populate  # noqa: E402

HEADERS = ("户编号", "姓名", "身份证号", "与户主关系", "健康状况", "致贫原因")


def write_list(path: Path, households: int) -> int:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for h in range(households):
            for m, relation in enumerate(("户主", "配偶", "子女")):
                writer.writerow((h, f"成员{h}-{m}", distinct_id(1_000_000 + 3 * h + m), relation, "健康",
                                 "因病" if m == 0 else ""))
    return households * 3


def time_import(home: Path, path: Path) -> float:
    from entrypoints.cli.main import main
    os.environ["JINGZHUN_TOKEN"] = (home / "token").read_text()
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):    # one line per household
        code = main(["--home", str(home), "--as", "vs", "household", "import", str(path), "--village", VILLAGE])
    if code != 0:
        raise SystemExit(f"import failed: exit {code}")
    return time.perf_counter() - started


def time_raw_insert(path: Path) -> float:
    conn = sqlite3.connect(str(path.parent / "raw.db"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, case_id INTEGER, name TEXT, id_number TEXT UNIQUE, "
                 "relation TEXT, health TEXT)")
    started = time.perf_counter()
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = csv.reader(fh)
        next(rows)
        with conn:
            conn.executemany("INSERT INTO m (case_id, name, id_number, relation, health) VALUES (?, ?, ?, ?, ?)",
                             ((int(r[0]), r[1], r[2], r[3], r[4]) for r in rows))
    took = time.perf_counter() - started
    conn.close()
    return took


def time_export(home: Path, out: Path) -> float:
    from entrypoints.cli.main import main
    started = time.perf_counter()
    if main(["--home", str(home), "--as", "vs", "export", "members", "--csv", str(out)]) != 0:
        raise SystemExit("export failed")
    return time.perf_counter() - started


def time_raw_export(home: Path, out: Path) -> float:
    conn = sqlite3.connect(str(home / "jingzhun.db"))
    started = time.perf_counter()
    with open(out, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(conn.execute("SELECT case_id, name, id_number, relation, labour_ability, health, "
                                              "school_enrolment FROM household_members ORDER BY id"))
    took = time.perf_counter() - started
    conn.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jz-bench-import-"))
    home = work / "home"
    app, _actor = populate(home, 0)
    app.close()
    (home / "token").write_text(_token_of(home))     # the village secretary imports and exports
    listing = work / "名单.csv"
    members = write_list(listing, args.households)
    raw_in = time_raw_insert(listing)
    ours_in = time_import(home, listing)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    raw_out = time_raw_export(home, work / "raw.csv")
    ours_out = time_export(home, work / "成员.csv")
    print(f"{args.households:,} households, {members:,} members (SQLite, synchronous=FULL)")
    print(f"{'':32}{'ours s':>9}{'raw s':>9}{'members/s':>12}{'raw/ours':>10}")
    print(f"{'import (check + register)':32}{ours_in:9.2f}{raw_in:9.2f}{members / ours_in:12,.0f}{raw_in / ours_in:10.2f}")
    print(f"{'export members to CSV':32}{ours_out:9.2f}{raw_out:9.2f}{members / ours_out:12,.0f}{raw_out / ours_out:10.2f}")
    print(f"peak resident memory: {rss_mb:,.0f} MB")


def _token_of(home: Path) -> str:
    from sqlalchemy import select

    from engine.adapters import tables as t
    from engine.adapters.db import Settings
    from engine.services.org import load_actor, reset_token
    from entrypoints.bootstrap import make_app
    app = make_app(Settings.from_env(str(home)))
    with app.engine.connect() as conn:
        admin = load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == "admin")).first())
    token = reset_token(app, admin, "vs")
    app.close()
    return token


if __name__ == "__main__":
    main()
