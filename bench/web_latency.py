"""Latency of the server's pages with many households, against a static file served by the same server.

Builds (or reuses, with --home) a data home of N households (default 100,000) in villages of 100,
20 villages a township; serves it with `jingzhun serve` in a subprocess on a loopback port; signs
in as a village cadre, a township head and a second cadre who does the steps; then, in one run,
asks each page in turn ROUNDS times (one request at a time, after a warm-up) and prints p50 and p95
of each, and each as a ratio of the static baseline (/static/app.css):

    my work (/work)                    the cadre's village: 100 households waiting for its application
    case page (/cases/{id})            one of those households (members, evidence, what's next)
    case page with history             a household of the township whose application was done
    needs fragment (/work/{id}/needs)  what one waiting case needs (loaded by each row of my work)
    step POST (/cases/{id}/step)       the application step on a fresh household, CSRF token and all
    overdue page (/supervise)          the township head's; skipped with a note while it answers 404

and a village's list of 100 households signed in one action (the application step for 100 cases,
one perform_step call: the service a village list page calls). Targets (issue 10): p95 under 150 ms
for reads and 250 ms for a step, each within 5x of the static baseline; the list under 2 s.

    python bench/web_latency.py                                   # 100,000 households on SQLite
    python bench/web_latency.py --households 10000 --rounds 200
    python bench/web_latency.py --households 2000 --rounds 20 --json   # bench/run.py --quick's size
    python bench/web_latency.py --home /tmp/jz-web-100k           # build once, keep, reuse
    JINGZHUN_DB=postgresql+psycopg://jingzhun_ci:jingzhun_ci@127.0.0.1/jz_bench \\
        python bench/web_latency.py --home /tmp/jz-web-pg         # PostgreSQL (the database must exist)
    python bench/web_latency.py --pg                              # PostgreSQL from JINGZHUN_TEST_PG_URL: a
                                                                  # new database jz_bench_web_<N>_<pid>, dropped
                                                                  # at the end (jz_bench_web_<N> with --home, kept)

--json prints one JSON object per figure instead (bench/run.py reads them): for each page its p95 as
"ours s" beside the static file's p95 in the same run as "raw s" (target: ratio raw/ours at least 0.2,
within 5x, and the page's p95 at most 150 ms, 250 ms for the step; p50s ride along), with the server's
peak memory; and the village's list (no raw baseline: step_cost's list step has the raw batched writes).
The baseline is the static file and not the same reads called in-process: what a user waits for is the
server's answer, and the static file is the floor every answer of this server pays on the same loopback,
in the same process, interleaved with the pages round by round, so the ratio is the page's own work
(its queries, its rendering) over that floor and a busy machine weighs on both alike.

Building 100,000 households takes a minute or two; tests/test_bench.py runs it at its smallest.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.figures import at_least, backend_of, figure, pg_database, print_json, run_database, run_main  # noqa: E402
from bench.import_export import vm_hwm_mb  # noqa: E402
from bench.step_cost import distinct_id, served_process  # noqa: E402
from engine.adapters import tables as t  # noqa: E402
from engine.adapters.app import FixedClock  # noqa: E402
from engine.adapters.db import Settings  # noqa: E402
from engine.adapters.private_files import write_private  # noqa: E402
from engine.domain.cases import StepInput  # noqa: E402
from engine.domain.evidence import content_hash  # noqa: E402
from engine.services.accounts import issue_enrolment, redeem_enrolment  # noqa: E402
from engine.services.org import NewPerson, add_persons, add_regions, authenticate, load_actor  # noqa: E402
from engine.services.procedures import perform_step  # noqa: E402
from entrypoints.bootstrap import init_home, make_app  # noqa: E402

COUNTY = "360730"
PER_VILLAGE, VILLAGES_PER_TOWNSHIP = 100, 20
FILLED_ON = datetime(2019, 3, 1, 2, tzinfo=timezone.utc)
SERVED_ON = "2019-04-15T02:00:00+00:00"       # the server's clock: the township's appraisals are overdue
MARK = "bench-web.json"
READ_TARGET_S, STEP_TARGET_S, LIST_TARGET_S = 0.15, 0.25, 2.0     # issue 10: p95 of a read, of a step; a list
STATIC_TARGET = 0.2           # and each page's p95 within 5x of the static file's (ratio static / page)
CHUNK = 5000


def township(n: int) -> str:
    return f"{COUNTY}{100 + n:03d}000"


def village(town: int, n: int) -> str:
    return township(town)[:9] + f"{200 + n:03d}"


# --- building the home ----------------------------------------------------------------------------

def build(settings: Settings, households: int) -> dict:
    """A home of `households` households; returns what the measurements need (kept in bench-web.json)."""
    clock = FixedClock(FILLED_ON)
    app, token = init_home(settings, clock=clock)
    admin = authenticate(app, "admin", token)
    towns = (households + PER_VILLAGE * VILLAGES_PER_TOWNSHIP - 1) // (PER_VILLAGE * VILLAGES_PER_TOWNSHIP)
    villages = [village(tw, v) for tw in range(1, towns + 1) for v in range(1, VILLAGES_PER_TOWNSHIP + 1)]
    villages = villages[:(households + PER_VILLAGE - 1) // PER_VILLAGE]
    add_regions(app, admin, [("360000000000", "江西省"), ("360700000000", "赣州市"), (f"{COUNTY}000000", "宁都县")]
                + [(township(tw), f"第{tw}镇") for tw in range(1, towns + 1)]
                + [(v, f"{v[6:9]}镇{v[9:]}村") for v in villages])
    add_persons(app, admin, people(towns))
    fill(app, villages, households)
    history(app, clock)
    info = {"households": households, "townships": towns, "passwords": passwords(app, admin),
            "built_in_s": 0.0}
    app.close()
    return info


def people(towns: int) -> list[NewPerson]:
    """The cadre (village 1), the head of township 1, a cadre for the steps (villages 3-5 of each
    township), one for the village lists (village 2 of each) and the secretaries of villages 6-20; and
    the director and first secretary of each village where an application is done (a step must leave
    someone for each step to come: the appraisal and the notice)."""
    vs = "village_secretary"
    stepped = ([village(1, v) for v in range(6, VILLAGES_PER_TOWNSHIP + 1)]
               + [village(tw, v) for tw in range(1, min(towns, 5) + 1) for v in (3, 4, 5)]
               + [village(tw, 2) for tw in range(1, towns + 1)])
    return [NewPerson("vd", "村主任", tuple(("village_director", v) for v in stepped), enrol=False),
            NewPerson("fs", "第一书记", tuple(("first_secretary", v) for v in stepped), enrol=False),
            NewPerson("cadre", "村支书甲", ((vs, village(1, 1)),), enrol=False),
            NewPerson("head", "镇长甲", (("township_head", township(1)),), enrol=False),
            NewPerson("poster", "村支书乙", tuple((vs, village(tw, v)) for tw in range(1, min(towns, 5) + 1)
                                                  for v in (3, 4, 5)), enrol=False),
            NewPerson("lister", "村支书丙", tuple((vs, village(tw, 2)) for tw in range(1, towns + 1)),
                      enrol=False)] + \
        [NewPerson(f"vs{v:02d}", f"村支书{v}", ((vs, village(1, v)),), enrol=False) for v in range(6, 21)]


def fill(app, villages: list[str], households: int) -> None:
    """Households registered with their application and 2018 income check, by bulk INSERTs (the
    way bench/step_cost.py fills a database): each waits for its application step."""
    with app.engine.connect() as conn:
        cadre = conn.execute(select(t.persons.c.id).where(t.persons.c.code == "cadre")).scalar()
    for start in range(0, households, CHUNK):
        with app.engine.begin() as conn:
            numbers = range(start, min(start + CHUNK, households))
            ids = conn.execute(insert(t.cases).returning(t.cases.c.id, t.cases.c.title),
                               [case_row(villages[i // PER_VILLAGE], i) for i in numbers]).all()
            conn.execute(insert(t.household_members), [m for cid, title in ids for m in members(cid, title)])
            conn.execute(insert(t.evidence), [e for cid, _ in ids for e in evidence(cid, cadre)])


def case_row(region: str, i: int) -> dict:
    return dict(kind="household", region_code=region, title=f"户主{i}", stage="candidate", version=1,
                workflow_version=1, attrs={"causes": ["illness"]}, created_at=FILLED_ON, updated_at=FILLED_ON,
                event_count=0, pending_procedure="identification", pending_step="application")


def members(case_id: int, title: str) -> list[dict]:
    i = int(title[2:])
    common = dict(case_id=case_id, labour_ability="normal", health="healthy", school_enrolment="none",
                  insured_basic=True, insured_critical=True, active=True)
    return [dict(common, name=title, id_number=distinct_id(2 * i), relation="head"),
            dict(common, name=f"配偶{i}", id_number=distinct_id(2 * i + 1), relation="spouse")]


def evidence(case_id: int, by: int) -> list[dict]:
    kinds = (("application", {"applicant": "户主", "applied_on": "2019-02-01"}),
             ("income_check", {"year": 2018, "net_income": 4000.0}))
    return [dict(case_id=case_id, type=k, fields=f, content_hash=content_hash(k, f, None), attached_by=by,
                 attached_at=FILLED_ON) for k, f in kinds]


def history(app, clock: FixedClock) -> None:
    """Villages 6-20 of township 1 do their application step (one list each), so their households
    have a procedure, a step, audit events and an open deadline that is overdue when served."""
    clock.at = FILLED_ON
    for v in range(6, VILLAGES_PER_TOWNSHIP + 1):
        actor = actor_of(app, f"vs{v:02d}")
        cases = pending(app, [village(1, v)], PER_VILLAGE)
        if cases:
            perform_step(app, actor, "identification", "application", cases, StepInput())


def passwords(app, admin) -> dict[str, str]:
    """A password for each signing-in person, set through a paper enrolment code (as a person would)."""
    found = {}
    for code in ("cadre", "head", "poster"):
        found[code] = secrets.token_urlsafe(12)
        redeem_enrolment(app, code, issue_enrolment(app, admin, code, paper=True).code, found[code])
    return found


def actor_of(app, code: str):
    with app.engine.connect() as conn:
        return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).first())


def pending(app, regions: list[str], limit: int) -> list[int]:
    """Households of `regions` still waiting for their application step."""
    with app.engine.connect() as conn:
        return list(conn.execute(select(t.cases.c.id).where(
            t.cases.c.region_code.in_(regions), t.cases.c.pending_step == "application").order_by(
            t.cases.c.id).limit(limit)).scalars())


def prepared(home: Path, households: int, db_url: str | None, quiet: bool = False) -> tuple[Settings, dict]:
    """The home built (or reused, with --home); `quiet`: saying nothing of it (--json)."""
    say = (lambda *a: None) if quiet else print
    settings = Settings.from_env(str(home), db_url)
    mark = home / MARK
    if mark.exists():
        info = json.loads(mark.read_text())
        say(f"reusing {home}: {info['households']:,} households")
        return settings, info
    began = time.perf_counter()
    info = build(settings, households)
    info["built_in_s"] = round(time.perf_counter() - began, 1)
    write_private(mark, json.dumps(info))
    say(f"built {home}: {households:,} households in {info['built_in_s']:.0f} s")
    return settings, info


# --- serving and measuring --------------------------------------------------------------------------

def signed_in(base: str, code: str, password: str):
    """An httpx client with `code`'s session; `.csrf` holds its form token."""
    import httpx
    client = httpx.Client(base_url=base, timeout=60)
    pre = re.search(r'name="pre" value="([^"]+)"', client.get("/signin").text).group(1)
    answer = client.post("/signin", data={"person": code, "password": password, "pre": pre, "next": "/"})
    assert answer.status_code == 303, answer.text[:500]
    client.csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/work").text).group(1)
    return client


