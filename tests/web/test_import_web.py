"""Importing a file in the browser (/imports): a list of households (Excel or CSV, Chinese headers,
GBK or UTF-8) or an evidence sheet with its files in a .zip — the CLI's own commands, all or none,
every bad row named, the bad rows of a "skip bad rows" import downloadable by their importer alone."""
from __future__ import annotations

import io
import re
import os
import stat
import zipfile

from sqlalchemy import func, select

from engine.adapters import tables as t
from tests.web.bulk_world import OTHER_TOWNSHIP_VILLAGE, VILLAGE, core, demo_home, web  # noqa: F401
from tests.world import id_number, photo

HEADERS = ("户编号", "姓名", "身份证号", "与户主关系", "健康状况", "致贫原因")

HX = {"HX-Request": "true"}      # sent as the case page's form sends it (htmx)


def ids(serial: int, n: int) -> list[str]:
    """`n` valid ID numbers no demo person holds (born 1970, county 360730)."""
    return [id_number(f"3607311970{serial % 12 + 1:02d}{i % 28 + 1:02d}{(serial * 7 + i // 28) % 1000:03d}")
            for i in range(n)]


def csv_bytes(rows: list[tuple], encoding: str = "gbk", headers: tuple = HEADERS) -> bytes:
    return "\n".join(",".join(map(str, r)) for r in [headers, *rows]).encode(encoding) + b"\n"


def xlsx_bytes(rows: list[tuple], headers: tuple) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    for row in [headers, *rows]:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def households(core, codes: list[str]) -> dict[str, str]:  # noqa: F811
    """{household code: region} of the registered households of these codes."""
    with core.engine.connect() as conn:
        return dict(conn.execute(select(t.cases.c.external_code, t.cases.c.region_code).where(
            t.cases.c.external_code.in_(codes))).all())


def downloads(page: str) -> str:
    """The result's download links (the page lists the files of the reader's other recent imports too)."""
    links = page.partition('id="import-downloads"')[2].partition("</p>")[0]
    assert not [url for url in re.findall(r'href="([^"]+)"', links) if page.count(f'href="{url}"') != 1]
    return links


def post(client, name: str, data: bytes, zip_name: str | None = None, zip_data: bytes | None = None, **fields):
    files = {"file": (name, data, "application/octet-stream")}
    if zip_name is not None:
        files["files"] = (zip_name, zip_data, "application/zip")
    return client.post("/imports", data={"csrf": client.csrf, "what": "households", **fields}, files=files)


def test_a_cadre_imports_a_village_list_from_excel_or_a_gbk_csv_with_the_national_system_s_headers(signed_in, core):  # noqa: F811
    cadre = signed_in("cadre")
    villages = cadre.get("/villages")
    assert 'href="/imports"' in villages.text and "从文件导入" in villages.text
    form = cadre.get("/imports")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text and VILLAGE in form.text

    before = set((core.settings.home / "work").glob("import-*"))
    a, b = ids(11, 3), ids(12, 2)
    workbook = xlsx_bytes([(VILLAGE, *r) for r in [("WH-001", "王大", a[0], "户主", "健康", "因病"), ("WH-001", "李二", a[1], "配偶", "健康", "因病"),
                           ("WH-001", "王小", a[2], "子女", "健康", "因病"), ("WH-002", "赵三", b[0], "户主", "长期慢性病", "因病"),
                           ("WH-002", "钱四", b[1], "配偶", "健康", "因病")]], ("村编码", *HEADERS))
    done = post(cadre, "洋塘村名单.xlsx", workbook)
    assert done.status_code == 200, done.text
    assert 'data-exit="0"' in done.text and "已导入 2 户、5 人" in done.text
    assert 'class="plain notes" id="import-err"' in done.text and "请核实或留意（已照常导入）" in done.text
    linked = re.findall(r'<a href="/cases/(\d+)">案件 \1</a>', done.text)         # each new case a link to it
    page = cadre.get(f"/cases/{linked[0]}")
    assert len(set(linked)) == 2 and page.status_code == 200
    assert page.text.count('<span class="tag warn">未登记</span>') >= 2     # a list without insurance: not recorded
    assert households(core, ["WH-001", "WH-002"]) == {"WH-001": VILLAGE, "WH-002": VILLAGE}

    c = ids(13, 2)       # a GBK file without a village column: the village chosen on the form
    gbk = post(cadre, "名单.csv", csv_bytes([("WH-003", "孙五", c[0], "户主", "健康", "因病"),
                                            ("WH-003", "周六", c[1], "子女", "健康", "因病")]), village=VILLAGE)
    assert gbk.status_code == 200 and "已导入 1 户、2 人" in gbk.text
    assert households(core, ["WH-003"]) == {"WH-003": VILLAGE}
    with core.engine.connect() as conn:
        detail = conn.execute(select(t.audit_events.c.detail).where(t.audit_events.c.action == "households_imported")
                              .order_by(t.audit_events.c.seq.desc())).scalar()
    assert detail["file"] == "名单.csv" and detail["households"] == 1      # the file as the cadre named it
    again = post(cadre, "名单-再次.csv", csv_bytes([("WH-003", "孙五", c[0], "户主", "健康", "因病"),
                                                  ("WH-003", "周六", c[1], "子女", "健康", "因病")], "utf-8-sig"),
                 village=VILLAGE)          # every one of them registered already: said so, no skipping offered
    assert again.status_code == 200 and "都已在本系统登记" in again.text and 'id="skip-hint"' not in again.text
    d = ids(14, 1)       # the same list with a household added: that one imported, the other passed over
    added = post(cadre, "名单-新增.csv", csv_bytes([("WH-003", "孙五", c[0], "户主", "健康", "因病"),
                                                  ("WH-003", "周六", c[1], "子女", "健康", "因病"),
                                                  ("WH-004", "吴七", d[0], "户主", "健康", "因学")], "utf-8-sig"),
                 village=VILLAGE)
    assert added.status_code == 200 and "已导入 1 户、1 人" in added.text and "另有 1 户已登记" in added.text
    assert households(core, ["WH-004"]) == {"WH-004": VILLAGE}
    assert not [f for f in (core.settings.home / "work").glob("import-*") if f not in before]  # uploads not kept


