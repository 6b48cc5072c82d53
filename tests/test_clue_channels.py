"""A clue from any channel starts the 15 days to identify (a12 #2): a department's list of households
at risk imported as monitoring clues starts each household's days from its clue's date, owned as a
visit's risk is (the household's pairing cadre), on their /work list and in `case next`; a household
monitored already, or whose identification is open, is told so on its row and gets no second clock."""
from __future__ import annotations

from datetime import date

from engine.reads.queries import next_for, risks_unanswered
from engine.services.case_actions import attach_evidence
from engine.services.evidence_sheet import SheetRow, attach_sheet, sheet_items
from tests.helpers.deadlines import deadlines_of
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_cli_newcomer import consolidated as consolidated_at_home
from tests.test_household_life import consolidated, monitor

RULE = "monitoring_identification"


def department_list(world, who: str, cases: list[int], clue_date: str = "2020-10-15"):
    """A department's push (医保局): one clue a household, imported as `evidence import` does it."""
    rows = [SheetRow(case=str(c), fields={"source": "部门预警", "source_note": "医保局数据推送", "clue_date": clue_date,
                                          "monitoring_type": "sudden_hardship"}) for c in cases]
    items, problems = sheet_items(world.app, world[who], "monitoring_clue", rows)
    assert problems == [], problems
    kept = [i for i in items if i is not None]
    attach_sheet(world.app, world[who], kept, {"file": "医保局推送.csv", "sha256": "0" * 64, "rows": len(rows),
                                               "type": "monitoring_clue", "files": None, "mode": "add"})
    return kept


def test_a_departments_clues_start_the_days_to_identify_owned_by_the_pairing_cadre(world, tmp_path):
    free = consolidated(world, tmp_path)
    world.on(date(2020, 10, 20))
    department_list(world, "cs", [free])
    d, = deadlines_of(world, free, rule=RULE)
    assert (d.status, d.start_on, d.due_on, d.step_key) == ("open", date(2020, 10, 15), date(2020, 10, 30), "clue")
    assert (d.owner_id, d.owner_role) == (world["pc1"].person_id, "pairing_cadre")
    listed = risks_unanswered(world.app, world["pc1"], "household", "monitoring")
    assert [(r["id"], r["clue"], r["visited"]) for r in listed] == [(free, True, date(2020, 10, 15))]
    clock, = next_for(world.app, world["pc1"], free)["clocks"]
    assert (clock["procedure"], clock["start_on"], clock["due_on"], clock["owner"], clock["overdue"]) == \
        ("monitoring", "2020-10-15", "2020-10-30", "pc1", 0)
    world.on(date(2020, 10, 22))          # the village starts it: the same clock runs on, from the clue's date
    world.step("pc1", "monitoring", "clue", free)
    d, = deadlines_of(world, free, rule=RULE)
    assert (d.status, d.start_on, d.due_on, d.step_key) == ("open", date(2020, 10, 15), date(2020, 10, 30),
                                                            "verification")
    assert risks_unanswered(world.app, world["pc1"], "household", "monitoring") == []
    assert next_for(world.app, world["pc1"], free)["clocks"] == []


def test_a_household_monitored_or_under_identification_is_told_and_gets_no_second_clock(world, tmp_path):
    watched, opened = consolidated(world, tmp_path), consolidated(world, tmp_path, ("pc2", "pc1"))
    monitor(world, watched)                               # monitored since April
    world.on(date(2020, 10, 20))
    attach_evidence(world.app, world["pc1"], opened, "monitoring_clue",
                    {"source": "走访排查", "clue_date": "2020-10-10", "monitoring_type": "unstable"})
    world.step("pc1", "monitoring", "clue", opened)       # its identification open since 10-10
    before = [(d.id, d.status, d.start_on) for d in deadlines_of(world, opened, rule=RULE)]
    rows = [SheetRow(case=str(c), fields={"source": "部门预警", "clue_date": "2020-10-15",
                                          "monitoring_type": "unstable"}) for c in (watched, opened)]
    _items, problems = sheet_items(world.app, world["cs"], "monitoring_clue", rows)
    (line, column, refused), = problems                  # its row says why: its clue is held, its days run
    assert (line, column) == (2, "case") and refused.render(world.app.config, "zh") == (
        f"案件 {opened} 的防返贫监测识别正在办理，已有风险线索（2020-10-10），识别期限已在计算：此行无需导入，"
        "请从表中删去，或加上 `--skip-bad` 导入其余各行")
    kept = department_list(world, "cs", [watched])
    from engine.services.evidence_sheet import clues_not_started
    assert [(case, why) for _i, case, why, _p in clues_not_started(world.app, kept)] == [(watched, "monitored")]
    assert [d.status for d in deadlines_of(world, watched, rule=RULE)] == ["done"]     # the April one, closed
    assert [(d.id, d.status, d.start_on) for d in deadlines_of(world, opened, rule=RULE)] == before


