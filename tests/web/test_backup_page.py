"""The administrator's 备份 page and `GET /api/v1/backups`: when the last backup was taken, by whom, how big,
and a failure since with why, in the reader's language; the nightly settings; the backups kept."""
from __future__ import annotations

import json

import pytest

from engine.domain.errors import RuleViolation
from engine.reads.audit_seal import SCHEDULER
from engine.services.backup_rotation import take_kept_backup


def test_the_administrator_sees_the_last_backup_and_a_failure_since_with_why(world, world_clients, tmp_path,
                                                                             monkeypatch):
    page, api = world_clients
    root = tmp_path / "backups"
    root.mkdir()
    monkeypatch.setenv("JINGZHUN_BACKUP_DIR", str(root))
    admin = page("admin")
    before = admin.get("/admin/backups")
    assert before.status_code == 200 and "每晚 02:00 自动备份到" in before.text and "保留最近 7 份" in before.text
    assert "还没有做过备份" in before.text and 'href="/admin/backups"' in admin.get("/admin/people").text
    assert 'id="backup-not-scheduled"' in before.text and "<code>--no-scheduler</code>" in before.text   # no scheduler ran here
    done = take_kept_backup(world.app, SCHEDULER, root, 7)
    size = sum(f["bytes"] for f in done["manifest"]["files"].values())
    shown = admin.get("/admin/backups").text
    assert "系统（每晚自动）" in shown and f"{size:,} 字节" in shown and "2019-01-10 10:00" in shown
    assert 'data-backup="2019-01-10T1000"' in shown and 'id="backup-failed"' not in shown
    events = done["manifest"]["check"]["events"]        # read back before it took its name
    assert shown.count(f"已核对：完整，{events:,} 条审计记录") == 2         # the last backup's, and in the list
    world.clock.at = world.clock.at.replace(hour=3)      # 11:00 office time, the session still open
    witness = tmp_path / "witness.jsonl"
    witness.write_text(json.dumps({"seq": 99999, "hash": "0" * 64}) + "\n", encoding="utf-8")
    monkeypatch.setenv("JINGZHUN_WITNESS", str(witness))
    with pytest.raises(RuleViolation):
        take_kept_backup(world.app, SCHEDULER, root, 7)
    failed = admin.get("/admin/backups").text
    assert 'id="backup-failed"' in failed and "最近一次备份失败" in failed and "2019-01-10 11:00" in failed
    assert "见证方" in failed and "99999" in failed
    admin.cookies.set("lang", "en")
    english = admin.get("/admin/backups")
    assert "The last backup failed" in english.text and "witness" in english.text
    assert f"checked: whole, {events:,} events" in english.text
    answer = api("admin", "en").get("/api/v1/backups")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["failing"] and body["last"]["bytes"] == size and body["last"]["by"] == "scheduler"
    assert body["last"]["check"]["whole"] is True and body["kept"][0]["check"]["events"] == events
    assert body["last_failure"]["problem"]["key"] == "msg.audit.seal_witness_ahead"
    assert "witness" in body["last_failure"]["problem_text"] and [k["name"] for k in body["kept"]] == ["2019-01-10T1000"]
    assert page("cd").get("/admin/backups").status_code == 403
    assert api("cd").get("/api/v1/backups").status_code == 403


def test_an_administrator_s_first_pages_say_a_failed_backup_until_one_succeeds(world, world_clients, tmp_path,
                                                                               monkeypatch):
    """An administrator with no channel hears of a failed backup on the pages they open first, not only on
    the 备份 page: a banner with when and why, on every page of theirs, until a backup succeeds; a county
    director (no administrator) sees none."""
    page, _api = world_clients
    root = tmp_path / "backups"
    root.mkdir()
    admin = page("admin")
    take_kept_backup(world.app, SCHEDULER, root, 7)
    assert 'id="alarm-backup"' not in admin.get("/admin/people").text
    witness = tmp_path / "witness.jsonl"
    witness.write_text(json.dumps({"seq": 99999, "hash": "0" * 64}) + "\n", encoding="utf-8")
    monkeypatch.setenv("JINGZHUN_WITNESS", str(witness))
    with pytest.raises(RuleViolation):
        take_kept_backup(world.app, SCHEDULER, root, 7)
    first = admin.get("/home", follow_redirects=True)
    assert first.url.path == "/admin/people" and 'id="alarm-backup"' in first.text
    shown = first.text.split('id="alarm-backup"')[1].split("</p>")[0]
    assert "最近一次备份失败（2019-01-10 10:00）" in shown and "99999" in shown and 'href="/admin/backups"' in shown
    assert 'id="alarm-backup"' in admin.get("/admin/regions").text
    assert 'id="alarm-backup"' not in admin.get("/admin/backups").text      # said there in full already
    admin.cookies.set("lang", "en")
    assert "The last backup failed" in admin.get("/admin/people").text
    assert 'id="alarm-backup"' not in page("cd").get("/work").text
    monkeypatch.delenv("JINGZHUN_WITNESS")
    take_kept_backup(world.app, SCHEDULER, root, 7)
    assert 'id="alarm-backup"' not in admin.get("/admin/people").text


def test_an_administrator_s_pages_say_a_seal_refused_for_a_damaged_log(world, world_clients):
    """The nightly seal refused because the log is damaged (an event deleted by hand) is said at the top of
    the administrator's pages, with how many findings and what to run, until a seal is signed again."""
    from engine.reads.audit_verify import seal
    from tests.helpers.tamper import raw
    from tests.test_seal50 import events_of
    page, _api = world_clients
    a = world.household()
    world.identify([a])
    seal(world.app, world["admin"])
    assert 'id="alarm-seal"' not in page("admin").get("/admin/people").text
    seq, _ = events_of(world, a)[2]
    raw(world, f"DELETE FROM audit_events WHERE seq = {seq}")
    with pytest.raises(RuleViolation):
        seal(world.app, world["admin"])
    shown = page("admin").get("/admin/people").text
    assert 'id="alarm-seal"' in shown and "日志已损坏（发现 1 处）" in shown and "<code>jingzhun audit verify</code>" in shown
    assert 'id="alarm-seal"' not in page("cd").get("/work").text
