"""A pairing cadre's visits (走访): a mistaken one corrected (a new version, the old kept with its reason)
or withdrawn; the same visit sent twice stored once; recorded on their own households by pairing cadres
(others' refused) and on any in reach by the village's and township's cadres (told they are not its
pairing cadre); naming the measure it concerns and what it brought, printed on the handbook."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.reads.handbook import handbook, render_handbooks
from engine.reads.trace import case_trace, render_html
from tests.helpers.notifications import cli


def _assisted(world, first: str = "pc1", second: str | None = "pc2") -> tuple[int, int]:
    """An assisted household paired with pc1 (first) and pc2, and its plan's measure in force."""
    case = world.household()
    world.identify(case)
    world.assist(case, first, second)
    world.on(date(2019, 6, 3))
    with world.app.engine.connect() as conn:
        measure = conn.execute(select(t.measures.c.id).where(t.measures.c.case_id == case)).scalar_one()
    return case, measure


def _visits(world, case: int) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.monitoring_visits).where(t.monitoring_visits.c.case_id == case)
                            .order_by(t.monitoring_visits.c.id)).all()


def test_a_mistaken_visit_is_corrected_with_its_reason_and_the_old_one_kept(world):
    case, measure = _assisted(world)
    first = cli(world, "pc1", "household", "visit", case, "--date", "2019-06-02", "--findings", "脐橙长势差",
                "--measure", measure, "--result", "请农技员上门指导修剪")
    assert first.code == 0, first.err
    [visit] = _visits(world, case)
    fixed = cli(world, "pc1", "household", "visit-correct", visit.id, "--findings", "脐橙长势好转",
                "--reason", "情况记反了")
    assert fixed.code == 0, fixed.err
    old, new = _visits(world, case)
    assert f"已更正走访 {visit.id}" in fixed.out and f"走访 {new.id}" in fixed.out
    assert (old.findings, old.superseded_by, old.supersede_reason) == ("脐橙长势差", new.id, "情况记反了")
    assert (new.findings, new.measure_id, new.result, new.visit_date) == (
        "脐橙长势好转", measure, "请农技员上门指导修剪", date(2019, 6, 2))     # what was not given stays
    shown = cli(world, "pc1", "case", "show", case).out
    assert f"已由走访 {new.id} 更正：情况记反了" in shown and "脐橙长势好转" in shown and "脐橙长势差" in shown
    assert f"涉及措施 {measure}" in shown and "成效：请农技员上门指导修剪" in shown
    dossier = render_html(world.app, case_trace(world.app, world["insp"], case))
    assert "更正走访" in dossier and "情况记反了" in dossier and f"更正走访 {visit.id}" in dossier
    # the old one is corrected already; another cadre may not correct the new one; a reason is needed
    again = cli(world, "pc1", "household", "visit-correct", visit.id, "--findings", "x", "--reason", "再改")
    assert again.code != 0 and "已被更正或撤回" in again.err + again.out
    other = cli(world, "fs", "household", "visit-correct", new.id, "--findings", "x", "--reason", "改")
    assert other.code != 0 and "不是您登记的" in other.err + other.out
    assert len(_visits(world, case)) == 2


def test_a_visit_withdrawn_is_kept_as_withdrawn_and_a_risk_visit_is_not_withdrawn(world):
    case, _measure = _assisted(world)
    cli(world, "pc1", "household", "visit", case, "--findings", "走错了户")
    cli(world, "pc1", "household", "visit", case, "--findings", "家中主劳力受伤", "--risk")
    wrong, risky = _visits(world, case)
    gone = cli(world, "pc1", "household", "visit-withdraw", wrong.id, "--reason", "登记到了邻户")
    assert gone.code == 0 and f"已撤回走访 {wrong.id}" in gone.out
    kept = cli(world, "pc1", "household", "visit-withdraw", risky.id, "--reason", "不想要")
    assert kept.code != 0 and "不能撤回" in kept.err + kept.out
    assert [v.supersede_reason for v in _visits(world, case)] == ["登记到了邻户", None]
    assert "已撤回：登记到了邻户" in cli(world, "pc1", "case", "show", case).out
    book = handbook(world.app, world["pc1"], case)
    assert [v["findings"] for v in book["results"]["visits"]] == ["家中主劳力受伤"]


def test_the_same_visit_typed_twice_is_stored_once(world):
    case, _measure = _assisted(world)
    args = ("household", "visit", case, "--findings", "收入稳定", "--date", "2019-06-01")
    one, two = cli(world, "pc1", *args), cli(world, "pc1", *args)
    assert one.code == two.code == 0
    assert "已在记录中" in two.out and "未重复登记" in two.out
    assert [v.findings for v in _visits(world, case)] == ["收入稳定"]
    with world.app.engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(t.audit_events).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "visit_recorded")).scalar()
    assert events == 1


def test_a_pairing_cadre_is_refused_anothers_household_and_a_village_cadre_told(world):
    case, _measure = _assisted(world)
    refused = cli(world, "pc3", "household", "visit", case, "--findings", "顺路看看")
    assert refused.code != 0 and f"您不是案件 {case} 的帮扶责任人" in refused.err + refused.out
    assert "第一书记" in refused.err + refused.out
    own = cli(world, "pc2", "household", "visit", case, "--findings", "第二帮扶责任人走访")
    assert own.code == 0 and "提示" not in own.out
    secretary = cli(world, "vs", "household", "visit", case, "--findings", "村支书走访")
    assert secretary.code == 0 and f"您不是本户（案件 {case}）的帮扶责任人" in secretary.out
    assert [v.findings for v in _visits(world, case)] == ["第二帮扶责任人走访", "村支书走访"]


def test_the_handbook_lists_the_visits_with_their_measure_newest_first(world):
    other, _ = _assisted(world, "pc2", "pc1")
    case, measure = _assisted(world)
    cli(world, "pc1", "household", "visit", case, "--date", "2019-05-10", "--findings", "查看果园",
        "--measure", measure, "--result", "补种脐橙苗五十株")
    cli(world, "pc1", "household", "visit", case, "--date", "2019-06-01", "--findings", "了解就业意愿")
    book = handbook(world.app, world["pc1"], case)
    assert [v["date"] for v in book["results"]["visits"]] == ["2019-06-01", "2019-05-10"]
    printed = "".join(render_handbooks(world.app, [book], "zh"))
    part = printed.partition("帮扶工作记录（走访）")[2]
    assert "了解就业意愿" in part and part.index("了解就业意愿") < part.index("查看果园")
    assert "种植脐橙" in part and "补种脐橙苗五十株" in part
    assert "Assistance work record" in "".join(render_handbooks(world.app, [handbook(world.app, world["pc1"], case, "en")], "en"))
    # a measure not of this household's plan in force is refused in words
    wrong = cli(world, "pc1", "household", "visit", other, "--findings", "x", "--measure", measure)
    assert wrong.code != 0 and "不是案件" in wrong.err + wrong.out and "现行帮扶计划" in wrong.err + wrong.out
