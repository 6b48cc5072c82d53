"""A copy of the packaged rules (config/) with some of their text changed: what the tests of a wrong,
new or changed configuration load, check or install."""
from __future__ import annotations

import shutil
from pathlib import Path

from config import CONFIG_DIR


def rules_copy(tmp_path: Path, changes: dict[str, tuple[str, str]] | None = None, name: str = "config") -> Path:
    """The rules copied to `tmp_path/name` (no Python), each file named in `changes` (its path under the
    folder: "policy.yaml", "workflows/household.yaml") with its first `old` replaced by `new`; an `old`
    the file lacks fails the test at once (the packaged rules changed under it)."""
    folder = tmp_path / name
    shutil.copytree(CONFIG_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for file, (old, new) in (changes or {}).items():
        path = folder / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{file} has no {old!r}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder
