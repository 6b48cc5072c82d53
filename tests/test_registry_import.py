"""A county's registry in one file (issue 12): a village column, household codes kept and checked,
stages from a registry moving from another system, several sheets, a malformed line, and an
interrupted import that leaves the database as it was."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from stdnum.cn import ric

from engine.domain.errors import BadInput

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import VILLAGE, VILLAGE2

HEADERS = ("村编码", "户编号", "姓名", "身份证号", "与户主关系", "致贫原因", "户状态")


def number(i: int) -> str:
    """The i-th of many distinct valid ID numbers of people of 于都县 (360731, since 1999: to confirm in a
    宁都县 household) born from 1960, 500 a day."""
    body = f"360731{date(1960, 1, 1) + timedelta(days=i // 500):%Y%m%d}{i % 500:03d}"
    return body + ric.calc_check_digit(body + "0")


def county(rows: int = 6, stage: str = "") -> list[tuple]:
    """Households of two members in two villages of two townships, with national household codes."""
    return [(VILLAGE if h % 2 == 0 else VILLAGE2, f"3607301{h:05d}", f"户主{h}" if m == 0 else f"成员{h}",
             number(2 * h + m), "户主" if m == 0 else "配偶", "因病" if m == 0 else "", stage)
            for h in range(rows // 2) for m in range(2)]


def write(path, rows, headers=HEADERS) -> str:
    path.write_text("\n".join(",".join(r) for r in [headers, *rows]) + "\n", encoding="utf-8")
    return str(path)


def test_a_county_file_registers_every_village_and_keeps_the_household_codes(home, tmp_path):  # noqa: F811
    result = home("cs", "household", "import", write(tmp_path / "全县.csv", county(6)))
    assert result.code == 0, result.err
    assert "已导入 3 户、6 人" in result.out
    with sqlite3.connect(home.db) as conn:
        cases = conn.execute("SELECT region_code, external_code, stage FROM cases WHERE kind = 'household' "
                             "ORDER BY id").fetchall()
    assert cases == [(VILLAGE, "360730100000", "candidate"), (VILLAGE2, "360730100001", "candidate"),
                     (VILLAGE, "360730100002", "candidate")]
    verified = home("insp", "audit", "verify")                # every imported case's first event chains
    assert verified.code == 0, verified.err + verified.out


def test_a_village_cadre_cannot_import_another_village_and_nothing_is_written(home, tmp_path):  # noqa: F811
    before = home.snapshot()
    result = home("vs", "household", "import", write(tmp_path / "全县.csv", county(6)))
    assert result.code == 2
    assert "第 4 行，村编码" in result.err and "第 2 行" not in result.err
    assert home.snapshot() == before


def test_household_codes_given_twice_or_registered_already_are_reported_by_line(home, tmp_path):  # noqa: F811
    assert home("cs", "household", "import", write(tmp_path / "a.csv", county(2))).code == 0
    again = county(6)[2:]                                     # households 1 and 2 (lines 2-5): new
    again += [(VILLAGE, "360730100001", "又一户", number(80), "户主", "因病", ""),     # line 6: household 1's code
              (VILLAGE, "360730100000", "新户主", number(90), "户主", "因病", "")]     # line 7: the first file's
    result = home("cs", "household", "import", write(tmp_path / "b.csv", again))
    assert result.code == 2
    assert "第 6 行，户编号：与第 2 行的户编号相同" in result.err
    assert "第 7 行，户编号：户编号 360730100000 已登记为案件" in result.err


def test_an_id_number_twice_in_a_long_file_is_found_across_batches(home, tmp_path):  # noqa: F811
    rows = county(1200)                                       # 600 households: more than one batch of 500
    rows[-1] = (*rows[-1][:3], rows[1][3], *rows[-1][4:])     # the last member repeats line 3's number
    result = home("cs", "household", "import", write(tmp_path / "全县.csv", rows))
    assert result.code == 2
    # line 3's household begins on line 2: named so, not as if line 2 held the number (it is line 3's)
    assert f"第 {len(rows) + 1} 行，身份证号：与本文件第 2 行起所列的那一户中一名成员的身份证号相同" in result.err
    assert home.count("cases") == 0


def test_a_registry_moving_in_starts_its_cases_in_the_stage_it_gives(home, tmp_path):  # noqa: F811
    path = write(tmp_path / "迁入.csv", county(4, stage="已脱贫"))
    refused = home("vs", "household", "import", path)
    assert refused.code == 2 and "第 2 行，户状态：" in refused.err      # a village cadre may not set a stage:
    assert "按「已脱贫」直接建档" in refused.err and "请删去这一列或清空其内容" in refused.err   # said of it, and why
    result = home("cd", "household", "import", path)
    assert result.code == 0, result.err
    assert "2 户按文件直接进入“已脱贫”阶段" in result.out
    with sqlite3.connect(home.db) as conn:
        stages = {r[0] for r in conn.execute("SELECT stage FROM cases WHERE kind = 'household'")}
        events = [json.loads(r[0]) for r in conn.execute(
            "SELECT detail FROM audit_events WHERE action IN ('case_registered', 'households_imported') ORDER BY rowid")]
    assert stages == {"exited"}
    assert all(e["stage_from_file"] == "exited" for e in events[:-1])
    assert events[-1]["stages"] == {"exited": 2}


def test_a_village_cadre_uploads_the_villages_export_again_with_a_household_added(home, tmp_path):  # noqa: F811
    """Cases a county office moved in at a later stage, exported by the village's cadre with their
    stage: uploaded again with a household added, the registered ones are compared (their stage too),
    not refused for a stage the cadre may not start a case in; the new one is imported. A new one
    that gives a later stage is still refused, on its stage."""
    import csv
    assert home("cd", "household", "import", write(tmp_path / "迁入.csv", county(4, stage="已脱贫"))).code == 0
    exported = tmp_path / "本村.csv"
    assert home("vs", "export", "members", "--csv", str(exported), "--region", VILLAGE).code == 0
    with open(exported, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    new = dict.fromkeys(header, "")
    new.update({"案件编号": "新1", "村编码": VILLAGE, "姓名": "新户主", "身份证号": number(700), "与户主关系": "户主",
                "致贫原因": "因病"})
    with open(exported, "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow([new[k] for k in header])
    result = home("vs", "household", "import", str(exported))
    assert result.code == 0, result.err
    assert "已导入 1 户、1 人" in result.out and "另有 1 户已登记，且与文件所列一致" in result.out
    later = dict(new, **{"案件编号": "新2", "身份证号": number(701), "阶段": "已脱贫"})
    with open(exported, "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow([later[k] for k in header])
    refused = home("vs", "household", "import", str(exported))
    assert refused.code == 2 and f"第 {len(rows) + 2} 行，阶段：" in refused.err, refused.err
    assert "按「已脱贫」直接建档" in refused.err and f"第 {len(rows) + 1} 行" not in refused.err
    assert not [line for line in refused.err.splitlines() if line.startswith(("第 2 行", "第 3 行"))]


def test_a_stage_given_by_its_label_without_the_bracketed_part(home, tmp_path):  # noqa: F811
    result = home("cd", "household", "import", write(tmp_path / "迁入.csv", county(2, stage="巩固期")))
    assert result.code == 0, result.err
    with sqlite3.connect(home.db) as conn:
        assert {r[0] for r in conn.execute("SELECT stage FROM cases WHERE kind = 'household'")} == {"consolidated"}


def test_an_unknown_stage_is_a_bad_row(home, tmp_path):  # noqa: F811
    result = home("cd", "household", "import", write(tmp_path / "迁入.csv", county(2, stage="半脱贫")))
    assert result.code == 2 and "第 2 行，户状态：无法识别的阶段「半脱贫」" in result.err


def test_a_workbook_of_several_sheets_is_one_registry(home, tmp_path):  # noqa: F811
    import openpyxl
    book = openpyxl.Workbook()
    rows = county(8)
    for sheet, part in ((book.active, rows[:4]), (book.create_sheet("第二页"), rows[4:])):
        for row in [HEADERS, *part]:
            sheet.append(list(row))
    path = tmp_path / "全县.xlsx"
    book.save(path)
    result = home("cs", "household", "import", str(path))
    assert result.code == 0, result.err
    assert "已导入 4 户、8 人" in result.out


def test_a_line_too_long_for_a_csv_reader_is_refused_with_its_line(home, tmp_path):  # noqa: F811
    rows = county(2)
    rows[1] = (*rows[1][:2], "名" * 200_000, *rows[1][3:])
    result = home("cs", "household", "import", write(tmp_path / "坏.csv", rows))
    assert result.code == 2 and "第 3 行无法读取" in result.err and "Traceback" not in result.err
    assert home.count("cases") == 0


def test_an_interrupted_import_leaves_the_database_as_it_was(home, tmp_path):  # noqa: F811
    path = write(tmp_path / "全县.csv", county(40_000))
    before = home.snapshot()
    _killed_when(home, lambda: _written_some(home), "household", "import", path)
    assert home.snapshot() == before and home.count("household_members") == 0


def _killed_when(home, ready, *args: str) -> None:
    """`jingzhun --as cs ARGS` in a process of its own, killed (SIGKILL) once `ready()` holds."""
    env = dict(os.environ, JINGZHUN_TOKEN=home.tokens["cs"])
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from entrypoints.cli.main import main; sys.exit(main())",
                             "--home", str(home.path), "--as", "cs", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not ready() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the command finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_a_killed_import_leaves_no_rows_beside_the_users_file_and_the_next_one_removes_its_work_file(home, tmp_path):  # noqa: F811
    """The rows to confirm (names and whole ID numbers) were gathered in a hidden file beside the
    user's list (a shared folder, a USB stick), which a SIGKILL left there, up to 33 MB of them. They
    are gathered under the data home's work/ (0700), and the next import removes what a killed one left."""
    folder = tmp_path / "共享"
    folder.mkdir()
    path = write(folder / "全县.csv", county(40_000))
    work = home.path / "work"
    _killed_when(home, lambda: _gathering(work), "household", "import", path, "--skip-bad", str(folder / "错误行.xlsx"))
    assert sorted(p.name for p in folder.iterdir()) == ["全县.csv"]
    left = list(work.iterdir())
    assert left and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in left)
    assert stat.S_IMODE(work.stat().st_mode) == 0o700
    again = home("cs", "household", "import", write(tmp_path / "一户.csv", county(2)), "--skip-bad", str(tmp_path / "b.csv"))
    assert again.code == 0, again.err
    assert list(work.iterdir()) == []


