"""A township clerk's walk of the bulk evidence import: the yearly re-check of 两不愁三保障 in one
sheet with --replace --reason, each household's item replaced as on its page (it had been refused
for every household holding the type: 60 page edits for 20 households)."""
from __future__ import annotations

import sqlite3

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_evidence_sheet_report import csv_sheet, held_items


def _assured(home, n: int, seed: int = 90) -> list[int]:  # noqa: F811
    """`n` households, each holding its 两不愁 check (food and clothing secured)."""
    cases = [home.register(seed=seed + i, evidence=False) for i in range(n)]
    for case in cases:
        home.ok("vs", "evidence", "add", case, "two_assurances", "--field", "food=是", "--field", "clothing=是")
    return cases


def test_a_yearly_recheck_replaces_each_households_item_with_its_reason(home, tmp_path):  # noqa: F811
    cases = _assured(home, 2)
    sheet = csv_sheet(tmp_path / "两不愁复核.csv", [(cases[0], "是", "否"), (cases[1], "否", "是")])
    refused = home("vs", "evidence", "import", sheet, "--type", "two_assurances")
    assert refused.code == 2 and "--replace --reason" in refused.err, refused.err       # says how
    english = home("vs", "evidence", "import", sheet, "--type", "two_assurances", lang="en")
    assert "import again with --replace --reason REASON" in english.err
    reason_alone = home("vs", "evidence", "import", sheet, "--type", "two_assurances", "--reason", "复核")
    assert reason_alone.code == 2 and "--replace" in reason_alone.err          # a reason is not dropped unsaid
    no_reason = home("vs", "evidence", "import", sheet, "--type", "two_assurances", "--replace")
    assert no_reason.code == 2 and "替换材料必须说明理由" in no_reason.err
    before = home.snapshot()
    outsider = home("do", "evidence", "import", sheet, "--type", "two_assurances", "--replace", "--reason", "复核")
    assert outsider.code == 1 and home.snapshot() == before         # a discipline officer replaces nothing
    done = home("vs", "evidence", "import", sheet, "--type", "two_assurances", "--replace", "--reason", "2020年度复核")
    assert done.code == 0, done.err
    assert "已为 2 户替换不愁吃不愁穿核查" in done.out
    assert held_items(home, cases[0]) == [{"food": True, "clothing": False}]
    assert held_items(home, cases[1]) == [{"food": False, "clothing": True}]
    with sqlite3.connect(home.db) as conn:
        reasons = conn.execute("SELECT supersede_reason FROM evidence WHERE type = 'two_assurances' "
                               "AND superseded_by IS NOT NULL").fetchall()
        events = conn.execute("SELECT case_id, reason FROM audit_events WHERE action = 'evidence_replaced'").fetchall()
    assert reasons == [("2020年度复核",)] * 2
    assert sorted(events) == [(cases[0], "2020年度复核"), (cases[1], "2020年度复核")]
    assert home("insp", "audit", "verify").code == 0


def test_replacing_in_bulk_refuses_a_household_holding_nothing_on_its_line(home, tmp_path):  # noqa: F811
    cases = _assured(home, 1) + [home.register(seed=95, evidence=False)]
    sheet = csv_sheet(tmp_path / "两不愁复核.csv", [(cases[0], "是", "否"), (cases[1], "是", "是")])
    before = home.snapshot()
    refused = home("vs", "evidence", "import", sheet, "--type", "two_assurances", "--replace", "--reason", "复核")
    assert refused.code == 2 and home.snapshot() == before
    assert f"第 3 行，案件编号：案件 {cases[1]} 还没有不愁吃不愁穿核查，没有可替换的：这一行请不加 --replace 另行导入" \
        in refused.err, refused.err
    skipped = home("vs", "evidence", "import", sheet, "--type", "two_assurances", "--replace", "--reason", "复核",
                   "--skip-bad", str(tmp_path / "未导入.csv"))
    assert skipped.code == 0, skipped.err
    assert held_items(home, cases[0]) == [{"food": True, "clothing": False}] and held_items(home, cases[1]) == []


def test_an_item_a_step_relied_on_is_not_replaced_by_a_sheet(world):
    """Replacing it voids the steps that relied on it, from the first (the application it came with):
    done on the household's page, not by a sheet, which says so on that household's line; the other
    rows stay good."""
    from engine.services.evidence_sheet import SheetRow, sheet_items
    from tests.helpers.refusals import walk
    case, other = world.household(), world.household()
    walk(world, "identification", case, until="county_approval")
    fields = {"applicant": "王某", "applied_on": "2019-02-01"}
    items, problems = sheet_items(world.app, world["vs"], "application",
                                  [SheetRow(str(other), fields=fields), SheetRow(str(case), fields=fields)],
                                  replace="复核")
    assert items[0] is not None and items[0].replace and items[0].reason == "复核" and items[1] is None
    assert [(line, column, p.code) for line, column, p in problems] == [(2, "case", "sheets.relied_on")]
    assert "「农户申请」" in problems[0][2].render(world.app.config, "zh")
