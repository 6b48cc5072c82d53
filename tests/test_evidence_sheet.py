"""A village's evidence sheet (issue 12, evidence in bulk): households named by case number, a
member's ID number or the household code (户编号), the files in a folder or a .zip read safely,
every row checked and every bad one reported, all or none (or --skip-bad FILE)."""
from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import zipfile

import pytest

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import VILLAGE2, member_ids, photo

HEADER = "案件编号,户编号,身份证号,年度,家庭纯收入,文件\n"


def _evidence(home, etype: str = "income_check") -> int:  # noqa: F811
    with sqlite3.connect(home.db) as conn:
        return conn.execute("SELECT count(*) FROM evidence WHERE type = ?", (etype,)).fetchone()[0]


def _households(home, n: int = 3) -> list[int]:  # noqa: F811
    """`n` registered households without income evidence; the first known by the household code H-001."""
    cases = [home.register(seed=40 + i, evidence=False) for i in range(n)]
    with sqlite3.connect(home.db) as conn:
        conn.execute("UPDATE cases SET external_code = 'H-001' WHERE id = ?", (cases[0],))
    return cases


def _file_name(home, case: int) -> str | None:  # noqa: F811
    """The file name of the household's income check."""
    with sqlite3.connect(home.db) as conn:
        return conn.execute("SELECT file_name FROM evidence WHERE case_id = ? AND type = 'income_check'",
                            (case,)).fetchone()[0]


def _zip(path, members: dict[str, bytes]) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return str(path)


def test_a_sheet_names_households_three_ways_and_takes_its_files_from_a_zip(home, tmp_path, monkeypatch):  # noqa: F811
    import tempfile
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    cases = _households(home)
    head = member_ids(2, 42)[0]
    files = _zip(tmp_path / "扫描件.zip", {"扫描件/a.jpg": photo("one"), "扫描件/sub/b.pdf": b"%PDF-1.4 two\n%%EOF"})
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f",H-001,,2019,3100,a.jpg\n{cases[1]},,,2019,2900,扫描件/sub/b.pdf\n,,{head},2019,2800,\n",
                     encoding="utf-8-sig")
    before = _evidence(home)
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--files", files)
    assert result.code == 0, result.err
    assert _evidence(home) == before + 3 and "已为 3 户添加" in result.out
    with sqlite3.connect(home.db) as conn:
        named = dict(conn.execute("SELECT case_id, file_name FROM evidence WHERE type = 'income_check' AND case_id IN "
                                  "(?, ?, ?)", cases).fetchall())
    assert named == {cases[0]: "a.jpg", cases[1]: "b.pdf", cases[2]: None}
    with sqlite3.connect(home.db) as conn:
        detail = json.loads(conn.execute("SELECT detail FROM audit_events WHERE action = 'evidence_imported'").fetchone()[0])
    assert detail["file"] == "收入.csv" and detail["items"] == 3 and detail["types"] == ["income_check"]
    assert detail["sha256"] == hashlib.sha256(sheet.read_bytes()).hexdigest() and detail["skipped_rows"] == 0
    assert home("insp", "audit", "verify").code == 0
    assert list((tmp_path / "tmp").iterdir()) == []        # the members copied out are gone
    # which sheet's row put this income on the household: its trace says it (it named no sheet or row)
    sha = detail["sha256"][:16]
    assert f"由材料表 收入.csv（SHA-256 {sha}）第 3 行录入" in home.ok("insp", "trace", cases[1]).out
    assert f"entered from row 2 of the evidence sheet 收入.csv (SHA-256 {sha})" in \
        home("insp", "trace", cases[0], lang="en").out