def _gathering(work) -> bool:
    """The import's rows to confirm are being gathered (past its first few)."""
    return work.is_dir() and any(p.stat().st_size > 100_000 for p in work.iterdir())


def _written_some(home) -> bool:
    """The import is under way: its write-ahead log has grown past a batch."""
    wal = home.path / "jingzhun.db-wal"
    return wal.exists() and wal.stat().st_size > 2_000_000


def test_the_import_service_on_each_backend_keeps_the_good_households_when_asked(world):
    """On SQLite and PostgreSQL alike: batches, a duplicate across batches skipped with its line,
    ids that later registrations continue from, and one chained first event per case."""
    from workflows.household import MemberInput, register_household
    from workflows.household_import import ListedHousehold, import_households
    households = [ListedHousehold(str(h), VILLAGE, [(2 * h + 2, MemberInput(f"户主{h}", number(1000 + h)))],
                                  causes=["因病"], code=f"H{h:05d}") for h in range(600)]
    households[550].members[0] = (1102, MemberInput("重复", number(1003)))        # household 3's number again
    problems, skipped = [], []
    result = import_households(world.app, world["cs"], households, keep_good=True, source={"file": "x.csv"},
                               on_problem=lambda line, column, exc: problems.append((line, column, exc.code,
                                                                                     exc.params.get("line"))),
                               on_skipped=skipped.append)
    assert (result.households, result.skipped) == (599, 1)
    # an earlier batch's household: named by its first line, where its rows begin (not said to be the line)
    assert problems == [(1102, "id_number", "import.same_id_household", 8)] and skipped == [households[550]]
    later = register_household(world.app, world["vs"], VILLAGE, [MemberInput("后来者", number(5000))], ["因病"])
    assert later == result.last_case + 1
    from engine.reads.audit_verify import verify
    assert verify(world.app, processes=1).intact
    if world.app.engine.dialect.name == "postgresql":     # the planner knows the new rows at once
        with world.app.engine.connect() as conn:
            known = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'household_members'").scalar()
        assert known >= 599


