"""An inspector's trace of one cadre who signed many steps: the page, the API and the CLI's read, timed.

Builds (or reuses, with --home) a home of N households with bench/web_latency.py's builder, then gives
one county office director ("signer") a step of each of five kinds on every household and a
responsibility on each (N x 5 steps, N responsibilities, by bulk INSERTs: the reads, not the writes,
are measured), and times in-process (Starlette's test client, as the county's inspector) ROUNDS
requests of `/inspect/trace/person/signer` and of `GET /api/v1/trace/persons/signer` after one warm-up:
p50 seconds, the answer's size and the statements each ran; then reads the person's steps and
responsibilities downloads (CSV, and the steps' workbook) as they stream: seconds, size, rows and how much
the process's peak memory grew.

    python bench/person_trace.py --home /tmp/jz-person --households 30000      # 150,000 steps on SQLite
    JINGZHUN_DB=postgresql+psycopg://…/jz_person python bench/person_trace.py --home /tmp/jz-person-pg
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, insert, select  # noqa: E402

from bench.web_latency import COUNTY, prepared  # noqa: E402
from engine.adapters import tables as t  # noqa: E402
from engine.services.accounts import open_session  # noqa: E402
from engine.services.org import NewPerson, add_persons, load_actor  # noqa: E402
from entrypoints.bootstrap import make_app  # noqa: E402

KINDS = ("application", "appraisal", "township_review", "county_approval", "announcement")
AT = datetime(2019, 5, 1, 2, tzinfo=timezone.utc)
CHUNK = 5000


def signed(app) -> None:
    """The signer, with KINDS steps on every household and a responsibility each; and the county's inspector."""
    with app.engine.connect() as conn:
        if conn.execute(select(t.persons.c.id).where(t.persons.c.code == "signer")).first():
            return
        admin_id = conn.execute(select(t.persons.c.id).where(t.persons.c.code == "admin")).scalar()
    region = f"{COUNTY}000000"
    admin = _actor(app, "admin")
    add_persons(app, admin, [NewPerson("signer", "县扶贫办主任甲", (("county_office_director", region),), enrol=False),
                             NewPerson("insp", "纪委监委甲", (("inspector", region),), enrol=False)])
    with app.engine.connect() as conn:
        signer = conn.execute(select(t.persons.c.id).where(t.persons.c.code == "signer")).scalar()
        cases = conn.execute(select(t.cases.c.id, t.cases.c.region_code).order_by(t.cases.c.id)).all()
    for start in range(0, len(cases), CHUNK):
        chunk = cases[start:start + CHUNK]
        with app.engine.begin() as conn:
            procs = conn.execute(insert(t.procedures).returning(t.procedures.c.id, t.procedures.c.case_id), [
                dict(case_id=c.id, kind="identification", status="completed", from_stage="candidate",
                     to_stage="identified", started_by=admin_id, started_at=AT, ended_at=AT, policy_version="1")
                for c in chunk]).all()
            conn.execute(insert(t.steps), [
                dict(procedure_id=p, case_id=c, step_key=k, step_type="signoff", person_id=signer,
                     role="county_office_director", role_region=region, decision="approved", reason=None,
                     effective_date=date(2019, 5, 1 + i), recorded_at=AT, data={}, evidence_hashes=[],
                     policy_version="1", voided_at=AT if (c % 97 == 0 and i == 0) else None,
                     voided_reason="重新办理" if (c % 97 == 0 and i == 0) else None)
                for p, c in procs for i, k in enumerate(KINDS)])
            conn.execute(insert(t.responsibilities), [
                dict(case_id=c, procedure_id=p, procedure_kind="identification", to_stage="identified",
                     type="direct", person_id=signer, person_code="signer", person_name="县扶贫办主任甲",
                     role="county_office_director", region_code=region, basis="step:county_approval",
                     effective_date=date(2019, 5, 4), assigned_at=AT, policy_version="1") for p, c in procs])


def _actor(app, code: str):
    with app.engine.connect() as conn:
        return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).first())


def timed(client, path: str, rounds: int, statements: list) -> tuple[float, int, int]:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    times = []
    for _ in range(rounds):
        statements.clear()
        began = time.perf_counter()
        answer = client.get(path)
        times.append(time.perf_counter() - began)
    return statistics.median(times), len(answer.content), len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--households", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings, _ = prepared(Path(args.home), args.households, os.environ.get("JINGZHUN_DB"))
    app = make_app(settings)
    signed(app)
    with app.engine.connect() as conn:
        signer = conn.execute(select(t.persons.c.id).where(t.persons.c.code == "signer")).scalar()
        steps = conn.execute(select(func.count()).where(t.steps.c.person_id == signer)).scalar()
    from fastapi.testclient import TestClient
    from entrypoints.web.app import create_app
    insp = _actor(app, "insp")
    secret, _ = open_session(app, insp)
    client = TestClient(create_app(app), follow_redirects=False)
    client.cookies.set("jz_session", secret)
    statements: list = []
    event.listen(app.engine, "before_cursor_execute", lambda *a: statements.append(1))
    print(f"{app.engine.dialect.name}: signer has {steps:,} steps")
    p50, size, n = timed(client, "/inspect/trace/person/signer", args.rounds, statements)
    print(f"page /inspect/trace/person/signer: p50 {p50:.2f} s, {size / 1e6:.2f} MB, {n} statements")
    p50, size, n = timed(client, "/api/v1/trace/persons/signer", args.rounds, statements)
    print(f"api /api/v1/trace/persons/signer: p50 {p50:.2f} s, {size / 1e6:.2f} MB, {n} statements")
    for name in ("steps.csv", "responsibilities.csv", "steps.xlsx"):
        seconds, size, rows, grown = downloaded(client, f"/inspect/trace/person/signer/{name}")
        print(f"download {name}: {seconds:.2f} s, {size / 1e6:.1f} MB{f', {rows:,} rows' if rows else ''}, "
              f"the process's peak memory +{grown:.0f} MB")
    app.close()


def downloaded(client, url: str) -> tuple[float, int, int, float]:
    """A download read as it streams: seconds, bytes, rows (a CSV's, less its header) and how much the
    process's peak resident memory grew meanwhile (MB; a first download's growth includes what it loads)."""
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, size, lines = time.perf_counter(), 0, 0
    with client.stream("GET", url) as answer:
        assert answer.status_code == 200, answer.status_code
        for chunk in answer.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
    return time.perf_counter() - started, size, max(lines - 1, 0) if url.endswith(".csv") else 0, grown


if __name__ == "__main__":
    main()
