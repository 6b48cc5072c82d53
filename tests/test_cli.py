"""The `jingzhun` command line, driven the way a user drives it.

Most tests call `cli.main(argv)` in this process (fast) on a real SQLite file under tmp_path;
a few run the installed `jingzhun` command in a subprocess. One data home (regions and one
person per role, imported through the CLI from CSV) is built once per session and copied for
each test, because making a home and its people is slow.

Exit codes: 0 done; 1 refused by a rule (stderr names the rule as `[code]`); 2 bad usage or input.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import cli
from entrypoints.cli import context as cli_context, org as cli_org
from config import CONFIG_DIR, load_config
from engine.adapters.app import App
from tests.world import CITY, COUNTY, PROVINCE, ROLES, TOWNSHIP, TOWNSHIP2, VILLAGE, VILLAGE2, member_ids, scan_file

# The command installed beside the Python running the tests (its venv), else the one on PATH.
BESIDE = Path(sys.executable).with_name("jingzhun")
JINGZHUN = str(BESIDE) if BESIDE.exists() else shutil.which("jingzhun") or "jingzhun"
ENV_VARS = ("JINGZHUN_HOME", "JINGZHUN_DB", "JINGZHUN_LANG", "JINGZHUN_AS", "JINGZHUN_CONFIG", "JINGZHUN_TOKEN",
            "JINGZHUN_PASSWORD")

REGIONS = [(PROVINCE, "江西省"), (CITY, "赣州市"), (COUNTY, "宁都县"), (TOWNSHIP, "梅江镇"),
           (VILLAGE, "洋塘村"), (TOWNSHIP2, "青塘镇"), (VILLAGE2, "石上村")]
WORKFLOW = yaml.safe_load((CONFIG_DIR / "workflows" / "household.yaml").read_text(encoding="utf-8"))


# --- running the command ----------------------------------------------------------------------

@dataclass
class Result:
    code: int | None          # None: the command crashed with an uncaught exception (see err)
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)

    def last_line(self) -> str:
        return self.out.strip().splitlines()[-1]


_PACKAGED_CONFIG = []


def _packaged_config_once(directory=None):
    """Parsing the YAML files costs ~80 ms a command; load the packaged ones once per session.
    Any other folder (`--config DIR`) is loaded and validated every time, as the command does."""
    if directory is not None:
        return load_config(directory)
    if not _PACKAGED_CONFIG:
        _PACKAGED_CONFIG.append(load_config())
    return _PACKAGED_CONFIG[0]


def jingzhun(argv: list[str], token: str | None = None, reload_config: bool = False,
             env: dict[str, str] | None = None) -> Result:
    """`cli.main(argv)` in-process with JINGZHUN_TOKEN set (or unset); closes the App it opened."""
    opened: list[App] = []
    original_init = App.__init__

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        opened.append(self)

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(App, "__init__", recording_init)
        if not reload_config:
            mp.setattr(cli_context, "load_config", _packaged_config_once)
            mp.setattr(cli_org, "load_config", _packaged_config_once)
        for var in ENV_VARS:
            mp.delenv(var, raising=False)
        if token is not None:
            mp.setenv("JINGZHUN_TOKEN", token)
        for var, value in (env or {}).items():
            mp.setenv(var, value)
        mp.setattr(sys, "stdin", io.StringIO())   # never a terminal: no token prompt
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli.main([str(a) for a in argv])
            except Exception:   # what the installed command would show as a traceback
                code = None
                traceback.print_exc(file=err)
    for app in opened:
        app.close()
    return Result(code, out.getvalue(), err.getvalue())


def run_installed(*args: str, token: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    if token is not None:
        env["JINGZHUN_TOKEN"] = token
    return subprocess.run([JINGZHUN, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          stdin=subprocess.DEVNULL, timeout=60)


class _Minutes:
    """In a command's arguments: the signed minutes of an appraisal meeting, a scan beside the home."""


MINUTES = _Minutes()


