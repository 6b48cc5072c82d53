"""A cadre's files through `jingzhun --server` (a real server process and real client processes).

- The server's own files: a command whose file the SERVER's disk refused (an export it writes, a
  registry it takes in) said "cannot write <the cadre's own path>: the disk is full, free some space or
  choose another place" - the cadre's own disk blamed, the server's work folder named beside it. Now it
  is said as the server's disk, to be told to its administrator, naming no path of either.
- A client stopped while a file comes back (Ctrl-C, SIGTERM) leaves no `.NAME.part` beside the file.
- `person import --codes-file` whose codes the cadre's own disk cannot take: refused before the list is
  sent (nobody created); and when they are lost all the same, said so with how to give new codes.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.web.test_cli_streaming import client, served, tokens  # noqa: F401  (served: a fixture)
from tests.web.test_disk_full import exported, serve_work_full
from tests.web.test_serve import stop_server

ROOT = Path(__file__).resolve().parents[2]


def case_count(settings) -> int:
    with sqlite3.connect(settings.home / "jingzhun.db") as db:
        return db.execute("SELECT count(*) FROM cases").fetchone()[0]


def test_a_file_the_server_s_own_disk_refuses_is_said_as_the_server_s_not_the_cadre_s(demo_home, tmp_path):
    settings, _ = demo_home
    base, process = serve_work_full(settings)
    try:
        before, cases = exported(settings), case_count(settings)
        out = tmp_path / "成员.xlsx"
        code, said, err, _ = client(settings, base, "county_director", "export", "members", "--xlsx", str(out))
        assert code == 1 and "服务器的磁盘已满" in err and "不是您这台电脑的磁盘" in err, err
        assert "请腾出空间或换一个位置" not in err and str(out) not in err and str(settings.home) not in err
        code, said, err_en, _ = client(settings, base, "county_director", "--lang", "en", "export", "cases",
                                       "--csv", str(tmp_path / "cases.csv"))
        assert code == 1 and "the server's disk is full" in err_en and "Tell the system administrator" in err_en, err_en
        assert "/work/" not in err_en and "cases.csv" not in err_en
        assert not list(tmp_path.iterdir()) and exported(settings) == before     # nothing came, nothing recorded

        registry = tmp_path / "名单.csv"
        registry.write_text("村编码,户编号,姓名,身份证号,与户主关系\n" +
                            "360730100201,H1,某某,360730199001011234,户主\n" * 2000, encoding="utf-8")
        code, said, err, _ = client(settings, base, "county_director", "household", "import", str(registry))
        assert code == 1 and "服务器的磁盘已满" in err and "Traceback" not in err, err
        assert str(settings.home) not in err and case_count(settings) == cases
    finally:
        log = stop_server(process)
    assert "Traceback" not in log
    assert "the server cannot write a file of its own (file.disk_full) running a client's `export`" in log


# A client whose download is stopped by a real signal sent to itself once the first bytes of a file it
# is sent have been written to its `.NAME.part` (argv: the signal's name, then the command line).
STOPPED_MID_DOWNLOAD = """
import os, signal, sys
from entrypoints.cli import remote
from entrypoints.cli.main import main
stop, written = getattr(signal, sys.argv[1]), remote._Parts.data
def data(self, chunk, start, end):
    written(self, chunk, start, end)
    if self.out is not None:
        os.kill(os.getpid(), stop)
remote._Parts.data = data
sys.exit(main(sys.argv[2:]))
"""


def _stopped_client(settings, base: str, stop: str, *argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    env["JINGZHUN_TOKEN"] = tokens(settings)["county_director"]
    return subprocess.run([sys.executable, "-c", STOPPED_MID_DOWNLOAD, stop, "--server", base, "--as",
                           "county_director", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_a_client_stopped_mid_download_leaves_no_part_file_and_a_later_run_replaces_a_stale_one(
        served, demo_home, tmp_path):  # noqa: F811
    """Ctrl-C or a `kill` (SIGTERM: a closed terminal, a job stopped) while an export came back left the
    hidden `.成员.csv.part` beside the cadre's file, ID numbers and all (SIGTERM ended the client on the
    spot). Now it is removed and the client says it stopped; one a SIGKILL left is replaced by the next run."""
    settings, _ = demo_home
    base, _pid = served
    out = tmp_path / "成员.csv"
    part = tmp_path / ".成员.csv.part"
    for stop in ("SIGINT", "SIGTERM"):
        done = _stopped_client(settings, base, stop, "export", "members", "--csv", str(out))
        assert done.returncode == 2, (stop, done.returncode, done.stderr)
        assert "已中止" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert not out.exists() and list(tmp_path.iterdir()) == [], (stop, list(tmp_path.iterdir()))
    done = _stopped_client(settings, base, "SIGKILL", "export", "members", "--csv", str(out))
    assert done.returncode == -signal.SIGKILL and part.exists() and not out.exists()   # nothing of it ran
    code, said, err, _ = client(settings, base, "county_director", "export", "members", "--csv", str(out))
    assert code == 0, err
    assert out.read_bytes().startswith("\ufeff".encode()) and len(out.read_text(encoding="utf-8-sig").splitlines()) > 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["成员.csv"]


def _persons(settings) -> set[str]:
    with sqlite3.connect(settings.home / "jingzhun.db") as db:
        return {code for (code,) in db.execute("SELECT code FROM persons")}


def _person_list(path: Path, *codes: str) -> Path:
    path.write_text("人员编号,姓名,角色,区域\n" + "".join(f"{c},新人{n},village_secretary,360730100201\n"
                                                    for n, c in enumerate(codes)), encoding="utf-8")
    return path


def _admin_env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    return {**env, "JINGZHUN_TOKEN": tokens(settings)["admin"], "PYTHONPATH": str(ROOT)}


def test_a_codes_file_the_cadre_s_disk_cannot_take_is_refused_before_anyone_is_created(served, demo_home,  # noqa: F811
                                                                                      tmp_path):
    """`person import --codes-file F` through --server with F in a read-only folder (a write-protected
    stick) or on a full disk: the server created the persons, then the client could not write their
    one-time codes - lost, and the persons could not sign in. Now F is begun (and room kept for it) before
    the list is sent: refused in words, nobody created, nothing left beside F."""
    from tests.test_export_files import full_disk
    settings, _ = demo_home
    base, _pid = served
    folder = tmp_path / "U盘"
    folder.mkdir()
    for read_only, said, code in ((True, "没有在文件夹", "p_ro1"), (False, "磁盘已满", "p_full1")):
        people = _person_list(tmp_path / f"{code}.csv", code)
        done, left = full_disk(folder, [sys.executable, str(ROOT / "cli.py"), "--server", base, "--as", "admin",
                                         "person", "import", str(people), "--codes-file", str(folder / "码.csv")],
                                _admin_env(settings), read_only=read_only)
        assert done.returncode == 2 and said in done.stderr and str(folder / "码.csv") in done.stderr, done.stderr
        assert "已导入" not in done.stdout and "Traceback" not in done.stderr
        assert left == ["filler"] and code not in _persons(settings)


def stick_folder(tmp_path: Path) -> Path:
    """A folder to mount a stick of the client's own on (skipped where no mount namespace is ours)."""
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode:
        pytest.skip("no mount namespace of our own here (unshare -rm) to mount a stick in")
    folder = tmp_path / "U盘"
    folder.mkdir()
    return folder


