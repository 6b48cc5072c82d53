"""How long `audit verify` takes over a large log (issue 3's target: 1,000,000 events under 10 s).

    python bench/audit_verify.py [--events 1000000] [--per-case 20]

Fills a fresh SQLite data home with valid hash-chained events (written directly, in batches),
seals them into a checkpoint, then times the full verification and prints events per second.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import resource
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import bindparam, insert  # noqa: E402

from engine import tables as t  # noqa: E402
from engine.app import FixedClock  # noqa: E402
from engine.audit import make_event  # noqa: E402
from engine.audit_verify import seal, verify  # noqa: E402
from engine.db import Settings  # noqa: E402
from engine.org import add_regions, authenticate  # noqa: E402
from engine.setup import initialize  # noqa: E402

VILLAGE = "360730100201"


def fill(app, admin, events: int, per_case: int) -> None:
    now = app.clock.now()
    cases = events // per_case
    with app.transaction() as conn:
        conn.execute(insert(t.cases), [
            {"id": i, "kind": "household", "region_code": VILLAGE, "title": f"户主{i}", "stage": "candidate",
             "version": per_case + 1, "workflow_version": 1, "attrs": {}, "created_at": now, "updated_at": now,
             "event_count": per_case, "last_event_hash": None, "open_procedure_id": None,
             "pending_procedure": None, "pending_step": None} for i in range(1, cases + 1)])
    heads = {}
    for start in range(1, cases + 1, 1000):
        rows = []
        for case in range(start, min(start + 1000, cases + 1)):
            previous = None
            for seq in range(1, per_case + 1):
                event = make_event(actor=admin, action="visit_recorded", at=now, role="admin", region_code=VILLAGE,
                                   case_id=case, case_seq=seq, prev_hash=previous, policy_version=app.policy_version,
                                   detail={"visit": seq})
                rows.append(event)
                previous = event["hash"]
            heads[case] = previous
        with app.transaction() as conn:
            conn.execute(insert(t.audit_events), rows)
    with app.transaction() as conn:
        conn.execute(t.cases.update().where(t.cases.c.id == bindparam("b_id")),
                     [{"b_id": case, "last_event_hash": digest} for case, digest in heads.items()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-case", type=int, default=20)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="jz-verify-"))
    try:
        clock = FixedClock(datetime(2019, 3, 1, 2, tzinfo=timezone.utc))
        app, token = initialize(Settings.from_env(str(home)), clock=clock)
        admin = authenticate(app, "admin", token)
        add_regions(app, admin, [("360000000000", "江西省"), ("360700000000", "赣州市"), ("360730000000", "宁都县"),
                                 ("360730100000", "梅江镇"), (VILLAGE, "洋塘村")])
        started = time.perf_counter()
        fill(app, admin, args.events, args.per_case)
        seal(app, admin)
        print(f"filled {args.events:,} events in {time.perf_counter() - started:.1f} s")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        report = verify(app)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert report.intact, report.damage[:5]
        print(f"verified {report.events:,} events of {report.cases:,} cases in {elapsed:.1f} s "
              f"({report.events / elapsed:,.0f} events/s; target 1,000,000 in under 10 s); "
              f"peak RSS {after / 1024:.0f} MB (grew {(after - before) / 1024:.0f} MB while verifying)")
        app.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
