"""How many A4 sheets each registered household's handbook takes when printed (it is pasted on the
household's wall: it should take one).

    jingzhun --home /tmp/demo demo
    python bench/handbook_sheets.py --home /tmp/demo [--lang zh|en] [--village CODE] [--as county_director]

Each village's handbooks are rendered as `household handbook --village` writes them (the web's page is the
same template), printed to A4 by Debian's Chromium as a browser's print button does (Playwright's
`page.pdf(format="A4")` after the print media is emulated), and the sheets read with pypdf: a household's
sheets are those from the one holding its first part's heading up to the next household's. Prints, per
village and language, the households, the sheets, those over one sheet (their case numbers) and the most.
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
from engine.reads.handbook import REGISTERED, render_handbooks, village_handbooks  # noqa: E402
from engine.services.org import authenticate  # noqa: E402
from entrypoints.bootstrap import make_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def sheets_of(page, html: str, first_part: str) -> list[int]:
    """The sheets each book of `html` takes on A4, in order."""
    page.set_content(html, wait_until="load")
    page.emulate_media(media="print")
    texts = [p.extract_text() or "" for p in PdfReader(io.BytesIO(page.pdf(format="A4"))).pages]
    starts = [i for i, text in enumerate(texts) if first_part in text]
    return [end - start for start, end in zip(starts, starts[1:] + [len(texts)])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--lang", choices=("zh", "en"), action="append")
    parser.add_argument("--village", action="append")
    parser.add_argument("--as", dest="person", default="county_director")
    args = parser.parse_args()
    settings = Settings.from_env(args.home)
    clock = settings.home / "demo-clock"
    app = make_app(settings, clock=ShiftedClock(datetime.fromisoformat(clock.read_text())) if clock.exists() else None)
    tokens = dict(csv.reader(open(settings.home / "demo-tokens.csv")))
    actor = authenticate(app, args.person, tokens[args.person])
    with app.engine.connect() as conn:
        villages = args.village or conn.execute(select(t.cases.c.region_code).where(
            t.cases.c.kind == "household", t.cases.c.stage.in_(REGISTERED)).distinct().order_by(
            t.cases.c.region_code)).scalars().all()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        page = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]).new_page()
        for lang in args.lang or ("zh", "en"):
            first_part = None
            total = over = most = 0
            for code in villages:
                shown, books = village_handbooks(app, actor, code, lang)
                ids = []
                html = "".join(render_handbooks(app, (ids.append(b["id"]) or b for b in books), lang, village=shown))
                first_part = first_part or _first_part(html)
                counts = sheets_of(page, html, first_part)
                long = [case for case, n in zip(ids, counts) if n > 1]
                print(f"{lang} {code} households {len(ids)} sheets {sum(counts)} over one sheet {len(long)}"
                      f"{' ' + str(long[:20]) if long else ''}", flush=True)
                total, over, most = total + len(ids), over + len(long), max([most, *counts])
            print(f"{lang}: {total} households, {over} over one A4 sheet, at most {most} sheets", flush=True)
    app.close()
    return 0


def _first_part(html: str) -> str:
    """The first part's heading as the page gives it (the text of the book's first h2)."""
    import re
    from html import unescape
    return unescape(re.search(r"<h2>([^<]+)</h2>", html).group(1).strip())


if __name__ == "__main__":
    sys.exit(main())
