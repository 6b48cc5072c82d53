"""A data home's backup taken while its server runs, and its restore into a new home (`jingzhun backup`,
`jingzhun restore`).

A backup is one folder: the record sealed first (a checkpoint, so the copy ends on a signed head), the
database copied whole (SQLite's online backup, or `pg_dump`), the home's files in one archive without the
database and the key file, the new backup read back from the disk (`_read_back`: the copy opened anew and
its audit log counted, the archive read through), and `backup.json` naming each file with its size and
SHA-256, the head to verify the restored record against and the check. It is written under a name of its
own (`FOLDER.partial`) and takes its name only once whole and checked, so an interrupted backup is never
taken for one. The key file stays out: whoever holds the key and the database could forge; it is kept
apart, by another custodian (README, Deploying).
"""
from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import sqlite3
import tarfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from engine.adapters import backup_files as files
from engine.adapters.app import App
from engine.adapters.db import Settings, hidden, parsed, sqlite_file
from engine.adapters.keyring import key_path
from engine.adapters.private_files import FILE_MODE, WORK, private_dir
from engine.domain.errors import BadInput, RuleViolation
from engine.domain.regions import ROOT

MANIFEST = "backup.json"
ARCHIVE = "home.tar"
DATABASE = {"sqlite": "jingzhun.db", "postgresql": "jingzhun.pgdump"}
FORMAT = 1


