"""Regions and people from a sheet as an administrator really has it (issue 12, "persons, regions and
evidence sheets the same way"): Chinese or English headers, CSV (UTF-8, GBK) or .xlsx, every bad row
reported at once with its line, column and reason, nothing written while any is left (or, with
--skip-bad FILE, the good rows imported and the bad ones written with their reasons), one audit
event naming the file and its hash. Region codes are 12 ASCII digits (issue 13's probe)."""
from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import stat

import pytest

from engine.domain.errors import BadInput
from engine.domain.regions import ascii_digits, check_code
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import COUNTY, TOWNSHIP, VILLAGE, VILLAGE2

NEW_TOWN, NEW_VILLAGE = "360730102000", "360730102201"


def _write(path, rows, encoding: str = "utf-8") -> str:
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding=encoding)
    return str(path)


def _event(home, action: str) -> dict:  # noqa: F811
    """The detail of the last event of this kind."""
    with sqlite3.connect(home.db) as conn:
        found = conn.execute("SELECT detail FROM audit_events WHERE action = ?", (action,)).fetchall()
    return json.loads(found[-1][0])


def _lines(err: str, line: int) -> list[str]:
    return [text for text in err.splitlines() if text.startswith((f"第 {line} 行，", f"line {line}, "))]


def _bad_file(path) -> list[list[str]]:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")            # a BOM: Excel opens it as UTF-8
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


# --- region codes -----------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["36073010020³", "３６０７３０１０２２０１", "36073010220٣", "36073010220", " 36073010220"])
def test_a_region_code_is_twelve_ascii_digits(code):
    assert not (ascii_digits(code) and len(code) == 12)
    with pytest.raises(BadInput) as refused:
        check_code(code)
    assert refused.value.code == "region.bad_code"
    assert check_code(NEW_VILLAGE) == NEW_VILLAGE


def test_region_add_refuses_a_superscript_digit(home):  # noqa: F811
    before = home.snapshot()
    result = home("admin", "region", "add", "36073010020³", "上标村")
    assert result.code == 2 and "[region.bad_code]" in result.err and "Traceback" not in result.err
    assert home.snapshot() == before


# --- regions ----------------------------------------------------------------------------------

BAD_REGIONS = [("区划代码", "名称"),
               (NEW_TOWN, "黄石镇"),              # line 2: good
               (NEW_VILLAGE, "黄石村"),           # line 3: good
               ("36073010220³", "上标村"),        # line 4: a superscript digit
               (NEW_VILLAGE, "又一个黄石村"),     # line 5: the code of line 3 again
               ("360730109201", "无上级村"),      # line 6: no such township
               (VILLAGE, "洋塘新村"),             # line 7: in the database under another name
               ("360730102202", ""),              # line 8: no name
               ("360730103000", "坏镇" * 60),     # line 9: a name too long ...
               ("360730103201", "坏镇下的村")]    # line 10: ... so its village has no parent either


def test_a_region_sheet_with_chinese_headers_reports_every_bad_row_and_writes_nothing(home, tmp_path):  # noqa: F811
    before = home.snapshot()
    result = home("admin", "region", "import", _write(tmp_path / "区划.csv", BAD_REGIONS, "gb18030"))
    assert result.code == 2
    for line, column in ((4, "区划代码"), (5, "区划代码"), (6, "区划代码"), (7, "名称"), (8, "名称"), (9, "名称"),
                         (10, "区划代码")):
        assert f"第 {line} 行，{column}：" in result.err, (line, column, result.err)
    assert _lines(result.err, 2) == [] and _lines(result.err, 3) == []
    assert "已在第 3 行出现过" in result.err and "上级 360730109000 不存在" in result.err
    assert "7 行有误" in result.err and "没有导入任何内容" in result.err and "--skip-bad" in result.err
    assert home.snapshot() == before


def test_the_same_report_reads_in_english(home, tmp_path):  # noqa: F811
    result = home("admin", "region", "import", _write(tmp_path / "regions.csv", BAD_REGIONS), lang="en")
    assert result.code == 2
    assert "line 4, region code: " in result.err and "line 5, region code: the code 360730102201 is already on line 3" \
        in result.err
    assert "line 8, name: " in result.err and "line 9, name: too long: at most 100 characters" in result.err
    assert "7 row(s) of" in result.err and "nothing was imported" in result.err


