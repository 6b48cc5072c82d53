"""The transition period (过渡期) of a household that exits through the procedure runs from its exit
(DOMAIN §3: 5 years from exit): it is in its year's transition list, the figures, on its page, in the CLI
and the API from the day the exit completes, not only once it is consolidated; consolidation keeps the
end, a reopening takes it off; migration 0028 fills it for households already exited. A change of
`transition_period_years` installed by `jingzhun config install` moves every household's end at once
(the case rows' column the lists read), and says how many; the record still verifies."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

import migrations
from engine.adapters import tables as t
from engine.reads import dashboard
from engine.reads.case_lists import list_cases
from engine.reads.case_record import case_detail
from tests.helpers.rules_copy import rules_copy
from tests.helpers.schema import downgrade
from tests.test_import_exit_year import imported
from tests.web.test_monitoring_shown import cli, consolidated
from tests.web.test_transition_data import in_english

ids = lambda rows: sorted(r["id"] for r in rows)  # noqa: E731


def exited(world, first: str = "pc1") -> int:
    """A household exited through the procedure on 2019-11-28 (its announcement), not consolidated."""
    case = world.household()
    world.identify(case)
    world.assist(case, first, None)
    world.exit_evidence(case)
    world.exit(case)
    return case


def _column(world, case: int):
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.cases.c.transition_until).where(t.cases.c.id == case)).scalar()


def test_a_household_exited_through_the_procedure_is_in_its_transition_lists_from_its_exit(world, world_clients):
    page, api = world_clients
    case = exited(world)
    th = world["th"]
    assert ids(list_cases(world.app, th, transition_ends=2024)) == [case]
    shown = case_detail(world.app, th, case)["monitoring"]
    assert shown["transition_until"] == "2024-11-28" and not shown["transition_over"]
    figures = dashboard.monitoring_figures(world.app, th, 2019)       # on the day of its exit
    assert figures["ending_totals"][2024] == 1, figures
    assert "过渡期至 2024-11-28" in page("th").get(f"/cases/{case}").text
    assert "transition period until 2024-11-28" in in_english(page, "th").get(f"/cases/{case}").text
    assert f'data-case="{case}"' in page("th").get("/supervise/cases", params={"transition_ends": "2024"}).text
    assert "/supervise/cases?transition_ends=2024" in page("th").get("/supervise/figures",
                                                                     params={"year": "2019"}).text
    listed = api("th").get("/api/v1/cases", params={"transition_ends": 2024}).json()
    assert [c["id"] for c in listed["cases"]] == [case], listed
    assert api("th").get(f"/api/v1/cases/{case}").json()["monitoring"]["transition_until"] == "2024-11-28"
    said = cli(world, "th", "case", "list", "--transition-ends", "2024")
    assert said.code == 0 and f"{case}\t" in said.out, said.err
    assert "过渡期至 2024-11-28" in cli(world, "th", "case", "show", str(case)).out

    world.on(date(2020, 1, 10))                 # consolidated: the same end, from the same exit
    world.step("ts2", "consolidation", "enrolment", case)
    world.step("cs", "consolidation", "county_filing", case, decision="approve")
    assert _column(world, case) == date(2024, 11, 28)
    assert case_detail(world.app, th, case)["attrs"]["transition_until"] == "2024-11-28"


def test_a_household_reopened_before_consolidation_leaves_the_transition_lists(world):
    from engine.services.case_actions import attach_evidence
    from tests.test_household_life import village_chain
    case = exited(world)
    assert ids(list_cases(world.app, world["th"], transition_ends=2024)) == [case]
    world.on(date(2020, 3, 1))                  # fallen back under the line before its consolidation (返贫)
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 3000},
                    replace=True, reason="因病支出大增，重新核算")
    world.step("pc1", "reopen_return_to_poverty", "finding", case)
    village_chain(world, "reopen_return_to_poverty", case, date(2020, 3, 10), "county_approval")
    assert list(list_cases(world.app, world["th"], transition_ends=2024)) == []
    assert _column(world, case) is None
    assert case_detail(world.app, world["th"], case)["monitoring"] is None


def test_the_migration_fills_the_transition_end_of_households_already_exited(world):
    done, waiting = consolidated(world, "pc1", None), exited(world, "pc2")

    def as_before(conn) -> None:                # the engine before: an exit alone wrote no transition end
        conn.execute(update(t.cases).where(t.cases.c.id == waiting).values(transition_until=None))
    downgrade(world.app.engine, "0027", as_before)
    assert ids(list_cases(world.app, world["th"], transition_ends=2024)) == [done]
    migrations.upgrade(world.app.engine)
    assert (_column(world, waiting), _column(world, done)) == (date(2024, 11, 28), date(2024, 11, 28))
    assert ids(list_cases(world.app, world["th"], transition_ends=2024)) == sorted([done, waiting])
    assert dashboard.monitoring_figures(world.app, world["th"], 2020)["ending_totals"][2024] == 2


def test_a_new_transition_period_installed_moves_every_households_end_and_says_how_many(world, world_clients,
                                                                                       tmp_path):
    page, api = world_clients
    done, waiting = consolidated(world, "pc1", None), exited(world, "pc2")
    world.on(date(2020, 6, 1))
    e2017 = imported(world, {"E2017": "已脱贫（2017年）"})["E2017"]
    assert ids(list_cases(world.app, world["th"], transition_ends=2024)) == sorted([done, waiting])
    six = rules_copy(tmp_path, {"policy.yaml": ("transition_period_years: 5 ", "transition_period_years: 6 ")})
    installed = cli(world, "admin", "config", "install", str(six))
    assert installed.code == 0, installed.err
    assert "3 户的过渡期结束日期已按新规则重算" in installed.out, installed.out
    assert list(list_cases(world.app, world["th"], transition_ends=2024)) == []
    assert ids(list_cases(world.app, world["th"], transition_ends=2025)) == sorted([done, waiting])
    assert ids(list_cases(world.app, world["th"], transition_ends=2023)) == [e2017]       # 2017 + 6, to its end
    assert dashboard.monitoring_figures(world.app, world["th"], 2020)["ending_totals"][2025] == 2
    with world.app.in_force():                   # the rules installed, as a server takes them
        assert case_detail(world.app, world["th"], waiting)["monitoring"]["transition_until"] == "2025-11-28"
    assert "过渡期至 2025-11-28" in page("th").get(f"/cases/{done}").text
    assert api("th").get(f"/api/v1/cases/{waiting}").json()["monitoring"]["transition_until"] == "2025-11-28"
    verified = cli(world, "admin", "audit", "verify")
    assert verified.code == 0, verified.out + verified.err

    five = rules_copy(tmp_path, name="five")      # back to five years: in English, the count again
    again = cli(world, "admin", "--lang", "en", "config", "install", str(five))
    assert again.code == 0, again.err
    assert "The transition ends of 3 households were reckoned again under the new rules" in again.out, again.out
    assert ids(list_cases(world.app, world["th"], transition_ends=2024)) == sorted([done, waiting])
    unchanged = cli(world, "admin", "config", "install", str(five))
    assert unchanged.code == 0 and "过渡期结束日期" not in unchanged.out, unchanged.out + unchanged.err


def test_an_upgrade_whose_packaged_rules_change_the_period_moves_the_ends_too(world, tmp_path):
    """A home that runs on the packaged rules takes a release's new ones at `jingzhun init` (the upgrade)."""
    from config import load_config
    from entrypoints.bootstrap import init_home
    case = exited(world)
    six = load_config(rules_copy(tmp_path, {"policy.yaml": ("transition_period_years: 5 ",
                                                            "transition_period_years: 6 ")}))
    upgraded, _token = init_home(world.app.settings, config=six, clock=world.clock)
    upgraded.close()
    assert _column(world, case) == date(2025, 11, 28)
    assert ids(list_cases(world.app, world["th"], transition_ends=2025)) == [case]


def test_two_installs_in_the_same_second_each_keep_the_rules_they_replace(world, tmp_path, monkeypatch):
    """The rules replaced are kept as config.replaced-<second>: a second install within the same second
    failed with a traceback (the name taken), a script installing twice in a row saw it."""
    import time
    monkeypatch.setattr(time, "time", lambda: 1796588059.0)
    for name in ("first", "second", "third"):
        installed = cli(world, "admin", "config", "install", str(rules_copy(tmp_path, name=name)))
        assert installed.code == 0, installed.err
    kept = sorted(p.name for p in world.app.settings.home.iterdir() if p.name.startswith("config.replaced-"))
    assert kept == ["config.replaced-1796588059", "config.replaced-1796588059-1"]
