"""A city outgrowing SQLite moves its whole record to PostgreSQL (`move-database`): the audit log, its
checkpoints, every case, step, person, password and deadline, so that `audit verify`, traces and sign-in
carry on as before (ops audit ux6, item 6: `export members` + `household import` dropped every step and
the audit history). And `init` on an empty database with a home that holds a record refuses to start a
second record beside it (the auditor's `init` made a new administrator and an empty case list, and
verify counted 3 events). The moves need a PostgreSQL server (JINGZHUN_TEST_PG_URL), as the other
PostgreSQL tests; the refusals that need none run on SQLite alone."""
from __future__ import annotations

import hashlib
import sqlite3
from datetime import date, datetime, timezone

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, inspect, make_url, select, text

from engine.adapters import tables as t
from engine.adapters.db import Settings
from engine.reads.audit_seal import seal
from engine.reads.audit_verify import stray_files, verify
from engine.reads.trace import case_trace
from engine.services.accounts import set_password, sign_in
from engine.services.case_actions import attach_evidence, record_visit
from engine.services.org import authenticate
from entrypoints import scheduler as jobs
from entrypoints.bootstrap import make_app
from tests.helpers import tamper
from tests.test_cli import jingzhun

PASSWORD = "洋塘村-2019-secret"
pytestmark = pytest.mark.parametrize("world", ["sqlite"], indirect=True)     # the source of a move is a SQLite home


lived = tamper.lived      # the fixture


@pytest.fixture
def home(lived):
    """A SQLite data home with a county's record: two households through identification and
    assistance, one exited with a signed file (tamper.lived), an evidence item replaced, a sealed
    checkpoint, a person with a password."""
    world, a, b = lived
    attach_evidence(world.app, world["vs"], b, "income_check", {"year": 2018, "net_income": 4100.0},
                    replace=True, reason="复核后更正")     # the row replaced names its later replacement
    set_password(world.app, world["vs"], PASSWORD)
    assert seal(world.app, world["admin"]) is not None
    scheduler = jobs.build(world.app, world["admin"], BackgroundScheduler)
    scheduler.start(paused=True)                 # its jobs stored: pickled bytes, float times
    scheduler.shutdown(wait=False)
    return world, a


@pytest.fixture
def empty_pg(empty_pg_database, tmp_path):
    """A new, empty PostgreSQL database; its URL in a file only its owner reads (as JINGZHUN_DB_FILE)."""
    file = tmp_path / "db-url"
    file.write_text(empty_pg_database + "\n", encoding="utf-8")
    file.chmod(0o600)
    return empty_pg_database, file


def _rows(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in t.metadata.sorted_tables}


