"""An older backup restored: `audit verify` says what it is (a copy taken before a seal, before the last
events, before a witnessed event) without calling it tampering, still names a real deletion, and the
seal refuses to hand the witnesses a head of the history the restore forked (the ops audit ux6, defect 4).
Copies are made and restored with SQLite's own backup, as the README's backup step does."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select

from config import CONFIG_DIR, load_catalogue
from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.reads.audit_seal import check_witnesses
from engine.reads.audit_verify import seal, verify
from tests.helpers import tamper
from tests.helpers.tamper import raw

LABELS = load_catalogue(CONFIG_DIR)


lived = tamper.lived      # the fixture


@pytest.fixture(autouse=True)
def _sqlite_only(world):
    if world.app.engine.url.get_backend_name() != "sqlite":
        pytest.skip("a copy of the database file: SQLite's backup (PostgreSQL's is pg_dump)")


def _copy(world, path):
    """A backup of the database as it is now (SQLite's online backup)."""
    with sqlite3.connect(world.app.engine.url.database) as live, sqlite3.connect(path) as copy:
        live.backup(copy)
    return path


def _restore(world, path) -> None:
    """The backup restored over the live database."""
    world.app.engine.dispose()
    with sqlite3.connect(path) as copy, sqlite3.connect(world.app.engine.url.database) as live:
        copy.backup(live)
    world.app.engine.dispose()


def _said(damage) -> list[tuple[str, str, str]]:
    return [(d.code, d.render(LABELS, "zh"), d.render(LABELS, "en")) for d in damage]


def test_a_copy_taken_before_the_seal_that_published_a_head_names_both_what_it_may_be(lived, tmp_path):
    world, _a, _b = lived
    copy = _copy(world, tmp_path / "before-the-seal.db")
    published = seal(world.app, world["admin"])
    against = (published["upto_seq"], published["hash"])
    _restore(world, copy)                                  # every published event is in it, the seal is not
    (code, zh, en), = _said(verify(world.app, against=against).damage)
    assert code == "published_head_unsealed"
    assert "已公布的事件都在且未被改动" in zh and "本库是在公布该链头的那次封存之前所做的副本（如恢复的备份），或该检查点被删除" in zh
    assert "请核对本库的来历" in zh and not zh.endswith("检查点被删除")
    assert "every published event is present and unchanged" in en and "a copy taken before the seal" in en
    world.household()                                      # work goes on from the copy, sealed past the head:
    seal(world.app, world["admin"])                        # still not a deletion
    assert [c for c, _, _ in _said(verify(world.app, against=against).damage)] == ["published_head_unsealed"]

    world.household()                                      # a checkpoint really deleted: the next one, sealed
    later = seal(world.app, world["admin"])                # after it, chains from it, and says so
    raw(world, f"DELETE FROM audit_checkpoints WHERE upto_seq = {later['upto_seq'] - later['events']}")
    said = _said(verify(world.app, against=(later["upto_seq"] - later["events"], later["prev_hash"])).damage)
    assert ("published_head_checkpoint_gone", "检查点被删除") in [(c, zh[-6:]) for c, zh, _ in said]


def test_a_copy_taken_before_the_last_published_events_is_said_to_be_one_or_a_deletion(lived, tmp_path):
    world, _a, _b = lived
    copy = _copy(world, tmp_path / "before-the-last-events.db")
    last = world.app.engine.connect().execute(select(func.max(t.audit_events.c.seq))).scalar()
    world.household()
    published = seal(world.app, world["admin"])
    _restore(world, copy)
    said = [(zh, en) for c, zh, en in _said(verify(world.app, against=(published["upto_seq"], published["hash"])).damage)
            if c == "published_head_gone"]
    (zh, en), = said
    assert f"日志现只到序号 {last}" in zh and "日志末尾的事件被删除，或本库是在这些事件写入之前所做的副本" in zh
    assert "请改为恢复在该链头封存之后所做的备份" in zh and "从未经过恢复，则这些事件被删除" in zh
    assert "or this database is a copy taken before those events were written" in en


def _witnessed_then_restored(world, b, tmp_path, monkeypatch) -> tuple:
    """A backup sealed and witnessed; then case b's exit, sealed and witnessed; then the backup restored
    over the live database. The witness file, what it held and the later head."""
    witness = tmp_path / "witness.jsonl"
    monkeypatch.setenv("JINGZHUN_WITNESS", str(witness))
    seal(world.app, world["admin"])
    copy = _copy(world, tmp_path / "sealed-and-witnessed.db")
    world.exit_evidence(b, tmp=tmp_path)
    world.exit(b)
    witnessed = seal(world.app, world["admin"])
    _restore(world, copy)
    return witness, witness.read_text(encoding="utf-8"), witnessed


def test_a_witnessed_event_the_copy_lacks_is_said_missing_not_rewritten(lived, tmp_path, monkeypatch):
    world, _a, b = lived
    witness, _held, _head = _witnessed_then_restored(world, b, tmp_path, monkeypatch)
    (code, zh, en), = _said(check_witnesses(world.app, [str(witness)]))
    assert code == "witness_case_missing" and f"案件 {b} 的第" in zh and "已不在日志中" in zh
    assert "改写" not in zh and "or this database is a copy taken before it was written" in en


def test_a_seal_after_an_older_backup_was_restored_will_not_fork_the_witnessed_record(lived, tmp_path, monkeypatch):
    world, _a, b = lived
    witness, held, witnessed = _witnessed_then_restored(world, b, tmp_path, monkeypatch)
    world.household()                                      # work goes on from the restore...
    with world.app.engine.connect() as conn:
        sealed = conn.execute(select(func.max(t.audit_checkpoints.c.upto_seq))).scalar()
    with pytest.raises(RuleViolation) as refused:          # ...but its seal would fork the witnessed record
        seal(world.app, world["admin"])
    assert refused.value.code == "audit.seal_witness_ahead"
    zh, en = refused.value.render(world.app.config), refused.value.render(world.app.config, "en")
    assert f"已保存序号 {witnessed['upto_seq']} 的链头，而本库的记录并不延续该历史" in zh and "请恢复包含序号" in zh
    assert f"holds the head at seq {witnessed['upto_seq']}, which this database does not continue" in en
    assert witness.read_text(encoding="utf-8") == held     # nothing written to the witness...
    with world.app.engine.connect() as conn:               # ...nor sealed
        assert conn.execute(select(func.max(t.audit_checkpoints.c.upto_seq))).scalar() == sealed
