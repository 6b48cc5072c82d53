"""Who loses a race on a household, beyond steps and evidence (tests/test_races.py): a visit, an objection or
its resolution recorded while a colleague changed the same household is judged again on the record as it
now stands — recorded, or refused as a person acting after the colleague would be (the objection resolved
already); a member change, whose basis may have changed, is refused saying what changed it, by whom and
when. Each race is real: the colleague's transaction, on its own connection in a thread of its own, commits
while the loser's is open between its reading of the household and its writing; on SQLite and, with
JINGZHUN_TEST_PG_URL, on PostgreSQL."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import JingzhunError
from engine.reads.audit_verify import verify
from engine.services import case_actions
from engine.services.case_actions import (attach_evidence, file_objection, record_relative, record_visit,
                                          resolve_objection)
from tests.test_notices import to_first_notice
from tests.test_races import meanwhile
from tests.world import id_number
from workflows import household, project_money
from workflows.household import MemberInput, add_member


def _actions(world, case: int) -> list[str]:
    with world.app.engine.connect() as conn:
        return list(conn.execute(select(t.audit_events.c.action).where(t.audit_events.c.case_id == case)
                                 .order_by(t.audit_events.c.case_seq)).scalars())


def _both_written(world, monkeypatch, case: int, theirs, mine, column, action: str) -> tuple[dict, int, int]:
    """`mine()` done while `theirs()` commits meanwhile: both written, one event each. The rows of the
    case in `column`'s table (id: that column), their id and mine."""
    seen = meanwhile(world, monkeypatch, case_actions, "require_role", theirs)
    written = mine()
    assert seen and not isinstance(seen[0], JingzhunError), seen
    with world.app.engine.connect() as conn:
        rows = dict(conn.execute(select(column.table.c.id, column).where(column.table.c.case_id == case)).all())
    assert _actions(world, case)[-2:] == [action, action]
    assert verify(world.app).intact
    return rows, seen[0], written


def test_a_visit_recorded_while_a_colleague_records_another_is_recorded_too(world, monkeypatch):
    """It was refused: "the case was changed by someone else", for a visit that two cadres simply made."""
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.on(date(2019, 6, 3))
    visits, theirs, mine = _both_written(
        world, monkeypatch, case,
        lambda: record_visit(world.app, world["pc1"], case, date(2019, 6, 3), "帮扶责任人走访：产业正常"),
        lambda: record_visit(world.app, world["fs"], case, date(2019, 6, 3), "第一书记走访：收入稳定"),
        t.monitoring_visits.c.findings, "visit_recorded")
    assert visits == {theirs: "帮扶责任人走访：产业正常", mine: "第一书记走访：收入稳定"}


def test_an_objection_filed_while_a_colleague_files_another_is_filed_too(world, monkeypatch):
    case = world.household()
    notice = to_first_notice(world, [case])
    world.on(date(2019, 3, 4))
    filed, theirs, mine = _both_written(
        world, monkeypatch, case,
        lambda: file_objection(world.app, world["vd"], notice, case, "村民李某", "该户子女在外务工收入未申报",
                               date(2019, 3, 4)),
        lambda: file_objection(world.app, world["vs"], notice, case, "村民王某", "该户有经营性收入未申报",
                               date(2019, 3, 4)),
        t.objections.c.objector, "objection_filed")
    assert filed == {theirs: "村民李某", mine: "村民王某"}


def test_an_objection_resolved_by_two_township_cadres_at_once_tells_the_second_it_is_resolved(world, monkeypatch):
    """The second was told "the case was changed meanwhile, do it once more"; doing so said it was resolved."""
    case = world.household()
    notice = to_first_notice(world, [case])
    world.on(date(2019, 3, 4))
    objection = file_objection(world.app, world["vs"], notice, case, "村民王某", "该户有经营性收入未申报",
                               date(2019, 3, 4))
    seen = meanwhile(world, monkeypatch, case_actions, "require_role", lambda: resolve_objection(
        world.app, world["ts2"], objection, False, "经核实，经营性收入已计入"))
    with pytest.raises(JingzhunError) as lost:
        resolve_objection(world.app, world["ts1"], objection, True, "经核实，收入超过标准")
    assert seen == ["dismissed"]
    assert lost.value.code == "objection.resolved", lost.value.code
    assert f"异议 {objection} 已处理" in lost.value.render(world.app.config)
    assert _actions(world, case).count("objection_resolved") == 1
    assert verify(world.app).intact


