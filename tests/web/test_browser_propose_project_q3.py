"""A village cadre proposes a fund project on a phone (audit a13 #5): one form registers the project and
submits it into the library (`project add` then `step library_entry submission`, one act); a refusal is said
beside its field with the form kept and nothing written; the command line offers the same act
(`project add --submit`)."""
from __future__ import annotations

import json
from datetime import date

from playwright.sync_api import expect
from sqlalchemy import func, select

from engine.adapters import tables as t
from entrypoints.web.app import create_app
from tests.helpers.projects import households
from tests.test_project_figures import ok, run
from tests.web.conftest import serving
from tests.web.test_browser_project_forms import on_a_phone
from tests.world import VILLAGE


def _projects(world) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.cases).where(t.cases.c.kind == "project")).scalar()


def _submissions(world, case: int) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.steps).where(
            t.steps.c.case_id == case, t.steps.c.step_key == "submission")).scalar()


def test_a_village_proposes_a_project_on_a_phone_in_one_act(world, browser):
    beneficiaries = households(world)
    world.on(date(2019, 4, 1))
    with serving(create_app(world.app)) as url:
        context, page, as_person = on_a_phone(world, browser, url)
        as_person("vs", "/work")
        page.click("#propose-project")
        page.wait_for_url("**/projects/new")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.fill('[name="name"]', "洋塘村产业路")
        page.select_option('[name="category"]', "infrastructure")
        page.fill('[name="unit"]', "县农业农村局")
        page.fill('[name="unit_head"]', "uh")
        page.fill('[name="funds"]', "county:200000:宁财农〔2019〕12号")
        page.fill('[name="beneficiaries"]', f"{beneficiaries[0]}, {beneficiaries[1]}")
        page.fill('[name="complete_by"]', "2019-10-31")
        page.click("#project-submit")                    # no performance target: refused beside it
        expect(page.locator("#error-targets")).to_contain_text("绩效目标")
        assert "--target" not in page.locator("#error-targets").inner_text()     # the page's words, not the CLI's
        assert page.locator('[name="name"]').input_value() == "洋塘村产业路"      # kept as typed
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert _projects(world) == 0
        page.fill('[name="beneficiaries"]', "一户")
        page.fill('[name="targets"]', "通组道路3公里，惠及农户120户")
        page.click("#project-submit")
        expect(page.locator("#error-beneficiaries")).to_contain_text("一户")
        assert _projects(world) == 0
        page.fill('[name="beneficiaries"]', f"{beneficiaries[0]} {beneficiaries[1]}")
        page.click("#project-submit")
        page.wait_for_url("**/cases/*")
        case = int(page.url.rsplit("/", 1)[1].split("?")[0])
        expect(page.locator("body")).to_contain_text("洋塘村产业路")
        context.close()
    assert _projects(world) == 1 and _submissions(world, case) == 1
    nxt = json.loads(ok(world, "vs", "case", "next", case, "--json", "--as-of", "2019-04-01"))["next"]
    assert (nxt["procedure"], nxt["step"]) == ("library_entry", "village_notice")


def test_project_add_submit_is_one_act_and_a_post_that_does_not_submit_writes_nothing(world):
    beneficiaries = households(world)
    base = ["project", "add", "--site", VILLAGE, "--name", "洋塘村光伏电站", "--category", "industry",
            "--unit", "县农业农村局", "--unit-head", "uh", "--leader", "ts3", "--fund", "central:150000",
            "--beneficiary", beneficiaries[0], "--target", "年发电收益10万元", "--complete-by", "2030-10-31"]
    # the resident team member may not submit into the library (nor register): refused, nothing written
    code, _, err = run(world, "tm", *base, "--submit")
    assert code != 0 and _projects(world) == 0, err
    out = ok(world, "vs", *base, "--submit")
    case = int(out.strip().splitlines()[-1])
    assert "已提交入库申报" in out and _submissions(world, case) == 1
    assert _submissions(world, int(ok(world, "vs", *base).strip().splitlines()[-1])) == 0   # without it, as before