def _contents(engine) -> dict[str, list[tuple]]:
    """Every row of every table as the application reads it, a time in UTC (SQLite's come without
    their zone): JSON, booleans, decimals, bytes and times compared value for value."""
    def utc(value):
        return value.astimezone(timezone.utc).replace(tzinfo=None) if isinstance(value, datetime) and value.tzinfo \
            else value
    with engine.connect() as conn:
        return {table.name: [tuple(utc(v) for v in row)
                             for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
                for table in t.metadata.sorted_tables}


def _tables(url: str) -> list[str]:
    from sqlalchemy import create_engine
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _move(world, *target: str):
    return jingzhun(["--home", world.app.settings.home, "--as", "admin", "move-database", *target],
                    token=world.tokens["admin"])


def test_a_moved_home_verifies_traces_signs_in_and_works_on_postgresql(home, empty_pg):
    world, case = home
    url, file = empty_pg
    settings = world.app.settings
    before_rows, before_contents = _rows(world.app.engine), _contents(world.app.engine)
    assert before_rows["apscheduler_jobs"] > 0
    before_trace = case_trace(world.app, world["admin"], case)
    before = verify(world.app)
    assert before.intact and stray_files(world.app) == []
    world.app.close()
    source = settings.home / "jingzhun.db"
    source_digest = _digest(source)

    moved = _move(world, "--to-file", file)

    assert moved.code == 0, moved.err
    assert f"其中审计事件 {before.events} 条" in moved.out
    password = make_url(url).password                  # the target's password never shown
    assert not password or ("***" in moved.out and f":{password}@" not in moved.out)
    assert f"`JINGZHUN_DB_FILE={file}`" in moved.out and "jingzhun audit verify" in moved.out
    assert _digest(source) == source_digest                # the SQLite record is left as it was
    app = make_app(Settings(settings.home, url), clock=world.clock)
    try:
        assert _rows(app.engine) == before_rows
        assert _contents(app.engine) == before_contents
        after = verify(app)
        assert after.intact, after.damage
        assert (after.events, after.cases, after.evidence) == (before.events, before.cases, before.evidence)
        assert stray_files(app) == []                      # every evidence file named by its row
        assert case_trace(app, world["admin"], case) == before_trace
        assert sign_in(app, "vs", PASSWORD).code == "vs"   # the old password
        cadre = authenticate(app, "vs", world.tokens["vs"])    # and the old token
        world.on(date(2019, 12, 5))
        record_visit(app, cadre, case, date(2019, 12, 5), "回访：收入稳定")   # new work takes the next ids
        assert verify(app).intact
        with app.engine.connect() as conn:
            assert conn.execute(select(func.max(t.audit_events.c.seq))).scalar() == before_rows["audit_events"] + 1
        with pytest.raises(Exception, match="permission denied|append-only"), app.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_events"))   # the log's guards are in force
    finally:
        app.close()


def test_a_target_holding_a_record_is_refused_and_left_as_it_was(home, empty_pg, tmp_path):
    from entrypoints.bootstrap import init_home
    world, _case = home
    url, file = empty_pg
    other, _token = init_home(Settings(tmp_path / "other-home", url))
    held = _rows(other.engine)
    other.close()
    world.app.close()
    refused = _move(world, "--to-file", file)
    assert refused.code == 2 and "[move.target_not_empty]" in refused.err and "未做任何改动" in refused.err
    assert "Traceback" not in refused.err
    again = make_app(Settings(tmp_path / "other-home", url))
    assert _rows(again.engine) == held
    again.close()


def test_a_move_failing_midway_leaves_the_target_empty_and_names_no_row(home, empty_pg):
    """SQLite keeps a text longer than its column allows; PostgreSQL refuses it half-way through the
    copy (after the audit log went over): the whole move is undone, and the refusal names the table,
    not the row's value."""
    world, case = home
    url, file = empty_pg
    phone = "13900001111-ext-0000099"          # 23 characters in a 20-character column
    world.app.close()
    with sqlite3.connect(world.app.settings.home / "jingzhun.db") as db:
        db.execute("UPDATE household_members SET phone = ? WHERE case_id = ?", (phone, case))
    failed = _move(world, "--to-file", file)
    assert failed.code == 2 and "[move.failed]" in failed.err and "household_members" in failed.err, failed.err
    assert "目标数据库仍是空的" in failed.err and phone not in failed.err and "Traceback" not in failed.err
    assert _tables(url) == []


def test_a_move_while_a_server_holds_the_home_is_refused(home, empty_pg):
    from datetime import datetime, timezone
    from engine.adapters import lease
    world, _case = home
    url, file = empty_pg
    assert lease.take(world.app.engine, lease.SCHEDULER, "web01:4242:abcd", datetime.now(timezone.utc), 45)
    world.app.close()
    refused = _move(world, "--to-file", file)
    assert refused.code == 2 and "[move.server_running]" in refused.err and "web01:4242:abcd" in refused.err
    assert _tables(url) == []


def test_a_target_not_answering_or_with_a_password_on_the_command_line_is_refused_in_words(home):
    world, _case = home
    world.app.close()
    away = _move(world, "--to", "postgresql+psycopg://jingzhun@127.0.0.1:1/nowhere")
    assert away.code == 2 and "[move.target_unreachable]" in away.err and "Traceback" not in away.err, away.err
    seen = _move(world, "--to", "postgresql+psycopg://jingzhun:s3cret@127.0.0.1/city")
    assert seen.code == 2 and "[move.password_in_argv]" in seen.err and "s3cret" not in seen.err
    sqlite = _move(world, "--to", f"sqlite:///{world.app.settings.home / 'other.db'}")
    assert sqlite.code == 2 and "[move.target_not_postgresql]" in sqlite.err
    assert not (world.app.settings.home / "other.db").exists()


def test_init_over_a_home_holding_a_record_with_no_database_refuses_a_second_record(home):
    """The home's database set aside (or a new database URL given): `init` made a new schema, a new
    administrator and token over the old key file and evidence files. Now it refuses, naming the move."""
    world, _case = home
    world.app.close()
    settings = world.app.settings
    (settings.home / "jingzhun.db").rename(settings.home.parent / "set-aside.db")
    for side in ("-wal", "-shm"):
        (settings.home / f"jingzhun.db{side}").unlink(missing_ok=True)
    refused = jingzhun(["--home", settings.home, "init"])
    assert refused.code == 2 and "[init.home_has_record]" in refused.err, refused.out + refused.err
    assert "move-database" in refused.err and "--home" in refused.err and "admin" not in refused.out
    assert not (settings.home / "jingzhun.db").exists()
    away = jingzhun(["--home", settings.home, "init"], env={"JINGZHUN_DB": "postgresql+psycopg://jz@127.0.0.1:1/city"})
    assert away.code == 2 and "[db.unusable]" in away.err, away.err      # not answering is not empty


def test_init_on_an_empty_postgresql_database_with_a_home_holding_a_record_refuses(home, empty_pg):
    """The auditor's attempt: the SQLite home's copy with JINGZHUN_DB naming a new PostgreSQL database."""
    world, _case = home
    url, _file = empty_pg
    world.app.close()
    refused = jingzhun(["--home", world.app.settings.home, "--lang", "en", "init"], env={"JINGZHUN_DB": url})
    assert refused.code == 2 and "[init.home_has_record]" in refused.err, refused.out + refused.err
    assert "would start a second record" in refused.err and "move-database" in refused.err
    assert _tables(url) == []
