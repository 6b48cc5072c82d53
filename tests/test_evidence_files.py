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
from tests.world import photo, scan_file

JPEG, PNG, WEBP, GIF = (photo("评议记录", kind) for kind in ("jpeg", "png", "webp", "gif"))
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


# --- whole, and not too big, whichever way a file comes (fuzz audit ux5, defects 7, 8 and 9) ---------

def cut_short_files() -> dict[str, bytes]:
    """Files that end before their format does, as a forward or a transfer broken off leaves them."""
    from demo.scans import scan_pdf
    pdf = scan_pdf(["脱贫确认书", "户主签字"])
    return {"评议.png": photo("评议", "png")[:30],                 # the signature and part of its header
            "评议.jpg": photo("评议" * 50)[:-2],                   # no FFD9 at its end
            "评议.pdf": pdf[:pdf.rindex(b"%%EOF")],                # no %%EOF
            "评议.gif": photo("评议", "gif")[:-1],                  # no trailer
            "评议.webp": photo("评议" * 50, "webp")[:-20]}          # shorter than its RIFF size says


def _exif_cut_after_its_thumbnail() -> bytes:
    """A phone's JPEG whose EXIF segment holds a thumbnail (a JPEG ending FFD9 of its own), cut in its scan."""
    thumbnail = photo("thumbnail")
    exif = b"Exif\x00\x00" + thumbnail
    whole = photo("评议" * 200)
    return whole[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + whole[2:len(whole) // 2]


@pytest.mark.parametrize("name", sorted(cut_short_files()))
def test_a_photo_or_scan_cut_short_is_refused_naming_it_and_nothing_is_written(world, tmp_path, name):
    case = world.household()
    path = tmp_path / name
    path.write_bytes(cut_short_files()[name])
    error = assert_refused(world, BadInput, "evidence.cut_short",
                           lambda: attach_evidence(world.app, world["vs"], case, "appraisal_minutes", {}, path),
                           names=(name,), cases=(case,))
    assert "请重新传送" in error.render(world.app.config, "zh")
    assert "seems cut short" in error.render(world.app.config, "en")
    assert list(world.app.evidence.strays(iter(()))) == []


def test_a_jpeg_ends_with_its_image_not_its_thumbnail_and_may_carry_a_video_after_it(world, tmp_path):
    """A phone's JPEG cut after its EXIF thumbnail holds that thumbnail's end marker: it is still cut
    short. A "motion photo" (Android's 动态照片) is a whole JPEG with a video after its end: it is kept,
    as are a PNG and a PDF with a transfer's padding after their ends."""
    from demo.scans import scan_pdf
    case = world.household()
    cut = tmp_path / "缩略图.jpg"
    cut.write_bytes(_exif_cut_after_its_thumbnail())
    assert_refused(world, BadInput, "evidence.cut_short",
                   lambda: attach_evidence(world.app, world["vs"], case, "appraisal_minutes", {}, cut),
                   names=("缩略图.jpg",), cases=(case,))
    kept = []
    for name, data in (("动态照片.jpg", photo("评议") + b"\x00\x00\x00\x18ftypmp42" + bytes(5000)),
                       ("评议.png", photo("评议", "png") + b"\x00" * 16), ("评议.pdf", scan_pdf(["评议"]) + b"\r\n")):
        path = tmp_path / name
        path.write_bytes(data)
        kept.append(attach_evidence(world.app, world["vs"], case, "appraisal_minutes", {}, path,
                                    **({"replace": True, "reason": "补拍"} if kept else {})))
    assert len(set(kept)) == 3


def too_big_photo(path):
    """A whole PNG one byte over the limit every way in keeps to (20 MB)."""
    from engine.domain.scans import SCAN_MAX
    data = photo("评议", "png")
    path.write_bytes(data[:-12] + b"\x00" * (SCAN_MAX + 1 - len(data)) + data[-12:])
    return path


def test_evidence_add_and_problem_add_refuse_a_file_too_big_or_cut_short_as_the_sheet_does(home, tmp_path):  # noqa: F811
    from tests.world import TOWNSHIP
    case = home.register()
    big = too_big_photo(tmp_path / "房屋.png")
    cut = tmp_path / "评议.png"
    cut.write_bytes(cut_short_files()["评议.png"])
    before = home.snapshot(case)
    refused = home("vs", "evidence", "add", str(case), "appraisal_minutes", "--file", str(big))
    assert refused.code == 2 and "文件 房屋.png 超过 20 MB：请压缩照片" in refused.err, refused.err
    english = home("vs", "evidence", "add", str(case), "appraisal_minutes", "--file", str(cut), lang="en")
    assert english.code == 2 and "the file 评议.png is not whole: it seems cut short" in english.err, english.err
    problem = ["problem", "add", "--region", TOWNSHIP, "--source", "考核", "--description", "错退"]
    assert "文件 房屋.png 超过 20 MB" in home("cd", *problem, "--file", str(big)).err
    assert "文件 评议.png 不完整" in home("cd", *problem, "--file", str(cut)).err
    assert home.snapshot(case) == before and "Traceback" not in refused.err
    files = tmp_path / "扫描件"
    files.mkdir()
    too_big_photo(files / "房屋.png")
    sheet = tmp_path / "评议.csv"
    sheet.write_text(f"案件编号,文件\n{case},房屋.png\n", encoding="utf-8")
    in_sheet = home("vs", "evidence", "import", str(sheet), "--type", "appraisal_minutes", "--files", str(files))
    assert in_sheet.code == 2 and "第 2 行，文件：文件 房屋.png 超过 20 MB：请压缩照片" in in_sheet.err, in_sheet.err


def _two_rows(home, tmp_path, seed: int) -> list[str]:  # noqa: F811
    """`evidence import` (less its --files) of a sheet of two new households' appraisal minutes, their
    files 1.jpg and 2.jpg."""
    cases = [home.register(seed=seed + i, evidence=False) for i in range(2)]
    sheet = tmp_path / "评议.csv"
    sheet.write_text("案件编号,文件\n" + "".join(f"{c},{n}\n" for c, n in zip(cases, ("1.jpg", "2.jpg"))),
                     encoding="utf-8")
    return ["vs", "evidence", "import", str(sheet), "--type", "appraisal_minutes"]


@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "folder"])
def test_a_sheets_file_cut_short_holds_back_its_row(home, tmp_path, as_zip):  # noqa: F811
    command = _two_rows(home, tmp_path, 70)
    cut, whole = cut_short_files()["评议.jpg"], photo("评议")
    if as_zip:
        files = tmp_path / "扫描件.zip"
        with zipfile.ZipFile(files, "w") as archive:
            archive.writestr("1.jpg", whole)
            archive.writestr("2.jpg", cut)
    else:
        files = tmp_path / "扫描件"
        files.mkdir()
        (files / "1.jpg").write_bytes(whole)
        (files / "2.jpg").write_bytes(cut)
    refused = home(*command, "--files", str(files))
    assert refused.code == 2 and _evidence(home, "appraisal_minutes") == 0
    assert "第 3 行，文件：文件 2.jpg 不完整，似乎在传送或复制时被截断了" in refused.err, refused.err
    assert not [line for line in refused.err.splitlines() if line.startswith("第 2 行")]


