"""The global option that names a database for a command run in a test: `--db URL`, or, for a URL
with a password (PostgreSQL in CI), `--db-file FILE` (a private file holding it), because the CLI
refuses a password on the command line."""
from __future__ import annotations

import atexit
import os
import tempfile
from functools import lru_cache

from engine.adapters.db import has_password


def db_option(url: str) -> list[str]:
    return ["--db-file", _url_file(url)] if has_password(url) else ["--db", url]


@lru_cache(maxsize=None)
def _url_file(url: str) -> str:
    fd, path = tempfile.mkstemp(prefix="jz-db-url-")
    os.fchmod(fd, 0o600)
    atexit.register(_remove, path)          # a URL with its password is not left behind in /tmp
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(url + "\n")
    return path


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