def test_every_bad_row_is_named_with_its_line_and_column_and_nothing_is_written(signed_in, core):  # noqa: F811
    cadre = signed_in("cadre")
    good, other = ids(21, 2), ids(22, 2)
    broken = good[1][:-1] + ("0" if good[1][-1] != "0" else "1")          # a wrong check digit
    rows = [("BH-001", "甲", good[0], "户主", "健康", "因病"),
            ("BH-001", "乙", good[1], "配偶", "健康", "因病"),
            ("BH-002", "丙", other[0], "表哥", "健康", "因病"),                   # line 4: no such relation
            ("BH-003", "丁", good[0], "户主", "健康", "因病"),                   # line 5: the ID number of line 2 again
            ("BH-004", "戊", broken, "户主", "健康", "因病")]                    # line 6: a wrong check digit
    with core.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(t.cases)).scalar()
    refused = post(cadre, "名单.csv", csv_bytes(rows, "utf-8-sig"), village=VILLAGE)
    assert refused.status_code == 400 and 'data-exit="2"' in refused.text and "未导入：没有写入任何内容" in refused.text
    for line, column in ((4, "与户主关系"), (5, "身份证号"), (6, "身份证号")):
        assert f"第 {line} 行，{column}：" in refused.text, (line, column)
    assert "勾选下面的「跳过有误的行」" in refused.text          # the form's words: no option, no message code
    assert "--skip-bad" not in refused.text and "[import." not in refused.text
    assert 'class="plain errors" id="import-err"' in refused.text and "请核实或留意" not in refused.text
    assert "Traceback" not in refused.text and broken not in refused.text       # no ID number in an error
    with core.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.cases)).scalar() == before
    english = signed_in("cadre")
    english.cookies.set("lang", "en")
    said = post(english, "list.csv", csv_bytes(rows, "utf-8-sig"), village=VILLAGE)
    assert said.status_code == 400 and "line 4, relation to the head:" in said.text and "Not imported" in said.text
    assert "tick &#34;Skip bad rows&#34; below" in said.text and "--skip-bad" not in said.text


def test_skip_bad_rows_imports_the_good_ones_and_only_the_importer_downloads_the_bad_ones(signed_in, core, monkeypatch):  # noqa: F811
    from entrypoints.web import routes_import
    cadre = signed_in("cadre")
    good, bad = ids(31, 2), ids(32, 1)
    rows = [("SH-001", "好甲", good[0], "户主", "健康", "因病"), ("SH-001", "好乙", good[1], "配偶", "健康", "因病"),
            ("SH-002", "坏丙", bad[0], "表哥", "健康", "因病")]
    done = post(cadre, "名单.csv", csv_bytes(rows), village=VILLAGE, skip_bad="1")
    assert done.status_code == 200 and "已导入 1 户、2 人" in done.text
    assert "有误而未导入的行" in done.text and "已照常导入" not in done.text     # not said to be imported
    assert set(households(core, ["SH-001", "SH-002"])) == {"SH-001"}
    [link] = re.findall(r'<a href="(/imports/files/[^"]+)" download="名单.bad-rows.xlsx"', downloads(done.text))
    got = cadre.get(link)
    assert got.status_code == 200 and got.headers["content-type"].endswith("spreadsheetml.sheet")
    import io
    import openpyxl
    sheet = openpyxl.load_workbook(io.BytesIO(got.content))["有误的行"]
    written = [[c.value for c in r] for r in sheet.iter_rows()]
    assert written[0][0] == "行号" and "与户主关系" in written[0] and written[0][-1] == "原因"
    assert [r[1:4] for r in written[1:]] == [["SH-002", "坏丙", bad[0]]]          # the ID number whole, as text
    assert sheet.cell(2, 4).data_type == "s" and "表哥" in written[1][-1]
    sheet.cell(2, written[0].index("与户主关系") + 1).value = "户主"      # corrected in Excel, imported again
    book = io.BytesIO()
    sheet.parent.save(book)
    again = post(cadre, "名单.bad-rows.xlsx", book.getvalue(), village=VILLAGE)
    assert again.status_code == 200 and re.search(r'已导入 1 户、1 人（<a href="/cases/\d+">案件 \d+</a>）', again.text)
    assert "不认识" not in again.text            # its own line and reason columns are known, not told as strange
    kept = (core.settings.home / "work" / link.split("/")[3])
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in kept.iterdir())
    assert signed_in("township").get(link).status_code == 404          # somebody else: as if it did not exist
    listed = cadre.get("/imports").text
    assert listed.count(f'href="{link}"') == 1 and "<title>从文件导入" in listed   # listed once, a closed tab or not
    assert link not in signed_in("township").get("/imports").text
    assert cadre.get(link.rsplit("/", 1)[0] + "/7").status_code == 404
    assert cadre.get("/imports/files/..%2F..%2Fjingzhun.db/0").status_code == 404
    assert cadre.get("/imports/files/import-%00x/0").status_code == 404
    monkeypatch.setattr(routes_import, "KEPT_S", -1)                    # its hour is over
    gone = cadre.get(link)
    assert gone.status_code == 404 and "只保留 1 小时" in gone.text
    assert not kept.exists()                                            # and it is removed


