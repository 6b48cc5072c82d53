"""Files and folders with personal data, readable by their owner alone whatever the umask.

The data home, the SQLite database (SQLite gives its -wal and -shm files the database file's
mode), the evidence store, the file mailbox and the dossiers and notices the CLI writes: folders
0700, files 0600. The modes are set explicitly (chmod after creating), so a umask of 0 or 022
changes nothing.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import IO

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` as a folder only its owner may enter: made (with missing parents, made the same way)
    or, when it exists, tightened."""
    made = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    for folder in {*made, path}:
        tighten(folder, FOLDER_MODE)
    return path


def private_tree(path: Path) -> Path:
    """A folder tree of ours (e.g. a configuration copied in) readable by its owner alone: its
    folders 0700, its files 0600, whatever modes they were copied with."""
    for folder, _dirs, files in os.walk(path):
        tighten(Path(folder), FOLDER_MODE)
        for name in files:
            tighten(Path(folder) / name, FILE_MODE)
    return path


def tighten(path: Path, mode: int) -> None:
    """Take every group and other permission away from an existing file or folder of ours."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return
    if stat.S_IMODE(found.st_mode) & 0o077 or found.st_mode & mode != mode:
        os.chmod(path, stat.S_IMODE(found.st_mode) & ~0o077 | mode)


def create_private(path: Path) -> None:
    """A new empty file of mode 0600 (an existing one is refused: FileExistsError)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def open_private(path: Path | str, mode: str = "w", encoding: str | None = "utf-8") -> IO:
    """Open `path` for writing (truncated, or appended with mode "a") as a file of mode 0600; an
    existing regular file is tightened to 0600 before anything is written to it."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode.startswith("a") else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, encoding=None if "b" in mode else encoding)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path | str, text: str) -> None:
    """`text` written to `path` (UTF-8), readable by its owner alone."""
    with open_private(path) as fh:
        fh.write(text)


# A request's files on the server (what a `--server` command sends and writes, a download being
# built) live under the data home's work/ folder, named after the process that made them, so that
# what a crashed or killed server left behind is found and removed when a server starts again.
WORK = "work"


def work_dir(home: Path, kind: str) -> Path:
    """A new private folder for one request's files (0700, under the home's work/)."""
    return Path(tempfile.mkdtemp(prefix=f"{kind}-{os.getpid()}-", dir=private_dir(Path(home) / WORK)))


def work_file(home: Path, kind: str, suffix: str = "") -> Path:
    """A new private empty file (0600) for one request, under the home's work/."""
    fd, path = tempfile.mkstemp(prefix=f"{kind}-{os.getpid()}-", suffix=suffix, dir=private_dir(Path(home) / WORK))
    os.close(fd)
    return Path(path)


def clear_orphans(home: Path) -> int:
    """Remove what processes that are gone left under the home's work/ (their id is in each name);
    how many were removed. Another live server's files are kept."""
    root, removed = Path(home) / WORK, 0
    if not root.is_dir():
        return 0
    for entry in root.iterdir():
        owner = entry.name.split("-")[1] if entry.name.count("-") >= 2 else ""
        if owner.isdigit() and not _alive(int(owner)):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
