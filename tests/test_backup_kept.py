"""The nightly backup inside `serve` and `backup --keep N ROOT` for cron: a folder named by the office time
under the configured folder, the last N kept, the older ones removed, never a folder it did not make nor the
one just taken, nothing removed when the backup failed; the failure recorded, told to the administrators
and shown with why (`backup --status`, the administrator's page, `GET /api/v1/backups`)."""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from engine.adapters import backup_files as files
from engine.adapters import tables as t
from engine.domain.errors import BadInput, RuleViolation
from engine.reads.audit_seal import SCHEDULER
from engine.reads.backup_status import backup_status
from engine.services.backup_rotation import backup_plan, kept_backups, take_kept_backup
from engine.services.backups import take_backup
from entrypoints import scheduler as jobs
from notifications.contacts import set_channels
from tests.test_cli import jingzhun
from tests.web.conftest import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _events(world, action: str) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.audit_events).where(t.audit_events.c.action == action)
                            .order_by(t.audit_events.c.seq)).all()


def _detail(row) -> dict:
    return row.detail if isinstance(row.detail, dict) else json.loads(row.detail)


def _next_day(world) -> None:
    world.clock.at = world.clock.at + timedelta(days=1)


@pytest.fixture
def root(tmp_path, monkeypatch):
    """The installation's backup folder, set as the server's environment sets it (the last 2 kept)."""
    folder = tmp_path / "backups"
    folder.mkdir()
    monkeypatch.setenv("JINGZHUN_BACKUP_DIR", str(folder))
    monkeypatch.setenv("JINGZHUN_BACKUP_KEEP", "2")
    monkeypatch.setenv("JINGZHUN_BACKUP_AT", "02:30")
    return folder


def test_the_running_scheduler_takes_the_nightly_backup_as_the_system(world, root):
    """The server's scheduler (no administrator: the process holding the record's keys) has the nightly job
    at the configured office time; run now, it writes ROOT/<office time>, recorded as the system's."""
    scheduler = jobs.build(world.app, None, BackgroundScheduler)
    done, runs = threading.Event(), []

    def listener(event):
        if event.job_id == "nightly_backup":
            runs.append(event)
            done.set()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("nightly_backup")
        nxt = job.trigger.get_next_fire_time(None, datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc))
        assert nxt.strftime("%Y-%m-%d %H:%M %Z") == "2026-12-07 02:30 CST"
        scheduler.modify_job("nightly_backup", next_run_time=datetime.now(timezone.utc))      # run now
        scheduler.resume()
        assert done.wait(60)
    finally:
        scheduler.shutdown(wait=True)
    assert runs[0].exception is None and runs[0].retval["folder"].endswith("/2019-01-10T1000")
    assert [p.name for p, _ in kept_backups(root)] == ["2019-01-10T1000"]
    assert os.listdir(root / "2019-01-10T1000") != []
    taken = _events(world, "backup_taken")
    assert [(e.person_code, e.role) for e in taken] == [("scheduler", None)]
    assert _detail(taken[0])["bytes"] > 0
    state = backup_status(world.app, world["admin"], backup_plan())
    assert state["last"]["by"] == "scheduler" and state["last"]["bytes"] == _detail(taken[0])["bytes"]
    assert state["plan"] == {"folder": str(root), "keep": 2, "at": "02:30"} and not state["failing"]
    assert state["next_run"] is not None and not state["not_scheduled"]     # the job store's next run
    said = jingzhun(["--home", world.app.settings.home, "--as", "admin", "backup", "--status"],
                    token=world.tokens["admin"], env={"JINGZHUN_DB": world.app.settings.db_url})
    assert said.code == 0 and "由 系统（每晚自动） 备份到" in said.out and "下一次自动备份" in said.out