def two_households(client, prefix: str, serial: int) -> list[str]:
    """Two one-person households registered from the page, PREFIX-001 and PREFIX-002; their heads' ID numbers."""
    heads = ids(serial, 2)
    assert post(client, "名单.csv", csv_bytes([(f"{prefix}-001", "证甲", heads[0], "户主", "健康", "因病"),
                                               (f"{prefix}-002", "证乙", heads[1], "户主", "健康", "因病")]),
                village=VILLAGE).status_code == 200
    return heads


def income_sheet_with_zip(client, rows: str, members: dict[str, bytes]):
    """An income sheet (身份证号, 年度, 家庭纯收入, 文件) and a zip of `members` posted on the import page."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return client.post("/imports", data={"csrf": client.csrf, "what": "evidence", "type": "income_check"}, files={
        "file": ("收入.csv", ("身份证号,年度,家庭纯收入,文件\n" + rows).encode("utf-8-sig"), "text/csv"),
        "files": ("扫描件.zip", archive.getvalue(), "application/zip")})


def test_an_evidence_sheet_attaches_to_every_household_it_names_with_files_from_a_zip(signed_in, core):  # noqa: F811
    cadre = signed_in("cadre")
    heads = two_households(cadre, "EH", 41)
    done = income_sheet_with_zip(cadre, f"{heads[0]},2019,3100,扫描件/a.jpg\n{heads[1]},2019,2900,\n",
                                 {"扫描件/a.jpg": photo("a scan")})
    assert done.status_code == 200, done.text
    assert "已为 2 户添加" in done.text
    with core.engine.connect() as conn:
        attached = dict(conn.execute(select(t.cases.c.external_code, t.evidence.c.file_name).join(
            t.evidence, t.evidence.c.case_id == t.cases.c.id).where(
            t.cases.c.external_code.in_(["EH-001", "EH-002"]), t.evidence.c.type == "income_check")).all())
    assert attached == {"EH-001": "a.jpg", "EH-002": None}


def test_an_evidence_sheets_zip_holding_a_word_file_and_an_iphone_photo_is_refused_on_their_lines(signed_in, core):  # noqa: F811
    """Walk of 2026-12-05, finding 7: a .docx of junk bytes and a .heic went in as 脱贫确认书 scans."""
    cadre = signed_in("cadre")
    heads = two_households(cadre, "ZH", 45)
    refused = income_sheet_with_zip(cadre, f"{heads[0]},2019,3100,确认书.docx\n{heads[1]},2019,2900,IMG_0001.heic\n",
                                    {"确认书.docx": b"PK\x03\x04 junk bytes",
                                     "IMG_0001.heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"})
    assert refused.status_code == 400, refused.text
    assert "第 2 行，文件：文件 确认书.docx 不是照片或扫描件" in refused.text
    assert "第 3 行，文件：文件 IMG_0001.heic 是苹果手机的 HEIC 照片" in refused.text
    with core.engine.connect() as conn:
        assert conn.execute(select(t.evidence.c.id).join(t.cases, t.evidence.c.case_id == t.cases.c.id).where(
            t.cases.c.external_code.in_(["ZH-001", "ZH-002"]), t.evidence.c.type == "income_check")).first() is None


def test_a_yearly_recheck_replaces_each_households_item_from_the_page(signed_in, core):  # noqa: F811
    """The checkbox does what `evidence import --replace --reason` does; without it the refusal names it."""
    cadre = signed_in("cadre")
    two_households(cadre, "RH", 43)
    sheet = lambda food: f"户编号,不愁吃,不愁穿\nRH-001,{food},是\nRH-002,{food},是\n".encode("utf-8")  # noqa: E731
    assert post(cadre, "两不愁.csv", sheet("是"), what="evidence", type="two_assurances").status_code == 200
    held = post(cadre, "两不愁.csv", sheet("否"), what="evidence", type="two_assurances")
    assert held.status_code == 400 and "请在「从文件导入」页勾选「替换现有的这类材料」并填写理由" in held.text
    unboxed = post(cadre, "两不愁.csv", sheet("否"), what="evidence", type="two_assurances", reason="复核")
    assert unboxed.status_code == 400 and "请勾选" in unboxed.text            # a reason is not dropped unsaid
    unexplained = post(cadre, "两不愁.csv", sheet("否"), what="evidence", type="two_assurances", replace="1")
    assert unexplained.status_code == 400 and "请填写替换理由" in unexplained.text
    assert 'name="replace" value="1" checked' in unexplained.text            # the form, as chosen
    done = post(cadre, "两不愁.csv", sheet("否"), what="evidence", type="two_assurances", replace="1",
                reason="2020年度复核")
    assert done.status_code == 200, re.findall(r"<li>[^<]*</li>", done.text)
    with core.engine.connect() as conn:
        rows = conn.execute(select(t.evidence.c.fields, t.evidence.c.supersede_reason).join(
            t.cases, t.evidence.c.case_id == t.cases.c.id).where(
            t.cases.c.external_code.in_(["RH-001", "RH-002"]), t.evidence.c.type == "two_assurances")).all()
    assert sorted((r.fields["food"], r.supersede_reason) for r in rows) == [(False, None), (False, None),
                                                                         (True, "2020年度复核"), (True, "2020年度复核")]


def test_what_cannot_be_imported_is_said_in_words(signed_in):
    cadre = signed_in("cadre")
    nothing = cadre.post("/imports", data={"csrf": cadre.csrf, "what": "households"})
    assert nothing.status_code == 400 and "请选择一个「.xlsx」「.xls」或「.csv」文件" in nothing.text
    text = post(cadre, "名单.txt", b"hello")
    assert text.status_code == 400 and "名单.txt" in text.text
    untyped = post(cadre, "收入.csv", b"a,b\n", what="evidence", skip_bad="1")
    assert untyped.status_code == 400 and "请选择材料类型" in untyped.text
    assert 'id="import-form"' in untyped.text and 'value="evidence" checked' in untyped.text   # the form, as chosen
    assert 'name="skip_bad" value="1" checked' in untyped.text
    not_zip = post(cadre, "收入.csv", b"a,b\n", "files.rar", b"x", what="evidence", type="income_check")
    assert not_zip.status_code == 400 and ".zip" in not_zip.text
    assert post(cadre, "x.csv", b"a\n", what="persons").status_code == 400
    bad_row = csv_bytes([("IH-001", "注", ids(71, 1)[0], "表哥", "健康", "因病")])
    nowhere = post(cadre, "x.csv", bad_row)                                        # no village column, none chosen
    assert nowhere.status_code == 400 and "在下面的「村」中选择整个文件所属的村" in nowhere.text, re.findall(r"<li>[^<]*</li>", nowhere.text)
    assert "--village" not in nowhere.text
    injected = post(cadre, "x.csv", bad_row, village="--skip-bad=/tmp/evil.csv")     # one word: a village, not an option
    assert injected.status_code == 400 and "--skip-bad=/tmp/evil.csv 不是村级区域代码" in injected.text
    assert not os.path.exists("/tmp/evil.csv") and "x.bad-rows.csv" not in injected.text
    odd = post(cadre, "a\u2028b.csv", bad_row, village=VILLAGE)
    assert odd.status_code == 400 and "请选择一个" in odd.text
    inspector = signed_in("inspector")
    assert inspector.get("/imports").status_code == 403
    assert post(inspector, "x.csv", b"a\n").status_code == 403


def test_a_list_without_its_header_row_or_exported_as_html_shows_no_name_or_id_number(signed_in):
    """The page echoed the first row as "the headers found" (a household's name and whole ID number),
    and an old system's HTML "Excel" export whole, every row's."""
    cadre = signed_in("cadre")
    a = ids(91, 1)[0]
    headerless = post(cadre, "名单.csv", csv_bytes([("NH-001", "无头甲", a, "户主", "健康", "因病")], headers=()), village=VILLAGE)
    assert headerless.status_code == 400 and "第一行像是数据而不是表头" in headerless.text
    html = post(cadre, "名单.xls", f"<html><body><table><tr><td>无头甲</td><td>{a}</td></tr></table></body></html>".encode(),
                village=VILLAGE)
    assert html.status_code == 400 and "是网页（HTML）格式的文件" in html.text
    for page in (headerless, html):
        assert "无头甲" not in page.text and a not in page.text and "*" + a[-4:] not in page.text


def test_a_number_excel_turned_into_scientific_notation_is_told_with_the_pages_advice(signed_in):
    """The page said "改正错误行时请写成「.xlsx」文件（--skip-bad 「错误行.xlsx」）": a command-line option,
    where the page's bad rows come back as a workbook to download whatever the reader does."""
    cadre = signed_in("cadre")
    a, b = ids(81, 2)
    rows = [("3.6073E+17", "科甲", a, "户主", "健康", "因病"), ("WS-002", "科乙", b, "户主", "健康", "因病")]
    refused = post(cadre, "名单.xlsx", xlsx_bytes(rows, HEADERS), village=VILLAGE)
    assert refused.status_code == 400 and "第 2 行，户编号：被表格软件改成了科学计数法（3.6073E+17）" in refused.text
    assert "勾选下面的「跳过有误的行」时，有误的行会另存为「Excel」表格供下载" in refused.text
    assert "--" not in "".join(re.findall(r'<ul class="plain errors" id="import-err">.*?</ul>', refused.text, re.S))
    english = signed_in("cadre")
    english.cookies.set("lang", "en")
    said = post(english, "list.xlsx", xlsx_bytes(rows, HEADERS), village=VILLAGE)
    assert said.status_code == 400 and "the bad rows come back as an Excel workbook to download" in said.text
    assert "--skip-bad" not in said.text


def test_every_import_message_naming_an_option_has_the_pages_words():
    """What an import says on the import page is said in the form's words (catalogue KEY@page) where the
    command line's names an option: the page runs the very command."""
    from config import CONFIG_DIR, load_catalogue
    catalogue = load_catalogue(CONFIG_DIR)
    naming = [k for k, v in catalogue.items() if k.startswith(("msg.import.", "msg.csv.", "msg.sheets."))
              and "@" not in k and any(re.search(r"--[a-z]", v[lang]) for lang in ("zh", "en"))]
    assert naming and [k for k in naming if f"{k}@page" not in catalogue] == []


def test_an_administrator_imports_regions_then_people_and_downloads_their_paper_codes(signed_in, core):  # noqa: F811
    admin = signed_in("admin")
    form = admin.get("/imports")
    assert 'value="persons"' in form.text and 'value="regions"' in form.text
    assert 'value="persons"' not in signed_in("cadre").get("/imports").text      # offered to administrators only
    new_village = VILLAGE[:9] + "299"
    regions = post(admin, "区划.csv", csv_bytes([(new_village, "新建村")], "utf-8", ("区划代码", "名称")), what="regions")
    assert regions.status_code == 200, regions.text
    people = post(admin, "人员.xlsx", xlsx_bytes([("nv_secretary", "新村支书", "village_secretary", new_village)],
                                                 ("人员编号", "姓名", "角色", "区域")), what="persons")
    assert people.status_code == 200, people.text
    [link] = re.findall(r'<a href="(/imports/files/[^"]+)" download="人员.codes.csv"', downloads(people.text))
    codes = admin.get(link).content.decode("utf-8-sig")
    assert "nv_secretary" in codes
    with core.engine.connect() as conn:
        assert conn.execute(select(t.regions.c.name).where(t.regions.c.code == new_village)).scalar() == "新建村"
        assert conn.execute(select(t.persons.c.name).where(t.persons.c.code == "nv_secretary")).scalar() == "新村支书"
    refused = post(signed_in("county"), "区划.csv", csv_bytes([(VILLAGE[:9] + "298", "又一村")], "utf-8", ("区划代码", "名称")),
                   what="regions")
    assert refused.status_code == 400           # not offered, and the command refuses a non-administrator


def test_a_person_or_region_list_with_only_its_header_is_refused_with_no_slips_to_print(signed_in):
    """It showed 已导入 / 已导入人员 0 名 and offered an empty codes file to print as slips."""
    admin = signed_in("admin")
    people = post(admin, "人员.csv", csv_bytes([], "utf-8", ("人员编号", "姓名", "角色", "区域")), what="persons")
    assert people.status_code == 400 and "人员.csv 中没有数据行（只有表头），没有导入任何人员" in people.text
    assert "codes.csv" not in downloads(people.text)
    regions = post(admin, "区划.csv", csv_bytes([], "utf-8", ("区划代码", "名称")), what="regions")
    assert regions.status_code == 400 and "区划.csv 中没有数据行（只有表头），没有导入任何区域" in regions.text


def test_an_import_that_takes_long_is_answered_as_it_goes_then_with_its_result(signed_in, core, monkeypatch):  # noqa: F811
    """Past QUICK_S the page's top is sent at once and a line now and then (a proxy in front would
    cut a connection quiet for a minute), then the result; the page is whole."""
    from entrypoints.web import routes_import
    monkeypatch.setattr(routes_import, "QUICK_S", 0.0)
    monkeypatch.setattr(routes_import, "TICK_S", 0.01)
    monkeypatch.setattr(routes_import, "HEARTBEAT_S", 0.0)
    rows = [(f"LH-{i:03d}", f"长{i}", n, "户主", "健康", "因病") for i, n in enumerate(ids(61, 60) + ids(62, 60))]
    answer = post(signed_in("cadre"), "长名单.csv", csv_bytes(rows), village=VILLAGE)
    assert answer.status_code == 200
    text = answer.text
    assert text.index('id="import-running"') < text.index("<li>") < text.index('id="import-result"')
    assert "已导入 120 户、120 人" in text and text.rstrip().endswith("</html>")
    assert text.count('<ul class="plain" id="import-progress">') == 1 and text.count("</ul></section>") == 1
    assert len(households(core, [r[0] for r in rows])) == 120
    assert text.index("导入已结束，结果如下。") < text.index('id="import-result"')
    from entrypoints.web import api_cli
    assert api_cli._running == {}                                        # its slot given back when it ended
    refused = post(signed_in("cadre"), "长名单.csv", csv_bytes(rows), village=VILLAGE)     # imported before
    assert refused.status_code == 200 and 'data-exit="2"' in refused.text and api_cli._running == {}


def test_a_person_past_their_share_of_the_server_is_refused_before_the_upload_is_read(signed_in, monkeypatch):
    from entrypoints.web import api_cli
    monkeypatch.setitem(api_cli._running, "v01_secretary", api_cli.PER_PERSON)     # three of theirs running
    busy = post(signed_in("cadre"), "名单.csv", csv_bytes([]), village=VILLAGE)
    assert busy.status_code == 429 and "v01_secretary" in busy.text
    cadre = signed_in("cadre")
    unread = cadre.post("/imports", data={"csrf": "wrong"}, files={"file": ("名单.csv", b"x" * 100_000, "text/csv")})
    assert unread.status_code == 429          # refused before the form is read (its CSRF token is not even looked at)
    assert api_cli._running == {"v01_secretary": api_cli.PER_PERSON}


def test_an_excel_97_list_is_imported_from_the_page(signed_in, core):  # noqa: F811
    """An .xls, as older systems export: the same import (tests/fixtures/名单.xls: a title row, the
    national system's headers, three people of two households, no village column)."""
    from pathlib import Path
    cadre = signed_in("cadre")
    assert 'accept=".csv,.xlsx,.xls"' in cadre.get("/imports").text
    fixture = (Path(__file__).parents[1] / "fixtures" / "名单.xls").read_bytes()
    done = post(cadre, "名单.xls", fixture, village=VILLAGE)
    assert done.status_code == 200, done.text
    assert 'data-exit="0"' in done.text and "已导入 2 户、3 人" in done.text


def test_a_cadre_records_a_members_insurance_on_the_case_page_and_an_inspector_cannot(signed_in, core):  # noqa: F811
    """Imported without insurance, a household's members are 未登记; the exit asks for it, and the
    cadre records it on the case page (with a reason, only what changed, kept in the audit log)."""
    cadre = signed_in("cadre")
    c = ids(21, 2)
    done = post(cadre, "参保.csv", csv_bytes([("WH-021", "孙甲", c[0], "户主", "健康", "因病"),
                                             ("WH-021", "孙乙", c[1], "配偶", "健康", "因病")]), village=VILLAGE)
    case = int(re.findall(r'<a href="/cases/(\d+)">案件 \1</a>', done.text)[0])
    page = cadre.get(f"/cases/{case}").text
    assert '<details class="card" id="update-members" open>' in page and "参保未登记" in page
    member = re.findall(rf'hx-post="/cases/{case}/members/(\d+)"', page)[0]
    form = {"csrf": cadre.csrf, "m_insured_basic": "yes", "was_insured_basic": "", "m_insured_critical": "yes",
            "was_insured_critical": "", "m_health": "healthy", "was_health": "healthy", "reason": "核实参保凭证"}
    saved = cadre.post(f"/cases/{case}/members/{member}", headers=HX, data=form)
    assert saved.status_code == 200 and "已更新：基本医疗保险、大病保险" in saved.text, saved.text
    with core.engine.connect() as conn:
        row = conn.execute(select(t.household_members.c.insured_basic, t.household_members.c.insured_critical,
                                  t.household_members.c.health).where(t.household_members.c.id == int(member))).one()
        event = conn.execute(select(t.audit_events.c.detail, t.audit_events.c.reason).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "member_updated")).one()
    assert tuple(row) == (True, True, "healthy")
    assert event.detail["old"] == {"insured_basic": None, "insured_critical": None} and event.reason == "核实参保凭证"
    same = cadre.post(f"/cases/{case}/members/{member}", headers=HX, data={**form, "was_insured_basic": "yes",
                                                               "was_insured_critical": "yes"})
    assert same.status_code == 400 and "没有改动任何一项" in same.text
    page = cadre.get(f"/cases/{case}").text          # a birth, and the spouse moving away, on the same page
    assert 'id="add-member"' in page and page.count('class="member-leave"') == 1        # not for the head
    added_form = page.partition('id="add-member"')[2]        # a newborn is not 普通劳动力 by default: chosen
    assert '<select name="m_labour_ability" required><option value=""></option>' in added_form
    baby = ids(22, 1)[0]
    born = {"csrf": cadre.csrf, "m_name": "孙丙", "m_id_number": baby, "m_relation": "child",
            "m_insured_basic": "yes", "m_insured_critical": "", "reason": "2020 年 5 月出生"}
    wrong_digit = "0" if baby[-1] != "0" else "1"
    wrong = cadre.post(f"/cases/{case}/members", headers=HX, data={**born, "m_id_number": baby[:-1] + wrong_digit})
    assert wrong.status_code == 400 and "该成员的身份证号" in wrong.text and "孙丙" not in wrong.text
    assert "第 1 名成员" not in wrong.text            # one member added: not "the first of a list"
    added = cadre.post(f"/cases/{case}/members", headers=HX, data=born)
    assert added.status_code == 200 and "已新增成员" in added.text, added.text
    spouse = re.findall(rf'hx-post="/cases/{case}/members/(\d+)/leave"', page)[0]
    left = cadre.post(f"/cases/{case}/members/{spouse}/leave", headers=HX, data={"csrf": cadre.csrf, "reason": "2020 年 8 月迁出"})
    assert left.status_code == 200 and "已记为不在户" in left.text
    with core.engine.connect() as conn:
        members = {r.name: (r.active, r.insured_basic, r.insured_critical) for r in conn.execute(
            select(t.household_members).where(t.household_members.c.case_id == case))}
        actions = conn.execute(select(t.audit_events.c.action).where(t.audit_events.c.case_id == case)
                               .order_by(t.audit_events.c.case_seq)).scalars().all()
    assert members == {"孙甲": (True, True, True), "孙乙": (False, None, None), "孙丙": (True, True, None)}
    assert actions[-3:] == ["member_updated", "member_added", "member_left"]
    inspector = signed_in("inspector")
    assert "update-members" not in inspector.get(f"/cases/{case}").text
    refused = inspector.post(f"/cases/{case}/members/{member}", headers=HX, data={**form, "csrf": inspector.csrf})
    assert refused.status_code == 403
    assert inspector.post(f"/cases/{case}/members", headers=HX, data={**born, "csrf": inspector.csrf}).status_code == 403


