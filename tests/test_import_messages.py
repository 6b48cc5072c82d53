"""What a registry's import tells the cadre beyond its errors (issue 12): things to confirm told
after the summary, at most 5 one by one on the terminal and every one in a file beside the list; a file with
no data rows said as such; a file with no good household under --skip-bad writes no file and says so."""
from __future__ import annotations

import csv
import os
import stat

from stdnum.cn import ric

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import VILLAGE, member_ids


def later_id(seq: int) -> str:
    """A sound number of 于都县 (360731 since 1999) for someone born in 1969, in a 宁都县 household: to confirm."""
    first17 = f"36073119690315{seq:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


def write(path, rows: list[tuple[str, ...]]) -> str:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("户编号", "村编码", "姓名", "身份证号", "与户主关系", "致贫原因"),
                                 *[(*r, "因病") for r in rows]])
    return str(path)


def test_many_things_to_confirm_are_counted_on_the_terminal_and_listed_in_a_file(home, tmp_path):  # noqa: F811
    listing = write(tmp_path / "registry.csv", [(f"H{i}", VILLAGE, f"户主{i}", later_id(i), "户主") for i in range(25)])
    result = home("vs", "household", "import", listing)
    assert result.code == 0, result.err
    told = [line for line in result.err.splitlines() if "请核实" in line or "确认" in line]
    assert len(told) == 1 and told[0].startswith("需核实 25 处：身份证号的地区码") and "（第 2、3、4、5、6… 行）" in told[0]
    assert "已导入 25 户" in result.out and "全部 25 处需核实的行" in result.err
    confirm = tmp_path / "registry.to-confirm.xlsx"                  # a workbook: the ID numbers stay whole
    assert str(confirm) in result.err
    assert stat.S_IMODE(os.stat(confirm).st_mode) == 0o600
    import openpyxl
    sheet = openpyxl.load_workbook(confirm)["需核实"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert sheet.cell(2, 4).data_type == "s"
    assert rows[0] == ["行号", "户编号（或分组）", "姓名", "身份证号", "列", "需核实的原因"] and len(rows) == 26
    assert [r[0] for r in rows[1:]] == [str(line) for line in range(2, 27)]
    assert [r[1:4] for r in rows[1:3]] == [["H0", "户主0", later_id(0)], ["H1", "户主1", later_id(1)]]   # whom, to check
    assert all("360731" in r[5] and "户主" not in r[5] for r in rows[1:])
    assert "户主0" not in result.err and later_id(0) not in result.err       # the terminal names nobody


def test_a_few_things_to_confirm_need_no_file_unless_the_importer_names_one(home, tmp_path):  # noqa: F811
    listing = write(tmp_path / "village.csv", [(f"H{i}", VILLAGE, f"户主{i}", later_id(100 + i), "户主") for i in range(3)])
    result = home("vs", "household", "import", listing)
    assert result.code == 0, result.err
    assert sum("请核实" in line for line in result.err.splitlines()) == 3 and "另有" not in result.err
    assert not (tmp_path / "village.to-confirm.xlsx").exists() and "已写入" not in result.err
    named = tmp_path / "elsewhere.csv"        # asked for by name: written, however few (the help says so)
    again = write(tmp_path / "village2.csv", [(f"G{i}", VILLAGE, f"户主{i}", later_id(110 + i), "户主") for i in range(2)])
    result = home("vs", "household", "import", again, "--to-confirm", str(named))
    assert result.code == 0, result.err
    assert sum("请核实" in line for line in result.err.splitlines()) == 2
    assert f"全部 2 处需核实的行（行号、户、姓名、身份证号、列及原因）已写入 {named}" in result.err
    rows = list(csv.reader(named.read_text(encoding="utf-8-sig").splitlines()))
    assert [r[:3] for r in rows[1:]] == [["2", "G0", "户主0"], ["3", "G1", "户主1"]] and len(rows) == 3
    assert stat.S_IMODE(os.stat(named).st_mode) == 0o600 and not (tmp_path / "village2.to-confirm.xlsx").exists()


def test_the_help_readme_and_the_import_agree_when_the_list_to_confirm_is_written(home, tmp_path):  # noqa: F811
    """The help said the workbook is written past 20 items; it is written past 5 (WARNINGS_SHOWN), as
    the README says."""
    import re
    from pathlib import Path
    from entrypoints.cli.bad_rows import WARNINGS_SHOWN
    for lang, said in (("zh", r"超过 (\d+) 条时写入"), ("en", r"more than (\d+) to list")):
        shown = home(None, "household", "import", "--help", lang=lang)
        assert re.search(said, " ".join(shown.out.split())).group(1) == str(WARNINGS_SHOWN), shown.out
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8").split())
    assert f"up to {WARNINGS_SHOWN} on the terminal after the summary" in readme
    for count, written in ((WARNINGS_SHOWN, False), (WARNINGS_SHOWN + 1, True)):
        rows = [(f"K{count}{i}", VILLAGE, f"户主{i}", later_id(400 + 10 * count + i), "户主") for i in range(count)]
        result = home("vs", "household", "import", write(tmp_path / f"list{count}.csv", rows))
        assert result.code == 0, result.err
        assert (tmp_path / f"list{count}.to-confirm.xlsx").exists() is written


def test_a_kind_of_thing_to_confirm_found_once_reads_as_once_in_english(home, tmp_path):  # noqa: F811
    rows = [(f"W{i}", VILLAGE, f"户主{i}", later_id(500 + i), "户主") for i in range(6)]
    rows.append(("W9", VILLAGE, "张?华", member_ids(1, 77)[0], "户主"))
    result = home("vs", "household", "import", write(tmp_path / "list.csv", rows), lang="en")
    assert result.code == 0, result.err
    assert "6 to confirm: " in result.err and "1 to confirm: " in result.err and "(line 8)" in result.err
    assert "(lines 8)" not in result.err


def test_a_refused_import_leaves_no_list_to_confirm(home, tmp_path):  # noqa: F811
    rows = [(f"H{i}", VILLAGE, f"户主{i}", later_id(200 + i), "户主") for i in range(25)] + [("H99", VILLAGE, "x", "1", "户主")]
    before = home.snapshot()
    result = home("vs", "household", "import", write(tmp_path / "bad.csv", rows))
    assert result.code == 2 and home.snapshot() == before
    assert not (tmp_path / "bad.to-confirm.xlsx").exists() and "请核实" not in result.err


def test_a_file_with_a_header_only_says_it_has_no_rows(home, tmp_path):  # noqa: F811
    result = home("vs", "household", "import", write(tmp_path / "empty.csv", []), "--skip-bad", str(tmp_path / "s.csv"))
    assert result.code == 2 and "没有数据行" in result.err
    english = home("vs", "household", "import", write(tmp_path / "empty.csv", []), lang="en")
    assert english.code == 2 and "no data rows" in english.err


def test_no_good_household_under_skip_bad_writes_the_rows_to_correct_and_imports_nothing(home, tmp_path):  # noqa: F811
    """Every household bad: nothing imported (exit 2), but the rows to correct are in the --skip-bad
    file, as an evidence or person sheet's are: the cadre corrects that file, not the whole list again."""
    skip = tmp_path / "skipped.csv"
    result = home("vs", "household", "import", write(tmp_path / "all-bad.csv", [("H1", VILLAGE, "x", "1", "户主")]),
                  "--skip-bad", str(skip))
    assert result.code == 2 and "没有一户完全正确" in result.err and str(skip) in result.err
    rows = skip.read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 2 and "H1" in rows[1]
    assert "已导入" not in result.out


def test_rows_of_one_household_that_disagree_are_refused_with_their_lines(home, tmp_path):  # noqa: F811
    from tests.world import id_number
    other = VILLAGE[:-1] + ("2" if VILLAGE[-1] != "2" else "3")
    path = tmp_path / "disagree.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([
            ("户编号", "村编码", "姓名", "身份证号", "与户主关系", "致贫原因", "贫困户属性"),
            ("H1", VILLAGE, "甲", id_number("11010119700101101"), "户主", "因病", ""),
            ("H1", other, "乙", id_number("11010119720101102"), "配偶", "", ""),
            ("H2", VILLAGE, "丙", id_number("11010119700101103"), "户主", "因病", "一般贫困户"),
            ("H2", VILLAGE, "丁", id_number("11010119720101104"), "配偶", "", "低保贫困户")])
    before = home.snapshot()
    result = home("vs", "household", "import", str(path))
    assert result.code == 2 and home.snapshot() == before
    assert "第 3 行，村编码：与本户第 2 行的村编码不同" in result.err
    assert "第 5 行" in result.err and "与本户第 4 行的" in result.err


