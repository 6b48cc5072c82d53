"""Villages of one name in two townships are told apart (a11 #4): the cases, members, steps and deadlines
exports give each row's township (乡镇) by code and by name, in CSV and XLSX, and the case page's header
says 梅江镇 洋塘村. Before, the exports gave the village alone (three 洋塘村 in a county merged in a pivot
table) and the case page said 案件 9 · 洋塘村. SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import re

import openpyxl

from engine.reads.exports import export_table
from engine.services.org import add_regions
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import TOWNSHIP, TOWNSHIP2, VILLAGE

SAME_NAME = "360730101202"          # a 洋塘村 in 青塘镇, beside 梅江镇's 洋塘村 (VILLAGE)


def test_each_export_names_the_township_of_its_rows_by_code_and_name(world):
    add_regions(world.app, world["admin"], [(SAME_NAME, "洋塘村")])
    here = world.household()
    there = world.household(village=SAME_NAME, by="ts_other")
    world.step("vs", "identification", "application", here)        # a step, and the deadline of the next
    expected = {here: (TOWNSHIP, "梅江镇"), there: (TOWNSHIP2, "青塘镇")}
    for table, key in (("cases", "id"), ("members", "case_id"), ("steps", "case_id"), ("deadlines", "case_id")):
        columns, rows = export_table(world.app, world["cd"], table)
        assert {"township_code", "township_title"} <= set(columns), (table, columns)
        seen = {}
        for row in rows:
            r = dict(zip(columns, row))
            if r[key] in expected:
                seen.setdefault(r[key], set()).add((r["township_code"], r["township_title"]))
        assert here in seen and (table in ("steps", "deadlines") or there in seen), (table, seen)
        assert seen == {case: {expected[case]} for case in seen}, (table, seen)


def test_the_case_page_header_says_the_township_then_the_village(world, world_clients):
    page, _ = world_clients
    case = world.household()
    html = page("vd").get(f"/cases/{case}").text
    place = re.search(r'<span id="case-place">([^<]*)</span>', html)
    assert place and place.group(1) == "梅江镇 洋塘村", html[:3000]


def test_the_files_have_the_township_columns_and_the_members_file_imports_again(home, tmp_path):  # noqa: F811
    case = home.register()
    home.ok("insp", "export", "cases", "--csv", str(tmp_path / "cases.csv"))
    with open(tmp_path / "cases.csv", encoding="utf-8-sig") as f:
        row = {r["编号"]: r for r in csv.DictReader(f)}[str(case)]
    assert (row["乡镇代码"].strip(), row["乡（镇）"], row["区域名称"]) == (TOWNSHIP, "梅江镇", "洋塘村"), row
    home.ok("insp", "export", "members", "--xlsx", str(tmp_path / "members.xlsx"))
    sheet = list(openpyxl.load_workbook(tmp_path / "members.xlsx").worksheets[0].iter_rows(values_only=True))
    members = [dict(zip(sheet[0], r)) for r in sheet[1:]]
    assert {(m["乡镇代码"], m["乡（镇）"], m["村编码"]) for m in members} == {(TOWNSHIP, "梅江镇", VILLAGE)}, members
    again = home("cd", "household", "import", str(tmp_path / "members.xlsx"))
    assert again.code == 0 and "不认识" not in again.out + again.err, again.out + again.err