def timed(call) -> float:
    began = time.perf_counter()
    answer = call()
    took = (time.perf_counter() - began) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{answer.request.method} {answer.request.url.path}: {answer.status_code} "
                         f"{answer.text[:300]}")
    return took


def step_post(client, case: int):
    answer = client.post(f"/cases/{case}/step", data={"csrf": client.csrf, "procedure": "identification",
                                                       "step": "application"},
                         # as the case page's form sends it: its result in place, under a key of its own (a
                         # form's lost answer given again: its key claimed and its answer kept, two transactions)
                         headers={"HX-Request": "true", "Idempotency-Key": f"bench-step-{case}-{os.getpid()}"})
    if answer.status_code == 200 and 'data-outcome' not in answer.text:
        raise SystemExit(f"step on case {case} not done: {answer.text[:300]}")
    return answer


def requests(app, clients: dict, rounds: int) -> dict[str, callable]:
    """name -> a function of the round number that makes one request."""
    own = pending(app, [village(1, 1)], PER_VILLAGE)
    done = steps_done(app)
    fresh = pending(app, [village(tw, v) for tw in range(1, 6) for v in (3, 4, 5)], rounds + 20)
    if len(fresh) < rounds + 20:
        raise SystemExit(f"only {len(fresh)} fresh households left for the step POSTs: build a new home")
    cadre, head, poster = clients["cadre"], clients["head"], clients["poster"]
    asked = {"static /static/app.css": lambda i: cadre.get("/static/app.css"),
             "my work /work": lambda i: cadre.get("/work"),
             "case page /cases/{id}": lambda i: cadre.get(f"/cases/{own[i % len(own)]}"),
             "case with history (head)": lambda i: head.get(f"/cases/{done[i % len(done)]}"),
             "needs /work/{id}/needs": lambda i: cadre.get(f"/work/{own[i % len(own)]}/needs"),
             "step POST /cases/{id}/step": lambda i: step_post(poster, fresh[i])}
    if head.get("/supervise").status_code != 404:
        asked["overdue /supervise (head)"] = lambda i: head.get("/supervise")
    return asked