def _encrypted(path, members: dict[str, bytes]):
    """A zip whose members are marked encrypted (as `zip -P` makes them; their bytes need not be)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    data = bytearray(path.read_bytes())
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flags] |= 0x1
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    return path


def test_a_password_protected_zip_is_said_once_to_be_so(home, tmp_path):  # noqa: F811
    """It was "the folder or zip holds no file 1.jpg" on every row, though the files are in it."""
    command = _two_rows(home, tmp_path, 72)
    files = _encrypted(tmp_path / "扫描件.zip", {"1.jpg": photo("one"), "2.jpg": photo("two")})
    before = home.snapshot()
    refused = home(*command, "--files", str(files))
    assert refused.code == 2 and refused.err.count("设有密码（已加密）") == 1, refused.err
    assert "请不设密码重新压缩后再导入" in refused.err and "没有文件" not in refused.err
    english = home(*command, "--files", str(files), lang="en")
    assert "is protected by a password (encrypted)" in english.err and "without a password" in english.err
    assert home.snapshot() == before


def test_a_link_leading_out_of_the_sheets_folder_is_named_as_such(home, tmp_path):  # noqa: F811
    command = _two_rows(home, tmp_path, 74)
    files = tmp_path / "扫描件"
    files.mkdir()
    (tmp_path / "外面.jpg").write_bytes(photo("outside"))
    (files / "1.jpg").symlink_to(tmp_path / "外面.jpg")
    (files / "2.jpg").write_bytes(photo("inside"))
    refused = home(*command, "--files", str(files))
    assert refused.code == 2 and _evidence(home, "appraisal_minutes") == 0
    assert "第 2 行，文件：文件 1.jpg 是一个链接（快捷方式），指向所给文件夹以外的位置" in refused.err, refused.err
    assert "没有文件" not in refused.err and "第 3 行" not in refused.err
