"""`jingzhun --server URL …`: the CLI as a client of a live server (uvicorn on loopback)."""
from __future__ import annotations

import httpx
import pytest

from entrypoints.cli.main import main
from tests.world import scan_file


def tokens(settings) -> dict[str, str]:
    lines = (settings.home / "demo-tokens.csv").read_text().splitlines()
    return dict(line.split(",", 1) for line in lines if line.strip())


@pytest.fixture
def as_person(demo_home, monkeypatch):
    settings, _ = demo_home

    def use(code: str) -> str:
        monkeypatch.setenv("JINGZHUN_TOKEN", tokens(settings)[code])
        return code
    monkeypatch.delenv("JINGZHUN_HOME", raising=False)
    monkeypatch.delenv("JINGZHUN_DB", raising=False)
    return use


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    got = capsys.readouterr()
    return code, got.out, got.err


def test_case_list_reads_as_in_direct_mode(live_server, demo_home, as_person, capsys):
    settings, _ = demo_home
    who = as_person("v01_secretary")
    remote = run(capsys, "--server", live_server, "--as", who, "case", "list")
    direct = run(capsys, "--home", str(settings.home), "--as", who, "case", "list")
    assert remote == direct
    assert remote[0] == 0 and remote[1].count("\n") > 2


def without(core, code: str, etype: str) -> int:
    """A household case of `code`'s village with no evidence of `etype` yet (a type is added once)."""
    from engine.reads.case_record import case_detail
    from engine.reads.case_lists import list_cases
    from engine.services.org import load_actor
    from sqlalchemy import select
    from engine.adapters import tables as t
    with core.engine.connect() as conn:
        actor = load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).first())
    for row in list_cases(core, actor, kind="household"):
        if not any(e["type"] == etype for e in case_detail(core, actor, row["id"])["evidence"]):
            return row["id"]
    raise AssertionError(f"no case left without {etype}")


def test_evidence_with_a_file_is_uploaded(live_server, core, as_person, capsys, tmp_path):
    who = as_person("v01_secretary")
    case_id = without(core, who, "natural_change_proof")       # (every household's appraisal holds its minutes)
    scan = scan_file(tmp_path / "死亡证明.pdf", "certificate")
    code, out, err = run(capsys, "--server", live_server, "--as", who, "evidence", "add", str(case_id),
                         "natural_change_proof", "--field", "reason=户主去世", "--file", str(scan))
    assert (code, err) == (0, "") and f"已附于案件 {case_id}" in out
    code, out, _ = run(capsys, "--server", live_server, "--as", who, "case", "show", str(case_id), "--json")
    import json
    items = [e for e in json.loads(out)["evidence"] if e["type"] == "natural_change_proof"]
    assert items and items[0]["file_name"] == "死亡证明.pdf"


def test_an_appraisals_minutes_go_up_with_the_step(live_server, core, demo_home, as_person, capsys, tmp_path):
    from tests.web.test_browser_cadre import applied_by_director
    case_id = applied_by_director(core, demo_home, "远程评议户主", "36073019720505123")
    who = as_person("v01_secretary")
    minutes = scan_file(tmp_path / "评议会议记录.pdf", "minutes: 30 present")
    code, out, err = run(capsys, "--server", live_server, "--as", who, "step", "identification", "appraisal",
                         str(case_id), "--attendance", "30", "--for", "28", "--against", "2", "--minutes", str(minutes))
    assert (code, err) == (0, ""), err
    code, out, _ = run(capsys, "--server", live_server, "--as", who, "case", "show", str(case_id), "--json")
    import json
    [item] = [e for e in json.loads(out)["evidence"] if e["type"] == "appraisal_minutes"]
    assert item["file_name"] == "评议会议记录.pdf"
    import hashlib
    assert item["file"] == hashlib.sha256(minutes.read_bytes()).hexdigest()


def test_trace_html_is_written_on_the_client(live_server, as_person, capsys, tmp_path):
    who = as_person("inspector")
    target = tmp_path / "dossier.html"
    code, out, err = run(capsys, "--server", live_server, "--as", who, "trace", "2", f"--html={target}")
    assert (code, err) == (0, ""), err
    assert target.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert str(target) in out and "/work/cli-" not in out
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_a_refusal_exits_1_with_the_rule_in_chinese(live_server, as_person, capsys):
    who = as_person("v01_secretary")
    code, out, err = run(capsys, "--server", live_server, "--as", who, "step", "exit", "village_notice", "2")
    assert code == 1 and out == ""        # before its proposal, or while another procedure is open
    assert "已拒绝 [step.order]" in err or "已拒绝 [procedure.other_open]" in err
    assert "步骤顺序错误" in err or "已有进行中的程序" in err


