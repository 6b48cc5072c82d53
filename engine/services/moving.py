"""Moving a data home's record from its SQLite database to PostgreSQL, whole (`move-database`)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, NamedTuple

from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from engine.adapters import lease
from engine.adapters import move
from engine.adapters.app import App
from engine.adapters.db import Settings, hidden, make_engine, parsed, sqlite_file, without_passwords
from engine.domain.errors import BadInput
from engine.domain.regions import ROOT


class Moved(NamedTuple):
    rows: dict[str, int]          # table -> rows copied, in the order copied
    target: str                   # the target's URL as it may be shown (no password)


def move_database(app: App, actor, target_url: str, told: Callable[[int, str], None] | None = None) -> Moved:
    """Copy the home's whole SQLite database into the empty PostgreSQL database at `target_url`: its
    schema made as `init` makes it, every table's rows, the id sequences past them, then `init`'s checks
    (revision, the audit tables' guards and privileges) and the rows counted on both sides, all in one
    transaction on the target. The source is read only. An administrator over the whole installation
    only, and not while a server or `scheduler run` holds the home. `told` hears the rows copied so far
    and the table being copied, after each batch."""
    from engine.services.org import require_admin
    require_admin(app, actor, ROOT, "move-database")
    if sqlite_file(app.settings) is None:
        raise BadInput("move.source_not_sqlite", url=hidden(app.settings.db_url))
    shown = hidden(target_url)
    if parsed(target_url).get_backend_name() != "postgresql":
        raise BadInput("move.target_not_postgresql", url=shown)
    holder = lease.holder_of(app.engine, lease.SCHEDULER, datetime.now(timezone.utc))
    if holder is not None:
        raise BadInput("move.server_running", holder=holder)
    target = make_engine(Settings(app.settings.home, target_url))
    try:
        return Moved(_copied(app, target, shown, told), shown)
    finally:
        target.dispose()


def _copied(app: App, target, shown: str, told) -> dict[str, int]:
    try:
        conn = target.connect()
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as failed:
        problem = str(getattr(failed, "orig", None) or failed).strip().splitlines()[0]
        raise BadInput("move.target_unreachable", url=shown, problem=without_passwords(problem)) from None
    with conn, app.engine.connect() as source:
        move.hold_writers(source)
        try:
            with conn.begin():
                held = move.tables_held(conn)
                if held:
                    raise BadInput("move.target_not_empty", url=shown, tables=", ".join(held[:5]), count=len(held))
                return _copy(source, conn, shown, told)
        finally:
            source.rollback()


def _copy(source, conn, shown: str, told) -> dict[str, int]:
    """Schema, rows, sequences and checks on `conn` (in its transaction): what was copied."""
    import migrations
    from engine.reads.audit_projections import check_guards
    from engine.services.setup import revoke_log_changes
    doing = "schema"
    try:
        migrations.upgrade_on(conn)
        rows: dict[str, int] = {}
        for table in move.TABLES:
            doing, before = table.name, sum(rows.values())
            rows[table.name] = move.copy_table(source, conn, table, told and (
                lambda copied, name=table.name, before=before: told(before + copied, name)))
        doing = "sequences"
        move.set_sequences(conn)
        doing = "checks"
        revoke_log_changes(conn)
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        differ = [table.name for table in move.TABLES
                  if not move.rows_in(conn, table) == move.rows_in(source, table) == rows[table.name]]
        guards = check_guards(conn)
    except (sa_exc.DBAPIError, conn.dialect.loaded_dbapi.Error) as failed:   # a COPY's are the driver's own
        problem = type(getattr(failed, "orig", None) or failed).__name__      # its words may quote a row: not said
        raise BadInput("move.failed", url=shown, part=doing, problem=problem) from None
    if revision != migrations.HEAD_REVISION or differ or guards:
        raise BadInput("move.check_failed", url=shown, revision=revision or "none",
                       tables=", ".join(differ) or "-", guards=len(guards))
    return rows