def test_a_member_added_while_a_colleague_changed_the_household_is_refused_naming_the_change(world, monkeypatch):
    """Not judged again (whether the member still belongs depends on what the colleague changed): refused,
    nothing written, saying who changed the household, how and when — it said "changed by someone else"."""
    case = world.household(members=2)
    world.on(date(2019, 3, 1))
    baby, bride = id_number("36073020190201001"), id_number("36073019980101002")
    seen = meanwhile(world, monkeypatch, household, "_void_relying", lambda: add_member(
        world.app, world["vd"], case, MemberInput("新生儿", baby, "child"), "出生"))
    with pytest.raises(JingzhunError) as lost:
        add_member(world.app, world["vs"], case, MemberInput("新媳妇", bride, "daughter_in_law"), "结婚迁入")
    assert seen and not isinstance(seen[0], JingzhunError), seen
    assert lost.value.code == "case.changed_meanwhile_by"
    said = lost.value.render(world.app.config)
    assert f"案件 {case} 在本次办理的同时被 vd 改动（增加成员，2019-03-01" in said, said
    assert "本次未写入任何内容" in said and "重新加载" not in said, said
    english = lost.value.render(world.app.config, "en")
    assert f"case {case} was changed by vd (member added, 2019-03-01" in english and "nothing was written" in english
    with world.app.engine.connect() as conn:
        names = set(conn.execute(select(t.household_members.c.name).where(
            t.household_members.c.case_id == case)).scalars())
    assert "新生儿" in names and "新媳妇" not in names
    assert _actions(world, case)[-1] == "member_added"
    assert verify(world.app).intact


def test_a_relative_declared_while_a_colleague_attaches_an_item_is_declared(world, monkeypatch):
    case = world.household()
    world.on(date(2019, 3, 1))
    seen = meanwhile(world, monkeypatch, case_actions, "require_role", lambda: attach_evidence(
        world.app, world["vd"], case, "two_assurances", {"food": True, "clothing": True}))
    record_relative(world.app, world["vs"], case, "ts3", "表兄", "村民代表会议上本人申报")
    assert seen and not isinstance(seen[0], JingzhunError), seen
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.relatives.c.relation).where(t.relatives.c.case_id == case)).scalars().all() == ["cousin"]
    assert _actions(world, case)[-2:] == ["evidence_attached", "relative_recorded"]
    assert verify(world.app).intact


def test_a_relative_declared_while_a_colleague_declares_the_same_is_refused_saying_who_declared_it(
        world, monkeypatch):
    """Two cadres declaring the same relative at once: the second met the database's unique constraint (an
    internal error, not words). Judged again, it is refused: already recorded, by whom and when; one row."""
    case = world.household()
    world.on(date(2019, 3, 1))
    # the colleague commits after this one found no such relative, before it writes its own
    seen = meanwhile(world, monkeypatch, case_actions, "insert", lambda: record_relative(
        world.app, world["vd"], case, "ts3", "表兄", "村民代表会议上本人申报"))
    with pytest.raises(JingzhunError) as lost:
        record_relative(world.app, world["vs"], case, "ts3", "表兄", "村委会核实")
    assert seen == ["cousin"], seen     # the colleague's, kept as its kinship's code
    assert lost.value.code == "relative.recorded_by", lost.value.code
    said, english = lost.value.render(world.app.config), lost.value.render(world.app.config, "en")
    assert "ts3" in said and "vd" in said and "2019-03-01" in said, said
    assert f"already recorded as a relative of case {case} by vd on 2019-03-01" in english, english
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.relatives.c.relation).where(t.relatives.c.case_id == case)).scalars().all() == ["cousin"]
    assert _actions(world, case).count("relative_recorded") == 1
    assert verify(world.app).intact


def test_a_payment_recorded_while_a_colleague_pays_out_of_the_same_funds_is_judged_on_what_is_left(
        world, monkeypatch):
    """Judged again, the second payment meets the allocation as the first left it: refused in figures, not
    "changed meanwhile, do it again" (which, done again, said the same); one that still fits is recorded."""
    from tests.helpers.projects import add_project, enter_library, fund, households, pay
    case = add_project(world, households(world))
    enter_library(world, case)
    fund(world, case)          # 300,000 yuan allocated
    # the colleague's payment commits after this one has read what was paid, before it writes
    seen = meanwhile(world, monkeypatch, project_money, "_payment_rows", lambda: pay(world, case, "200000"))
    with pytest.raises(JingzhunError) as lost:
        pay(world, case, "150000")
    assert seen and not isinstance(seen[0], JingzhunError), seen
    # refused in figures by the allocation, or by the contract (as much as the allocation here) when its check
    # reads the colleague's payment first: either names the 100,000 left
    said = lost.value.render(world.app.config)
    assert (lost.value.code, "可支付 100000" in said or "最多还可支付 100,000.00 元" in said) in (
        ("project.over_allocation", True), ("project.over_contract", True)), said
    assert pay(world, case, "60000") and _actions(world, case).count("disbursement_recorded") == 2
    with world.app.engine.connect() as conn:
        paid = sorted(conn.execute(select(t.disbursements.c.amount).where(t.disbursements.c.case_id == case)).scalars())
    assert [int(a) for a in paid] == [60000, 200000]
    assert verify(world.app).intact
