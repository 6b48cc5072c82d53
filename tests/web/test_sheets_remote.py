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


def _sheet_of_links(tmp_path, outside: bool):
    """A sheet whose two rows name 1.jpg and 照片/2.jpg of a folder where 1.jpg is a link (to a photo
    outside the folder, or to 实拍.jpg beside it) and 照片 a link to its folder 实拍 (cases that do
    not exist: nothing is written whatever is found)."""
    files = tmp_path / "扫描件"
    (files / "实拍").mkdir(parents=True)
    (files / "实拍.jpg").write_bytes(photo("inside"))
    (files / "实拍" / "2.jpg").write_bytes(photo("two"))
    (tmp_path / "id_rsa").write_bytes(photo("a private key named as a photo"))
    (files / "1.jpg").symlink_to(tmp_path / "id_rsa" if outside else files / "实拍.jpg")
    (files / "照片").symlink_to("实拍")
    sheet = tmp_path / "评议.csv"
    sheet.write_text("案件编号,文件\n999999,1.jpg\n999998,照片/2.jpg\n", encoding="utf-8")
    return ["evidence", "import", str(sheet), "--type", "appraisal_minutes", "--files", str(files)]


def test_a_link_out_of_a_sheets_folder_is_refused_before_it_is_sent(live_server, demo_home, as_person, capsys,
                                                                     tmp_path):  # noqa: F811
    """The client sent what the link pointed to, which the server took for the photo 1.jpg."""
    settings, _ = demo_home
    who = as_person("v01_secretary")
    command = _sheet_of_links(tmp_path, outside=True)
    said = "文件 1.jpg 是一个链接（快捷方式），指向所给文件夹以外的位置：请把文件本身复制到这个文件夹中"
    code, out, err = run(capsys, "--server", live_server, "--as", who, *command)
    assert code == 2 and said in err and "没有该户" not in err, err
    code, out, err = run(capsys, "--home", str(settings.home), "--as", who, *command)
    assert code == 2 and f"第 2 行，文件：{said}" in err, err
    code, out, err = run(capsys, "--server", live_server, "--as", who, "--lang", "en", *command)
    assert code == 2 and "the file 1.jpg is a link (shortcut) to a place outside the folder given" in err, err


def test_links_inside_a_sheets_folder_are_read_as_in_direct_mode(live_server, demo_home, as_person, capsys,
                                                                 tmp_path):  # noqa: F811
    """A link to a folder inside it was not followed by the client: "no file 照片/2.jpg" on the server."""
    settings, _ = demo_home
    who = as_person("v01_secretary")
    command = _sheet_of_links(tmp_path, outside=False)
    for mode in (["--server", live_server], ["--home", str(settings.home)]):
        code, out, err = run(capsys, *mode, "--as", who, "--lang", "en", *command)
        assert code == 2 and "line 2, case: no such household" in err and "line 3, case: no such household" in err
        assert "line 2, file" not in err and "line 3, file" not in err, (mode, err)
