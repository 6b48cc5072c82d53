"""A person's dossier grouped (issue 11): by procedure, responsibility and role, with counts and the cases
behind each group, regions by name, in the trace read, the CLI text and the printable page."""
from __future__ import annotations

from engine.reads.trace import person_trace, render_html
from tests.test_accountability import cli, exited
from tests.world import VILLAGE


def three_exits(world) -> list[int]:
    """Three households exited, each with its own first pairing cadre (one household each)."""
    cases = []
    for first in ("pc1", "pc2", "pc3"):
        case = world.household()
        world.identify(case)
        world.assist(case, first=first, second=None)
        world.exit_evidence(case)
        world.exit(case)
        cases.append(case)
    return cases


def test_responsibilities_and_steps_are_grouped_with_their_cases(world):
    cases = three_exits(world)
    traced = person_trace(world.app, world["insp"], "ch")
    assert len(traced["responsibilities"]) >= 3                 # the rows are all still there ...
    groups = {(g["procedure"], g["type"]): g for g in traced["responsibility_groups"]}
    main = groups[("exit", "main_leadership")]                   # ... and read as one group
    assert (main["count"], main["cases"], main["case_ids"]) == (3, 3, cases)
    assert main["role"] == "county_head" and main["first"] == main["last"] == "2019-11-28"
    (did,) = [g for g in traced["step_groups"] if g["step"] == "county_approval"]
    assert (did["procedure"], did["count"], did["case_ids"], did["voided"]) == ("exit", 3, cases, 0)
    assert sum(g["count"] for g in traced["step_groups"]) == len(traced["steps"])


def test_regions_are_named(world):
    exited(world)
    traced = person_trace(world.app, world["insp"], "vs")
    assert traced["region_names"][VILLAGE] == "洋塘村"
    page = render_html(world.app, traced, "zh", "trace_person.html")
    assert "洋塘村" in page and 'class="group"' in page


def test_the_cli_dossier_prints_one_line_per_group(world):
    cases = three_exits(world)
    shown = cli(world, "insp", "trace", "--person", "ch", lang="en")
    assert shown.code == 0, shown.err
    lines = [line for line in shown.out.splitlines() if "county approval" in line and "×" in line]
    assert len(lines) == 1 and "× 3" in lines[0] and all(f"#{c}" in lines[0] for c in cases)
    rows = [line for line in shown.out.splitlines() if "county approval (County head) approved" in line]
    assert [int(r.split("#")[1].split()[0]) for r in rows] == cases[::-1]       # and each step, newest first
    assert "main leadership responsibility × 3" in shown.out
    assert "宁都县" in shown.out                                  # the post's region by its name
