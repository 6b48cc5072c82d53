"""PostgreSQL at scale (issue 12): a county of N households (3 members each) filled, listed, and written
to by 8 processes at once against 1.

On a new database of the server of JINGZHUN_TEST_PG_URL, a county of villages of 100 households (20
villages a township) is filled, then, from one run:
  - listings, each beside the same rows read raw through psycopg: `case list` of a village (the
    village secretary's) and of a township (the township head's), the whole county (the county
    director's), "my work" (the village secretary's cases waiting for a step they may do) and the
    export of a township's members;
  - 8 concurrent writers vs 1: separate processes, each doing committed `perform_step` calls (the
    application step, with its evidence) on cases of its own villages; throughput in steps/s of
    8 writers against 1 (target: at least 3x).

The households are imported through the CLI (`household import FILE`, the county's registry in one
CSV file with a village column, by the county office director), timed; `--via bulk` fills them
instead with SQLAlchemy Core executemany of cases and members (as bench/step_cost.py fills), the
path this benchmark took before the streaming import landed. The writers' evidence (application and
income check) is written in bulk either way.

    python bench/pg_scale.py [--households 1000000] [--steps 300] [--writers 8] [--via cli|bulk] [--json]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402

from bench.figures import (COUNTY, FILLED_ON, VILLAGES_PER_TOWNSHIP, Raw, at_least, county_regions,  # noqa: E402
                           figure, make_home, pg_database, print_json, run_cli, run_database, run_main, township,
                           village)
from bench.import_export import write_csv  # noqa: E402
from bench.step_cost import distinct_id  # noqa: E402
from engine.adapters import tables as t  # noqa: E402
from engine.domain.evidence import content_hash  # noqa: E402
from engine.domain.regions import prefix  # noqa: E402

PER_VILLAGE, CHUNK = 100, 5000
WRITERS_TARGET = 3.0
EVIDENCE = (("application", {"applicant": "x", "applied_on": "2019-02-01"}),
            ("income_check", {"year": 2018, "net_income": 4000.0}))
CASE_COLUMNS = "id, kind, title, region_code, stage, version, pending_procedure, pending_step"


def prefix_range(code: str) -> tuple[str, str]:
    """The region codes within `code`, as a range (what case_lists.region_range asks)."""
    p = prefix(code)
    return p, p[:-1] + chr(ord(p[-1]) + 1)


class County:
    """The county's layout for N households, and who reads and writes it."""

    def __init__(self, households: int, steps: int, writers: int):
        self.households, self.villages = households, households // PER_VILLAGE
        self.townships = -(-self.villages // VILLAGES_PER_TOWNSHIP)
        self.per_writer = -(-(steps + 1) // PER_VILLAGE)    # villages each writer has (a case more: warm-up)
        self.steps, self.writers = steps, writers
        self.listed_township = self.townships - 1
        self.listed_village = self.listed_township * VILLAGES_PER_TOWNSHIP

    def too_small(self) -> str | None:
        """What is wrong with a county too small for its writers' villages and a township to list."""
        least = self.least(self.steps, self.writers)
        if self.households < least:
            return (f"--households {self.households:,}: too few for {self.writers + 1} writers' villages of "
                    f"{self.steps + 1} cases and a township to list: at least {least:,}")
        return None

    @staticmethod
    def least(steps: int, writers: int) -> int:
        """The fewest households a county of these writers needs: two townships, and whole villages for
        each writer (and the one alone) outside the township listed."""
        per_writer = -(-(steps + 1) // PER_VILLAGE)
        villages = max(VILLAGES_PER_TOWNSHIP + 1, (writers + 1) * per_writer + VILLAGES_PER_TOWNSHIP)
        return villages * PER_VILLAGE

    def writer_villages(self, w: int) -> list[int]:
        return list(range(w * self.per_writer, (w + 1) * self.per_writer))

    def persons(self) -> list:
        from engine.services.org import NewPerson
        lv = village(self.listed_village)
        # each village's director and first secretary too: its secretary's application must leave
        # someone for the appraisal and for the notice
        villages = [village(v) for w in range(self.writers + 1) for v in self.writer_villages(w)]
        found = [NewPerson("vs", "村支书", (("village_secretary", lv),)),
                 NewPerson("vd", "村主任", (("village_director", lv),)),
                 NewPerson("fs", "第一书记", (("first_secretary", lv),)),
                 NewPerson("wd", "各村主任", tuple(("village_director", v) for v in villages), False),
                 NewPerson("wf", "各村第一书记", tuple(("first_secretary", v) for v in villages), False),
                 NewPerson("th", "镇长", (("township_head", township(self.listed_township)),)),
                 NewPerson("cd", "扶贫办主任", (("county_office_director", COUNTY),))]
        return found + [NewPerson(f"w{w}", f"写者{w}", tuple(("village_secretary", village(v))
                                                           for v in self.writer_villages(w)), False)
                        for w in range(self.writers + 1)]


# --- filling -----------------------------------------------------------------------------------------------
def fill_bulk(app, county: County) -> float:
    started = time.perf_counter()
    for first in range(0, county.households, CHUNK):
        numbers = range(first, min(first + CHUNK, county.households))
        with app.engine.begin() as conn:
            ids = conn.execute(insert(t.cases).returning(t.cases.c.id, sort_by_parameter_order=True), [dict(
                kind="household", region_code=village(i // PER_VILLAGE), title=f"户主{i}", stage="candidate",
                version=1, workflow_version=1, attrs={"causes": ["illness"]}, created_at=FILLED_ON, updated_at=FILLED_ON, event_count=0,
                pending_procedure="identification", pending_step="application") for i in numbers]).scalars().all()
            conn.execute(insert(t.household_members), [dict(
                case_id=c, name=f"成员{i}-{m}", id_number=distinct_id(3 * i + m), relation=relation,
                labour_ability="normal", health="healthy", school_enrolment="none", insured_basic=True,
                insured_critical=True, active=True)
                for c, i in zip(ids, numbers) for m, relation in enumerate(("head", "spouse", "child"))])
    return time.perf_counter() - started


def fill_cli(app, county: County, token: str, work: Path) -> float:
    """The county's file imported through the CLI by the county office director (a village column)."""
    path = write_csv(work / "县名单.csv", county.households, PER_VILLAGE)
    took, _peak, _cpu = run_cli(["--home", str(app.settings.home), "--as", "cd", "household", "import", str(path)],
                          token, app.settings.db_url, work / "child.json")
    return took


def add_evidence(app, county: County) -> None:
    """The application and income check of every case of the writers' villages (their step needs them)."""
    codes = [village(v) for w in range(county.writers + 1) for v in county.writer_villages(w)]
    with app.engine.begin() as conn:
        by = conn.execute(select(t.persons.c.id).where(t.persons.c.code == "w0")).scalar()
        ids = conn.execute(select(t.cases.c.id).where(t.cases.c.region_code.in_(codes))).scalars().all()
        conn.execute(insert(t.evidence), [
            dict(case_id=c, type=k, fields=f, content_hash=content_hash(k, f, None), attached_by=by,
                 attached_at=FILLED_ON) for c in ids for k, f in EVIDENCE])


# --- listing -----------------------------------------------------------------------------------------------
def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def listings(app, county: County) -> list[dict]:
    from engine.reads import case_lists, exports
    from engine.services.org import load_actor
    with app.engine.connect() as conn:
        who = {c: load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == c)).first())
               for c in ("vs", "th", "cd")}
    lt, lv = township(county.listed_township), village(county.listed_village)
    (tlo, thi), (vlo, vhi) = prefix_range(lt), prefix_range(lv)
    where = "FROM cases WHERE region_code >= ? AND region_code < ? ORDER BY id"
    waiting = ("FROM cases WHERE region_code >= ? AND region_code < ? AND pending_procedure = 'identification' "
               "AND pending_step = 'application' AND NOT EXISTS (SELECT 1 FROM steps WHERE steps.procedure_id = "
               "cases.open_procedure_id AND steps.person_id = ? AND steps.voided_at IS NULL) ORDER BY id")
    members = ("SELECT m.case_id, m.name, m.id_number, m.relation, m.labour_ability, m.health, m.school_enrolment "
               "FROM household_members m JOIN cases c ON c.id = m.case_id WHERE c.region_code >= ? "
               "AND c.region_code < ? ORDER BY m.id")
    cases = [
        ("case list: a village", PER_VILLAGE, lambda: list(case_lists.list_cases(app, who["vs"])),
         f"SELECT {CASE_COLUMNS} {where}", (vlo, vhi)),
        ("case list: a township", PER_VILLAGE * VILLAGES_PER_TOWNSHIP,
         lambda: list(case_lists.list_cases(app, who["th"], region=lt)), f"SELECT {CASE_COLUMNS} {where}", (tlo, thi)),
        ("case list: the county", county.households, lambda: sum(1 for _ in case_lists.list_cases(app, who["cd"])),
         f"SELECT {CASE_COLUMNS} {where}", prefix_range(COUNTY)),
        ("my work: waiting for me", PER_VILLAGE, lambda: list(case_lists.list_cases(app, who["vs"], waiting_for_me=True)),
         f"SELECT {CASE_COLUMNS} {waiting}", (vlo, vhi, who["vs"].person_id)),
        ("export: a township's members", PER_VILLAGE * VILLAGES_PER_TOWNSHIP,
         lambda: list(exports.export_table(app, who["th"], "members")[1]), members, (tlo, thi)),
    ]
    raw, found = Raw(app.settings.db_url), []
    try:
        for name, n, ours, statement, params in cases:
            ours()                                                     # warm, as a page seen twice
            raw_s = timed(lambda: deque(raw.stream(statement, params), maxlen=0))     # read, not kept
            found.append(figure(name, "postgresql", n, timed(ours), raw_s))
    finally:
        raw.close()
    return found


# --- writers -----------------------------------------------------------------------------------------------
def writer(db_url: str, home: str, code: str, cases: list[int], ready, go, out) -> None:
    """A process doing one committed application step per case, after every writer is ready (the
    first case before: a warm-up, not counted)."""
    from engine.adapters.db import Settings
    from engine.domain.cases import StepInput
    from engine.services.org import load_actor
    from engine.services.procedures import perform_step
    from entrypoints.bootstrap import make_app
    from engine.adapters.app import FixedClock
    app = make_app(Settings.from_env(home, db_url), clock=FixedClock(FILLED_ON))
    with app.engine.connect() as conn:
        actor = load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).first())
    perform_step(app, actor, "identification", "application", cases[:1], StepInput())
    ready.put(code)
    go.wait()
    began, cpu = time.time(), time.process_time()
    for case in cases[1:]:
        perform_step(app, actor, "identification", "application", [case], StepInput())
    out.put((began, time.time(), len(cases) - 1, time.process_time() - cpu))
    app.close()


