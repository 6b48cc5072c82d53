"""How `export` writes its files, as the user finds them in their folder: whole or not at all, and
nothing of the personal data left beside them when an export is stopped (Ctrl-C) or killed."""
from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest

from tests.test_cli import ENV_VARS, case, home, template  # noqa: F401  (fixtures)

# `jingzhun ARGS` whose export goes on reading rows for a minute after the first (a county's table
# being read): time to interrupt it while its file is being written.
SLOW_EXPORT = """
import sys, time
from entrypoints.cli import exports
from entrypoints.cli.main import main
read = exports.file_cells

def slow(*args, **kwargs):
    title, header, cells, record = read(*args, **kwargs)
    def rows():
        for row in cells:
            yield row
            time.sleep(60)
    return title, header, rows(), record

exports.file_cells = slow
sys.exit(main())
"""


def _hidden(target) -> set[str]:
    """The hidden files beside `target` named after it (.成员.csv.xxxxxxxx.partial)."""
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
    assert _exported(home) == []        # stopped before its file was whole: nothing of it left the system


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


def test_an_export_leaves_the_user_s_own_hidden_files_beside_the_target_alone(home, case, tmp_path):  # noqa: F811
    """The user's own hidden files named after the target (`.成员.csv.original`, `.成员.csv.v2_final`,
    0600, as a private copy is) were taken for what a killed export left and deleted by the next
    export to the file: only the export's own leftovers go."""
    target = tmp_path / "成员.csv"
    own = {".成员.csv.original": "我的原始名单\n", ".成员.csv.v2_final": "定稿\n"}
    for name, text in own.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        os.chmod(tmp_path / name, 0o600)
    assert home("vs", "export", "members", "--csv", str(target)).code == 0
    assert {name: (tmp_path / name).read_text(encoding="utf-8") for name in own if (tmp_path / name).exists()} == own


