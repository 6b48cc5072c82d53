"""Files and folders with personal data, readable by their owner alone whatever the umask.

The data home, the SQLite database (SQLite gives its -wal and -shm files the database file's
mode), the evidence store, the file mailbox and the dossiers and notices the CLI writes: folders
0700, files 0600. The modes are set explicitly (chmod after creating), so a umask of 0 or 022
changes nothing.
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import stat
import tempfile
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import IO, Callable, Iterator

from engine.domain.errors import cannot_write

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


def write_private(path: Path | str, text: str) -> Path:
    """`text` written to `path` (UTF-8), readable by its owner alone, whole or not at all (`replacing`):
    a page with personal data (a trace, a notice, a report) is never left cut short, nor an earlier one
    lost, by a full disk or a Ctrl-C."""
    with replacing(path) as (out, _made):
        out.write(text)
    return Path(path).resolve()


@contextmanager
def replacing(path: Path | str, then: Callable[[], None] | None = None) -> Iterator[tuple[IO, str]]:
    """`path` written whole or not at all (an export, a report's CSV or page, paper codes): a new file (0600)
    beside it, `.NAME.xxxxxxxx.partial`, yielded open (text, UTF-8) with its own path (for a writer that opens
    it by name), moved into place when the block ends, `then` called once it is whole and before it takes
    its name (an export's recording: a file the disk refused is not recorded as gone out, and one recorded
    is whole); removed when it is left by an error or an
    interrupt (Ctrl-C), which had left a hidden copy of the data beside the user's file. The file is
    locked while it is being written, so that what a writer killed on the way (SIGKILL: nothing of
    it runs) left beside `path` is told from another's live file and removed by the next writer of
    `path`. A folder that cannot take the file, or a write that fails on the way (a full disk, a file
    too large for its disk), is refused in words (cannot_write), `path` left as it was."""
    target = Path(os.path.abspath(path))     # a link at `path` replaced, never written through
    clear_left_beside(target)
    try:
        fd, made = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=_PARTIAL)
    except OSError as exc:
        raise cannot_write(str(path), exc) from None
    out = None
    try:
        os.fchmod(fd, FILE_MODE)
        _lock(fd, fcntl.LOCK_EX)
        out = os.fdopen(fd, "w", encoding="utf-8")
        yield out, made
        out.flush()                     # all of it in the file before it takes the name (a full disk: refused)
        if then is not None:
            then()
        os.replace(made, target)        # still locked: not another writer's to clear
    except OSError as exc:
        _removed(made)
        raise cannot_write(str(path), exc) from None
    except BaseException:
        _removed(made)
        raise
    finally:
        if out is None:
            os.close(fd)
        else:
            with suppress(OSError):     # flushed already, or failed (a full disk) and said so above
                out.close()


def _removed(made: str) -> None:
    """A file begun beside its place removed, where it still can be (its stick pulled out or made
    read-only: it went with the stick, or stays hidden there and is cleared by the next writer)."""
    with suppress(OSError):
        Path(made).unlink(missing_ok=True)


@contextmanager
def replacing_together(then: Callable[[], None] | None = None) -> Iterator[Callable[[Path | str], tuple[IO, str]]]:
    """Several files written whole or none of them (a report's page, its CSV files and workbook): the
    block is given `beside(path)`, which begins `path` as `replacing` does and gives its (file, own
    path); when the block ends every one is whole (flushed), `then` is called (the files' recording)
    and they are moved into place; an error or an interrupt on the way leaves none of them, nor their
    hidden copies, and no recording."""
    begun: list[tuple[Path | str, IO]] = []
    with ExitStack() as stack:
        def beside(path: Path | str) -> tuple[IO, str]:
            out, made = stack.enter_context(replacing(path))
            begun.append((path, out))
            return out, made
        yield beside
        for path, out in begun:
            try:
                out.flush()
            except OSError as exc:
                raise cannot_write(str(path), exc) from None
        if then is not None:
            then()


# tempfile's names: eight of these characters after the prefix, then ours (a user's own `.NAME.original`
# or `.NAME.v2_final` is not taken for one)
_PARTIAL = ".partial"
_MADE = re.compile(r"[a-z0-9_]{8}" + re.escape(_PARTIAL))


def clear_left_beside(target: Path) -> int:
    """Remove what writers of `target` (`replacing`) killed on the way left beside it: our own 0600
    regular files named `.NAME.`, eight of tempfile's characters and `.partial` that no live writer holds locked;
    how many."""
    prefix, removed = f".{target.name}.", 0
    try:
        entries = [e for e in os.scandir(target.parent) if e.name.startswith(prefix)
                   and _MADE.fullmatch(e.name[len(prefix):])]
    except OSError:
        return 0
    for entry in entries:
        try:
            found = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(found.st_mode) or found.st_uid != os.getuid() or \
                    stat.S_IMODE(found.st_mode) != FILE_MODE:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if _lock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _lock(fd: int, how: int) -> bool:
    """Lock a file (flock: let go when its holder ends, however it ends); False when another holds
    it, or the file system cannot lock (then nothing is taken for left behind)."""
    try:
        fcntl.flock(fd, how)
    except OSError:
        return False
    return True


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