def test_a_village_given_beside_a_village_column_naming_it_imports_and_another_village_is_the_rows_problem(
        home, tmp_path):  # noqa: F811
    other = VILLAGE[:-1] + ("2" if VILLAGE[-1] != "2" else "3")
    mixed = write(tmp_path / "mixed.csv", [("H1", VILLAGE, "甲", later_id(300), "户主"),
                                           ("H2", other, "乙", later_id(301), "户主")])
    before = home.snapshot()
    refused = home("vs", "household", "import", mixed, "--village", VILLAGE)
    assert refused.code == 2 and home.snapshot() == before
    assert f"第 3 行，村编码：「{other}」不是 --village 所指的" in refused.err and "请去掉 --village" in refused.err
    assert "第 2 行" not in refused.err
    same = write(tmp_path / "v.csv", [("H1", VILLAGE, "甲", later_id(300), "户主"), ("H2", "", "乙", later_id(301), "户主")])
    result = home("vs", "household", "import", same, "--village", VILLAGE)      # the national format, its village
    assert result.code == 0 and "已导入 2 户" in result.out, result.err


def test_the_same_file_twice_is_refused_naming_the_first_import(home, tmp_path):  # noqa: F811
    listing = write(tmp_path / "once.csv", [(f"H{i}", VILLAGE, f"户主{i}", later_id(400 + i), "户主") for i in range(3)])
    assert home("vs", "household", "import", listing).code == 0
    before = home.snapshot()
    again = home("vs", "household", "import", listing)
    assert again.code == 2 and home.snapshot() == before
    assert "[import.imported_before]" in again.err and "由 village_secretary-vs（vs） 导入过" in again.err and again.err.count("\n") == 1
    changed = write(tmp_path / "once.csv", [(f"K{i}", VILLAGE, f"户主{i}", later_id(500 + i), "户主") for i in range(2)])
    assert home("vs", "household", "import", changed).code == 0      # the same name, other content: imported


