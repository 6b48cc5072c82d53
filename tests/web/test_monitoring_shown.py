"""A household's monitoring shown to its readers (a user audit's finding 4): whether it is monitored now,
its type and since when, its earlier monitorings with the day their risk was eliminated, and its
transition period's end, on its page, in `case show` and the API's case, in both languages; supervisors
list the monitored households (by type) and those whose transition period ends in a year, and count them
per township on their figures; the lists and counts read the case row's own indexed columns."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from engine.adapters import tables as t
from engine.domain.errors import BadInput
from engine.reads import dashboard
from engine.reads.case_lists import list_cases
from engine.reads.case_record import case_detail
from engine.services.case_actions import attach_evidence
from tests.helpers import notifications
from tests.test_household_life import eliminable, village_chain
from tests.world import TOWNSHIP
from tests.helpers.schema import downgrade

import pytest


def consolidated(world, first: str = "pc1", second: str | None = "pc2") -> int:
    """A household exited on 2019-11-28 and consolidated: its transition period until 2024-11-28."""
    case = world.household()
    world.identify(case)
    world.assist(case, first, second)
    world.exit_evidence(case)
    world.exit(case)
    world.on(date(2020, 1, 10))
    world.step("ts2", "consolidation", "enrolment", case)
    world.step("cs", "consolidation", "county_filing", case, decision="approve")
    return case


def monitored(world, case: int, kind: str, clue: date) -> None:
    """The monitoring's chain from a clue of `clue`; the county decides five days later."""
    world.on(clue)
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": clue.isoformat(), "monitoring_type": kind})
    _chain(world, case, "monitoring", clue)


def risk_eliminated(world, case: int, day: date) -> None:
    """What the risk elimination rests on, on `day` (the monitoring's plan approved, 两不愁三保障 and water
    checked again, a visit finding no risk, the income assessed), then its chain."""
    eliminable(world, case, day, net_income=None, plan_on=day)
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": day.year - 1, "net_income": 30000},
                    replace=True, reason="收入核算")
    _chain(world, case, "risk_elimination", day, first="assessment")


def _chain(world, case: int, procedure: str, day: date, first: str = "clue") -> None:
    world.step("fs", procedure, first, case)      # the first secretary: any household of the village
    village_chain(world, procedure, case, date.fromordinal(day.toordinal() + 5), "county_decision")


def cli(world, who: str, *args):
    """The command line on the world's home, on the world's day (its demo clock: the CLI's own app)."""
    (world.app.settings.home / "demo-clock").write_text(world.clock.at.isoformat())
    return notifications.cli(world, who, *args)


def test_a_households_monitoring_its_history_and_transition_are_shown_on_its_page_cli_and_api(world, world_clients):
    page, api = world_clients
    case = consolidated(world)
    monitored(world, case, "unstable", date(2020, 4, 1))
    shown = case_detail(world.app, world["vs"], case)["monitoring"]
    assert shown == {"current": {"type": "unstable", "since": "2020-04-06"}, "history": [],
                     "transition_until": "2024-11-28", "transition_over": False}
    said = cli(world, "vs", "case", "show", str(case)).out
    assert "防返贫监测：脱贫不稳定户，自 2020-04-06 起" in said and "过渡期至 2024-11-28" in said
    html = page("vs").get(f"/cases/{case}").text
    assert 'id="monitoring"' in html and "防返贫监测：脱贫不稳定户，自 2020-04-06 起" in html

    risk_eliminated(world, case, date(2021, 1, 15))
    monitored(world, case, "sudden_hardship", date(2021, 6, 1))
    said = cli(world, "vs", "--lang", "en", "case", "show", str(case)).out
    assert "monitored: household in sudden severe hardship, since 2021-06-06" in said
    assert "risk eliminated on 2021-01-20" in said and "transition period until 2024-11-28" in said
    body = api("vs", "en").get(f"/api/v1/cases/{case}").json()["monitoring"]
    assert body["current"] == {"type": "sudden_hardship", "since": "2021-06-06"}
    assert body["history"] == [{"type": "unstable", "since": "2020-04-06", "risk_eliminated_on": "2021-01-20"}]
    html = page("vs").get(f"/cases/{case}").text
    assert "曾纳入监测：脱贫不稳定户，2020-04-06 起，2021-01-20 风险消除" in html

    world.on(date(2025, 3, 1))       # the transition period over: said so (the case stays consolidated)
    assert "过渡期已于 2024-11-28 结束" in cli(world, "vs", "case", "show", str(case)).out
    assert "transition period ended on 2024-11-28" in page("vs").get(f"/cases/{case}?lang=en").text or \
        "过渡期已于 2024-11-28 结束" in page("vs").get(f"/cases/{case}").text


