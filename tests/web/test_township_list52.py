"""A township's sign-off over all its villages in one action (a7 #9): the township's code opens one list
of every village's households waiting at the step, signed with one post (one batch id, a result per
household); /villages offers it; a village's page asked with a township's code says what to open."""
from __future__ import annotations

import re

from engine.reads.trace import case_trace
from tests.web.bulk_world import actor, core, demo_home, township_list, web  # noqa: F401

TOWNSHIP, NEIGHBOUR = "360730100000", "360730100202"
STEP = "kind=household&procedure=identification&step=township_review"


def _batch_of(core, case: int):
    trace = case_trace(core, actor(core, "t1_staff1"), case)
    [step] = [s for p in trace["procedures"] for s in p["steps"] if s["step"] == "township_review"]
    return step["batch"] and step["batch"]["id"]


def test_a_township_signs_off_the_households_of_two_villages_in_one_action(signed_in, core):
    here = township_list(core, 2, not_ready=False).ready
    there = township_list(core, 2, village=NEIGHBOUR, not_ready=False).ready
    client = signed_in("township")
    villages = client.get("/villages").text
    assert f'href="/villages/{TOWNSHIP}/list"' in villages, "the township's list is offered"
    chooser = client.get(f"/villages/{TOWNSHIP}/list")
    assert chooser.status_code == 200, chooser.text
    row = re.search(r'data-procedure="identification" data-step="township_review">(.*?)</tr>', chooser.text, re.S)
    assert row and int(re.search(r'class="num">(\d+)<', row.group(1)).group(1)) >= 4
    listed = client.get(f"/villages/{TOWNSHIP}/list?{STEP}")
    assert listed.status_code == 200
    assert all(f'name="case" value="{c}"' in listed.text for c in here + there)
    assert f'data-village="{NEIGHBOUR}"' in listed.text      # each household says its village
    answer = client.post(f"/villages/{TOWNSHIP}/list", data={
        "csrf": client.csrf, "kind": "household", "procedure": "identification", "step": "township_review",
        "case": [str(c) for c in here + there], "decision": "approve", "date": core.clock.today().isoformat()})
    assert answer.status_code == 200, answer.text
    assert 'data-done="4" data-refused="0"' in answer.text
    batches = {_batch_of(core, c) for c in here + there}
    assert len(batches) == 1 and None not in batches, batches


def test_a_case_of_another_township_is_refused_on_a_townships_list(signed_in, core):
    from sqlalchemy import select
    from engine.adapters import tables as t
    from tests.web.bulk_world import OTHER_TOWNSHIP_VILLAGE
    with core.engine.connect() as conn:
        far = conn.execute(select(t.cases.c.id).where(t.cases.c.region_code == OTHER_TOWNSHIP_VILLAGE)).scalar()
    client = signed_in("township")
    answer = client.post(f"/villages/{TOWNSHIP}/list", data={
        "csrf": client.csrf, "kind": "household", "procedure": "identification", "step": "township_review",
        "case": [str(far)], "decision": "approve"})
    assert answer.status_code == 400 and f"案件 {far} 不在" in answer.text and "的名单中" in answer.text


def test_a_villages_page_asked_with_the_townships_code_says_what_to_open(signed_in):
    client = signed_in("township")
    answer = client.get(f"/villages/{TOWNSHIP}/evidence?type=income_check")
    assert answer.status_code == 404
    assert "区域不存在" not in answer.text and "不是村" in answer.text and f"/villages/{TOWNSHIP}/list" in answer.text


def test_step_region_signs_off_a_townships_waiting_households_in_one_list(core, demo_home, tmp_path):
    """`step --region TOWNSHIP` takes every household of its villages waiting at the step, as the page does."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    from tests.test_cli import jingzhun
    from tests.helpers.db_option import db_option
    here = township_list(core, 1, not_ready=False).ready
    there = township_list(core, 1, village=NEIGHBOUR, not_ready=False).ready
    with core.engine.connect() as conn:
        waiting = set(conn.execute(select(t.cases.c.id).where(
            t.cases.c.region_code.like("360730100%"), t.cases.c.pending_step == "township_review")).scalars())
    assert set(here + there) <= waiting
    code, _ = demo_home[1]["township"]
    token = (demo_home[0].home / "demo-tokens.csv").read_text().split(f"{code},")[1].split()[0].split(",")[0]
    run = jingzhun(["--home", str(demo_home[0].home), *db_option(core.engine.url.render_as_string(hide_password=False)),
                    "--as", code, "step", "identification", "township_review", "--region", TOWNSHIP, "--approve",
                    "--date", core.clock.today().isoformat()], token)
    assert run.code == 0, run.err
    assert f"{len(waiting)}" in run.out and _batch_of(core, here[0]) == _batch_of(core, there[0]) is not None


def test_a_notice_each_village_posts_is_offered_village_by_village_on_the_townships_list(signed_in, core):
    """The township's second notice (公示) is posted on each village's board: one list over the township
    was refused whole (`notice.mixed_regions`); the township's chooser now lists it by the villages that post
    it, each a link to that village's list, and offers no township-wide list of it."""
    here = township_list(core, 2, not_ready=False).ready
    there = township_list(core, 2, village=NEIGHBOUR, not_ready=False).ready
    client = signed_in("township")
    client.post(f"/villages/{TOWNSHIP}/list", data={
        "csrf": client.csrf, "kind": "household", "procedure": "identification", "step": "township_review",
        "case": [str(c) for c in here + there], "decision": "approve", "date": core.clock.today().isoformat()})
    chooser = client.get(f"/villages/{TOWNSHIP}/list").text
    row = re.search(r'data-procedure="identification" data-step="second_notice">(.*?)</tr>', chooser, re.S)
    assert row, chooser
    assert "按张贴地逐一办理" in row.group(1)
    assert f'href="/villages/{NEIGHBOUR}/list?kind=household&amp;procedure=identification&amp;step=second_notice"' \
        in row.group(1)
    assert f'href="/villages/{TOWNSHIP}/list?kind=household&amp;procedure=identification&amp;step=second_notice"' \
        not in row.group(1)
    # a step of the township's own board is still one list over the township
    assert re.search(rf'href="/villages/{TOWNSHIP}/list\?kind=household&amp;procedure=\w+&amp;step=township_review"',
                     chooser)
