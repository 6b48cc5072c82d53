"""What an operator meets putting the server into service: `init` run from another folder (or after a
restore whose key file is not back yet) against a database that has its record keys refuses to make a
new key, which would have left the record unverifiable for good."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.adapters.db import Settings
from engine.domain.errors import BadInput
from tests.helpers.schema import downgrade
from entrypoints.bootstrap import init_home, make_app


def test_init_with_another_data_home_refuses_a_new_record_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, _token = init_home(Settings.from_env(str(tmp_path / "home"), url))
    first.close()
    elsewhere = tmp_path / "other-folder" / "jingzhun-data"
    with pytest.raises(BadInput) as refused:
        init_home(Settings.from_env(str(elsewhere), url))
    assert refused.value.code == "keys.missing_for_database" and refused.value.params["count"] == 1
    assert not (elsewhere / "keys" / "record.key").exists()
    again, token = init_home(Settings.from_env(str(tmp_path / "home"), url))     # its own home: an upgrade
    with again.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.record_keys)).scalar() == 1 and token is None
    again.close()


def test_init_of_a_home_whose_key_lives_at_jingzhun_key_file_is_not_refused(tmp_path, monkeypatch):
    """The key kept outside the data home (JINGZHUN_KEY_FILE, as the server and every key check read it):
    `init` again (an upgrade) refused it as a home without its key; a home with the key in neither place
    still is, and is told which file was looked for."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    key = tmp_path / "secrets" / "record.key"
    monkeypatch.setenv("JINGZHUN_KEY_FILE", str(key))
    first, _token = init_home(Settings.from_env(str(tmp_path / "home"), url))
    first.close()
    assert key.exists() and not (tmp_path / "home" / "keys" / "record.key").exists()
    again, token = init_home(Settings.from_env(str(tmp_path / "home"), url))
    with again.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.record_keys)).scalar() == 1 and token is None
    again.close()
    monkeypatch.setenv("JINGZHUN_KEY_FILE", str(tmp_path / "elsewhere.key"))      # neither there nor in the home
    with pytest.raises(BadInput) as refused:
        init_home(Settings.from_env(str(tmp_path / "home"), url))
    assert refused.value.code == "keys.missing_for_database_file" and refused.value.params["count"] == 1
    said = refused.value.render(first.config, "en")
    assert f"the key file {tmp_path / 'elsewhere.key'} that `JINGZHUN_KEY_FILE` names is not there" in said
    assert not (tmp_path / "elsewhere.key").exists()


def test_init_says_it_upgraded_and_what_to_do_next(tmp_path):
    """`init` after a new version said 「数据库结构已是最新」 though it had just migrated the database, and
    nothing told the operator that the home keeps the configuration installed before."""
    import migrations
    from sqlalchemy import create_engine
    from tests.test_cli import jingzhun
    home = tmp_path / "home"
    made = jingzhun(["--home", str(home), "init"])
    assert made.code == 0 and f"已建立数据库结构（版本 {migrations.HEAD_REVISION}）" in made.out
    engine = create_engine(f"sqlite:///{home / 'jingzhun.db'}")
    downgrade(engine, "0016")
    engine.dispose()
    upgraded = jingzhun(["--home", str(home), "init"])
    assert upgraded.code == 0, upgraded.err
    assert f"已从版本 0016 升级到 {migrations.HEAD_REVISION}" in upgraded.out and "config install" in upgraded.out
    again = jingzhun(["--home", str(home), "init"])
    assert "数据库结构已是最新" in again.out


# --- a data home opened only when it is whole ------------------------------------------------------

def _free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(home, *options: str):
    """`jingzhun serve` on `home`, as an operator runs it; one that starts is killed after 60 s (run_installed)."""
    from tests.test_cli import run_installed
    return run_installed("--home", str(home), *options, "serve", "--port", str(_free_port()))