def test_households_registered_already_are_compared_with_their_cases_on_each_backend(world):
    """A registry imported again with households added, across batches, on SQLite and PostgreSQL:
    those registered just as given are passed over (each case read by its index), the new ones
    written; a household with a member changed, left or added is told where, with its case."""
    import workflows.household_import as importer
    from workflows.household import MemberInput
    from workflows.household_import import ListedHousehold, import_households

    def listed(h: int, *members) -> ListedHousehold:
        return ListedHousehold(str(h), VILLAGE, [(10 * h + i, m) for i, m in enumerate(members, 2)], causes=["因病"],
                               code=f"R{h:05d}", given=frozenset({"name", "relation", "health"}))

    def run(households, keep_good=False):
        problems = []
        result = import_households(world.app, world["cs"], households, keep_good=keep_good, source={"file": "x.csv"},
                                   on_problem=lambda line, column, exc: problems.append((line, column, exc.code)),
                                   on_skipped=lambda h: None)
        return result, problems

    first = [listed(h, MemberInput(f"户主{h}", number(3000 + 2 * h)),
                    MemberInput(f"配偶{h}", number(3001 + 2 * h), "spouse")) for h in range(30)]
    assert run(first)[0].households == 30
    importer_batch, importer.BATCH = importer.BATCH, 7                 # the compare in several batches
    try:
        again = [*first, listed(30, MemberInput("新户", number(3100)))]
        result, problems = run(again)
        assert (result.households, result.unchanged, problems) == (1, 30, [])
        changed = [listed(0, MemberInput("户主0", number(3000), health="chronic"), MemberInput("配偶0", number(3001), "spouse")),
                   listed(1, MemberInput("户主1", number(3002))),                               # its spouse left
                   listed(2, *[m for _line, m in first[2].members], MemberInput("新生", number(3101), "child")),  # born
                   *first[3:29], listed(31, MemberInput("又一户", number(3102))),
                   listed(32, MemberInput("新户主", number(3103)), MemberInput("户主29", number(3058), "child"))]
        result, problems = run(changed, keep_good=True)
    finally:
        importer.BATCH = importer_batch
    assert (result.households, result.unchanged, result.skipped) == (1, 26, 4)
    assert sorted(problems) == sorted([(2, "health", "import.differs_registered"),
                                       (12, "household", "import.missing_registered"),
                                       (24, "id_number", "import.not_in_registered"),
                                       (323, "id_number", "member.already_registered")])   # a new head: no compare


