"""Sheets through `jingzhun --server URL`: the sheet and its zip go up, the --skip-bad file comes back,
and the report names the local files (issue 12, "persons, regions and evidence sheets the same way")."""
from __future__ import annotations

import csv
import stat
import zipfile

from tests.web.test_cli_client import as_person, run  # noqa: F401  (fixture)
from tests.world import photo


def test_a_region_sheet_s_bad_rows_come_back_in_the_skip_file(live_server, as_person, capsys, tmp_path):  # noqa: F811
    who = as_person("admin")
    sheet = tmp_path / "区划.csv"
    sheet.write_text("区划代码,名称\n000000000000,全国\n36073010020³,上标村\n", encoding="utf-8")
    skipped = tmp_path / "未导入.csv"
    code, out, err = run(capsys, "--server", live_server, "--as", who, "region", "import", str(sheet),
                         "--skip-bad", str(skipped))
    assert code == 2 and "第 2 行，区划代码：" in err and "第 3 行，区划代码：" in err
    assert str(sheet) in err and str(skipped) in err and "/work/cli-" not in err
    assert stat.S_IMODE(skipped.stat().st_mode) == 0o600
    with open(skipped, encoding="utf-8-sig", newline="") as fh:
        assert [r[0] for r in csv.reader(fh)] == ["行号", "2", "3"]


def test_an_evidence_sheet_s_zip_is_read_on_the_server(live_server, as_person, capsys, tmp_path):  # noqa: F811
    who = as_person("v01_secretary")
    files = tmp_path / "扫描件.zip"
    with zipfile.ZipFile(files, "w") as archive:
        archive.writestr("扫描件/a.jpg", photo("a scan"))
    sheet = tmp_path / "收入.csv"
    sheet.write_text("案件编号,年度,家庭纯收入,文件\n999999,2019,3100,a.jpg\n999998,2019,3100,b.jpg\n", encoding="utf-8")
    code, out, err = run(capsys, "--server", live_server, "--as", who, "--lang", "en", "evidence", "import", str(sheet),
                         "--type", "income_check", "--files", str(files))
    assert code == 2, err
    assert "line 2, case: no such household" in err and "line 2, file" not in err     # a.jpg was found in the zip
    assert "line 3, file: the folder or zip holds no file b.jpg" in err