def test_skip_bad_imports_the_good_regions_and_writes_the_others_with_reasons(home, tmp_path):  # noqa: F811
    path = _write(tmp_path / "区划.csv", BAD_REGIONS)
    skipped = tmp_path / "未导入.csv"
    result = home("admin", "region", "import", path, "--skip-bad", str(skipped))
    assert result.code == 0, result.err
    assert "已导入区域 2 个" in result.out
    assert "另有 7 行因有误未导入" in result.out
    listed = {r["code"]: r["name"] for r in home.ok("admin", "region", "list", "--json").json()}
    assert listed[NEW_TOWN] == "黄石镇" and listed[NEW_VILLAGE] == "黄石村" and "360730103201" not in listed
    written = _bad_file(skipped)
    assert written[0] == ["行号", "区划代码", "名称", "原因"]
    assert [r[0] for r in written[1:]] == ["4", "5", "6", "7", "8", "9", "10"]
    assert written[1][1] == "36073010220³" and written[1][-1].startswith("区划代码：")
    event = _event(home, "regions_imported")
    assert event["file"] == "区划.csv" and event["count"] == 2 and event["skipped_rows"] == 7
    assert event["sha256"] == hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_a_region_workbook_with_english_headers_imports_like_its_csv(home, tmp_path):  # noqa: F811
    import openpyxl
    book = openpyxl.Workbook()
    for row in [("code", "name"), (NEW_TOWN, "黄石镇"), (int(NEW_VILLAGE), "黄石村")]:   # a code typed as a number
        book.active.append(list(row))
    book.save(tmp_path / "regions.xlsx")
    assert home("admin", "region", "import", str(tmp_path / "regions.xlsx")).code == 0
    assert {r["code"] for r in home.ok("admin", "region", "list", "--json").json()} >= {NEW_TOWN, NEW_VILLAGE}


def test_a_region_sheet_beyond_the_administrators_reach_is_refused_row_by_row(home, tmp_path):  # noqa: F811
    home.tokens["cadm"] = _county_admin(home)
    path = _write(tmp_path / "区划.csv", [("代码", "区划名称"), (NEW_TOWN, "黄石镇"), ("360731000000", "邻县")])
    before = home.snapshot()
    result = home("cadm", "region", "import", path)
    assert result.code == 2 and "第 3 行，区划代码：" in result.err and _lines(result.err, 2) == []
    assert home.snapshot() == before


def test_a_region_sheet_in_any_order_imports_its_parents_found_further_down(home, tmp_path):  # noqa: F811
    """A county's table lists its villages before their township (or sorted by name): the parents are
    read from anywhere in the file; one neither in the database nor on a good line is still told on
    the line that needs it, and nothing is imported."""
    rows = [("区划代码", "名称"), ("360730102202", "黄石二村"), (NEW_VILLAGE, "黄石村"), (NEW_TOWN, "黄石镇"),
            ("360730103201", "远村"), ("360730103000", "")]          # line 5's township (line 6) has no name
    before = home.snapshot()
    refused = home("admin", "region", "import", _write(tmp_path / "区划.csv", rows))
    assert refused.code == 2 and "Traceback" not in refused.err
    assert _lines(refused.err, 2) == [] and _lines(refused.err, 3) == [] and _lines(refused.err, 4) == []
    assert "第 5 行，区划代码：区域 360730103201 的上级 360730103000 不存在" in refused.err
    assert "第 6 行，名称：" in refused.err and "2 行有误" in refused.err
    assert home.snapshot() == before
    result = home("admin", "region", "import", _write(tmp_path / "区划2.csv", rows[:4]))
    assert result.code == 0, result.err
    listed = {r["code"]: r["name"] for r in home.ok("admin", "region", "list", "--json").json()}
    assert listed[NEW_TOWN] == "黄石镇" and listed[NEW_VILLAGE] == "黄石村" and listed["360730102202"] == "黄石二村"
    assert home("admin", "region", "import", _write(tmp_path / "区划3.csv", [("code", "name"), ("360730104201", "甲村")]),
                lang="en").err.count("neither in the database nor on a correct line of the file") == 1


# --- people -----------------------------------------------------------------------------------

