"""Monitoring and the transition period for data left behind by earlier versions (session 47):
households imported as exited have a transition period reckoned from their exit year (in the lists, the
figures and on their page), filled by a migration for those imported before; the figures count the
transition ends of the coming years too; a household reopened before the new-plan marker existed needs
its new plan all the same; a clue corrected to an earlier day moves an open monitoring's clock."""
from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import select

import migrations
from engine.adapters import tables as t
from engine.reads import dashboard
from engine.reads.case_lists import list_cases
from engine.reads.case_record import case_detail
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_import_exit_year import households
from tests.test_registry_import import write
from tests.world import VILLAGE, member_ids
from workflows.exit_year import note_exit_year
from workflows.household import MemberInput
from workflows.household_import import ListedHousehold, import_households

ids = lambda rows: sorted(r["id"] for r in rows)  # noqa: E731


def imported(world, stages: dict[str, str]) -> dict[str, int]:
    """Households imported by the county office, one per (code, stage cell): their cases by code."""
    listed = [ListedHousehold(code, VILLAGE, [(2 * i + 2, MemberInput(f"迁入{i}", member_ids(2, 700 + i)[0], "head")),
                                             (2 * i + 3, MemberInput(f"配偶{i}", member_ids(2, 700 + i)[1], "spouse"))],
                              ["illness"], code=code, stage=stage) for i, (code, stage) in enumerate(stages.items())]
    written: dict[str, int] = {}

    def refuse(line, column, error):
        raise AssertionError(f"line {line}, {column}: {error}")

    import_households(world.app, world["cd"], listed, keep_good=False, source={"file": "迁入.csv", "sha256": "2" * 64},
                      on_problem=refuse, on_skipped=lambda h: None,
                      on_written=lambda h, case: written.__setitem__(h.code, case))
    return written


def _three(world) -> dict[str, int]:
    """Imported by the county office: exited in 2017, consolidated (巩固期) since a 2018 exit, exited with no
    year noted."""
    world.on(date(2020, 6, 1))
    return imported(world, {"E2017": "已脱贫（2017年）", "C2018": "巩固期（2018年）", "E0": "已脱贫"})


def test_households_imported_as_exited_are_in_the_transition_lists_figures_and_pages(world, world_clients):
    page, api = world_clients
    cases = _three(world)
    th = world["th"]
    assert ids(list_cases(world.app, th, transition_ends=2022)) == [cases["E2017"]]
    assert ids(list_cases(world.app, th, transition_ends=2023)) == [cases["C2018"]]
    assert dashboard.monitoring_figures(world.app, th, 2022)["totals"]["ending"] == 1
    shown = case_detail(world.app, th, cases["E2017"])["monitoring"]
    assert shown["transition_until"] == "2022-12-31" and shown["transition_from_year"] == 2017
    assert not shown["transition_over"]
    assert case_detail(world.app, th, cases["E0"])["monitoring"] is None      # no year: nothing to reckon from
    html = page("th").get(f"/cases/{cases['C2018']}").text
    assert "过渡期至 2023 年底（按导入时注明的脱贫年度 2018 年推算）" in html
    en = page("th").get(f"/cases/{cases['C2018']}", cookies={"lang": "en"}).text
    assert "transition period until the end of 2023 (reckoned from the exit year 2018" in en
    assert api("th").get(f"/api/v1/cases/{cases['E2017']}").json()["monitoring"]["transition_from_year"] == 2017
    html = page("th").get("/supervise/cases", params={"transition_ends": "2022"}).text
    assert f'data-case="{cases["E2017"]}"' in html and f'data-case="{cases["C2018"]}"' not in html

    # the year noted later by the county office: the period reckoned from it, listed from then on
    note_exit_year(world.app, world["cd"], cases["E0"], 2019, "据全国系统 2019 年脱贫名单核对")
    assert ids(list_cases(world.app, th, transition_ends=2024)) == [cases["E0"]]
    world.on(date(2023, 2, 1))            # the 2017 exit's period is over at the end of 2022: said so
    shown = case_detail(world.app, th, cases["E2017"])["monitoring"]
    assert shown["transition_over"]
    assert "过渡期已于 2022 年底结束" in page("th").get(f"/cases/{cases['E2017']}").text


def test_the_migration_fills_the_transition_end_of_households_imported_before(world):
    cases = _three(world)
    cfg = migrations.alembic_config(world.app.engine.url.render_as_string(hide_password=False))
    with world.app.engine.begin() as conn:       # back to the schema before: imports made no transition end
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0023")
    ends = lambda: dict(world.app.engine.connect().execute(  # noqa: E731
        select(t.cases.c.id, t.cases.c.transition_until).where(t.cases.c.id.in_(cases.values()))).all())
    assert set(ends().values()) == {None}
    migrations.upgrade(world.app.engine)
    assert ends() == {cases["E2017"]: date(2022, 12, 31), cases["C2018"]: date(2023, 12, 31), cases["E0"]: None}
    assert ids(list_cases(world.app, world["th"], transition_ends=2022)) == [cases["E2017"]]


def test_the_import_and_case_show_say_the_transition_reckoned_and_its_absence(home, tmp_path):  # noqa: F811
    result = home("cd", "household", "import", write(tmp_path / "迁入.csv", households("已脱贫（2022年）", "已脱贫")))
    assert result.code == 0, result.err
    assert "这 1 户也没有过渡期结束日期，不在过渡期名单和统计中" in result.err
    assert "过渡期至 2027 年底（按导入时注明的脱贫年度 2022 年推算）" in home("cd", "case", "show", "1").out
    assert "transition period until the end of 2027" in home("cd", "case", "show", "1", lang="en").out
    assert "过渡期" not in home("cd", "case", "show", "2").out
    listed = home("cd", "case", "list", "--transition-ends", "2027")
    assert listed.code == 0 and "1\t" in listed.out and "2\t" not in listed.out


def test_the_figures_count_the_transition_ends_of_this_year_and_each_later_one(world, world_clients):
    page, _api = world_clients
    cases = _three(world)                  # on 2020-06-01: periods ending in 2022 and 2023
    figures = dashboard.monitoring_figures(world.app, world["th"], 2020)
    assert figures["ending_years"] == [2020, 2021, 2022, 2023]
    assert figures["ending_totals"] == {2020: 0, 2021: 0, 2022: 1, 2023: 1} and figures["totals"]["ending"] == 0
    html = page("th").get("/supervise/figures", params={"year": "2020"}).text
    for year in (2020, 2021, 2022, 2023):
        assert f"过渡期 {year} 年结束" in html
    assert "/supervise/cases?transition_ends=2023" in html and "过渡期在 2020 年和此后各年结束的户数" in html
    assert f'data-case="{cases["C2018"]}"' in page("th").get("/supervise/cases", params={"transition_ends": "2023"}).text
    en = page("th").get("/supervise/figures", params={"year": "2020"}, cookies={"lang": "en"}).text
    assert "transition ends in 2023" in en
    world.on(date(2024, 2, 1))
    later = dashboard.monitoring_figures(world.app, world["th"], 2024)
    assert later["ending_years"] == [2024] and later["rows"] == []
    assert "2024 年及以后也没有过渡期结束的农户" in page("th").get("/supervise/figures", params={"year": "2024"}).text
