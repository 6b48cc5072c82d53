"""Where the data lives and how we connect: the data home, the database URL, the schema check."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine

from engine.domain.errors import SchemaOutdated


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"

    @classmethod
    def from_env(cls, home: str | None = None, db_url: str | None = None) -> "Settings":
        home_path = Path(home or os.environ.get("JINGZHUN_HOME") or "./jingzhun-data").resolve()
        url = db_url or os.environ.get("JINGZHUN_DB") or f"sqlite:///{home_path / 'jingzhun.db'}"
        return cls(home_path, url)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed step and its audit event survive a power cut, not only a crash.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def sqlite_file(settings: Settings) -> Path | None:
    url = make_url(settings.db_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def make_engine(settings: Settings, create: bool = False) -> Engine:
    """The engine for the settings' database; only `create` (init) may make a new SQLite file."""
    path = sqlite_file(settings)
    if path is not None:
        if not path.exists():
            if not create:
                raise SchemaOutdated("schema.no_database", path=str(path))
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.db_url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(settings.db_url, pool_pre_ping=True)


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None


def require_current_schema(engine: Engine) -> None:
    from migrations import HEAD_REVISION
    found = schema_revision(engine)
    if found != HEAD_REVISION:
        raise SchemaOutdated("schema.outdated", found=found or "none", expected=HEAD_REVISION)