def throughput(app, county: County, writers: list[int]) -> tuple[float, float]:
    """Steps per second of these writers at once, each on its own villages' first cases, and the
    writers' CPU seconds per step (in Python: the database server's are not counted)."""
    ctx = multiprocessing.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = []
    for w in writers:
        codes = [village(v) for v in county.writer_villages(w)]
        with app.engine.connect() as conn:
            cases = conn.execute(select(t.cases.c.id).where(t.cases.c.region_code.in_(codes))
                                 .order_by(t.cases.c.id).limit(county.steps + 1)).scalars().all()
        procs.append(ctx.Process(target=writer, args=(app.settings.db_url, str(app.settings.home), f"w{w}", cases,
                                                      ready, go, out)))
        procs[-1].start()
    for _ in procs:
        ready.get(timeout=300)
    busy = machine_busy()
    go.set()
    spans = [out.get(timeout=3600) for _ in procs]
    busy = machine_busy(busy)
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"a writer failed: exit {p.exitcode}")
    steps = sum(s[2] for s in spans)
    return steps / (max(s[1] for s in spans) - min(s[0] for s in spans)), sum(s[3] for s in spans) / steps, busy


def machine_busy(since: tuple[int, int] | None = None):
    """The machine's CPU counters (busy, total jiffies) from /proc/stat; given earlier ones, the cores
    kept busy in between (writers, database server and all): how near the machine was to its limit."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle, total = values[3] + values[4], sum(values)
    if since is None:
        return total - idle, total
    busy, spent = total - idle - since[0], total - since[1]
    return round(busy / spent * (os.cpu_count() or 1), 2) if spent else None


def concurrency(app, county: County) -> dict:
    one, cpu_one, busy_one = throughput(app, county, [0])
    many, cpu_many, busy_many = throughput(app, county, list(range(1, county.writers + 1)))
    return figure(f"{county.writers} writers vs 1 (s/step)", "postgresql", county.steps * county.writers,
                  1 / many, 1 / one, WRITERS_TARGET, steps_per_s_1=round(one, 1), steps_per_s_many=round(many, 1),
                  cpu_ms_per_step_1=round(cpu_one * 1000, 2), cpu_ms_per_step_many=round(cpu_many * 1000, 2),
                  cores_busy_1=busy_one, cores_busy_many=busy_many, cpus=os.cpu_count())


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The options; a county too small for its writers refused."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=at_least(1), default=1_000_000,
                        help="At least 2,900 with the other defaults (two townships, a writer's village each).")
    parser.add_argument("--steps", type=at_least(1), default=300, help="Committed steps per writer.")
    parser.add_argument("--writers", type=at_least(1), default=8)
    parser.add_argument("--via", choices=("cli", "bulk"), default="cli", help="How the households are filled.")
    parser.add_argument("--pg", action="store_true", help="Accepted for bench/run.py: this is PostgreSQL only.")
    parser.add_argument("--json", action="store_true", help="One JSON object per figure.")
    args = parser.parse_args(argv)
    problem = County(args.households, args.steps, args.writers).too_small()
    if problem:
        parser.error(problem)
    return args


def main() -> None:
    args = arguments()
    if not os.environ.get("JINGZHUN_TEST_PG_URL"):
        raise SystemExit("pg_scale.py runs on PostgreSQL only: set JINGZHUN_TEST_PG_URL to the URL of a server it may "
                         "make a database on (e.g. postgresql+psycopg://user:password@127.0.0.1/postgres)")
    county = County(args.households, args.steps, args.writers)
    db_name, app = run_database(f"pg_scale_{args.households}"), None
    work = Path(tempfile.mkdtemp(prefix="jz-bench-pg-scale-"))
    try:
        app, tokens = make_home(work / "home", pg_database(db_name), county_regions(county.villages),
                                county.persons())
        filled = fill_cli(app, county, tokens["cd"], work) if args.via == "cli" else fill_bulk(app, county)
        add_evidence(app, county)
        with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")       # as autovacuum would soon: plans on the filled tables
        found = [figure(f"fill {county.households * 3:,} members ({args.via})", "postgresql", county.households,
                        filled, None)]
        found += listings(app, county) + [concurrency(app, county)]
    finally:
        if app is not None:
            app.close()
        shutil.rmtree(work, ignore_errors=True)
        pg_database(db_name, drop=True)
    print_json(found) if args.json else print_human(found)


def print_human(found: list[dict]) -> None:
    print(f"PostgreSQL, {found[0]['n']:,} households")
    for f in found:
        raw = f"raw {f['raw_s']:.3f} s, ratio {f['ratio']:.2f}" if f["raw_s"] is not None else ""
        print(f"{f['figure']:<36} n={f['n']:>9,}  ours {f['ours_s']:.3f} s  {raw}")
    last = found[-1]
    print(f"throughput: 1 writer {last['steps_per_s_1']} steps/s, {last['figure'].split()[0]} writers "
          f"{last['steps_per_s_many']} steps/s ({last['ratio']:.2f}x, target {WRITERS_TARGET}x); the writers' CPU "
          f"per step {last['cpu_ms_per_step_1']} ms alone, {last['cpu_ms_per_step_many']} ms at once, "
          f"on {last['cpus']} CPUs; cores kept busy (writers, server and all): {last['cores_busy_1']} by one "
          f"writer, {last['cores_busy_many']} by {last['figure'].split()[0]}")


if __name__ == "__main__":
    run_main(main)