def steps_done(app) -> list[int]:
    with app.engine.connect() as conn:
        return list(conn.execute(select(t.cases.c.id).where(
            t.cases.c.region_code.like(township(1)[:9] + "%"), t.cases.c.pending_step != "application")
            .order_by(t.cases.c.id).limit(PER_VILLAGE)).scalars())


def measure(asked: dict, rounds: int, warm: int = 10) -> dict[str, list[float]]:
    """Each request in turn, `rounds` times (after `warm` unmeasured rounds), one at a time."""
    times: dict[str, list[float]] = {name: [] for name in asked}
    for i in range(warm + rounds):
        for name, call in asked.items():
            took = timed(lambda: call(i))
            if i >= warm:
                times[name].append(took)
    return times


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def report(times: dict[str, list[float]], backend: str, households: int) -> None:
    base = next(iter(times.values()))
    b50, b95 = p(base, 50), p(base, 95)
    print(f"\n{backend}, {households:,} households, {len(base)} requests each (one at a time):")
    print(f"{'request':<30} {'p50 ms':>8} {'p95 ms':>8} {'p50/static':>11} {'p95/static':>11}")
    for name, values in times.items():
        print(f"{name:<30} {p(values, 50):8.1f} {p(values, 95):8.1f} {p(values, 50) / b50:10.1f}x "
              f"{p(values, 95) / b95:10.1f}x")