def test_a_cadre_corrects_a_members_name_and_bank_account_and_changes_the_head_on_the_case_page(
        signed_in, core):  # noqa: F811
    """The member form takes a name, a relation (not the head's) and a new bank account (shown only
    by its last digits, so left empty it is unchanged); the head changes in one form, the former
    head leaving, the widow becoming the new head's parent; the case takes the new head's name."""
    cadre = signed_in("cadre")
    c = ids(23, 3)
    done = post(cadre, "户主.csv", csv_bytes([("WH-023", "周甲", c[0], "户主", "健康", "因病"),
                                             ("WH-023", "周乙", c[1], "配偶", "健康", "因病"),
                                             ("WH-023", "周丙", c[2], "子女", "健康", "因病")]), village=VILLAGE)
    case = int(re.findall(r'<a href="/cases/(\d+)">案件 \1</a>', done.text)[0])
    page = cadre.get(f"/cases/{case}").text
    rows = dict(zip(("周甲", "周乙", "周丙"), re.findall(rf'hx-post="/cases/{case}/members/(\d+)"', page)))
    assert page.count('name="m_relation"') == 2 + 1        # the spouse's and the child's forms, and "add a member"
    assert 'id="change-head"' in page and 'name="m_bank_account"' in page
    form = {"csrf": cadre.csrf, "m_name": "周乙妹", "was_name": "周乙", "m_relation": "spouse", "was_relation": "spouse",
            "m_bank_account": "6222 0000 1111 2222", "reason": "按户口簿更正"}
    saved = cadre.post(f"/cases/{case}/members/{rows['周乙']}", headers=HX, data=form)
    assert saved.status_code == 200 and "已更新：姓名、银行账号" in saved.text, saved.text
    assert "****2222" in cadre.get(f"/cases/{case}").text and "6222000011112222" not in cadre.get(f"/cases/{case}").text
    change = {"csrf": cadre.csrf, "heir": rows["周丙"], "former": "", f"rel_{rows['周乙']}": "parent",
              f"rel_{rows['周丙']}": "child", "reason": "原户主去世"}
    unsaid = cadre.post(f"/cases/{case}/head", headers=HX, data={**change, "rel_²": "x"})      # not a row: passed over
    assert unsaid.status_code == 400 and "原户主与新户主的关系" in unsaid.text
    changed = cadre.post(f"/cases/{case}/head", headers=HX, data={**change, "former": "left"})
    assert changed.status_code == 200 and "户主已变更为 周丙" in changed.text, changed.text
    with core.engine.connect() as conn:
        members = {r.name: (r.relation, r.active, r.bank_account) for r in conn.execute(
            select(t.household_members).where(t.household_members.c.case_id == case))}
        title = conn.execute(select(t.cases.c.title).where(t.cases.c.id == case)).scalar()
    assert members == {"周甲": ("head", False, None), "周乙妹": ("parent", True, "6222000011112222"),
                       "周丙": ("head", True, None)}       # who left keeps the relation they left with
    assert title == "周丙" and "周丙" in cadre.get(f"/cases/{case}").text.partition("</h1>")[0]
    inspector = signed_in("inspector")
    assert inspector.post(f"/cases/{case}/head", headers=HX, data={**change, "csrf": inspector.csrf, "former": "left"}).status_code == 403
    traced = inspector.get(f"/inspect/trace/case/{case}").text      # what each member event changed
    for said in ("周乙：姓名 周乙 → 周乙妹", "周乙：银行账号 - → ****2222", "周丙：与户主关系 子女 → 户主",
                 "周乙妹：与户主关系 配偶 → 父母", "周甲：不再在户", "原户主去世", "按户口簿更正"):
        assert said in traced, said
    assert "6222000011112222" not in traced


