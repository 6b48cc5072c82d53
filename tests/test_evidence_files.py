"""Evidence files are photos or scans the township, the county and the inspector view in a browser:
JPEG, PNG, WebP, GIF or PDF, told by their first bytes whatever their names say. Anything else (a
Word file, an iPhone's HEIC photo, a program, an SVG or HTML page) is refused by name, saying what is
accepted, with nothing written: on `evidence add` and in a sheet, whose zip or folder is all or none
(or --skip-bad) (walk of 2026-12-05, finding 7)."""
from __future__ import annotations

import sqlite3
import zipfile

import pytest

from engine.domain.errors import BadInput
from engine.domain.scans import refuse_non_scan, scan_kind
from engine.services.case_actions import EvidenceItem, attach_evidence, attach_evidence_many
from tests.helpers.refusals import assert_refused
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import scan_file

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64
GIF = b"GIF89a\x01\x00\x01\x00" + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
NOT_SCANS = {
    "收入核算表.docx": b"PK\x03\x04junk bytes",             # a Word file (a zip)
    "收入核算表.exe": b"MZ\x90\x00 a program",
    "xss.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "scan.html": b"<html><script>alert(1)</script></html>",
    "说明.txt": "脱贫确认书".encode(),
    "空白.jpg": b"",
}


def test_a_scan_is_told_by_its_first_bytes():
    assert [scan_kind(head) for head in (JPEG, PNG, WEBP, GIF, b"%PDF-1.7\n", b"\r\n%PDF-1.4")] == [
        "jpeg", "png", "webp", "gif", "pdf", "pdf"]
    assert [scan_kind(head) for head in (HEIC, *NOT_SCANS.values(), b"\xff\xd8 not a JPEG")] == [None] * 8
    with pytest.raises(BadInput) as heic:
        refuse_non_scan("IMG_0001.HEIC", HEIC)
    assert heic.value.code == "evidence.heic"
    with pytest.raises(BadInput) as word:
        refuse_non_scan("收入核算表.docx", NOT_SCANS["收入核算表.docx"])
    assert word.value.code == "evidence.not_a_scan" and word.value.params == {"file": "收入核算表.docx"}


@pytest.mark.parametrize("name", sorted(NOT_SCANS) + ["IMG_0001.HEIC"])
def test_a_file_that_is_no_scan_is_refused_naming_it_and_nothing_is_written(world, tmp_path, name):
    case = world.household()
    path = tmp_path / name
    path.write_bytes(HEIC if name.endswith(".HEIC") else NOT_SCANS[name])
    code = "evidence.heic" if name.endswith(".HEIC") else "evidence.not_a_scan"
    error = assert_refused(world, BadInput, code,
                           lambda: attach_evidence(world.app, world["vs"], case, "appraisal_minutes", {}, path),
                           names=(name,), cases=(case,))
    english = error.render(world.app.config, "en")
    assert ("export it as JPG" if code == "evidence.heic" else "JPG, PNG, WebP or GIF picture or a PDF") in english
    assert "JPG" in error.render(world.app.config, "zh")
    assert list(world.app.evidence.strays(iter(()))) == []        # no file left in the store


def test_a_photo_or_scan_is_kept_whatever_its_name(world, tmp_path):
    case = world.household()
    kept = []
    for name, data, options in (("评议记录", JPEG, {}),                              # no name ending at all
                                ("收入核算表.exe", PNG, {"replace": True, "reason": "补拍"}),   # a photo named as a program
                                ("微信图片.jpg", WEBP, {"replace": True, "reason": "补拍"}),    # WeChat's WebP named .jpg
                                ("动图.gif", GIF, {"replace": True, "reason": "补拍"})):
        path = tmp_path / name
        path.write_bytes(data)
        kept.append(attach_evidence(world.app, world["vs"], case, "appraisal_minutes", {}, path, **options))
    assert len(set(kept)) == 4


def test_a_list_with_one_file_that_is_no_scan_attaches_nothing(world, tmp_path):
    cases = [world.household(), world.household()]
    good, bad = scan_file(tmp_path / "a.pdf"), tmp_path / "b.docx"
    bad.write_bytes(NOT_SCANS["收入核算表.docx"])
    items = [EvidenceItem(cases[0], "appraisal_minutes", {}, good), EvidenceItem(cases[1], "appraisal_minutes", {}, bad)]
    assert_refused(world, BadInput, "evidence.not_a_scan", lambda: attach_evidence_many(world.app, world["vs"], items),
                   names=("b.docx",), cases=tuple(cases))
    assert list(world.app.evidence.strays(iter(()))) == []        # a.pdf, stored first, is gone again


# --- on the command line ----------------------------------------------------------------------

def _evidence(home, etype: str) -> int:  # noqa: F811
    with sqlite3.connect(home.db) as conn:
        return conn.execute("SELECT count(*) FROM evidence WHERE type = ?", (etype,)).fetchone()[0]


def test_evidence_add_refuses_a_word_file_and_an_iphone_photo(home, tmp_path):  # noqa: F811
    case = home.register()
    word, heic = tmp_path / "评议记录.docx", tmp_path / "IMG_0001.HEIC"
    word.write_bytes(NOT_SCANS["收入核算表.docx"])
    heic.write_bytes(HEIC)
    before = home.snapshot(case)
    refused = home("vs", "evidence", "add", str(case), "appraisal_minutes", "--file", str(word))
    assert refused.code == 2 and "文件 评议记录.docx 不是照片或扫描件" in refused.err and "Traceback" not in refused.err
    photo = home("vs", "evidence", "add", str(case), "appraisal_minutes", "--file", str(heic), lang="en")
    assert photo.code == 2 and "IMG_0001.HEIC is an iPhone HEIC photo" in photo.err and "export it as JPG" in photo.err
    assert home.snapshot(case) == before
    assert home("vs", "evidence", "add", str(case), "appraisal_minutes",
                "--file", str(scan_file(tmp_path / "评议记录.pdf"))).code == 0


def test_a_sheets_zip_with_a_word_file_and_a_heic_photo_holds_back_their_rows(home, tmp_path):  # noqa: F811
    cases = [home.register(seed=60 + i, evidence=False) for i in range(3)]
    files = tmp_path / "扫描件.zip"
    with zipfile.ZipFile(files, "w") as archive:
        archive.writestr("扫描件/1.jpg", JPEG)
        archive.writestr("扫描件/2.docx", NOT_SCANS["收入核算表.docx"])
        archive.writestr("扫描件/3.heic", HEIC)
    sheet = tmp_path / "评议.csv"
    sheet.write_text("案件编号,文件\n" + "".join(f"{c},{n}\n" for c, n in zip(cases, ("1.jpg", "2.docx", "3.heic"))),
                     encoding="utf-8")
    refused = home("vs", "evidence", "import", str(sheet), "--type", "appraisal_minutes", "--files", str(files))
    assert refused.code == 2 and _evidence(home, "appraisal_minutes") == 0
    assert "第 3 行，文件：文件 2.docx 不是照片或扫描件" in refused.err, refused.err
    assert "第 4 行，文件：文件 3.heic 是苹果手机的 HEIC 照片" in refused.err
    assert not [line for line in refused.err.splitlines() if line.startswith("第 2 行")]
    bad_rows = tmp_path / "bad.csv"
    skipped = home("vs", "evidence", "import", str(sheet), "--type", "appraisal_minutes", "--files", str(files),
                   "--skip-bad", str(bad_rows))
    assert skipped.code == 0, skipped.err
    assert _evidence(home, "appraisal_minutes") == 1 and "2.docx" in bad_rows.read_text(encoding="utf-8-sig")
