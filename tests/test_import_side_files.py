"""An import's side files (`--skip-bad FILE`: the bad rows with their reasons; `--to-confirm FILE`, or
NAME.to-confirm.xlsx beside the list: the ID numbers to confirm) written whole beside their places before
the import commits, and put in place after it: a disk that refuses them refuses the import (nothing
registered, one message in words); one that fails them after the commit is said with the import saved."""
from __future__ import annotations

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_export_files import on_a_full_disk
from tests.test_import_messages import later_id, write
from tests.world import VILLAGE


def _listing(tmp_path, good: int = 2, bad: int = 1, first: int = 700) -> str:
    tmp_path.mkdir(exist_ok=True)
    rows = [(f"S{first + i}", VILLAGE, f"户主{i}", later_id(first + i), "户主") for i in range(good)]
    return write(tmp_path / "名单.csv", rows + [(f"X{i}", VILLAGE, "x", "1", "户主") for i in range(bad)])


def test_a_skip_file_a_full_disk_refuses_refuses_the_import_and_the_same_command_works_on_a_disk_with_room(
        home, tmp_path):  # noqa: F811
    """`household import --skip-bad F` with F on a full USB stick registered the good households, then said
    only that the disk was full: the bad rows were lost and the import seemed not to have happened. The bad
    rows are written beside F before the commit: a full disk registers nothing and says so in words; the
    same command with F on a disk with room imports and writes them."""
    listing = _listing(tmp_path)
    folder = tmp_path / "U盘"
    folder.mkdir()
    before = home.snapshot()
    for lang, said in (("zh", "磁盘已满"), ("en", "the disk is full")):
        done, left = on_a_full_disk(home, folder, "household", "import", listing, "--skip-bad",
                                    str(folder / "未导入.csv"), lang=lang)
        assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert left == ["filler"] and home.snapshot() == before, done.stdout
    kept = home("vs", "household", "import", listing, "--skip-bad", str(tmp_path / "未导入.csv"))
    assert kept.code == 0 and "已导入 2 户" in kept.out, kept.err
    assert (tmp_path / "未导入.csv").read_text(encoding="utf-8-sig").count("\n") == 2     # header and the bad row



def test_a_list_to_confirm_a_full_disk_refuses_refuses_the_import(home, tmp_path):  # noqa: F811
    """`household import --to-confirm F` (the ID numbers to confirm) with F on a full stick registered the
    households, then said only that the disk was full. Now nothing is registered and the disk is said full."""
    listing = _listing(tmp_path, bad=0)
    folder = tmp_path / "U盘"
    folder.mkdir()
    before = home.snapshot()
    done, left = on_a_full_disk(home, folder, "household", "import", listing, "--to-confirm", str(folder / "核实.xlsx"))
    assert done.returncode == 2 and "磁盘已满" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert left == ["filler"] and home.snapshot() == before and "已导入" not in done.stdout

def test_an_evidence_sheets_skip_file_on_a_full_disk_attaches_nothing_and_says_why(home, tmp_path):  # noqa: F811
    """`evidence import --skip-bad F` with F on a full stick attached the good rows, then said only that the
    disk was full (the bad rows lost, a second run told the saved rows as held already). Now nothing is
    attached and the disk is said full; on a disk with room the same command attaches and writes them."""
    from tests.test_evidence_sheet import HEADER
    cases = [home.register(seed=40 + i, evidence=False) for i in range(2)]
    home.ok("vs", "evidence", "add", cases[1], "income_check", "--field", "year=2019", "--field", "net_income=5000")
    sheet = tmp_path / "收入.csv"
    sheet.write_text(HEADER + f"{cases[0]},,,2019,3100,\n{cases[1]},,,2019,2900,\n", encoding="utf-8")
    folder = tmp_path / "U盘"
    folder.mkdir()
    before = home.count("evidence")
    done, left = on_a_full_disk(home, folder, "evidence", "import", str(sheet), "--type", "income_check",
                                "--skip-bad", str(folder / "未导入.csv"))
    assert done.returncode == 2 and "磁盘已满" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert left == ["filler"] and home.count("evidence") == before
    kept = home("vs", "evidence", "import", str(sheet), "--type", "income_check", "--skip-bad", str(tmp_path / "b.csv"))
    assert kept.code == 0 and home.count("evidence") == before + 1, kept.err
    assert (tmp_path / "b.csv").read_text(encoding="utf-8-sig").count("\n") == 2