def test_a_problem_names_the_column_as_the_file_does(home, tmp_path):  # noqa: F811
    path = tmp_path / "status.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("户编号", "村编码", "姓名", "身份证号", "与户主关系", "致贫原因", "户状态"),
                                 ("H1", VILLAGE, "甲", later_id(600), "户主", "因病", "搬走了")])
    result = home("cs", "household", "import", str(path)) if "cs" in home.tokens else home("vs", "household", "import", str(path))
    assert result.code in (1, 2) and "第 2 行，户状态：" in result.err and "第 2 行，阶段：" not in result.err


def test_a_file_imported_in_part_may_be_imported_again_for_the_rest(home, tmp_path):  # noqa: F811
    rows = [(f"P{i}", VILLAGE, f"户主{i}", later_id(800 + i), "户主") for i in range(2)] + [("P9", VILLAGE, "x", "1", "户主")]
    listing = write(tmp_path / "part.csv", rows)
    assert home("vs", "household", "import", listing, "--skip-bad", str(tmp_path / "s.csv")).code == 0
    again = home("vs", "household", "import", listing, "--skip-bad", str(tmp_path / "s2.csv"))
    assert "[import.imported_before]" not in again.err            # told row by row, not refused as imported
    assert "已登记" in again.err


def test_english_labels_the_reader_is_shown_as_known_are_accepted(home, tmp_path):  # noqa: F811
    path = tmp_path / "english.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("household_code", "village", "name", "id_number", "relation", "causes"),
                                 ("E1", VILLAGE, "甲", later_id(900), "Head", "lack of skills"),
                                 ("E1", VILLAGE, "乙", later_id(901), "daughter-in-law", "")])
    result = home("vs", "household", "import", str(path), lang="en")
    assert result.code == 0, result.err


def test_problems_are_told_in_the_files_order(home, tmp_path):  # noqa: F811
    rows = [(f"Q{i}", VILLAGE, f"户主{i}", later_id(950 + i), "户主") for i in range(6)]
    rows[2] = ("Q0", VILLAGE, "y", later_id(990), "户主")                # line 4: the code of line 2 again
    rows[3] = ("Q3", VILLAGE, "z", later_id(950), "户主")                # line 5: the ID number of line 2
    rows[4] = ("Q4", VILLAGE, "x", "1", "户主")                          # line 6: a field (checked first)
    result = home("vs", "household", "import", write(tmp_path / "order.csv", rows))
    told = [int(line.split(" ")[1]) for line in result.err.splitlines() if line.startswith("第 ")]
    assert told == sorted(told) and {4, 5, 6} <= set(told)


