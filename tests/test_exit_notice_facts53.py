"""An exit's notice and announcement carry the facts villagers can object to (a9 #7): before, the village
notice (村内公示) and the county's announcement (公告) of an exit listed only 序号、户主、所在村、家庭人口. Now
each household's line says its net income per head, the year of that income and that year's line, as the
proposal judged it, and the opening says the year of the exit; never an ID number. The text kept as posted,
the print page and the English reading alike. SQLite and PostgreSQL."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.notices import notice_printed, notice_shown


def _exit_notices(world, tmp_path) -> tuple[int, int, int]:
    case = world.household(members=2)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=10000.0, tmp=tmp_path)
    world.exit(case)
    with world.app.engine.connect() as conn:
        found = dict(conn.execute(select(t.steps.c.step_key, t.steps.c.notice_id).where(
            t.steps.c.case_id == case, t.steps.c.step_key.in_(("village_notice", "announcement")))).all())
    return case, found["village_notice"], found["announcement"]


def _posted(world, notice: int) -> str:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.notices.c.rendered).where(t.notices.c.id == notice)).scalar()


def test_an_exit_notice_and_announcement_say_each_households_income_per_head_and_the_exit_year(world, tmp_path):
    case, notice, announcement = _exit_notices(world, tmp_path)
    with world.app.engine.connect() as conn:
        ids = list(conn.execute(select(t.household_members.c.id_number)).scalars())
    said = "家庭人均纯收入：2019 年 5,000 元（当年标准线 3,747 元）"
    posted = _posted(world, notice)
    assert "下列农户拟于 2019 年度脱贫退出" in posted, posted
    assert re.search(r"1\. \S+　洋塘村　2人　" + re.escape(said), posted), posted
    board = notice_printed(world.app, world["vs"], notice, html=True)
    assert "<th>家庭人均纯收入</th>" in board and "2019 年 5,000 元（当年标准线 3,747 元）" in board, board
    english = notice_printed(world.app, world["vs"], notice, "en")
    assert "5,000 yuan in 2019 (that year's line: 3,747 yuan)" in english and "to exit poverty in 2019" in english
    lines = notice_shown(world.app, world["vs"], notice)["cases"][0]["lines"]
    assert ["家庭人均纯收入", "2019 年 5,000 元（当年标准线 3,747 元）"] in lines, lines

    announced = _posted(world, announcement)
    assert "于 2019 年度退出建档立卡贫困户" in announced and said in announced, announced
    for text in (posted, announced, board, english):
        assert not any(n in text for n in ids) and not re.search(r"\d{15,}", text)
