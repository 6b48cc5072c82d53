"""What an inspector reads of a case's changes (walk 36, finding 3): every event besides the steps (a
member changed, an item replaced, the head changed, an exit year noted) with when, who in which post,
why, and what it changed (old → new), in the text trace and the printed dossier as on the web trace;
and the exit decision records what its standard read besides the income, so that the trace says
what the decision was made on even after a member or an item changed."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.reads.audit_verify import verify
from engine.reads.trace import case_trace
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


def test_the_exit_decision_records_the_facts_it_read_besides_the_income(world, tmp_path):
    case, child = back_in_school(world, tmp_path)
    traced = case_trace(world.app, world["insp"], case)
    exit_steps = {s["step"]: s for p in traced["procedures"] if p["kind"] == "exit" for s in p["steps"]}
    facts = exit_steps["county_approval"]["data"]["exit_facts"]
    assert facts["education_ages"] == [6, 15] and [child, 9, "enrolled", True, True] in facts["members"]
    assert (facts["housing"], facts["water"], facts["food"], facts["clothing"]) == ({"grade": "A"}, True, True, True)
    assert "exit_facts" in exit_steps["proposal"]["data"]                # the proposal read them too
    for step in ("proposal", "county_approval"):
        said = dict(exit_steps[step]["data_words"])
        assert said["义务教育核对"] == f"{child}（9 岁）在校生"
        assert said["基本医疗核对"] == "3 人均已参加基本医保和大病保险"
        assert (said["住房安全核对"], said["饮水安全"], said["不愁吃"], said["不愁穿"]) == ("A级（安全）", "是", "是", "是")
    # what the decision saw stays what it saw: the child dropping out again later is a change of its own
    _, number = child_of(world, case)
    update_member(world.app, world["vs"], case, number, {"school_enrolment": "dropped_out"}, "再次辍学")
    text = cli(world, "insp", "trace", case).out
    approval = text[text.index("县级审批: 同意", text.index("脱贫退出")):]
    assert f"义务教育核对：{child}（9 岁）在校生" in approval.split("公告")[0]
    assert f"{child}：在校情况 在校生 → 辍学" in text
    english = cli(world, "insp", "trace", case, lang="en").out
    assert f"compulsory education check: {child} (aged 9) enrolled" in english
    assert "medical insurance check: every member insured, basic and critical illness (3 in the household)" in english
    assert verify(world.app, processes=1).intact


def test_a_decision_with_no_child_of_school_age_and_a_member_not_insured_says_so(world, tmp_path):
    """The words of facts a passing decision does not show (no child of school age; a member's
    insurance not recorded), as an older step's or another workflow's data may hold them."""
    from engine.reads.words import exit_fact_words
    facts = {"education_ages": [6, 15], "members": [["王芳", 40, "none", True, None], ["李强", 42, "none", True, False]],
             "housing": {"grade": "C", "renovated_accepted": True}}
    assert dict(exit_fact_words(world.app.config, facts, "zh")) == {
        "义务教育核对": "户内无 6–15 岁成员", "基本医疗核对": "王芳：基本医保 是，大病保险 未登记；李强：基本医保 是，大病保险 否",
        "住房安全核对": "C级（局部危房）、危房改造已验收"}
    assert dict(exit_fact_words(world.app.config, facts, "en"))["medical insurance check"] == (
        "王芳: basic yes, critical illness not recorded; 李强: basic yes, critical illness no")


def test_a_household_with_no_procedure_yet_says_no_rule_version_rather_than_nothing(world, tmp_path):
    """A household just registered (or imported, already exited, from another system) printed
    `适用规则版本: ` with nothing after it, in the trace and the dossier."""
    case = world.household()
    text = cli(world, "insp", "trace", case)
    assert text.code == 0 and "适用规则版本：无（尚未办理任何程序）" in text.out, text.out
    assert "rule versions: none (no procedure yet)" in cli(world, "insp", "trace", case, lang="en").out
    page = tmp_path / "追溯.html"
    assert cli(world, "insp", "trace", case, "--html", page).code == 0
    assert "无（尚未办理任何程序）" in page.read_text(encoding="utf-8")
