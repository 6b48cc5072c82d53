"""Data at rest: what holds personal data is its owner's alone (folders 0700, files 0600) whatever
the umask, and a database password never has to be on the command line (`ps` shows argv to all).

Each test runs under umask 000, where anything not explicitly protected would be world-readable.
"""
from __future__ import annotations

import os
import sqlite3
import stat
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from engine.services.case_actions import attach_evidence
from notifications.channels import Mailbox, NotifySettings, Outgoing
from tests.test_cli import jingzhun
from tests.world import scan_file

PG_URL_WITH_PASSWORD = "postgresql+psycopg://jingzhun_ci:s3cret-pw@127.0.0.1:1/jingzhun"


@pytest.fixture(autouse=True)
def open_umask():
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private_tree(root: Path) -> list[Path]:
    """Every folder under `root` (itself included) is 0700 and every file 0600; returns the files."""
    assert mode(root) == 0o700, root
    files = []
    for folder, dirs, names in os.walk(root):
        for d in dirs:
            assert mode(Path(folder) / d) == 0o700, Path(folder) / d
        for n in names:
            files.append(Path(folder) / n)
            assert mode(files[-1]) == 0o600, files[-1]
    return files


# --- files and folders --------------------------------------------------------------------------

def test_init_makes_the_home_the_database_and_its_wal_and_shm_private(tmp_path):
    home = tmp_path / "new" / "home"
    init = jingzhun(["--home", home, "init"])
    assert init.code == 0, init.err
    assert mode(home) == mode(home.parent) == 0o700
    assert mode(home / "evidence") == 0o700 and mode(home / "jingzhun.db") == 0o600
    with sqlite3.connect(home / "jingzhun.db") as conn:      # -wal and -shm exist while it is open
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE bench_touch (x)")
        assert mode(home / "jingzhun.db-wal") == mode(home / "jingzhun.db-shm") == 0o600
    assert_private_tree(home)


def test_init_again_tightens_an_older_home_made_with_loose_modes(tmp_path):
    home = tmp_path / "home"
    assert jingzhun(["--home", home, "init"]).code == 0
    (home / "config" / "workflows").mkdir(parents=True)       # a configuration an older version installed 0755
    (home / "config" / "workflows" / "household.yaml").write_text("")
    for path, loose in ((home, 0o755), (home / "evidence", 0o777), (home / "jingzhun.db", 0o644),
                        (home / "config", 0o755), (home / "config" / "workflows", 0o755),
                        (home / "config" / "workflows" / "household.yaml", 0o644)):
        os.chmod(path, loose)
    again = jingzhun(["--home", home, "init"])
    assert again.code == 0, again.err
    assert_private_tree(home)


def test_evidence_files_and_their_folders_are_private(world, tmp_path):
    case = world.household()
    scan = scan_file(tmp_path / "scan.pdf", "signed by the head of household")
    os.chmod(scan, 0o644)
    attach_evidence(world.app, world["pc1"], case, "household_confirmation", {"signed_on": "2019-01-05"}, scan)
    files = assert_private_tree(Path(world.app.settings.home) / "evidence")
    assert len(files) == 1 and files[0].read_bytes() == scan.read_bytes()


def test_a_message_delivered_to_the_file_mailbox_is_private(tmp_path):
    mailbox = tmp_path / "home" / "mailbox"
    message = Outgoing(7, "file", "fs", "【已逾期】王大山户", "请在今天内完成帮扶计划。", "alert:7",
                       datetime(2019, 5, 1, 1, tzinfo=timezone.utc), "fs")
    Mailbox(NotifySettings(mailbox=mailbox)).send(message)
    [mail] = assert_private_tree(mailbox)
    assert "王大山户" in mail.read_text(encoding="utf-8")