PEOPLE = [("人员编号", "姓名", "角色", "区域", "通知渠道", "提醒语言"),
          ("wx", "王小", "村党支部书记", VILLAGE, "email:wx@example.cn", "zh"),    # line 2: a role by its label
          ("wx", "王小", "pairing_cadre", VILLAGE, "", ""),                       # line 3: a second role
          ("lx", "李晓", "township_staff", TOWNSHIP, "", "en")]                    # line 4


def test_a_people_sheet_with_chinese_headers_and_role_labels_imports(home, tmp_path):  # noqa: F811
    path = _write(tmp_path / "人员.csv", PEOPLE, "gbk")
    tokens = tmp_path / "tokens.csv"
    result = home("admin", "person", "import", path, "--codes-file", str(tokens))
    assert result.code == 0, result.err
    people = {p["code"]: p["roles"] for p in home.ok("admin", "person", "list", "--json").json()}
    assert people["wx"] == [{"role": "village_secretary", "region": VILLAGE}, {"role": "pairing_cadre", "region": VILLAGE}]
    assert people["lx"] == [{"role": "township_staff", "region": TOWNSHIP}]
    event = _event(home, "persons_imported")
    assert event["file"] == "人员.csv" and event["persons"] == 2 and event["roles"] == 3
    assert event["sha256"] == hashlib.sha256(open(path, "rb").read()).hexdigest() and event["skipped_rows"] == 0
    assert home("insp", "audit", "verify").code == 0


BAD_PEOPLE = [("code", "name", "role", "region", "channels", "alert_lang"),
              ("p1", "甲", "village_secretary", VILLAGE, "", ""),         # line 2: good
              ("p2", "乙", "village_mayor", VILLAGE, "", ""),             # line 3: unknown role
              ("p3", "丙", "village_secretary", "360730100299", "", ""),  # line 4: unknown region
              ("p4", "丁", "village_secretary", TOWNSHIP, "", ""),        # line 5: a village post over a township
              ("p1", "甲乙", "pairing_cadre", VILLAGE, "", ""),           # line 6: p1 by another name
              ("vs", "重名", "pairing_cadre", VILLAGE, "", ""),           # line 7: a code already taken
              ("p5", "戊", "pairing_cadre", VILLAGE, "pager:123", "fr"),  # line 8: channel and language
              ("p6", "己", "pairing_cadre", VILLAGE, "", ""),             # line 9: good ...
              ("p6", "己", "pairing_cadre", VILLAGE, "", ""),             # line 10: ... the same role twice
              ("", "无名", "pairing_cadre", VILLAGE, "", ""),             # line 11: no code
              ("p7", "庚", "pairing_cadre", "36073010020³", "", ""),      # line 12: a superscript digit
              ("p8", "辛", "pairing_cadre", VILLAGE, "console", "en")]    # line 13: good


def test_a_people_sheet_reports_every_bad_row_and_creates_nobody(home, tmp_path):  # noqa: F811
    before = home.snapshot()
    tokens = tmp_path / "tokens.csv"
    result = home("admin", "person", "import", _write(tmp_path / "人员.csv", BAD_PEOPLE), "--codes-file", str(tokens))
    assert result.code == 2
    for line, column in ((3, "岗位"), (4, "区域"), (5, "岗位"), (6, "姓名"), (7, "人员编号"), (8, "通知渠道"),
                         (8, "提醒语言"), (10, "岗位"), (11, "人员编号"), (12, "区域")):
        assert f"第 {line} 行，{column}：" in result.err, (line, column, result.err)
    assert _lines(result.err, 2) == [] and _lines(result.err, 9) == [] and _lines(result.err, 13) == []
    assert "在第 2 行的姓名是 甲" in result.err and "与第 9 行的角色和区域相同" in result.err
    unknown_role = _lines(result.err, 3)[0]
    assert "村党支部书记" in unknown_role and "village_secretary" not in unknown_role    # the roles by their labels
    assert home.snapshot() == before and not tokens.exists()
    english = home("admin", "person", "import", str(tmp_path / "人员.csv"), lang="en")
    assert "line 6, name: person code p1 is named 甲 on line 2" in english.err
    assert "line 3, role: unknown role village_mayor" in english.err