def test_every_bad_row_is_reported_and_nothing_is_attached(home, tmp_path):  # noqa: F811
    cases = _households(home)
    other = home.register(village=VILLAGE2, seed=50, evidence=False)      # vs2's village: out of vs's reach
    (tmp_path / "outside.jpg").write_bytes(photo("not in the folder"))
    (tmp_path / "扫描件").mkdir()
    (tmp_path / "扫描件" / "run.exe").write_bytes(b"MZ")
    (tmp_path / "扫描件" / "ok.jpg").write_bytes(photo("ok"))
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER +
                     f"{cases[0]},,,2019,3100,ok.jpg\n"          # line 2: good
                     f"{other},,,2019,3100,\n"                   # line 3: out of reach
                     f"{cases[0]},,,2019,3000,\n"                # line 4: the household of line 2 again
                     ",H-404,,2019,3000,\n"                      # line 5: no such household code
                     f"{cases[1]},,,二〇一九,abc,\n"              # line 6: two fields that do not coerce
                     f"{cases[2]},,,2019,2000,../outside.jpg\n"  # line 7: a path leading out of the folder
                     f"3³,,,2019,2000,run.exe\n",                # line 8: no such case; a type not kept
                     encoding="utf-8")
    before = home.snapshot()
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--files", str(tmp_path / "扫描件"))
    assert result.code == 2, result.err
    for line, column in ((3, "案件编号"), (4, "案件编号"), (5, "户编号"), (6, "年度"), (7, "文件"), (8, "案件编号"),
                         (8, "文件")):
        assert f"第 {line} 行，{column}：" in result.err, (line, column, result.err)
    # the household named twice: neither row holds (which one is right is the cadre's to say)
    assert [t for t in result.err.splitlines() if t.startswith("第 2 行")] == [
        "第 2 行，案件编号：案件 1 在第 4 行又出现一次：两行都未导入，请只保留正确的一行"], result.err
    assert "已在第 2 行出现过：两行都未导入" in result.err and "Traceback" not in result.err
    assert "没有导入任何内容" in result.err
    assert home.snapshot() == before
    english = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--files",
                   str(tmp_path / "扫描件"), lang="en")
    assert "line 3, case: no such household within your jurisdiction" in english.err
    assert "line 7, file: the file name ../outside.jpg is not valid" in english.err


def test_skip_bad_attaches_the_good_rows_and_writes_the_bad_ones(home, tmp_path):  # noqa: F811
    cases = _households(home, 2)
    home.ok("vs", "evidence", "add", cases[1], "income_check", "--field", "year=2019", "--field", "net_income=5000")
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f",H-001,,2019,3100,\n{cases[1]},,,2019,2900,\n", encoding="utf-8")
    skipped = tmp_path / "未导入.csv"
    before = _evidence(home)
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--skip-bad", str(skipped))
    assert result.code == 0, result.err
    assert _evidence(home) == before + 1 and "另有 1 行因有误未导入" in result.out
    with open(skipped, encoding="utf-8-sig", newline="") as fh:
        written = list(csv.reader(fh))
    assert written[1][0] == "3" and written[1][1] == str(cases[1]) and "已有 2019 年度的收支核查表" in written[1][-1]
    assert "由材料表" not in home.ok("insp", "trace", cases[1]).out       # added on its own: from no sheet


def test_a_household_named_twice_has_neither_row_attached_and_both_come_back_to_correct(home, tmp_path):  # noqa: F811
    """Two rows of one household with different incomes: the first had been attached and the second
    written to the bad-rows file, and the corrected file then refused as holding that year already."""
    cases = _households(home, 2)
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{cases[0]},,,2019,14830,\n{cases[0]},,,2019,15830,\n{cases[1]},,,2019,9000,\n",
                     encoding="utf-8")
    skipped = tmp_path / "未导入.csv"
    before = _evidence(home)
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--skip-bad", str(skipped))
    assert result.code == 0 and _evidence(home) == before + 1, result.err
    with open(skipped, encoding="utf-8-sig", newline="") as fh:
        written = list(csv.reader(fh))
    assert [(r[0], r[5]) for r in written[1:]] == [("2", "14830"), ("3", "15830")], written
    kept = tmp_path / "改正.csv"
    kept.write_text(HEADER + f"{cases[0]},,,2019,15830,\n", encoding="utf-8")
    assert home("vs", "evidence", "import", str(kept), "--type", "income_check").code == 0