def village_list(app, info: dict) -> tuple[float, int]:
    """The application step for one village's 100 households in one action (all or none)."""
    lister = actor_of(app, "lister")
    for tw in range(1, info["townships"] + 1):
        cases = pending(app, [village(tw, 2)], PER_VILLAGE)
        if len(cases) == PER_VILLAGE:
            began = time.perf_counter()
            perform_step(app, lister, "identification", "application", cases, StepInput())
            return time.perf_counter() - began, len(cases)
    raise SystemExit("no village left with 100 households waiting: build a new home")


def run(settings: Settings, info: dict, rounds: int, as_json: bool) -> None:
    """Each page against the static file, then a village's list: a human table, or (`as_json`) figures."""
    backend = backend_of(settings.db_url)
    with served_process(settings, SERVED_ON) as (base, server):
        app = make_app(settings, clock=FixedClock(datetime.fromisoformat(SERVED_ON)))
        try:
            clients = {code: signed_in(base, code, pw) for code, pw in info["passwords"].items()}
            asked = requests(app, clients, rounds)
            times = measure(asked, rounds)
            server_mb = vm_hwm_mb(server.pid)
            took, n = village_list(app, info)
        finally:
            app.close()
    if as_json:
        print_json(figures(times, backend, info["households"], server_mb) + [
            figure(f"village list of {n}, one action", backend, info["households"], took, None,
                   target_s=LIST_TARGET_S)])
        return
    report(times, {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend], info["households"])
    if "overdue /supervise (head)" not in asked:
        print("overdue /supervise: skipped (404: the supervisor's pages are not in this build)")
    print(f"a village's list of {n} households signed in one action (perform_step): {took * 1000:.0f} ms")


