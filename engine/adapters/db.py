"""Where the data lives and how we connect: the data home, the database URL, the schema check."""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError

from engine.adapters.input_guard import guard
from engine.adapters.one_of import lists_of_any_length
from engine.adapters.private_files import FILE_MODE, create_private, private_dir, private_tree, tighten
from engine.domain.errors import BadInput, SchemaOutdated
from engine.domain.json_text import dumps, loads


_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"

    @classmethod
    def from_env(cls, home: str | None = None, db_url: str | None = None, db_file: str | None = None) -> "Settings":
        """The given home and URL, else JINGZHUN_HOME and JINGZHUN_DB, else the URL held in the file
        `db_file` or JINGZHUN_DB_FILE (a URL with a password never needs to be in argv), else the
        home's SQLite file."""
        home_path = Path(home or os.environ.get("JINGZHUN_HOME") or "./jingzhun-data").resolve()
        url = db_url or os.environ.get("JINGZHUN_DB") or url_from_file(db_file or os.environ.get("JINGZHUN_DB_FILE"))
        return cls(home_path, url or f"sqlite:///{home_path / 'jingzhun.db'}")


def url_from_file(file: str | None) -> str | None:
    """The database URL kept in `file` (its first line); refused when others may read the file."""
    if not file:
        return None
    try:
        with open(file, encoding="utf-8") as fh:
            if stat.S_IMODE(os.fstat(fh.fileno()).st_mode) & 0o044:
                raise BadInput("db.file_readable", file=file)
            url = fh.readline().strip()
    except OSError as exc:
        raise BadInput("db.file_unreadable", file=file, problem=exc.strerror or type(exc).__name__) from None
    if not url:
        raise BadInput("db.file_empty", file=file)
    return url


def has_password(url: str | None) -> bool:
    """Whether a database URL carries a password (a URL that does not parse is not judged here)."""
    try:
        return bool(url) and make_url(url).password is not None
    except Exception:
        return bool(_PASSWORD_IN_URL.search(url or ""))


def hidden(url: str) -> str:
    """The URL as it may be shown: its password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return without_passwords(url)


def without_passwords(text: str) -> str:
    """`text` with the password of any URL in it replaced by ***."""
    return _PASSWORD_IN_URL.sub(r"\1***@", text)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed step and its audit event survive a power cut, not only a crash.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def parsed(url: str):
    """The URL parsed; a URL that does not parse is an ArgumentError (shown as an unusable database)."""
    try:
        return make_url(url)
    except ValueError:
        raise ArgumentError("the database URL does not parse") from None


def sqlite_file(settings: Settings) -> Path | None:
    url = parsed(settings.db_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def secure_home(settings: Settings) -> None:
    """The data home and its evidence folder 0700, the home's SQLite file (and -wal, -shm) 0600, the
    configuration installed in it 0700 and 0600; an older home's looser modes are tightened."""
    private_dir(settings.home)
    private_dir(settings.evidence_dir)
    if (settings.home / "config").is_dir():
        private_tree(settings.home / "config")
    path = sqlite_file(settings)
    for part in ((path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")) if path else ()):
        tighten(part, FILE_MODE)


def require_private_home(settings: Settings) -> None:
    """The data home 0700 and its SQLite file (with -wal and -shm) 0600, as `init` leaves them: a home
    or database others may read (a restore unpacked by another user or from a zip) is refused, naming
    the `chmod` to run, as a key file others may read is (engine.adapters.keyring)."""
    if _mode(settings.home) & 0o077:
        raise BadInput("home.dir_open", home=str(settings.home))
    path = sqlite_file(settings)
    loose = [str(p) for p in ((path, Path(f"{path}-wal"), Path(f"{path}-shm")) if path else ())
             if _mode(p) & 0o077]
    if loose:
        raise BadInput("home.db_readable", files=" ".join(loose))


def _mode(path: Path) -> int:
    """The permission bits of `path`, 0 when it is not there."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0


# JSON columns written as json.dumps writes them and read as json.loads reads them, with less Python
# around the standard library's C encoder and scanner (engine.domain.json_text).
_JSON = {"json_serializer": dumps, "json_deserializer": loads}

# A server's thread pool (40 threads) keeps one connection per thread (App._connection) and a read
# checks out a second: SQLAlchemy's default of 5 + 10 leaves threads waiting for each other until
# the pool times out (the 50-user load test). 10 kept, up to 90 more while busy.
POOL = {"pool_size": 10, "max_overflow": 90}


def make_engine(settings: Settings, create: bool = False) -> Engine:
    """The engine for the settings' database; only `create` (init) may make a new SQLite file."""
    path = sqlite_file(settings)
    if path is not None:
        if not path.exists():
            if not create:
                raise SchemaOutdated("schema.no_database", path=str(path))
            if not path.parent.exists():
                private_dir(path.parent)
            create_private(path)        # 0600 from the start; SQLite gives -wal and -shm this mode
        engine = create_engine(settings.db_url, connect_args={"timeout": 30}, hide_parameters=True, **_JSON, **POOL)
        event.listen(engine, "connect", _sqlite_pragmas)
        lists_of_any_length(engine)
    else:
        # No hstore column here: its type not looked up at each process's first connection (3 round trips)
        hstore = {"use_native_hstore": False} if make_url(settings.db_url).get_driver_name() in (
            "psycopg", "psycopg2") else {}
        engine = create_engine(settings.db_url, pool_pre_ping=True, hide_parameters=True, **_JSON, **POOL, **hstore)
        if engine.dialect.name == "postgresql":
            from engine.adapters.tables import metadata, postgresql_predicates
            postgresql_predicates(metadata)
    guard(engine)
    return engine


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None


def require_current_schema(engine: Engine) -> None:
    from migrations import HEAD_REVISION
    found = schema_revision(engine)
    refuse_newer_schema(found)
    if found != HEAD_REVISION:
        raise SchemaOutdated("schema.outdated", found=found or "none", expected=HEAD_REVISION)


def refuse_newer_schema(found: str | None) -> None:
    """A schema at a revision after this version's newest (a later version migrated it, and the package
    was rolled back): `init` cannot help, so it is said, with what can (install that version, or
    restore the backup taken before the upgrade)."""
    from migrations import HEAD_REVISION, later_revision
    if found is not None and later_revision(found):
        raise SchemaOutdated("schema.newer", found=found, expected=HEAD_REVISION)
