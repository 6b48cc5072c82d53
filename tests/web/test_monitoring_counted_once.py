"""An overdue monitoring identification is one lapse, on its own 15-day limit (audit a12 #10, #11). Its steps
had also been dated by the generic waiting rules (the step after the village notice: 公示期满后续办理, 3 working
days), so each lapse was counted twice: in the overdue totals, the per-person tables, the daily digest and the
person's mail; the township's /work showed 「公示期满后续办理：已逾期 … 个工作日」, not the 15 days, and the pairing
cadre's /work the same step twice in two units. A home whose duplicates were written before is put right at
`init`. SQLite and PostgreSQL."""
from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy import insert, select

from engine.adapters import tables as t
from engine.reads.dashboard import overdue_summary
from engine.services.sweep import digest, sweep
from tests.helpers.deadlines import cst, deadlines_of, reach_everyone
from tests.helpers.notifications import outbox
from tests.test_monitoring_deadlines import RULE, at_the_township
from tests.web.test_monitoring_shown import cli


def _at_the_township(world, tmp_path) -> int:
    """A risk found on 2020-10-30 (the 15 days due 2020-11-14); the village's steps and notice done on
    2020-11-02; on 2020-11-25 the township's review (ts1) is 11 days late."""
    reach_everyone(world)
    case = at_the_township(world, tmp_path)
    world.on(date(2020, 11, 25))
    return case


def _text(html: str, pattern: str) -> str:
    found = re.search(pattern, html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def test_an_overdue_identification_is_one_lapse_on_its_15_days_everywhere(world, tmp_path, world_clients):
    page, api = world_clients
    case = _at_the_township(world, tmp_path)
    assert [d.rule for d in deadlines_of(world, case, status="open")] == [RULE]
    sweep(world.app, now=cst(2020, 11, 25, 9, 0))
    # `deadline list` (CLI and API): one open deadline, the 15 days
    said = cli(world, "insp", "deadline", "list", "--case", str(case), "--status", "open", "--json")
    assert said.code == 0, said.err
    assert [(r["rule"], r["due_on"]) for r in json.loads(said.out)] == [(RULE, "2020-11-14")], said.out
    # /supervise's totals and per-person table
    summary = overdue_summary(world.app, world["cd"])
    assert summary["total"] == 1, summary
    assert [(g["key"], g["count"]) for g in summary["groups"]["person"]] == [("ts1", 1)]
    assert [(g["key"], g["count"]) for g in summary["groups"]["rule"]] == [(RULE, 1)]
    # the alerts: ts1 told of one item, not two
    with world.app.engine.connect() as conn:
        alerts = conn.execute(select(t.alerts.c.deadline_id).distinct()).scalars().all()
    assert len(alerts) == 1
    # the daily digest: 1 item
    digest(world.app, now=cst(2020, 11, 25, 8, 0))
    mail = next(r for r in outbox(world) if r.kind == "digest")
    assert "1 项" in mail.subject and "公示期满后续办理" not in mail.body, mail.body
    # the township's /work: the 15 days, in its one unit, once
    work = _text(page("ts1").get("/work").text, rf'<li class="card" data-case="{case}">(.*?)</li>')
    assert "监测对象识别（发现线索15天内）：已逾期 11 天（2020-11-14 到期）" in work, work
    assert "公示期满" not in work and "工作日" not in work, work
    # the pairing cadre's /work: the step held at the township, one line
    paired = _text(page("pc1").get("/work").text, r'<section id="paired">(.*?)</section>')
    assert paired.count("起逾期") == 1 and "工作日" not in paired, paired
    assert "监测对象识别（发现线索15天内） · 乡镇审核" in paired and "2020-11-14 起逾期（11 天）" in paired, paired
    # the API's overdue rows
    rows = api("cd").get("/api/v1/deadlines", params={"overdue": "true", "case": case}).json()["deadlines"]
    assert [r["rule"] for r in rows] == [RULE], rows


def test_a_duplicate_written_before_is_cancelled_at_init(world, tmp_path):
    from engine.services.deadlines import cancel_waits_of_limited
    case = _at_the_township(world, tmp_path)
    [d] = deadlines_of(world, case, status="open")
    with world.app.engine.begin() as conn:       # the notice's expiry rule, as the older release wrote it
        row = {k: v for k, v in conn.execute(select(t.deadlines).where(t.deadlines.c.id == d.id)).mappings().one().items()
               if k != "id"}
        conn.execute(insert(t.deadlines).values({**row, "rule": "notice_expiry", "type": "waiting",
                                                 "subject": f"{d.procedure_id}:township_review"}))
    assert len(deadlines_of(world, case, status="open")) == 2
    with world.app.engine.begin() as conn:
        assert cancel_waits_of_limited(conn, world.app.config, world.app.clock.now()) == 1
    assert [x.rule for x in deadlines_of(world, case, status="open")] == [RULE]
    assert [(x.rule, x.closed_reason) for x in deadlines_of(world, case, status="cancelled")] == [
        ("notice_expiry", "own limit")]


def test_the_digest_lists_first_what_is_escalated_highest_the_monitoring_lapse_before_older_ones(world, tmp_path):
    from tests.helpers.deadlines import identified
    [old] = identified(world)            # its plan due 2019-04-14: a year and more overdue by the end
    case = _at_the_township(world, tmp_path)
    world.on(date(2020, 12, 20))
    sweep(world.app, now=cst(2020, 12, 20, 7, 0))     # both escalated to the discipline inspector
    [plan] = deadlines_of(world, old, rule="assistance_plan", status="open")
    [limit] = deadlines_of(world, case, rule=RULE, status="open")
    assert plan.next_level is None and limit.next_level is None
    digest(world.app, now=cst(2020, 12, 20, 8, 0))
    mail = next(r for r in outbox(world) if r.kind == "digest")
    items = [line for line in mail.body.splitlines() if line.startswith("- 案件")]
    assert items[0].startswith(f"- 案件 {case} ") and f"- 案件 {old} " in items[1], mail.body
    assert "监测对象识别（发现线索15天内）（乡镇审核），已逾期 36 天，期限 2020-11-14" in items[0], items[0]
    assert "请先办理（升级最高的在前" in mail.body and "逾期最久" not in mail.body, mail.body
