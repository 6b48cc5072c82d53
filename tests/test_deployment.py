"""What an operator meets putting the server into service: `init` run from another folder (or after a
restore whose key file is not back yet) against a database that has its record keys refuses to make a
new key, which would have left the record unverifiable for good."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.adapters.db import Settings
from engine.domain.errors import BadInput
from entrypoints.bootstrap import init_home


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


def test_init_says_it_upgraded_and_what_to_do_next(tmp_path):
    """`init` after a new version said 「数据库结构已是最新」 though it had just migrated the database, and
    nothing told the operator that the home keeps the configuration installed before."""
    from alembic import command
    import migrations
    from sqlalchemy import create_engine
    from tests.test_cli import jingzhun
    home = tmp_path / "home"
    made = jingzhun(["--home", str(home), "init"])
    assert made.code == 0 and f"已建立数据库结构（版本 {migrations.HEAD_REVISION}）" in made.out
    engine = create_engine(f"sqlite:///{home / 'jingzhun.db'}")
    cfg = migrations.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0016")
    engine.dispose()
    upgraded = jingzhun(["--home", str(home), "init"])
    assert upgraded.code == 0, upgraded.err
    assert f"已从版本 0016 升级到 {migrations.HEAD_REVISION}" in upgraded.out and "config install" in upgraded.out
    again = jingzhun(["--home", str(home), "init"])
    assert "数据库结构已是最新" in again.out
