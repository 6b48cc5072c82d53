"""The exports say how a household's last procedure ended and why: an applicant voted down (or
excluded by an upheld objection) read 未通过识别 waiting at 农户申请 in the cases file and all its
steps 完成/同意 in the steps file, and nothing said the procedure was rejected, or why (audit a7 #15).
The cases file now gives the latest procedure to have ended, its outcome, day and reason; the steps
file each step's procedure's status and why it ended."""
from __future__ import annotations

import csv

import openpyxl

from tests.test_cli import home, template  # noqa: F401  (fixtures)

VOTED_DOWN = "民主评议未通过：到会 41 人，赞成 3 人"


def _csv(path) -> list[dict]:
    with open(path, encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_the_cases_and_steps_files_say_the_procedure_was_rejected_and_why(home, tmp_path):  # noqa: F811
    case = home.register(seed=95)
    home.ok("vs", "step", "identification", "application", case, "--date", "2019-03-01")
    home.ok("vd", "step", "identification", "appraisal", case, "--date", "2019-03-01", "--attendance", "41",
            "--for", "3", "--against", "35", "--minutes", home.minutes())
    other = home.register(seed=96)          # nothing ended yet: the columns are blank
    home.ok("insp", "export", "cases", "--csv", str(tmp_path / "cases.csv"))
    rows = {r["编号"]: r for r in _csv(tmp_path / "cases.csv")}
    row = rows[str(case)]
    assert (row["阶段"], row["最近结束的程序"], row["该程序结果"], row["该程序结束原因"]) == \
        ("未通过识别", "贫困识别", "已否决", VOTED_DOWN), row
    assert row["该程序结束时间"].startswith("20")
    assert (rows[str(other)]["最近结束的程序"], rows[str(other)]["该程序结果"]) == ("", "")

    home.ok("insp", "export", "steps", "--xlsx", str(tmp_path / "steps.xlsx"))
    sheet = list(openpyxl.load_workbook(tmp_path / "steps.xlsx").worksheets[0].iter_rows(values_only=True))
    header, steps = sheet[0], [dict(zip(sheet[0], r)) for r in sheet[1:] if str(r[0]).strip() == str(case)]
    assert "程序状态" in header and "程序结束原因" in header
    assert [(s["步骤"], s["程序状态"], s["程序结束原因"]) for s in steps] == [
        ("农户申请", "已否决", VOTED_DOWN), ("民主评议", "已否决", VOTED_DOWN)], steps

    english = home("insp", "export", "cases", "--csv", str(tmp_path / "cases_en.csv"), lang="en")
    assert english.code == 0
    row = {r["id"]: r for r in _csv(tmp_path / "cases_en.csv")}[str(case)]
    assert row["its outcome"] == "rejected" and "appraisal vote failed" in row["why it ended"].lower(), row


def test_case_list_says_why_a_household_is_not_identified(home):  # noqa: F811
    case = home.register(seed=97)
    home.ok("vs", "step", "identification", "application", case, "--date", "2019-03-01")
    home.ok("vd", "step", "identification", "appraisal", case, "--date", "2019-03-01", "--attendance", "41",
            "--for", "3", "--against", "35", "--minutes", home.minutes())
    line = next(x for x in home.ok("vs", "case", "list").out.splitlines() if x.startswith(f"{case}\t"))
    assert f"未通过识别（{VOTED_DOWN}）" in line, line
    english = home.ok("vs", "case", "list", "--stage", "not_identified", "--json").json()
    assert [r["ended"]["reason"] for r in english if r["id"] == case] == [VOTED_DOWN]
    fresh = home.register(seed=98)
    assert "ended" not in next(r for r in home.ok("vs", "case", "list", "--json").json() if r["id"] == fresh)