@dataclass
class Home:
    """A data home and the tokens of its people; `home(who, *args)` runs `jingzhun --as who ...`."""
    path: Path
    tokens: dict[str, str]

    def __call__(self, who: str | None, *args: Any, lang: str | None = None, token: str | None = None) -> Result:
        args = tuple(self.minutes() if a is MINUTES else a for a in args)
        argv: list[Any] = ["--home", self.path]
        if lang:
            argv += ["--lang", lang]
        if who:
            argv += ["--as", who]
        return jingzhun(argv + list(args), token if token is not None else self.tokens.get(who or ""))

    def ok(self, who: str, *args: Any) -> Result:
        result = self(who, *args)
        assert result.code == 0, f"jingzhun --as {who} {' '.join(map(str, args))}: {result.err}"
        return result

    def minutes(self) -> Path:
        path = self.path.parent / "评议会议记录.pdf"
        return path if path.exists() else scan_file(path, "民主评议会议记录 到会代表签字")

    @property
    def db(self) -> Path:
        return self.path / "jingzhun.db"

    def count(self, table: str) -> int:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def case(self, case_id: int) -> dict:
        return self.ok("insp", "case", "show", case_id, "--json").json()

    def snapshot(self, case_id: int | None = None) -> tuple:
        """What a refused command must leave unchanged: the case version and every audit event."""
        return (self.case(case_id)["version"] if case_id else None, self.count("audit_events"),
                self.count("persons"), self.count("regions"), self.count("cases"), self.count("evidence"))

    def register(self, village: str = VILLAGE, seed: int = 1, by: str = "vs", evidence: bool = True) -> int:
        """A two-person household with its application and 2018 income check (per capita 2,500 yuan)."""
        head, spouse = member_ids(2, seed)
        who = "vs2" if village == VILLAGE2 else by
        case = int(self.ok(who, "household", "add", "--village", village, "--member", f"王大山{seed},{head},head,normal,healthy,none,是,是",
                           "--member", f"李秀英{seed},{spouse},spouse,normal,healthy,none,是,是", "--cause", "因病"
                           ).last_line())
        if evidence:
            self.ok(who, "evidence", "add", case, "application", "--field", f"applicant=王大山{seed}",
                    "--field", "applied_on=2019-02-01")
            self.ok(who, "evidence", "add", case, "income_check", "--field", "year=2018",
                    "--field", "net_income=5000")
        return case

    def steps(self, case: int, plan: list[tuple], until: str | None = None, live: bool = False) -> list[Result]:
        """Do the steps of `plan` in order, stopping before the step `until`; `live`: each entered on its day (the
        home's clock set to it, then back on the real clock), not years after the date it bears (a paper file
        entered afterwards)."""
        done = []
        for who, procedure, step, day, *extra in plan:
            if step == until:
                break
            if live:
                (self.path / "demo-clock").write_text(f"{day}T02:00:00+00:00", encoding="utf-8")
            done.append(self.ok(who, "step", procedure, step, case, "--date", day, *extra))
        if live:
            (self.path / "demo-clock").unlink()        # the real clock again
        return done


# The main path of one household, as the people of tests/world.py do it. Notices run 7 days.
IDENTIFICATION = [
    ("vs", "identification", "application", "2019-03-01"),
    ("vd", "identification", "appraisal", "2019-03-01", "--attendance", "40", "--for", "35", "--against", "2",
     "--minutes", MINUTES),
    ("tl", "identification", "village_verification", "2019-03-01", "--approve", "--verifier", "tm"),
    ("fs", "identification", "first_notice", "2019-03-01"),
    ("ts1", "identification", "township_review", "2019-03-08", "--approve"),
    ("ts2", "identification", "second_notice", "2019-03-08"),
    ("cd", "identification", "county_approval", "2019-03-15", "--approve"),
    ("cs", "identification", "announcement", "2019-03-15"),
]
ASSISTANCE = [
    ("ts1", "assistance", "pairing", "2019-03-20", "--first-cadre", "pc1", "--second-cadre", "pc2"),
    ("fs", "assistance", "plan", "2019-03-20", "--measure", "industry:养牛"),
    ("th", "assistance", "plan_approval", "2019-03-20", "--approve"),
]
EXIT = [
    ("vd", "exit", "proposal", "2019-11-20", "--attendance", "38", "--for", "33", "--against", "1",
     "--minutes", MINUTES),
    ("tl", "exit", "verification", "2019-11-20", "--approve", "--verifier", "ts2", "--verifier", "ts3", "--verifier", "ts4"),
    ("fs", "exit", "acknowledgement", "2019-11-20"),
    ("vs", "exit", "village_notice", "2019-11-20"),
    ("ts1", "exit", "township_review", "2019-11-28", "--approve"),
    ("ch", "exit", "county_approval", "2019-11-28", "--approve"),
    ("cs", "exit", "announcement", "2019-11-28"),
]
CONSOLIDATION = [
    ("ts2", "consolidation", "enrolment", "2019-11-28"),
    ("cs", "consolidation", "county_filing", "2019-11-28", "--approve"),
]


