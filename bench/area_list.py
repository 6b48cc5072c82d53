"""A township's or county's list at scale (s53 h1): a county of N households waiting at one step (the
identification's application: 50 villages of 3 townships), its list page as the county office director
opens it, in-process through the web app: the page's size, its time (median of 3) and the memory the
request took (tracemalloc's peak), and how many households' boxes it holds.

    python bench/area_list.py [--households 5000] [--pg] [--post-all]

Run from another checkout (python OTHER/bench/area_list.py) it measures that checkout's code: the
figures before and after a change."""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import COUNTY, at_least, county_regions, make_home, pg_database, village  # noqa: E402

VILLAGES = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=at_least(1), default=5000)
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--post-all", action="store_true", help="also send the all-waiting button (this change's)")
    args = parser.parse_args()
    from stdnum.cn import ric
    from fastapi.testclient import TestClient
    import engine
    from engine.services.accounts import open_session
    from engine.services.org import NewPerson
    from entrypoints.web.app import create_app
    from workflows.household import HouseholdInput, MemberInput, register_households
    with tempfile.TemporaryDirectory() as tmp:
        db_url = pg_database("jz_bench_area_list") if args.pg else None
        app, tokens = make_home(Path(tmp) / "home", db_url, county_regions(VILLAGES), [
            NewPerson("cd", "县扶贫办主任", (("county_office_director", COUNTY),)),
            *[NewPerson(f"vs{n}", f"村支书{n}", (("village_secretary", village(n)),)) for n in range(VILLAGES)]])
        from sqlalchemy import select
        from engine.adapters import tables as t
        from engine.services.org import load_actor

        def person(code: str):
            with app.engine.connect() as conn:
                return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).first())
        born = date(1950, 1, 1)
        for n in range(VILLAGES):
            mine = range(n, args.households, VILLAGES)
            heads = []
            for i in mine:
                body = f"362131{(born + timedelta(days=i)):%Y%m%d}01{i % 2}"
                heads.append(HouseholdInput([MemberInput(f"户主{i}", body + ric.calc_check_digit(body + "0"), "head")],
                                            ["illness"]))
            if heads:
                register_households(app, person(f"vs{n}"), village(n), heads)
        secret, csrf = open_session(app, person("cd"))
        client = TestClient(create_app(app), follow_redirects=False)
        client.cookies.set("jz_session", secret)
        url = f"/villages/{COUNTY}/list?kind=household&procedure=identification&step=application"
        times, body = [], ""
        for _ in range(3):
            began = time.perf_counter()
            answer = client.get(url)
            times.append(time.perf_counter() - began)
            assert answer.status_code == 200, answer.text[:300]
            body = answer.text
        tracemalloc.start()
        client.get(url)
        _now, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        boxes = len(re.findall(r'name="case" value=', body))
        sent = None
        if args.post_all:       # the all-waiting button (the director may not do an application: each refused, told)
            began = time.perf_counter()
            answer = client.post(f"/villages/{COUNTY}/list", data={"csrf": csrf, "kind": "household", "all": "1",
                                 "procedure": "identification", "step": "application"}, headers={"HX-Request": "true"})
            sent = (time.perf_counter() - began, answer.status_code, len(answer.content),
                    len(re.findall(r'data-case="\d+" data-result=', answer.text)))
        print(f"code: {Path(engine.__file__).parents[1]}  backend: {'postgresql' if args.pg else 'sqlite'}")
        print(f"{args.households:,} waiting: page {len(body.encode()) / 1024:,.0f} KB, {boxes:,} boxes, "
              f"{statistics.median(times):.2f} s (median of 3), request's peak memory {peak / 2 ** 20:,.1f} MB")
        if sent:
            print(f"all {args.households:,} sent: {sent[0]:.2f} s, HTTP {sent[1]}, answer {sent[2] / 1024:,.0f} KB, "
                  f"{sent[3]:,} households told")
        app.close()
        if args.pg:
            pg_database("jz_bench_area_list", drop=True)


if __name__ == "__main__":
    main()