def test_the_village_choices_name_their_township(signed_in):
    """Two villages of one name (黄陂村 in two townships) stood as two bare 黄陂村 in the choice."""
    page = signed_in("county").get("/imports").text
    option = re.search(rf'<option value="{VILLAGE}"[^>]*>([^<]+)</option>', page)
    assert option and option.group(1).startswith("梅江镇 ")


def test_a_county_office_notes_the_exit_year_of_a_household_imported_without_one(signed_in, core):  # noqa: F811
    """The case page offers the county office to note the year a household imported exited lacks (it
    counted in no year's exits); a village cadre is not offered it; the year then shows on the page."""
    county, cadre = signed_in("county"), signed_in("cadre")
    people = [id_number("36213119530607417")]              # a county and year no demo household has
    done = post(county, "迁入.csv", csv_bytes([(VILLAGE, "EY-001", "孙九", people[0], "户主", "健康", "因病", "已脱贫")],
                                             "utf-8-sig", ("村编码", *HEADERS, "户状态")))
    assert done.status_code == 200, done.text
    with core.engine.connect() as conn:
        case = conn.execute(select(t.cases.c.id).where(t.cases.c.external_code == "EY-001")).scalar()
    page = county.get(f"/cases/{case}")
    assert 'id="note-exit-year"' in page.text and "原系统没有注明脱贫年度" in page.text
    assert 'id="note-exit-year"' not in cadre.get(f"/cases/{case}").text
    refused = county.post(f"/cases/{case}/exit-year", headers=HX, data={"csrf": county.csrf, "year": "2012", "reason": "核对"})
    assert refused.status_code == 400 and "脱贫年度 2012 不在 2013 年" in refused.text
    noted = county.post(f"/cases/{case}/exit-year", headers=HX, data={"csrf": county.csrf, "year": "2017年", "reason": "据全国系统核对"})
    assert noted.status_code == 200 and f"案件 {case}：已补记脱贫年度 2017 年" in noted.text, noted.text
    again = county.get(f"/cases/{case}")
    assert "脱贫年度：2017" in again.text and "更正脱贫年度" in again.text
    assert cadre.post(f"/cases/{case}/exit-year", headers=HX, data={"csrf": cadre.csrf, "year": "2016", "reason": "x"}).status_code == 403


