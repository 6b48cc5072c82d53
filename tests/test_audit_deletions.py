"""`audit verify` names what was deleted: a household an import made, the numbers a checkpoint's range
lost, a published head past the log's end, a step's event, an evidence row, an organisation event;
and it reports a guard switched off on PostgreSQL as one dropped (the audit ux4b, defects 1–3, 9–11)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from config import CONFIG_DIR, load_catalogue
from engine.adapters import tables as t
from engine.reads.audit_verify import seal, verify
from tests.helpers import tamper
from tests.helpers.tamper import GUARDED_TABLES, one, raw
from tests.world import VILLAGE, member_ids
from workflows.household import MemberInput
from workflows.household_import import ListedHousehold, import_households

lived = tamper.lived      # the fixture
LABELS = load_catalogue(CONFIG_DIR)


def _said(world, code: str) -> list[tuple[str, str, str]]:
    """(where, the Chinese line, the English line) of each finding of `code`."""
    return [(d.where, d.render(LABELS, "zh"), d.render(LABELS, "en")) for d in verify(world.app).damage
            if d.code == code]


def _import(world, n: int) -> tuple[int, int, int]:
    """`n` households imported from a list file by the county office: (its event's number, first, last case)."""
    listed = []
    for i in range(n):
        head, spouse = member_ids(2, 700 + 10 * i)
        members = [(2, MemberInput(f"户主{i}", head, "head")), (3, MemberInput(f"配偶{i}", spouse, "spouse"))]
        listed.append(ListedHousehold(f"L{i}", VILLAGE, members, ["illness"], code=f"L{i}"))
    result = import_households(world.app, world["cd"], listed, keep_good=False, source={"file": "reg.csv"},
                               on_problem=lambda *problem: None, on_skipped=lambda h: None)
    number = one(world, "SELECT case_seq FROM audit_events WHERE action = 'households_imported'")[0]
    return number, result.first_case, result.last_case


def _delete_case(case_id: int) -> list[str]:
    """Every row of a case, its events too, and the case itself (as its holder would, tables first)."""
    return [f"DELETE FROM {table.name} WHERE case_id = {case_id}" for table in reversed(t.metadata.sorted_tables)
            if "case_id" in table.c] + [f"DELETE FROM cases WHERE id = {case_id}"]


def test_a_household_an_import_made_deleted_whole_before_any_seal_is_named_by_the_import(world):
    number, first, last = _import(world, 3)
    assert last - first == 2 and verify(world.app).intact
    gone = first + 1
    raw(world, *_delete_case(gone), tables=GUARDED_TABLES)
    (where, zh, en), = _said(world, "import_cases_missing_named")
    assert where.startswith(f"organisation event {number} ")
    assert f"记载 3 户（案件 {first}–{last}），现存 2 户：案件 {gone} 不在库中" in zh and "reg.csv" in zh
    assert f"recorded 3 households (cases {first}–{last}); 2 remain: case {gone} is not in the database" in en


def test_a_guard_switched_off_or_the_right_to_edit_given_back_is_found_as_a_dropped_one(world):
    if world.app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's triggers cannot be switched off, and it has no privileges")
    with world.app.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    (where, zh, en), = _said(world, "guard_disabled")
    assert where == "trigger audit_events_no_change" and "已被停用" in zh and "disabled" in en
    assert not verify(world.app).intact
    with world.app.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        conn.execute(text("GRANT UPDATE, DELETE ON audit_events TO CURRENT_USER"))
    (where, zh, en), = _said(world, "privilege_granted")
    assert where == "table audit_events" and "DELETE, UPDATE" in zh and "granted again" in en
    with world.app.engine.begin() as conn:
        conn.execute(text("REVOKE UPDATE, DELETE ON audit_events FROM CURRENT_USER"))
    assert verify(world.app).intact


def test_a_checkpoint_whose_events_were_deleted_names_their_numbers_and_the_cases_that_lost_them(lived):
    world, a, _ = lived
    seal(world.app, world["admin"])
    with world.app.engine.connect() as conn:
        seqs = list(conn.execute(text(f"SELECT seq FROM audit_events WHERE case_id = {a} "
                                      "ORDER BY case_seq DESC LIMIT 2")).scalars())
    raw(world, f"DELETE FROM audit_events WHERE seq IN ({seqs[0]}, {seqs[1]})")
    (where, zh, en), = _said(world, "checkpoint_deleted_cases")
    missing = f"{seqs[1]}–{seqs[0]}" if seqs[0] == seqs[1] + 1 else f"{seqs[1]}, {seqs[0]}"
    assert f"序号 {missing} 共 2 个事件已被删除" in zh and f"所记事件多于日志所有的案件：{a}" in zh
    assert f"the 2 events numbered {missing} were deleted" in en


def test_a_published_head_that_was_never_sealed_or_lies_past_the_log_s_end_is_said_so(lived):
    world, _, _ = lived
    row = seal(world.app, world["admin"])
    upto, digest = row["upto_seq"], row["hash"]
    (code, where, zh, en), = [(d.code, d.where, d.render(LABELS, "zh"), d.render(LABELS, "en"))
                              for d in verify(world.app, against=(upto - 1, digest)).damage]   # a seq mistyped
    assert code == "published_head_not_sealed" and where == f"seq {upto - 1}"
    assert "该序号不是已封存的链头" in zh and "请核对所公布的链头" in zh and "not a sealed head" in en
    assert verify(world.app, against=(upto, digest)).intact
    raw(world, f"DELETE FROM audit_checkpoints WHERE upto_seq = {upto}",     # the log's end and its seal deleted
        f"DELETE FROM audit_events WHERE seq >= {upto - 1}")
    last = one(world, "SELECT max(seq) FROM audit_events")[0]
    said = [(d.code, d.render(LABELS, "zh"), d.render(LABELS, "en"))
            for d in verify(world.app, against=(upto, digest)).damage if d.kind == "published_head"]
    assert said == [("published_head_gone", said[0][1], said[0][2])]
    assert (f"日志现只到序号 {last}；公布时的序号 {last + 1}–{upto} 已不在日志中：日志末尾的事件被删除"
            in said[0][1])
    assert f"the log now ends at seq {last}; events {last + 1}–{upto}, published then, are no longer" in said[0][2]


def test_a_step_whose_event_was_deleted_is_not_said_to_be_written_into_the_database(lived):
    world, a, _ = lived
    seq = one(world, f"SELECT max(seq) FROM audit_events WHERE case_id = {a} AND action = 'step'")[0]
    raw(world, f"DELETE FROM audit_events WHERE seq >= {seq} AND case_id = {a}")
    said = _said(world, "step_event_deleted")
    assert said and all(w.startswith(f"case {a}, ") for w, _, _ in said)
    assert "审计事件已从日志删除" in said[0][1] and "直接写入数据库" not in said[0][1]
    assert not _said(world, "step_unrecorded")


def test_a_deleted_evidence_row_and_a_deleted_organisation_event_are_named_by_what_remains(lived):
    world, a, _ = lived
    evidence, kind = one(world, f"SELECT id, type FROM evidence WHERE case_id = {a} ORDER BY id LIMIT 1")
    raw(world, f"DELETE FROM evidence WHERE id = {evidence}")
    (where, zh, en), = _said(world, "evidence_missing_named")
    assert where == f"case {a}, evidence {evidence} ({kind})" and f"案件 {a}，材料 {evidence}" in zh
    seq, number = one(world, "SELECT seq, case_seq FROM audit_events WHERE case_id IS NULL ORDER BY seq DESC "
                             "LIMIT 1 OFFSET 1")
    before, after = [one(world, f"SELECT action FROM audit_events WHERE case_id IS NULL AND case_seq = {n}")[0]
                     for n in (number - 1, number + 1)]
    raw(world, f"DELETE FROM audit_events WHERE seq = {seq}")
    (where, zh, en), = _said(world, "organisation_missing")
    assert f"第 {number} 个组织事件不在日志中；它的类型随它一起删除" in zh
    assert f"「{LABELS[f'event.{before}']['zh']}」" in zh and f"“{LABELS[f'event.{after}']['en']}”" in en


def test_a_file_no_evidence_names_is_not_called_deletable_once_damage_is_found(lived, monkeypatch, capsys):
    """The scan of a case deleted whole stays in the store: with damage found it may be the only trace."""
    import cli
    from tests.helpers.db_option import db_option
    world, a, _ = lived
    monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens["insp"])
    url = world.app.engine.url.render_as_string(hide_password=False)
    args = ["--home", str(world.app.settings.home), *db_option(url), "--as", "insp", "audit", "verify"]
    world.app.evidence.root.joinpath("ab").mkdir(exist_ok=True)
    world.app.evidence.root.joinpath("ab", "ab" + "0" * 62).write_bytes(b"an upload cut short")
    assert cli.main(args) == 0
    assert "核对后可删除" in capsys.readouterr().out               # nothing else wrong: a leftover upload
    seal(world.app, world["admin"])
    raw(world, *_delete_case(a), tables=GUARDED_TABLES)
    assert cli.main(args) == 1
    out = capsys.readouterr().out
    assert "可能是被删除记录的材料文件" in out and "请保留，勿删除" in out and "核对后可删除" not in out
    assert cli.main(["--lang", "en", *args]) == 1
    assert "keep them, do not delete them" in capsys.readouterr().out