def test_a_workbook_s_dates_and_times_are_excel_dates_and_a_csv_s_stay_text(home, case, tmp_path):  # noqa: F811
    """Every date and time of a workbook export was text ('2019-03-01'): Excel's filters did not group
    them by year or month and TODAY()-到期日 failed. They are Excel's dates now, shown yyyy-mm-dd (a
    step's date, a deadline's start and due days, an evidence type's date field) or yyyy-mm-dd
    hh:mm:ss (when recorded, registered, closed…); empty cells stay empty, counts and amounts numbers,
    codes and ID numbers text; the CSV says them as before."""
    import openpyxl
    from tests.test_cli import IDENTIFICATION
    home.steps(case, IDENTIFICATION)

    def sheet(table: str, *extra: str) -> dict[str, list]:
        path = tmp_path / f"{table}{len(extra)}.xlsx"
        assert home("vs", "export", table, *extra, "--xlsx", str(path)).code == 0
        rows = list(openpyxl.load_workbook(path).worksheets[0].iter_rows())
        return {h.value: [r[i] for r in rows[1:]] for i, h in enumerate(rows[0])}

    def dated(cells: list, shown: str) -> bool:
        return bool(cells) and all(c.is_date and c.number_format == shown and isinstance(c.value, datetime)
                                   for c in cells)

    steps, cases, deadlines = sheet("steps"), sheet("cases"), sheet("deadlines")
    assert dated(steps["办理日期"], "yyyy-mm-dd") and dated(steps["记录时间"], "yyyy-mm-dd hh:mm:ss")
    assert dated(cases["登记时间"], "yyyy-mm-dd hh:mm:ss") and dated(cases["更新时间"], "yyyy-mm-dd hh:mm:ss")
    assert dated(deadlines["起算日"], "yyyy-mm-dd") and dated(deadlines["到期日"], "yyyy-mm-dd")
    for column in ("关闭时间", "下次提醒时间"):       # a closed deadline's, an open one's; the others' left empty
        assert dated([c for c in deadlines[column] if c.value is not None], "yyyy-mm-dd hh:mm:ss")
        assert any(c.value is None for c in deadlines[column])
    assert steps["办理日期"][0].value == datetime(2019, 3, 1)
    assert all(c.data_type == "n" and isinstance(c.value, int) for c in cases["编号"] + steps["案件编号"])
    applied = sheet("evidence", "--type", "application")
    assert dated(applied["申请日期"], "yyyy-mm-dd") and applied["申请日期"][0].value == datetime(2019, 2, 1)
    assert dated(applied["登记时间"], "yyyy-mm-dd hh:mm:ss")
    income = sheet("evidence", "--type", "income_check")
    assert income["年度"][0].value == 2018 and income["家庭纯收入"][0].value == 5000
    members = sheet("members")
    assert all(c.data_type == "s" and len(c.value) == 18 for c in members["身份证号"])
    assert all(c.data_type == "s" and c.value.isdigit() for c in members["村编码"])
    assert home("vs", "export", "steps", "--csv", str(tmp_path / "steps.csv")).code == 0
    with open(tmp_path / "steps.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["办理日期"] == "2019-03-01" and len(rows[0]["记录时间"]) == 19


def test_an_export_on_a_terminal_shows_the_rows_written_and_on_a_pipe_nothing(home, case, tmp_path):  # noqa: F811
    """A county's members (156,000 rows) took ten silent seconds on a terminal, where `household
    import` draws a bar: the export shows how many rows it has written, cleared when it is done; a
    pipe or a file gets nothing of it."""
    from tests.test_cli import JINGZHUN, run_installed
    from tests.test_cli_terminal import Terminal
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS} | {
        "JINGZHUN_TOKEN": home.tokens["vs"], "TERM": "xterm", "COLUMNS": "100"}
    terminal = Terminal([JINGZHUN, "--home", str(home.path), "--as", "vs", "export", "members", "--csv",
                         str(tmp_path / "成员.csv")], env)
    terminal.expect("导出 成员.csv：已写入 0 行")
    terminal.expect("已导出 2 行到")
    assert terminal.exit_code() == 0
    piped = run_installed("--home", str(home.path), "--as", "vs", "export", "members", "--xlsx",
                          str(tmp_path / "成员.xlsx"), token=home.tokens["vs"])
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout.startswith("已导出 2 行到")


def _exported(home) -> list[dict]:  # noqa: F811
    """The `exported` events of the activity log, as the county's inspector reads them."""
    return home.ok("insp", "inspect", "activity", "--action", "exported", "--json").json()["events"]


def on_a_full_disk(home, folder, *args: str, lang: str = "zh",  # noqa: F811
                    who: str = "vs") -> tuple[subprocess.CompletedProcess, list[str]]:
    """`jingzhun --as WHO ARGS` with `folder` a full disk (`full_disk`)."""
    from tests.test_cli import JINGZHUN
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS} | {"JINGZHUN_TOKEN": home.tokens[who]}
    return full_disk(folder, [JINGZHUN, "--home", str(home.path), "--lang", lang, "--as", who, *args], env)


