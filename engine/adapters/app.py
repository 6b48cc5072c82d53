"""Wiring: settings, database, configuration, evidence store, lifecycles and the clock."""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

from config import Config, load_config
from engine.adapters import tables as t
from engine.adapters.collector import started
from engine.adapters.db import Settings, make_engine, require_current_schema, require_private_home
from engine.domain.deadline_rules import wall_clock
from engine.domain.errors import BadInput, ChangedMeanwhile, SchemaOutdated
from engine.adapters.evidence_store import EvidenceStore
from engine.adapters.keyring import key_path, load_keyring
from engine.adapters.uow import UnitOfWork, name_writers
from engine.services.plugins import Plugins

if TYPE_CHECKING:  # the machines' library loads when a machine is first made
    from engine.domain.lifecycle import Lifecycle

CHINA = timezone(timedelta(hours=8))


class Clock:
    """Real time; tests and the demo pass a fixed or moving one instead of sleeping."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        return self.now().astimezone(CHINA).date()


class FixedClock(Clock):
    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at = self.at + timedelta(**delta)


class ShiftedClock(Clock):
    """Real time moved to start at `origin`: a server over a replayed year (the demo) lives in that
    year, with seconds passing as they do."""

    def __init__(self, origin: datetime):
        self.shift = origin - datetime.now(timezone.utc)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.shift


def home_config(settings: Settings):
    """The rules in force live in the data home (installed by an administrator), else the packaged ones."""
    folder = settings.home / "config"
    return folder if (folder / "policy.yaml").is_file() else None


_frozen: list[bool] = []        # gc.freeze() done in this process (App.__init__)


class App:
    """The application: everything a service function needs, created once per process."""

    def __init__(self, settings: Settings, plugins: Plugins, config: Config | None = None,
                 clock: Clock | None = None, engine: Engine | None = None, check_schema: bool = True):
        self.settings = settings
        require_private_home(settings)                  # refused as a key file others may read is
        self.config = config or load_config(home_config(settings))
        self.clock = clock or Clock()
        self.engine = engine or make_engine(settings)
        self.evidence = EvidenceStore(settings.evidence_dir)
        self.keyring = load_keyring(settings.home)     # the record's keys, outside the database
        self._local = threading.local()
        self.plugins = plugins
        (plugins.check_at_start or plugins.check_references)(self.config)
        self.rules = plugins.rules
        if check_schema:
            require_current_schema(self.engine)
            self.require_recorded_rules()
        # What start-up built (configuration, table metadata, machines) lives as long as the
        # process: take it out of the collector's way, or every full collection walks it again.
        # Once a process: a later application (tests make hundreds) would freeze with it the garbage of
        # the one before not yet collected, its database connections among it, open for good.
        if not _frozen:
            gc.freeze()
            _frozen.append(True)
        started()      # a command held the collector back while it started (entrypoints.cli.main)

    @cached_property
    def lifecycles(self) -> dict[str, Lifecycle]:
        """Each case kind's machine, made when first needed (a read of cases needs none, nor the
        configuration's models they are made from)."""
        from engine.domain.lifecycle import Lifecycle
        return {kind: Lifecycle(wf) for kind, wf in self.config.workflows.items()}

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """One database transaction, everything inside committed together or not at all; its
        `uow.conn` for the rows, its methods for the audit events."""
        with self.transaction() as conn:
            yield self.work_on(conn)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The unit of work's connection alone: for reads, and for callers that write no event. One that
        lost its case to another writer (nothing written) says who changed it, what they did and when."""
        conn = self._connection()
        try:
            with conn.begin():
                yield conn
        except ChangedMeanwhile as lost:
            name_writers(conn, lost, lambda at: wall_clock(self.config, at))
            raise

    def work_on(self, conn: Connection) -> UnitOfWork:
        """The unit of work of a transaction already open on `conn` (for code handed a connection)."""
        if self.keyring is None:
            self.require_keys(conn)
        return UnitOfWork(conn, self.clock, self.policy_version, self.keyring)

    def require_keys(self, conn: Connection | None = None) -> None:
        """A database whose record has keys, opened without the key file (a restore whose key file is
        not back yet): nothing may be written, since work recorded without the key's MAC would verify
        as forged once the key is back. Reads may go on (they check hashes only, see audit_verify)."""
        if self.keyring is not None:
            return
        count = select(func.count()).select_from(t.record_keys)
        if conn is None:
            with self.engine.connect() as own:
                keys = own.execute(count).scalar()
        else:
            keys = conn.execute(count).scalar()
        if keys:
            raise BadInput("keys.missing_for_work", file=str(key_path(self.settings.home)), count=keys)

    def _connection(self) -> Connection:
        # One connection per thread, kept open: checking one out of the pool for every step
        # costs as much as the step's own statements.
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._local.conn = self.engine.connect()
        if conn.in_transaction():
            conn.rollback()
        return conn

    def close_thread_connection(self) -> None:
        """Give back the connection this thread kept (a thread that ends: a worker of its own)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def close(self) -> None:
        self.close_thread_connection()
        self.engine.dispose()

    @cached_property
    def policy_version(self) -> str:
        return self.config.version

    def require_recorded_rules(self) -> None:
        """Decisions may only be taken under rules whose full text is kept in the database."""
        with self.engine.connect() as conn:
            if conn.execute(select(t.policy_versions.c.version).where(
                    t.policy_versions.c.version == self.policy_version)).first() is None:
                raise SchemaOutdated("config.unrecorded", version=self.policy_version)

    def record_rules(self, conn: Connection, config: Config | None = None) -> bool:
        """Keep the exact rules that decisions are checked against, once per version."""
        config = config or self.config
        if conn.execute(select(t.policy_versions.c.version).where(
                t.policy_versions.c.version == config.version)).first() is not None:
            return False
        conn.execute(insert(t.policy_versions).values(version=config.version, content=config.rules,
                                                      recorded_at=self.clock.now()))
        return True