def test_a_later_years_check_takes_the_place_of_the_earlier_one_which_stays_in_the_record(home, tmp_path):  # noqa: F811
    """The year's income checks of a village in one sheet: a household holding last year's gets this
    year's in its place (last year's stays, superseded, with why); one of the same or an earlier year
    is refused, as a sheet adds and does not correct."""
    cases = _households(home, 3)
    for case, year in ((cases[0], 2018), (cases[1], 2019), (cases[2], 2020)):
        home.ok("vs", "evidence", "add", case, "income_check", "--field", f"year={year}", "--field", "net_income=5000")
    sheet = tmp_path / "2019年收入.csv"
    sheet.write_text(HEADER + f"{cases[0]},,,2019,3100,\n{cases[1]},,,2019,2900,\n{cases[2]},,,2019,2800,\n",
                     encoding="utf-8")
    refused = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    assert refused.code == 2 and "第 2 行" not in refused.err
    assert "第 3 行，案件编号：案件 %d 已有 2019 年度的收支核查表" % cases[1] in refused.err
    assert "第 4 行，案件编号：案件 %d 已有 2020 年度的收支核查表" % cases[2] in refused.err
    sheet.write_text(HEADER + f"{cases[0]},,,2019,3100,\n", encoding="utf-8")
    before = _evidence(home)
    assert home("vs", "evidence", "import", str(sheet), "--type", "income_check").code == 0
    assert _evidence(home) == before + 1                              # the 2018 item kept beside it
    with sqlite3.connect(home.db) as conn:
        current = conn.execute("SELECT fields FROM evidence WHERE case_id = ? AND type = 'income_check' "
                               "AND superseded_by IS NULL", (cases[0],)).fetchall()
    assert [json.loads(f)["year"] for (f,) in current] == [2019]
    shown = home.ok("vs", "case", "show", cases[0]).out
    assert "2019 年度的新记录（取代 2018 年度的）" in shown
    assert "the record of 2019 (in place of 2018's)" in home("vs", "case", "show", cases[0], lang="en").out


@pytest.mark.parametrize("member", ["../evil.jpg", "/etc/evil.jpg", "a/../../evil.jpg"])
def test_a_zip_member_leading_outside_is_never_used(home, tmp_path, member):  # noqa: F811
    cases = _households(home, 1)
    files = _zip(tmp_path / "files.zip", {member: photo("evil")})
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{cases[0]},,,2019,3100,evil.jpg\n{cases[0]},,,2019,3100,{member}\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--files", files, lang="en")
    assert result.code == 2
    assert "line 2, file: the folder or zip holds no file evil.jpg" in result.err
    assert "line 3, file: " in result.err
    assert not (tmp_path.parent / "evil.jpg").exists()


def test_a_zip_member_larger_than_it_says_is_cut_off(home, tmp_path, monkeypatch):  # noqa: F811
    from engine.domain import scans
    monkeypatch.setattr(scans, "SCAN_MAX", 1024)
    cases = _households(home, 1)
    files = _zip(tmp_path / "files.zip", {"big.jpg": b"\x00" * 4096})
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{cases[0]},,,2019,3100,big.jpg\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--files", files)
    assert result.code == 2 and "第 2 行，文件：" in result.err


def test_a_file_that_is_no_zip_is_refused(home, tmp_path):  # noqa: F811
    cases = _households(home, 1)
    (tmp_path / "files.zip").write_bytes(b"not a zip")
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{cases[0]},,,2019,3100,a.jpg\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--files", str(tmp_path / "files.zip"))
    assert result.code == 2 and "[sheets.bad_zip]" in result.err