# --- the session's data home, built through the CLI -------------------------------------------

@dataclass
class Template:
    path: Path
    tokens: dict[str, str]
    init: Result
    init_again: Result
    region_import: Result
    person_import: Result
    codes_file: Path


def write_csv(path: Path, header: list[str], rows: list) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Template:
    base = tmp_path_factory.mktemp("cli-template")
    home = base / "home"
    init = jingzhun(["--home", home, "init"])
    assert init.code == 0, init.err
    admin_token = init.last_line()
    init_again = jingzhun(["--home", home, "init"])
    admin = ["--home", home, "--as", "admin"]
    regions_csv = write_csv(base / "regions.csv", ["code", "name"], REGIONS)
    region_import = jingzhun(admin + ["region", "import", regions_csv], admin_token)
    assert region_import.code == 0, region_import.err
    people_csv = write_csv(base / "people.csv", ["code", "name", "role", "region"],
                            [(code, f"{role}-{code}", role, region) for code, (role, region) in ROLES.items()])
    codes_file = base / "codes.csv"
    person_import = jingzhun(admin + ["person", "import", people_csv, "--codes-file", codes_file], admin_token)
    assert person_import.code == 0, person_import.err
    tokens = {}
    for code, _name, enrolment, _use in paper_codes(codes_file):          # each person spends their own code
        activated = jingzhun(["--home", home, "--as", code, "activate", enrolment])
        assert activated.code == 0, activated.err
        tokens[code] = activated.last_line()
    tokens["admin"] = admin_token
    with sqlite3.connect(home / "jingzhun.db") as conn:   # fold the WAL in so a plain copy is whole
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Template(home, tokens, init, init_again, region_import, person_import, codes_file)


@pytest.fixture
def home(template, tmp_path) -> Home:
    path = tmp_path / "home"
    shutil.copytree(template.path, path)
    return Home(path, dict(template.tokens))


@pytest.fixture
def case(home) -> int:
    """A household registered with its application and income check (stage candidate)."""
    return home.register()


# --- 1. set-up through the CLI ----------------------------------------------------------------

def test_init_prints_the_administrators_token_once_and_not_again(template):
    token = template.init.last_line()
    assert len(token) >= 24 and " " not in token
    assert template.init.out.count(token) == 1
    assert "已创建管理员 admin" in template.init.out
    assert template.init_again.code == 0
    assert "数据库结构已是最新" in template.init_again.out
    assert "令牌" not in template.init_again.out and token not in template.init_again.out


def test_region_and_person_import_from_csv(template):
    assert "已导入区域 7 个" in template.region_import.out
    assert f"已导入人员 {len(ROLES)} 名" in template.person_import.out
    home = Home(template.path, template.tokens)
    listed = home.ok("admin", "region", "list", "--json", "--under", COUNTY).json()
    assert [r["code"] for r in listed] == [COUNTY, TOWNSHIP, VILLAGE, TOWNSHIP2, VILLAGE2]
    assert {r["code"]: r["level"] for r in listed}[VILLAGE] == "village"
    people = {p["code"]: p["roles"] for p in home.ok("admin", "person", "list", "--json").json()}
    assert people["vs"] == [{"role": "village_secretary", "region": VILLAGE}]
    assert people["insp"] == [{"role": "inspector", "region": COUNTY}]