def test_skip_bad_imports_only_the_people_none_of_whose_rows_is_bad(home, tmp_path):  # noqa: F811
    skipped = tmp_path / "未导入.csv"
    result = home("admin", "person", "import", _write(tmp_path / "人员.csv", BAD_PEOPLE), "--no-code",
                  "--skip-bad", str(skipped))
    assert result.code == 0, result.err
    codes = {p["code"] for p in home.ok("admin", "person", "list", "--json").json()}
    assert "p8" in codes and "p6" not in codes and "p1" not in codes   # p6's line 10 and p1's line 6 are wrong
    written = _bad_file(skipped)
    assert [r[0] for r in written[1:]] == [str(n) for n in range(2, 13)]
    assert written[1][-1] == "此人的其他行有误，此人未导入"            # p1's good line 2, kept out with p1
    assert "另有 11 行因有误未导入" in result.out


def test_a_county_administrator_may_not_grant_beyond_the_county(home, tmp_path):  # noqa: F811
    home.tokens["cadm"] = _county_admin(home)
    home.ok("admin", "region", "add", "360731000000", "邻县")
    path = _write(tmp_path / "人员.csv", [("工号", "姓名", "岗位", "辖区"), ("q1", "甲", "county_office_staff", COUNTY),
                                          ("q2", "乙", "county_office_staff", "360731000000")])
    before = home.snapshot()
    result = home("cadm", "person", "import", path, "--no-code")
    assert result.code == 2 and "第 3 行，辖区：" in result.err and _lines(result.err, 2) == []
    assert home.snapshot() == before


def test_skip_bad_with_no_good_row_imports_nothing_but_writes_the_rows(home, tmp_path):  # noqa: F811
    skipped = tmp_path / "未导入.csv"
    before = home.snapshot()
    result = home("admin", "region", "import", _write(tmp_path / "区划.csv", [("code", "name"), (VILLAGE, "别名村")]),
                  "--skip-bad", str(skipped))
    assert result.code == 2 and "[sheets.nothing_good]" in result.err
    assert home.snapshot() == before
    assert [r[0] for r in _bad_file(skipped)] == ["行号", "2"]


def _county_admin(home) -> str:
    """A county administrator `cadm`, added with a paper enrolment code that they spend: their token."""
    code = home.ok("admin", "person", "add", "cadm", "县管理员", "--role", f"admin:{COUNTY}").last_line()
    return home.ok("cadm", "activate", code).last_line()


def test_a_people_sheet_names_its_regions_by_name_and_passes_over_its_totals_row(home, tmp_path):  # noqa: F811
    """The region as the county's list writes it (洋塘村, 梅江镇): the one region of that name in the
    administrator's jurisdiction. A name none has, or two have, is told on its line and column; a
    合计 row is passed over and said to be, as the household and evidence imports do."""
    home.ok("admin", "region", "add", "360730100202", "同名村")
    home.ok("admin", "region", "add", "360730101202", "同名村")
    rows = [("人员编号", "姓名", "角色", "区域"),
            ("n1", "甲", "帮扶责任人", "洋塘村"),                 # line 2: a village by its name
            ("n2", "乙", "乡镇干部", "梅江镇"),                   # line 3: a township by its name
            ("n3", "丙", "帮扶责任人", "黄石村"),                 # line 4: no region of that name
            ("n4", "丁", "帮扶责任人", "同名村"),                 # line 5: two of that name
            ("合计", "", "", "")]                                  # line 6: the totals row
    before = home.snapshot()
    refused = home("admin", "person", "import", _write(tmp_path / "人员.csv", rows), "--no-code")
    assert refused.code == 2 and "Traceback" not in refused.err
    assert _lines(refused.err, 2) == [] and _lines(refused.err, 3) == [] and _lines(refused.err, 6) == []
    assert _lines(refused.err, 4) == ["第 4 行，区域：您的辖区内没有名为「黄石村」的地区：请核对名称，或给出它的 12 位区划代码"
                                      "（`jingzhun region list` 列出）"]
    ambiguous = _lines(refused.err, 5)
    assert len(ambiguous) == 1 and "360730100202" in ambiguous[0] and "360730101202" in ambiguous[0]
    assert "已跳过合计行" in refused.err and "行号：6" in refused.err
    assert home.snapshot() == before
    english = home("admin", "person", "import", str(tmp_path / "人员.csv"), "--no-code", lang="en")
    assert "line 4, region: No region named “黄石村” in your jurisdiction" in english.err
    result = home("admin", "person", "import", _write(tmp_path / "人员2.csv", rows[:3] + rows[5:]), "--no-code")
    assert result.code == 0, result.err
    people = {p["code"]: p["roles"] for p in home.ok("admin", "person", "list", "--json").json()}
    assert people["n1"] == [{"role": "pairing_cadre", "region": VILLAGE}]
    assert people["n2"] == [{"role": "township_staff", "region": TOWNSHIP}]


