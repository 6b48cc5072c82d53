"""The evidence the villages entered, taken out as the other tables are (`export evidence`): an item a
row with its household, type, fields in words (or a column a field: `--type`), file, who attached it
and whether it is in force; the reader's jurisdiction only; formulas neutralised; recorded. On SQLite
and PostgreSQL alike (the `world` fixture)."""
from __future__ import annotations

import csv

import openpyxl

from engine.services.case_actions import attach_evidence
from tests.test_accountability import cli
from tests.test_activity_log import exported
from tests.world import TOWNSHIP, VILLAGE, VILLAGE2, scan_file


def _rows(world, who: str, path, *options: str) -> list[dict[str, str]]:
    result = cli(world, who, "export", "evidence", *options, "--csv", path)
    assert result.code == 0, result.err
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _household_with_evidence(world, tmp_path) -> tuple[int, int, int]:
    """A household of the first village with its 2018 income replaced by a corrected figure, its
    housing graded C and its food and clothing checked, and a signed confirmation; (case, old income
    item, new income item)."""
    case = world.household(income_2018=4000.0)
    old = _item(world, case, "income_check")
    new = attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": 4321.5},
                          replace=True, reason="收入核算有误，按复核结果更正")
    attach_evidence(world.app, world["vs"], case, "housing_safety", {"grade": "C"})
    attach_evidence(world.app, world["vs"], case, "two_assurances", {"food": True, "clothing": False})
    attach_evidence(world.app, world["pc1"], case, "household_confirmation", {"signed_on": "2019-01-10"},
                    scan_file(tmp_path / "确认书.pdf"))
    return case, old, new


def _item(world, case: int, etype: str) -> int:
    from sqlalchemy import select
    from engine.adapters import tables as t
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.evidence.c.id).where(t.evidence.c.case_id == case, t.evidence.c.type == etype,
                                                          t.evidence.c.superseded_by.is_(None))).scalar_one()


def _head_id(world, case: int) -> str:
    from sqlalchemy import select
    from engine.adapters import tables as t
    m = t.household_members.c
    with world.app.engine.connect() as conn:
        return conn.execute(select(m.id_number).where(m.case_id == case, m.relation == "head")).scalar_one()


def test_an_evidence_export_has_an_item_a_row_in_words_those_in_force_unless_all(world, tmp_path):
    case, old, new = _household_with_evidence(world, tmp_path)
    rows = _rows(world, "ts1", tmp_path / "材料.csv")
    assert list(rows[0])[:9] == ["材料编号", "案件编号", "区域代码", "区域名称", "户编号", "案件名称", "户主身份证号",
                                 "材料类型", "材料内容"]
    assert list(rows[0])[9:] == ["文件名", "文件 SHA-256", "登记人", "登记人姓名", "登记时间", "现行有效",
                                 "被替换为材料", "替换原因"]
    mine = {r["材料类型"]: r for r in rows if r["案件编号"] == str(case)}
    assert set(mine) == {"贫困户申请书", "收支核查表", "住房安全鉴定", "不愁吃不愁穿核查", "脱贫确认书(农户签字)"}
    income = mine["收支核查表"]
    assert income["材料编号"] == str(new) and income["材料内容"] == "年度：2018、家庭纯收入：4321.5"
    assert (income["区域代码"], income["区域名称"], income["案件名称"]) == ("\t" + VILLAGE, "洋塘村", "成员1-0")
    assert income["户主身份证号"] == "\t" + _head_id(world, case)       # whole, kept as text, as the members table's
    assert (income["登记人"], income["登记人姓名"], income["现行有效"]) == ("vs", "village_secretary-vs", "是")
    assert income["被替换为材料"] == income["替换原因"] == "" and income["文件名"] == ""
    assert len(income["登记时间"]) == 19                            # local time, to the second
    assert mine["住房安全鉴定"]["材料内容"].startswith("住房等级：C")      # a code by its label
    assert mine["不愁吃不愁穿核查"]["材料内容"] == "不愁吃：是、不愁穿：否"      # yes and no in words
    signed = mine["脱贫确认书(农户签字)"]
    assert signed["文件名"] == "确认书.pdf" and len(signed["文件 SHA-256"]) == 64 and signed["登记人"] == "pc1"

    every = [r for r in _rows(world, "ts1", tmp_path / "全部.csv", "--all") if r["案件编号"] == str(case)]
    replaced = next(r for r in every if r["材料编号"] == str(old))
    assert (replaced["现行有效"], replaced["被替换为材料"], replaced["替换原因"]) == (
        "否", str(new), "收入核算有误，按复核结果更正")
    assert replaced["材料内容"] == "年度：2018、家庭纯收入：4000.0"
    assert len(every) == len(mine) + 1


