"""A settled project's unspent allocation is to be recovered, not carried over (audit a13 #6), and the
fund figures per project category (audit a13 #7): the report, its JSON, the command line, the project,
the supervisors' page."""
from __future__ import annotations

import json
import re
from datetime import date

from tests.helpers.projects import D, add_project, enter_library, fund, households, pay, unit_head
from tests.test_project_figures import ok
from tests.test_project_money_rules import funded, settle
from tests.web.test_funds_page51 import text_of
from tests.world import COUNTY, VILLAGE, World
from engine.reads.funds import funds_report
from workflows.project import ProjectInput, register_project


def _two_projects(world: World, tmp_path) -> tuple[int, int]:
    """A (产业发展): 300,000 allocated, 150,000 paid, 10,000 retention held, final accounts settled at
    200,000 on 20 November. B (基础设施): 300,000 allocated, 50,000 paid, under way."""
    a, beneficiaries = funded(world)
    world.on(date(2019, 4, 1))
    b = register_project(world.app, world["vs"], ProjectInput(
        "洋塘村机耕道", "infrastructure", VILLAGE,
        "县农业农村局", unit_head(world), "ts3", (("county", "300000", None),), beneficiaries, ("通行500人",),
        date(2019, 12, 31), date(2019, 4, 1)))
    enter_library(world, b)
    fund(world, b)
    pay(world, a, "150000", on=date(2019, 6, 1))
    pay(world, a, "10000", kind="retention", on=date(2019, 6, 1))
    pay(world, b, "50000", on=date(2019, 6, 1))
    settle(world, a, "200000", tmp_path)
    world.on(date(2019, 11, 30))
    return a, b


def test_a_settled_projects_unspent_money_is_to_recover_and_the_figures_go_by_category(world, world_clients, tmp_path):
    a, b = _two_projects(world, tmp_path)
    report = funds_report(world.app, world["insp"], COUNTY, date(2019, 11, 30))
    by_id = {p["id"]: p for p in report["projects"]}
    # A will never spend more than its 200,000 settled cost: 100,000 to recover; 50,000 still to pay
    # (10,000 retention held and 40,000 of the settled cost), not 150,000 carried over.
    assert (by_id[a]["settled"], by_id[a]["to_recover"], by_id[a]["carry_over"]) == (
        D("200000.00"), D("100000.00"), D("50000.00"))
    assert (by_id[b]["settled"], by_id[b]["to_recover"], by_id[b]["carry_over"]) == (None, D("0.00"), D("250000.00"))
    assert (report["total"]["to_recover"], report["total"]["carry_over"]) == (D("100000.00"), D("300000.00"))
    # before its final accounts A's whole balance was still to spend
    before = {p["id"]: p for p in funds_report(world.app, world["insp"], COUNTY, date(2019, 11, 15))["projects"]}
    assert (before[a]["to_recover"], before[a]["carry_over"]) == (D("0.00"), D("150000.00"))
    # per category, beside the townships'
    cats = {c["code"]: c for c in report["categories"]}
    assert (cats["industry"]["projects"], cats["industry"]["to_recover"], cats["industry"]["carry_over"]) == (
        1, D("100000.00"), D("50000.00"))
    assert (cats["infrastructure"]["allocated"], cats["infrastructure"]["disbursed"],
            cats["infrastructure"]["rate"]) == (D("300000.00"), D("50000.00"), D("0.1667"))
    # the command line: JSON, the table, and the project
    data = json.loads(ok(world, "insp", "funds", "report", "--json"))
    assert [(c["code"], c["to_recover"]) for c in data["categories"]] == [("industry", "100000.00"),
                                                                          ("infrastructure", "0.00")]
    human = ok(world, "insp", "funds", "report")
    assert "结余待收回" in human and "按项目类别" in human
    assert re.search(r"\n基础设施\t1\t300,000\.00\t50,000\.00\t16\.67%", human), human
    assert "结转结余 50,000.00、结余待收回 100,000.00" in ok(world, "insp", "project", "show", a)
    assert "to recover" in ok(world, "insp", "--lang", "en", "funds", "report")
    # the supervisors' page: the column, the total, the category table
    page, _ = world_clients
    text = text_of(page("cd").get("/supervise/funds").text)
    assert "结余待收回" in text and "按项目类别" in text and "基础设施" in text
    row = re.search(rf"洋塘村脐橙基地 #{a} (.*?)(?= 洋塘村机耕道|$)", text).group(1)
    assert "50,000.00" in row and "100,000.00" in row, row
    assert "决算后，超出决算金额的部分不再支出" in text