def test_supervisors_list_and_count_monitored_households_by_type_and_transition_end(world, world_clients):
    page, api = world_clients
    edge, hardship, plain = consolidated(world), consolidated(world, "pc2", "pc3"), consolidated(world, "pc3", None)
    monitored(world, edge, "unstable", date(2020, 4, 1))
    monitored(world, hardship, "sudden_hardship", date(2020, 5, 1))
    ids = lambda rows: sorted(r["id"] for r in rows)  # noqa: E731

    assert ids(list_cases(world.app, world["th"], monitoring="any")) == sorted([edge, hardship])
    assert ids(list_cases(world.app, world["th"], monitoring="unstable")) == [edge]
    assert ids(list_cases(world.app, world["th"], transition_ends=2024)) == sorted([edge, hardship, plain])
    assert ids(list_cases(world.app, world["th"], transition_ends=2023)) == []
    listed = cli(world, "th", "case", "list", "--monitoring", "突发严重困难户").out
    assert f"{hardship}\t" in listed and f"{edge}\t" not in listed
    assert [c["id"] for c in api("th").get("/api/v1/cases", params={"monitoring": "unstable"}).json()["cases"]] == [edge]
    with pytest.raises(BadInput) as refused:
        list(list_cases(world.app, world["th"], monitoring="poor"))
    assert "边缘易致贫户" in refused.value.render(world.app.config, "zh") and "any" in refused.value.render(
        world.app.config, "en")
    wrong = cli(world, "th", "case", "list", "--monitoring", "poor")
    assert wrong.code != 0 and "Traceback" not in wrong.err and "poor" in wrong.err

    html = page("th").get("/supervise/cases", params={"monitoring": "any"}).text
    assert f'data-case="{edge}"' in html and f'data-case="{hardship}"' in html and f'data-case="{plain}"' not in html
    html = page("th").get("/supervise/cases", params={"transition_ends": "2024"}).text
    assert all(f'data-case="{c}"' in html for c in (edge, hardship, plain))
    assert page("th").get("/supervise/cases", params={"monitoring": "poor"}).status_code == 400

    risk_eliminated(world, edge, date(2021, 1, 15))
    figures = dashboard.monitoring_figures(world.app, world["th"], 2021)
    assert figures["totals"] == {"counts": {"unstable": 0, "edge": 0, "sudden_hardship": 1}, "monitored": 1,
                                 "eliminated": 1, "ending": 0}
    html = page("th").get("/supervise/figures", params={"year": "2021"}).text
    assert 'id="monitored-table"' in html and f"/supervise/cases?township={TOWNSHIP}&amp;monitoring=sudden_hardship" in html
    assert "2021 年风险消除" in html
    ending = dashboard.monitoring_figures(world.app, world["th"], 2024)["totals"]["ending"]
    assert ending == 3


def test_the_case_row_keeps_what_the_lists_read_and_the_migration_fills_it_for_earlier_households(world):
    import migrations
    case = consolidated(world)
    monitored(world, case, "unstable", date(2020, 4, 1))
    downgrade(world.app.engine, "0020")
    migrations.upgrade(world.app.engine)
    with world.app.engine.connect() as conn:
        row = conn.execute(select(t.cases.c.monitoring, t.cases.c.transition_until).where(t.cases.c.id == case)).first()
    assert (row.monitoring, row.transition_until) == ("unstable", date(2024, 11, 28))
    assert [r["id"] for r in list_cases(world.app, world["th"], monitoring="unstable")] == [case]
    with world.app.engine.begin() as conn:      # the lists read the row's column, not the attributes
        conn.execute(update(t.cases).where(t.cases.c.id == case).values(monitoring=None))
    assert list(list_cases(world.app, world["th"], monitoring="any")) == []


def test_a_household_removed_while_monitored_is_no_longer_listed_nor_counted(world, tmp_path):
    from tests.world import scan_file
    case = consolidated(world)
    monitored(world, case, "unstable", date(2020, 4, 1))
    world.on(date(2020, 7, 1))
    attach_evidence(world.app, world["vs"], case, "natural_change_proof", {"reason": "户内成员全部死亡"},
                    scan_file(tmp_path / "death.pdf", "death certificate"))
    world.step("vs", "removal_natural", "finding", case)
    world.step("th", "removal_natural", "township_review", case, decision="approve")
    world.step("cd", "removal_natural", "county_approval", case, decision="approve")
    assert list(list_cases(world.app, world["th"], monitoring="any")) == []
    assert list(list_cases(world.app, world["th"], transition_ends=2024)) == []
    assert dashboard.monitoring_figures(world.app, world["th"], 2020)["totals"]["monitored"] == 0
    assert case_detail(world.app, world["th"], case)["monitoring"] is None     # nothing running is shown


def test_a_household_reopened_by_a_problem_item_leaves_the_transition_lists(world):
    """A wrong exit registered as a problem item put the household back under assistance, its attributes'
    transition period taken off, but its case row kept 过渡期至 …: it stayed in the year's transition list
    and the figures' columns (demo case 643). The reopening writes the row; migration 0026 mends old rows."""
    import migrations
    from engine.services.problems import ProblemInput, register_problem
    case = consolidated(world)
    until = case_detail(world.app, world["cd"], case)["monitoring"]["transition_until"]
    year = int(until[:4])
    listed = lambda: [c["id"] for c in list_cases(world.app, world["cd"], transition_ends=year)]  # noqa: E731
    assert listed() == [case]
    world.on(date(2020, 6, 1))
    register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "assessment", "收入不实", date(2020, 5, 30),
                                                          "wrong_exit", [case]))
    assert listed() == []
    with world.app.engine.begin() as conn:        # as the reopening before this change left the case row
        conn.execute(update(t.cases).where(t.cases.c.id == case).values(transition_until=date(year, 12, 5)))
    assert listed() == [case]
    downgrade(world.app.engine, "0025")
    migrations.upgrade(world.app.engine)
    assert listed() == []
