"""Downloads of a jurisdiction's tables from the web pages: the same cells as the CLI's `export`,
CSV streamed and Excel from a private temporary file that is removed once sent; a region outside
the reader's jurisdiction is a 404."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from entrypoints.cli.main import main


def cadres_village(core) -> str:
    with core.engine.connect() as conn:
        return conn.execute(select(t.role_assignments.c.region_code).join(
            t.persons, t.persons.c.id == t.role_assignments.c.person_id).where(
            t.persons.c.code == "v01_secretary")).scalar()


def test_a_village_s_members_download_is_the_cli_s_export_of_it(signed_in, core, demo_home, tmp_path, monkeypatch,
                                                                 capsys):
    village = cadres_village(core)
    client = signed_in("cadre")
    page = client.get(f"/villages/{village}/list")
    assert f'href="/regions/{village}/export/members.csv"' in page.text and "导出表格" in page.text
    answer = client.get(f"/regions/{village}/export/members.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"] and ".csv" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    settings, _ = demo_home
    tokens = dict(line.split(",", 1) for line in (settings.home / "demo-tokens.csv").read_text().split())
    monkeypatch.setenv("JINGZHUN_TOKEN", tokens["v01_secretary"])
    monkeypatch.delenv("JINGZHUN_DB", raising=False)
    out = tmp_path / "成员.csv"
    assert main(["--home", str(settings.home), "--as", "v01_secretary", "export", "members", "--region", village,
                 "--csv", str(out)]) == 0
    capsys.readouterr()
    assert answer.content == out.read_bytes()
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:9] == ["案件编号", "乡镇代码", "乡（镇）", "村编码", "区域名称", "户编号", "阶段", "姓名", "身份证号"] \
        and len(rows) > 2
    assert {r[4] for r in rows[1:]} == {"洋塘村"}            # the village by its name beside its code, after its township


@pytest.mark.parametrize("table", ["cases", "steps", "deadlines"])
def test_each_table_comes_as_a_workbook_and_its_temporary_file_is_removed(signed_in, demo_home, table):
    from openpyxl import load_workbook
    work = demo_home[0].home / "work"
    before = set(work.glob("export-*"))
    client = signed_in("county")
    answer = client.get(f"/export/{table}.xlsx")
    assert answer.status_code == 200 and answer.content[:2] == b"PK"
    book = load_workbook(io.BytesIO(answer.content), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows and all(isinstance(h, str) and h for h in rows[0])
    assert any(isinstance(v, datetime) for v in rows[1])      # its dates Excel's (登记时间, 办理日期, 起算日)
    as_csv = list(csv.reader(io.StringIO(client.get(f"/export/{table}.csv").content.decode("utf-8-sig"))))
    assert len(rows) == len(as_csv) > 1
    assert set(work.glob("export-*")) == before


def test_a_region_outside_the_jurisdiction_or_an_unknown_table_is_not_found(signed_in, core):
    village = cadres_village(core)
    with core.engine.connect() as conn:
        other = conn.execute(select(t.cases.c.region_code).where(~t.cases.c.region_code.startswith(village[:9]),
                                                                 t.cases.c.kind == "household").limit(1)).scalar()
    cadre = signed_in("cadre")
    outside = cadre.get(f"/regions/{other}/export/members.csv")
    assert outside.status_code == 404 and "\ufeff" not in outside.text      # no rows, only the page
    unknown = cadre.get("/export/passwords.csv")
    assert unknown.status_code == 404 and "没有名为「passwords.csv」的导出表格" in unknown.text
    assert cadre.get(f"/regions/{village}/export/members.pdf").status_code == 404


def test_only_the_reader_s_jurisdiction_is_exported(signed_in, core):
    village = cadres_village(core)
    rows = list(csv.reader(io.StringIO(signed_in("cadre").get("/export/cases.csv").content.decode("utf-8-sig"))))
    region = rows[0].index("区域代码")
    assert rows[1:] and {r[region] for r in rows[1:]} == {"\t" + village}      # a long number after a tab


def test_a_township_downloads_its_open_and_overdue_deadlines_by_household_and_village(signed_in, core):
    """The deadlines' download was every deadline ever (6,543 of a township's 6,600 rows 已办结), with no
    household or village name: the page offers the open and the overdue ones alone, each row naming
    its case and village, and the activity log says which were taken."""
    from tests.web.test_supervisor import T1, overdue_in_db
    client = signed_in("supervisor")
    page = client.get("/supervise").text
    assert 'href="/export/deadlines.csv?status=overdue"' in page and "时限（已逾期）" in page
    assert 'href="/export/deadlines.xlsx?status=open"' in page and "时限（未办结（含已逾期））" in page
    every = list(csv.reader(io.StringIO(client.get("/export/deadlines.csv").content.decode("utf-8-sig"))))
    answer = client.get("/export/deadlines.csv", params={"status": "overdue"})
    assert answer.status_code == 200 and "逾期时限" in unquote(answer.headers["content-disposition"])
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == every[0] and rows[0][:5] == ["案件编号", "案件名称", "乡镇代码", "乡（镇）", "区域名称"]
    status = rows[0].index("状态")
    assert len(rows) - 1 == len(overdue_in_db(core, T1[:9] + "%")) < len(every) - 1
    assert {r[status] for r in rows[1:]} == {"已逾期"} and all(r[1] and r[4].endswith("村") and r[3] for r in rows[1:])
    refused = client.get("/export/members.csv", params={"status": "open"})
    assert refused.status_code == 400 and "家庭成员不能" in refused.text and "members</code>" not in refused.text
    late = client.get("/export/deadlines.csv", params={"status": "late"})
    assert late.status_code == 400 and "已逾期" in late.text and "overdue" not in late.text     # the choices in words
    log = signed_in("inspector").get("/inspect/activity?action=exported").text
    assert "时限状态：已逾期" in log.split('<tr data-seq=')[1]


@pytest.mark.browser
def test_a_cadre_downloads_the_village_s_members_on_a_phone(phone, demo_home, core, tmp_path):
    from openpyxl import load_workbook
    _, sign_ins = demo_home
    village = cadres_village(core)
    phone.sign_in(*sign_ins["cadre"])
    phone.go(f"/villages/{village}/list")
    with phone.page.expect_download() as download:
        phone.page.click("#exports li[data-table=members] a:text('Excel')")
    saved = tmp_path / "members.xlsx"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".xlsx") and "家庭成员" in download.value.suggested_filename
    rows = list(load_workbook(saved, read_only=True).active.iter_rows(values_only=True))
    assert rows[0][7] == "姓名" and rows[0][2] == "乡（镇）" and len(rows) > 2


def activity_rows(page: str) -> list[tuple[int, str]]:
    """(place in the chain, action) of each row of the activity log's table."""
    import re
    return [(int(place), action) for action, place in re.findall(
        r'<tr data-seq="\d+" data-action="([a-z_]+)"><td[^>]*>(\d+)</td>', page)]