def paper_codes(path: Path) -> list[list[str]]:
    """The rows of a paper codes sheet (person code, name, one-time code, how to use it), its header left out."""
    import csv
    return list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))[1:]


def test_person_import_writes_paper_enrolment_codes_only_to_the_codes_file_with_mode_600(template):
    assert stat.S_IMODE(template.codes_file.stat().st_mode) == 0o600
    rows = paper_codes(template.codes_file)
    assert sorted(r[0] for r in rows) == sorted(ROLES)
    for code, name, enrolment, use in rows:         # a slip to cut out: who, and what to do with the code
        assert enrolment not in template.person_import.out and name and f"人员编号 {code}" in use
    assert template.codes_file.read_text(encoding="utf-8").startswith("\ufeff人员编号,姓名,一次性登录码,用法")
    assert f"纸质首次登录码已写入 {template.codes_file}" in template.person_import.out


def test_a_spent_enrolment_code_cannot_be_spent_again_by_anyone(template, home):
    code, _name, enrolment, _use = paper_codes(template.codes_file)[0]
    again = jingzhun(["--home", home.path, "--as", code, "activate", enrolment])
    assert again.code == 1 and "[enrol.bad_code]" in again.err
    assert home(code, "case", "list").code == 0          # the person's own token still works


def test_only_the_person_renews_their_token_and_the_old_one_stops_working(home):
    assert home("vs", "case", "list", "--json").code == 0
    refused = home("admin", "person", "token", "vs")
    assert refused.code == 1 and "[token.not_yours]" in refused.err and "person enrol vs" in refused.err
    assert home("vs", "case", "list").code == 0
    new = home.ok("vs", "person", "token").last_line()
    stale = home("vs", "case", "list")
    assert stale.code == 1 and "[auth.bad_token]" in stale.err
    assert home("vs", "case", "list", token=new).code == 0


def test_a_token_is_kept_only_as_its_sha256_and_one_kept_as_scrypt_before_still_works(home):
    """A token is 192 random bits, kept as its SHA-256 (engine/domain/auth.py says why); tokens issued
    while they were kept as scrypt go on working until their holder renews them."""
    import base64
    token = home.tokens["vs"]
    db = home.path / "jingzhun.db"
    with sqlite3.connect(db) as conn:
        kept = conn.execute("SELECT token_hash FROM persons WHERE code = 'vs'").fetchone()[0]
    assert kept == "sha256$" + hashlib.sha256(token.encode()).hexdigest() and token not in kept
    old_token, salt = "made-before-tokens-were-kept-as-sha256", b"0123456789abcdef"
    digest = hashlib.scrypt(old_token.encode(), salt=salt, n=2 ** 14, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE persons SET token_hash = ? WHERE code = 'vs'",
                     (f"scrypt${2 ** 14}$8$1${b64(salt)}${b64(digest)}",))
    assert home("vs", "case", "list", token=old_token).code == 0
    wrong = home("vs", "case", "list", token=old_token[:-1] + "X")
    assert wrong.code == 1 and "[auth.bad_token]" in wrong.err
    assert home("vs", "case", "list", token=token).code == 1


def test_an_enrolment_reissued_by_the_administrator_lets_the_person_set_a_new_token_and_password(home):
    slip = home.ok("admin", "person", "enrol", "vs")
    assert "纸条" in slip.out
    from zoneinfo import ZoneInfo
    from sqlalchemy import create_engine, select
    from engine.adapters import tables as t
    from engine.domain.deadline_rules import aware
    engine = create_engine(f"sqlite:///{home.path}/jingzhun.db")
    with engine.connect() as conn:         # its expiry on the office's clock, whatever the machine's zone
        expires = aware(conn.execute(select(t.enrolment_codes.c.expires_at)).scalars().all()[-1])
    engine.dispose()
    assert f"有效至 {expires.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}" in slip.out
    activated = jingzhun(["--home", home.path, "--as", "vs", "activate", slip.last_line()],
                         env={"JINGZHUN_PASSWORD": "qingshan-2019"})
    assert activated.code == 0 and "密码已设置" in activated.out
    assert home("vs", "case", "list").code == 1                       # the old token is replaced
    assert home("vs", "case", "list", token=activated.last_line()).code == 0
    from engine.services.accounts import sign_in
    from entrypoints.bootstrap import make_app
    from engine.adapters.db import Settings
    app = make_app(Settings.from_env(str(home.path), None))
    try:
        assert sign_in(app, "vs", "qingshan-2019").code == "vs"
    finally:
        app.close()