def test_a_people_sheet_whose_first_column_is_the_post_keeps_every_person(home, tmp_path):  # noqa: F811
    """村委会主任 in the first column is a person's post, not a line to sign under the table: a row that
    fills every column the list needs is a row of the list."""
    rows = [("角色", "人员编号", "姓名", "区域"), ("村委会主任", "m1", "甲", VILLAGE), ("村党支部书记", "m2", "乙", VILLAGE),
            ("负责人：", "", "", "")]
    result = home("admin", "person", "import", _write(tmp_path / "人员.csv", rows), "--no-code")
    assert result.code == 0, result.err
    people = {p["code"]: p["roles"] for p in home.ok("admin", "person", "list", "--json").json()}
    assert people["m1"] == [{"role": "village_director", "region": VILLAGE}]
    assert "行号：4" in result.err


# --- who may import, lists read again, codes as a spreadsheet has them (UX audit 2) ---------------

def _region_file(tmp_path, rows, name: str = "区划.csv") -> str:
    return _write(tmp_path / name, [("区划代码", "名称"), *rows])


def _person_file(tmp_path, rows, name: str = "人员.csv") -> str:
    return _write(tmp_path / name, [("人员编号", "姓名", "角色", "区域"), *rows])


@pytest.mark.parametrize("what", ["region", "person"])
def test_a_person_who_administers_nothing_is_refused_once_before_the_list_is_read(world, tmp_path, what):
    """An inspector (read-only) or a county office director (no administrator's post) importing regions
    or people: one refusal, exit 1, as household import says it, not the refusal again on every row as
    bad input (exit 2) with a bad-rows file to correct."""
    from tests.helpers.notifications import cli
    path = (_region_file(tmp_path, [(NEW_TOWN, "黄石镇"), (NEW_VILLAGE, "黄石村"), ("坏代码", "")]) if what == "region"
            else _person_file(tmp_path, [("n1", "甲", "帮扶责任人", "洋塘村"), ("n2", "乙", "乡镇干部", TOWNSHIP)]))
    before = _written(world)
    skipped = tmp_path / "未导入.csv"
    for who, code in (("insp", "auth.read_only"), ("cd", "auth.not_admin")):
        refused = cli(world, who, what, "import", path, "--skip-bad", str(skipped))
        assert refused.code == 1 and "Traceback" not in refused.err, refused.err
        assert refused.err.splitlines() == [refused.err.splitlines()[0]] and f"已拒绝 [{code}]" in refused.err, refused.err
        assert "第 2 行" not in refused.err and "sheets.bad_rows" not in refused.err and not skipped.exists()
    assert "只读：insp 为纪检监察/审计/评估人员" in cli(world, "insp", what, "import", path).err
    director = cli(world, "cd", what, "import", path).err
    assert "cd 不是管理员，未读取文件" in director and "须由系统管理员执行" in director, director   # not 之一 of one
    english = cli(world, "cd", "--lang", "en", what, "import", path)
    assert english.code == 1 and "cd is not an administrator, so the file was not read" in english.err, english.err
    assert "is done by an administrator" in english.err and "one of" not in english.err, english.err
    assert _written(world) == before