def test_a_dossier_and_a_printable_notice_written_by_the_cli_are_private(world, tmp_path):
    from tests.test_accountability import cli
    case = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
    world.step("tl", "identification", "village_verification", case, decision="approve", verifiers=("tm",))
    notice = world.step("fs", "identification", "first_notice", case)[0].notice_id
    dossier, board = tmp_path / "dossier.html", tmp_path / "board.html"
    board.write_text("an older file, readable by all")
    os.chmod(board, 0o666)
    assert cli(world, "insp", "trace", case, "--html", dossier).code == 0
    assert cli(world, "fs", "notice", "render", notice, "--html", board).code == 0
    assert mode(dossier) == mode(board) == 0o600
    assert "<html" in dossier.read_text(encoding="utf-8") and "<table>" in board.read_text(encoding="utf-8")


# --- no password in argv ------------------------------------------------------------------------

def test_a_password_in_the_db_option_is_refused_and_never_shown(tmp_path):
    refused = jingzhun(["--home", tmp_path, "--db", PG_URL_WITH_PASSWORD, "init"])
    assert refused.code == 2
    assert "[db.password_in_argv]" in refused.err and "JINGZHUN_DB" in refused.err and "--db-file" in refused.err
    english = jingzhun(["--lang", "en", "--db", PG_URL_WITH_PASSWORD, "init"])
    assert english.code == 2 and "JINGZHUN_DB_FILE" in english.err and "ps" in english.err
    for shown in (refused, english):
        assert "s3cret-pw" not in shown.out + shown.err


def test_a_password_from_the_environment_or_a_private_file_is_used_and_hidden(tmp_path):
    url_file = tmp_path / "db-url"
    url_file.write_text(PG_URL_WITH_PASSWORD + "\n")
    os.chmod(url_file, 0o600)
    from_env = jingzhun(["--home", tmp_path, "init"], env={"JINGZHUN_DB": PG_URL_WITH_PASSWORD})
    from_file = jingzhun(["--home", tmp_path, "--db-file", url_file, "init"])
    from_file_env = jingzhun(["--home", tmp_path, "init"], env={"JINGZHUN_DB_FILE": str(url_file)})
    for tried in (from_env, from_file, from_file_env):      # port 1: nothing listens; the URL is used
        assert tried.code == 2 and "[db.unusable]" in tried.err, tried.err
        assert "jingzhun_ci:***@127.0.0.1:1/jingzhun" in tried.err and "s3cret-pw" not in tried.out + tried.err


def test_a_url_file_others_may_read_is_refused(tmp_path):
    url_file = tmp_path / "db-url"
    url_file.write_text(PG_URL_WITH_PASSWORD + "\n")
    for loose in (0o644, 0o640, 0o604):
        os.chmod(url_file, loose)
        refused = jingzhun(["--home", tmp_path, "--db-file", url_file, "init"])
        assert refused.code == 2 and "[db.file_readable]" in refused.err and "chmod 600" in refused.err
        assert "s3cret-pw" not in refused.out + refused.err
    missing = jingzhun(["--home", tmp_path, "--db-file", tmp_path / "nowhere", "init"])
    assert missing.code == 2 and "[db.file_unreadable]" in missing.err


def test_a_url_that_does_not_parse_is_an_unusable_database_without_its_password(tmp_path):
    broken = "postgresql+psycopg://jingzhun_ci:s3cret-pw@127.0.0.1:1:2/jingzhun"
    shown = jingzhun(["--home", tmp_path, "init"], env={"JINGZHUN_DB": broken})
    assert shown.code == 2 and "[db.unusable]" in shown.err and "s3cret-pw" not in shown.err
    refused = jingzhun(["--home", tmp_path, "--db", broken, "init"])
    assert refused.code == 2 and "[db.password_in_argv]" in refused.err


def test_a_url_without_a_password_may_still_be_given_with_db(tmp_path):
    db = tmp_path / "elsewhere" / "j.db"
    done = jingzhun(["--home", tmp_path / "home", "--db", f"sqlite:///{db}", "init"])
    assert done.code == 0, done.err
    assert mode(db) == 0o600 and mode(db.parent) == 0o700