# --- 1. the whole life of one household -------------------------------------------------------

def assert_whole_record(home: Home, detail: dict, scan: Path, head: str, spouse: str) -> None:
    """The consolidated household's record: every step by its person on its date, pairings, plan,
    notices, the confirmation file kept by its hash, ID numbers masked."""
    assert detail["stage"] == "consolidated"
    assert detail["attrs"]["transition_until"] == "2024-11-28"
    assert detail["pending"] == {"procedure": None, "step": None}
    procedures = WORKFLOW["procedures"]
    assert [p["kind"] for p in detail["procedures"]] == ["identification", "assistance", "exit", "consolidation"]
    for proc in detail["procedures"]:
        assert proc["status"] == "completed"
        assert [s["step"] for s in proc["steps"]] == [s["key"] for s in procedures[proc["kind"]]["steps"]]
        assert all(s["voided"] is None for s in proc["steps"])
    people = [(s["step"], s["person"]) for p in detail["procedures"] for s in p["steps"]]
    plan = IDENTIFICATION + ASSISTANCE + EXIT + CONSOLIDATION
    assert people == [(step, who) for who, _, step, *_ in plan]
    dates = [s["date"] for p in detail["procedures"] for s in p["steps"]]
    assert dates == [day for _, _, _, day, *_ in plan]
    assert [(p["person"], p["kind"]) for p in detail["pairings"]] == [("pc1", "first"), ("pc2", "second")]
    assert [(m["category"], m["description"]) for m in detail["measures"]] == [("industry", "养牛")]
    assert [(n["step"], n["start"], n["end"]) for n in detail["notices"] if not n["announcement"]] == [
        ("first_notice", "2019-03-01", "2019-03-08"), ("second_notice", "2019-03-08", "2019-03-15"),
        ("village_notice", "2019-11-20", "2019-11-27")]
    # and the county's announcements (公告) of the identification and of the exit, posted as documents too
    assert [n["step"] for n in detail["notices"] if n["announcement"]] == ["announcement", "announcement"]
    confirmation = next(e for e in detail["evidence"] if e["type"] == "household_confirmation")
    digest = hashlib.sha256(scan.read_bytes()).hexdigest()
    assert confirmation["file"] == digest and confirmation["file_name"] == "confirmation.pdf"
    assert (home.path / "evidence" / digest[:2] / digest).read_bytes() == scan.read_bytes()
    assert [m["id_number"] for m in detail["members"]] == [head[:6] + "********" + head[-4:],
                                                           spouse[:6] + "********" + spouse[-4:]]


