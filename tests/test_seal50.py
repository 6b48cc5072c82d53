"""A seal never signs over a broken chain (auditor a5, finding 9: `audit seal` sealed a log with an
event deleted by hand, "已封存 2 条事件", without a word), and the activity log says a deactivation's
reason and the posts it ended (finding 7). SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.reads import audit_seal
from engine.reads.audit_verify import seal
from engine.reads.oversight import activity
from engine.services import accounts
from entrypoints import scheduler as jobs
from notifications.contacts import set_channels
from tests.helpers.tamper import raw, rewrite_case
from tests.test_inspection_reading import jingzhun


def _checkpoints(world) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.audit_checkpoints)).scalar()


def events_of(world, case: int) -> list[tuple[int, int]]:
    with world.app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t.audit_events.c.seq, t.audit_events.c.case_seq).where(
            t.audit_events.c.case_id == case).order_by(t.audit_events.c.case_seq))]


@pytest.fixture
def sealed(world):
    """Two households identified and sealed; then one more event on the first (not yet sealed)."""
    a, b = world.household(), world.household()
    world.identify([a, b])
    assert seal(world.app, world["admin"]) is not None
    world.assist(a, first="pc1", second=None)
    return world, a, b


def test_a_seal_over_an_event_deleted_from_a_sealed_range_is_refused_said_and_recorded(sealed):
    world, a, b = sealed
    seq, case_seq = events_of(world, b)[3]
    raw(world, f"DELETE FROM audit_events WHERE seq = {seq}")
    before = _checkpoints(world)
    with pytest.raises(RuleViolation) as refused:
        seal(world.app, world["admin"])
    assert refused.value.code == "audit.seal_damaged" and _checkpoints(world) == before     # nothing sealed
    said = refused.value.render(world.app.config, "zh")
    assert "审计日志已损坏，这次没有封存" in said and f"序号 {seq} 共 1 个事件已被删除" in said, said
    assert "`jingzhun audit verify`" in said
    assert f"the 1 events numbered {seq} were deleted" in refused.value.render(world.app.config, "en")
    # where inspectors see it: the activity log (a county's inspector too: it is the whole log's) and /inspect
    [entry] = activity(world.app, world["insp"], action="seal_refused")["events"]
    assert entry["person"] == "admin" and dict(entry["detail"])["findings"] == str(refused.value.params["n"])
    shown = audit_seal.seal_refusal(world.app)
    assert shown is not None and shown["damage"][0].code == "checkpoint_deleted"
    code, out, err = jingzhun(world, "admin", "audit", "seal")
    assert code == 1 and "已封存" not in out and "审计日志已损坏，这次没有封存" in err, (out, err)
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "seal_refused")
    assert code == 0 and "封存被拒绝（审计日志已损坏）" in out and "损坏处数：" in out, err


def test_an_event_since_the_last_seal_changed_or_a_case_s_last_event_deleted_is_not_sealed(sealed):
    world, a, b = sealed
    last_seq, last_case_seq = events_of(world, a)[-1]
    raw(world, f"UPDATE audit_events SET reason = '改过' WHERE seq = {last_seq}")
    with pytest.raises(RuleViolation) as refused:
        seal(world.app, world["admin"])
    assert f"案件 {a}，事件 {last_case_seq}（序号 {last_seq}）" in refused.value.render(world.app.config, "zh")
    assert "事件被改动" in refused.value.render(world.app.config, "zh")


def test_a_case_s_last_event_deleted_is_not_sealed(sealed):
    world, a, b = sealed
    last_seq, last_case_seq = events_of(world, b)[-1]          # sealed already: its case's head still names it
    raw(world, f"DELETE FROM audit_events WHERE seq = {last_seq}")
    with pytest.raises(RuleViolation) as refused:
        seal(world.app, world["admin"])
    assert "审计日志已损坏" in refused.value.render(world.app.config, "zh")
    heads = [d for d in audit_seal.seal_refusal(world.app)["damage"] if d.code == "case_head"]
    assert [dict(d.params)["case"] for d in heads] == [b], audit_seal.seal_refusal(world.app)
    assert f"案件 {b}：案件记载 {last_case_seq} 个事件" in heads[0].text


def test_a_case_s_chain_rewritten_whole_its_checkpoints_dropped_is_not_sealed_anew(sealed):
    """Someone with the database but not the key file rewrites a case's chain consistently and drops the
    checkpoints for the next seal to rebuild: the events' MACs give it away before anything is signed."""
    world, a, b = sealed
    rewrite_case(world, a)
    with pytest.raises(RuleViolation) as refused:
        seal(world.app, world["admin"])
    assert "事件的认证码不对" in refused.value.render(world.app.config, "zh") and _checkpoints(world) == 0