def test_every_download_is_in_the_inspector_s_activity_log(signed_in, core):
    village = cadres_village(core)
    assert signed_in("cadre").get(f"/regions/{village}/export/members.csv").status_code == 200
    inspector = signed_in("inspector")
    log = inspector.get("/inspect/activity?action=exported")
    assert log.status_code == 200 and 'href="/inspect/activity" aria-current="page"' in log.text
    newest = log.text.split('<tr data-seq=')[1]
    assert "洋塘村支书" in newest and "表：家庭成员" in newest and "格式：csv" in newest and f"范围：{village}" in newest
    assert {a for _, a in activity_rows(log.text)} == {"exported"}
    assert signed_in("cadre").get("/inspect/activity").status_code == 403


def test_times_are_shown_on_the_office_s_clock_not_utc(signed_in, core):
    """A county in China reads 23:35 for what was done at 23:35 there (stored as 15:35 UTC)."""
    from datetime import timezone
    from zoneinfo import ZoneInfo
    zone = ZoneInfo(core.config.deadlines.timezone)
    assert zone.key == "Asia/Shanghai"
    before = core.clock.now()
    assert signed_in("cadre").get(f"/regions/{cadres_village(core)}/export/cases.csv").status_code == 200
    after = core.clock.now()
    log = signed_in("inspector").get("/inspect/activity?action=exported")
    newest = log.text.split('<tr data-seq=')[1].split("</tr>")[0]
    shown = {m.astimezone(zone).strftime("%Y-%m-%d %H:%M") for m in (before, after)}
    in_utc = {m.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") for m in (before, after)}
    assert any(f">{s}<" in newest for s in shown), newest
    assert not any(f">{s}<" in newest for s in in_utc)
    assert "记录时间</th>" in log.text and "UTC" not in log.text


def test_the_activity_log_is_read_a_page_at_a_time(signed_in, monkeypatch):
    from engine.reads import oversight
    monkeypatch.setattr(oversight, "ACTIVITY_PAGE", 10)
    inspector = signed_in("inspector")
    first = inspector.get("/inspect/activity")
    rows = activity_rows(first.text)
    assert len(rows) == 10 and [p for p, _ in rows] == sorted((p for p, _ in rows), reverse=True)
    import re
    older = re.search(r'<a id="older" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    second = inspector.get(older)
    assert activity_rows(second.text)[0][0] < rows[-1][0] and "← 最新的记录" in second.text
    chosen = rows[0][1]
    only = activity_rows(inspector.get(f"/inspect/activity?action={chosen}").text)
    assert only and {a for _, a in only} == {chosen}
    nobody = inspector.get("/inspect/activity?person=nobody-such")
    assert nobody.status_code == 400 and activity_rows(nobody.text) == [] and "人员不存在：nobody-such" in nobody.text
    assert 'id="activity-filter"' in nobody.text and 'value="nobody-such"' in nobody.text     # the form, as filled in
    others = inspector.get("/inspect/activity?person=v01_first&action=exported")    # nothing of the kind
    assert others.status_code == 200 and "辖区内没有这样的记录" in others.text
    assert inspector.get("/inspect/activity?before=0").status_code == 400      # said as a page, not a 422 document


def test_a_post_in_the_activity_log_is_named_in_the_reader_s_language(signed_in):
    added = signed_in("inspector").get("/inspect/activity?action=person_added").text
    rows = added.split('<tr data-seq=')[1:]
    assert rows and all("pairing_cadre" not in r and "village_secretary" not in r for r in rows)
    assert any("角色：帮扶责任人/" in r for r in rows)


def test_the_county_director_downloads_one_township_s_tables_where_the_township_is_shown(signed_in):
    """A county's reader finds each township's tables on the supervision page, and a township's on its
    overdue and households pages; each link downloads that township's rows alone. A township's own
    reader is offered no township list (their tables are the township's already)."""
    import re
    client = signed_in("county")
    home = client.get("/supervise").text
    townships = re.findall(r'<details class="township-exports" data-township="(\d{12})"><summary>([^<]+)</summary>', home)
    assert [code for code, _ in townships] == ["360730100000", "360730101000"], townships
    assert '"/regions/360730101000/export/members.xlsx"' in home and "各乡镇的表格" in home
    cases = client.get("/regions/360730101000/export/cases.csv")
    assert cases.status_code == 200
    rows = list(csv.reader(io.StringIO(cases.content.decode("utf-8-sig"))))
    regions = {row[2].strip() for row in rows[1:]}             # 区域代码 (a tab before it keeps it whole in Excel)
    assert regions and all(code.startswith("360730101") for code in regions), regions
    for path in ("/supervise/overdue?township=360730100000", "/supervise/cases?township=360730100000"):
        page = client.get(path).text
        assert '"/regions/360730100000/export/deadlines.csv?status=overdue"' in page, path
        assert "导出表格（梅江镇）" in page, path
    assert "township-exports" not in signed_in("supervisor").get("/supervise").text


def test_a_township_downloads_the_evidence_its_villages_entered(signed_in, core):
    """The township could export cases, members, steps and deadlines but not the incomes and checks the
    villages entered: the evidence comes an item a row, of the township's villages only, in words (of
    one type, a column a field, replaced items too with ?all=1), and the activity log says what was taken."""
    from tests.web.test_supervisor import T1
    client = signed_in("supervisor")
    page = client.get("/supervise").text
    assert 'href="/export/evidence.csv"' in page and 'href="/export/evidence.xlsx"' in page and "材料：" in page
    rows = list(csv.reader(io.StringIO(client.get("/export/evidence.csv").content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:9] == ["材料编号", "案件编号", "区域代码", "区域名称", "户编号", "案件名称", "户主身份证号",
                          "材料类型", "材料内容"]
    region, kind, fields = header.index("区域代码"), header.index("材料类型"), header.index("材料内容")
    with core.engine.connect() as conn:
        in_force = conn.execute(select(func.count()).select_from(t.evidence).join(
            t.cases, t.cases.c.id == t.evidence.c.case_id).where(
            t.cases.c.region_code.startswith(T1[:9]), t.evidence.c.superseded_by.is_(None))).scalar()
        incomes = conn.execute(select(func.count()).select_from(t.evidence).join(
            t.cases, t.cases.c.id == t.evidence.c.case_id).where(
            t.cases.c.region_code.startswith(T1[:9]), t.evidence.c.type == "income_check")).scalar()
    assert len(rows) - 1 == in_force and all(r[region].strip().startswith(T1[:9]) for r in rows[1:])
    assert "收支核查表" in {r[kind] for r in rows[1:]} and any(r[fields].startswith("年度：") for r in rows[1:])
    answer = client.get("/export/evidence.xlsx", params={"type": "income_check", "all": "1"})
    assert answer.status_code == 200 and "收支核查表（含已替换）" in unquote(answer.headers["content-disposition"])
    from openpyxl import load_workbook
    typed = list(load_workbook(io.BytesIO(answer.content), read_only=True).active.iter_rows(values_only=True))
    assert {"年度", "家庭纯收入", "现行有效"} <= set(typed[0]) and "材料内容" not in typed[0]
    assert len(typed) - 1 == incomes
    refused = client.get("/export/cases.csv", params={"all": "1"})
    assert refused.status_code == 400 and "只有材料可以" in refused.text and "命令行" not in refused.text
    assert client.get("/regions/360730101000/export/evidence.csv").status_code == 404      # another township
    log = signed_in("inspector").get("/inspect/activity?action=exported").text
    newest = log.split('<tr data-seq=')[1]
    assert "表：材料" in newest and "材料类型：收支核查表" in newest and "方式：含已被替换的材料" in newest


def test_the_county_s_regions_and_people_are_downloaded_as_region_import_and_person_import_read_them(signed_in):
    """A county moving to another home takes its regions and its people with their posts from the same
    list as its other tables (a user audit of moving a registry, item 7): the columns the importers
    read, nothing secret."""
    client = signed_in("county")
    page = client.get("/supervise").text
    assert '"/export/regions.xlsx"' in page and '"/export/persons.csv"' in page and "人员及岗位" in page
    regions = client.get("/export/regions.csv")
    assert regions.status_code == 200
    rows = list(csv.reader(io.StringIO(regions.content.decode("utf-8-sig"))))
    assert rows[0] == ["区划代码", "名称"]
    assert ["360730000000", "宁都县"] in [[c.strip() for c in r] for r in rows]     # a code after a tab: kept whole
    persons = client.get("/export/persons.csv")
    rows = list(csv.reader(io.StringIO(persons.content.decode("utf-8-sig"))))
    assert rows[0] == ["人员编号", "姓名", "岗位", "区域", "通知渠道", "提醒语言"]
    posts = {(r[0], r[2]) for r in rows[1:]}
    assert {("v01_secretary", "村党支部书记"), ("county_director", "县扶贫办主任")} <= posts, posts
