"""A lapse stays on the record (audit a12 #4, #5). A monitoring identification decided 11 days after its 15
days ran out had shown `"status": "done", "overdue": false`, owned by the county (its last owner), and left
the case page's 期限 section; one the county refused while overdue showed 「已撤销」 as if it had never lapsed.
Now `deadline list` (text and --json), the case page and the trace say when it closed, how many of its own
days late, and who held it when it lapsed. SQLite and PostgreSQL."""
from __future__ import annotations

import json
import re
from datetime import date

from tests.test_monitoring_deadlines import RULE, at_the_township
from tests.web.test_monitoring_shown import cli


def _decided_late(world, tmp_path, decision: str = "approve") -> int:
    """A risk found on 2020-10-30 (due 2020-11-14), at the township's review from 2020-11-02 (ts1 holds it),
    reviewed and decided by the county on 2020-11-25: 11 days late."""
    case = at_the_township(world, tmp_path)
    world.on(date(2020, 11, 25))
    world.step("ts1", "monitoring", "township_review", case, decision="approve")
    world.step("cd", "monitoring", "county_decision", case, decision=decision,
               **({"reason": "经复核，该户收入稳定，不纳入监测"} if decision == "reject" else {}))
    return case


def _row(world, case: int, status: str) -> dict:
    said = cli(world, "insp", "deadline", "list", "--case", str(case), "--status", status, "--json")
    assert said.code == 0, said.err
    rows = [r for r in json.loads(said.out) if r["rule"] == RULE]
    assert len(rows) == 1, said.out
    return rows[0]


def test_a_deadline_met_late_says_when_by_how_much_and_whose_it_was(world, tmp_path, world_clients):
    case = _decided_late(world, tmp_path)
    row = _row(world, case, "done")
    assert (row["status"], row["closed_on"], row["late_by"], row["counting"]) == ("done", "2020-11-25", 11, "calendar")
    assert (row["lapsed_owner"], row["owner"]) == ("ts1", "cd")      # the township held it when it lapsed
    text = cli(world, "insp", "deadline", "list", "--case", str(case), "--status", "done")
    line = next(line for line in text.out.splitlines() if "监测" in line and "2020-11-14" in line)
    assert f"逾期办结：2020-11-25 办结，逾期 11 天（逾期时责任人：{world['ts1'].name}）" in line, text.out
    english = cli(world, "insp", "--lang", "en", "deadline", "list", "--case", str(case), "--status", "done")
    assert f"met late: done on 2020-11-25, 11 days late (held by {world['ts1'].name} when it lapsed)" in english.out
    page, _ = world_clients
    html = page("insp").get(f"/cases/{case}").text
    lapses = re.search(r'<ul class="plain" id="lapses">(.*?)</ul>', html, re.S)
    assert lapses, html[html.find('id="deadlines"') - 200:][:1500]
    said = re.sub(r"<[^>]+>", "", lapses.group(1))
    assert "2020-11-14 到期" in said and f"逾期 11 天（逾期时责任人：{world['ts1'].name}）" in said, said
    trace = cli(world, "insp", "trace", str(case))
    assert "逾期记录" in trace.out and "逾期 11 天" in trace.out and world["ts1"].name in trace.out, trace.out
    inspected = re.sub(r"<[^>]+>", "", re.search(r'<section id="lapses">(.*?)</section>',
                                                   page("insp").get(f"/inspect/trace/case/{case}").text, re.S).group(1))
    assert "逾期记录" in inspected and f"逾期 11 天（逾期时责任人：{world['ts1'].name} (ts1)）" in inspected, inspected
    html_file = tmp_path / "trace.html"
    assert cli(world, "insp", "trace", str(case), "--html", str(html_file)).code == 0
    assert f"逾期 11 天（逾期时责任人：{world['ts1'].name} (ts1)）" in html_file.read_text()


def test_a_deadline_overdue_when_its_procedure_ends_stays_a_lapse_not_cancelled(world, tmp_path):
    case = _decided_late(world, tmp_path, decision="reject")
    row = _row(world, case, "cancelled")
    assert (row["closed_on"], row["late_by"], row["lapsed_owner"]) == ("2020-11-25", 11, "ts1")
    text = cli(world, "insp", "deadline", "list", "--case", str(case), "--status", "cancelled")
    line = next(line for line in text.out.splitlines() if "2020-11-14" in line)
    assert "已撤销" not in line and "逾期未办：已逾期 11 天，2020-11-25 随程序结束关闭" in line, text.out
