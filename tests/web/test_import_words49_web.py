"""The import page's words (auditor a4, finding 8): with "skip bad rows" ticked, a number Excel turned
into scientific notation is told as written to the workbook to download, not as what ticking the box
would do; the blank sheet's village is the blank sheet's, not the import's ("the whole file's village")."""
from __future__ import annotations

import io
import re

from tests.web.bulk_world import VILLAGE, core, demo_home, web  # noqa: F401
from tests.web.test_import_web import HEADERS, downloads, ids, post, xlsx_bytes


def test_a_scientific_number_skipped_is_told_as_written_to_the_workbook_to_download(signed_in):
    cadre = signed_in("cadre")
    a, b = ids(83, 2)
    rows = [("3.6073E+17", "科甲", a, "户主", "健康", "因病"), ("WS-083", "科乙", b, "户主", "健康", "因病")]
    done = post(cadre, "名单.xlsx", xlsx_bytes(rows, HEADERS), village=VILLAGE, skip_bad="1")
    assert done.status_code == 200, done.text
    said = "".join(re.findall(r'id="import-err".*?</ul>', done.text, re.S))
    assert "第 2 行，户编号：被表格软件改成了科学计数法（3.6073E+17）" in said, said
    assert "这一行已另存到「Excel」表格（见下方的下载链接）" in said and "勾选" not in said, said
    # the workbook itself says what to do with it, in words of no page
    [url] = re.findall(r'<a href="(/imports/files/[^"]+)" download="名单.bad-rows.xlsx"', downloads(done.text))
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(cadre.get(url).content))
    reasons = [str(c.value) for row in book.active.iter_rows() for c in row if c.value and "科学计数法" in str(c.value)]
    assert reasons and all("这一行已另存到错误行文件" in r and "下载链接" not in r for r in reasons), reasons
    english = signed_in("cadre")
    english.cookies.set("lang", "en")
    told = post(english, "list.xlsx", xlsx_bytes([rows[0]], HEADERS), village=VILLAGE, skip_bad="1")
    assert "this row is written to an Excel workbook (its download link is below)" in told.text, told.text
    assert "With \"Skip bad rows\" ticked" not in told.text and "With &#34;Skip bad rows&#34; ticked" not in told.text


def test_the_blank_sheets_village_is_labelled_as_the_blank_sheets(signed_in):
    page = signed_in("cadre").get("/imports").text
    blank = page.partition('id="import-template"')[2].partition("</form>")[0]
    assert "村（空白表列出该村已登记的各户；" in blank and "整个文件所属的村" not in blank, blank
    assert "整个文件所属的村" in page.partition('id="import-template"')[0]      # the import's own, unchanged