def test_household_life_from_registration_to_consolidation(home, tmp_path):
    head, spouse = member_ids(2, 7)
    added = home.ok("vs", "household", "add", "--village", VILLAGE, "--member", f"王大山,{head},户主,,,,已参保,是",
                    "--member", f"李秀英,{spouse},spouse,normal,healthy,none,yes,yes", "--cause", "illness")
    case = int(added.last_line())
    assert f"案件 {case} 已登记" in added.out
    home.ok("vs", "evidence", "add", case, "application", "--field", "申请人=王大山",     # a field by its name
            "--field", "applied_on=2019-02-01")
    home.ok("vs", "evidence", "add", case, "income_check", "--field", "year=2018", "--field", "net_income=5000")

    identification = home.steps(case, IDENTIFICATION)
    assert f"案件 {case}：贫困识别 / 农户申请：完成（进行中）" in identification[0].out
    assert "，公示 " in identification[3].out
    assert "→ 已识别(建档立卡)" in identification[-1].out
    assert home.case(case)["stage"] == "identified"

    home.steps(case, ASSISTANCE)
    assert home.case(case)["stage"] == "assisted"

    home.ok("vs", "evidence", "add", case, "income_assessment", "--field", "year=2019",
            "--field", "net_income=10000")
    home.ok("vs", "evidence", "add", case, "two_assurances", "--field", "food=yes", "--field", "clothing=yes")
    home.ok("vs", "evidence", "add", case, "housing_safety", "--field", "grade=A")
    home.ok("vs", "evidence", "add", case, "drinking_water", "--field", "safe=true")
    scan = scan_file(tmp_path / "confirmation.pdf", "Wang Dashan confirms the household's exit")
    home.ok("pc1", "evidence", "add", case, "household_confirmation", "--field", "signed_on=2019-11-20",
            "--file", scan)

    exited = home.steps(case, EXIT)
    assert "→ 已脱贫" in exited[-1].out
    consolidated = home.steps(case, CONSOLIDATION)
    assert "→ 巩固期(过渡期)" in consolidated[-1].out

    detail = home.case(case)
    assert_whole_record(home, detail, scan, head, spouse)

    listed = home.ok("insp", "case", "list", "--json", "--stage", "consolidated").json()
    assert [(c["id"], c["stage"]) for c in listed] == [(case, "consolidated")]
    assert home.ok("insp", "case", "list", "--json", "--stage", "candidate").json() == []
    nxt = home.ok("insp", "case", "next", case, "--json").json()
    assert nxt["stage"] == "consolidated" and nxt["next"] is None
    assert "monitoring" in nxt["procedures_available"]
    assert nxt["version"] == detail["version"]
    said = home.ok("insp", "case", "next", case).out          # what may start, as the workflow offers it
    assert "防返贫监测识别" in said and "风险消除" not in said    # not monitored: nothing to eliminate
    # another procedure's first step, asked by name; one that may not start from the stage is refused
    monitoring = home.ok("insp", "case", "next", case, "--procedure", "monitoring", "--json").json()["next"]
    assert (monitoring["procedure"], monitoring["step"], monitoring["procedure_open"]) == ("monitoring", "clue", False)
    assert home.ok("insp", "case", "next", case, "--procedure=").out == home.ok("insp", "case", "next", case).out
    refused = home("insp", "case", "next", case, "--procedure", "exit")
    assert refused.code != 0 and "脱贫退出" in refused.out + refused.err and "Traceback" not in refused.out + refused.err


def test_case_next_names_the_step_the_roles_and_who_may_do_it(home, case):
    # as of the application's day (its 2018 income check is too old for an application made today)
    nxt = home.ok("insp", "case", "next", case, "--json", "--as-of", "2019-03-01").json()["next"]
    assert (nxt["procedure"], nxt["step"], nxt["procedure_open"]) == ("identification", "application", False)
    assert nxt["roles"] == ["village_secretary", "village_director"]
    assert [e["person"] for e in nxt["eligible"]] == ["vd", "vs"]
    assert nxt["blockers"] == []
    said = home.ok("insp", "case", "next", case).out.splitlines()     # a list in Chinese is joined with 、
    assert "  可办理的角色：村党支部书记、村委会主任" in said and any(s.startswith("  可办理的人：vd ") and "、vs " in s for s in said)
    home.steps(case, IDENTIFICATION, until="township_review")
    nxt = home.ok("insp", "case", "next", case, "--json").json()["next"]
    assert nxt["step"] == "township_review"
    assert sorted(nxt["excluded"]) == ["fs", "tl", "tm", "vd", "vs"]


def test_a_notice_must_run_its_days_before_the_next_step(home, case):
    home.steps(case, IDENTIFICATION, until="township_review")
    before = home.snapshot(case)
    early = home("ts1", "step", "identification", "township_review", case, "--date", "2019-03-07", "--approve")
    assert early.code == 1 and "[notice.running]" in early.err
    assert home.snapshot(case) == before
    home.ok("ts1", "step", "identification", "township_review", case, "--date", "2019-03-08", "--approve")


# --- 2. language ------------------------------------------------------------------------------