def test_the_last_n_are_kept_and_nothing_it_did_not_make_is_removed(world, root, tmp_path):
    """Four nights, the last 2 kept: the two oldest of its own removed; a backup taken by hand into the same
    folder, a folder of notes, a file and a link named like a backup, an unfinished one and another
    installation's kept by number stay."""
    take_backup(world.app, world["admin"], root / "2019-01-01T0200")        # by hand: not kept by number
    (root / "notes").mkdir()
    (root / "notes" / "keep.txt").write_text("mine")
    (root / "2019-01-02T0200").write_text("a file")
    (root / "2019-01-03T0200.partial").mkdir()
    other = tmp_path / "other-disk"
    other.mkdir()
    linked = take_kept_backup(world.app, world["admin"], other, 5)["folder"]       # kept there, linked here
    (root / "2019-01-04T0200").symlink_to(linked)
    (root / "2019-01-05T0200").mkdir()         # another installation's, kept by number in the same folder
    (root / "2019-01-05T0200" / "backup.json").write_text(json.dumps({"kept": True, "record": "f" * 64, "files": {}}))
    taken = []
    for _night in range(4):
        taken.append(take_kept_backup(world.app, SCHEDULER, root, 2))
        _next_day(world)
    record = taken[0]["manifest"]["record"]
    assert [p.name for p, _ in kept_backups(root, record)] == ["2019-01-13T1000", "2019-01-12T1000"]
    assert sorted(os.listdir(root)) == ["2019-01-01T0200", "2019-01-02T0200", "2019-01-03T0200.partial",
                                        "2019-01-04T0200", "2019-01-05T0200", "2019-01-12T1000", "2019-01-13T1000",
                                        "notes"]
    assert os.path.isfile(os.path.join(linked, "backup.json"))
    state = backup_status(world.app, world["admin"], backup_plan())       # the unfinished one is said
    assert state["unfinished"] == ["2019-01-03T0200.partial"] and len(state["kept"]) == 2
    assert (root / "notes" / "keep.txt").read_text() == "mine"
    assert [d["removed"] for d in taken] == [[], [], ["2019-01-10T1000"], ["2019-01-11T1000"]]
    removed = _events(world, "backups_removed")
    assert [(_detail(e)["removed"], e.person_code) for e in removed] == [(["2019-01-10T1000"], "scheduler"),
                                                                         (["2019-01-11T1000"], "scheduler")]
    # Taken twice in a minute: a second folder beside the first. Keep 1: the one just taken stays.
    again = take_kept_backup(world.app, world["admin"], root, 1)
    assert again["folder"].endswith("/2019-01-14T1000")
    twice = take_kept_backup(world.app, world["admin"], root, 1)
    assert twice["folder"].endswith("/2019-01-14T1000-2") and twice["removed"] == ["2019-01-14T1000"]
    assert [p.name for p, _ in kept_backups(root, record)] == ["2019-01-14T1000-2"]
    # A clock set back: the backup just taken is kept even though its name is older than another's.
    world.clock.at = world.clock.at - timedelta(days=30)
    back = take_kept_backup(world.app, world["admin"], root, 1)
    assert back["folder"].endswith("/2018-12-15T1000") and back["removed"] == ["2019-01-14T1000-2"]


def test_a_failed_backup_removes_nothing_is_recorded_and_told_to_the_administrators(world, root, tmp_path,
                                                                                    monkeypatch):
    """The audit log cannot be sealed (a witness holds a later head: an older backup restored), so no backup
    is taken: the backups kept stay, the failure is in the activity log with why, a message waits for the
    administrator, and the state says it failed until a backup succeeds again."""
    set_channels(world.app, world["admin"], "admin", [("email", "admin@county.example", "zh")])
    take_kept_backup(world.app, SCHEDULER, root, 2)
    _next_day(world)
    take_kept_backup(world.app, SCHEDULER, root, 2)
    _next_day(world)
    before = sorted(os.listdir(root))
    witness = tmp_path / "witness.jsonl"
    witness.write_text(json.dumps({"seq": 99999, "hash": "0" * 64}) + "\n", encoding="utf-8")
    monkeypatch.setenv("JINGZHUN_WITNESS", str(witness))
    with pytest.raises(RuleViolation) as failed:
        take_kept_backup(world.app, SCHEDULER, root, 2)
    assert failed.value.code == "audit.seal_witness_ahead"
    assert sorted(os.listdir(root)) == before                 # nothing removed, nothing half written
    [event] = _events(world, "backup_failed")
    assert event.person_code == "scheduler" and _detail(event)["problem"]["key"] == "msg.audit.seal_witness_ahead"
    assert _detail(event)["folder"] == str(root / "2019-01-12T1000")
    with world.app.engine.connect() as conn:
        told = conn.execute(select(t.outbox).where(t.outbox.c.kind == "backup")).all()
    assert [(m.address, m.lang) for m in told] == [("admin@county.example", "zh")]
    assert "数据备份失败" in told[0].subject and "旧备份一份也没有删除" in told[0].body
    assert "99999" in told[0].body and "backup --status" in told[0].body
    with pytest.raises(RuleViolation):                         # the same night again: told once
        take_kept_backup(world.app, SCHEDULER, root, 2)
    with world.app.engine.connect() as conn:
        assert len(conn.execute(select(t.outbox.c.id).where(t.outbox.c.kind == "backup")).all()) == 1
    state = backup_status(world.app, world["admin"], backup_plan())
    assert state["failing"] and state["last_failure"]["problem"]["key"] == "msg.audit.seal_witness_ahead"
    assert [k["name"] for k in state["kept"]] == ["2019-01-11T1000", "2019-01-10T1000"]
    monkeypatch.delenv("JINGZHUN_WITNESS")
    with pytest.raises(BadInput) as gone:                       # the backup disk not mounted: said so
        take_kept_backup(world.app, SCHEDULER, tmp_path / "unmounted", 2)
    assert gone.value.code == "backup.no_root" and _events(world, "backup_failed")[-1].person_code == "scheduler"
    take_kept_backup(world.app, SCHEDULER, root, 2)            # and once a backup succeeds, it no longer fails
    assert not backup_status(world.app, world["admin"], backup_plan())["failing"]


