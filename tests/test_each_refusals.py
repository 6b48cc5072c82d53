"""`step --each` on a list holding a case that does not exist or lies outside the actor's
jurisdiction: those cases are refused with their rule and message like any other refused case, and
the ready cases are done (the whole list used to stop at the first such case, exit 2, nothing done);
each refused case shows its rule's code, as a refused step does. Without --each the list stays all or
none, and every unknown case is named."""
from __future__ import annotations

import sqlite3

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import VILLAGE2

STEP = ("step", "identification", "application")
UNKNOWN = 999999


def _applied(home, cases) -> set[int]:  # noqa: F811
    with sqlite3.connect(home.db) as conn:
        marks = ",".join("?" * len(cases))
        return {c for (c,) in conn.execute(f"SELECT case_id FROM steps WHERE step_key = 'application' AND case_id IN "
                                           f"({marks})", list(cases))}


def _refusal(err: str, case_id: int) -> str:
    return next(t for t in err.splitlines() if t.startswith(f"案件 {case_id}：") or t.startswith(f"case {case_id}:"))


def test_each_refuses_unknown_and_out_of_reach_cases_and_does_the_ready_ones(home):  # noqa: F811
    ready = [home.register(seed=81), home.register(seed=82)]
    bare = home.register(seed=83, evidence=False)
    other = home.register(village=VILLAGE2, seed=84)          # vs2's village: outside vs's jurisdiction
    result = home("vs", *STEP, ready[0], UNKNOWN, bare, other, ready[1], "--date", "2019-02-10", "--each")
    assert result.code == 1, result.err
    assert "Traceback" not in result.err and "错误 [" not in result.err
    assert "2 件已办理，3 件被拒绝" in result.out
    shown = _refusal(result.err, UNKNOWN)
    assert shown.startswith(f"案件 {UNKNOWN}：未办理 — [case.unknown] 案件不存在：{UNKNOWN}")
    assert "[auth.jurisdiction] 越权" in _refusal(result.err, other)
    # the village by its name, and the step the list was for (not 「查看」)
    assert f"（{VILLAGE2}）" in _refusal(result.err, other) and "「贫困识别·农户申请」" in _refusal(result.err, other)
    assert "[evidence.missing] 缺少材料" in _refusal(result.err, bare)
    assert _applied(home, [*ready, bare, other]) == set(ready)

    english = home("vs", *STEP, UNKNOWN, "--each", lang="en")
    assert english.code == 1
    assert f"case {UNKNOWN}: not done — [case.unknown] no such case: {UNKNOWN}" in english.err
    assert "0 done, 1 refused" in english.out


def test_each_with_no_case_to_do_writes_nothing_and_lists_every_refusal(home):  # noqa: F811
    other = home.register(village=VILLAGE2, seed=85)
    before = home.snapshot()
    result = home("vs", *STEP, UNKNOWN, other, "--date", "2019-02-10", "--each")
    assert result.code == 1, result.err
    assert "[case.unknown]" in _refusal(result.err, UNKNOWN) and "[auth.jurisdiction]" in _refusal(result.err, other)
    assert "0 件已办理，2 件被拒绝" in result.out
    assert home.snapshot() == before


def test_without_each_the_list_is_refused_whole_naming_every_unknown_case(home):  # noqa: F811
    ready = home.register(seed=86)
    before = home.snapshot()
    result = home("vs", *STEP, ready, UNKNOWN, UNKNOWN - 1, "--date", "2019-02-10")
    assert result.code == 2
    assert "[case.unknown]" in result.err and str(UNKNOWN) in result.err and str(UNKNOWN - 1) in result.err
    assert home.snapshot() == before and _applied(home, [ready]) == set()


def test_without_each_a_case_out_of_reach_is_named_with_the_step_among_every_refused_case(home):  # noqa: F811
    ready, bare = home.register(seed=87), home.register(seed=88, evidence=False)
    other = home.register(village=VILLAGE2, seed=89)
    before = home.snapshot()
    result = home("vs", *STEP, ready, other, bare, "--date", "2019-02-10")
    assert result.code != 0 and "Traceback" not in result.err
    assert "[auth.jurisdiction] 越权" in _refusal(result.err, other)
    assert "「贫困识别·农户申请」" in _refusal(result.err, other) and "查看" not in result.err
    assert "[evidence.missing] 缺少材料" in _refusal(result.err, bare)
    assert "名单中共 2 个案件不符合办理条件" in result.err
    assert home.snapshot() == before