def test_a_refusal_in_english_when_asked(live_server, as_person, capsys):
    who = as_person("v01_secretary")
    code, _, err = run(capsys, "--server", live_server, "--lang", "en", "--as", who, "step", "exit",
                       "village_notice", "2")
    assert code == 1 and ("[step.order]" in err or "[procedure.other_open]" in err) and "步骤" not in err


def test_usage_errors_are_found_before_anything_is_sent(live_server, as_person, capsys):
    who = as_person("v01_secretary")
    code, _, err = run(capsys, "--server", "http://127.0.0.1:9", "--as", who, "case", "show", "not-a-number")
    assert code == 2 and "not-a-number" in err
    code, _, err = run(capsys, "--server", "http://127.0.0.1:9", "--as", who, "case", "next", "2",
                       "--as-of", "2020-13-45")
    assert code == 2


def test_init_and_serve_are_refused_by_the_server(live_server, as_person, capsys):
    who = as_person("admin")
    code, _, err = run(capsys, "--server", live_server, "--as", who, "init")
    assert code == 1 and "[remote.server_only]" in err and "只能在服务器本机" in err
    code, _, err = run(capsys, "--server", live_server, "--as", who, "config", "install", ".")
    assert code == 1 and "[remote.server_only]" in err


def test_a_home_or_database_with_server_is_a_usage_error(live_server, as_person, capsys, tmp_path):
    who = as_person("v01_secretary")
    code, _, err = run(capsys, "--server", live_server, "--home", str(tmp_path), "--as", who, "case", "list")
    assert code == 2 and "--home" in err
    code, _, err = run(capsys, "--db", "sqlite://", "--server", live_server, "--as", who, "case", "list")
    assert code == 2 and "--db" in err
    code, _, err = run(capsys, "--server", live_server, "--db-file", str(tmp_path / "url"), "--as", who, "case", "list")
    assert code == 2 and "--db-file" in err


def test_a_wrong_token_is_refused(live_server, as_person, capsys, monkeypatch):
    who = as_person("v01_secretary")
    monkeypatch.setenv("JINGZHUN_TOKEN", "not-the-token")
    code, out, err = run(capsys, "--server", live_server, "--as", who, "case", "list")
    assert code == 1 and out == "" and "[auth.bad_token]" in err


def test_an_unreachable_server_is_said(as_person, capsys, monkeypatch):
    from entrypoints.cli import lost_answers
    monkeypatch.setattr(lost_answers, "PAUSES", (0, 0, 0, 0))      # tried again, without the 15 s of pauses
    who = as_person("v01_secretary")
    code, _, err = run(capsys, "--server", "http://127.0.0.1:9", "--as", who, "case", "list")
    assert code == 2 and "[remote.unreachable]" in err


def test_json_output_and_json_errors(live_server, as_person, capsys):
    import json
    who = as_person("v01_secretary")
    code, out, _ = run(capsys, "--server", live_server, "--as", who, "case", "list", "--waiting", "--json")
    assert code == 0 and all(r["pending_step"] for r in json.loads(out))
    code, _, err = run(capsys, "--server", live_server, "--as", who, "step", "exit", "village_notice", "2", "--json")
    assert code == 2 and json.loads(err)["error"] == "usage"      # step has no --json, as in direct mode
    outsider = as_person("t2_staff1")
    code, _, err = run(capsys, "--server", live_server, "--as", outsider, "case", "next", "2", "--json")
    assert code == 1 and json.loads(err)["error"] == "auth.out_of_reach"      # it names no region


def test_a_csv_is_uploaded_and_its_errors_name_the_local_file(live_server, as_person, capsys, tmp_path):
    who = as_person("admin")
    sheet = tmp_path / "regions.csv"
    sheet.write_text("code,title\n360730100299,新村\n", encoding="utf-8")
    code, out, err = run(capsys, "--server", live_server, "--as", who, "region", "import", str(sheet))
    assert code == 2 and out == ""
    assert "[csv.columns" in err and str(sheet) in err and "/work/cli-" not in err


