"""The first days after a registry moves in (a11 #3): households imported as 帮扶中 (assisted) are not
each "脱贫退出 · 评议并提出退出" on the village's /work (an exit is proposed when the household is ready),
the count on /work is the true number when the page lists only the first, and /villages says whose work
its counts are. SQLite and PostgreSQL, through the web app."""
from __future__ import annotations

import re

from tests.test_import_exit_year import imported
from tests.world import TOWNSHIP


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style).*?</\1>", "", html)))


def test_households_imported_as_assisted_are_not_exit_proposals_due_on_my_work(world, world_clients):
    page, _ = world_clients
    cases = imported(world, {"A1": "未脱贫", "A2": "帮扶中", "A3": "未脱贫"})
    vd = page("vd")
    work = vd.get("/work")
    assert work.status_code == 200
    for case in cases.values():
        assert f'data-case="{case}"' not in work.text, _text(work.text)[:1500]
    said = _text(work.text)
    assert "评议并提出退出" not in said, said[:1500]
    assert "从其他系统迁入的帮扶户不列在这里" in said, said[:1500]
    shown = _text(vd.get(f"/cases/{cases['A1']}").text)       # its page still offers the proposal
    assert "评议并提出退出" in shown, shown[:2000]


def test_my_work_counts_every_case_waiting_and_says_how_many_it_lists(world, world_clients, monkeypatch):
    import entrypoints.web.routes_cadre as routes
    page, _ = world_clients
    made = [world.household() for _ in range(3)]            # each waits for the village director's appraisal
    monkeypatch.setattr(routes, "WORK_LIMIT", 2)
    said = _text(page("vd").get("/work").text)
    assert f"等待您办理的案件：{len(made)} 件 （下面只列出前 2 件）" in said, said[:800]
    monkeypatch.setattr(routes, "WORK_LIMIT", 200)
    said = _text(page("vd").get("/work").text)
    assert f"等待您办理的案件：{len(made)} 件" in said and "只列出前" not in said, said[:800]


def test_the_villages_page_says_its_counts_are_every_post_s_steps_not_the_reader_s(world, world_clients):
    page, _ = world_clients
    world.household()
    ts = page("ts1")
    said = _text(ts.get("/villages").text)
    assert "各村等待下一步的案件共 1 件（各级、各岗位的步骤都算在内）" in said, said[:1500]
    assert "不论该步骤由村、乡镇还是县办理" in said, said[:1500]
    assert TOWNSHIP in ts.get("/villages").text