def figures(times: dict[str, list[float]], backend: str, households: int, server_mb: float) -> list[dict]:
    """Each page's p95 beside the static file's (the first of `times`), in seconds; the p50s ride along."""
    (_static, base), *pages = times.items()
    return [figure(f"page p95: {name}", backend, households, p(values, 95) / 1000, p(base, 95) / 1000,
                   STATIC_TARGET, server_mb, target_s=STEP_TARGET_S if "POST" in name else READ_TARGET_S,
                   p50_s=round(p(values, 50) / 1000, 6), raw_p50_s=round(p(base, 50) / 1000, 6),
                   requests=len(values)) for name, values in pages]


def kept_database(households: int, fresh: bool) -> str:
    """The database jz_bench_web_<N> kept with a --home on the server of JINGZHUN_TEST_PG_URL (made anew
    when `fresh`)."""
    name = f"jz_bench_web_{households}"
    if fresh or not os.environ.get("JINGZHUN_TEST_PG_URL"):
        return pg_database(name)
    return make_url(os.environ["JINGZHUN_TEST_PG_URL"]).set(database=name).render_as_string(hide_password=False)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=at_least(PER_VILLAGE * VILLAGES_PER_TOWNSHIP), default=100_000,
                        help=f"At least {PER_VILLAGE * VILLAGES_PER_TOWNSHIP:,} (one whole township).")
    parser.add_argument("--rounds", type=at_least(1), default=200, help="Requests of each page (at most 280 at "
                        "2,000 households: each step POST needs a fresh household).")
    parser.add_argument("--home", help="Build the home here and keep it (reused when already built).")
    parser.add_argument("--pg", action="store_true", help="A new PostgreSQL database from JINGZHUN_TEST_PG_URL.")
    parser.add_argument("--json", action="store_true", help="One JSON object per figure.")
    return parser.parse_args(argv)


def main() -> None:
    args = arguments()
    folder = None if args.home else Path(tempfile.mkdtemp(prefix="jz-bench-web-"))
    home = Path(args.home) if args.home else folder / "home"
    made = run_database(f"web_{args.households}") if args.pg and not args.home else None   # this run's, dropped
    try:
        db_url = (pg_database(made) if made else kept_database(args.households, not (home / MARK).exists())
                  if args.pg else os.environ.get("JINGZHUN_DB"))
        settings, info = prepared(home, args.households, db_url, quiet=args.json)
        run(settings, info, args.rounds, args.json)
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
        if made:
            pg_database(made, drop=True)


if __name__ == "__main__":
    run_main(main)
