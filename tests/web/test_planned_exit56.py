"""(s56 p2 #4) The national file's 计划脱贫年度 is read and kept on the household: from that year its exit's
proposal is on the village's /work and `case next` says so; before it, and for a household imported
without one, it is not (as n3 left it). SQLite and PostgreSQL, through the web app."""
from __future__ import annotations

import re

from engine.reads.queries import next_for
from tests.test_import_exit_year import member_ids
from tests.world import VILLAGE
from workflows.household import MemberInput
from workflows.household_import import ListedHousehold, import_households


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style).*?</\1>", "", html)))


def _imported(world, planned: dict[str, str | None]) -> dict[str, int]:
    listed = []
    for i, (code, year) in enumerate(planned.items()):
        head, spouse = member_ids(2, 800 + i)
        h = ListedHousehold(code, VILLAGE, [(2 * i + 2, MemberInput(f"计划{i}", head, "head")),
                                            (2 * i + 3, MemberInput(f"配偶{i}", spouse, "spouse"))],
                            ["illness"], code=code, stage="帮扶中")
        h.planned_exit_year = year
        listed.append(h)
    written: dict[str, int] = {}

    def refuse(line, column, error):
        raise AssertionError(f"line {line}, {column}: {error}")

    import_households(world.app, world["cd"], listed, keep_good=False, source={"file": "迁入.csv", "sha256": "5" * 64},
                      on_problem=refuse, on_skipped=lambda h: None,
                      on_written=lambda h, case: written.__setitem__(h.code, case))
    return written


def test_an_imported_household_s_exit_is_work_from_the_year_its_registry_planned_it_for(world, world_clients):
    year = world.app.clock.today().year
    cases = _imported(world, {"P0": f"{year}年", "P1": str(year + 1), "N": None})
    page, _ = world_clients
    work = page("vd").get("/work")
    assert work.status_code == 200
    assert f'data-case="{cases["P0"]}"' in work.text, _text(work.text)[:1500]
    assert f'data-case="{cases["P1"]}"' not in work.text and f'data-case="{cases["N"]}"' not in work.text
    now = next_for(world.app, world["vd"], cases["P0"])["figures"]
    assert now["planned_exit_year"] == year and f"原名册计划 {year} 年脱贫" in now["lines"][-1] \
        and "已列入待办" in now["lines"][-1]
    later = next_for(world.app, world["vd"], cases["P1"])["figures"]
    assert f"自 {year + 1} 年起" in later["lines"][-1]
    assert "planned_exit_year" not in next_for(world.app, world["vd"], cases["N"])["figures"]
    shown = page("vd").get(f"/cases/{cases['P0']}").text
    assert 'id="planned-exit"' in shown and f"原名册计划 {year} 年脱贫" in _text(shown)


def test_a_planned_year_that_is_no_year_is_the_row_s_problem(world):
    problems = []
    head, _spouse = member_ids(2, 900)
    h = ListedHousehold("B", VILLAGE, [(2, MemberInput("甲", head, "head"))], ["illness"], code="B", stage="帮扶中")
    h.planned_exit_year = "明年"
    good = ListedHousehold("G", VILLAGE, [(3, MemberInput("乙", member_ids(2, 902)[0], "head"))], ["illness"],
                           code="G", stage="帮扶中")
    import_households(world.app, world["cd"], [h, good], keep_good=True, source={"file": "x.csv", "sha256": "6" * 64},
                      on_problem=lambda line, column, e: problems.append((line, column, e.code)),
                      on_skipped=lambda h: None, on_written=lambda h, case: None)
    assert problems == [(2, "planned_exit_year", "import.bad_exit_year")]
