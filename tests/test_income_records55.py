"""Two income records told apart (a11 #8, a10 #6): the 收支核查表 (income_check) an application comes with
does not stand in for the 收入核算明细表 (income_assessment) the exit judges by. A step needing the latter on
a household holding only the former says so, why, and the command to record it; the evidence forms, the
village's sheet and `evidence template` say what each is for."""
from __future__ import annotations

import re

from engine.reads.queries import next_for
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_import_pairings55 import listed_household
from tests.world import VILLAGE
from workflows.household_import import import_households


def assisted(world) -> int:
    case = world.household()          # its application's income check (收支核查表) on file
    world.identify(case)
    world.assist(case)
    return case


def test_the_exit_says_the_income_check_on_file_does_not_count_and_what_to_record(world):
    case = assisted(world)
    blockers = next_for(world.app, world["vs"], case)["next"]["blockers"]
    said = [b for b in blockers if "收入核算明细表" in b]
    assert len(said) == 1, blockers
    assert "本户现有的收支核查表" in said[0] and "不能代替" in said[0] and "申请识别" in said[0]
    assert f"jingzhun evidence add {case} income_assessment --field year=" in said[0]
    # the other missing evidence is still said as missing, without the income computation
    missing = [b for b in blockers if b.startswith("缺少材料") and b is not said[0]]
    assert missing and all("收入核算明细表" not in b for b in missing) and "住房安全鉴定" in missing[0]
    english = " ".join(next_for(world.app, world["vs"], case, lang="en")["next"]["blockers"])
    assert "does not stand in for it" in english and "income_assessment" in english


def test_a_household_without_the_income_check_is_told_only_that_the_computation_is_missing(world):
    written = []             # imported assisted: no application, no income check on file
    import_households(world.app, world["cd"], [listed_household(0, VILLAGE)], keep_good=False,
                      source={"file": "全县.csv", "sha256": "3" * 64}, on_problem=lambda *a: None,
                      on_skipped=lambda h: None, on_written=lambda h, case: written.append(case))
    blockers = next_for(world.app, world["vs"], written[0])["next"]["blockers"]
    assert not any("不能代替" in b for b in blockers) and any("收入核算明细表" in b for b in blockers)


def test_evidence_template_says_what_the_income_check_is_for(home, tmp_path):  # noqa: F811
    told = home.ok("vs", "evidence", "template", "--village", VILLAGE, "--type", "收支核查表",
                   "--out", str(tmp_path / "收支.xlsx")).out
    assert "申请识别时用" in told and "须另填收入核算明细表" in told