def test_a_region_list_imported_again_passes_over_the_regions_it_registered(world, tmp_path):
    """A region list read again (a county's table sent once more, a new village added at its foot): the
    regions registered already under the same name are passed over and counted, as households are;
    one registered under another name is its row's problem, said with both names."""
    from tests.helpers.notifications import cli
    first = cli(world, "admin", "region", "import", _region_file(tmp_path, [(NEW_TOWN, "黄石镇"), (NEW_VILLAGE, "黄石村")]))
    assert first.code == 0, first.err
    events = _written(world)[2]
    again = cli(world, "admin", "region", "import",
                _region_file(tmp_path, [(NEW_TOWN, "黄石镇"), (NEW_VILLAGE, "黄石村 "), (VILLAGE, "洋塘村"),
                                        ("360730102202", "黄石二村")], "区划2.csv"))
    assert again.code == 0 and "区域已存在" not in again.err, again.err
    assert "已导入区域 1 个" in again.out and "另有 3 个区域已登记，且名称与文件一致，未重复导入" in again.out
    assert _written(world)[2] == events + 1
    listed = {r["code"]: r["name"] for r in json.loads(cli(world, "admin", "region", "list", "--json").out)}
    assert listed["360730102202"] == "黄石二村" and listed[NEW_VILLAGE] == "黄石村"
    same = cli(world, "admin", "--lang", "en", "region", "import", _region_file(tmp_path, [(NEW_TOWN, "黄石镇")], "r3.csv"))
    assert same.code == 0 and "no new region to import in r3.csv: 1 region(s) are registered already" in same.out
    assert _written(world)[2] == events + 1           # nothing to write: no event either
    renamed = cli(world, "admin", "region", "import", _region_file(tmp_path, [(NEW_TOWN, "黄石乡")], "r4.csv"))
    assert renamed.code == 2, renamed.err
    assert f"第 2 行，名称：区域 {NEW_TOWN} 已登记，名称为「黄石镇」，与这里的「黄石乡」不同" in renamed.err


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_corrected_file_of_bad_rows_imports_without_its_own_columns_told_as_unknown(world, tmp_path, lang):
    """The file --skip-bad wrote (行号 … 原因), corrected and imported: its own columns are known and
    passed over in silence, for regions and people alike, as household import does."""
    from tests.helpers.notifications import cli
    lead = ("--lang", lang) if lang == "en" else ()
    for what, rows, fix in (
            ("region", _region_file(tmp_path, [(NEW_TOWN, "黄石镇"), ("360730102299", "")]), (2, "黄石新村")),
            ("person", _person_file(tmp_path, [("n1", "甲", "帮扶责任人", "洋塘村"), ("n2", "乙", "乡镇长", "洋塘村")]),
             (3, "帮扶责任人"))):
        skipped = tmp_path / f"{what}-bad.csv"
        result = cli(world, "admin", *lead, what, "import", rows, "--skip-bad", str(skipped),
                     *(["--no-code"] if what == "person" else []))
        assert result.code == 0, result.err
        table = _bad_file(skipped)
        assert table[0][0] == ("行号" if lang == "zh" else "line") and table[0][-1] == ("原因" if lang == "zh" else "reason")
        table[1][fix[0]] = fix[1]
        with open(skipped, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(table)
        again = cli(world, "admin", *lead, what, "import", str(skipped), *(["--no-code"] if what == "person" else []))
        assert again.code == 0, again.err
        assert again.err.strip() == "", again.err        # no 以下列本系统不认识…：行号、原因


def test_region_codes_in_full_width_digits_or_spaced_are_read_and_a_spreadsheet_s_are_explained(world, tmp_path):
    """３６０７３０… (typed with a Chinese input method) and 3607 3010 2000 read as the digits they show,
    as household import reads an ID number; 3.60731E+11 is told as the spreadsheet's doing, with how
    to mend it, and an empty code as missing, not only as "12 digits"."""
    from tests.helpers.notifications import cli
    path = _region_file(tmp_path, [("３６０７３０１０２０００", "黄石镇"), (" 3607 3010 2201", "黄石村"), ("3.60731E+11", "科学村"),
                                   ("", "无码村")])
    refused = cli(world, "admin", "region", "import", path)
    assert refused.code == 2 and _lines(refused.err, 2) == [] and _lines(refused.err, 3) == [], refused.err
    assert _lines(refused.err, 5) == ["第 5 行，区划代码：缺少区划代码：请填写该区域的 12 位区划代码"]
    assert _lines(refused.err, 4) == ["第 4 行，区划代码：被表格软件改成了科学计数法（3.60731E+11），原号码的末几位已经丢失："
                                      "请先把这一列设为“文本”格式，再从原始名单重新复制这些号码后导入；改正错误行时请写成「.xlsx」文件"
                                      "（--skip-bad 「错误行.xlsx」），号码会存为文本"]
    english = cli(world, "admin", "--lang", "en", "region", "import", path)
    assert "line 4, region code: was turned into scientific notation by a spreadsheet (3.60731E+11)" in english.err
    result = cli(world, "admin", "region", "import", _region_file(tmp_path, [("３６０７３０１０２０００", "黄石镇"),
                                                                              (" 3607 3010 2201", "黄石村")], "r2.csv"))
    assert result.code == 0 and "已导入区域 2 个" in result.out, result.err
    listed = {r["code"]: r["name"] for r in json.loads(cli(world, "admin", "region", "list", "--json").out)}
    assert listed[NEW_TOWN] == "黄石镇" and listed[NEW_VILLAGE] == "黄石村"
    people = cli(world, "admin", "person", "import", _person_file(tmp_path, [("n1", "甲", "帮扶责任人", "３６０７３０１００２０１")]),
                 "--no-code")                  # a post's region alike (it was looked up as a name)
    assert people.code == 0, people.err
    assert _people(world)["n1"] == [{"role": "pairing_cadre", "region": VILLAGE}]


def test_a_person_s_row_with_no_region_says_the_region_is_missing_and_what_it_takes(world, tmp_path):
    from tests.helpers.notifications import cli
    path = _person_file(tmp_path, [("n1", "甲", "帮扶责任人", "洋塘村"), ("n2", "乙", "乡镇干部", "")])
    before = _written(world)
    refused = cli(world, "admin", "person", "import", path, "--no-code")
    assert refused.code == 2 and _lines(refused.err, 2) == [], refused.err
    assert _lines(refused.err, 3) == ["第 3 行，区域：缺少区域：请填写岗位所在区域的 12 位区划代码或名称"], refused.err
    english = cli(world, "admin", "--lang", "en", "person", "import", path, "--no-code")
    assert "line 3, region: no region: give the post's region by its 12-digit code or by its name" in english.err
    assert _written(world) == before


# --- a post's region by its name on the command line (person add --role, grant, revoke) ------------

def _people(world) -> dict[str, list[dict]]:
    from tests.helpers.notifications import cli
    listed = cli(world, "admin", "person", "list", "--json")
    assert listed.code == 0, listed.err
    return {p["code"]: p["roles"] for p in json.loads(listed.out)}


def _written(world) -> tuple[int, int, int]:
    """What a refused command must leave as it was: people, posts and audit events."""
    from sqlalchemy import func, select
    from engine.adapters import tables as t
    with world.app.engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(table)).scalar()
                     for table in (t.persons, t.role_assignments, t.audit_events))