def test_a_household_registered_outside_the_importers_jurisdiction_is_not_compared_with_its_case(world):
    """Another village's cadre listing a household registered in a village beyond their reach learns
    that each ID number is registered, and nothing of that case: not its members, nor how its fields
    differ from the list."""
    from workflows.household import MemberInput
    from workflows.household_import import ListedHousehold, import_households

    def listed(village: str, *members) -> ListedHousehold:
        return ListedHousehold("1", village, [(2 + i, m) for i, m in enumerate(members)], causes=["因病"],
                               given=frozenset({"name", "relation", "health"}))
    household = (MemberInput("户主", number(5200)), MemberInput("配偶", number(5201), "spouse"),
                 MemberInput("子女", number(5202), "child"))
    assert import_households(world.app, world["vs"], [listed(VILLAGE, *household)], keep_good=False,
                             source={"file": "a.csv"}, on_problem=print, on_skipped=print).households == 1
    for who, village in (("vs2", VILLAGE2), ("cs", VILLAGE2)):
        problems = []
        with pytest.raises(BadInput, match="nothing_good"):
            import_households(world.app, world[who], [listed(village, household[0], household[1])], keep_good=True,
                              source={"file": "b.csv"}, on_problem=lambda line, column, exc: problems.append(
                                  (line, column, exc.code)), on_skipped=lambda h: None)
        if who == "vs2":           # the case lies in VILLAGE, beyond vs2's reach: only "registered elsewhere"
            assert sorted(problems) == [(2, "id_number", "member.registered_elsewhere"),
                                        (3, "id_number", "member.registered_elsewhere")], problems
        else:                      # the county's staff reach it: compared (village and a member missing)
            assert {c for _l, _col, c in problems} == {"import.differs_fixed", "import.missing_registered"}, problems


def test_a_region_or_person_file_with_a_cell_too_long_to_read_is_refused_cleanly(home, tmp_path):  # noqa: F811
    for kind, header in (("region", "code,name"), ("person", "code,name,role,region")):
        path = tmp_path / f"{kind}.csv"
        path.write_text(f"{header}\n360730100299,{'名' * 200_000}\n", encoding="utf-8")
        result = home("admin", kind, "import", str(path))
        assert result.code == 2 and "第 2 行无法读取" in result.err and "Traceback" not in result.err, result.err


def test_an_interrupt_after_the_commit_leaves_the_import_told_as_done(world, monkeypatch):
    """Ctrl-C while PostgreSQL's statistics are gathered (after the commit) must not read as an import
    that did not happen: the service returns what it saved."""
    import workflows.household_import as importer
    from workflows.household import MemberInput

    def interrupted(*_args):
        raise KeyboardInterrupt
    monkeypatch.setattr(importer, "analyse", interrupted)
    households = [importer.ListedHousehold(str(h), VILLAGE, [(h + 2, MemberInput(f"户主{h}", number(7000 + h)))],
                                           causes=["因病"]) for h in range(3)]
    result = importer.import_households(world.app, world["cs"], households, keep_good=False, source={"file": "x.csv"},
                                        on_problem=lambda *a: None, on_skipped=lambda h: None)
    assert result.households == 3


