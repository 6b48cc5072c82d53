"""How `export` writes its files, as the user finds them in their folder: whole or not at all, and
nothing of the personal data left beside them when an export is stopped (Ctrl-C) or killed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.test_cli import ENV_VARS, case, home, template  # noqa: F401  (fixtures)

# `jingzhun ARGS` whose export goes on reading rows for a minute after the first (a county's table
# being read): time to interrupt it while its file is being written.
SLOW_EXPORT = """
import sys, time
from entrypoints.cli import exports
from entrypoints.cli.main import main
read = exports.export_cells

def slow(*args, **kwargs):
    title, header, cells = read(*args, **kwargs)
    def rows():
        for row in cells:
            yield row
            time.sleep(60)
    return title, header, rows()

exports.export_cells = slow
sys.exit(main())
"""


def _hidden(target) -> set[str]:
    """The hidden files beside `target` named after it (.成员.csv.xxxxxxxx)."""
    return {p.name for p in target.parent.glob(f".{target.name}.*")}


def _exporting(home, target, fmt: str = "csv") -> subprocess.Popen:  # noqa: F811
    """`jingzhun --as vs export members --FMT target` in a process of its own, once its file beside
    `target` is being written."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS} | {"JINGZHUN_TOKEN": home.tokens["vs"]}
    before = _hidden(target)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_EXPORT, "--home", str(home.path), "--as", "vs", "export",
                             "members", f"--{fmt}", str(target)], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _hidden(target) == before and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None and _hidden(target) != before, proc.communicate()
    return proc


def test_an_export_stopped_by_ctrl_c_leaves_the_earlier_file_as_it_was_and_nothing_beside_it(home, case, tmp_path):  # noqa: F811
    """Ctrl-C during `export members --csv F` said 已中止 and left a hidden copy of the rows written so
    far (names, whole ID numbers) beside F, which nothing ever removed."""
    folder = tmp_path / "共享"
    folder.mkdir()
    target = folder / "成员.csv"
    target.write_text("上次导出的\n", encoding="utf-8")
    proc = _exporting(home, target)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and err.strip() == "已中止", err
    assert sorted(p.name for p in folder.iterdir()) == ["成员.csv"]
    assert target.read_text(encoding="utf-8") == "上次导出的\n"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_what_a_killed_export_left_is_removed_by_the_next_export_to_the_file_and_a_running_one_s_is_kept(
        home, case, tmp_path, fmt):  # noqa: F811
    """A killed export (SIGKILL: nothing of it runs) left its hidden file beside the target, and later
    exports to the same file left it there. The next export removes it; the file of an export still
    running to the same target is not touched."""
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / f"成员.{fmt}"
    killed = _exporting(home, target, fmt)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=60)
    left = _hidden(target)
    assert len(left) == 1
    running = _exporting(home, target, fmt)
    live = _hidden(target) - left
    assert home("vs", "export", "members", f"--{fmt}", str(target)).code == 0
    assert sorted(p.name for p in target.parent.iterdir()) == sorted({f"成员.{fmt}", *live})
    running.send_signal(signal.SIGINT)
    running.communicate(timeout=60)
    assert sorted(p.name for p in target.parent.iterdir()) == [f"成员.{fmt}"]