def test_households_imported_with_their_codes_are_found_by_them(home, tmp_path):  # noqa: F811
    from tests.world import VILLAGE
    heads = [member_ids(1, 60 + i)[0] for i in range(2)]
    registry = tmp_path / "名单.csv"
    registry.write_text("户编号,姓名,身份证号,与户主关系,致贫原因\n"
                        f"3607301002010001,王一,{heads[0]},户主,因病\n3607301002010002,王二,{heads[1]},户主,因学\n",
                        encoding="gbk")
    assert home("vs", "household", "import", str(registry), "--village", VILLAGE).code == 0
    sheet = tmp_path / "两不愁.xlsx"
    import openpyxl
    book = openpyxl.Workbook()
    for row in [("户编号", "food", "clothing"), ("3607301002010001", "是", "是"), ("3607301002010002", "yes", "no")]:
        book.active.append(list(row))
    book.save(sheet)
    before = _evidence(home, "two_assurances")
    result = home("vs", "evidence", "import", str(sheet), "--type", "two_assurances")
    assert result.code == 0, result.err
    assert _evidence(home, "two_assurances") == before + 2


def test_only_the_cases_own_cadres_may_attach_from_a_sheet(home, tmp_path):  # noqa: F811
    cases = _households(home, 1)
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{cases[0]},,,2019,3100,\n", encoding="utf-8")
    before = home.snapshot()
    result = home("do", "evidence", "import", str(sheet), "--type", "income_check")      # a discipline officer
    assert result.code == 1 and "[auth.no_evidence_post]" in result.err, result.err     # once, the sheet not read
    assert "第 2 行" not in result.err
    other = home("vs2", "evidence", "import", str(sheet), "--type", "income_check")    # another village's cadre
    assert other.code == 2 and "第 2 行，案件编号：" in other.err, other.err
    assert home.snapshot() == before


def test_a_type_that_needs_its_file_says_where_the_file_goes_in_a_sheet(home, tmp_path):  # noqa: F811
    from tests.world import VILLAGE
    heads = [member_ids(1, 80)[0]]
    registry = tmp_path / "名单.csv"
    registry.write_text(f"户编号,姓名,身份证号,与户主关系,致贫原因\nH80,王八,{heads[0]},户主,因病\n", encoding="utf-8")
    assert home("vs", "household", "import", str(registry), "--village", VILLAGE).code == 0
    sheet = tmp_path / "确认书.csv"
    sheet.write_text("户编号,signed_on\nH80,2019-03-01\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "household_confirmation")
    assert result.code == 2 and "须附文件：在文件列写上文件名" in result.err and "--file）" not in result.err
    sheet.write_text("户编号,signed_on,文件\nH80,2019-03-01,确认书.jpg\n", encoding="utf-8")     # named, no zip given
    named = home("vs", "evidence", "import", str(sheet), "--type", "household_confirmation")
    lines = [line for line in named.err.splitlines() if line.startswith("第 2 行")]
    assert named.code == 2 and len(lines) == 1 and "确认书.jpg" in lines[0] and "须附文件" not in named.err


@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "folder"])
def test_a_file_named_in_another_case_is_found_as_windows_would(home, tmp_path, as_zip):  # noqa: F811
    cases = _households(home)
    if as_zip:
        files = _zip(tmp_path / "扫描件.zip", {"C1.JPG": photo("one"), "c2.pdf": b"%PDF-1.4 two\n%%EOF", "C2.PDF": b"%PDF-1.4 2\n%%EOF"})
    else:
        files = str(tmp_path / "扫描件")
        (tmp_path / "扫描件").mkdir()
        (tmp_path / "扫描件" / "C1.JPG").write_bytes(photo("one"))
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f",H-001,,2019,3100,c1.jpg\n", encoding="utf-8-sig")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--files", files)
    assert result.code == 0, result.err
    assert _file_name(home, cases[0]) == "C1.JPG"
    if as_zip:       # two names alike but for their case: which one is meant is not guessed
        sheet.write_text(HEADER + f"{cases[1]},,,2019,2900,C2.pdf\n", encoding="utf-8-sig")
        refused = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--files", files)
        assert refused.code == 2 and "C2.pdf" in refused.err


