"""A fund project's notice on the web, as on the board (tests/test_project_notices.py for the text): the
notice page lists the project with its site and money (no household-size column), its text as posted
says the project's money and documents, the printed board is a table of the project's facts, in both
languages; the API gives the text as posted."""
from __future__ import annotations

from sqlalchemy import select

from engine.adapters import tables as t
from tests.helpers.projects import add_project, enter_library, fund, households


def test_a_project_s_funding_notice_page_print_and_api_say_its_money_not_a_household_size(world, world_clients):
    page, api = world_clients
    case = add_project(world, households(world, 2))
    enter_library(world, case)
    fund(world, case)
    with world.app.engine.connect() as conn:
        notice = conn.execute(select(t.notices.c.id).where(t.notices.c.step_key == "allocation_notice")).scalar_one()
    client = page("insp")
    shown = client.get(f"/notices/{notice}")
    assert shown.status_code == 200
    cases = shown.text[shown.text.index('id="notice-cases"'):]
    assert "家庭人口" not in shown.text and "经民主评议" not in shown.text and "公示户数" not in shown.text
    assert "公示项目数" in shown.text
    assert "项目名称" in cases and "资金合计" in cases and "300,000.00" in cases
    assert "资金文件：宁财农〔2019〕30号" in shown.text and "下达资金：县级财政 200,000.00 元" in shown.text
    board = client.get(f"/notices/{notice}/print")
    assert board.status_code == 200 and '<table class="project">' in board.text
    assert "家庭人口" not in board.text and "宁财农〔2019〕30号" in board.text and "资金下达日期" in board.text
    client.cookies.set("lang", "en")
    english = client.get(f"/notices/{notice}")
    assert "Household size" not in english.text and "Funds allocated: county budget 200,000.00 yuan" in english.text
    assert "Total" in client.get(f"/notices/{notice}/print").text and "Projects listed" in english.text
    assert "Households listed" not in english.text          # its list headed as projects too
    answer = api("insp").get(f"/api/v1/notices/{notice}")
    assert answer.status_code == 200
    assert "资金合计：300,000.00 元" in answer.json()["posted_text"] and "家庭人口" not in answer.json()["posted_text"]


def test_a_notice_posted_in_the_old_words_is_printed_again_as_posted(world, world_clients):
    """A project's notice posted before it had its own wording (its stored text a household list's): printed
    again, the board is the text as it was posted, not this release's wording; in English the page says its
    text is today's wording of the record, not the notice as posted."""
    from sqlalchemy import update
    page, _api = world_clients
    case = add_project(world, households(world, 2))
    enter_library(world, case)
    fund(world, case)
    old = "经民主评议和审核，现将下列名单予以公示，接受群众监督：\n1. 竹笮村脐橙基地　竹笮村\n"
    with world.app.engine.begin() as conn:
        notice = conn.execute(select(t.notices.c.id).where(t.notices.c.step_key == "allocation_notice")).scalar_one()
        conn.execute(update(t.notices).where(t.notices.c.id == notice).values(rendered=old))
    client = page("insp")
    board = client.get(f"/notices/{notice}/print")
    assert board.status_code == 200 and "经民主评议和审核" in board.text and '<table class="project">' not in board.text
    assert "打印或保存为 PDF" in board.text                      # its print bar as any board's
    assert "经民主评议和审核" in client.get(f"/notices/{notice}").text
    client.cookies.set("lang", "en")
    english = client.get(f"/notices/{notice}").text
    assert "worded from the record as it stands today" in english and "The notice as posted" not in english