def test_the_import_says_which_rows_start_no_clock_and_case_next_shows_the_days(home, tmp_path):  # noqa: F811
    case, applicant = consolidated_at_home(home), home.register(seed=7)
    sheet = tmp_path / "医保局推送.csv"
    sheet.write_text("案件编号,来源,线索日期,监测对象类型\n"
                     f"{case},部门筛查预警,2020-01-02,突发严重困难户\n{applicant},department,2020-01-02,边缘易致贫户\n",
                     encoding="utf-8")
    done = home("cs", "evidence", "import", str(sheet), "--type", "monitoring_clue")
    assert done.code == 0, done.err
    assert f"第 3 行：案件 {applicant} 当前阶段不能启动防返贫监测识别，线索已记录，未起算识别期限" in done.out, done.out
    assert f"案件 {case}" not in done.out
    told = home.ok("pc1", "case", "next", case).out
    # the days run from the clue's date (long past on this machine's clock), owned by the pairing cadre
    assert "待启动防返贫监测识别：首条风险线索 2020-01-02，应于 2020-01-17 前完成，已逾期 " in told, told
    assert "天（责任人：pc1 pairing_cadre-pc1）" in told
    english = home("pc1", "case", "next", case, lang="en").out
    assert "to start: first risk clue 2020-01-02, was due by 2020-01-17, overdue by " in english, english
    assert "days (owner: pc1 pairing_cadre-pc1)" in english
    assert "首条风险线索" not in home.ok("pc1", "case", "next", applicant).out


CHANNELS_ZH = "农户自主申报、基层干部排查走访（走访排查）、部门筛查预警（部门预警）、其他"
CHANNELS_EN = "household's own report, cadres' checks and visits (visit), department's screening alert " \
              "(department alert), other"


def test_a_clues_channel_is_one_of_the_research_s_given_as_code_or_label_in_either_language(home, tmp_path):  # noqa: F811
    from tests.test_housing_grade import stored_field
    cases = [home.register(seed=30 + i, evidence=False) for i in range(5)]
    written = ["农户自主申报", "department alert", "走访排查", "Cadres' checks and visits", "部门筛查预警"]
    for case, source in zip(cases, written):
        home.ok("vs", "evidence", "add", case, "monitoring_clue", "--field", f"source={source}",
                "--field", "clue_date=2019-03-01", "--field", "monitoring_type=edge")
    assert stored_field(home, cases, "monitoring_clue", "source") == dict(zip(cases, [
        "self_report", "department", "visit", "visit", "department"]))
    assert "来源：部门筛查预警（部门预警）" in home.ok("insp", "case", "show", cases[1]).out
    assert "source: department's screening alert (department alert)" in home("insp", "case", "show", cases[1],
                                                                            lang="en").out
    other = home.register(seed=40, evidence=False)
    before = home.snapshot()
    for source, said in (("热线电话", f"应为 {CHANNELS_ZH} 之一，收到 热线电话"),
                         ("其他", "为「其他」时须填写 来源说明")):
        refused = home("vs", "evidence", "add", other, "monitoring_clue", "--field", f"source={source}",
                       "--field", "clue_date=2019-03-01", "--field", "monitoring_type=edge")
        assert refused.code == 2 and said in refused.err and "Traceback" not in refused.err, refused.err
    english = home("vs", "evidence", "add", other, "monitoring_clue", "--field", "source=hotline", "--field",
                   "clue_date=2019-03-01", "--field", "monitoring_type=edge", lang="en")
    assert english.code == 2 and CHANNELS_EN in english.err, english.err
    assert home.snapshot() == before
    home.ok("vs", "evidence", "add", other, "monitoring_clue", "--field", "source=其他", "--field",
            "source_note=12317 热线来电", "--field", "clue_date=2019-03-01", "--field", "monitoring_type=edge")
    assert "来源：其他、来源说明：12317 热线来电" in home.ok("insp", "case", "show", other).out

