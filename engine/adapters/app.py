"""Wiring: settings, database, configuration, evidence store, lifecycles and the clock."""
from __future__ import annotations

import gc
import logging
import os
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

from config import CONFIG_DIR, Config, load_config
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


def file_marker(path) -> tuple | None:
    """What changes whenever a file is replaced (`config install` replaces the rules' folder, `audit
    rotate-key` renames a new key file into place): one stat, cheap enough for every request."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def _same_folder(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class RulesInForce:
    """One configuration in force and what is made from it once: the case kinds' machines."""

    def __init__(self, config: Config, marker: tuple | None = None):
        self.config = config
        self.marker = marker

    @cached_property
    def lifecycles(self) -> dict[str, Lifecycle]:
        """Each case kind's machine, made when first needed (a read of cases needs none, nor the
        configuration's models they are made from)."""
        from engine.domain.lifecycle import Lifecycle
        return {kind: Lifecycle(wf) for kind, wf in self.config.workflows.items()}


# The rules a request or a scheduler's job took at its start (App.in_force): all it judges
# and records is under them, whatever is installed meanwhile. (A context variable: a request's route
# runs in the thread pool with the context of the request.)
_TAKEN: ContextVar[tuple["App", RulesInForce] | None] = ContextVar("jingzhun_rules_taken", default=None)
log = logging.getLogger("jingzhun.rules")

def record_keys_held(conn: Connection) -> int:
    """How many record keys the database has recorded (a home without its key file must not write)."""
    return conn.execute(select(func.count()).select_from(t.record_keys)).scalar()


_frozen: list[bool] = []        # gc.freeze() done in this process (App.__init__)


class App:
    """The application: everything a service function needs, created once per process."""

    def __init__(self, settings: Settings, plugins: Plugins, config: Config | None = None,
                 clock: Clock | None = None, engine: Engine | None = None, check_schema: bool = True):
        self.settings = settings
        require_private_home(settings)                  # refused as a key file others may read is
        marker = file_marker(settings.home / "config" / "policy.yaml")
        self._installed = RulesInForce(config or load_config(home_config(settings)), marker)
        # the rules the home has in force, as a server or `scheduler run` reads them, are replaced by
        # those installed later (in_force); rules from elsewhere (a test's) never are
        self._watch = config is None or _same_folder(config.directory, home_config(settings) or CONFIG_DIR)
        self._reload_lock = threading.Lock()
        self.clock = clock or Clock()
        self.engine = engine or make_engine(settings)
        self.evidence = EvidenceStore(settings.evidence_dir)
        self._key_marker = file_marker(key_path(settings.home))
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

    def _in_force(self) -> RulesInForce:
        taken = _TAKEN.get()
        return taken[1] if taken is not None and taken[0] is self else self._installed

    @property
    def config(self) -> Config:
        return self._in_force().config

    @config.setter
    def config(self, config: Config) -> None:
        self._installed = RulesInForce(config, self._installed.marker)

    @property
    def lifecycles(self) -> dict[str, Lifecycle]:
        return self._in_force().lifecycles

    @property
    def policy_version(self) -> str:
        return self._in_force().config.version

    @contextmanager
    def in_force(self) -> Iterator[Config]:
        """A request or a scheduler's job in a long-running process (the server) is judged and recorded
        under the rules in force when it starts: those `config install` has put in the data home since
        the process started, once they are recorded in the database (their full text is, in the same
        transaction). Its events are MACed with the key `audit rotate-key` made since, once recorded.
        Two stats while nothing changed."""
        rules = self._installed
        if self._watch:
            if file_marker(self.settings.home / "config" / "policy.yaml") != rules.marker:
                rules = self._reload_rules()
            if file_marker(key_path(self.settings.home)) != self._key_marker:
                self._reload_keys()
        taken = _TAKEN.set((self, rules))
        try:
            yield rules.config
        finally:
            _TAKEN.reset(taken)

    def _reload_rules(self) -> RulesInForce:
        with self._reload_lock:
            rules, marker = self._installed, file_marker(self.settings.home / "config" / "policy.yaml")
            if marker is None or marker == rules.marker:     # mid-install (the folder swapped), or done by another
                return rules
            try:
                config = load_config(self.settings.home / "config")
                (self.plugins.check_at_start or self.plugins.check_references)(config)
            except Exception:      # noqa: BLE001 - a folder edited by hand: the rules before stay in force
                log.exception("the rules in %s do not load; the rules %s stay in force",
                              self.settings.home / "config", rules.config.version)
                rules = self._installed = RulesInForce(rules.config, marker)
                return rules
            if not self.recorded(t.policy_versions.c.version, config.version):
                return rules            # `config install` not yet committed: asked again at the next request
            log.info("rules %s installed: now in force (before: %s)", config.version, rules.config.version)
            rules = self._installed = RulesInForce(config, marker)
            return rules

    def _reload_keys(self) -> None:
        with self._reload_lock:
            marker = file_marker(key_path(self.settings.home))
            if marker is None or marker == self._key_marker:
                return
            try:
                keyring = load_keyring(self.settings.home)
            except Exception:      # noqa: BLE001 - a key file made unreadable: the key in use stays
                log.exception("the key file does not load; the record key in use stays")
                self._key_marker = marker
                return
            if keyring is None or not self.recorded(t.record_keys.c.key_id, keyring.key_id):
                return           # `audit rotate-key` not yet committed: asked again at the next request
            if self.keyring is None or keyring.key_id != self.keyring.key_id:
                log.info("record key %s: now in use", keyring.key_id)
            self.keyring, self._key_marker = keyring, marker

    def recorded(self, column, value: str) -> bool:
        """Whether the database holds `value` in `column` (a rules version, a record key)."""
        with self.engine.connect() as conn:
            return conn.execute(select(column).where(column == value)).first() is not None

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
        if conn is None:
            with self.engine.connect() as own:
                keys = record_keys_held(own)
        else:
            keys = record_keys_held(conn)
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

    def require_recorded_rules(self) -> None:
        """Decisions may only be taken under rules whose full text is kept in the database."""
        if not self.recorded(t.policy_versions.c.version, self.policy_version):
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
