"""`household import --skip-bad F` through `jingzhun --server` (a real server process, a real client process)
whose F the cadre's own stick could not take once the server had saved the import: said with the import
saved and how to have the bad rows again, not as a bare "cannot write F"."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.test_import_messages import later_id
from tests.web.test_cli_streaming import served, tokens  # noqa: F401  (served: a fixture)
from tests.web.test_server_files import PULLED_OUT, ROOT, STICK, case_count, stick_folder


def test_bad_rows_the_cadre_s_stick_lost_after_the_server_saved_the_import_are_said_with_the_import_saved(
        served, demo_home, tmp_path):  # noqa: F811
    """The server registered the good households, then the stick the bad rows went to was pulled out: the
    client said only that it could not write F. Now it says the import was saved and how to have the bad
    rows again (the same import with --skip-bad to a place that can be written), which works."""
    settings, _ = demo_home
    base, _pid = served
    folder = stick_folder(tmp_path)
    registry = tmp_path / "名单.csv"
    registry.write_text("村编码,户编号,姓名,身份证号,与户主关系,致贫原因\n" +
                        "".join(f"360730100201,SF{i},户主{i},{later_id(950 + i)},户主,因病\n" for i in range(2)) +
                        "360730100201,SFX,某,1,户主,因病\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    env |= {"JINGZHUN_TOKEN": tokens(settings)["county_director"], "PYTHONPATH": str(ROOT)}
    before = case_count(settings)
    done = subprocess.run(["unshare", "-rm", "sh", "-c", STICK, "sh", str(folder), sys.executable, "-c", PULLED_OUT,
                           str(folder), "--server", base, "--as", "county_director", "household", "import",
                           str(registry), "--skip-bad", str(folder / "未导入.csv")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "导入已保存（见上方服务器的导入结果）" in done.stderr and "用 --skip-bad 指向一个能写入的位置" in done.stderr, done.stderr
    assert case_count(settings) == before + 2
    again = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--server", base, "--as", "county_director",
                            "household", "import", str(registry), "--skip-bad", str(tmp_path / "b.csv")],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert "[import.imported_before]" not in again.stderr and case_count(settings) == before + 2, again.stderr
    assert any(row.startswith("4,") for row in (tmp_path / "b.csv").read_text(encoding="utf-8-sig").splitlines())


def _imported_on_the_page(base: str, sign_in: tuple[str, str], code: str, first: int):
    """The import page's answer to a village's list of two good households and a bad one (household codes
    CODE0, CODE1, CODEX), "skip bad rows" ticked, as the person `sign_in` (code, password)."""
    from tests.web.test_disk_full import signed_in_at
    browser = signed_in_at(base, sign_in)
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/imports").text).group(1)
    listing = ("村编码,户编号,姓名,身份证号,与户主关系,致贫原因\n" +
               "".join(f"360730100201,{code}{i},户主{i},{later_id(first + i)},户主,因病\n" for i in range(2)) +
               f"360730100201,{code}X,某,1,户主,因病\n").encode("utf-8")
    return browser.post("/imports", data={"csrf": csrf, "what": "households", "skip_bad": "1"},
                        files={"file": ("名单.csv", listing, "text/csv")})


def _work_folder_of(work, size: str):
    """For a server's Popen: its own mount namespace in which the home's work/ (uploads, an import's files)
    is an empty tmpfs of `size` (root only)."""
    import ctypes

    def preexec() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x00020000) or libc.mount(b"none", b"/", None, 16384 | (1 << 18), None) or libc.mount(
                b"tmpfs", str(work).encode(), b"tmpfs", 0, f"size={size},mode=0700".encode()):
            raise OSError(ctypes.get_errno(), "no mount namespace of our own")
    return preexec


def test_a_servers_work_folder_too_small_for_the_bad_rows_refuses_the_page_s_import_in_words(demo_home, tmp_path):
    """The import page with "skip bad rows" on a server whose work folder had room for the list but not for
    the workbook of its bad rows: the households were registered, then the page said only that something
    went wrong. The bad rows are written before the import commits: nothing is registered, and the page says
    the server's disk is full (for its administrator), naming no path of the server's."""
    import pytest
    from tests.web.test_cli_streaming import start_server
    from tests.web.test_serve import stop_server
    if os.geteuid() != 0:
        pytest.skip("a disk of its own for the server's work folder needs root (a mount namespace)")
    settings, sign_ins = demo_home
    (settings.home / "work").mkdir(exist_ok=True)
    base, process = start_server(settings, preexec_fn=_work_folder_of(settings.home / "work", "8k"))
    try:
        before = case_count(settings)
        page = _imported_on_the_page(base, sign_ins["county"], "SW", 960)
        assert page.status_code in (400, 507) and "服务器的磁盘已满" in page.text, (page.status_code, page.text[-3000:])
        assert str(settings.home) not in page.text and case_count(settings) == before
    finally:
        log = stop_server(process)
    assert "Traceback" not in log


# Loaded by the server's Python (PYTHONPATH): once a page's import command has run, the server's work folder
# (FILL_WORK) filled to the brim, as another import's upload may fill it then.
FILLED_AFTER_THE_COMMAND = """
import os
import re
from entrypoints.web import routes_import
finished = routes_import.finish
def finish(*args, **kwargs):
    done = finished(*args, **kwargs)
    try:
        with open(os.path.join(os.environ["FILL_WORK"], "filler"), "wb") as fh:
            while True:
                fh.write(bytes(4096))
                fh.flush()
    except OSError:
        pass
    return done
routes_import.finish = finish
"""


def test_files_the_server_could_not_keep_after_the_page_s_import_are_said_as_its_with_the_import_saved(
        demo_home, tmp_path):
    """The page's import saved, then the server's disk filled before it could keep the bad rows for their
    download: the page said "server error 500" only. Now it shows the import done, and says the server's
    disk is full, that the import was saved and how to have the bad rows again, in the page's words."""
    import pytest
    from tests.web.test_cli_streaming import start_server
    from tests.web.test_serve import stop_server
    if os.geteuid() != 0:
        pytest.skip("a disk of its own for the server's work folder needs root (a mount namespace)")
    settings, sign_ins = demo_home
    work = settings.home / "work"
    work.mkdir(exist_ok=True)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FILLED_AFTER_THE_COMMAND, encoding="utf-8")
    base, process = start_server(settings, env={"PYTHONPATH": f"{hook}:{ROOT}", "FILL_WORK": str(work)},
                                 preexec_fn=_work_folder_of(work, "1m"))
    try:
        before = case_count(settings)
        page = _imported_on_the_page(base, sign_ins["county"], "SK", 970)
        assert page.status_code == 200 and "已导入 2 户" in page.text, (page.status_code, page.text[-3000:])
        assert "导入已保存（见上方的导入结果）" in page.text and "服务器的磁盘已满" in page.text, page.text[-3000:]
        assert "勾选「跳过有误的行」" in page.text and "/imports/files/" not in page.text
        assert str(settings.home) not in page.text and case_count(settings) == before + 2
    finally:
        log = stop_server(process)
    assert "Traceback" not in log