def test_settings_that_cannot_be_meant_are_refused_in_words(world, tmp_path):
    home, elsewhere = world.app.settings.home, tmp_path / "backups"
    for env, code in (({"JINGZHUN_BACKUP_DIR": "backups"}, "backup.dir_not_absolute"),
                      ({"JINGZHUN_BACKUP_DIR": str(home / "b")}, "backup.inside_home"),
                      ({"JINGZHUN_BACKUP_DIR": str(elsewhere), "JINGZHUN_BACKUP_KEEP": "0"}, "backup.keep_invalid"),
                      ({"JINGZHUN_BACKUP_DIR": str(elsewhere), "JINGZHUN_BACKUP_KEEP": "seven"}, "backup.keep_invalid"),
                      ({"JINGZHUN_BACKUP_DIR": str(elsewhere), "JINGZHUN_BACKUP_AT": "2am"}, "backup.at_invalid"),
                      ({"JINGZHUN_BACKUP_DIR": str(elsewhere), "JINGZHUN_BACKUP_AT": "24:00"}, "backup.at_invalid")):
        with pytest.raises(BadInput) as refused:
            backup_plan(env, home)
        assert refused.value.code == code
        assert "{" not in refused.value.render(world.app.config, "zh")
    assert backup_plan({}, home) is None
    plan = backup_plan({"JINGZHUN_BACKUP_DIR": str(elsewhere)}, home)
    assert (plan.keep, plan.at.strftime("%H:%M")) == (7, "02:00")


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_backup_keep_from_cron_and_backup_status_from_the_command_line(world, root, tmp_path):
    home, token = world.app.settings.home, world.tokens["admin"]
    first = jingzhun(["--home", home, "--as", "admin", "backup", "--keep", "1", root], token=token)
    assert first.code == 0, first.err
    assert "备份完成" in first.out and "没有需要删除的旧备份" in first.out
    _next_day(world)
    world.app.close()
    second = jingzhun(["--home", home, "--as", "admin", "--lang", "en", "backup", "--keep", "1", root], token=token)
    assert second.code == 0, second.err
    assert [p.name for p, _ in kept_backups(root)] != []
    status = jingzhun(["--home", home, "--as", "admin", "backup", "--status"], token=token)
    assert status.code == 0, status.err
    assert f"每晚 02:30 自动备份到 {root}，保留最近 2 份" in status.out and "最近一次备份" in status.out
    assert "由 admin 备份到" in status.out and "字节" in status.out
    assert "已核对：完整" in first.out and "  已核对：完整" in status.out and "回读新备份" in first.err
    assert "调度程序没有安排每晚备份" in status.out          # no scheduler ran with these settings here
    as_json = jingzhun(["--home", home, "--as", "admin", "backup", "--status", "--json"], token=token)
    assert json.loads(as_json.out)["last"]["by"] == "admin"
    both = jingzhun(["--home", home, "--as", "admin", "backup", "--status", root], token=token)
    assert both.code != 0 and "`--status` 只查看备份情况" in both.err
    none = jingzhun(["--home", home, "--as", "admin", "backup"], token=token)
    assert none.code != 0 and "--keep 7 ROOT" in none.err and "Traceback" not in none.err
    director = jingzhun(["--home", home, "--as", "cd", "backup", "--status"], token=world.tokens["cd"])
    assert director.code != 0 and "Traceback" not in director.err
    (tmp_path / "gone").mkdir()
    unmounted = jingzhun(["--home", home, "--as", "admin", "backup", "--keep", "3", tmp_path / "gone" / "x"],
                         token=token)
    assert unmounted.code != 0 and "不存在或不是文件夹" in unmounted.err
    failing = jingzhun(["--home", home, "--as", "admin", "--lang", "en", "backup", "--status"], token=token)
    assert failing.code == 1 and "Backup failed" in failing.out and "does not exist or is not a folder" in failing.out