def test_a_post_s_region_is_given_by_its_name_as_a_cadre_says_it(world):
    """`person add --role 帮扶责任人:洋塘村`, `person grant n1 village_secretary 洋塘村` and revoke alike: the
    one region of that name in the administrator's jurisdiction, as every --region option reads it
    (洋塘村 had been refused as a region code that is no 12 digits)."""
    from tests.helpers.notifications import cli
    added = cli(world, "admin", "person", "add", "n1", "甲", "--role", "pairing_cadre:洋塘村",
                "--role", "乡镇干部:梅江镇", "--role", f"pairing_cadre:{VILLAGE2}", "--no-code")
    assert added.code == 0, added.err
    assert sorted(_people(world)["n1"], key=lambda r: (r["region"], r["role"])) == [
        {"role": "township_staff", "region": TOWNSHIP}, {"role": "pairing_cadre", "region": VILLAGE},
        {"role": "pairing_cadre", "region": VILLAGE2}]
    granted = cli(world, "admin", "person", "grant", "n1", "village_secretary", "洋塘村")
    assert granted.code == 0 and VILLAGE in granted.out, granted.err
    revoked = cli(world, "admin", "person", "revoke", "n1", "pairing_cadre", "石上村")
    assert revoked.code == 0 and VILLAGE2 in revoked.out, revoked.err
    assert sorted(_people(world)["n1"], key=lambda r: (r["region"], r["role"])) == [
        {"role": "township_staff", "region": TOWNSHIP}, {"role": "pairing_cadre", "region": VILLAGE},
        {"role": "village_secretary", "region": VILLAGE}]
    # a name after the names of the regions above it (宁都县梅江镇, 梅江镇洋塘村), or a suggestion's name and code
    for role, given in (("township_head", "宁都县梅江镇"), ("resident_team_member", "梅江镇洋塘村"),
                        ("village_director", f"洋塘村（{VILLAGE}）")):
        qualified = cli(world, "admin", "person", "grant", "n1", role, given)
        assert qualified.code == 0, qualified.err
    assert {(r["role"], r["region"]) for r in _people(world)["n1"]} >= {
        ("township_head", TOWNSHIP), ("resident_team_member", VILLAGE), ("village_director", VILLAGE)}