def test_a_folder_is_uploaded(live_server, as_person, capsys):
    from config import CONFIG_DIR
    who = as_person("v01_secretary")
    code, out, err = run(capsys, "--server", live_server, "--as", who, "config", "check", "--dir", str(CONFIG_DIR))
    assert code == 0, err
    assert str(CONFIG_DIR) in out and "/work/cli-" not in out


def test_an_export_through_the_server_lands_on_the_clients_machine(live_server, as_person, capsys, tmp_path):
    import csv
    import stat
    who = as_person("v01_secretary")
    out = tmp_path / "案件.csv"
    code, said, err = run(capsys, "--server", live_server, "--as", who, "export", "cases", "--csv", str(out))
    assert code == 0, err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "编号" and len(rows) >= 3
    assert {r[2][:9] for r in rows[1:]} == {rows[1][2][:9]}     # one village's cases: the cadre's own



def test_an_evidence_export_of_one_type_through_the_server_lands_on_the_clients_machine(live_server, as_person,
                                                                                         capsys, tmp_path):
    import csv
    who = as_person("v01_secretary")
    out = tmp_path / "收入.csv"
    code, said, err = run(capsys, "--server", live_server, "--as", who, "export", "evidence", "--type", "收支核查表",
                          "--csv", str(out))
    assert code == 0, err
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["材料类型"] for r in rows} == {"收支核查表"} and all(r["年度"] and r["家庭纯收入"] for r in rows)
    assert len({r["区域代码"].strip() for r in rows}) == 1            # the cadre's own village

def test_a_registry_too_big_to_send_is_refused_before_anything_is_read_or_sent(as_person, capsys, tmp_path):
    from entrypoints.cli.remote import MAX_UPLOAD
    who = as_person("admin")
    registry = tmp_path / "全市名册.csv"
    with open(registry, "wb") as fh:            # sparse: its size, not its bytes
        fh.truncate(MAX_UPLOAD + 1)
    # an unreachable server: the refusal comes before any connection is tried
    code, out, err = run(capsys, "--server", "http://127.0.0.1:9", "--as", who, "household", "import", str(registry))
    assert code == 2 and out == ""
    mb = MAX_UPLOAD // (1024 * 1024)
    assert "[remote.too_big_to_send]" in err and f"{mb + 1} MB" in err and f"{mb} MB" in err and "jingzhun --home" in err
    code, _, err = run(capsys, "--server", "http://127.0.0.1:9", "--lang", "en", "--as", who, "household", "import",
                       str(registry))
    assert code == 2 and "split the file by county or township" in err


def test_a_file_the_command_writes_is_not_sent_however_big_it_is_now(live_server, as_person, capsys, tmp_path):
    from entrypoints.cli.remote import MAX_UPLOAD
    who = as_person("v01_secretary")
    out = tmp_path / "案件.csv"
    with open(out, "wb") as fh:         # last month's export, say: overwritten, never uploaded
        fh.truncate(MAX_UPLOAD + 1)
    code, _, err = run(capsys, "--server", live_server, "--as", who, "export", "cases", "--csv", str(out))
    assert code == 0, err
    assert out.stat().st_size < 1024 * 1024 and out.read_text(encoding="utf-8-sig").startswith("编号")


def test_a_folder_the_command_writes_comes_back_file_by_file(live_server, as_person, capsys, tmp_path):
    import stat
    who = as_person("v01_secretary")
    tables = tmp_path / "考核表"
    code, _, err = run(capsys, "--server", live_server, "--as", who, "report", "--period", "2019", "--csv", str(tables))
    assert code == 0, err
    written = sorted(tables.iterdir())
    assert written and all(f.suffix == ".csv" and stat.S_IMODE(f.stat().st_mode) == 0o600 for f in written)
    assert stat.S_IMODE(tables.stat().st_mode) == 0o700
    assert written[0].read_text(encoding="utf-8-sig").count("\n") >= 1