def test_a_name_or_code_too_long_to_keep_is_its_rows_problem_on_each_backend(world):
    """A head's name of 201 characters stopped the whole import at its write, with no line, as the
    case's "title" too long (a field nobody typed), --skip-bad or not; a member's name past 100 the
    same. Each is its row's problem now, its column and limit said, and the good households are kept."""
    from workflows.household import MemberInput
    from workflows.household_import import ListedHousehold, import_households
    households = [ListedHousehold("1", VILLAGE, [(2, MemberInput("名" * 201, number(9000)))], causes=["因病"]),
                  ListedHousehold("2", VILLAGE, [(3, MemberInput("户主", number(9001))),
                                                 (4, MemberInput("成" * 101, number(9002), "child"))], causes=["因病"]),
                  ListedHousehold("3", VILLAGE, [(5, MemberInput("户主", number(9003)))], causes=["因病"],
                                  code="H" * 41),
                  ListedHousehold("4", VILLAGE, [(6, MemberInput("好户主", number(9004)))], causes=["因病"])]
    problems = []
    result = import_households(world.app, world["cs"], households, keep_good=True, source={"file": "x.csv"},
                               on_problem=lambda line, column, exc: problems.append((line, column, exc.code,
                                                                                     exc.params.get("most"))),
                               on_skipped=lambda h: None)
    assert (result.households, result.skipped) == (1, 3)
    assert problems == [(2, "name", "sheets.too_long", 100), (4, "name", "sheets.too_long", 100),
                        (5, "household_code", "sheets.too_long", 40)]


def _interrupting(times: int = 1, after: bool = False):
    """A hook sending this process a real SIGINT (Ctrl-C) `times` times before doing what it stands for
    (or `after` it)."""
    def around(original):
        def hooked(*args, **kwargs):
            done = original(*args, **kwargs) if after else None
            for _ in range(times):
                os.kill(os.getpid(), signal.SIGINT)
            return done if after else original(*args, **kwargs)
        return hooked
    return around


def test_a_ctrl_c_while_the_list_to_confirm_is_written_waits_for_it_and_never_says_aborted(home, tmp_path, monkeypatch):  # noqa: F811
    """Ctrl-C in an import's last seconds (its households committed, the list to confirm being
    written) printed only 已中止, exit 2: the import was saved all the same, and its list of ID numbers
    to confirm was lost for good (an import of the same file writes none). It waits for the list now (written
    whole beside its place before the commit, it takes its name after it)."""
    from entrypoints.cli import bad_rows
    monkeypatch.setattr(bad_rows.BadRows, "keep", _interrupting()(bad_rows.BadRows.keep))
    result = home("cs", "household", "import", write(tmp_path / "全县.csv", county(20)))
    assert result.code == 0, result.err
    assert "已导入 10 户、20 人" in result.out and "已中止" not in result.err
    assert "已收到中断，但导入已经提交保存，不会撤销" in result.err and "全部 20 处需核实的行" in result.err
    assert (tmp_path / "全县.to-confirm.xlsx").exists() and home.count("cases") == 10


def test_a_second_ctrl_c_after_the_commit_says_what_was_saved_and_which_file_was_not_written(home, tmp_path, monkeypatch):  # noqa: F811
    from entrypoints.cli import bad_rows
    monkeypatch.setattr(bad_rows.BadRows, "keep", _interrupting(2)(bad_rows.BadRows.keep))
    result = home("cs", "household", "import", write(tmp_path / "全县.csv", county(20)), lang="en")
    assert result.code == 2 and "aborted" not in result.err.splitlines() and "imported 10 household(s)" in result.out
    assert "the import was not aborted" in result.err and home.count("cases") == 10
    assert f"were not written: {tmp_path / '全县.to-confirm.xlsx'}" in result.err, result.err
    assert "case list --id-to-confirm" in result.err, result.err       # the numbers to confirm are kept: where to find them
    assert not (tmp_path / "全县.to-confirm.xlsx").exists() and list((home.path / "work").iterdir()) == []
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]     # nor its hidden copy beside it


def test_a_ctrl_c_during_the_commit_is_held_and_one_before_it_aborts_with_nothing_written(home, tmp_path, monkeypatch):  # noqa: F811
    from entrypoints.cli.interrupts import AfterCommit
    import workflows.household_import as importer
    with monkeypatch.context() as patched:
        patched.setattr(AfterCommit, "committing", _interrupting(after=True)(AfterCommit.committing))
        committed = home("cs", "household", "import", write(tmp_path / "全县.csv", county(20)))
    assert committed.code == 0 and "已导入 10 户" in committed.out and "导入已经提交保存" in committed.err
    assert (tmp_path / "全县.to-confirm.xlsx").exists()
    before = home.snapshot()
    monkeypatch.setattr(importer, "_finish", _interrupting()(importer._finish))
    aborted = home("cs", "household", "import", write(tmp_path / "另一县.csv", county(20)[:0] + [
        (VILLAGE, f"36073020{h:04d}", f"户主{h}", number(5000 + h), "户主", "因病", "") for h in range(3)]))
    assert aborted.code == 2 and aborted.err.strip() == "已中止" and home.snapshot() == before


