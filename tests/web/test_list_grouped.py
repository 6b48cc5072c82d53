"""A village's list step refused for many households says each reason once, with how many households it
refused and what to do, the households under it (issue 12, audit a4 findings 3 and 4): on the page
(folded, not a card a household: a village of 1,550 had made a 525,000-px page on a phone), `step --each`
(not a line a case) and the API's /steps/each (its per-case list kept, the groups added). The reason the
auditor met, households imported as exited with no pairing cadre enrolled into the transition period,
says what is missing and names the procedure that names a pairing cadre."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.adapters import tables as t
from tests.test_inspection_reading import jingzhun
from tests.test_registry_import import county, write
from tests.world import VILLAGE

STEP = ("consolidation", "enrolment")
MANY = 30
NO_CADRE = "本户没有在任的第一帮扶责任人"
WHAT_TO_DO = "请先办理「调整帮扶责任人」，为本户确定第一帮扶责任人，再纳入过渡期管理"


def _village(world, tmp_path) -> tuple[list[int], list[int], list[int]]:
    """The list as ticked: MANY households imported as exited with no pairing cadre (each refused by that
    rule), two applying households among them (not exited: refused by another rule); and each part."""
    rows = [r for r in county(4 * MANY, stage="已脱贫") if r[0] == VILLAGE]
    code, _out, err = jingzhun(world, "cs", "household", "import", write(tmp_path / "已脱贫.csv", rows))
    assert code == 0, err
    with world.app.engine.connect() as conn:
        exited = list(conn.execute(select(t.cases.c.id).where(t.cases.c.stage == "exited")
                                   .order_by(t.cases.c.id)).scalars())
    assert len(exited) == MANY
    applying = [world.household(), world.household()]
    return [*exited[:10], applying[0], *exited[10:], applying[1]], exited, applying


def _groups(text: str) -> list[tuple[str, list[int], str]]:
    """The page's refused groups: (rule codes, the households named under it, the group's words)."""
    return [(rules, list(map(int, re.findall(r'<li data-case="(\d+)" data-result="refused">', body))),
             re.sub(r"<[^>]+>", "", body))
            for rules, body in re.findall(r'<section class="list-group refused" data-group="refused" '
                                          r'data-rules="([^"]*)".*?>(.*?)</section>', text, re.S)]


def test_the_page_says_each_reason_once_with_its_households_folded(world, world_clients, tmp_path):
    cases, exited, applying = _village(world, tmp_path)
    page, _api = world_clients
    staff = page("ts2")
    answer = staff.post(f"/villages/{VILLAGE}/list", data={
        "csrf": staff.csrf, "kind": "household", "procedure": STEP[0], "step": STEP[1],
        "case": [str(c) for c in cases]})
    assert answer.status_code == 409 and "0 户已办理，32 户被拒绝" in answer.text
    assert answer.text.count(NO_CADRE) == 1 and answer.text.count(WHAT_TO_DO) == 1    # was once a household
    groups = _groups(answer.text)
    assert [(rules, named) for rules, named, _ in groups] == [("check.pairing_kept", exited),
                                                              ("stage.not_allowed", applying)]
    many, few = groups[0][2], groups[1][2]
    assert "30 户未办理" in many and "这些农户（30 户）" in many and "2 户未办理" in few
    assert "开始（案件 …）" in few             # the case's own number left out of the words said for both
    # the 30 folded (a tap opens them), the 2 shown; every household named once, by its name and number
    folds = re.findall(r"<details( open)?><summary>", answer.text)
    assert folds == ["", " open"]
    assert sorted(map(int, re.findall(r'data-case="(\d+)" data-result="refused"', answer.text))) == sorted(cases)
    assert "户主0" in answer.text and f"#{exited[0]}" in answer.text
    english = page("ts2")
    english.get("/lang/en", params={"next": "/work"})
    said = english.post(f"/villages/{VILLAGE}/list", data={
        "csrf": english.csrf, "kind": "household", "procedure": STEP[0], "step": STEP[1],
        "case": [str(c) for c in cases]}).text
    assert "0 done, 32 refused" in said and "Households not done: 30" in said
    assert said.count("no first pairing cadre in office") == 1
    assert said.count("name one with the procedure “change of pairing cadre” first, then enrol the household") == 1


def test_step_each_says_each_reason_once_with_its_case_numbers(world, tmp_path):
    cases, exited, applying = _village(world, tmp_path)
    code, out, err = jingzhun(world, "ts2", "step", *STEP, *map(str, cases), "--each")
    assert code == 1 and "0 件已办理，32 件被拒绝" in out
    lines = err.splitlines()
    assert len(lines) == 4, err                      # was a line a case: 32
    assert lines[0] == f"30 件未办理 — [check.pairing_kept] {NO_CADRE}，而过渡期内帮扶不撤（四个不摘）（{WHAT_TO_DO}）"
    assert lines[1] == "  案件：" + " ".join(map(str, exited))
    assert lines[2] == "2 件未办理 — [stage.not_allowed] 程序 过渡期巩固 不能从阶段 申请中 开始（案件 …）"
    assert lines[3] == "  案件：" + " ".join(map(str, applying))
    code, out, err = jingzhun(world, "ts2", "step", *STEP, *map(str, cases), "--each", lang="en")
    assert code == 1 and "0 done, 32 refused" in out
    assert err.splitlines()[0].startswith("30 cases not done — [check.pairing_kept] the household has no first "
                                          "pairing cadre in office")
    assert "change of pairing cadre" in err.splitlines()[0] and err.splitlines()[1].startswith("  cases: ")
    # a case refused alone is said as before, by its number
    code, _out, err = jingzhun(world, "ts2", "step", *STEP, str(applying[0]), str(exited[0]), "--each")
    assert f"案件 {applying[0]}：未办理 — [stage.not_allowed] 程序 过渡期巩固 不能从阶段 申请中 开始（案件 {applying[0]}）" \
        in err.splitlines()


def test_the_api_adds_the_groups_and_keeps_every_case(world, world_clients, tmp_path):
    cases, exited, applying = _village(world, tmp_path)
    _page, api = world_clients
    answer = api("ts2").post("/api/v1/steps/each", json={"procedure": STEP[0], "step": STEP[1], "case_ids": cases})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["done"] == [] and [r["case_id"] for r in body["refused"]] == cases     # every case, as before
    groups = body["refused_groups"]
    assert [(g["count"], g["case_ids"]) for g in groups] == [(MANY, exited), (2, applying)]
    assert [r["error"] for r in groups[0]["reasons"]] == ["check.pairing_kept"]
    assert NO_CADRE in groups[0]["reasons"][0]["message"] and WHAT_TO_DO in groups[0]["reasons"][0]["message"]
    assert groups[1]["reasons"][0]["message"].endswith("开始（案件 …）")
    english = api("ts2", "en").post("/api/v1/steps/each", json={"procedure": STEP[0], "step": STEP[1],
                                                                 "case_ids": exited[:3]}).json()
    assert "change of pairing cadre" in english["refused_groups"][0]["reasons"][0]["message"]


def test_the_api_list_all_or_none_refused_says_each_reason_once_too(world, world_clients, tmp_path):
    cases, exited, applying = _village(world, tmp_path)
    _page, api = world_clients
    answer = api("ts2").post("/api/v1/steps", json={"procedure": STEP[0], "step": STEP[1], "case_ids": cases})
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert sorted(r["case_id"] for r in body["refused"]) == sorted(cases)        # every case, as before
    groups = body["refused_groups"]
    assert [(g["count"], sorted(g["case_ids"])) for g in groups] == [(MANY, sorted(exited)), (2, sorted(applying))]
    assert [r["error"] for r in groups[0]["reasons"]] == ["check.pairing_kept"]
    assert WHAT_TO_DO in groups[0]["reasons"][0]["message"]