def _made(tmp_path):
    """A data home made by `init`, with a province added; its administrator's token."""
    from tests.test_cli import jingzhun
    from tests.world import PROVINCE
    home = tmp_path / "home"
    made = jingzhun(["--home", home, "init"])
    token = made.out.strip().splitlines()[-1]
    assert jingzhun(["--home", home, "--as", "admin", "region", "add", PROVINCE, "江西省"], token=token).code == 0
    return home, token


def _events(home) -> int:
    import sqlite3
    with sqlite3.connect(home / "jingzhun.db") as conn:
        return conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]


def test_a_restored_home_whose_key_file_is_not_back_serves_nothing_and_writes_nothing(tmp_path):
    """A restore whose key file (kept apart, as the README says) was not back yet: `serve` started and
    took a day of work, which `audit verify` called forged once the key was back. Now the server does
    not start and a command that writes refuses, saying which file to put back; a read still runs."""
    from tests.test_cli import jingzhun
    from tests.world import CITY
    home, token = _made(tmp_path)
    events = _events(home)
    (home / "keys" / "record.key").rename(tmp_path / "record.key.copy")
    served = _serve(home)
    assert served.returncode == 2 and "[keys.missing_for_work]" in served.stderr, served
    assert f"{home / 'keys' / 'record.key'}" in served.stderr and "服务已启动" not in served.stdout
    wrote = jingzhun(["--home", home, "--as", "admin", "region", "add", CITY, "赣州市"], token=token)
    assert wrote.code == 2 and wrote.err.startswith("错误 [keys.missing_for_work]：此数据库已有 1 把记录密钥"), wrote.err
    assert "未做任何改动" in wrote.err and "Traceback" not in wrote.err
    for what in (["audit", "seal"], ["audit", "rotate-key"]):     # an unsigned checkpoint; a key file of one new key
        refused = jingzhun(["--home", home, "--as", "admin", *what], token=token)
        assert refused.code == 2 and "[keys.missing_for_work]" in refused.err, refused.err
    assert not (home / "keys" / "record.key").exists()
    read = jingzhun(["--home", home, "--as", "admin", "region", "list"], token=token)
    assert read.code == 0 and "江西省" in read.out and "赣州市" not in read.out
    assert _events(home) == events
    (tmp_path / "record.key.copy").rename(home / "keys" / "record.key")
    verified = jingzhun(["--home", home, "--as", "admin", "audit", "verify"], token=token)
    assert verified.code == 0, verified.out + verified.err


def test_a_home_or_database_others_may_read_is_refused_naming_the_chmod(tmp_path):
    """A restore that lost the modes (another user's tar, a zip): the database with every member's ID
    number 0644 in a 0755 home was served without a word, while a key file others may read is refused.
    Now the home and the database are refused the same way, each with the `chmod` to run."""
    import os
    from tests.test_cli import jingzhun
    home, token = _made(tmp_path)
    os.chmod(home, 0o755)
    os.chmod(home / "jingzhun.db", 0o644)
    served = _serve(home)
    assert served.returncode == 2 and f"`chmod 700 {home}`" in served.stderr, served
    os.chmod(home, 0o700)
    served = _serve(home, "--lang", "en")
    assert served.returncode == 2 and f"Run `chmod 600 {home / 'jingzhun.db'}`" in served.stderr, served
    listed = jingzhun(["--home", home, "--as", "admin", "region", "list"], token=token)
    assert listed.code == 2 and "[home.db_readable]" in listed.err and "江西省" not in listed.out
    os.chmod(home / "jingzhun.db", 0o600)
    assert jingzhun(["--home", home, "--as", "admin", "region", "list"], token=token).code == 0