def test_an_evidence_export_of_one_type_has_a_column_a_field(world, tmp_path):
    case, old, new = _household_with_evidence(world, tmp_path)
    incomes = _rows(world, "ts1", tmp_path / "收入.csv", "--type", "收支核查表", "--all")
    assert "材料内容" not in incomes[0] and {"年度", "家庭纯收入", "资产说明"} <= set(incomes[0])
    assert {(r["材料编号"], r["年度"], r["家庭纯收入"], r["现行有效"]) for r in incomes if r["案件编号"] == str(case)} == {
        (str(old), "2018", "4000.0", "否"), (str(new), "2018", "4321.5", "是")}
    housing = _rows(world, "ts1", tmp_path / "住房.csv", "--type", "housing_safety")
    assert {r["住房等级"] for r in housing} == {"C级（局部危房）"} and {r["材料类型"] for r in housing} == {"住房安全鉴定"}
    coded = _rows(world, "ts1", tmp_path / "codes.csv", "--type", "housing_safety", "--codes")
    assert {(r["住房等级"], r["材料类型"]) for r in coded} == {("C", "housing_safety")}
    with_json = _rows(world, "ts1", tmp_path / "json.csv", "--codes")
    assert '{"year": 2018, "net_income": 4321.5}' in {r["材料内容"] for r in with_json}
    book = tmp_path / "住房.xlsx"
    assert cli(world, "ts1", "export", "evidence", "--type", "housing_safety", "--all", "--xlsx", book).code == 0
    assert openpyxl.load_workbook(book, read_only=True).worksheets[0].title == "住房安全鉴定（含已替换）"
    # the type and the replaced items, recorded with the export
    assert {"type": "housing_safety", "mode": "with_replaced"}.items() <= dict(exported(world)[0]["detail"]).items()


def test_a_township_s_evidence_export_holds_its_own_villages_only(world, tmp_path):
    ours = world.household(village=VILLAGE)
    theirs = world.household(village=VILLAGE2, by="vs2")
    cases = {r["案件编号"] for r in _rows(world, "ts1", tmp_path / "a.csv")}
    assert cases == {str(ours)}
    assert {r["案件编号"] for r in _rows(world, "cd", tmp_path / "b.csv")} == {str(ours), str(theirs)}
    assert {r["案件编号"] for r in _rows(world, "cd", tmp_path / "c.csv", "--region", TOWNSHIP)} == {str(ours)}
    refused = cli(world, "ts1", "export", "evidence", "--region", VILLAGE2, "--csv", tmp_path / "d.csv")
    assert refused.code != 0 and not (tmp_path / "d.csv").exists() and "Traceback" not in refused.err
    assert not [e for e in exported(world) if e["person"] == "ts1" and e["region"] == VILLAGE2]


def test_an_evidence_export_neutralises_formulas(world, tmp_path):
    from workflows.household import MemberInput, register_household
    from tests.world import member_ids
    case = register_household(world.app, world["vs"], VILLAGE, [MemberInput("王大", member_ids(1, 77)[0], "head")],
                              ["illness"])
    attach_evidence(world.app, world["vs"], case, "application",
                    {"applicant": "=HYPERLINK(\"http://x\")", "applied_on": "2019-01-10"})
    [row] = _rows(world, "vs", tmp_path / "申请.csv", "--type", "application")
    assert row["申请人"] == "'=HYPERLINK(\"http://x\")" and row["申请日期"] == "2019-01-10"
    book = tmp_path / "申请.xlsx"
    assert cli(world, "vs", "export", "evidence", "--type", "application", "--xlsx", book).code == 0
    cell = next(c for row in openpyxl.load_workbook(book).worksheets[0].iter_rows() for c in row
                if "HYPERLINK" in str(c.value))
    assert cell.value == "=HYPERLINK(\"http://x\")" and cell.data_type == "s"      # text, shown as typed


def test_an_evidence_only_option_on_another_table_or_an_unknown_type_is_refused(world, tmp_path):
    world.household()
    for args, said in ((("cases", "--all"), "只有材料可以按类型"), (("steps", "--type", "income_check"), "只有材料可以按类型"),
                       (("evidence", "--type", "no_such_type"), "no_such_type")):
        result = cli(world, "ts1", "export", *args, "--csv", tmp_path / "x.csv")
        assert result.code == 2 and said in result.err and not (tmp_path / "x.csv").exists(), result.err
    assert exported(world) == []


def test_a_findings_source_is_exported_in_words_as_the_trace_says_it(world, tmp_path):
    """A wrong exit finding's source was written as its code (来源：third_party_evaluation) in zh and
    en alike, where the trace says 第三方评估: in one cell and in its own column (`--type`), in words;
    `--codes` keeps the code."""
    case = world.household()
    attach_evidence(world.app, world["vs"], case, "wrong_exit_finding",
                    {"source": "third_party_evaluation", "reason": "收入核算漏计医疗支出"})
    [row] = [r for r in _rows(world, "ts1", tmp_path / "all.csv") if r["材料类型"] == "错退认定材料"]
    assert row["材料内容"] == "来源：第三方评估、理由：收入核算漏计医疗支出"
    [own] = _rows(world, "ts1", tmp_path / "one.csv", "--type", "wrong_exit_finding")
    assert own["来源"] == "第三方评估"
    english = cli(world, "ts1", "export", "evidence", "--type", "wrong_exit_finding", "--csv", tmp_path / "en.csv",
                  lang="en")
    assert english.code == 0 and ",third-party evaluation," in (tmp_path / "en.csv").read_text(encoding="utf-8-sig")
    [coded] = _rows(world, "ts1", tmp_path / "codes.csv", "--type", "wrong_exit_finding", "--codes")
    assert coded["来源"] == "third_party_evaluation"
    shown = cli(world, "ts1", "case", "show", case)
    assert "来源：第三方评估" in shown.out and "third_party_evaluation" not in shown.out