def _on_stick(settings, script: str, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`sh -c script sh FOLDER ARGS…` in a mount namespace of its own, as the administrator's client."""
    return subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", str(folder), *args], cwd=ROOT,
                          env=_admin_env(settings), capture_output=True, text=True, timeout=300)


# The client on a machine whose folder FOLDER is a stick of its own (tmpfs) mounted over a read-only disk,
# in a mount namespace of its own; once the server's answer says the import is done (the codes follow),
# the stick is pulled out (unmounted as it is in use: its open files stay, its folder is the disk's again).
STICK = ('mount -t tmpfs -o size=64k tmpfs "$1" && mount -o remount,ro "$1" && mount -t tmpfs -o size=1m tmpfs "$1" '
         '|| exit 99; shift; exec "$@"')
PULLED_OUT = """
import subprocess, sys
from entrypoints.cli import remote
from entrypoints.cli.main import main
ended = remote._Parts.end
def end(self):
    ended(self)
    if self.json is not None:
        subprocess.run(["umount", "-l", sys.argv[1]], check=True)
remote._Parts.end = end
sys.exit(main(sys.argv[2:]))
"""


def test_codes_the_cadre_s_disk_lost_after_the_persons_were_created_are_said_with_how_to_give_new_ones(
        served, demo_home, tmp_path):  # noqa: F811
    """The persons are created, then their codes file could not be written here after all (the stick it
    went to pulled out): it said only "cannot write F", as if nothing had been done. Now it says the
    persons were created, that their codes are lost, and the command that gives each a new one (which
    works, through the same server)."""
    settings, _ = demo_home
    base, _pid = served
    folder = stick_folder(tmp_path)
    people = _person_list(tmp_path / "名单.csv", "p_lost1", "p_lost2")
    done = _on_stick(settings, STICK, folder, sys.executable, "-c", PULLED_OUT, str(folder), "--server", base,
                     "--as", "admin", "person", "import", str(people), "--codes-file", str(folder / "码.csv"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "服务器已经建好了名单" in done.stderr and "无法找回" in done.stderr, done.stderr
    enrol = f"`jingzhun --server {base} --as admin person enrol 人员编号 --paper`"
    assert enrol in done.stderr and {"p_lost1", "p_lost2"} <= _persons(settings)
    code, said, err, _ = client(settings, base, "admin", "person", "enrol", "p_lost1", "--paper")
    assert code == 0 and "p_lost1" in said + err, err


def test_a_registry_on_a_read_only_stick_is_still_imported_through_the_server(served, demo_home,  # noqa: F811
                                                                             tmp_path):
    """The list of ID numbers to confirm goes beside the registry by default, and only when there are
    some (as in direct mode): a registry read from a write-protected stick is imported, not refused for
    that file before it is sent (a file named on the command line is, as above)."""
    settings, _ = demo_home
    base, _pid = served
    folder = stick_folder(tmp_path)
    registry = tmp_path / "名册.csv"
    registry.write_text("编号,村名,备注\nA0000001,洋塘村,备\n", encoding="utf-8")   # columns it does not know
    on_stick = ('mount -t tmpfs -o size=64k tmpfs "$1" && cp "$2" "$1/" && mount -o remount,ro "$1" || exit 99; '
                'shift 2; exec "$@"')
    done = _on_stick(settings, on_stick, folder, str(registry), sys.executable, str(ROOT / "cli.py"), "--server",
                     base, "--as", "admin", "household", "import", str(folder / "名册.csv"))
    assert done.returncode == 2 and "[csv.columns" in done.stderr and "无法写入" not in done.stderr, done.stderr