def _chosen_village(page: str) -> str:
    """The value of the village the import form has selected ('' for the file's village column)."""
    select = re.search(r'<select name="village">(.*?)</select>', page, re.S).group(1)
    found = re.search(r'<option value="(\d*)"[^>]* selected>', select)
    return found.group(1) if found else ""


def test_a_cadre_of_one_village_imports_into_it_unless_they_choose_the_file_s_column(signed_in):
    """A village cadre's list has no 村编码 column: the form starts at their one village (it had started
    at the file's column, and the import was refused for it); a county's starts at the file's column."""
    cadre = signed_in("cadre")
    assert _chosen_village(cadre.get("/imports").text) == VILLAGE
    again = post(cadre, "名单.txt", b"hello", village="")           # chosen: the file's column, kept as chosen
    assert again.status_code == 400 and _chosen_village(again.text) == ""
    assert _chosen_village(signed_in("county").get("/imports").text) == ""


def test_a_cadre_imports_a_national_list_naming_their_own_village_with_the_village_chosen(signed_in, core):  # noqa: F811
    """The form starts at the cadre's one village; a file in the national format names that village in
    its 村编码 column: imported (it was refused for giving the village twice). A row of another village
    is that row's problem, said in the form's words."""
    cadre = signed_in("cadre")
    assert _chosen_village(cadre.get("/imports").text) == VILLAGE
    a, b = ids(91, 2), ids(92, 1)
    other = post(cadre, "两个村.csv", csv_bytes([(VILLAGE, "NV-001", "冯一", a[0], "户主", "健康", "因病"),
                                                (OTHER_TOWNSHIP_VILLAGE, "NV-002", "陈二", b[0], "户主", "健康", "因病")],
                                               "utf-8-sig", ("村编码", *HEADERS)), village=VILLAGE)
    assert other.status_code == 400 and households(core, ["NV-001", "NV-002"]) == {}
    said = re.sub(r"<[^>]+>", "", other.text)
    assert f"第 3 行，村编码：「{OTHER_TOWNSHIP_VILLAGE}」不是下面「村」中所选的洋塘村：" in said
    assert "改回“按文件中的「村编码」列”" in said and "不能再选择村" not in said
    done = post(cadre, "洋塘村.csv", csv_bytes([(VILLAGE, "NV-001", "冯一", a[0], "户主", "健康", "因病"),
                                              (VILLAGE, "NV-001", "卫三", a[1], "配偶", "健康", "因病")],
                                             "utf-8-sig", ("村编码", *HEADERS)), village=VILLAGE)
    assert done.status_code == 200 and "已导入 1 户、2 人" in done.text, done.text
    assert households(core, ["NV-001"]) == {"NV-001": VILLAGE}


