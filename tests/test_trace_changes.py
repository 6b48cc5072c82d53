"""What an inspector reads of a case's changes (walk 36, finding 3): every event besides the steps (a
member changed, an item replaced, the head changed, an exit year noted) with when, who in which post,
why, and what it changed (old → new), in the text trace and the printed dossier as on the web trace."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.services.case_actions import attach_evidence
from tests.test_accountability import cli
from workflows.household import update_member


def child_of(world, case: int) -> tuple[str, str]:
    with world.app.engine.connect() as conn:
        row = conn.execute(select(t.household_members.c.name, t.household_members.c.id_number).where(
            t.household_members.c.case_id == case, t.household_members.c.relation == "child")).one()
    return row.name, row.id_number


def back_in_school(world, tmp_path) -> tuple[int, str]:
    """A household refused its exit for a child out of school; the child recorded back in school and
    the income sheet replaced; the exit proposed again and decided."""
    case = world.household(school_age_child="dropped_out")
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, tmp=tmp_path)
    with pytest.raises(RuleViolation):
        world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    name, number = child_of(world, case)
    update_member(world.app, world["vs"], case, number, {"school_enrolment": "enrolled"}, "9月已返校就读，劝返成功")
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 12000},
                    replace=True, reason="补记务工收入")
    world.exit(case)
    return case, name


def test_the_text_trace_lists_every_change_with_who_what_and_why(world, tmp_path):
    case, child = back_in_school(world, tmp_path)
    text = cli(world, "insp", "trace", case)
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    start = lines.index("其他操作（材料、登记、成员变动、走访等）：")
    acts = lines[start:]
    (changed,) = [i for i, line in enumerate(acts) if "修改成员" in line]
    assert "2019-11-20 10:00" in acts[changed] and "(vs, 村党支部书记)" in acts[changed]
    assert acts[changed].endswith("— 9月已返校就读，劝返成功") and acts[changed + 1].strip() == f"{child}：在校情况 辍学 → 在校生"
    (replaced,) = [i for i, line in enumerate(acts) if "更换材料" in line]
    assert acts[replaced].endswith("— 补记务工收入") and "收入核算明细表：家庭纯收入 10,000 → 12,000" in acts[replaced + 2]
    assert not any("审批" in line for line in acts)                  # the steps are told above, once
    english = cli(world, "insp", "trace", case, lang="en").out
    assert "Other acts (evidence, registrations, member changes, visits…):" in english
    assert re.search(r"member updated — .+ \(vs, Village Party secretary\) — 9月已返校就读，劝返成功", english)
    assert f"{child}: school enrolment dropped out → enrolled" in english


def test_the_printed_dossier_says_who_changed_what_and_why(world, tmp_path):
    case, child = back_in_school(world, tmp_path)
    page = tmp_path / "dossier.html"
    assert cli(world, "insp", "trace", case, "--html", page).code == 0
    html = page.read_text(encoding="utf-8")
    row = re.search(r'<tr class="event" data-action="member_updated">.*?</tr>', html, re.S).group(0)
    assert "修改成员" in row and "(vs)" in row and "村党支部书记" in row
    assert "事由：9月已返校就读，劝返成功" in row and f"{child}：在校情况 辍学 → 在校生" in row
    row = re.search(r'<tr class="event" data-action="evidence_replaced">.*?</tr>', html, re.S).group(0)
    assert "事由：补记务工收入" in row and "收入核算明细表：家庭纯收入 10,000 → 12,000" in row
    english = tmp_path / "dossier-en.html"
    assert cli(world, "insp", "trace", case, "--html", english, lang="en").code == 0
    row = re.search(r'<tr class="event" data-action="member_updated">.*?</tr>',
                    english.read_text(encoding="utf-8"), re.S).group(0)
    assert "grounds: 9月已返校就读，劝返成功" in row and f"{child}: school enrolment dropped out → enrolled" in row