def take_backup(app: App, actor, folder: Path, told: Callable[[str], None] | None = None, *,
                kept: bool = False) -> dict[str, Any]:
    """Back the home up into the new folder `folder` (absent, or an empty folder) while its server may run;
    returns the manifest. An administrator over the whole installation, or the scheduler itself (the
    nightly backup); recorded as an organisation event (`backup_taken`) naming the files' hashes and the
    head, once the backup is whole and read back (its check, in the manifest and the event). `kept`: one
    of a folder's backups kept by number (`take_kept_backup`), so marked in its manifest: only such a backup
    is ever removed to make room."""
    from engine.reads.audit_seal import signed_head
    from engine.reads.audit_verify import seal
    role = authorised(app, actor)
    folder, home = Path(folder).resolve(), app.settings.home.resolve()
    _check_target(folder, home)
    say = told or (lambda _step: None)
    kind = parsed(app.settings.db_url).get_backend_name()
    say("seal")
    try:
        seal(app, actor)
    except RuleViolation as refused:      # a broken chain is not signed, but the record is still kept safe
        if refused.code != "audit.seal_damaged":
            raise
        say("seal_refused")               # the refusal is in the activity log; the head is the last good seal
    head = signed_head(app)
    partial = folder.with_name(folder.name + ".partial")
    if partial.exists():
        raise BadInput("backup.partial_left", folder=str(partial))
    private_dir(partial)
    head_seq = head["seq"] if head else None
    try:
        database = partial / DATABASE[kind]
        say("database")
        started = time.monotonic()
        had = _copy_database(app, kind, database, head_seq)
        say("files")
        db = sqlite_file(app.settings)
        left_out = [Path(f"{db}{journal}") for journal in ("", "-wal", "-shm", "-journal")] if db else []
        archived = files.archive_home(home, partial / ARCHIVE, [*left_out, home / "keys", key_path(home), home / WORK])
        copied = time.monotonic() - started
        say("check")
        check = _read_back(app.settings, kind, folder, database, partial / ARCHIVE, head_seq, had, archived) | {
            "copy_seconds": round(copied, 2)}
        manifest = _manifest(app, actor, kind, head, archived, [database, partial / ARCHIVE]) | {"check": check} | (
            {"kept": True, "record": record_of(app)} if kept else {})
        _write_private(partial / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        if folder.exists():
            folder.rmdir()           # empty (checked): the backup takes its place
        os.rename(partial, folder)
    except BaseException as failed:
        shutil.rmtree(partial, ignore_errors=True)
        said = _refused_by_disk(failed, folder.parent, app.settings, kind) if isinstance(failed, Exception) else None
        if said is not None:
            raise said from None
        raise
    with app.unit_of_work() as uow:
        uow.append_org_event(actor, "backup_taken", role, ROOT, folder=str(folder), head=manifest["head"],
                             files={name: f["sha256"] for name, f in manifest["files"].items()},
                             bytes=sum(f["bytes"] for f in manifest["files"].values()), check=manifest["check"])
    return manifest


def authorised(app: App, actor) -> str | None:
    """The post a backup is taken in: an administrator over the whole installation's, or none for the
    scheduler itself (the server's nightly backup, recorded as the system's)."""
    from engine.reads.audit_seal import SCHEDULER
    from engine.services.org import require_admin
    return None if actor is SCHEDULER else require_admin(app, actor, ROOT, "backup").role


def _check_target(folder: Path, home: Path) -> None:
    if folder == home or folder.is_relative_to(home) or home.is_relative_to(folder):
        raise BadInput("backup.inside_home", folder=str(folder), home=str(home))
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BadInput("backup.folder_not_empty", folder=str(folder))
    if not folder.parent.is_dir():
        raise BadInput("backup.no_parent", folder=str(folder.parent))


def _copy_database(app: App, kind: str, target: Path, head_seq: int | None) -> dict:
    """The database copied whole into `target`; returns what the snapshot copied held of the audit log
    (backup_files.events_of), counted within that very snapshot."""
    settings = app.settings
    if kind == "sqlite":
        return files.copy_sqlite(sqlite_file(settings), target, head_seq)
    from sqlalchemy import func, select
    from sqlalchemy import text as sql
    from engine.adapters import tables as t
    ae = t.audit_events
    with app.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():          # one snapshot: counted here, dumped by pg_dump (--snapshot)
            snapshot = conn.execute(sql("SELECT pg_export_snapshot()")).scalar()
            count, last = conn.execute(select(func.count(), func.max(ae.c.seq)).select_from(ae)).one()
            hash_at = lambda seq: conn.execute(select(ae.c.hash).where(ae.c.seq == seq)).scalar() \
                if seq is not None else None  # noqa: E731
            had = files.events_of(count, last, hash_at(last), hash_at(head_seq))
            files.dump_postgresql(settings.db_url, target, snapshot)      # ToolFailed: said by take_backup
    return had


def _read_back(settings: Settings, kind: str, folder: Path, database: Path, archive: Path, head_seq: int | None,
               had: dict, archived: int) -> dict[str, Any]:
    """The new backup read back from the disk before it takes its name (and before any older one is
    removed): the database's copy opened anew (SQLite read-only with `PRAGMA quick_check`; a PostgreSQL dump
    listed and its data read by `pg_restore`), its audit log's count, last event and signed head equal to
    what the snapshot held, and the home's archive read through. Returns the check as the manifest keeps
    it; a copy that fails it is a failed backup (BadInput)."""
    started = time.monotonic()
    try:
        found = files.read_sqlite_back(database, head_seq) if kind == "sqlite" else \
            files.read_dump_back(database, settings.db_url, head_seq)
        in_archive = files.archive_files(archive)
    except (sqlite3.DatabaseError, files.ToolFailed, tarfile.TarError) as unreadable:
        raise BadInput("backup.check_unreadable", folder=str(folder),
                       problem=getattr(unreadable, "problem", None) or str(unreadable)) from None
    if found != had:
        raise BadInput("backup.check_differs", folder=str(folder), found=found["events"],
                       found_last=found["last"] or "-", had=had["events"], had_last=had["last"] or "-")
    if in_archive != archived:
        raise BadInput("backup.check_files", folder=str(folder), found=in_archive, had=archived)
    return {"whole": True, "events": found["events"], "last": found["last"], "home_files": in_archive,
            "seconds": round(time.monotonic() - started, 2)}


def _refused_by_disk(failed: Exception, where: Path, settings: Settings, kind: str) -> BadInput | None:
    """A copy the backup's disk refused, said as such (once the unfinished folder is gone, so what is free
    is what the disk has): full (ENOSPC or a quota, SQLite's 'full', or its 'disk I/O error' with less free
    than the database needs), or a file larger than the service may write (EFBIG: a file size limit, `ulimit
    -f`); for a PostgreSQL dump (its size not known before it is written) with what is free only, and
    `pg_dump`'s other refusals in its words; any other SQLite error a copy that is not whole. None for
    anything else."""
    code = failed.errno if isinstance(failed, OSError) else None
    if isinstance(failed, files.ToolFailed):        # pg_dump's own words: a full disk, or another refusal
        if os.strerror(errno.ENOSPC) not in failed.problem and "No space left" not in failed.problem:
            return _tool_refused(failed, settings)
        code = errno.ENOSPC
    from_sqlite = isinstance(failed, sqlite3.DatabaseError)
    if not from_sqlite and code not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return None
    db = sqlite_file(settings) if kind == "sqlite" else None
    needs = sum(os.path.getsize(f"{db}{j}") for j in ("", "-wal") if os.path.exists(f"{db}{j}")) if db else 0
    try:
        free = shutil.disk_usage(where).free
    except OSError:
        free = None
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    mb = lambda n: f"{n / 1048576:.1f}"  # noqa: E731
    if code in (errno.ENOSPC, errno.EDQUOT) or getattr(failed, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL \
            or (from_sqlite and free is not None and free < needs):
        if free is None:
            return BadInput("backup.disk_full", folder=str(where))
        return BadInput("backup.disk_full_at", folder=str(where), free=mb(free), needs=mb(needs)) if needs else \
            BadInput("backup.disk_full_free", folder=str(where), free=mb(free))
    if code == errno.EFBIG or (from_sqlite and limit != resource.RLIM_INFINITY and limit < needs):
        return BadInput("backup.file_limit", folder=str(where), limit=mb(limit), needs=mb(needs)) \
            if limit != resource.RLIM_INFINITY and needs else BadInput("backup.disk_full", folder=str(where))
    return BadInput("backup.copy_not_whole", problem=str(failed)) if from_sqlite else None


def _tool_refused(failed: files.ToolFailed, settings: Settings) -> BadInput:
    """`pg_dump` or `pg_restore` not installed, or failing (its first line said, passwords hidden)."""
    return BadInput("backup.tool_failed" if failed.problem else "backup.tool_missing", tool=failed.tool,
                    problem=failed.problem, url=hidden(settings.db_url))


def record_of(app: App) -> str | None:
    """The record's identity: the hash of its first event (the same in every backup of it, whatever key
    or home it has since); a backup kept by number names it, so that only this record's are removed."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    with app.engine.connect() as conn:
        return conn.execute(select(t.audit_events.c.hash).order_by(t.audit_events.c.seq).limit(1)).scalar()


def _manifest(app: App, actor, kind: str, head: dict | None, archived: int, written: list[Path]) -> dict[str, Any]:
    from importlib.metadata import version
    from migrations import HEAD_REVISION
    return {"format": FORMAT, "jingzhun": version("jingzhun"), "schema": HEAD_REVISION, "database": kind,
            "taken_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "taken_by": actor.code,
            "head": f"{head['seq']}:{head['hash']}" if head else None, "home_files": archived,
            "files": {p.name: {"bytes": p.stat().st_size, "sha256": files.sha256_of(p)} for p in written},
            "key_file": "not in this backup: put the key file kept apart back under keys/record.key (0600)"}


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


# --- restore -------------------------------------------------------------------------------------------------

def read_manifest(folder: Path) -> dict[str, Any]:
    """A backup folder's manifest, each file it names checked against its size and SHA-256."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        named = manifest["files"]
        kind = manifest["database"]
    except (OSError, ValueError, KeyError, TypeError):
        raise BadInput("restore.not_a_backup", folder=str(folder)) from None
    if kind not in DATABASE or DATABASE[kind] not in named or ARCHIVE not in named:
        raise BadInput("restore.not_a_backup", folder=str(folder))
    for name, expected in named.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != expected.get("bytes") or \
                files.sha256_of(path) != expected.get("sha256"):
            raise RuleViolation("restore.file_damaged", file=str(path))
    return manifest


def restore_backup(settings: Settings, folder: Path, told: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The backup in `folder` restored as the data home of `settings`, which must be new (absent or empty)
    and, for a PostgreSQL backup, name an empty PostgreSQL database; nothing is written before every file is
    checked, and a restore that fails leaves the home as it was (absent or empty). Returns the manifest.
    No person is asked for: there is no record to ask it of yet, and whoever holds the backup's files holds
    the record anyway; the key file is put back by hand, after."""
    from engine.adapters.move import tables_held
    folder, home = Path(folder).resolve(), settings.home.resolve()
    say = told or (lambda _step: None)
    say("check")
    manifest = read_manifest(folder)
    kind, target = manifest["database"], parsed(settings.db_url).get_backend_name()
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise BadInput("restore.home_not_empty", home=str(home))
    if kind != target:
        raise BadInput(f"restore.needs_{kind}", url=hidden(settings.db_url))
    if kind == "sqlite" and sqlite_file(settings).exists():       # a database file elsewhere (JINGZHUN_DB)
        raise BadInput("restore.database_not_empty", url=hidden(settings.db_url))
    if kind == "postgresql":
        from engine.adapters.db import make_engine
        engine = make_engine(settings)
        try:
            with engine.connect() as conn:
                held = tables_held(conn)
        finally:
            engine.dispose()
        if held:
            raise BadInput("restore.database_not_empty", url=hidden(settings.db_url))
    made = not home.exists()
    private_dir(home)
    try:
        say("files")
        files.extract_home(folder / ARCHIVE, home)
        say("database")
        if kind == "sqlite":
            db = sqlite_file(settings)
            shutil.copyfile(folder / DATABASE[kind], db)
            os.chmod(db, FILE_MODE)
        else:
            try:
                files.restore_postgresql(folder / DATABASE[kind], settings.db_url)
            except files.ToolFailed as failed:
                raise _tool_refused(failed, settings) from None
    except BaseException:
        for entry in home.iterdir() if home.exists() else ():
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        if made:
            home.rmdir()
        raise
    return manifest