def test_region_and_person_lists_skip_files_on_a_full_disk_add_nothing(home, tmp_path):  # noqa: F811
    """`region import` and `person import` with `--skip-bad F` on a full stick added the good regions and
    persons (the persons with their one-time codes), then said only that the disk was full: the bad rows
    were lost and the same list again was refused as registered. Now nothing is added and the disk is said
    full; with F on a disk with room the same commands import and write the bad rows."""
    from tests.test_list_files import write_csv
    from tests.test_org_import import BAD_PEOPLE, BAD_REGIONS
    folder = tmp_path / "U盘"
    folder.mkdir()
    lists = (("region", write_csv(tmp_path / "区划.csv", BAD_REGIONS), ()),
             ("person", write_csv(tmp_path / "人员.csv", BAD_PEOPLE), ("--no-code",)))
    for what, path, more in lists:
        before = home.snapshot()
        done, left = on_a_full_disk(home, folder, what, "import", path, *more, "--skip-bad",
                                    str(folder / "未导入.csv"), who="admin")
        assert done.returncode == 2 and "磁盘已满" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert left == ["filler"] and home.snapshot() == before and "已导入" not in done.stdout, done.stdout
        kept = home("admin", what, "import", path, *more, "--skip-bad", str(tmp_path / f"{what}.csv"))
        assert kept.code == 0 and (tmp_path / f"{what}.csv").exists(), kept.err
        assert home.snapshot() != before


# `jingzhun ARGS` in a mount namespace of its own whose folder FOLDER is a stick (tests/web/test_server_files.py's
# STICK), pulled out once the import has committed, just before its files take their names.
PULLED_AFTER_COMMIT = """
import subprocess, sys
from entrypoints.cli import bad_rows
from entrypoints.cli.main import main
kept = bad_rows.BadRows.keep
def keep(self):
    subprocess.run(["umount", "-l", sys.argv[1]], check=True)
    kept(self)
bad_rows.BadRows.keep = keep
sys.exit(main(sys.argv[2:]))
"""


def test_a_skip_file_lost_after_the_import_committed_says_the_import_was_saved_and_how_to_have_the_rows_again(
        home, tmp_path):  # noqa: F811
    """The stick the bad rows went to pulled out once the households were saved: it said only "cannot write
    F", as if nothing had been imported. Now it says the import was saved (2 households), that F could not
    be written, and how to have the bad rows again: the same import with --skip-bad elsewhere, which writes
    them (the households saved are not registered twice)."""
    import os
    import subprocess
    import sys
    from tests.test_cli import ENV_VARS
    from tests.web.test_server_files import ROOT, STICK, stick_folder
    folder = stick_folder(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS} | {"JINGZHUN_TOKEN": home.tokens["vs"],
                                                                       "PYTHONPATH": str(ROOT)}
    for n, (lang, saved, how) in enumerate((("zh", "导入已保存（登记了 2 户）", "用 --skip-bad 指向一个能写入的位置"),
                                            ("en", "the import was saved (2 households registered)",
                                             "import the same file again with --skip-bad"))):
        before = home.count("cases")
        done = subprocess.run(["unshare", "-rm", "sh", "-c", STICK, "sh", str(folder), sys.executable, "-c",
                               PULLED_AFTER_COMMIT, str(folder), "--home", str(home.path), "--lang", lang, "--as", "vs",
                               "household", "import", _listing(tmp_path / lang, first=700 + 10 * n), "--skip-bad",
                               str(folder / "未导入.csv")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and saved in done.stderr and how in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and home.count("cases") == before + 2
    again = home("vs", "household", "import", str(tmp_path / "zh" / "名单.csv"), "--skip-bad", str(tmp_path / "b.csv"))
    assert "已登记" in again.err and "[import.imported_before]" not in again.err, again.err
    rows = (tmp_path / "b.csv").read_text(encoding="utf-8-sig").splitlines()
    assert any(row.startswith("4,") for row in rows), rows       # the bad row (line 4), written this time
