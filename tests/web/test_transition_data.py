"""Monitoring and the transition period for data left behind by earlier versions (session 47):
households imported as exited have a transition period reckoned from their exit year (in the lists, the
figures and on their page), filled by a migration for those imported before; the figures count the
transition ends of the coming years too; a household reopened before the new-plan marker existed needs
its new plan all the same; a clue corrected to an earlier day moves an open monitoring's clock."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

import migrations
from engine.adapters import tables as t
from engine.reads import dashboard
from engine.reads.case_lists import list_cases
from engine.reads.case_record import case_detail
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_import_exit_year import households, imported
from tests.test_registry_import import write
from workflows.exit_year import note_exit_year
from tests.helpers.schema import downgrade

ids = lambda rows: sorted(r["id"] for r in rows)  # noqa: E731


def in_english(page, who: str):
    """A page client of `who` reading in English (the language a reader chose, kept in a cookie)."""
    client = page(who)
    client.cookies.set("lang", "en")
    return client


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
    en = in_english(page, "th").get(f"/cases/{cases['C2018']}").text
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
    downgrade(world.app.engine, "0023")   # back to the schema before: imports made no transition end
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
    en = in_english(page, "th").get("/supervise/figures", params={"year": "2020"}).text
    assert "transition ends in 2023" in en
    world.on(date(2024, 2, 1))
    later = dashboard.monitoring_figures(world.app, world["th"], 2024)
    assert later["ending_years"] == [2024] and later["rows"] == []
    assert "2024 年及以后也没有过渡期结束的农户" in page("th").get("/supervise/figures", params={"year": "2024"}).text


# --- a household reopened or monitored before the new-plan marker (stop 46) ------------------------------

def _as_before_the_marker(world, monkeypatch, act) -> None:
    """`act` done as the engine before stop 46 did it: no new-plan marker in the attributes, and the case
    row waiting for what its stage's main path says (the exit for a household assisted again)."""
    from workflows import household_steps
    monkeypatch.setattr(household_steps, "ask_new_plan", lambda ctx, attrs: None)
    act()
    monkeypatch.undo()


def _pending(world, case: int) -> tuple:
    with world.app.engine.connect() as conn:
        return tuple(conn.execute(select(t.cases.c.pending_procedure, t.cases.c.pending_step)
                                  .where(t.cases.c.id == case)).one())


def _set_pending(world, case: int, pending: tuple) -> None:
    with world.app.engine.begin() as conn:
        conn.execute(t.cases.update().where(t.cases.c.id == case).values(
            pending_procedure=pending[0], pending_step=pending[1]))


def test_a_household_reopened_before_the_marker_needs_its_new_plan_and_the_migration_sets_its_worklist(
        world, tmp_path, monkeypatch):
    import pytest
    from engine.domain.errors import RuleViolation
    from engine.reads.queries import next_for
    from tests.helpers.notifications import cli
    from tests.test_household_life import consolidated
    from tests.test_plan_again import back_in_poverty
    case = consolidated(world, tmp_path)
    _as_before_the_marker(world, monkeypatch, lambda: back_in_poverty(world, case))
    assert "new_plan_needed" not in case_detail(world.app, world["insp"], case)["attrs"]
    nxt = next_for(world.app, world["fs"], case)
    assert nxt["needed"]["procedure"] == "plan_revision" and nxt["next"]["procedure"] == "plan_revision"
    assert "exit" not in {o["procedure"] for o in nxt["others"]}
    told = cli(world, "insp", "case", "next", str(case)).out
    assert "2020-03-10「返贫纳入」后须重新制定帮扶计划" in told and "脱贫退出" not in told, told
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    assert refused.value.code == "check.new_plan_adopted"

    _set_pending(world, case, ("exit", "proposal"))     # as the engine before stop 46 left its case row
    downgrade(world.app.engine, "0024")
    migrations.upgrade(world.app.engine)
    assert _pending(world, case) == ("plan_revision", "plan")       # /work lists the plan to make

    world.on(date(2020, 3, 20))                     # the plan approved: the exit comes next again
    world.step("fs", "plan_revision", "plan", case, measures=(("health", "大病救助"), ("employment", "公益性岗位")))
    world.step("th", "plan_revision", "plan_approval", case, decision="approve")
    after = next_for(world.app, world["insp"], case)
    assert after["next"]["procedure"] == "exit" and "needed" not in after
    assert _pending(world, case) == ("exit", "proposal")


