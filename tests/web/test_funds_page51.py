"""The supervisors' page of project funds (/supervise/funds): the county's, a township's and each
project's figures as of a day, what of the disbursed was typed in after that day (补录), the downloads
(recorded as taken out), refusals of a day that is not one, and the reader's jurisdiction only."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from tests.helpers.projects import add_project, enter_library, fund, households, pay
from tests.test_project_figures import run
from tests.world import TOWNSHIP, World


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style).*?</\1>", "", html)))


def _project_paid_late(world: World) -> int:
    """A project of 300,000 allocated: 90,000 paid on 10 May, 40,000 on 1 August, and on 1 August a
    payment of 20,000 dated 1 June typed in (补录): late for any day from 1 June to 31 July."""
    beneficiaries = households(world)
    a = add_project(world, beneficiaries)
    enter_library(world, a)
    fund(world, a)
    pay(world, a, "90000", on=date(2019, 5, 10))
    pay(world, a, "40000", on=date(2019, 8, 1))
    pay(world, a, "20000", kind="beneficiary", payee=str(beneficiaries[0]), on=date(2019, 6, 1))
    assert world.today() == date(2019, 8, 1)
    return a


def test_a_past_day_shows_what_was_entered_later_apart_and_the_download_is_recorded(world, world_clients):
    case = _project_paid_late(world)
    world.on(date(2019, 8, 20))
    page, _ = world_clients
    director = page("cd")
    before = text_of(director.get("/supervise/funds?as_of=2019-07-15").text)
    assert "截至 2019-07-15" in before
    row = re.search(rf"洋塘村脐橙基地 #{case} (.*?)(?= 洋塘村脐橙基地|$)", before).group(1)
    assert "110,000.00" in row and "20,000.00" in row, row        # paid by then; of it, typed in later
    assert "2019-07-15 当日系统中已录入的支出为 90,000.00 元；另有 20,000.00 元" in before
    assert "其中事后补录" in before
    # today's figures: everything paid, nothing said late (nothing can be typed in after today)
    now = text_of(director.get("/supervise/funds").text)
    assert "150,000.00" in now and "50.00%" in now and "其中事后补录" not in now
    # before the late payment's own date, nothing of it counts
    may = text_of(director.get("/supervise/funds?as_of=2019-05-31").text)
    assert "90,000.00" in may and "没有事后补录" in may
    # in English
    director.get("/lang/en?next=/supervise")
    english = text_of(director.get("/supervise/funds?as_of=2019-07-15").text)
    assert "On 2019-07-15 the system held 90,000.00 yuan of payments; another 20,000.00 yuan" in english
    director.get("/lang/zh?next=/supervise")
    # the download: every project, as of the day, with BOM, recorded as taken out
    got = director.get("/supervise/funds.csv?as_of=2019-07-15")
    assert got.status_code == 200 and got.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    header, line = rows[0], next(r for r in rows[1:] if r and r[0] == str(case))
    assert line[header.index("已支出（元）")] == "110000.00" and line[header.index("其中事后补录")] == "20000.00"
    assert line[header.index("支出进度")] == "36.67%"
    with world.app.engine.connect() as conn:
        recorded = conn.execute(select(t.audit_events.c.detail).where(
            t.audit_events.c.action == "exported").order_by(t.audit_events.c.seq.desc()).limit(1)).scalar()
    assert recorded["table"] == "funds" and recorded["as_of"] == "2019-07-15", recorded
    log = text_of(page("insp").get("/inspect/activity").text)
    assert "项目资金" in log and "截至日期：2019-07-15" in log, log[:2000]
    workbook = director.get("/supervise/funds.xlsx?as_of=2019-07-15")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"


def test_a_township_page_lists_its_projects_and_leads_back_up(world, world_clients):
    case = _project_paid_late(world)
    page, _ = world_clients
    county = text_of(page("cd").get("/supervise/funds").text)
    assert "梅江镇" in county or TOWNSHIP in county
    township = page("cd").get(f"/supervise/funds?region={TOWNSHIP}")
    assert f'data-case="{case}"' in township.text and 'id="funds-up"' in township.text
    own = page("th").get("/supervise/funds")           # the township head: their township, no way up
    assert f'data-case="{case}"' in own.text and 'id="funds-up"' not in own.text


def test_a_day_that_is_not_one_is_refused_in_the_readers_words_and_others_regions_are_not_read(world, world_clients):
    case = _project_paid_late(world)
    page, _ = world_clients
    director = page("cd")
    bad = director.get("/supervise/funds?as_of=15/07/2019")
    assert bad.status_code == 400 and "请按 年-月-日 填写" in text_of(bad.text) and "Traceback" not in bad.text
    # a day written as cadres write it elsewhere is the same day
    assert text_of(director.get("/supervise/funds?as_of=2019/7/15").text) == text_of(
        director.get("/supervise/funds?as_of=2019-07-15").text)
    future = director.get("/supervise/funds?as_of=2030-01-01")
    assert future.status_code == 400 and "还没到" in text_of(future.text)
    assert director.get("/supervise/funds.pdf").status_code == 404
    # the other township's staff: not this township's projects, not its figures
    other = page("ts_other")
    assert other.get(f"/supervise/funds?region={TOWNSHIP}").status_code in (403, 404)
    assert f'data-case="{case}"' not in other.get("/supervise/funds").text
    # a village cadre supervises nothing
    assert page("vs").get("/supervise/funds").status_code == 403


def test_the_command_line_says_the_same_late_entries(world):
    _project_paid_late(world)
    code, out, err = run(world, "cd", "funds", "report", "--as-of", "2019-07-15")
    assert code == 0, err
    assert "其中 20,000.00 元付款日期在 2019-07-15 之前、但在此之后才补录" in out
    assert "当日系统中已录入的支出为 90,000.00 元" in out
    code, out, err = run(world, "cd", "funds", "report")
    assert code == 0 and "补录" not in out
