"""A monitoring's type corrected where it is decided (audit a12 #7, left by m4): the type was fixed by
whoever typed the clue; the county saw that the income contradicts it (突发严重困难户 at 5,000 yuan a head,
under the 6,000 line) and could only approve or refuse. The township's review or the county's decision
now corrects it, with 同意 and a reason, recorded on the step (from what to what; who and when are the
step's) and shown on the case page, `case next`, the API's `next.decides` and the trace; the household
is monitored under the corrected type."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from tests.helpers.notifications import cli
from tests.test_household_life import consolidated
from tests.web.test_monitoring_decides import at_the_township_review

HX = {"HX-Request": "true"}
AS_OF = ("--as-of", "2020-04-06")


def monitored_as(world, case: int) -> str | None:
    with world.app.engine.connect() as conn:
        attrs = conn.execute(select(t.cases.c.attrs).where(t.cases.c.id == case)).scalar()
    return (attrs.get("monitoring") or {}).get("type")


def test_the_township_corrects_the_type_the_county_sees_it_and_the_household_is_monitored_so(world, world_clients, tmp_path):
    case = consolidated(world, tmp_path)
    at_the_township_review(world, case)
    before = cli(world, "ts1", "case", "next", str(case), *AS_OF).out
    assert "按定义应为脱贫不稳定户" in before
    assert "乡镇审核或县级审定时可更正监测类型" in before and "`--type` 与 `--reason`" in before, before
    step = ("step", "monitoring", "township_review", str(case), "--date", "2020-04-06")
    refusals = {
        "更正监测类型须与「同意」一起签署": ("--reject", "--reason", "不符", "--type", "unstable"),
        "更正监测类型须写明理由": ("--approve", "--type", "脱贫不稳定户"),
        "监测类型已是突发严重困难户，无需更正": ("--approve", "--type", "sudden_hardship", "--reason", "核实"),
        "不能认定为「边缘易致贫户」": ("--approve", "--type", "edge", "--reason", "核实"),
        "监测类型「困难户」无法识别，本户可为 脱贫不稳定户、突发严重困难户": ("--approve", "--type", "困难户", "--reason", "x"),
    }
    for words, given in refusals.items():
        said = cli(world, "ts1", *step, *given)
        assert said.code in (1, 2) and words in said.err, (given, said.code, said.err)
        assert "Traceback" not in said.err
    # nothing was written: the township's review is still next
    assert "乡镇审核" in cli(world, "ts1", "case", "next", str(case), *AS_OF).out
    done = cli(world, "ts1", *step, "--approve", "--type", "脱贫不稳定户", "--reason", "人均纯收入 5,000 元在监测线以下")
    assert done.code == 0, done.err
    told = cli(world, "cd", "case", "next", str(case), *AS_OF).out
    assert "监测类型：脱贫不稳定户" in told, told
    assert re.search(r"监测类型已更正：由突发严重困难户改为脱贫不稳定户（乡镇审核，[^，]+，2020-04-06）", told), told
    assert "按定义应为脱贫不稳定户" not in told and "可更正监测类型" not in told
    page, api = world_clients
    shown = page("cd").get(f"/cases/{case}").text
    assert "监测类型由突发严重困难户更正为脱贫不稳定户，理由：人均纯收入 5,000 元在监测线以下" in shown
    assert 'name="monitoring_type"' in shown and "不更正（沿用风险线索的类型）" in shown
    offered = re.findall(r'<option value="(\w+)">', shown.split('name="monitoring_type"')[1].split("</select>")[0])
    assert offered == ["unstable", "sudden_hardship"], offered     # an exited household is never 边缘易致贫户
    english = api("cd", "en").get(f"/api/v1/cases/{case}/next").json()["next"]["decides"]
    assert {"kind": "fact", "text": "monitoring type: unstable exited household"} in english, english
    assert any(d["text"].startswith("monitoring type corrected from household in sudden severe hardship to "
                                    "unstable exited household (township review, ") for d in english)
    traced = cli(world, "insp", "trace", str(case)).out
    assert "监测类型由突发严重困难户更正为脱贫不稳定户" in traced, traced[-2000:]
    # the county approves on the page without a correction: monitored as the township corrected it
    world.on(date(2020, 4, 8))
    client = page("cd")
    form = {"csrf": client.csrf, "procedure": "monitoring", "step": "county_decision", "decision": "approve",
            "date": "2020-04-08", "monitoring_type": ""}
    posted = client.post(f"/cases/{case}/step", data=form, headers=HX)
    assert posted.status_code == 200, re.sub(r"<[^>]+>", "", posted.text)[:800]
    assert monitored_as(world, case) == "unstable"


def test_the_county_corrects_on_the_page_and_a_risk_elimination_takes_no_type(world, world_clients, tmp_path):
    case = consolidated(world, tmp_path)
    at_the_township_review(world, case)
    world.step("ts1", "monitoring", "township_review", case, decision="approve")
    world.on(date(2020, 4, 8))
    page, _ = world_clients
    client = page("cd")
    form = {"csrf": client.csrf, "procedure": "monitoring", "step": "county_decision", "decision": "approve",
            "date": "2020-04-08", "monitoring_type": "unstable"}
    refused = client.post(f"/cases/{case}/step", data=form, headers=HX)
    assert refused.status_code in (400, 409, 422) and "更正监测类型须写明理由" in refused.text
    done = client.post(f"/cases/{case}/step", data={**form, "reason": "收入在监测线以下"}, headers=HX)
    assert done.status_code == 200, done.text
    assert monitored_as(world, case) == "unstable"
    shown = cli(world, "cd", "--lang", "en", "case", "show", str(case)).out
    assert "monitoring type corrected from household in sudden severe hardship to unstable exited household, " \
           "reason: 收入在监测线以下" in shown, shown
    other = world.household()        # another procedure's sign-off takes no type
    world.on(date(2019, 3, 1))
    world.up_to_first_notice(other)
    world.on(date(2019, 3, 8))
    said = cli(world, "ts1", "step", "identification", "township_review", str(other), "--approve", "--type", "unstable",
               "--reason", "x", "--date", "2019-03-08")
    assert said.code == 2 and "只有防返贫监测识别的乡镇审核和县级审定可以更正监测类型" in said.err, said.err
