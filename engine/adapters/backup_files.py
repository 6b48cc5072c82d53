"""A data home's backup on disk: its database copied whole while the server runs (SQLite's online backup,
PostgreSQL's `pg_dump`), its files in one tar archive, and the way back (`jingzhun backup`, `restore`).

Every file written is its owner's alone (0600, folders 0700): a backup holds every household's personal data.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Iterable

from sqlalchemy.engine import make_url

from engine.adapters.db import without_passwords
from engine.adapters.private_files import FILE_MODE, private_tree, tighten

CHUNK = 1 << 20


class ToolFailed(Exception):
    """`pg_dump` or `pg_restore` missing or failing: `problem` its first line, passwords hidden."""

    def __init__(self, tool: str, problem: str) -> None:
        super().__init__(problem)
        self.tool, self.problem = tool, problem


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_sqlite(source: Path, target: Path, head_seq: int | None) -> dict:
    """The SQLite database at `source` copied whole to `target` by SQLite's online backup, in one step:
    one consistent snapshot while a server goes on writing (WAL: its writers are not held); a copy the disk
    refuses raises sqlite3.DatabaseError (checked once written: `read_sqlite_back`). Returns what the
    snapshot held of the audit log, counted in the source within the very snapshot copied (`events_of`,
    `head_seq` the signed head's event)."""
    src = sqlite3.connect(source, isolation_level=None)
    try:
        src.execute("BEGIN")                    # one read snapshot: counted, then copied
        had = _sqlite_events(src, head_seq)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
        src.execute("COMMIT")
    finally:
        src.close()
    tighten(target, FILE_MODE)
    return had


def _sqlite_events(conn: sqlite3.Connection, head_seq: int | None = None) -> dict:
    count, last = conn.execute("SELECT count(*), max(seq) FROM audit_events").fetchone()
    hash_at = lambda seq: (conn.execute("SELECT hash FROM audit_events WHERE seq = ?", (seq,)).fetchone()  # noqa: E731
                           or [None])[0] if seq is not None else None
    return events_of(count, last, hash_at(last), hash_at(head_seq))


def events_of(count: int, last: int | None, last_hash: str | None, head_hash: str | None = None) -> dict:
    """What a database holds of the audit log, as a backup's check compares it: how many events, the last
    (`seq:hash`), and the hash of the event at the signed head asked for (None if it holds none)."""
    return {"events": int(count or 0), "last": f"{last}:{last_hash}" if last is not None else None,
            "head_hash": head_hash}


def read_sqlite_back(path: Path, head_seq: int | None) -> dict:
    """A backup's SQLite copy opened anew from the disk, read-only (and immutable: no journal left beside it):
    `PRAGMA quick_check` (a copy that is not whole raises sqlite3.DatabaseError), then its audit log counted
    (`events_of`)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)  # no journal beside it
    try:
        found = conn.execute("PRAGMA quick_check").fetchone()[0]
        if found != "ok":
            raise sqlite3.DatabaseError(found)
        return _sqlite_events(conn, head_seq)
    finally:
        conn.close()


def _pg_env(url: str) -> dict[str, str]:
    """libpq's environment for the database at `url`: its password never on a command line (`ps`)."""
    u = make_url(url)
    env = {**os.environ, "PGDATABASE": u.database or "", "PGCONNECT_TIMEOUT": "10"}
    for name, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username), ("PGPASSWORD", u.password)):
        if value is not None:
            env[name] = str(value)
    return env


def _run(tool: str, args: list[str], url: str) -> None:
    if shutil.which(tool) is None:
        raise ToolFailed(tool, "")
    done = subprocess.run([tool, *args], env=_pg_env(url), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, errors="replace")
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise ToolFailed(tool, without_passwords(lines[0] if lines else f"exit {done.returncode}"))


def dump_postgresql(url: str, target: Path, snapshot: str | None = None) -> None:
    """The PostgreSQL database at `url` dumped whole (`pg_dump -Fc`: one snapshot, the server writing on);
    `snapshot`: an exported snapshot (`pg_export_snapshot()`) to dump, the one its caller counted in."""
    _run("pg_dump", ["--format=custom", "--no-password", f"--file={target}",
                     *([f"--snapshot={snapshot}"] if snapshot else [])], url)
    tighten(target, FILE_MODE)


def read_dump_back(dump: Path, url: str, head_seq: int | None) -> dict:
    """A backup's PostgreSQL dump read back whole as `pg_restore` would restore it: its table of contents
    listed (`pg_restore --list`), then every table's data decompressed and read (`pg_restore --file=-`), the
    audit log's rows counted on the way (`events_of`). A dump that cannot be read raises ToolFailed."""
    _run("pg_restore", ["--list", str(dump)], url)
    count, last, last_hash, head_hash = 0, None, None, None
    columns: list[str] | None = None
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as said, \
            subprocess.Popen(["pg_restore", "--data-only", "--file=-", str(dump)], env=_pg_env(url),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=said,
                             text=True, errors="replace") as reading:
        for line in reading.stdout:
            if columns is None:
                if line.startswith("COPY ") and line.split(" ", 2)[1].split(".")[-1] == "audit_events":
                    columns = [c.strip().strip('"') for c in line[line.index("(") + 1:line.index(")")].split(",")]
                    at_seq, at_hash = columns.index("seq"), columns.index("hash")
                continue
            if line.startswith("\\."):
                columns = []                     # the audit log's rows end here; the rest is read, not parsed
                continue
            if not columns:
                continue
            row = line.rstrip("\n").split("\t")
            seq, count = int(row[at_seq]), count + 1
            if last is None or seq > last:
                last, last_hash = seq, row[at_hash]
            if seq == head_seq:
                head_hash = row[at_hash]
        reading.wait()
        said.seek(0)
        problem = said.read()
    if reading.returncode != 0:
        lines = [line for line in problem.splitlines() if line.strip()]
        raise ToolFailed("pg_restore", without_passwords(lines[0] if lines else f"exit {reading.returncode}"))
    return events_of(count, last, last_hash, head_hash)


def archive_files(archive: Path) -> int:
    """How many files a backup's home archive holds, each header read back (tarfile: a cut or damaged
    archive raises tarfile.TarError)."""
    with tarfile.open(archive, mode="r:") as tar:
        return sum(1 for member in tar if member.isfile())


def restore_postgresql(dump: Path, url: str) -> None:
    """A dump restored into the empty PostgreSQL database at `url`, in one transaction (all or nothing),
    owned by the role restoring it (`init` then takes the audit tables' rights back from it)."""
    _run("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                        "--no-password", f"--dbname={make_url(url).database}", str(dump)], url)


def archive_home(home: Path, target: Path, left_out: Iterable[Path]) -> int:
    """The data home's files (evidence, installed rules, mailbox…) in one tar archive, `left_out` (the
    database and its journals, the key file's folder, work files) not in it; returns the files archived."""
    home = home.resolve()
    skipped = {os.path.normpath(os.path.join(".", os.path.relpath(p.resolve(), home))) for p in left_out
               if p.resolve().is_relative_to(home)}
    count = 0

    def kept(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
        nonlocal count
        if os.path.normpath(member.name) in skipped or not (member.isfile() or member.isdir()):
            return None
        count += member.isfile()
        return member

    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(home, arcname=".", recursive=True, filter=kept)
    return count


def extract_home(archive: Path, home: Path) -> None:
    """A backup's archive unpacked into `home` (links, devices and paths leaving it refused: tarfile's
    `data` filter), every folder 0700 and file 0600 after."""
    with tarfile.open(archive, mode="r:") as tar:
        tar.extractall(home, filter="data")
    private_tree(home)