def test_a_ctrl_c_just_before_the_commit_is_held_until_it_is_done_on_each_backend(world):
    """The commit is not cut short by an interrupt, whatever the database: the households are saved and
    the command is told one came (to say so, not "aborted")."""
    from entrypoints.cli.interrupts import AfterCommit
    from workflows.household import MemberInput
    from workflows.household_import import ListedHousehold, import_households
    households = [ListedHousehold(str(h), VILLAGE, [(h + 2, MemberInput(f"户主{h}", number(9100 + h)))],
                                  causes=["因病"]) for h in range(3)]
    with AfterCommit("held") as guard:
        result = import_households(world.app, world["cs"], households, keep_good=False, source={"file": "x.csv"},
                                   on_problem=lambda *a: None, on_skipped=lambda h: None,
                                   on_commit=_interrupting(after=True)(guard.committing))
    assert result.households == 3 and guard.pressed == 1
    from sqlalchemy import func, select
    from engine.adapters import tables as t
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(t.cases.c.id.between(result.first_case, result.last_case))
                            ).scalar() == 3


def test_the_same_file_imported_whole_is_refused_on_each_backend(world):
    import pytest
    from engine.domain.errors import BadInput
    from workflows.household import MemberInput
    from workflows.household_import import ListedHousehold, import_households

    def once(start: int):
        households = [ListedHousehold(str(h), VILLAGE, [(h + 2, MemberInput(f"户主{h}", number(start + h)))],
                                      causes=["因病"]) for h in range(2)]
        return import_households(world.app, world["cs"], households, keep_good=False,
                                 source={"file": "x.csv", "sha256": "ab" * 32},
                                 on_problem=lambda *a: None, on_skipped=lambda h: None)
    assert once(8100).households == 2
    with pytest.raises(BadInput) as refused:
        once(8200)
    assert refused.value.code == "import.imported_before" and refused.value.params["person"] == "cs"
    assert refused.value.params["at"] == "2019-01-10 10:00"      # 02:00 UTC, on the office's clock (Asia/Shanghai)


def test_a_household_bad_for_one_row_still_has_its_other_members_id_numbers_checked(home, tmp_path, monkeypatch):  # noqa: F811
    """Every bad row at once: a member of a household refused for another row is still checked against
    the file's other households and the register, and told on its own line. What is written does not
    depend on the refused household, nor on where it stands in the file or its batches."""
    import workflows.household_import as importer
    registered = home("cs", "household", "import", write(tmp_path / "旧.csv", county(2)))
    assert registered.code == 0, registered.err
    refused = [(VILLAGE, "3607309001", "甲", number(900), "户主", "因病", ""),
               (VILLAGE, "3607309001", "乙", number(901), "表哥", "", ""),     # its bad row
               (VILLAGE, "3607309001", "丙", number(0), "子女", "", "")]      # registered already
    good = [(VILLAGE, "3607309002", "丁", number(900), "户主", "因学", "")]    # shares 甲's ID number
    before = home.snapshot()
    result = home("cs", "household", "import", write(tmp_path / "新.csv", refused + good))
    assert result.code == 2 and home.snapshot() == before
    for line, column in ((2, "身份证号"), (3, "与户主关系"), (4, "身份证号")):
        assert f"第 {line} 行，{column}：" in result.err, (line, column, result.err)
    assert "第 2 行，身份证号：与第 5 行的身份证号相同" in result.err
    assert not [t for t in result.err.splitlines() if t.startswith("第 5 行")]       # the good household's line
    outcomes = []
    for n, (good_first, batch) in enumerate(((False, 500), (True, 500), (False, 1))):
        monkeypatch.setattr(importer, "BATCH", batch)       # 1: the two households in different batches
        a = [(VILLAGE, f"A{n}", "甲", number(910 + n), "户主", "因病", ""), (VILLAGE, f"A{n}", "乙", number(920 + n), "表哥", "", "")]
        b = [(VILLAGE, f"B{n}", "丁", number(910 + n), "户主", "因学", "")]
        taken = home("cs", "household", "import", write(tmp_path / f"新{n}.csv", b + a if good_first else a + b),
                     "--skip-bad", str(tmp_path / f"坏{n}.csv"))
        assert taken.code == 0, taken.err
        with sqlite3.connect(home.db) as conn:
            outcomes.append([c for (c,) in conn.execute("SELECT external_code FROM cases WHERE external_code IN (?, ?)",
                                                         (f"A{n}", f"B{n}"))])
    assert outcomes == [["B0"], ["B1"], ["B2"]]          # the good household, whatever the order or the batches


