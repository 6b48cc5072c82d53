"""Who has not visited (a10 #5): each pairing cadre of a region with their households, each household's last
visit (day, by whom) and those not visited within the policy's interval (四个不摘: at least once a quarter,
`visit_interval_days`), the longest unvisited first, a page at a time; refused outside the reader's region."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t

from engine.domain.errors import AuthError, JingzhunError
from engine.reads.visits import VisitFilter, visit_page, visit_rows
from engine.services.case_actions import record_visit, withdraw_visit
from tests.world import TOWNSHIP, VILLAGE, VILLAGE2


def _three_paired(world) -> list[int]:
    cases = [world.household() for _ in range(3)]
    world.identify(cases)
    world.assist(cases[0], first="pc1", second="pc2")           # paired 2019-03-20
    world.assist(cases[1], first="pc3", second=None)
    world.assist(cases[2], first="pc2", second=None)
    return cases


def test_the_township_sees_who_has_not_visited_oldest_first(world):
    a, b, c = _three_paired(world)
    world.on(date(2019, 5, 10))
    record_visit(world.app, world["pc3"], b, date(2019, 5, 10), "户主在家，收入稳定")
    world.on(date(2019, 9, 1))
    record_visit(world.app, world["pc2"], c, date(2019, 8, 30), "种植脐橙长势好")
    record_visit(world.app, world["vs"], c, date(2019, 7, 1), "an earlier one")      # older: not the last
    found = visit_page(world.app, world["th"], VisitFilter(TOWNSHIP))
    assert found["interval"] == 92
    rows = [(r["case"], r["cadre"], r["last_visit"], r["visitor"], r["overdue"]) for r in found["rows"]]
    assert rows == [(a, "pc1", None, None, True), (a, "pc2", None, None, True),        # never, paired 2019-03-20
                    (b, "pc3", date(2019, 5, 10), "pc3", True),                       # 114 days ago
                    (c, "pc2", date(2019, 8, 30), "pc2", False)]
    assert found["overdue"] == 3 and found["rows"][2]["days"] == 114
    overdue = visit_page(world.app, world["th"], VisitFilter(TOWNSHIP, overdue=True))
    assert [r["case"] for r in overdue["rows"]] == [a, a, b]
    first = visit_page(world.app, world["th"], VisitFilter(TOWNSHIP), size=2)          # paged, nothing twice
    rest = visit_page(world.app, world["th"], VisitFilter(TOWNSHIP), after=first["next"], size=2)
    assert [r["cadre"] for r in first["rows"] + rest["rows"]] == ["pc1", "pc2", "pc3", "pc2"] and rest["next"] is None
    assert len(list(visit_rows(world.app, world["th"], VisitFilter(VILLAGE), batch=1))) == 4
    assert visit_page(world.app, world["cd"], VisitFilter(VILLAGE2))["rows"] == []       # another township's: none here
    with pytest.raises(AuthError):
        visit_page(world.app, world["th"], VisitFilter(VILLAGE2))
    with pytest.raises(AuthError):
        visit_page(world.app, world["vs2"], VisitFilter(VILLAGE))
    with pytest.raises(JingzhunError):
        visit_page(world.app, world["th"], VisitFilter(TOWNSHIP), after="x")
    # a visit withdrawn (recorded by mistake) is no visit: the household's last is the one before it
    last = world.app.engine.connect().execute(select(func.max(t.monitoring_visits.c.id)).where(
        t.monitoring_visits.c.case_id == c, t.monitoring_visits.c.visit_date == date(2019, 8, 30))).scalar()
    withdraw_visit(world.app, world["pc2"], last, "记错了户")
    again = {(r["case"], r["cadre"]): r for r in visit_page(world.app, world["th"], VisitFilter(TOWNSHIP))["rows"]}
    assert (again[c, "pc2"]["last_visit"], again[c, "pc2"]["visitor"]) == (date(2019, 7, 1), "vs")


def test_the_cli_lists_who_has_not_visited_and_a_cadres_own_cases(world):
    """`household visits --region R --overdue` (a10 #5) and `case list --mine` (a10 #13): the households a
    pairing cadre is paired with, whatever step they wait at, beside those waiting for a step of theirs."""
    from tests.helpers.notifications import cli as run

    def cli(*args):
        r = run(*args)
        return r.code, r.out, r.err
    a, b, c = _three_paired(world)
    spare = world.household()                                   # nobody's pairing: not pc1's
    world.on(date(2019, 9, 1))
    record_visit(world.app, world["pc1"], a, date(2019, 8, 30), "家中无人，电话联系")
    (world.app.settings.home / "demo-clock").write_text("2019-09-01T10:00:00+08:00")    # the CLI's day, as the world's
    code, out, err = cli(world, "th", "household", "visits", "--region", TOWNSHIP, "--overdue")
    assert code == 0, err
    lines = [line for line in out.splitlines() if "\t" in line]          # the rows, not the count below them
    assert lines[0].split("\t")[:4] == ["帮扶责任人", "结对", "案件", "户"]
    assert [line.split("\t")[2] for line in lines[1:]] == [str(b), str(c)]         # a was visited 2 days ago
    assert all(line.endswith("逾期未走访") for line in lines[1:])
    code, out, err = cli(world, "th", "household", "visits", "--region", VILLAGE2)
    assert code != 0 and "Traceback" not in err and out == ""
    code, out, err = cli(world, "pc1", "case", "list", "--mine")
    assert code == 0, err
    listed = {int(line.split("\t")[0]) for line in out.splitlines()[1:] if line.split("\t")[0].isdigit()}
    assert a in listed and b not in listed and c not in listed and spare not in listed
    code, out, err = cli(world, "pc2", "case", "list", "--mine")
    listed = {int(line.split("\t")[0]) for line in out.splitlines()[1:] if line.split("\t")[0].isdigit()}
    assert {a, c} <= listed and b not in listed


def test_the_english_cli_names_a_pairing_cadre_s_slot_in_words(world):
    """a10 #15 on the command line: `case show` and `household visits` in English say 'first pairing cadre',
    not a bare 'first' (the Chinese said 第一帮扶责任人 all along)."""
    from tests.helpers.notifications import cli as run
    a, _b, _c = _three_paired(world)
    (world.app.settings.home / "demo-clock").write_text("2019-09-01T10:00:00+08:00")
    shown = run(world, "th", "--lang", "en", "case", "show", str(a))
    assert shown.code == 0, shown.err
    assert "paired, first pairing cadre: " in shown.out and "paired, second pairing cadre: " in shown.out
    listed = run(world, "th", "--lang", "en", "household", "visits", "--region", TOWNSHIP)
    assert listed.code == 0, listed.err
    rows = [line.split("\t") for line in listed.out.splitlines() if "\t" in line][1:]
    assert {r[1] for r in rows} == {"first pairing cadre", "second pairing cadre"}
    assert "第一帮扶责任人" in run(world, "th", "case", "show", str(a)).out