def test_a_later_years_row_for_an_item_a_step_relied_on_is_refused_on_its_own_line(world):
    """Replacing an item a step of the open procedure relied on voids that step and those after it: a
    sheet does not, and says so on that household's line (the others stay good: --skip-bad imports
    them). The income check came with the application step: that step is named."""
    from engine.services.evidence_sheet import SheetRow, sheet_items
    from tests.helpers.refusals import walk
    case, other = world.household(), world.household()
    walk(world, "identification", case, until="county_approval")
    rows = [SheetRow(str(other), fields={"year": "2019", "net_income": "5000"}),
            SheetRow(str(case), fields={"year": "2019", "net_income": "5000"})]
    items, problems = sheet_items(world.app, world["vs"], "income_check", rows)
    assert items[0] is not None and items[0].replace and items[1] is None
    assert [(line, column, p.code) for line, column, p in problems] == [(2, "case", "evidence.year_relied_on")]
    assert "「农户申请」" in problems[0][2].render(world.app.config, "zh")
    bad_year, said = sheet_items(world.app, world["vs"], "income_check", [SheetRow(str(other), fields={
        "year": "2019.5", "net_income": "5000"})])
    assert bad_year == [None] and [column for _line, column, _p in said] == ["year"]   # the year's own fault, once


def test_a_column_the_system_does_not_know_is_named_not_dropped_unseen(home, tmp_path):  # noqa: F811
    """A sheet's 备注, or a field under a name of its own (人均纯收入 for 家庭纯收入), is told as not
    read, before the rows it leaves short; the same for a list of regions."""
    cases = _households(home, 1)
    sheet = tmp_path / "收入.csv"
    sheet.write_text(f"案件编号,年度,人均纯收入,备注\n{cases[0]},2019,3100,走访核实\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    lines = result.err.splitlines()
    assert result.code == 2 and lines[0] == "以下列本系统不认识，其内容未导入：人均纯收入、备注", result.err
    regions = tmp_path / "区划.csv"
    regions.write_text("区划代码,名称,备注\n360730100299,新村,新设\n", encoding="utf-8")
    added = home("admin", "region", "import", str(regions), lang="en")
    assert added.code == 0 and "these columns are not known here and were not imported: 备注" in added.err


def test_a_year_no_record_can_be_of_is_refused_before_it_takes_the_place_of_the_real_one(home, tmp_path):  # noqa: F811
    """Year 1066, or one not yet begun, typed for a household's income: refused, on `evidence add`
    and on a sheet, and the item held stays."""
    case = home.register()
    for year in ("1066", "2099"):
        typed = home("vs", "evidence", "add", str(case), "income_check", "--field", f"year={year}",
                     "--field", "net_income=6000", "--replace", "--reason", "更正")
        assert typed.code == 2 and "应为年份（1949 年至今年）" in typed.err, typed.err
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{case},,,2099,3100,\n", encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    assert result.code == 2 and "第 2 行" in result.err and "年份" in result.err
    assert "年度：2018" in home.ok("vs", "case", "show", case).out


def test_the_same_sheet_sent_twice_is_told_in_one_line(home, tmp_path):  # noqa: F811
    """A double submit on a slow link: each row had been told as its household holding that year's
    check already, 25 long lines for one mistake."""
    cases = _households(home, 3)
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + "".join(f"{c},,,2019,9000,\n" for c in cases), encoding="utf-8")
    assert home("vs", "evidence", "import", str(sheet), "--type", "income_check").code == 0
    before = home.snapshot()
    again = home("vs", "evidence", "import", str(sheet), "--type", "income_check")
    assert again.code == 2 and home.snapshot() == before
    assert len(again.err.strip().splitlines()) == 1 and "收入.csv 这个文件（内容完全相同）已于" in again.err, again.err
    part = tmp_path / "部分.csv"            # a sheet imported in part (--skip-bad) may be sent again
    part.write_text(HEADER + f"{cases[0]},,,2020,9000,\n,H-404,,2020,1,\n", encoding="utf-8")
    assert home("vs", "evidence", "import", str(part), "--type", "income_check", "--skip-bad",
                str(tmp_path / "bad.csv")).code == 0
    assert "已于" not in home("vs", "evidence", "import", str(part), "--type", "income_check").err