def _cli(world, args: list[str], env: dict[str, str], **popen) -> subprocess.CompletedProcess:
    """`jingzhun` in a process of its own over the world's home, as the administrator."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    return subprocess.run([sys.executable, "-m", "cli", "--home", str(world.app.settings.home), *args],
                          cwd=ROOT, env={**clean, "JINGZHUN_DB": world.app.settings.db_url, "JINGZHUN_AS": "admin",
                                         "JINGZHUN_TOKEN": world.tokens["admin"], **env},
                          capture_output=True, text=True, timeout=120, **popen)


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_serve_does_not_start_on_a_backup_setting_that_cannot_be_meant(world, tmp_path):
    world.app.close()
    answer = _cli(world, ["serve", "--port", str(free_port())],
                  {"JINGZHUN_BACKUP_DIR": str(tmp_path / "backups"), "JINGZHUN_BACKUP_KEEP": "0"})
    assert answer.returncode == 2 and "Traceback" not in answer.stderr
    assert "`JINGZHUN_BACKUP_KEEP` 是保留的备份份数，须是 1 到 3650 之间的整数，现在是 0" in answer.stderr


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_a_backup_disk_that_refuses_the_copy_is_said_and_removes_nothing(world, tmp_path):
    """`backup --keep` from cron where no file may grow past half the database (a file size limit: the
    operating system's EFBIG, which SQLite reports as a 'disk I/O error'): said as the limit it is, with the
    limit and what the database needs, exit non-zero; the backups kept stay, nothing half written is left,
    the failure is recorded and `backup --status` says it."""
    root = tmp_path / "backups"
    root.mkdir()
    take_kept_backup(world.app, world["admin"], root, 1)
    db = world.app.settings.home / "jingzhun.db"
    world.app.close()
    limit = os.path.getsize(db) // 2
    assert limit > 256 * 1024, "the world's database is too small for this test's limit"

    def cramp() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # EFBIG said to the writer, not a signal killing it
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    answer = _cli(world, ["backup", "--keep", "1", str(root)], {}, preexec_fn=cramp)
    assert answer.returncode != 0 and "Traceback" not in answer.stderr
    needs = f"{os.path.getsize(db) / 1048576:.1f}"
    assert answer.stderr.splitlines()[-1].startswith(
        f"错误 [backup.file_limit]：系统不允许在 {root} 写入超过 {limit / 1048576:.1f} MB 的文件")
    assert f"而数据库需要 {needs} MB" in answer.stderr and "`ulimit -f`" in answer.stderr
    assert "backup into" not in answer.stderr                           # no log line for a person
    assert os.listdir(root) == ["2019-01-10T1000"]
    failed = _events(world, "backup_failed")
    assert [_detail(e)["problem"]["key"] for e in failed] == ["msg.backup.file_limit"]
    status = _cli(world, ["--lang", "en", "backup", "--status"], {})
    assert status.returncode == 1 and "Backup failed" in status.stdout and "file size limit" in status.stdout


@pytest.fixture
def small_disk(tmp_path):
    """A file system of 256 KiB (tmpfs, mounted as root), smaller than the world's database."""
    where = tmp_path / "small-disk"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"no small file system to fill (mount: {mounted.stderr.strip()})")
    yield where
    subprocess.run(["umount", str(where)], check=True)


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_a_full_backup_disk_is_said_full_with_where_what_is_free_and_what_is_needed(world, small_disk):
    """`backup --keep` onto a disk too small for the database: said full, where, how much is free and how
    much the database needs, in both languages; nothing half written is left, the failure is recorded with
    the same words and `backup --status` says it."""
    db = world.app.settings.home / "jingzhun.db"
    world.app.close()
    answer = _cli(world, ["backup", "--keep", "1", str(small_disk)], {})
    assert answer.returncode != 0 and "Traceback" not in answer.stderr
    free = f"{shutil.disk_usage(small_disk).free / 1048576:.1f}"
    needs = f"{os.path.getsize(db) / 1048576:.1f}"
    assert answer.stderr.splitlines()[-1] == (
        f"错误 [backup.disk_full_at]：备份盘已满：{small_disk} 只剩 {free} MB，仅数据库就需要 {needs} MB；"
        "备份没有做成，没有删除任何旧备份。请在那里腾出空间、减少保留的份数（`JINGZHUN_BACKUP_KEEP`）或换一块更大的盘")
    assert os.listdir(small_disk) == []
    [failed] = _events(world, "backup_failed")
    assert _detail(failed)["problem"] == {"key": "msg.backup.disk_full_at",
                                          "params": {"folder": str(small_disk), "free": free, "needs": needs}}
    status = _cli(world, ["--lang", "en", "backup", "--status"], {})
    assert status.returncode == 1
    assert f"The backup disk is full: {free} MB free in {small_disk}, the database alone needs {needs} MB" \
        in status.stdout