def test_an_intact_log_is_sealed_and_a_refusal_no_longer_shown_once_sealed(sealed):
    world, a, b = sealed
    assert seal(world.app, world["admin"])["events"] > 0 and audit_seal.seal_refusal(world.app) is None


def test_the_nightly_seal_of_a_damaged_log_tells_administrators_and_inspectors_once(sealed, monkeypatch):
    world, a, b = sealed
    set_channels(world.app, world["admin"], "admin", [("file", "admin", "zh")])
    set_channels(world.app, world["admin"], "insp", [("file", "insp", "en")])
    set_channels(world.app, world["admin"], "th", [("file", "th", "zh")])
    seq, _ = events_of(world, b)[3]
    raw(world, f"DELETE FROM audit_events WHERE seq = {seq}")
    scheduler = jobs.build(world.app, world["admin"], __import__("apscheduler.schedulers.background",
                                                                 fromlist=["BackgroundScheduler"]).BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        mailbox = world.app.settings.home / "mailbox"

        def night(who: str) -> list[str]:
            assert jobs.job_audit_seal() is None
            jobs.job_dispatch()
            world.clock.at += timedelta(days=1)
            return sorted(p.read_text(encoding="utf-8") for p in (mailbox / who).glob("*"))

        told = night("admin")
        assert len(told) == 1 and "审计日志已损坏，未能封存" in told[0] and f"序号 {seq} 共 1 个事件已被删除" in told[0]
        assert "`jingzhun audit verify`" in told[0]
        assert night("admin") == told                                # the next night: refused, not told again
        [english] = sorted(p.read_text(encoding="utf-8") for p in (mailbox / "insp").glob("*"))
        assert "The audit log is damaged" in english
        assert not (mailbox / "th").exists()
        assert _checkpoints(world) == 1
    finally:
        scheduler.shutdown(wait=False)


def test_the_activity_log_says_why_a_person_was_deactivated_and_which_posts_ended(world):
    accounts.deactivate(world.app, world["admin"], "tl", "调任县农业农村局，2020-10-20 起")
    [entry] = activity(world.app, world["insp"], action="person_deactivated")["events"]
    detail = dict(entry["detail"])
    assert detail["reason"] == "调任县农业农村局，2020-10-20 起" and detail["posts"] == [
        ["resident_team_leader", "360730100201"]]
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "person_deactivated")
    assert code == 0 and "理由：调任县农业农村局，2020-10-20 起" in out and "终止的岗位：驻村工作队长/360730100201" in out, out
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "person_deactivated", lang="en")
    assert code == 0 and "reason: 调任县农业农村局" in out and "posts ended: Resident work team leader/360730100201" in out, out


def test_a_backup_of_a_damaged_log_is_still_taken_but_seals_nothing_and_says_so(sealed, tmp_path):
    from engine.services.backups import take_backup
    world, a, b = sealed
    seq, _ = events_of(world, b)[3]
    raw(world, f"DELETE FROM audit_events WHERE seq = {seq}")
    before, steps = _checkpoints(world), []
    manifest = take_backup(world.app, world["admin"], tmp_path / "backup", steps.append)
    assert "seal_refused" in steps and _checkpoints(world) == before and (tmp_path / "backup" / "backup.json").exists()
    assert audit_seal.seal_refusal(world.app) is not None and manifest


def test_a_deactivated_person_s_trace_says_when_by_whom_and_why(world):
    from engine.reads.trace import person_trace
    accounts.deactivate(world.app, world["admin"], "tl", "调任县农业农村局，2020-10-20 起")
    left = person_trace(world.app, world["insp"], "tl")["person"]["deactivated"]
    assert (left["by"], left["reason"]) == ("admin", "调任县农业农村局，2020-10-20 起") and left["at"]
    code, out, err = jingzhun(world, "insp", "trace", "--person", "tl")
    assert code == 0 and "由 admin 停用，理由：调任县农业农村局，2020-10-20 起" in out, (out, err)
    assert person_trace(world.app, world["insp"], "ts1")["person"]["deactivated"] is None