def test_a_database_a_later_version_upgraded_says_so_everywhere_without_a_traceback(tmp_path):
    """The package rolled back after an upgrade: reads and `serve` said "run jingzhun init", and `init`
    printed a 102-line traceback ("Can't locate revision identified by '0021'")."""
    import sqlite3
    import migrations
    from tests.test_cli import jingzhun
    home, token = _made(tmp_path)
    with sqlite3.connect(home / "jingzhun.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    said = f"数据库结构版本为 0099，比本版本所用的 {migrations.HEAD_REVISION} 新"
    for argv in (["--as", "admin", "region", "list"], ["init"]):
        refused = jingzhun(["--home", home, *argv], token=token)
        assert refused.code == 2 and refused.err.startswith(f"错误 [schema.newer]：{said}"), refused.err
        assert "恢复升级前所做的备份" in refused.err and "Traceback" not in refused.err
    served = _serve(home)
    assert served.returncode == 2 and "[schema.newer]" in served.stderr and "Traceback" not in served.stderr
    with sqlite3.connect(home / "jingzhun.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0099",)


def test_init_finishes_an_upgrade_killed_midway_on_sqlite(world):
    """An `init` killed during an upgrade on SQLite left the old revision whole beside a committed
    `_alembic_tmp_household_members`, and every later `init` failed on it ("table … already exists")."""
    import migrations
    if world.app.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL rolls an interrupted upgrade back whole")
    world.household(members=3)
    world.household(members=2)
    settings, engine = world.app.settings, world.app.engine
    with engine.connect() as conn:
        members = conn.execute(select(t.household_members.c.id_number).order_by(t.household_members.c.id)).all()
    downgrade(engine, "0015")
    with engine.begin() as conn:       # what the killed `init` left: 0016's copy begun, nothing else
        conn.exec_driver_sql("CREATE TABLE _alembic_tmp_household_members (id INTEGER NOT NULL PRIMARY KEY)")
    world.app.close()
    from tests.test_cli import jingzhun
    finished = jingzhun(["--home", settings.home, "init"])
    assert finished.code == 0, finished.err
    assert finished.out.startswith("上次升级被中断，留下了未完成的临时数据表（_alembic_tmp_household_members）")
    assert f"已从版本 0015 升级到 {migrations.HEAD_REVISION}" in finished.out
    again = make_app(settings)
    with again.engine.connect() as conn:
        assert conn.execute(select(t.household_members.c.id_number).order_by(t.household_members.c.id)).all() == members
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == migrations.HEAD_REVISION
    from engine.reads.audit_verify import verify
    assert verify(again).intact
    again.close()


def test_init_takes_back_the_rights_to_change_the_log_a_restore_gave_back_on_postgresql(world):
    """`pg_restore --no-owner --no-privileges` (the old owner role missing on a new machine) gives the
    new owner UPDATE, DELETE and TRUNCATE on the audit tables again: verify called it a missing trigger
    though the trigger was there, and `init` said "up to date" and left it so. Now verify names the
    grants, and `init` revokes them again each time it runs, saying so when it did."""
    from sqlalchemy import text
    from engine.reads.audit_verify import verify
    if world.app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no privileges")
    with world.app.engine.begin() as conn:
        conn.execute(text("GRANT ALL ON audit_events, audit_checkpoints TO CURRENT_USER"))
    report = verify(world.app)
    assert {(d.kind, d.where) for d in report.damage} == {
        ("privilege_granted", "table audit_checkpoints"), ("privilege_granted", "table audit_events")}
    settings = world.app.settings
    world.app.close()
    from tests.test_cli import jingzhun
    init = ["--home", settings.home, "--lang", "en", "init"]
    revoked = jingzhun(init, env={"JINGZHUN_DB": settings.db_url})
    assert revoked.code == 0, revoked.err
    assert revoked.out.startswith("the right to change or delete the audit tables (`UPDATE`, `DELETE`, `TRUNCATE`) "
                                  "was taken from the application's database role again: audit_checkpoints, audit_events")
    again = make_app(settings)
    assert verify(again).intact
    again.close()
    quiet = jingzhun(init, env={"JINGZHUN_DB": settings.db_url})
    assert quiet.code == 0 and quiet.out.startswith("schema up to date")    # nothing to take back: nothing said
