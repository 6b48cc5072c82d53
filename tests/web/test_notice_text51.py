"""A notice's text wherever it is read whole: the printed notice (the page `/notices/{id}/print` and
`notice render --html`), `notice render` and `notice show`. The text posted on the board (in Chinese) is
the legal record: a reader in English gets the English wording and, after it, the posted text labelled
as such; `notice show` prints the notice's facts and then that same text (SQLite and PostgreSQL)."""
from __future__ import annotations

from tests.helpers.db_option import db_option
from tests.test_cli import jingzhun
from tests.web.test_notice_language50 import ENGLISH_FUNDS, funding_notice

POSTED_FUNDS = "资金合计：300,000.00 元"
POSTED_LABEL_EN = "The text posted on the board, in Chinese (the record kept)"
ENGLISH_CELL = "county budget 200,000.00 yuan"         # the printed notice's Funds allocated cell


def cli(world, *args: str, lang: str = "zh"):
    home = ["--home", world.app.settings.home, *db_option(world.app.engine.url.render_as_string(hide_password=False))]
    return jingzhun([*home, "--as", "insp", "--lang", lang, *args], token=world.tokens["insp"])


def test_the_english_printed_notice_carries_the_posted_chinese_text_labelled(world, world_clients, tmp_path):
    """Before: `/notices/{id}/print` in English printed the English wording only: the text that was on
    the village board, the record, was not on the paper the reader printed."""
    page, _api = world_clients
    notice, posted = funding_notice(world)
    client = page("insp")
    client.cookies.set("lang", "en")
    printed = client.get(f"/notices/{notice}/print").text
    assert ENGLISH_CELL in printed
    kept = printed[printed.index('id="notice-posted"'):]
    assert POSTED_LABEL_EN in kept and POSTED_FUNDS in kept and 'lang="zh-CN"' in kept
    assert printed.index(ENGLISH_CELL) < printed.index('id="notice-posted"')      # the wording first, the record after
    client.cookies.set("lang", "zh")
    chinese = client.get(f"/notices/{notice}/print").text
    assert "300,000.00 元" in chinese and 'id="notice-posted"' not in chinese       # in Chinese: the board, once
    # the printed notice from the command line alike
    written = tmp_path / "notice.html"
    assert cli(world, "notice", "render", str(notice), "--html", str(written), lang="en").code == 0
    html = written.read_text(encoding="utf-8")
    assert ENGLISH_CELL in html and POSTED_LABEL_EN in html and POSTED_FUNDS in html


def test_notice_render_in_english_prints_the_posted_text_after_the_english_words(world):
    notice, posted = funding_notice(world)
    english = cli(world, "notice", "render", str(notice), lang="en")
    assert english.code == 0, english.err
    words, _, kept = english.out.partition(POSTED_LABEL_EN)
    assert ENGLISH_FUNDS in words and POSTED_FUNDS not in words and kept.strip() == posted.strip()
    chinese = cli(world, "notice", "render", str(notice))
    assert chinese.out.strip() == posted.strip()                  # a Chinese reader: the posted text, once


def test_notice_show_prints_the_notice_s_facts_and_its_text(world):
    """Before: `notice show ID` printed its heading and case numbers but no text at all (only --json
    had it): a cadre checking from the command line what the board says could not read it."""
    notice, posted = funding_notice(world)
    english = cli(world, "notice", "show", str(notice), lang="en")
    assert english.code == 0, english.err
    facts, _, text = english.out.partition("\n\n")
    assert f"notice {notice}: funding and implementation" in facts
    rendered = cli(world, "notice", "render", str(notice), lang="en").out
    assert text.strip() == rendered.strip()                       # one rendering: `notice render`'s
    assert ENGLISH_FUNDS in text and POSTED_LABEL_EN in text and POSTED_FUNDS in text
    chinese = cli(world, "notice", "show", str(notice))
    assert chinese.code == 0 and f"公示 {notice}：资金下达与实施" in chinese.out
    assert chinese.out.count(POSTED_FUNDS) == 1 and posted.strip() in chinese.out   # the posted text, once
