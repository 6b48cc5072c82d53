"""The assessment in a real browser (Debian's Chromium): the HTML report of `jingzhun report --html`
opened from its file with the network cut off renders its five inline-SVG charts with a bar or a
point per figure and no console error; the supervisor's assessment page draws the same charts, and
is not for a village cadre."""
from __future__ import annotations

import re
import stat

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.assessment import assessment
from engine.services.org import load_actor
from engine.adapters.private_files import write_private
from entrypoints.report_html import render
from entrypoints.report_html.charts import MAX_SHOWN, ROW, WIDTH
from tests.web.conftest import SHOTS

pytestmark = pytest.mark.browser


def _actor(core, code: str):
    with core.engine.connect() as conn:
        return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).first())


@pytest.fixture(scope="module")
def report(core, demo_home):
    """The demo county's assessment of the demo's year, as its county director reads it."""
    code, _ = demo_home[1]["county"]
    return assessment(core, _actor(core, code), None, core.clock.today().year)


def _expected_bars(data) -> dict[str, int]:
    return {"incidence": sum(1 for v in data["villages"] if v["recorded"]),
            "disbursement": sum(1 for c in data["counties"] if c["funds"]["projects"]),
            "overdue": len(data["overdue"]["unit"]), "ranking": len(data["counties"])}


def _open_offline(browser, path, width: int = 1280, height: int = 800):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if not r.url.startswith("file:") else None)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page, errors, fetched


def _months_drawn(report) -> int:
    """The exit curve's points: the months of the year up to the day it is read as of (the demo's year is
    read as it stands: its months to come are not drawn)."""
    return int(report["as_of"][5:7]) if report["as_of"][:4] == str(report["period"]) else 12


@pytest.mark.parametrize("lang,title", [("zh", "考核报告"), ("en", "Assessment report")])
def test_the_html_report_renders_its_charts_offline(browser, core, report, tmp_path, lang, title):
    path = write_private(tmp_path / f"report-{lang}.html", render(core.config, report, lang))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    context, page, errors, fetched = _open_offline(browser, path)
    try:
        assert title in page.locator("h1").inner_text()
        assert page.locator("svg.svg-chart").count() == 5
        assert page.locator('svg[data-chart="exits"] circle.point').count() == _months_drawn(report)
        for chart, bars in _expected_bars(report).items():
            assert page.locator(f'svg[data-chart="{chart}"] rect.bar').count() == bars, chart
        assert _expected_bars(report)["ranking"] >= 1 and _expected_bars(report)["incidence"] >= 0
        box = page.locator('svg[data-chart="ranking"]').bounding_box()
        assert box and box["width"] > 300 and box["height"] > 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"assessment-report-{lang}.png"), full_page=True)
        assert (SHOTS / f"assessment-report-{lang}.png").stat().st_size > 0
    finally:
        context.close()
    assert errors == [] and fetched == []


def test_the_report_fits_a_phone(browser, core, report, tmp_path):
    path = write_private(tmp_path / "report.html", render(core.config, report, "zh"))
    context, page, errors, _ = _open_offline(browser, path, 360, 740)
    try:
        widths = page.evaluate(
            "[...document.querySelectorAll('svg.svg-chart')].map(s => s.getBoundingClientRect().width)")
        assert widths and max(widths) <= 360
        assert min(widths) / WIDTH * 12 >= 10       # a bar's label (12 units) readable: 10 px or more
    finally:
        context.close()
    assert errors == []