def test_a_post_s_region_name_that_none_or_two_have_is_refused_and_nothing_is_written(world):
    """A name no region in the administrator's jurisdiction has is refused as --region refuses it,
    exit 2, in the reader's language; a name two share is refused naming both with their codes and
    townships. No person, post or event is written."""
    from engine.services.org import add_regions
    from tests.helpers.notifications import cli
    add_regions(world.app, world["admin"], [("360730100202", "同名村"), ("360730101202", "同名村")])
    before = _written(world)
    nowhere = cli(world, "admin", "person", "add", "n2", "乙", "--role", "pairing_cadre:洋塘村",
                  "--role", "pairing_cadre:黄石村", "--no-code")
    assert nowhere.code == 2 and "Traceback" not in nowhere.err
    assert "您的辖区内没有名为「黄石村」的地区：请核对名称，或给出它的 12 位区划代码" in nowhere.err, nowhere.err
    english = cli(world, "admin", "--lang", "en", "person", "add", "n2", "乙", "--role", "pairing_cadre:黄石村")
    assert english.code == 2 and "No region named “黄石村” in your jurisdiction" in english.err, english.err
    twice = cli(world, "admin", "person", "add", "n2", "乙", "--role", "pairing_cadre:同名村", "--no-code")
    assert twice.code == 2 and "不止一个地区名为「同名村」" in twice.err, twice.err
    assert "360730100202 梅江镇" in twice.err and "360730101202 青塘镇" in twice.err
    for verb in ("grant", "revoke"):
        refused = cli(world, "admin", "person", verb, "vs", "pairing_cadre", "同名村")
        assert refused.code == 2 and "360730100202" in refused.err and "360730101202" in refused.err, refused.err
        unknown = cli(world, "admin", "--lang", "en", "person", verb, "vs", "pairing_cadre", "黄石村")
        assert unknown.code == 2 and "No region named “黄石村”" in unknown.err, unknown.err
    assert _written(world) == before


def write_xlsx(path, rows) -> None:
    from openpyxl import Workbook
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    book.save(path)


@pytest.mark.parametrize("form", ["gbk.csv", "xlsx"])
def test_a_people_sheet_names_roles_as_clerks_do_and_a_wrong_one_is_told_its_closest(home, tmp_path, form):  # noqa: F811
    rows = [("人员编号", "姓名", "岗位", "区域"),
            ("hj", "黄海军", "扶贫办主任", COUNTY),        # line 2: 县扶贫办主任, the county's
            ("zs", "张书", "村支书", VILLAGE),              # line 3: 村党支部书记
            ("zz", "赵镇", "镇长", TOWNSHIP),               # line 4: 乡镇长
            ("gb", "郭办", "扶贫办干部", COUNTY)]           # line 5: 县扶贫办干部 (not 市扶贫办干部)
    path = tmp_path / ("人员." + form.split(".")[-1])
    if form == "xlsx":
        write_xlsx(path, rows)
    else:
        _write(path, rows, "gbk")
    result = home("admin", "person", "import", str(path), "--codes-file", str(tmp_path / "codes.csv"))
    assert result.code == 0, result.err
    people = {p["code"]: p["roles"] for p in home.ok("admin", "person", "list", "--json").json()}
    assert people["hj"] == [{"role": "county_office_director", "region": COUNTY}]
    assert people["zs"] == [{"role": "village_secretary", "region": VILLAGE}]
    assert people["zz"] == [{"role": "township_head", "region": TOWNSHIP}]
    assert people["gb"] == [{"role": "county_office_staff", "region": COUNTY}]
    wrong = tmp_path / ("错." + form.split(".")[-1])
    bad = [rows[0], ("fz", "符主", "扶贫办副主任", COUNTY)]
    write_xlsx(wrong, bad) if form == "xlsx" else _write(wrong, bad, "gbk")
    refused = home("admin", "person", "import", str(wrong))
    assert refused.code == 2
    told = _lines(refused.err, 2)[0]
    assert "未知角色 扶贫办副主任。相近的角色：县扶贫办主任" in told
    assert "审计人员" not in told and "第三方评估人员" not in told         # the closest roles, not every role
