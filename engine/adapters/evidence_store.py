"""Evidence files kept under their SHA-256 (the evidence/ folder of the data home).

A file is copied into evidence/.incoming/ under a name starting with the copying process's id, then
renamed into place, so a copy cut short never sits where a stored file should be. A process that
fails removes its copy; one killed outright leaves it, and the next store of a file clears the copies
of processes no longer running. `strays` lists what remains that no evidence names (for verify).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from engine.adapters.private_files import FILE_MODE, private_dir
from engine.domain.errors import DISK_FULL, BadInput, Msg
from engine.domain.scans import SCAN_HEAD, refuse_cut_short, refuse_non_scan, refuse_too_big, scan_kind


INCOMING = ".incoming"


def _running(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


class EvidenceStore:
    """Files stored by content: evidence/ab/abcdef... A stored file is never overwritten.
    Folders are 0700 and files 0600, whatever the umask."""

    def __init__(self, root: Path):
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> tuple[str, bool]:
        """Store a file, a photo or scan a browser shows (check_scan: refused by its name otherwise);
        returns its SHA-256 and whether it was new to the store."""
        if not source.is_file():
            raise BadInput("evidence.no_file", path=str(source))
        check_scan(source, source.name)
        digest = sha256_file(source)
        target = self.path_for(digest)
        if target.exists():
            return digest, False
        try:
            private_dir(target.parent)
            incoming = self._incoming()
            fd, tmp = tempfile.mkstemp(dir=incoming, prefix=f"{os.getpid()}-")
        except OSError as exc:
            raise store_unwritable(exc) from None
        try:
            os.fchmod(fd, FILE_MODE)
            os.close(fd)
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise store_unwritable(exc) from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest, True

    def _incoming(self) -> Path:
        """The folder copies arrive in, cleared of those left by processes no longer running."""
        incoming = self.root / INCOMING
        private_dir(incoming)
        for left in incoming.iterdir():
            if not _running(left.name.split("-", 1)[0]):
                left.unlink(missing_ok=True)
        return incoming

    def strays(self, referenced: Iterator[str]) -> Iterator[Path]:
        """Files in the store that no evidence names, and copies left half-way: `referenced` gives the
        hashes evidence names, in ascending order (merged with the folders' sorted names, so memory
        stays flat however many files there are)."""
        incoming = self.root / INCOMING
        if incoming.is_dir():
            yield from sorted(incoming.iterdir())
        wanted = next(referenced, None)
        for path in self._stored():
            while wanted is not None and wanted < path.name:
                wanted = next(referenced, None)
            if path.name != wanted:
                yield path

    def _stored(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and p.name != INCOMING):
            yield from sorted(folder.iterdir())

    def discard(self, digests: list[str]) -> None:
        for digest in digests:
            self.path_for(digest).unlink(missing_ok=True)

    def intact(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        return path.is_file() and sha256_file(path) == sha256


def store_unwritable(exc: OSError) -> BadInput:
    """The server's evidence store cannot take a file (its disk full, its folder not writable): said
    without the server's paths, for the administrator to mend; the evidence is not recorded."""
    full = exc.errno in DISK_FULL
    return BadInput("evidence.store_unwritable", why=Msg("evidence.store_full" if full else "evidence.store_denied"))


def check_scan(path: Path, name: str) -> None:
    """The one check of an evidence file's content, whichever way it came (`name`: as the person gave
    it): not larger than SCAN_MAX, a photo or scan a browser shows (by its first bytes, whatever its
    name says), and whole (ending as its format ends)."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        refuse_too_big(name, size)
        head = fh.read(SCAN_HEAD)
        refuse_non_scan(name, head)
        refuse_cut_short(name, scan_kind(head), fh, size)


def head_of(path: Path) -> bytes:
    """A file's first bytes, enough to tell a photo or scan by (SCAN_HEAD)."""
    with open(path, "rb") as fh:
        return fh.read(SCAN_HEAD)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
