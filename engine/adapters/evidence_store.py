"""Evidence files kept under their SHA-256 (the evidence/ folder of the data home)."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from engine.adapters.private_files import FILE_MODE, private_dir
from engine.domain.errors import BadInput


class EvidenceStore:
    """Files stored by content: evidence/ab/abcdef... A stored file is never overwritten.
    Folders are 0700 and files 0600, whatever the umask."""

    def __init__(self, root: Path):
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> tuple[str, bool]:
        """Store a file; returns its SHA-256 and whether it was new to the store."""
        if not source.is_file():
            raise BadInput("evidence.no_file", path=str(source))
        digest = sha256_file(source)
        target = self.path_for(digest)
        if target.exists():
            return digest, False
        private_dir(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent)
        os.fchmod(fd, FILE_MODE)
        os.close(fd)
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        return digest, True

    def discard(self, digests: list[str]) -> None:
        for digest in digests:
            self.path_for(digest).unlink(missing_ok=True)

    def intact(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        return path.is_file() and sha256_file(path) == sha256


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