def full_disk(folder, command: list[str], env: dict[str, str] | None = None, read_only: bool = False,
               ) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`command` run with `folder` a disk of its own (tmpfs, in a mount namespace of the command's own)
    that is full, not a byte more written there (`read_only`: and mounted read-only, a write-protected
    stick): how it ended, and the files the disk held after it (a file `filler` filled it)."""
    if not shutil.which("unshare") or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode:
        pytest.skip("no mount namespace of our own here (unshare -rm) to mount a small disk in")
    listing = folder.parent / f"{folder.name}.listing"
    full = ('mount -t tmpfs -o size=4k tmpfs "$1" || exit 99; (cat /dev/zero > "$1/filler") 2>/dev/null; ' +
            ('mount -o remount,ro "$1" || exit 99; ' if read_only else '') +
            'disk=$1 listing=$2; shift 2; "$@"; done=$?; find "$disk" -type f -printf "%P\\n" > "$listing"; exit $done')
    done = subprocess.run(["unshare", "-rm", "sh", "-c", full, "sh", str(folder), str(listing), *command],
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert done.returncode != 99, done.stderr
    return done, listing.read_text(encoding="utf-8").split()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_to_a_full_disk_is_refused_in_words_leaves_no_file_and_is_not_recorded(home, case, tmp_path,
                                                                                        fmt):  # noqa: F811
    """`export members --csv F` with F on a disk that is full said the disk was full, yet the activity
    log held the export (导出数据, members) as if the household members' ID numbers had left the
    system: it was recorded before the first row was written. An export is recorded only once its file
    is whole (then the file takes its name); a failure leaves no file, no event, one message, exit 2."""
    folder = tmp_path / "U盘"
    folder.mkdir()
    before = _exported(home)
    for lang, said in (("zh", "磁盘已满"), ("en", "the disk is full")):
        done, left = on_a_full_disk(home, folder, "export", "members", f"--{fmt}", str(folder / f"成员.{fmt}"),
                                     lang=lang)
        assert done.returncode == 2 and said in done.stderr and done.stdout == "", done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert left == ["filler"]
    assert _exported(home) == before
    assert home("vs", "export", "members", f"--{fmt}", str(tmp_path / f"成员.{fmt}")).code == 0   # a disk with room
    assert [e["person"] for e in _exported(home)] == ["vs"] + [e["person"] for e in before]


def test_a_report_whose_files_a_full_disk_refused_leaves_none_of_them_and_is_not_recorded(home, case, tmp_path):  # noqa: F811
    """`report --html F --csv DIR` with DIR on a full disk was recorded (导出数据, the assessment)
    before its files were written, and left the page F, its overdue work by person naming the
    village's cadres, though the command failed. The report's files are written whole beside their
    places, recorded once all of them are, then put in place: none of them, nothing recorded."""
    from tests.test_cli import VILLAGE
    folder = tmp_path / "U盘"
    folder.mkdir()
    page = tmp_path / "考核.html"
    done, left = on_a_full_disk(home, folder, "report", "--region", VILLAGE, "--period", "2019", "--html", str(page),
                                 "--csv", str(folder / "表"), "--xlsx", str(tmp_path / "考核.xlsx"))
    assert done.returncode == 2 and "磁盘已满" in done.stderr and done.stdout == "", done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert left == ["filler"] and sorted(p.name for p in tmp_path.iterdir()) == ["U盘", "U盘.listing", "home"]
    assert _exported(home) == []
    assert home("vs", "report", "--region", VILLAGE, "--period", "2019", "--html", str(page)).code == 0
    [recorded] = _exported(home)
    assert recorded["person"] == "vs" and "assessment" in str(recorded["detail"])


def test_a_file_a_server_sent_in_its_answer_that_a_full_disk_refused_leaves_no_file_and_is_said(tmp_path):
    """A `--server` command's file an older server sends in its JSON answer (base64) was written straight
    to its place: on a full disk it left an empty or half file under the name asked for, and the client
    said the server had stopped answering. It is written beside its place and moved in when whole; a
    full disk leaves nothing and is said as such."""
    folder = tmp_path / "U盘"
    folder.mkdir()
    saving = ("import sys\nfrom pathlib import Path\nfrom engine.domain.errors import JingzhunError\n"
              "from entrypoints.cli.remote import save\n"
              "try:\n    save(Path(sys.argv[1]), bytes(64 * 1024))\n"
              "except JingzhunError as exc:\n    sys.exit(exc.code)\n")
    done, left = full_disk(folder, [sys.executable, "-c", saving, str(folder / "成员.csv")])
    assert (done.returncode, done.stderr.strip(), left) == (1, "file.disk_full", ["filler"]), done.stderr
