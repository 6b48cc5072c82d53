"""The schema's tables built once and kept, as Python keeps compiled modules.

Building the tables from their definitions (the schema_*.py modules: some 600 columns, indexes and
constraints) takes about 25 ms, a tenth of a direct command's start; reading them back from a
pickle of the built metadata takes 5. The pickle lives in this folder's __pycache__, under a digest
of the definitions' source, this module's, SQLAlchemy's version and Python's: a definition changed
is built again and kept anew. A folder that cannot be written (an installed package), or an install
without the definitions' source, only builds them each time. `tests/test_schema_kept.py` compares
what is read back with what is built.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path

from sqlalchemy import MetaData

PARTS = ("schema_core", "schema_accountability", "schema_alerts", "schema_projects", "schema_access",
         "schema_assessment")
_HERE = Path(__file__).resolve().parent
KEPT = _HERE / "__pycache__" / "jingzhun-tables.pickle"


def built() -> MetaData:
    """The metadata the definitions make (each part adds its tables to the core's)."""
    import importlib
    for part in PARTS:
        importlib.import_module(f"engine.adapters.{part}")
    from engine.adapters.schema_core import metadata
    return metadata


def source_key() -> bytes:
    import sqlalchemy
    digest = hashlib.sha256(f"{sys.version}\n{sqlalchemy.__version__}\n".encode())
    for name in (*PARTS, "schema_kept"):
        content = (_HERE / f"{name}.py").read_bytes()
        digest.update(f"{name}\n{len(content)}\n".encode())
        digest.update(content)
    return digest.hexdigest().encode("ascii")


def kept_metadata() -> MetaData:
    """The schema's metadata: read back if kept for these definitions, else built and kept."""
    try:
        key = source_key()
    except OSError:             # the definitions' source not at hand (compiled modules alone): built each time
        return built()
    try:
        with open(KEPT, "rb") as fh:
            if fh.read(len(key)) == key:
                metadata = pickle.load(fh)
                if isinstance(metadata, MetaData):
                    return metadata
    except Exception:           # none yet, unreadable or from another version: build them
        pass
    metadata = built()
    _keep(key, metadata)
    return metadata


def _keep(key: bytes, metadata: MetaData) -> None:
    staging = None
    try:
        KEPT.parent.mkdir(exist_ok=True)
        fd, staging = tempfile.mkstemp(dir=KEPT.parent, prefix=".tables-")
        os.chmod(staging, 0o644)       # the schema, no one's data: readable as compiled modules are
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            pickle.dump(metadata, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(staging, KEPT)
    except Exception:           # a folder that cannot be written: built each time, only slower
        if staging is not None and os.path.exists(staging):
            os.unlink(staging)