def _count_events(world) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.audit_events)).scalar()


def test_a_new_backup_is_read_back_whole_before_older_ones_are_removed(world, root, monkeypatch):
    """Each backup is read back from its disk before it takes its name: the database's copy opened anew
    (SQLite read-only with its integrity check; PostgreSQL's dump listed and read through by `pg_restore`),
    holding the events the snapshot held; the manifest and `backup --status` say so. A copy the disk gave
    back cut short is a failed backup: recorded with why, and the older backups stay."""
    first = take_kept_backup(world.app, SCHEDULER, root, 1)
    check = first["manifest"]["check"]
    events = _count_events(world) - 1               # all but the backup's own event, recorded after it
    assert check["whole"] is True and check["events"] == events \
        and check["home_files"] == first["manifest"]["home_files"]
    assert check["last"] == f"{events}:" + _events(world, "backup_taken")[-1].prev_hash
    assert json.loads((root / "2019-01-10T1000" / "backup.json").read_text())["check"] == check
    state = backup_status(world.app, world["admin"], backup_plan())
    assert state["last"]["check"]["events"] == events and state["kept"][0]["check"]["whole"] is True
    _next_day(world)

    kind = world.app.engine.dialect.name
    name = "copy_sqlite" if kind == "sqlite" else "dump_postgresql"

    def cut_short(copy):                 # the real copy, then the disk gives back half of it
        def copied(*args, **kwargs):
            done = copy(*args, **kwargs)
            target = args[1]
            with open(target, "r+b") as f:
                f.truncate(os.path.getsize(target) // 2)
            return done
        return copied

    monkeypatch.setattr(files, name, cut_short(getattr(files, name)))
    with pytest.raises(BadInput) as failed:
        take_kept_backup(world.app, SCHEDULER, root, 1)
    assert failed.value.code == "backup.check_unreadable"
    assert "没有删除任何旧备份" in failed.value.render(world.app.config, "zh")
    assert sorted(os.listdir(root)) == ["2019-01-10T1000"]          # the older one stays, nothing half written
    assert _detail(_events(world, "backup_failed")[-1])["problem"]["key"] == "msg.backup.check_unreadable"
    assert backup_status(world.app, world["admin"], backup_plan())["failing"]


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_a_copy_that_lost_events_is_a_failed_backup_that_says_how_many(world, root, monkeypatch):
    """A copy whole to SQLite's own check but missing the last event the snapshot held (a disk that lost a
    write) is given up: the message names what the copy holds and what the database held."""
    copy = files.copy_sqlite

    def lost_a_write(source, target, head_seq):
        had = copy(source, target, head_seq)
        with closing(sqlite3.connect(target)) as conn, conn:       # the copy's guard triggers set aside
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                conn.execute(f"DROP TRIGGER {name}")
            conn.execute("DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)")
        return had

    monkeypatch.setattr(files, "copy_sqlite", lost_a_write)
    events = _count_events(world)                         # the snapshot: every event so far
    with pytest.raises(BadInput) as failed:
        take_kept_backup(world.app, SCHEDULER, root, 1)
    assert failed.value.code == "backup.check_differs" and os.listdir(root) == []
    said = failed.value.render(world.app.config, "zh")
    assert f"备份里有 {events - 1} 条审计记录" in said and f"数据库当时有 {events} 条" in said, said


def test_a_full_backup_disk_under_a_postgresql_dump_is_said_full_with_what_is_free(world, tmp_path):
    """The same full disk under `pg_dump` (its dump's size not known before it is written) or the archive:
    said full, where and how much is free, not as `pg_dump`'s own English line."""
    if world.app.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL dump (JINGZHUN_TEST_PG_URL)")
    where = tmp_path / "tiny-disk"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", str(where)]).returncode:
        pytest.skip("no small file system to fill")
    try:
        with pytest.raises(BadInput) as failed:
            take_kept_backup(world.app, SCHEDULER, where, 1)
        free = f"{shutil.disk_usage(where).free / 1048576:.1f}"
        assert failed.value.code == "backup.disk_full_free" and os.listdir(where) == []
        assert failed.value.render(world.app.config, "zh").startswith(f"备份盘已满：{where} 只剩 {free} MB；")
    finally:
        subprocess.run(["umount", str(where)], check=True)
