"""A file of personal data the system writes for a user (an export, a trace's or a notice's page, a
report) is there whole or not at all, and a write that fails on the way says so in words.

The failure is the operating system's own: a process whose files may grow to 1,000 bytes (RLIMIT_FSIZE,
as a FAT32 stick's 4 GB or a full disk would stop it), writing 5,000."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

WRITE = """
import json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # the write fails with EFBIG rather than killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
from engine.adapters.private_files import write_private
from engine.domain.errors import JingzhunError
from entrypoints.cli.context import packaged_config
labels = packaged_config()
try:
    write_private(sys.argv[1], "页" * 5000)
except JingzhunError as exc:
    print(json.dumps({"code": exc.code, "zh": exc.render(labels, "zh"), "en": exc.render(labels, "en")}))
"""


def _write_limited(target: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", WRITE, str(target)], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("earlier", [True, False])
def test_a_page_too_large_for_its_place_is_refused_in_words_and_the_earlier_file_kept(tmp_path, earlier):
    """`trace --html F` and `notice render --html F` wrote straight into F: a full disk or a Ctrl-C left
    it cut short (the earlier page lost); an export's failed write ended in a Python traceback."""
    target = tmp_path / "追溯.html"
    if earlier:
        target.write_text("上次的页面", encoding="utf-8")
    refused = _write_limited(target)
    assert refused["code"] == "file.too_large"
    assert str(target) in refused["zh"] and "请换一个位置" in refused["zh"]
    assert "choose another place" in refused["en"]
    assert sorted(p.name for p in tmp_path.iterdir()) == (["追溯.html"] if earlier else [])
    if earlier:
        assert target.read_text(encoding="utf-8") == "上次的页面"


def test_a_page_is_written_whole_readable_by_its_owner_alone_and_replaces_a_link_rather_than_writing_through(
        tmp_path):
    """A link planted where the page goes (to another file of the user's) was written through."""
    from engine.adapters.private_files import write_private
    other = tmp_path / "别人的.txt"
    other.write_text("不动", encoding="utf-8")
    target = tmp_path / "追溯.html"
    target.symlink_to(other)
    assert write_private(target, "页面") == target.resolve()
    assert not target.is_symlink() and target.read_text(encoding="utf-8") == "页面"
    assert target.stat().st_mode & 0o777 == 0o600
    assert other.read_text(encoding="utf-8") == "不动"


STORE = """
import json, resource, signal, sys
from pathlib import Path
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
from engine.adapters.evidence_store import EvidenceStore
from engine.domain.errors import JingzhunError
from entrypoints.cli.context import packaged_config
try:
    EvidenceStore(Path(sys.argv[1])).put(Path(sys.argv[2]))
except JingzhunError as exc:
    print(json.dumps({"code": exc.code, "zh": exc.render(packaged_config(), "zh")}))
"""


def test_a_photo_the_evidence_store_cannot_take_is_refused_in_words_without_the_server_s_paths(tmp_path):
    """A full disk under the evidence store ended `evidence add` (and a sheet's import) in a traceback
    naming the server's folders; the page said only that the server failed."""
    photo = tmp_path / "房屋.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(5000) + b"\x00\x00\x00\x00IEND\xaeB`\x82")   # whole: its IEND chunk
    store = tmp_path / "evidence"
    done = subprocess.run([sys.executable, "-c", STORE, str(store), str(photo)], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    refused = json.loads(done.stdout)
    assert refused["code"] == "evidence.store_unwritable" and "磁盘已满" in refused["zh"]
    assert str(tmp_path) not in refused["zh"]
    assert [p for p in store.rglob("*") if p.is_file()] == []      # no half copy left in the store
