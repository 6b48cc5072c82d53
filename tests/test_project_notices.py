"""A fund project's notices in its own words (project.yaml's notice steps, `wording: project`): the
board says what is decided and may be objected to. A funding notice had listed the project with an
empty household-size column and none of its money; a contractor notice opened with the households'
"经民主评议和审核" and said nothing of how or when the contractor was chosen. Now each project's
notice opens in its own words and lists its site, unit, leader, money by source with the fund
documents, completion date and beneficiaries; a contractor notice says how and when it was chosen; a
change of contractor's notice whom it replaces and why; a household's notice reads as before."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.notices import notice_for_reader, render
from tests.helpers.projects import add_project, enter_library, fund, households, objected_allocation
from tests.test_project_contractor import new_contract, step
from tests.test_project_figures import ok
from tests.test_project_money_rules import funded
from tests.world import World

HOUSEHOLD_WORDS = ("经民主评议和审核", "家庭人口", "After democratic appraisal", "Household size")


def notice_of(world: World, step_key: str) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.notices.c.id).where(t.notices.c.step_key == step_key)
                            .order_by(t.notices.c.id.desc())).scalars().first()


def texts(world: World, notice: int) -> dict[str, str]:
    """The notice as posted (its stored text), in English, and as printed for the board in both languages."""
    view, posted = notice_for_reader(world.app, world["insp"], notice)
    return {"posted": posted, "en": render(world.app, view, "en"), "html": render(world.app, view, "zh", html=True),
            "html_en": render(world.app, view, "en", html=True)}


def funded_project_notice(world: World, step_key: str) -> dict[str, str]:
    """A project of two households taken into the library and funded: its notice of `step_key` (texts)."""
    case = add_project(world, households(world, 2))
    enter_library(world, case)
    fund(world, case)
    return texts(world, notice_of(world, step_key))


def leader_name(world: World) -> str:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.persons.c.name).where(t.persons.c.code == "ts3")).scalar_one()


def test_a_funding_notice_lists_the_project_its_money_by_source_and_its_documents_not_a_household_size(world):
    shown = funded_project_notice(world, "allocation_notice")
    posted = shown["posted"]
    for words in HOUSEHOLD_WORDS:
        assert all(words not in text for text in shown.values()), words
    assert "下列项目的资金已经下达，现将资金安排予以公示" in posted
    for line in ("1. 洋塘村脐橙基地", "实施地点：洋塘村", "项目类别：产业发展", "责任单位：县农业农村局",
                 f"项目负责人：{leader_name(world)}", "下达资金：县级财政 200,000.00 元；统筹整合资金 100,000.00 元",
                 "资金合计：300,000.00 元", "资金文件：宁财农〔2019〕30号", "资金下达日期：2019-04-16",
                 "计划完成日期：2019-10-31", "受益贫困户：2户", "绩效目标：带动2户贫困户年均增收2000元"):
        assert line in posted, line
    assert "宁财农〔2019〕12号" not in posted              # the budget's document: the allocation's is in force
    english = shown["en"]
    assert "Funds have been allocated to the following projects" in english
    assert "Funds allocated: county budget 200,000.00 yuan" in english and "Total: 300,000.00 yuan" in english
    assert "Fund documents: 宁财农〔2019〕30号" in english and "2 households" in english
    for html in (shown["html"], shown["html_en"]):      # the board: a table of the project's facts, no household column
        assert '<table class="project">' in html and "300,000.00" in html and "宁财农〔2019〕30号" in html
    # the library notices: the budget as proposed, with its document
    library = texts(world, notice_of(world, "village_notice"))["posted"]
    assert "拟申报纳入县级脱贫攻坚项目库" in library and "预算资金：县级财政 200,000.00 元" in library
    assert "资金文件：宁财农〔2019〕12号" in library and "家庭人口" not in library
    # the CLI prints what was posted, and in English the project's words
    assert ok(world, "insp", "notice", "render", notice_of(world, "allocation_notice")).strip() == posted.strip()
    assert "Funds allocated" in ok(world, "insp", "--lang", "en", "notice", "render", notice_of(world, "allocation_notice"))
    # the beneficiaries' own notice, a household list: as before, and as posted when rendered again
    view, household = notice_for_reader(world.app, world["insp"], notice_of(world, "first_notice"))
    assert "经民主评议和审核，现将下列名单予以公示" in household and "人" in household.split("\n")[3]
    assert render(world.app, view) == household and "项目名称" not in household
    assert "家庭人口" in render(world.app, view, "zh", html=True)


def test_a_contractor_notice_says_how_and_when_the_contractor_was_chosen(world):
    shown = funded_project_notice(world, "contractor_notice")
    posted = shown["posted"]
    assert "经民主评议和审核" not in posted and "下列项目的施工单位已经选定，现将选定情况予以公示" in posted
    for line in ("施工单位：宁都县农建公司", "统一社会信用代码：91360730MA35F0QX13", "选定方式：公开招标", "选定日期：2019-04-25", "资金合计：300,000.00 元"):
        assert line in posted, line
    assert "How chosen: 公开招标" in shown["en"] and "A contractor has been chosen" in shown["en"]
    assert "选定方式" in shown["html"] and "公开招标" in shown["html"]


def test_a_change_of_contractor_s_notice_says_whom_it_replaces_and_why(world, tmp_path):
    case, _ = funded(world)
    new_contract(world, case, tmp_path)
    ok(world, *step("ts1", "contractor_change_request", case, "2019-07-02", "--reason", "原施工单位资金链断裂，合同解除"))
    ok(world, *step("ts2", "new_contractor_notice", case, "2019-07-03"))
    shown = texts(world, notice_of(world, "new_contractor_notice"))
    posted = shown["posted"]
    assert "下列项目拟更换施工单位，现将更换情况和原因予以公示" in posted and "经民主评议和审核" not in posted
    for line in ("原施工单位：宁都县农建公司（自 2019-05-03）", "新施工单位：赣州市路桥公司",
                 "统一社会信用代码：91360700MA35G7RB38", "合同编号：SG-2019-031",
                 "更换原因：原施工单位资金链断裂，合同解除"):
        assert line in posted, line
    assert "new contractor: 赣州市路桥公司" in shown["en"].lower()
    assert "原施工单位资金链断裂" in shown["html"]


def test_a_plan_change_s_notice_says_what_changes(world):
    beneficiaries = households(world, 2)
    case = add_project(world, beneficiaries)
    enter_library(world, case)
    fund(world, case)
    world.on(date(2019, 6, 3))
    dropped = beneficiaries[1]
    world.step("ts3", "plan_change", "change_request", case, reason="雨季延误",
               funds=(("county", "200000", None), ("integrated", "100000", None), ("provincial", "50000", None)),
               completion=date(2019, 12, 20), remove_beneficiaries=(dropped,))
    world.step("cd", "plan_change", "change_approval", case, decision="approve")
    world.step("fs", "plan_change", "change_notice", case)
    posted = texts(world, notice_of(world, "change_notice"))["posted"]
    assert "下列项目的计划调整已经批准" in posted and "家庭人口" not in posted
    assert "300,000.00 元 → 350,000.00 元" in posted and "2019-10-31 → 2019-12-20" in posted
    with world.app.engine.connect() as conn:       # the household removed named by its head, not its number
        head = conn.execute(select(t.cases.c.title).where(t.cases.c.id == dropped)).scalar()
    assert head in posted and f"#{dropped}" not in posted, posted


@pytest.mark.parametrize("change, named", [
    (("wording: project}\n      - {key: township_review", "wording: projects}\n      - {key: township_review"), "projects"),
    (("shows: [change_request.changes]", "shows: [change_announcement.changes]"), "change_announcement.changes"),
])
def test_a_notice_s_wording_or_a_later_step_named_is_refused_when_the_rules_load(tmp_path, change, named):
    """A wording the templates do not know, or a step that comes after the notice (nothing recorded yet
    when it is posted), is a mistake in the rules: said when they load, naming the key and the value."""
    from config import ConfigError, load_config
    from tests.helpers.rules_copy import rules_copy
    with pytest.raises(ConfigError) as bad:
        load_config(rules_copy(tmp_path, {"workflows/project.yaml": change}))
    said = str(bad.value)
    assert named in said and ("wording" in said or "shows" in said)


def test_a_funding_notice_printed_again_names_the_allocation_it_announced_not_a_later_one(world):
    """An objection upheld, the allocation is made again: the first notice, printed or read in English
    later, still names the money it announced, the second notice the new allocation."""
    from engine.services.case_actions import resolve_objection
    case, first, objection = objected_allocation(world)
    resolve_objection(world.app, world["th"], objection, True, "核实属实，重新下达")
    world.step("cd", "funding", "allocation", case, funds=(("county", "250000", "宁财农〔2019〕41号"),))
    second = world.step("fs", "funding", "allocation_notice", case)[0].notice_id
    before, after = texts(world, first), texts(world, second)
    assert "300,000.00 yuan" in before["en"] and "宁财农〔2019〕30号" in before["html"] and "41号" not in before["html"]
    assert "资金合计：250,000.00 元" in after["posted"] and "宁财农〔2019〕41号" in after["posted"]
    assert "30号" not in after["posted"]