def test_a_household_code_registered_out_of_reach_names_no_case(world):
    """A 户编号 taken by a household of another village told any cadre that household's case number."""
    from workflows.household import MemberInput
    from workflows.household_import import ListedHousehold, import_households

    def listed(village: str, member) -> ListedHousehold:
        return ListedHousehold("1", village, [(2, member)], causes=["因病"], code="H-REACH-1",
                               given=frozenset({"name", "relation", "household_code"}))
    assert import_households(world.app, world["vs"], [listed(VILLAGE, MemberInput("户主", number(5300)))],
                             keep_good=False, source={"file": "a.csv"}, on_problem=print,
                             on_skipped=print).households == 1
    problems = []
    with pytest.raises(BadInput):
        import_households(world.app, world["vs2"], [listed(VILLAGE2, MemberInput("别户", number(5301)))],
                          keep_good=True, source={"file": "b.csv"},
                          on_problem=lambda line, column, exc: problems.append((column, exc.code, str(exc.params))),
                          on_skipped=lambda h: None)
    assert ("household_code", "import.code_elsewhere") in [(c, code) for c, code, _ in problems], problems
    assert all("case" not in params for _c, _code, params in problems)


def test_a_new_household_whose_heads_number_is_registered_in_another_is_not_taken_for_it(world, monkeypatch):
    """A new household (its own code, another village) whose head's ID number is a member of a
    registered household, mistyped or listed twice: the number is told as registered in that case,
    on its line. It had been taken for that case: each cell "differs from the case", and the advice
    to record the case's other members as gone and to add the stranger to it."""
    from workflows.household import MemberInput
    from workflows.household_import import ListedHousehold, import_households

    def listed(key: str, village: str, code: str | None, *members) -> ListedHousehold:
        return ListedHousehold(key, village, [(2 + i, m) for i, m in enumerate(members)], causes=["因病"], code=code,
                               given=frozenset({"name", "relation", "health"}))
    registered = (MemberInput("户主", number(5300)), MemberInput("配偶", number(5301), "spouse"),
                  MemberInput("子女", number(5302), "child"))
    assert import_households(world.app, world["cs"], [listed("1", VILLAGE, "R05300", *registered)], keep_good=False,
                             source={"file": "a.csv"}, on_problem=print, on_skipped=print).households == 1

    def problems_of(household) -> list[tuple]:
        problems = []
        with pytest.raises(BadInput, match="nothing_good"):
            import_households(world.app, world["cs"], [household], keep_good=True, source={"file": "b.csv"},
                              on_problem=lambda line, column, exc: problems.append((line, column, exc.code)),
                              on_skipped=lambda h: None)
        return sorted(problems)
    # its own household code: the spouse's number as its head's
    stranger = (MemberInput("谢德", number(5301)), MemberInput("谢妻", number(5310), "spouse"))
    assert problems_of(listed("9", VILLAGE2, "R09999", *stranger)) == [(2, "id_number", "member.already_registered")]
    # no codes: its head is not the case's head
    assert problems_of(listed("9", VILLAGE, None, *stranger)) == [(2, "id_number", "member.already_registered")]
    # the case itself, listed again with its code, its spouse's name changed: compared, as a kept list is
    again = (registered[0], MemberInput("配偶改名", number(5301), "spouse"), registered[2])
    assert problems_of(listed("1", VILLAGE, "R05300", *again)) == [(3, "name", "import.differs_registered")]
    # and listed twice under its code, far apart (in two batches): the second told as a household listed twice
    import workflows.household_import as importer
    monkeypatch.setattr(importer, "BATCH", 1)
    problems = []
    with pytest.raises(BadInput, match="nothing_new"):
        import_households(world.app, world["cs"], [listed("1", VILLAGE, "R05300", *registered),
                                                   listed("1x", VILLAGE, "R05300", *registered)], keep_good=True,
                          source={"file": "c.csv"}, on_skipped=lambda h: None,
                          on_problem=lambda line, column, exc: problems.append((line, column, exc.code)))
    assert problems == [(2, "household_code", "import.listed_twice")], problems     # the rows to delete