def test_a_national_form_is_imported_a_type_at_a_time_and_a_repeat_says_what_it_recorded(signed_in):
    """One sheet, the national 两不愁三保障 form's columns: imported once a type from the page (the second
    type was refused as the same file, and said its rows' evidence was recorded)."""
    cadre = signed_in("cadre")
    two_households(cadre, "NF", 47)
    form = "户编号,不愁吃,不愁穿,住房等级\nNF-001,是,是,B\nNF-002,是,否,A\n".encode("utf-8")
    first = post(cadre, "两不愁三保障.csv", form, what="evidence", type="two_assurances")
    assert first.status_code == 200, first.text
    assert "住房等级属于住房安全鉴定，请在「材料类型」中选「住房安全鉴定」再导入这个文件" in first.text
    assert post(cadre, "两不愁三保障.csv", form, what="evidence", type="housing_safety").status_code == 200
    repeat = post(cadre, "两不愁三保障.csv", form, what="evidence", type="housing_safety")
    said = "".join(re.findall(r'<ul class="plain errors" id="import-err">.*?</ul>', repeat.text, re.S))
    assert repeat.status_code == 400 and "当时为 2 户录入了住房安全鉴定，这次没有再导入" in said, said
    assert "请在「材料类型」中换选相应的类型再导入" in said and "--type" not in said


