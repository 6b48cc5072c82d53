"""How many A4 sheets each printout takes and the smallest type on it (older cadres read them: nothing under
9 pt), printed by Debian's Chromium as a browser's print button does and the sheets counted with pypdf, as
bench/handbook_sheets.py does for the handbooks.

    jingzhun --home /tmp/demo demo
    python bench/printout_sheets.py --home /tmp/demo [--lang zh|en] [--limit 20]

The printouts: the exit confirmation (脱贫确认书) of the first `--limit` households being assisted, each
sample draw's visit sheet (抽查入户核查表), the dossier (`audit trace --html`) of the first `--limit`
households exited, and of the demo's pairing cadre and village secretary, and the assessment report. Prints,
per kind and language, how many were printed, their sheets (total, most) and the smallest type in pt.
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402
from sqlalchemy import select  # noqa: E402

from engine.adapters import tables as t  # noqa: E402
from engine.adapters.app import ShiftedClock  # noqa: E402
from engine.adapters.db import Settings  # noqa: E402
from engine.services.org import authenticate  # noqa: E402
from entrypoints.bootstrap import make_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# A browser's print button prints with its default margins (Chromium's: 0.4 in on each side) unless the
# page's @page rule sets its own; Playwright's page.pdf() has none unless told
BUTTON_MARGINS = {side: "0.4in" for side in ("top", "right", "bottom", "left")}
def printed(page, html: str, landscape: bool = False) -> tuple[int, float]:
    """The sheets `html` takes on A4 and its smallest type in pt, as on the paper (a page wider than the
    sheet is shrunk to fit by the browser: its type is read from the PDF, not from the page's style)."""
    page.set_content(html, wait_until="load")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", landscape=landscape, prefer_css_page_size=True, margin=BUTTON_MARGINS)
    return len(PdfReader(io.BytesIO(pdf)).pages), smallest_type(pdf)


def smallest_type(pdf: bytes) -> float:
    """The smallest type of any text on the PDF's sheets, in pt on the paper."""
    sizes = []

    def seen(text, cm, tm, font, size):
        if text.strip():
            a, b = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
            sizes.append(size * (a * a + b * b) ** .5)
    for sheet in PdfReader(io.BytesIO(pdf)).pages:
        sheet.extract_text(visitor_text=seen)
    return min(sizes)


def printouts(app, people, lang: str, limit: int):
    """(kind, html) of each printout measured."""
    from engine.reads.case_lists import region_names
    from engine.reads.handbook import exit_confirmation, render_confirmation, render_sheet
    from engine.reads.trace import case_trace, person_trace, render_html
    from engine.services.sampling import field_sheet
    with app.engine.connect() as conn:
        assisted = conn.execute(select(t.cases.c.id).where(t.cases.c.kind == "household", t.cases.c.stage == "assisted")
                                .order_by(t.cases.c.id).limit(limit)).scalars().all()
        exited = conn.execute(select(t.cases.c.id).where(t.cases.c.kind == "household",
                                                         t.cases.c.stage.in_(("exited", "consolidated")))
                              .order_by(t.cases.c.id).limit(limit)).scalars().all()
        draws = conn.execute(select(t.sample_draws.c.id).order_by(t.sample_draws.c.id)).scalars().all()
    for case in assisted:
        yield "exit confirmation", render_confirmation(app, exit_confirmation(app, people["county_director"], case, lang), lang)
    for draw in draws:
        sheet = field_sheet(app, people["inspector"], draw, lang)
        region = region_names(app, [sheet["region"]]).get(sheet["region"], sheet["region"])
        yield "visit sheet", render_sheet(app, sheet, region, lang)
    for case in exited:
        yield "case dossier", render_html(app, case_trace(app, people["inspector"], case, lang), lang, "trace_case.html")
    for code in ("v01_pc001", "t1_secretary"):
        yield "person dossier", render_html(app, person_trace(app, people["inspector"], code, lang), lang,
                                            "trace_person.html")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--lang", choices=("zh", "en"), action="append")
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()
    settings = Settings.from_env(args.home)
    clock = settings.home / "demo-clock"
    app = make_app(settings, clock=ShiftedClock(datetime.fromisoformat(clock.read_text())) if clock.exists() else None)
    tokens = dict(csv.reader(open(settings.home / "demo-tokens.csv")))
    people = {code: authenticate(app, code, tokens[code]) for code in ("county_director", "inspector")}
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        page = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]).new_page()
        for lang in args.lang or ("zh", "en"):
            seen: dict[str, list] = {}
            for kind, html in printouts(app, people, lang, args.limit):
                seen.setdefault(kind, []).append(printed(page, html, kind == "visit sheet"))
            for kind, rows in seen.items():
                sheets = [n for n, _ in rows]
                print(f"{lang} {kind}: {len(rows)} printed, {sum(sheets)} sheets, at most {max(sheets)}, "
                      f"sheets {sorted(sheets)}, smallest type {min(s for _, s in rows):.1f} pt", flush=True)
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
