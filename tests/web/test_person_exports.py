"""A person's steps and responsibilities taken out whole (stop 47): an inspector building a case file
against a cadre read their trace a page of 50 at a time and had no way to take every row with them. Now
the trace's page links a CSV (UTF-8 with a BOM, streamed) and an Excel workbook of each, the API answers
the same files, and `export steps|responsibilities --person CODE` writes them: every row within the
reader's jurisdiction, oldest first, written by the exports' own writer (labels in the reader's words,
a formula written as text), each download recorded in the activity log."""
from __future__ import annotations

import csv
import io
import re
from html import unescape

from openpyxl import load_workbook
from sqlalchemy import update

from engine.adapters import tables as t
from engine.reads.oversight import activity
from engine.reads.trace import Page, person_trace
from tests.test_accountability import cli
from tests.test_dossier import three_exits
from tests.web.test_person_pages import busy, signed_cases


def rows_of(answer) -> list[list[str]]:
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith("\ufeff".encode())          # a BOM: Excel in China reads it as UTF-8
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


def test_the_person_page_links_every_step_of_theirs_as_csv_and_excel_within_the_readers_jurisdiction(
        world, world_clients, tmp_path, monkeypatch):
    monkeypatch.setattr("engine.reads.trace.ROWS_PAGE", 2)       # the page shows 2: the file has all 5
    ours, far = busy(world)
    with world.app.transaction() as conn:     # a reason a spreadsheet would run as a formula
        conn.execute(update(t.steps).where(t.steps.c.case_id == ours[0]).values(reason="=HYPERLINK(\"x\")"))
    page, _ = world_clients
    inspector = page("insp")
    html = inspector.get("/inspect/trace/person/vs").text
    links = re.search(r'<p class="exports noprint" id="steps-downloads">([^<]*)<a href="([^"]+)"[^>]*>Excel</a>'
                      r' · <a href="([^"]+)"', html)
    assert links and "5" in links.group(1)          # all 5, though the page shows 2
    xlsx, csv_link = unescape(links.group(2)), unescape(links.group(3))
    assert csv_link == "/inspect/trace/person/vs/steps.csv" and xlsx == "/inspect/trace/person/vs/steps.xlsx"
    assert 'href="/inspect/trace/person/vs/responsibilities.csv"' not in html or "responsibilities-downloads" in html
    answer = inspector.get(csv_link)
    assert "attachment" in answer.headers["content-disposition"] and "vs" in answer.headers["content-disposition"]
    rows = rows_of(answer)
    header, body = rows[0], rows[1:]
    assert "案件编号" in header and "办理人" in header and "程序" in header
    at = header.index("案件编号")
    assert [int(r[at]) for r in body] == signed_cases(world, ours)[::-1]        # every one, oldest first
    assert not {int(r[at]) for r in body} & set(far)                          # nothing of the next county's
    assert "'=HYPERLINK(\"x\")" in [r[header.index("理由")] for r in body]   # written as text
    assert {r[header.index("程序")] for r in body} == {"贫困识别"}
    book = inspector.get(xlsx)
    assert book.status_code == 200
    (tmp_path / "steps.xlsx").write_bytes(book.content)
    sheet = load_workbook(tmp_path / "steps.xlsx", read_only=True).active
    assert len(list(sheet.iter_rows(min_row=2))) == 5
    # the next county's inspector: its 2 steps only
    theirs = rows_of(page("insp_s").get(csv_link))
    assert sorted(int(r[at]) for r in theirs[1:]) == sorted(far)
    # recorded as taken, with the person; refused as the page is to others and for others
    taken = [e for e in activity(world.app, world["insp"], action="exported")["events"]]
    assert any(dict(e["detail"]).get("person") == "vs" and dict(e["detail"]).get("table") == "steps"
               for e in taken)
    assert page("vs").get(csv_link).status_code == 403                   # a cadre: not the inspector's
    assert inspector.get("/inspect/trace/person/nobody/steps.csv").status_code == 404
    assert inspector.get("/inspect/trace/person/vs/cases.csv").status_code == 404
    assert inspector.get("/inspect/trace/person/vs/steps.pdf").status_code == 404


def test_responsibilities_by_the_api_and_the_command_line_with_their_basis_in_words(world, world_clients, tmp_path):
    three_exits(world)
    everything = person_trace(world.app, world["insp"], "ch", responsibilities=Page(limit=1000))["responsibilities"]
    _, api = world_clients
    rows = rows_of(api("insp", "en").get("/api/v1/trace/persons/ch/responsibilities.csv"))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["case", "case title"] and "responsibility" in header and "basis" in header
    assert len(body) == len(everything) > 3
    assert [int(r[0]) for r in body] == [r["case_id"] for r in everything][::-1]      # oldest first
    assert "main leadership responsibility" in {r[header.index("responsibility")] for r in body}
    assert api("insp").get("/api/v1/trace/persons/nobody/responsibilities.csv").status_code == 404
    # the command line: the same rows, in a file; a table no person has refused in words
    out = tmp_path / "ch.csv"
    done = cli(world, "insp", "export", "responsibilities", "--person", "ch", "--csv", str(out))
    assert done.code == 0, done.err
    written = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert len(written) - 1 == len(everything) and "责任依据" in written[0]
    assert "任职" in {r[written[0].index("责任依据")] for r in written[1:]}
    refused = cli(world, "insp", "export", "cases", "--person", "ch", "--csv", str(tmp_path / "c.csv"), lang="en")
    assert refused.code != 0 and "only steps and responsibilities can be exported for one person, not Cases" in refused.err
    assert "Traceback" not in refused.err and not (tmp_path / "c.csv").exists()


def test_the_command_lines_trace_of_a_person_names_the_export_of_every_row(world, monkeypatch):
    monkeypatch.setattr("engine.reads.trace.ROWS_PAGE", 2)
    busy(world)
    text = cli(world, "insp", "trace", "--person", "vs")
    assert text.code == 0, text.err
    assert ("全部导出为表格：`jingzhun export steps --person vs --xlsx 文件名.xlsx`，"
            "或网页 /inspect/trace/person/vs/steps.xlsx") in text.out