def test_two_imports_of_the_same_households_at_once_roll_one_back_in_words(world, monkeypatch):
    """Two clerks importing overlapping lists at the same moment (or a submit pressed twice): the one
    whose check ran before the other's write is refused in words and writes nothing; it had ended in
    a traceback (IntegrityError) on the command line and an unexplained HTTP 500 on the server."""
    import workflows.household_import as importer
    from engine.domain.errors import RuleViolation
    from workflows.household import MemberInput
    from workflows.household_import import ListedHousehold, import_households

    def listed(h: int) -> ListedHousehold:
        return ListedHousehold(str(h), VILLAGE, [(2, MemberInput(f"户主{h}", number(5400 + h)))], causes=["因病"],
                               code=f"C{h:05d}", given=frozenset({"name", "relation"}))

    def run(households):
        return import_households(world.app, world["cs"], households, keep_good=False, source={"file": f"{id(households)}.csv"},
                                 on_problem=print, on_skipped=print)
    write, raced, started = importer._Import.write, [], []

    def racing_write(self, checked):
        if not started:          # the other import writes the same households between this one's check and write
            started.append(True)
            import threading
            other = threading.Thread(target=lambda: raced.append(run([listed(1), listed(2)]).households))
            other.start()
            other.join(60)
        return write(self, checked)
    monkeypatch.setattr(importer._Import, "write", racing_write)
    with pytest.raises(RuleViolation) as refused:
        run([listed(1), listed(2), listed(3)])
    assert refused.value.code == "import.concurrent" and "重新导入" in refused.value.render(world.app.config)
    assert raced == [2]
    monkeypatch.setattr(importer._Import, "write", write)
    again = run([listed(1), listed(2), listed(3)])          # again: the two registered are compared, one written
    assert (again.households, again.unchanged) == (1, 2)


def test_a_person_holding_no_post_that_imports_is_told_once_before_the_file_is_read(home, tmp_path):  # noqa: F811
    """The administrator (no registrar's post) importing a county file: one line, not one per household."""
    result = home("admin", "household", "import", write(tmp_path / "a.csv", county(40)))
    assert result.code != 0 and "Traceback" not in result.err
    assert result.err.count("\n") == 1 and "没有导入贫困户名单的岗位" in result.err, result.err


def test_a_kept_list_uploaded_again_without_a_households_head_says_so_once(home, tmp_path):  # noqa: F811
    """A village's list kept and uploaded again with a head's row deleted (the head died, say) is told
    as that registered household listed without its head, with what to do in its case: not each
    remaining member's ID number and its 户编号 as registered already, which read as a different fault."""
    import csv
    assert home("cd", "household", "import", write(tmp_path / "迁入.csv", county(4))).code == 0
    exported = tmp_path / "本村.csv"
    assert home("vs", "export", "members", "--csv", str(exported), "--region", VILLAGE).code == 0
    with open(exported, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    kept = [rows[0], *(r for r in rows[1:] if r[rows[0].index("姓名")] != "户主0")]
    with open(exported, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(kept)
    before = home.snapshot()
    result = home("vs", "household", "import", str(exported))
    assert result.code == 2
    told = [line for line in result.err.splitlines() if line.startswith("第 ")]
    assert told == ["第 2 行，案件编号：本户已登记为案件 1，而文件中的这一户没有户主：名单须列出户中每个人。户主去世、迁出或更换的，"
                    "请在该案件中登记成员离开并更换户主，不要从名单中删去其行；否则请把户主的一行补回"], result.err
    assert home.snapshot() == before
    # a new household with no head is still told as such
    new = [(VILLAGE, "360730199999", "成员9", number(900), "配偶", "因病", "")]
    assert "第 2 行，与户主关系：该户没有户主" in home("vs", "household", "import", write(tmp_path / "c.csv", new)).err


def test_an_exports_village_name_is_checked_against_its_code(home, tmp_path):  # noqa: F811
    """A registry exported here, a household moved to another village by its 区域名称 alone: told on its
    line, not registered again in the village its code says (the name had been passed over)."""
    import csv
    assert home("cd", "household", "import", write(tmp_path / "迁入.csv", county(4))).code == 0
    exported = tmp_path / "全县.csv"
    assert home("cd", "export", "members", "--csv", str(exported)).code == 0
    with open(exported, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    name = rows[0].index("区域名称")
    other = next(r[name] for r in rows[1:] if r[name] != rows[1][name])
    rows.append([*rows[1][:name], other, *rows[1][name + 1:]])
    rows[-1][rows[0].index("案件编号")], rows[-1][rows[0].index("户编号")] = "新1", "360730199999"
    rows[-1][rows[0].index("身份证号")], rows[-1][rows[0].index("姓名")] = number(700), "新户主"
    with open(exported, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    result = home("cd", "household", "import", str(exported))
    assert result.code == 2
    assert [line for line in result.err.splitlines() if line.startswith("第 ")] == [
        f"第 {len(rows)} 行，区域名称：“{other}”不是村编码 {VILLAGE} 的村名：这个编码是梅江镇{rows[1][name]}。"
        "请核对该行的村编码和村名，改正错的一项后再导入"], result.err