def test_an_unknown_relation_is_not_also_told_as_a_household_without_a_head(home, tmp_path):  # noqa: F811
    result = home("vs", "household", "import", write(tmp_path / "rel.csv", [("R1", VILLAGE, "甲", later_id(960), "老板")]))
    assert result.code == 2 and "老板" in result.err and "0 名户主" not in result.err


def test_a_kept_list_with_only_bad_new_households_writes_them_to_correct(home, tmp_path):  # noqa: F811
    good = ("H1", VILLAGE, "张一", member_ids(1, 61)[0], "户主")
    assert home("vs", "household", "import", write(tmp_path / "first.csv", [good])).code == 0
    skip = tmp_path / "skipped.csv"
    result = home("vs", "household", "import", write(tmp_path / "again.csv", [good, ("H2", VILLAGE, "x", "1", "户主")]),
                  "--skip-bad", str(skip))
    assert result.code == 2 and "1 户已登记且与文件一致" in result.err and str(skip) in result.err
    assert "H2" in skip.read_text(encoding="utf-8-sig") and "张一" not in skip.read_text(encoding="utf-8-sig")


def test_an_over_long_name_is_one_bad_row_among_the_others_and_skip_bad_imports_the_rest(home, tmp_path):  # noqa: F811
    """It stopped the whole import, --skip-bad or not, with no line: "名称过长：最多 200 个字符" ("title is
    too long" in English, a field the user never typed), and no bad-rows file."""
    rows = [("H1", VILLAGE, "名" * 201, later_id(300), "户主"), ("H2", VILLAGE, "张三", "1", "户主"),
            ("H3", VILLAGE, "李四", later_id(301), "户主")]
    skip = tmp_path / "bad.csv"
    result = home("vs", "household", "import", write(tmp_path / "long.csv", rows), "--skip-bad", str(skip))
    assert result.code == 0, result.err
    assert "第 2 行，姓名：太长：最多 100 个字符，这里有 201 个" in result.err and "第 3 行，身份证号" in result.err
    assert "已导入 1 户" in result.out and "名称" not in result.err
    assert [line.split(",")[0] for line in skip.read_text(encoding="utf-8-sig").splitlines()[1:]] == ["2", "3"]
    english = home("vs", "household", "import", write(tmp_path / "long2.csv", rows[:1]), lang="en")
    assert english.code == 2 and "line 2, name: too long: at most 100 characters, here 201" in english.err
    assert "title" not in english.err


def test_a_long_bad_value_is_quoted_cut_to_its_first_40_characters(home, tmp_path):  # noqa: F811
    """A 劳动能力 cell of 3,005 characters was printed whole in its error (and in the bad-rows file)."""
    path = tmp_path / "long-cell.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("户编号", "村编码", "姓名", "身份证号", "与户主关系", "劳动能力", "致贫原因"),
                                 ("L1", VILLAGE, "张三", later_id(600), "户主", "普通劳动力" + "x" * 3000, "因病"),
                                 ("L2", "某" * 500 + "村", "李四", later_id(601), "户主", "", "因病")])
    skip = tmp_path / "bad.csv"
    result = home("cs", "household", "import", str(path), "--skip-bad", str(skip))
    assert result.code == 2
    assert "取值 普通劳动力" + "x" * 35 + "… 无效" in result.err and "x" * 36 not in result.err, result.err
    assert "某" * 40 + "…" in result.err and "某" * 41 not in result.err
    written = list(csv.reader(skip.read_text(encoding="utf-8-sig").splitlines()))
    assert written[1][0] == "2" and "x" * 3000 in written[1][6] and "x" * 36 not in written[1][-1]   # the cell kept whole
    regions = tmp_path / "regions.csv"
    regions.write_text("code,name\n" + "3" * 300 + ",新村\n", encoding="utf-8")
    refused = home("admin", "region", "import", str(regions))
    assert refused.code == 2 and "3" * 40 + "…" in refused.err and "3" * 41 not in refused.err, refused.err

