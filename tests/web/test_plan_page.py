"""The household page's pairing and plan: the measures in force, then a revision's measures marked as
awaiting approval; measures a later plan replaced are left to the record (trace, dossier)."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.cases import StepInput
from engine.services.procedures import perform_step
from tests.web.bulk_world import actor, core, demo_home, web  # noqa: F401

VILLAGE = "360730100205"      # its households in assistance have nothing open at the demo's end


def _assisted(core) -> int:
    """A household of the village in assistance (assisted, or exited and still assisted), nothing open."""
    with core.engine.connect() as conn:
        return conn.execute(select(t.cases.c.id).where(
            t.cases.c.kind == "household", t.cases.c.region_code == VILLAGE,
            t.cases.c.stage.in_(("assisted", "exited", "consolidated")),
            t.cases.c.open_procedure_id.is_(None)).order_by(t.cases.c.id)).scalars().first()


def _plan_section(html: str) -> list[str]:
    """The measures the page lists (its pairings left out), each as its words read."""
    section = re.search(r'<section id="assistance">(.*?)</section>', html, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", section, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", li)).strip() for li in items if "帮扶责任人" not in li]


def test_the_plan_in_force_then_the_one_awaiting_approval_and_no_measure_replaced(signed_in, core):
    case = _assisted(core)
    first, head = actor(core, "v05_first"), actor(core, "t1_head")
    perform_step(core, first, "plan_revision", "plan", [case], StepInput(measures=(("employment", "扶贫车间务工"),)))
    perform_step(core, head, "plan_revision", "plan_approval", [case], StepInput(decision="approve"))
    perform_step(core, first, "plan_revision", "plan", [case], StepInput(measures=(("industry", "养蜂二十箱"),)))
    page = signed_in("township").get(f"/cases/{case}")
    assert page.status_code == 200
    listed = _plan_section(page.text)
    assert [line.split(" ")[0] for line in listed] == ["就业帮扶：扶贫车间务工", "产业帮扶：养蜂二十箱"], listed
    assert "待审批" not in listed[0] and listed[1].endswith("待审批")
    # the revision is the whole new plan: the measure in force it does not hold is marked to end
    assert listed[0].endswith("调整获批后终止"), listed


def test_a_revision_starts_from_the_plan_in_force():
    """Revising a plan had meant typing every measure again: the form holds those in force, one a line
    as the form reads them back (类别：内容), in the reader's language."""
    from entrypoints.web.forms import prefilled
    case = {"measures": [
        {"category": "industry", "description": "种植脐橙", "status": "ended"},
        {"category": "employment", "description": "扶贫车间务工", "status": "in_force"},
        {"category": "education", "description": "雨露计划", "status": "in_force"},
        {"category": "health", "description": "家庭医生签约", "status": "proposed"}]}
    assert prefilled(case, {"type": "plan"}, "zh") == {"measures": "就业帮扶：扶贫车间务工\n教育帮扶：雨露计划"}
    assert prefilled(case, {"type": "plan"}, "en") == {"measures": "employment: 扶贫车间务工\neducation: 雨露计划"}
    assert prefilled(case, {"type": "signoff"}, "zh") == {} and prefilled({"measures": []}, {"type": "plan"}, "zh") == {}
    from workflows.household_codes import measure_code
    assert [measure_code(line.split("：")[0]) for line in prefilled(case, {"type": "plan"}, "zh")["measures"].splitlines()] \
        == ["employment", "education"]                  # what the step reads back


def test_a_change_of_pairing_cadres_starts_from_those_paired_now():
    """Leaving a cadre out of the pairing form ends their pairing: the form starts with those paired now."""
    from entrypoints.web.forms import prefilled
    case = {"pairings": [{"person": "pc_old", "kind": "first", "end": "2020-01-01"},
                         {"person": "pc_1", "kind": "first", "end": None},
                         {"person": "pc_2", "kind": "second", "end": None}]}
    assert prefilled(case, {"type": "pairing"}, "zh") == {"first_cadre": "pc_1", "second_cadre": "pc_2"}


def test_the_plan_lines_a_revision_as_the_whole_new_plan():
    from engine.reads.case_record import mark_ending
    from entrypoints.web.forms import plan_lines
    kept = {"category": "industry", "description": "种植脐橙", "status": "in_force"}
    dropped = {"category": "health", "description": "家庭医生", "status": "in_force"}
    again = {"category": "industry", "description": "种植脐橙", "status": "proposed"}
    new = {"category": "employment", "description": "公益性岗位", "status": "proposed"}
    ended = {"category": "housing", "description": "危房改造", "status": "ended"}
    assert plan_lines(mark_ending([kept, dropped, again, new, ended])) == [(kept, None), (dropped, "ending"),
                                                                         (new, "proposed")]
    kept, dropped = ({k: v for k, v in m.items() if k != "ends_on_approval"} for m in (kept, dropped))
    assert plan_lines(mark_ending([kept, dropped])) == [(kept, None), (dropped, None)]   # nothing waits: nothing ends
