"""A data home backed up while its record is being worked on (`jingzhun backup`), and restored into a new home
(`jingzhun restore`) whose record then verifies whole against the backup's head; what is refused writes nothing."""
from __future__ import annotations

import itertools
import json
import os
import shutil
import stat
import threading

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from engine.adapters import tables as t
from engine.adapters.db import Settings
from engine.domain.errors import AuthError, BadInput, RuleViolation
from engine.reads.audit_verify import verify
from engine.services.backups import read_manifest, restore_backup, take_backup
from entrypoints.bootstrap import init_home, make_app
from tests.test_cli import jingzhun

lived = __import__("tests.helpers.tamper", fromlist=["lived"]).lived      # the fixture
_numbers = itertools.count()


@pytest.fixture
def new_database(world):
    """For a PostgreSQL world, the URL of a new empty database on its server (dropped after); else None."""
    url = make_url(world.app.settings.db_url)
    if url.get_backend_name() != "postgresql":
        yield None
        return
    name = f"jz_restore_{os.getpid()}_{next(_numbers)}"
    admin = create_engine(os.environ["JINGZHUN_TEST_PG_URL"], isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _cases(app) -> set[int]:
    with app.engine.connect() as conn:
        return set(conn.execute(select(t.cases.c.id)).scalars())


def _private(path) -> None:
    for folder, dirs, names in os.walk(path):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
        for name in names:
            assert stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) == 0o600, name


def test_a_backup_taken_while_households_are_registered_restores_a_record_that_verifies_whole(lived, new_database,
                                                                                              tmp_path):
    """The server keeps working while the backup runs (a cadre registers households meanwhile); the restored
    home holds every case registered before the backup began, its evidence files, and verifies whole
    (hashes, MACs with the key put back, checkpoints) against the head the backup names."""
    world, exited_case, _ = lived
    before = _cases(world.app)
    stop, registered = threading.Event(), []

    def cadre():
        while not stop.is_set() and len(registered) < 40:
            registered.append(world.household())

    worker = threading.Thread(target=cadre)
    worker.start()
    try:
        manifest = take_backup(world.app, world["admin"], tmp_path / "backup")
    finally:
        stop.set()
        worker.join()
    folder = tmp_path / "backup"
    database = "jingzhun.pgdump" if new_database else "jingzhun.db"
    assert set(os.listdir(folder)) == {"backup.json", "home.tar", database} == {*manifest["files"], "backup.json"}
    _private(folder)
    assert read_manifest(folder) == manifest and manifest["head"] and manifest["home_files"] >= 1
    assert not (tmp_path / "backup.partial").exists()

    home = tmp_path / "restored"
    restore_backup(Settings(home, new_database or f"sqlite:///{home / 'jingzhun.db'}"), folder)
    _private(home)
    assert not (home / "keys").exists()                      # the key file is kept apart
    (home / "keys").mkdir(mode=0o700)
    shutil.copy(world.app.settings.home / "keys" / "record.key", home / "keys" / "record.key")
    os.chmod(home / "keys" / "record.key", 0o600)
    settings = Settings(home, new_database or f"sqlite:///{home / 'jingzhun.db'}")
    if new_database:
        init_home(settings).__getitem__(0).close()          # the audit tables' rights taken back after pg_restore
    app = make_app(settings)
    try:
        seq, digest = manifest["head"].split(":")
        report = verify(app, against=(int(seq), digest))
        assert report.intact, [d.kind for d in report.damage]
        held = _cases(app)
        assert before <= held and held <= before | set(registered)
        with app.engine.connect() as conn:
            files = conn.execute(select(func.count()).select_from(t.evidence).where(
                t.evidence.c.file_sha256.is_not(None))).scalar()
        assert files >= 1 and not [d for d in report.damage if d.kind.startswith("file")]
    finally:
        app.close()
    with world.app.engine.connect() as conn:         # the backup recorded, naming what it wrote
        event = conn.execute(select(t.audit_events).where(t.audit_events.c.action == "backup_taken")).one()
    detail = event.detail if isinstance(event.detail, dict) else json.loads(event.detail)
    assert detail["head"] == manifest["head"]
    assert detail["files"] == {name: f["sha256"] for name, f in manifest["files"].items()}


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_backup_and_restore_from_the_command_line_say_what_to_do_next(lived, tmp_path):
    world, _, _ = lived
    home = world.app.settings.home
    done = jingzhun(["--home", home, "--as", "admin", "backup", tmp_path / "b"], token=world.tokens["admin"])
    assert done.code == 0, done.err
    assert "备份完成" in done.out and "密钥文件不在备份中" in done.out and "SHA-256" in done.out
    new = tmp_path / "new"
    back = jingzhun(["--home", new, "--lang", "en", "restore", tmp_path / "b"])
    assert back.code == 0, back.err
    assert f"{new}/keys/record.key" in back.out and "audit verify --against" in back.out
    again = jingzhun(["--home", home, "--as", "admin", "backup", tmp_path / "b"], token=world.tokens["admin"])
    assert again.code != 0 and "不是空文件夹" in again.err and "Traceback" not in again.err
    remote = jingzhun(["--server", "http://127.0.0.1:9", "--as", "admin", "backup", tmp_path / "c"],
                      token=world.tokens["admin"])
    assert remote.code != 0 and not (tmp_path / "c").exists()


