"""A notice in the reader's language beside its text as posted: the text posted on the board (in Chinese)
is the legal record and stays as posted; an English reader of the API, of `notice show --json` and of the
notice page also gets the notice worded in English from the same wording as the page and `notice render`,
each case's facts in English, and the text as posted labelled as such (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

from sqlalchemy import select

from engine.adapters import tables as t
from tests.helpers.projects import add_project, enter_library, fund, households
from tests.helpers.db_option import db_option
from tests.test_cli import jingzhun

ENGLISH_FUNDS = "Funds allocated: county budget 200,000.00 yuan"


def funding_notice(world) -> tuple[int, str]:
    """A project's funding notice (posted on the boards): its id and its stored text as posted."""
    case = add_project(world, households(world, 2))
    enter_library(world, case)
    fund(world, case)
    with world.app.engine.connect() as conn:
        return tuple(conn.execute(select(t.notices.c.id, t.notices.c.rendered)
                                  .where(t.notices.c.step_key == "allocation_notice")).one())


def test_an_english_api_reader_gets_the_notice_in_english_and_the_posted_text_labelled(world, world_clients):
    """Before: GET /api/v1/notices/{id} gave only `rendered`, the Chinese text as posted, whatever the
    reader's language: an English client had no English words for the notice at all."""
    _page, api = world_clients
    notice, posted = funding_notice(world)
    english = api("insp", "en").get(f"/api/v1/notices/{notice}").json()
    assert english["posted_text"] == posted and english["posted_lang"] == "zh"     # the record, as posted
    assert "资金合计：300,000.00 元" in english["posted_text"]
    assert english["lang"] == "en" and ENGLISH_FUNDS in english["text"] and "资金合计" not in english["text"]
    assert english["procedure_name"] == "funding and implementation" and english["reworded"] is False
    project, = english["cases"]
    assert ["Total", "300,000.00 yuan"] in project["lines"] and project["no"] == 1
    assert english["rendered"] == english["posted_text"]     # its old name kept for the clients reading it
    assert api("insp").get(f"/api/v1/notices/{notice}?lang=en").json()["text"] == english["text"]
    chinese = api("insp").get(f"/api/v1/notices/{notice}").json()
    assert chinese["lang"] == "zh" and chinese["text"] == posted == chinese["posted_text"]
    assert ["资金合计", "300,000.00 元"] in chinese["cases"][0]["lines"] and chinese["procedure_name"] == "资金下达与实施"


def test_notice_show_json_says_the_notice_in_the_reader_s_language_and_keeps_the_posted_text(world):
    notice, posted = funding_notice(world)
    home = ["--home", world.app.settings.home, *db_option(world.app.engine.url.render_as_string(hide_password=False))]
    done = jingzhun([*home, "--as", "insp", "--lang", "en", "notice", "show", str(notice), "--json"],
                    token=world.tokens["insp"])
    assert done.code == 0, done.err
    shown = json.loads(done.out)
    assert shown["posted_text"] == posted and ENGLISH_FUNDS in shown["text"] and shown["lang"] == "en"
    rendered = jingzhun([*home, "--as", "insp", "--lang", "en", "notice", "render", str(notice)],
                        token=world.tokens["insp"])
    assert rendered.code == 0 and rendered.out.startswith(shown["text"].strip())    # one wording: `notice render`'s
    assert rendered.out.rstrip().endswith(posted.strip())              # and after it the text as posted (stop 51)


def test_the_english_notice_page_shows_the_posted_text_labelled_as_posted_beside_its_english_words(world,
                                                                                                  world_clients):
    """Before: the English page showed only the English wording, headed "The notice as posted": the text
    that was posted (the legal record) was not on it, and the translation was called the posted text."""
    page, _api = world_clients
    notice, posted = funding_notice(world)
    client = page("insp")
    client.cookies.set("lang", "en")
    shown = client.get(f"/notices/{notice}").text
    words = shown[shown.index('id="notice-text"'):shown.index('id="notice-posted"')]
    assert "The notice in English, worded from the record" in words and ENGLISH_FUNDS in words
    assert "The notice as posted" not in words
    kept = shown[shown.index('id="notice-posted"'):]
    assert "The text posted on the board, in Chinese" in kept and "资金合计：300,000.00 元" in kept
    client.cookies.set("lang", "zh")
    chinese = client.get(f"/notices/{notice}").text
    assert 'id="notice-posted"' not in chinese and "公示原文（张贴时保存）" in chinese   # the text is the posted one