def test_the_supervisor_opens_the_assessment_and_changes_the_year(desktop, demo_home, report):
    desktop.sign_in(*demo_home[1]["county"])
    page = desktop.go("/supervise")
    page.click('nav.subnav a[href="/supervise/assessment"]')
    page.wait_for_url(re.compile(r"/supervise/assessment$"))
    assert "考核报告" in page.locator("h1").inner_text()
    assert page.locator("svg.svg-chart").count() == 5
    assert page.locator('svg[data-chart="exits"] circle.point').count() == _months_drawn(report)
    for chart, bars in _expected_bars(report).items():
        assert page.locator(f'svg[data-chart="{chart}"] rect.bar').count() == bars, chart
    for chart, bars in _expected_bars(report).items():     # drawn at its own aspect, not stretched by a page's CSS
        box = page.locator(f'svg[data-chart="{chart}"]').bounding_box()
        label_row = 16 if chart == "incidence" else 0       # the threshold line's label under the bars
        height = (ROW * bars + 8 + label_row) if bars else 40
        assert abs(box["height"] - box["width"] * height / WIDTH) < 3, chart
        assert box["width"] <= MAX_SHOWN      # its text at most about 1.3 times its size on a wide screen
    desktop.shot("supervisor-assessment")
    page.fill("input[name=year]", str(report["period"] - 1))
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(rf"year={report['period'] - 1}"))
    assert f"{report['period'] - 1}" in page.locator("p.hint").first.inner_text()
    assert page.locator('svg[data-chart="exits"] circle.point').count() == 12     # a past year: every month


def test_the_supervisor_downloads_the_assessment_as_a_workbook_and_as_an_offline_page(phone, demo_home, report,
                                                                                     tmp_path):
    """On a phone, the year shown is the year downloaded: its tables as a workbook whose sheets are
    named in the reader's language and whose figures are numbers; the page with its charts as one file."""
    import openpyxl
    phone.sign_in(*demo_home[1]["county"])
    page = phone.go(f"/supervise/assessment?year={report['period']}")
    phone.shot("supervisor-assessment-phone")
    with page.expect_download() as download:
        page.click("#assess-downloads a[href^='/supervise/assessment.xlsx']")
    assert download.value.suggested_filename == f"考核报告-{report['region']}-{report['period']}.xlsx"
    saved = tmp_path / "assessment.xlsx"
    download.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    assert book.sheetnames[:4] == ["说明", "各阶段户数和人数", "退出进度", "各村贫困发生率"]
    assert dict(book["说明"].iter_rows(min_row=2, values_only=True))["年度"] == report["period"]
    counties = book["各县得分与排名"]
    county = report["counties"][0]
    assert counties.freeze_panes == "A2" and counties["B2"].value == county["name"]
    assert counties["C2"].value == county["score"]                     # a number, as the page shows it
    with page.expect_download() as download:
        page.click("#assess-downloads a[href^='/supervise/assessment.html']")
    saved = tmp_path / "assessment.html"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert text.count("<svg") == 5 and "<script" not in text and report["name"] in text


def test_the_assessment_page_fits_a_phone(phone, demo_home):
    phone.sign_in(*demo_home[1]["supervisor"])
    page = phone.go("/supervise/assessment")
    # a township's head: its exits, villages and overdue work; no county to score or rank
    assert page.locator("svg.svg-chart").count() == 3 and page.locator('svg[data-chart="ranking"]').count() == 0
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    widths = page.evaluate("[...document.querySelectorAll('svg.svg-chart')].map(s => s.getBoundingClientRect().width)")
    assert min(widths) / WIDTH * 12 >= 10       # drawn 640 units wide, its labels came out at 6 px
    phone.shot("supervisor-assessment-township-phone")


def test_the_assessment_page_is_for_supervisors_not_cadres(signed_in):
    assert signed_in("supervisor").get("/supervise/assessment").status_code == 200
    assert signed_in("inspector").get("/supervise/assessment").status_code == 200
    assert signed_in("cadre").get("/supervise/assessment").status_code == 403
    for download in ("/supervise/assessment.xlsx", "/supervise/assessment.html"):
        assert signed_in("cadre").get(download).status_code == 403
        assert signed_in("inspector").get(download).status_code == 200
    refused = signed_in("supervisor").get("/supervise/assessment.xlsx?year=abc")
    assert refused.status_code == 400 and "Traceback" not in refused.text