def _zip_named(path, members: dict[str, bytes], encoding: str, flagged: bool) -> str:
    """A zip of files named in `encoding`, with the UTF-8 flag (bit 11) or without: as Windows' own zip
    writes GBK names (no flag), Linux's and macOS's `zip` UTF-8 names (no flag), 7-Zip (flag)."""
    placeholders = {f"{i}" * len(name.encode(encoding)): name for i, name in enumerate(members)}   # same length
    raw = path.with_suffix(".raw")
    _zip(raw, {p: members[name] for p, name in placeholders.items()})
    body = raw.read_bytes()
    for placeholder, name in placeholders.items():
        body = body.replace(placeholder.encode(), name.encode(encoding))
    if flagged:     # general purpose flag bits of the local headers (offset 6) and the central entries (offset 8)
        body = bytearray(body)
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = body.find(signature)
            while at >= 0:
                bits = int.from_bytes(body[at + offset:at + offset + 2], "little") | 0x800
                body[at + offset:at + offset + 2] = bits.to_bytes(2, "little")
                at = body.find(signature, at + 4)
        body = bytes(body)
    path.write_bytes(body)
    return str(path)


@pytest.mark.parametrize("encoding, flagged", [("gbk", False), ("utf-8", False), ("utf-8", True)],
                         ids=["windows-gbk", "linux-utf8-unflagged", "utf8-flagged"])
def test_a_zip_of_chinese_names_made_on_any_system_is_read(home, tmp_path, encoding, flagged):  # noqa: F811
    cases = _households(home, 1)
    name = "陈花德收入表.jpg"
    files = _zip_named(tmp_path / "scans.zip", {f"扫描件/{name}": photo("scan")}, encoding, flagged)
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{cases[0]},,,2019,3100,{name}\n", encoding="utf-8")
    home.ok("vs", "evidence", "import", str(sheet), "--type", "income_check", "--files", files)
    assert _file_name(home, cases[0]) == name


@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "folder"])
def test_a_missing_file_is_told_with_the_names_like_it_or_how_many_there_are(home, tmp_path, as_zip):  # noqa: F811
    cases = _households(home, 2)
    held = {"扫描件/陈花德收入表.pdf": b"%PDF-1.4 one\n%%EOF", "扫描件/王小明收入表.pdf": b"%PDF-1.4 two\n%%EOF",
            "扫描件/住房.jpg": photo("house")}
    if as_zip:
        files = _zip_named(tmp_path / "scans.zip", held, "utf-8", False)
    else:
        for name, data in held.items():
            (tmp_path / "files" / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "files" / name).write_bytes(data)
        files = str(tmp_path / "files")
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{cases[0]},,,2019,3100,陈花得收入表.pdf\n{cases[1]},,,2019,2900,户口本.png\n",
                     encoding="utf-8")
    result = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--files", files)
    assert result.code != 0
    assert "文件夹或压缩包中没有文件 陈花得收入表.pdf；其中名字相近的文件有：「扫描件/陈花德收入表.pdf」" in result.err
    assert "没有文件 户口本.png，也没有名字相近的文件（其中共有 3 个文件）" in result.err
    english = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--files", files, lang="en")
    assert 'the files in it with names like it: "扫描件/陈花德收入表.pdf"' in english.err
