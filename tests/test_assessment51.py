"""Two figures of the assessment an auditor found wrong (a6, findings 3 and 4): a village whose incidence
cannot be computed (no population recorded) was written 否, "not above its threshold", in the report's
files and table; a past year counted as overdue the work due at the very end of its last day."""
from __future__ import annotations

import csv
from datetime import date, timedelta

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.assessment import assessment
from tests.test_assessment import cli_as_director
from tests.world import COUNTY, VILLAGE, VILLAGE2, World
from workflows.village import register_village


def _identified_on(world: World, case: int, day: date) -> None:
    """The identification walked through so that the household enters 已识别 on `day`: its notices
    posted a month before and run in full."""
    world.on(day - timedelta(days=30))
    world.up_to_first_notice(case)
    world.on(day - timedelta(days=23))
    world.step("ts1", "identification", "township_review", case, decision="approve")
    world.step("ts2", "identification", "second_notice", case)
    world.on(day)
    world.step("cd", "identification", "county_approval", case, decision="approve")
    world.step("cs", "identification", "announcement", case)


def test_a_past_year_counts_as_overdue_only_work_due_before_its_end(world):
    """Two households identified on 30 November and 1 December 2019: their plans (30 days) are due at
    the end of 30 and of 31 December. Read in January 2020, the year 2019 had one plan overdue, not two:
    the second was due at the year's very end, the instant the year is read at."""
    late, last_day = world.household(), world.household()
    _identified_on(world, late, date(2019, 11, 30))
    _identified_on(world, last_day, date(2019, 12, 1))
    with world.app.engine.connect() as conn:
        plans = dict(conn.execute(select(t.deadlines.c.case_id, t.deadlines.c.due_at).where(
            t.deadlines.c.rule == "assistance_plan", t.deadlines.c.case_id.in_([late, last_day]))).all())
    assert plans[late] < plans[last_day]                      # both open, both past due by January
    world.on(date(2020, 1, 10))
    overdue = assessment(world.app, world["cd"], COUNTY, 2019)["overdue"]
    assert sum(u["count"] for u in overdue["unit"]) == 1, overdue
    assert sum(p["count"] for p in overdue["person"]) == 1, overdue
    now = assessment(world.app, world["cd"], COUNTY, 2020)["overdue"]       # as things stand: both
    assert sum(u["count"] for u in now["unit"]) == 2, now


def test_a_village_with_no_population_is_neither_above_nor_below_its_threshold(world, monkeypatch, capsys, tmp_path):
    world.on(date(2019, 2, 1))
    register_village(world.app, world["cd"], VILLAGE2, 500, 2019)       # 石上村: 0 of 500
    poor = world.household(3)                                            # 洋塘村: no population recorded
    world.identify(poor)
    data = assessment(world.app, world["cd"], COUNTY, 2019)
    above = {v["code"]: v["above"] for v in data["villages"]}
    assert above == {VILLAGE: None, VILLAGE2: False}, above
    folder = tmp_path / "csv"
    code, out = cli_as_director(world, monkeypatch, capsys, "report", "--region", COUNTY, "--period", "2019",
                     "--csv", str(folder))
    assert code == 0
    path = next(folder.glob("各村贫困发生率-*.csv"))
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.reader(fh) if len(r) > 1]
    flags = {r[0]: r[-1] for r in rows[1:]}
    assert flags == {"洋塘村": "", "石上村": "否"}, flags
    code, out = cli_as_director(world, monkeypatch, capsys, "report", "--region", COUNTY, "--period", "2019")
    line = next(line.split() for line in out.splitlines() if line.startswith("洋塘村"))
    assert line[-1] == "-" and "否" not in line, line


def test_the_exit_curve_of_the_year_read_as_it_stands_stops_at_this_month(world, monkeypatch, capsys, tmp_path):
    """Read on 20 October, the year's cumulative exits were drawn through December at the year's total
    so far, as if November's and December's had happened; the report's file headed its monthly counts 11月,
    12月 as the chart's cumulative labels. Now the line stops at October (the months to come labelled,
    not drawn), and the file says each column is that month's exits."""
    from entrypoints.report_html import exits_chart
    from entrypoints.web.render import texts
    world.on(date(2019, 10, 20))
    data = assessment(world.app, world["cd"], COUNTY, 2019)
    say = texts(world.app.config, "zh")["t"]
    drawn = str(exits_chart(data, say))
    assert drawn.count('class="point"') == 10 and "12月" in drawn, drawn[:400]
    world.on(date(2020, 1, 5))
    whole = str(exits_chart(assessment(world.app, world["cd"], COUNTY, 2019), say))    # a past year: all 12
    assert whole.count('class="point"') == 12
    folder = tmp_path / "csv"
    code, _ = cli_as_director(world, monkeypatch, capsys, "report", "--region", COUNTY, "--period", "2019", "--csv", str(folder))
    assert code == 0
    with open(next(folder.glob("退出进度-*.csv")), encoding="utf-8-sig", newline="") as fh:
        header = next(r for r in csv.reader(fh) if len(r) > 1)
    assert "11月退出户数" in header and "11月" not in header, header
