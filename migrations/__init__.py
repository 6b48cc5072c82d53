"""Alembic migrations of the Jingzhun schema. `jingzhun init` runs them."""
from __future__ import annotations

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent
# The newest revision; tests check it matches the scripts in versions/.
HEAD_REVISION = "0040"


def alembic_config(url: str):
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def later_revision(revision: str) -> bool:
    """Whether `revision` comes after this version's newest (a later version's migration made it)."""
    return revision.isdigit() and int(revision) > int(HEAD_REVISION)


# Alembic's batch mode on SQLite rebuilds a table as CREATE TABLE _alembic_tmp_<table>, INSERT … SELECT,
# DROP TABLE <table>, ALTER TABLE … RENAME (alembic.operations.batch). pysqlite begins its transaction at
# the first INSERT, UPDATE or DELETE only: a CREATE TABLE run before any of them committed at once, while
# the copy, the DROP, the RENAME and the new revision commit together at the end. An `init` killed in
# between (before the upgrade began its transaction itself, below) left the old tables and revision
# whole, plus that _alembic_tmp_ table, on which every later batch fails ("table … already exists"):
# it holds nothing its original lacks, and is dropped before migrating.
LEFTOVER = "_alembic_tmp_"


def upgrade(engine, policy=None) -> list[str]:
    """Create or upgrade the schema to the newest revision on `engine`. Returns the tables an upgrade
    interrupted before left behind, dropped first (each beside its original, which is kept). `policy`:
    the rules in force (config's Policy), for a migration that reckons from them (0024)."""
    from sqlalchemy import inspect
    with engine.begin() as conn:
        leftovers: list[str] = []
        if conn.dialect.name == "sqlite":
            tables = set(inspect(conn).get_table_names())
            leftovers = sorted(name for name in tables if name.startswith(LEFTOVER) and any(
                (LEFTOVER + other)[:50] == name for other in tables if not other.startswith(LEFTOVER)))
            conn.exec_driver_sql("BEGIN")      # the whole upgrade, its DDL too, commits or rolls back as one
            for name in leftovers:
                conn.exec_driver_sql(f'DROP TABLE "{name}"')
        upgrade_on(conn, policy)
    return leftovers


def upgrade_on(conn, policy=None) -> None:
    """The migrations to the newest revision on `conn`, inside its transaction (the caller commits or
    rolls back: on PostgreSQL the schema, its triggers and privileges with it)."""
    from alembic import command
    cfg = alembic_config(conn.engine.url.render_as_string(hide_password=False))
    cfg.attributes["connection"] = conn
    if policy is not None:
        cfg.attributes["policy"] = policy
    command.upgrade(cfg, "head")
