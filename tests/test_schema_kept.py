"""The schema's tables read back from where they are kept (engine/adapters/schema_kept.py) are those
their definitions build: every table's and index's DDL on both databases, every column's type,
default and keys, the partial indexes' predicates; a definition changed is built again."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

ROOT = Path(__file__).resolve().parents[1]


def described(metadata) -> list[str]:
    out = []
    for name, table in sorted(metadata.tables.items()):
        for dialect in (sqlite.dialect(), postgresql.dialect()):
            out.append(str(CreateTable(table).compile(dialect=dialect)))
            for index in sorted(table.indexes, key=lambda i: i.name):
                out.append(f"{CreateIndex(index).compile(dialect=dialect)} {index.info!r}")
        for c in table.columns:
            out.append(repr((name, c.key, repr(c.type), c.default is not None and repr(c.default.arg), c.nullable,
                             c.primary_key, c.autoincrement, c.index, c.unique,
                             sorted(fk.target_fullname for fk in c.foreign_keys))))
    return out


def fresh_description(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_kept_tables_are_the_ones_the_definitions_build(tmp_path, monkeypatch):
    from engine.adapters import schema_kept
    from engine.adapters.tables import metadata, postgresql_predicates     # read back, or built, here
    kept = tmp_path / "tables.pickle"
    monkeypatch.setattr(schema_kept, "KEPT", kept)
    built = schema_kept.kept_metadata()                   # nothing kept there yet: built (in a fresh
    assert kept.is_file()                                 # process: the core module is imported here)
    again = schema_kept.kept_metadata()
    assert again is not built
    for whole in (built, again, metadata):    # as a PostgreSQL database opened in this process made it
        postgresql_predicates(whole)
    assert described(again) == described(built) == described(metadata)
    assert len(again.tables) == 45 and again.tables["role_assignments"].c.person_id.references(
        again.tables["persons"].c.id)


def test_a_fresh_process_reads_them_back_and_builds_them_again_when_a_definition_changes(tmp_path):
    """In a new process the tables come from the kept pickle without importing their definitions;
    a key that no longer matches (a definition edited) builds them again."""
    from engine.adapters import schema_kept
    kept = tmp_path / "tables.pickle"       # (not the checkout's own, which a wrong key would leave stale)
    code = ("import sys, pathlib\nfrom engine.adapters import schema_kept\n"
            f"schema_kept.KEPT = pathlib.Path({str(kept)!r})\n"
            "{change}import engine.adapters.tables as t\n"
            "print(sorted(m for m in sys.modules if m.startswith('engine.adapters.schema_')))\n")
    first = fresh_description(code.format(change=""))[0]              # built, and kept
    assert kept.is_file() and all(f"engine.adapters.{part}" in first for part in schema_kept.PARTS)
    assert fresh_description(code.format(change="")) == ["['engine.adapters.schema_kept']"]     # read back
    stale = code.format(change="schema_kept.source_key = lambda: b'0' * 64\n")
    rebuilt = fresh_description(stale)[0]
    assert all(f"engine.adapters.{part}" in rebuilt for part in schema_kept.PARTS)


def test_without_the_definitions_source_the_tables_are_built(tmp_path, monkeypatch):
    """An install of compiled modules alone (no schema_*.py to digest) builds the tables and keeps none."""
    from engine.adapters import schema_kept

    def missing():
        raise FileNotFoundError("schema_core.py")
    monkeypatch.setattr(schema_kept, "KEPT", tmp_path / "tables.pickle")
    monkeypatch.setattr(schema_kept, "source_key", missing)
    assert len(schema_kept.kept_metadata().tables) == 45 and not (tmp_path / "tables.pickle").exists()
