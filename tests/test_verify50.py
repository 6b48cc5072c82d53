"""`audit verify` leads with the root causes and says what changed (auditor a5, finding 6: three alterations
read "发现 11 处损坏"; one deleted event gave 7 lines, "检查点不符" for every later, untouched checkpoint, and a
deadline "closed directly in the database" when its step's event had been deleted; a changed signer was not
named). SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads import audit_damage
from engine.reads.audit_verify import seal, verify
from tests.helpers.tamper import raw
from tests.test_inspection_reading import jingzhun
from tests.test_seal50 import events_of


def _name(world, code: str) -> str:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.persons.c.name).where(t.persons.c.code == code)).scalar_one()


def test_one_deleted_event_is_one_finding_with_what_follows_from_it_below_and_later_checkpoints_untouched(world):
    a, b = world.household(), world.household()
    world.identify([a, b])
    seal(world.app, world["admin"])
    world.assist(a, first="pc1", second=None)
    seal(world.app, world["admin"])                          # a later checkpoint, its own events untouched
    world.assist(b, first="pc2", second=None)
    seal(world.app, world["admin"])
    seq, case_seq = events_of(world, b)[4]
    raw(world, f"DELETE FROM audit_events WHERE seq = {seq}")
    damage = verify(world.app).damage
    assert [d.code for d in damage if d.place == "checkpoint"] == ["checkpoint_deleted_cases"]   # one, not three
    [(root, caused)] = audit_damage.by_cause(damage)
    assert root.code == "missing" and dict(root.params)["case"] == b and dict(root.params)["expected"] == case_seq
    assert {d.code for d in caused} >= {"checkpoint_deleted_cases", "chain_broken", "case_head"}
    code, out, err = jingzhun(world, "insp", "audit", "verify")
    assert code == 1 and f"案件 {b} 的第 {case_seq} 个事件不在日志中" in out
    assert f"由此引起的 {len(caused)} 处不符（不另计为损坏）" in out
    assert out.strip().endswith(f"发现 1 处损坏（另有 {len(caused)} 处不符由其引起）"), out
    assert "关闭被直接在数据库中改动" not in out and "步骤被直接写入数据库" not in out
    code, out, err = jingzhun(world, "insp", "audit", "verify", lang="en")
    assert f"{len(caused)} differences follow from it" in out


def test_a_step_s_signer_changed_in_the_database_is_said_by_field_from_whom_to_whom(world):
    a = world.household()
    world.identify(a)
    with world.app.engine.connect() as conn:
        signed = conn.execute(select(t.steps.c.id).where(t.steps.c.case_id == a,
                                                         t.steps.c.step_key == "township_review")).scalar_one()
    raw(world, f"UPDATE steps SET person_id = (SELECT id FROM persons WHERE code = 'ts2') WHERE id = {signed}")
    code, out, err = jingzhun(world, "insp", "audit", "verify")
    said = f"办理人记录为 ts1 {_name(world, 'ts1')}，现为 ts2 {_name(world, 'ts2')}"
    assert code == 1 and said in out and "发现 1 处损坏" in out, out
    code, out, err = jingzhun(world, "insp", "audit", "verify", lang="en")
    assert f"signer recorded as ts1 {_name(world, 'ts1')}, now ts2 {_name(world, 'ts2')}" in out, out