def test_a_list_to_confirm_comes_back_beside_the_clients_file(live_server, core, as_person, capsys, tmp_path):
    """More than 20 ID numbers to confirm: written beside the list the client sent, not the server's copy."""
    import csv
    from sqlalchemy import select
    from stdnum.cn import ric
    from engine.adapters import tables as t
    from engine.services.org import load_actor
    who = as_person("v01_secretary")
    with core.engine.connect() as conn:
        actor = load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == who)).first())
    village = actor.assignments[0].region_code
    numbers = [f"36073119690315{700 + i:03d}" for i in range(22)]
    listing = tmp_path / "新登记.csv"
    with open(listing, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("户编号", "村编码", "姓名", "身份证号", "与户主关系", "致贫原因"),
                                 *[(f"C{i}", village, f"户主{i}", n + ric.calc_check_digit(n + "0"), "户主", "因病")
                                   for i, n in enumerate(numbers)]])
    code, out, err = run(capsys, "--server", live_server, "--as", who, "household", "import", str(listing))
    assert code == 0, err
    back = tmp_path / "新登记.to-confirm.xlsx"
    assert str(back) in err and "/work/cli-" not in err
    import openpyxl
    assert openpyxl.load_workbook(back).active.max_row == 23


def test_a_list_to_confirm_named_by_the_client_comes_back_however_few(live_server, core, as_person, capsys, tmp_path):
    """Two ID numbers to confirm: no file by default (past 5 only), the file named with --to-confirm all the same
    (the client sends its default by name too: the server tells them apart)."""
    import csv
    from sqlalchemy import select
    from stdnum.cn import ric
    from engine.adapters import tables as t
    from engine.services.org import load_actor
    who = as_person("v01_secretary")
    with core.engine.connect() as conn:
        actor = load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == who)).first())
    village = actor.assignments[0].region_code
    for name, named in (("默认.csv", None), ("指定.csv", tmp_path / "核实.csv")):
        numbers = [f"36073119690316{(700 if named else 800) + i:03d}" for i in range(2)]
        listing = tmp_path / name
        with open(listing, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([("户编号", "村编码", "姓名", "身份证号", "与户主关系", "致贫原因"),
                                     *[(f"{name[0]}{i}", village, f"户主{i}", n + ric.calc_check_digit(n + "0"), "户主",
                                        "因病") for i, n in enumerate(numbers)]])
        code, out, err = run(capsys, "--server", live_server, "--as", who, "household", "import", str(listing),
                             *(["--to-confirm", str(named)] if named else []))
        assert code == 0, err
        assert not listing.with_suffix(".to-confirm.xlsx").exists()
        if named:
            assert str(named) in err and "/work/cli-" not in err
            assert len(named.read_text(encoding="utf-8-sig").splitlines()) == 3      # its header and the two rows
        else:
            assert "已写入" not in err


def test_a_folder_of_too_many_files_is_refused_before_anything_is_sent(as_person, capsys, tmp_path):
    from entrypoints.cli.remote import MAX_FILES
    who = as_person("v01_secretary")
    scans = tmp_path / "扫描件"
    scans.mkdir()
    for i in range(MAX_FILES + 1):
        (scans / f"{i}.jpg").touch()
    code, out, err = run(capsys, "--server", "http://127.0.0.1:9", "--as", who, "config", "check", "--dir", str(scans))
    assert code == 2 and out == ""
    assert "[remote.too_many_files]" in err and f"{MAX_FILES + 1} 个文件" in err and "zip" in err


def test_a_file_the_command_writes_over_the_file_it_reads_is_refused_on_the_client(live_server, as_person, capsys,
                                                                                   tmp_path):
    who = as_person("admin")
    sheet = tmp_path / "regions.csv"
    sheet.write_text("code,name\n360730100299,新村\n360730100298,\n", encoding="utf-8")
    before = sheet.read_bytes()
    code, out, err = run(capsys, "--server", live_server, "--as", who, "region", "import", str(sheet),
                         "--skip-bad", str(sheet))
    assert code == 2 and "正是要读取的文件" in err and sheet.read_bytes() == before


def test_a_post_s_region_is_taken_by_its_name_through_the_server(live_server, as_person, capsys):
    """`person add --role 帮扶责任人:洋塘村` and `person grant … 梅江镇` on a server: the server reads the
    name (the client knows no regions); a name no region has is refused there, exit 2, in the
    client's language, and nobody is added."""
    import json
    who = as_person("admin")
    code, out, err = run(capsys, "--server", live_server, "--as", who, "person", "add", "byname1", "甲",
                         "--role", "帮扶责任人:洋塘村", "--no-code")
    assert code == 0, err
    code, _, err = run(capsys, "--server", live_server, "--as", who, "person", "grant", "byname1", "township_staff",
                       "梅江镇")
    assert code == 0, err
    code, out, err = run(capsys, "--server", live_server, "--as", who, "person", "list", "--json")
    assert code == 0, err
    [person] = [p for p in json.loads(out) if p["code"] == "byname1"]
    assert sorted(person["roles"], key=lambda r: r["region"]) == [
        {"role": "township_staff", "region": "360730100000"}, {"role": "pairing_cadre", "region": "360730100201"}]
    code, _, err = run(capsys, "--server", live_server, "--lang", "en", "--as", who, "person", "add", "byname2", "乙",
                       "--role", "pairing_cadre:黄石村", "--no-code")
    assert code == 2 and "No region named “黄石村” in your jurisdiction" in err and "Traceback" not in err, err
    code, out, _ = run(capsys, "--server", live_server, "--as", who, "person", "list", "--json")
    assert "byname2" not in {p["code"] for p in json.loads(out)}


def test_a_database_the_server_cannot_reach_is_said_as_a_direct_command_says_it(world, monkeypatch, capsys):
    """The database refusing connections (PostgreSQL's ALLOW_CONNECTIONS false): a client's command was
    told 已拒绝 [server.error]：服务器出错（HTTP 500）, exit 1 (the README's "refused by a rule"). The API
    answers 503 with db.unusable, and the client says it as a direct command does: an error, exit 2."""
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.pool import NullPool
    from entrypoints.web.app import create_app
    from tests.web.conftest import serving
    url = make_url(world.app.settings.db_url)
    if not url.drivername.startswith("postgresql"):
        pytest.skip("a database server to refuse connections")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    monkeypatch.delenv("JINGZHUN_HOME", raising=False)
    monkeypatch.delenv("JINGZHUN_DB", raising=False)
    monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens["vs"])
    with serving(create_app(world.app)) as base:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"),
                         {"db": url.database})
        try:
            answer = httpx.get(f"{base}/api/v1/me", headers={"X-Jingzhun-Person": "vs",
                                                             "Authorization": f"Bearer {world.tokens['vs']}"})
            code = main(["--server", base, "--as", "vs", "case", "list"])
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS true'))
    assert answer.status_code == 503 and answer.json()["error"] == "db.unusable"
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("错误 [db.unusable]：服务器现在无法使用它的数据库"), err
    assert "已拒绝" not in err and url.host not in err


