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
    assert "从其他系统迁入的帮扶户自其计划脱贫年度起列在这里" in said, said[:1500]
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


def test_a_village_s_step_list_comes_a_page_at_a_time_and_its_summary_names_the_cases(world, world_clients, monkeypatch):
    """a11 #9: a village's list of 1,660 households was one page (3.3 s; 4.7 s on a phone) and its summary
    said 缺少材料：案件 … 的步骤…. Now 50 a page (here 2) as a township's list, the button for all acting on
    every page's households, and the summary names the cases by number."""
    from engine.reads import village_lists
    from tests.world import VILLAGE
    page, _ = world_clients
    cases = sorted(imported(world, {"B1": "未脱贫", "B2": "未脱贫", "B3": "未脱贫"}).values())
    monkeypatch.setattr(village_lists, "LIST_PAGE", 2)
    vd = page("vd")
    base = f"/villages/{VILLAGE}/list?kind=household&procedure=exit&step=proposal"
    first = vd.get(base)
    assert first.status_code == 200
    listed = [int(c) for c in re.findall(r'<tr data-case="(\d+)"', first.text)]
    assert listed == cases[:2], _text(first.text)[:2000]
    said = _text(first.text)
    assert "本页第 1–2 户，共 3 户。" in said, said[:2000]
    nxt = re.search(r'href="([^"]+)" id="next-page"', first.text)
    assert nxt, first.text[:3000]
    second = vd.get(nxt.group(1).replace("&amp;", "&"))
    assert [int(c) for c in re.findall(r'<tr data-case="(\d+)"', second.text)] == cases[2:]
    holds = _text(vd.get(f"/villages/{VILLAGE}/list/holds?kind=household&procedure=exit&step=proposal").text)
    assert "案件 …" not in holds, holds[:2000]
    assert f"缺少材料：案件 {cases[0]}、{cases[1]}、{cases[2]} 的步骤" in holds, holds[:2000]


def test_a_village_s_paged_list_offers_the_button_for_all_its_households_waiting(world, world_clients, monkeypatch):
    from engine.reads import village_lists
    from tests.world import VILLAGE
    page, _ = world_clients
    made = sorted(world.household() for _ in range(3))
    monkeypatch.setattr(village_lists, "LIST_PAGE", 2)
    vd = page("vd")
    shown = vd.get(f"/villages/{VILLAGE}/list?kind=household&procedure=identification&step=application")
    button = re.search(r'<button[^>]*id="do-all"[^>]*data-count="(\d+)"', shown.text)
    assert button and button.group(1) == "3", _text(shown.text)[:2000]
    assert "为全部 3 户等待的各户办理" in _text(shown.text)
    assert len(made) == 3
