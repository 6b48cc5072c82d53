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


def copy_sqlite(source: Path, target: Path) -> None:
    """The SQLite database at `source` copied whole to `target` by SQLite's online backup, in one step:
    one consistent snapshot while a server goes on writing (WAL: its writers are not held), then checked
    (`PRAGMA quick_check`). A copy that is not whole raises sqlite3.DatabaseError."""
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            found = dst.execute("PRAGMA quick_check").fetchone()[0]
            if found != "ok":
                raise sqlite3.DatabaseError(found)
        finally:
            dst.close()
    finally:
        src.close()
    tighten(target, FILE_MODE)


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


def dump_postgresql(url: str, target: Path) -> None:
    """The PostgreSQL database at `url` dumped whole (`pg_dump -Fc`: one snapshot, the server writing on)."""
    _run("pg_dump", ["--format=custom", "--no-password", f"--file={target}"], url)
    tighten(target, FILE_MODE)


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