def test_a_backup_is_refused_in_words_and_writes_nothing(lived, tmp_path):
    world, _, _ = lived
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(AuthError):
        take_backup(world.app, world["cd"], out / "by-director")        # an administrator's alone
    with pytest.raises(BadInput) as inside:
        take_backup(world.app, world["admin"], world.app.settings.home / "backups")
    assert inside.value.code == "backup.inside_home"
    (out / "full").mkdir()
    (out / "full" / "x.txt").write_text("kept")
    with pytest.raises(BadInput) as full:
        take_backup(world.app, world["admin"], out / "full")
    assert full.value.code == "backup.folder_not_empty"
    assert os.listdir(out) == ["full"] and os.listdir(out / "full") == ["x.txt"]
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.audit_events).where(t.audit_events.c.action == "backup_taken")).all() == []


def test_a_damaged_backup_or_a_home_in_use_is_refused_and_nothing_is_restored(lived, new_database, tmp_path):
    world, _, _ = lived
    take_backup(world.app, world["admin"], tmp_path / "b")
    shutil.copytree(tmp_path / "b", tmp_path / "d")
    home = tmp_path / "new"
    url = new_database or f"sqlite:///{home / 'jingzhun.db'}"
    with open(tmp_path / "d" / "home.tar", "r+b") as f:         # one byte of the archive changed
        f.seek(700)
        byte = f.read(1)
        f.seek(700)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(RuleViolation) as damaged:
        restore_backup(Settings(home, url), tmp_path / "d")
    assert damaged.value.code == "restore.file_damaged" and not home.exists()
    before = _cases(world.app)
    with pytest.raises(BadInput) as in_use:           # the world's own home: never written over
        restore_backup(world.app.settings, tmp_path / "b")
    assert in_use.value.code == "restore.home_not_empty"
    if not new_database:      # a new home whose SQLite database (JINGZHUN_DB) is the one in use: refused
        with pytest.raises(BadInput) as its_db:
            restore_backup(Settings(home, world.app.settings.db_url), tmp_path / "b")
        assert its_db.value.code == "restore.database_not_empty" and not home.exists()
    assert _cases(world.app) == before and world.household()       # the home in use as it was, working
    with pytest.raises(BadInput) as other:            # a backup of one kind of database into the other
        restore_backup(Settings(home, f"sqlite:///{home / 'jingzhun.db'}" if new_database else
                                "postgresql+psycopg://nobody@127.0.0.1:9/none"), tmp_path / "b")
    assert other.value.code == ("restore.needs_postgresql" if new_database else "restore.needs_sqlite")
    assert not home.exists()
