"""A department's clue dated before the clue an identification under way was started on (left by m2):
it was refused as "no need to import", as if it said nothing new. It is refused still (research §5.3:
the 15 days run from the risk clue the identification was started on; importing it would replace that
clue and void the steps done, and moving the days earlier would hold the owner to days before the list
reached anyone), but in words that name both dates and say what to do with the earlier one."""
from __future__ import annotations

from datetime import date

from engine.services.case_actions import attach_evidence
from engine.services.evidence_sheet import SheetRow, sheet_items
from tests.helpers.deadlines import deadlines_of
from tests.test_household_life import consolidated

RULE = "monitoring_identification"


def test_an_earlier_department_clue_on_an_identification_under_way_is_refused_naming_both_dates(world, tmp_path):
    opened = consolidated(world, tmp_path)
    world.on(date(2020, 10, 20))
    attach_evidence(world.app, world["pc1"], opened, "monitoring_clue",
                    {"source": "visit", "clue_date": "2020-10-10", "monitoring_type": "unstable"})
    world.step("pc1", "monitoring", "clue", opened)       # its identification open since 10-10
    before = [(d.id, d.status, d.start_on, d.due_on) for d in deadlines_of(world, opened, rule=RULE)]
    row = SheetRow(case=str(opened), fields={"source": "部门预警", "source_note": "医保局数据推送",
                                             "clue_date": "2020-10-01", "monitoring_type": "sudden_hardship"})
    items, problems = sheet_items(world.app, world["cs"], "monitoring_clue", [row])
    (line, column, refused), = problems
    zh, en = refused.render(world.app.config, "zh"), refused.render(world.app.config, "en")
    assert (line, column) == (1, "case")     # its only row
    assert f"案件 {opened} 的防返贫监测识别正在办理，识别期限从 2020-10-10 的风险线索起算；此行线索日期 2020-10-01 更早" in zh, zh
    assert "请把这一日期告知乡镇，在乡镇审核意见中写明" in zh and "`--skip-bad`" in zh
    assert "this row's clue of 2020-10-01 is earlier" in en and "tell the township" in en, en
    assert [(d.id, d.status, d.start_on, d.due_on) for d in deadlines_of(world, opened, rule=RULE)] == before
    later = SheetRow(case=str(opened), fields={**row.fields, "clue_date": "2020-10-15"})
    _items, (( _l, _c, told),) = sheet_items(world.app, world["cs"], "monitoring_clue", [later])
    assert "识别期限已在计算：此行无需导入" in told.render(world.app.config, "zh")     # a later one: nothing new