def test_a_blank_sheet_of_the_village_downloads_and_imports_back_filled(signed_in):
    """No template: the cadre guessed the columns (家庭纯收入, 住房等级…) from exports."""
    cadre = signed_in("cadre")
    two_households(cadre, "TP", 49)
    page = cadre.get("/imports")
    assert 'id="import-template"' in page.text and "下载材料表空白表" in page.text
    got = cadre.get("/imports/template", params={"village": VILLAGE, "type": "two_assurances", "format": "csv"})
    assert got.status_code == 200 and got.content.startswith("\ufeff案件编号,户编号,户主姓名,不愁吃,不愁穿".encode())
    rows = got.content.decode("utf-8-sig").splitlines()
    ours = [r for r in rows if "\tTP-00" in r or ",TP-00" in r]
    assert len(ours) == 2 and ours[0].endswith(",证甲,,"), ours
    filled = "\n".join([rows[0]] + [r + ("是" if r.endswith(",,") else "") for r in ours]).replace(",,是", ",是,是")
    done = post(cadre, "两不愁.csv", filled.encode("utf-8-sig"), what="evidence", type="two_assurances")
    assert done.status_code == 200 and "已为 2 户添加不愁吃不愁穿核查" in done.text, done.text
    workbook = cadre.get("/imports/template", params={"village": VILLAGE, "type": "income_check"})
    assert workbook.status_code == 200 and workbook.content.startswith(b"PK")
    assert cadre.get("/imports/template", params={"village": OTHER_TOWNSHIP_VILLAGE, "type": "income_check"}
                     ).status_code == 404
    assert signed_in("inspector").get("/imports/template", params={"village": VILLAGE, "type": "income_check"}
                                      ).status_code == 403


def test_a_list_checked_again_that_writes_nothing_is_not_headed_imported(signed_in, core):  # noqa: F811
    """A registry's own export uploaded again: every household registered as it gives it, its members who
    left not imported. Nothing was written: the page says so, not "imported" over "imported as usual"."""
    cadre = signed_in("cadre")
    a = ids(15, 3)
    rows = [("WH-101", "王大", a[0], "户主", "健康", "因病", "是"), ("WH-101", "李二", a[1], "配偶", "健康", "因病", "是")]
    headers = (*HEADERS, "在户")
    first = post(cadre, "名单.csv", csv_bytes(rows, "utf-8-sig", headers), village=VILLAGE)
    assert first.status_code == 200 and "<h2>已导入</h2>" in first.text, first.text
    left = [*rows, ("WH-101", "王老", a[2], "父母", "健康", "因病", "否")]
    again = post(cadre, "名单-核对.csv", csv_bytes(left, "utf-8-sig", headers), village=VILLAGE)
    assert again.status_code == 200 and 'data-exit="0"' in again.text and "都已在本系统登记" in again.text
    assert "<h2>已核对：没有写入任何内容</h2>" in again.text and "<h2>已导入</h2>" not in again.text
    assert "请留意（本次未作任何改动）" in again.text and "已照常导入" not in again.text
    assert "未导入 1 名已不在户的成员" in again.text
    cadre.get("/lang/en?next=/imports")
    english = post(cadre, "list-check.csv", csv_bytes(left, "utf-8-sig", headers), village=VILLAGE)
    assert "<h2>Checked: nothing was written</h2>" in english.text, english.text