def test_labels_are_chinese_by_default_and_english_with_lang_en(home, case):
    zh = home.ok("vs", "step", "identification", "application", case, "--date", "2019-03-01")
    assert f"案件 {case}：贫困识别 / 农户申请：完成（进行中）" in zh.out
    en = home("vd", "step", "identification", "appraisal", case, "--date", "2019-03-01",
              "--attendance", "40", "--for", "35", "--against", "2", "--minutes", MINUTES, lang="en")
    assert en.code == 0, en.err
    assert f"case {case}: identification / democratic appraisal: approved (open)" in en.out
    shown_zh = home.ok("insp", "case", "show", case).out
    shown_en = home("insp", "case", "show", case, lang="en").out
    assert "贫困户" in shown_zh and "申请中" in shown_zh and "民主评议" in shown_zh
    header = next(line for line in shown_zh.splitlines() if line.startswith("姓名"))   # on 80 columns: whole
    assert header.split() == ["姓名", "关系", "劳动技能", "健康状况", "在校", "基本/大病参保", "身份证号"]
    assert "…" not in shown_zh
    assert "household" in shown_en and "applicant" in shown_en and "democratic appraisal" in shown_en
    assert "申请中" not in shown_en and "民主评议" not in shown_en


def test_times_are_printed_on_the_office_s_clock(home, case):
    """Evidence attached and steps recorded are printed in China's time (the demo's deadlines.yaml),
    as the web shows them, not as stored (UTC)."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo
    home.ok("vs", "step", "identification", "application", case, "--date", "2019-03-01")
    data = home.case(case)
    attached = datetime.fromisoformat(data["evidence"][0]["attached_at"])
    attached = attached if attached.tzinfo else attached.replace(tzinfo=timezone.utc)
    office, utc = (attached.astimezone(z).strftime("%Y-%m-%d %H:%M") for z in (ZoneInfo("Asia/Shanghai"), timezone.utc))
    assert office != utc
    shown = home.ok("insp", "case", "show", case).out
    traced = home.ok("insp", "trace", case).out
    assert office in shown and utc not in shown and office in traced and utc not in traced


def test_refusal_text_is_chinese_by_default_and_english_with_lang_en(home, case):
    home.steps(case, IDENTIFICATION, until="first_notice")
    args = ("step", "identification", "first_notice", case, "--date", "2019-03-01", "--days", "3")
    zh = home("fs", *args)
    en = home("fs", *args, lang="en")
    assert zh.code == en.code == 1
    assert "已拒绝 [notice.short]：公示期不足：3 天少于规定的 7 天" in zh.err
    assert "refused [notice.short]: notice too short: 3 days is less than the rule's 7 days" in en.err
    assert "公示期不足" not in en.err


def test_an_explicit_lang_option_wins_over_the_environment_for_refusals_too(home, case):
    home.steps(case, IDENTIFICATION, until="first_notice")
    argv = ["--home", home.path, "--lang", "zh", "--as", "fs", "step", "identification", "first_notice", case,
            "--date", "2019-03-01", "--days", "3"]
    result = jingzhun(argv, home.tokens["fs"], env={"JINGZHUN_LANG": "en"})
    assert result.code == 1
    assert "公示期不足" in result.err, "--lang zh was given, yet the refusal is in English"
    by_env = jingzhun(argv[:2] + argv[4:], home.tokens["fs"], env={"JINGZHUN_LANG": "en"})
    assert by_env.code == 1 and "notice too short" in by_env.err


def test_case_show_gives_an_items_fields_in_the_readers_words(home):
    case = home.register()
    shown = home.ok("vs", "case", "show", case).out
    assert "收支核查表：年度：2018、家庭纯收入：5000" in shown and "year=" not in shown, shown
    english = home("vs", "case", "show", str(case), lang="en").out
    assert "year: 2018, " in english.lower() and "年度" not in english, english


def test_the_case_list_names_each_village_and_json_keeps_its_code(home):
    case = home.register(seed=91)
    listed = home("vs", "case", "list")
    row = next(line.split("\t") for line in listed.out.splitlines() if line.startswith(f"{case}\t"))
    assert row[2] == "洋塘村"
    assert json.loads(home("vs", "case", "list", "--json").out)[0]["region"] == VILLAGE
