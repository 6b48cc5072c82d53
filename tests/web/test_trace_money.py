"""A fund project's money and plan in the inspector's trace (user audit a1, finding 4): each payment
with its amount, payee and payee kind, retention or not, voucher and date; the allocation with its
amounts and fund documents; the schedule's milestones and dates; a plan change's old → new budget
and completion date; the monthly report's figures; a final cost typed as text, as money; and the
overview naming each project procedure's signers. In the text trace, the web trace and the API's trace, in both languages."""
from __future__ import annotations

import re
from datetime import date
from html import unescape

from engine.services.case_actions import attach_evidence
from tests.helpers.projects import add_project, enter_library, fund, households, pay
from tests.test_accountability import cli


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def lived(world) -> int:
    """A project funded (宁财农〔2019〕30号), scheduled, paid (a voucher, retention held), reported on
    and its plan changed: budget 300,000 → 350,000, completion 2019-10-31 → 2019-12-20."""
    beneficiaries = households(world, 2)
    case = add_project(world, beneficiaries)
    enter_library(world, case)
    fund(world, case)
    pay(world, case, "12345.6", reference="记-2019-05-017")
    pay(world, case, "5000", kind="retention", on=date(2019, 5, 11))
    world.on(date(2019, 6, 5))
    world.step("cs", "disbursement_report", "disbursement_report", case)
    world.step("ts3", "milestone", "milestone", case, milestone="基础完工")
    world.step("ts3", "plan_change", "change_request", case, reason="雨季延误",
               funds=(("county", "250000", None), ("integrated", "100000", None)), completion=date(2019, 12, 20))
    world.step("cd", "plan_change", "change_approval", case, decision="approve")
    attach_evidence(world.app, world["cs"], case, "final_accounts", {"settled_on": "2019-06-05", "final_cost": "260000"})
    return case


ZH = ("12,345.60 元", "宁都县农建公司", "施工单位", "记-2019-05-017", "2019-05-10", "5,000.00 元",
      "200,000.00 元", "宁财农〔2019〕30号", "基础完工 2019-06-30", "竣工 2019-10-31",
      "300,000.00 元 → 350,000.00 元", "2019-10-31 → 2019-12-20", "已支出 12,345.60 元", "决算金额 260,000.00 元")
EN = ("12,345.60 yuan", "宁都县农建公司", "contractor", "记-2019-05-017", "200,000.00 yuan",
      "宁财农〔2019〕30号", "300,000.00 yuan → 350,000.00 yuan", "2019-10-31 → 2019-12-20")


def test_the_text_trace_and_the_dossier_say_a_projects_money_and_plan(world, tmp_path):
    case = lived(world)
    said = cli(world, "insp", "trace", str(case))
    assert said.code == 0, said.err
    missing = [f for f in ZH if f not in said.out]
    assert not missing, missing
    payment = next(line for line in said.out.splitlines() if "支付 12,345.60 元" in line)
    assert "宁都县农建公司" in payment and "施工单位" in payment and "记-2019-05-017" in payment
    english = cli(world, "insp", "trace", str(case), lang="en").out
    missing = [f for f in EN if f not in english]
    assert not missing, missing
    dossier = tmp_path / "dossier.html"
    assert cli(world, "insp", "trace", str(case), "--html", str(dossier)).code == 0
    printed = text_of(dossier.read_text(encoding="utf-8"))
    missing = [f for f in ZH if f not in printed]
    assert not missing, missing


def test_the_web_and_api_traces_say_a_projects_money_plan_and_signers(world, world_clients):
    page, api = world_clients
    case = lived(world)
    html = page("insp").get(f"/inspect/trace/case/{case}").text
    shown = text_of(html)
    missing = [f for f in ZH if f not in shown]
    assert not missing, missing
    chain = re.search(r'<section id="chain">.*?</section>', html, re.S).group(0)
    rows = {m.group(1): text_of(m.group(0)) for m in re.finditer(
        r'<tr><td data-label="[^"]*"><a href="#procedure-\d+">([^<]+)</a>.*?</tr>', chain, re.S)}
    funding = next(v for k, v in rows.items() if "资金下达" in k)
    assert world["cs"].name in funding and world["ts3"].name in funding, funding
    milestone = next(v for k, v in rows.items() if "节点" in k)
    assert world["ts3"].name in milestone, milestone
    change = next(v for k, v in rows.items() if "调整" in k)
    assert world["cd"].name in change and world["ts3"].name in change, change

    found = api("insp").get(f"/api/v1/trace/cases/{case}")
    assert found.status_code == 200, found.text
    body = found.json()
    said = " ".join(" ".join(line) if isinstance(line, list) else line
                    for e in body["events"] for line in e["lines"])
    said += " " + " ".join(f"{n} {v}" for p in body["procedures"] for s in p["steps"] for n, v in s["data_words"])
    missing = [f for f in ZH if f not in said]
    assert not missing, missing
    english = api("insp", "en").get(f"/api/v1/trace/cases/{case}").json()
    said = " ".join(line for e in english["events"] for line in e["lines"])
    said += " " + " ".join(f"{n} {v}" for p in english["procedures"] for s in p["steps"] for n, v in s["data_words"])
    missing = [f for f in EN if f not in said]
    assert not missing, missing


def test_the_trace_names_the_original_approver_of_a_plan_change_as_it_names_the_signers(world, world_clients):
    """By name, the code and post in brackets, in text, web and API, both languages; a step recorded
    before the name was kept with it is said by the name the project recorded with its library entry."""
    from sqlalchemy import select, update

    from engine.adapters import tables as t
    page, api = world_clients
    case = lived(world)
    name = world["cd"].name
    zh, en = f"{name}（cd，县扶贫办主任）2019-04-15", f"{name} (cd, "
    said = cli(world, "insp", "trace", str(case)).out
    line = next(x for x in said.splitlines() if "原入库审批" in x)
    assert zh in line, line
    assert en in next(x for x in cli(world, "insp", "trace", str(case), lang="en").out.splitlines()
                      if "library entry approved by" in x)
    assert zh in text_of(page("insp").get(f"/inspect/trace/case/{case}").text)
    body = api("insp").get(f"/api/v1/trace/cases/{case}").json()
    assert any(zh in v for p in body["procedures"] for s in p["steps"] for _, v in s["data_words"])
    with world.app.engine.begin() as conn:      # as a step recorded before kept it: code, post and day only
        row = conn.execute(select(t.steps.c.id, t.steps.c.data).where(
            t.steps.c.case_id == case, t.steps.c.step_key == "change_approval")).one()
        kept = {k: v for k, v in row.data["original_approval"].items() if k != "name"}
        conn.execute(update(t.steps).where(t.steps.c.id == row.id).values(data={**row.data, "original_approval": kept}))
    assert zh in cli(world, "insp", "trace", str(case)).out