def test_a_household_reopened_before_the_marker_with_a_plan_approved_since_needs_none(world, tmp_path, monkeypatch):
    """Its plan approved by the engine before (which kept no day of it) answers its reopening."""
    from engine.reads.queries import next_for
    from tests.test_household_life import consolidated
    from tests.test_plan_again import back_in_poverty
    from workflows import household_steps
    from engine.services.case_actions import attach_evidence
    from tests.test_household_life import village_chain
    answered, waiting = consolidated(world, tmp_path), consolidated(world, tmp_path, ("pc2", "pc3"))
    _as_before_the_marker(world, monkeypatch, lambda: back_in_poverty(world, answered))

    def reopened_by_pc2():
        attach_evidence(world.app, world["vs"], waiting, "income_assessment", {"year": 2019, "net_income": 3000},
                        replace=True, reason="因病支出大增，重新核算")
        world.step("pc2", "reopen_return_to_poverty", "finding", waiting)
        village_chain(world, "reopen_return_to_poverty", waiting, date(2020, 3, 19), "county_approval")
    _as_before_the_marker(world, monkeypatch, reopened_by_pc2)
    world.on(date(2020, 3, 20))
    monkeypatch.setattr(household_steps, "PLAN_ADOPTED", "not_kept_then", raising=False)
    world.step("fs", "plan_revision", "plan", answered, measures=(("health", "大病救助"),))
    world.step("th", "plan_revision", "plan_approval", answered, decision="approve")
    monkeypatch.undo()
    assert next_for(world.app, world["insp"], answered)["next"]["procedure"] == "exit"
    assert next_for(world.app, world["insp"], waiting)["next"]["procedure"] == "plan_revision"


def test_a_household_monitored_before_the_marker_needs_its_assistance_measures(world, tmp_path, monkeypatch):
    from engine.reads.queries import next_for
    from tests.test_household_life import consolidated, monitor
    case = consolidated(world, tmp_path)
    _as_before_the_marker(world, monkeypatch, lambda: monitor(world, case))
    nxt = next_for(world.app, world["fs"], case)
    assert nxt["needed"]["procedure"] == "plan_revision", nxt
    assert _pending(world, case) == ("plan_revision", "plan")


# --- a clue corrected to an earlier day ------------------------------------------------------------------

def test_a_clue_corrected_to_an_earlier_day_moves_the_open_monitorings_15_days_and_a_later_one_does_not(
        world, tmp_path):
    from engine.services.case_actions import attach_evidence
    from tests.helpers.deadlines import deadlines_of
    from tests.test_household_life import consolidated, village_steps
    from tests.test_monitoring_deadlines import RULE, clue
    case = consolidated(world, tmp_path)
    world.on(date(2020, 11, 2))
    clue(world, case, "2020-10-30")                  # the monitoring started from it: due 11-14
    village_steps(world, "monitoring", case)
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.start_on, d.due_on) == (date(2020, 10, 30), date(2020, 11, 14))
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",     # the clue's day corrected: earlier
                    {"source": "走访排查", "clue_date": "2020-10-26", "monitoring_type": "unstable"},
                    replace=True, reason="线索日期填错", void_signoffs=True)
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.status, d.start_on, d.due_on) == ("open", date(2020, 10, 26), date(2020, 11, 10))
    assert (d.step_key, d.owner_id) == ("clue", world["pc1"].person_id)    # handed back for the clue's step
    world.step("pc1", "monitoring", "clue", case)                          # redone: the day stays the first clue's
    d, = deadlines_of(world, case, rule=RULE)
    assert d.due_on == date(2020, 11, 10)
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",     # corrected again, later: nothing moves
                    {"source": "走访排查", "clue_date": "2020-10-31", "monitoring_type": "unstable"},
                    replace=True, reason="再次更正", void_signoffs=True)
    d, = deadlines_of(world, case, rule=RULE)
    assert (d.start_on, d.due_on) == (date(2020, 10, 26), date(2020, 11, 10))


def test_the_figures_years_fit_a_phone_and_a_desktop_in_a_browser(world, browser):
    """The table a year a column, in Chromium: no wider than a 360 px phone (zh) or a 1280 px desktop (en)."""
    from engine.services.accounts import open_session
    from entrypoints.web.app import create_app
    from tests.web.conftest import serving
    _three(world)
    secret, _csrf = open_session(world.app, world["th"])
    with serving(create_app(world.app)) as base:
        for width, lang, heading in ((360, "zh", "过渡期 2023 年结束"), (1280, "en", "transition ends in 2023")):
            context = browser.new_context(viewport={"width": width, "height": 800})
            context.add_cookies([{"name": "jz_session", "value": secret, "url": base},
                                 {"name": "lang", "value": lang, "url": base}])
            tab = context.new_page()
            tab.goto(base + "/supervise/figures?year=2020")
            shown = tab.locator('#monitored tfoot td[data-year="2023"]')       # the total's, on a phone too
            assert shown.get_attribute("data-label") == heading and shown.inner_text() == "1"
            assert tab.evaluate("document.scrollingElement.scrollWidth") <= width
            context.close()


def test_a_registrys_batch_of_exited_households_is_in_its_years_transition_list(world):
    """60 households: a batch PostgreSQL writes by COPY, the transition end a date column among them."""
    world.on(date(2020, 6, 1))
    cases = imported(world, {f"E{i:02d}": "已脱贫（2019年）" for i in range(60)})
    assert ids(list_cases(world.app, world["th"], transition_ends=2024)) == sorted(cases.values())