def test_a_database_failing_during_a_client_s_command_is_said_without_the_server_s_url(world, monkeypatch, capsys,
                                                                                        caplog):
    """The database failing once the server runs a client's command (after its sign-in) was told as in
    direct mode: 无法使用数据库 with the server's database URL (its host, its database) and the driver's
    English. The client is told the server cannot use its database, an error (exit 2); the server's log
    has the failure's kind."""
    from sqlalchemy import create_engine
    from entrypoints.cli.context import Ctx
    from entrypoints.cli.main import invoke
    monkeypatch.setenv("JINGZHUN_DB", "postgresql+psycopg://jz:s3cret@db.internal.example/city")
    monkeypatch.setattr(world.app, "engine", create_engine(f"sqlite:///{world.app.settings.home}/gone/none.db"))
    ctx = Ctx(None, None, "zh", "vs", _app=world.app, _actor=world["vs"], for_client=True)
    code = invoke(["case", "list"], obj=ctx, lang="zh", labels=ctx.config, remote=True)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("错误 [db.unusable]：服务器现在无法使用它的数据库"), err
    for leaked in ("db.internal", "city", "gone", "none.db", "unable to open", "sqlite"):
        assert leaked not in err, (leaked, err)
    assert "database unusable (OperationalError)" in caplog.text
    direct = Ctx(None, None, "zh", "vs", _app=world.app, _actor=world["vs"])
    assert invoke(["case", "list"], obj=direct, lang="zh") == 2         # a direct command: said whole
    assert "无法使用数据库 postgresql+psycopg://jz:***@db.internal.example/city" in capsys.readouterr().err
