"""The `jingzhun` command line, driven the way a user drives it.

Most tests call `cli.main(argv)` in this process (fast) on a real SQLite file under tmp_path;
a few run the installed `jingzhun` command in a subprocess. One data home (regions and one
person per role, imported through the CLI from CSV) is built once per session and copied for
each test, because issuing tokens is slow on purpose (scrypt).

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
from entrypoints.bootstrap import make_app
from tests.world import (CITY, COUNTY, PROVINCE, ROLES, TOWNSHIP, TOWNSHIP2, VILLAGE, VILLAGE2, id_number,
                         member_ids)

JINGZHUN = shutil.which("jingzhun") or "/tmp/venv/bin/jingzhun"
ENV_VARS = ("JINGZHUN_HOME", "JINGZHUN_DB", "JINGZHUN_LANG", "JINGZHUN_AS", "JINGZHUN_CONFIG", "JINGZHUN_TOKEN")

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


@dataclass
class Home:
    """A data home and the tokens of its people; `home(who, *args)` runs `jingzhun --as who ...`."""
    path: Path
    tokens: dict[str, str]

    def __call__(self, who: str | None, *args: Any, lang: str | None = None, token: str | None = None) -> Result:
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
        case = int(self.ok(who, "household", "add", "--village", village, "--member", f"王大山{seed},{head}",
                           "--member", f"李秀英{seed},{spouse},spouse", "--cause", "因病").last_line())
        if evidence:
            self.ok(who, "evidence", "add", case, "application", "--field", f"applicant=王大山{seed}",
                    "--field", "applied_on=2019-02-01")
            self.ok(who, "evidence", "add", case, "income_check", "--field", "year=2018",
                    "--field", "net_income=5000")
        return case

    def steps(self, case: int, plan: list[tuple], until: str | None = None) -> list[Result]:
        """Do the steps of `plan` in order, stopping before the step `until`."""
        done = []
        for who, procedure, step, day, *extra in plan:
            if step == until:
                break
            done.append(self.ok(who, "step", procedure, step, case, "--date", day, *extra))
        return done


# The main path of one household, as the people of tests/world.py do it. Notices run 7 days.
IDENTIFICATION = [
    ("vs", "identification", "application", "2019-03-01"),
    ("vd", "identification", "appraisal", "2019-03-01", "--attendance", "40", "--for", "35", "--against", "2"),
    ("tl", "identification", "village_verification", "2019-03-01", "--verifier", "tm"),
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
    ("vd", "exit", "proposal", "2019-11-20", "--attendance", "38", "--for", "33", "--against", "1"),
    ("tl", "exit", "verification", "2019-11-20", "--verifier", "ts2", "--verifier", "ts3", "--verifier", "ts4"),
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
    tokens_file: Path


def _write_csv(path: Path, header: list[str], rows: list) -> Path:
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
    regions_csv = _write_csv(base / "regions.csv", ["code", "name"], REGIONS)
    region_import = jingzhun(admin + ["region", "import", regions_csv], admin_token)
    assert region_import.code == 0, region_import.err
    people_csv = _write_csv(base / "people.csv", ["code", "name", "role", "region"],
                            [(code, f"{role}-{code}", role, region) for code, (role, region) in ROLES.items()])
    tokens_file = base / "tokens.csv"
    person_import = jingzhun(admin + ["person", "import", people_csv, "--tokens-file", tokens_file], admin_token)
    assert person_import.code == 0, person_import.err
    tokens = dict(line.split(",", 1) for line in tokens_file.read_text(encoding="utf-8").splitlines())
    tokens["admin"] = admin_token
    with sqlite3.connect(home / "jingzhun.db") as conn:   # fold the WAL in so a plain copy is whole
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Template(home, tokens, init, init_again, region_import, person_import, tokens_file)


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


def test_person_import_writes_tokens_only_to_the_tokens_file_with_mode_600(template):
    assert stat.S_IMODE(template.tokens_file.stat().st_mode) == 0o600
    lines = template.tokens_file.read_text(encoding="utf-8").splitlines()
    assert sorted(line.split(",")[0] for line in lines) == sorted(ROLES)
    for code in ROLES:
        assert template.tokens[code] not in template.person_import.out
    assert f"令牌已写入 {template.tokens_file}" in template.person_import.out


def test_imported_tokens_log_in_and_a_new_token_replaces_the_old(home):
    assert home("vs", "case", "list", "--json").code == 0
    new = home.ok("admin", "person", "token", "vs").last_line()
    stale = home("vs", "case", "list")
    assert stale.code == 1 and "[auth.bad_token]" in stale.err
    assert home("vs", "case", "list", token=new).code == 0


# --- 1. the whole life of one household -------------------------------------------------------

def test_household_life_from_registration_to_consolidation(home, tmp_path):
    head, spouse = member_ids(2, 7)
    added = home.ok("vs", "household", "add", "--village", VILLAGE, "--member", f"王大山,{head},户主",
                    "--member", f"李秀英,{spouse},spouse,normal,healthy,none,yes,yes", "--cause", "illness")
    case = int(added.last_line())
    assert f"案件 {case} 已登记" in added.out
    home.ok("vs", "evidence", "add", case, "application", "--field", "applicant=王大山",
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
    scan = tmp_path / "confirmation.txt"
    scan.write_text("王大山 confirms the household's exit", encoding="utf-8")
    home.ok("pc1", "evidence", "add", case, "household_confirmation", "--field", "signed_on=2019-11-20",
            "--file", scan)

    exited = home.steps(case, EXIT)
    assert "→ 已脱贫" in exited[-1].out
    consolidated = home.steps(case, CONSOLIDATION)
    assert "→ 巩固期(过渡期)" in consolidated[-1].out

    detail = home.case(case)
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
    assert [(n["step"], n["start"], n["end"]) for n in detail["notices"]] == [
        ("first_notice", "2019-03-01", "2019-03-08"), ("second_notice", "2019-03-08", "2019-03-15"),
        ("village_notice", "2019-11-20", "2019-11-27")]
    confirmation = next(e for e in detail["evidence"] if e["type"] == "household_confirmation")
    digest = hashlib.sha256(scan.read_bytes()).hexdigest()
    assert confirmation["file"] == digest and confirmation["file_name"] == "confirmation.txt"
    assert (home.path / "evidence" / digest[:2] / digest).read_bytes() == scan.read_bytes()
    assert [m["id_number"] for m in detail["members"]] == [head[:6] + "********" + head[-4:],
                                                           spouse[:6] + "********" + spouse[-4:]]

    listed = home.ok("insp", "case", "list", "--json", "--stage", "consolidated").json()
    assert [(c["id"], c["stage"]) for c in listed] == [(case, "consolidated")]
    assert home.ok("insp", "case", "list", "--json", "--stage", "candidate").json() == []
    nxt = home.ok("insp", "case", "next", case, "--json").json()
    assert nxt["stage"] == "consolidated" and nxt["next"] is None
    assert "monitoring" in nxt["procedures_available"]
    assert nxt["version"] == detail["version"]


def test_case_next_names_the_step_the_roles_and_who_may_do_it(home, case):
    nxt = home.ok("insp", "case", "next", case, "--json").json()["next"]
    assert (nxt["procedure"], nxt["step"], nxt["procedure_open"]) == ("identification", "application", False)
    assert nxt["roles"] == ["village_secretary", "village_director"]
    assert [e["person"] for e in nxt["eligible"]] == ["vd", "vs"]
    assert nxt["blockers"] == []
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
              "--attendance", "40", "--for", "35", "--against", "2", lang="en")
    assert en.code == 0, en.err
    assert f"case {case}: identification / democratic appraisal: approved (open)" in en.out
    shown_zh = home.ok("insp", "case", "show", case).out
    shown_en = home("insp", "case", "show", case, lang="en").out
    assert "贫困户" in shown_zh and "申请中" in shown_zh and "民主评议" in shown_zh
    assert "household" in shown_en and "applicant" in shown_en and "democratic appraisal" in shown_en
    assert "申请中" not in shown_en and "民主评议" not in shown_en


def test_refusal_text_is_chinese_by_default_and_english_with_lang_en(home, case):
    home.steps(case, IDENTIFICATION, until="first_notice")
    args = ("step", "identification", "first_notice", case, "--date", "2019-03-01", "--days", "3")
    zh = home("fs", *args)
    en = home("fs", *args, lang="en")
    assert zh.code == en.code == 1
    assert "refused [notice.short]: 公示期不足：3 天少于规定的 7 天" in zh.err
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


# --- 3. exit codes and refusals that write nothing --------------------------------------------

def test_a_refusal_exits_1_names_the_rule_and_writes_nothing(home, case):
    before = home.snapshot(case)
    refused = home("vs", "step", "identification", "appraisal", case, "--date", "2019-03-01",
                   "--attendance", "40", "--for", "35", "--against", "2")
    assert refused.code == 1
    assert refused.err.startswith(f"已拒绝 [step.order]：步骤顺序错误：案件 {case} ")
    assert refused.out == ""
    assert home.snapshot(case) == before


@pytest.mark.parametrize("args, message", [
    (["step", "identification", "application", "{case}", "--dat", "2019-03-01"], "No such option"),
    (["evidence", "add", "{case}"], "Missing argument"),
    (["step", "identification", "application"], "Missing argument"),
    (["step", "identification", "application", "{case}", "--date", "2019-13-01"], "[input.bad_date]"),
    (["step", "identification", "application", "{case}", "--date", "1.3.2019"], "[input.bad_date]"),
    (["step", "assistance", "plan", "{case}", "--measure", "养牛"], "CATEGORY:DESCRIPTION"),
    (["household", "add", "--village", VILLAGE, "--member", "赵四", "--cause", "illness"], "NAME,ID"),
    (["household", "add", "--village", VILLAGE, "--cause", "illness"], "Missing option '--member'"),
    (["evidence", "add", "{case}", "income_check", "--field", "year"], "NAME=VALUE"),
    (["evidence", "add", "{case}", "two_assurances", "--field", "food=maybe", "--field", "clothing=yes"],
     "[evidence.bad_field]"),
    (["case", "show", "notanumber"], "is not a valid integer"),
    (["case", "show", "999"], "[case.unknown]"),
], ids=["unknown-option", "missing-etype", "missing-case", "month-13", "not-iso-date", "measure-no-colon",
        "member-without-id", "no-member", "field-without-equals", "bad-bool",
        "case-not-int", "unknown-case"])
def test_bad_usage_or_input_exits_2_and_writes_nothing(home, case, args, message):
    argv = [a.replace("{case}", str(case)) for a in args]
    before = home.snapshot(case)
    result = home("vs", *argv)
    assert result.code == 2, result.err
    assert message in result.err
    assert home.snapshot(case) == before


def test_bad_id_number_check_digit_is_refused_as_bad_input(home):
    good = id_number("36213119600101123")
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = home.snapshot()
    result = home("vs", "household", "add", "--village", VILLAGE, "--member", f"赵四,{wrong}", "--cause", "因病",
                  lang="en")
    assert result.code == 2
    assert "error [member.bad_id]" in result.err and wrong in result.err
    assert home.snapshot() == before
    assert home("vs", "household", "add", "--village", VILLAGE, "--member", f"赵四,{good}",
                "--cause", "因病").code == 0


def test_a_refused_batch_step_writes_nothing_for_any_case(home):
    first, second = home.register(seed=1), home.register(seed=2)
    home.ok("vs", "step", "identification", "application", first, "--date", "2019-03-01")
    before = home.snapshot(first), home.snapshot(second)
    batch = home("vd", "step", "identification", "application", second, first, "--date", "2019-03-01")
    assert batch.code == 1 and "[step.order]" in batch.err
    assert (home.snapshot(first), home.snapshot(second)) == before


def test_the_installed_command_exits_1_on_a_refusal_and_2_on_bad_usage(tmp_path):
    home = tmp_path / "home"
    init = run_installed("--home", str(home), "init")
    assert init.returncode == 0, init.stderr
    token = init.stdout.strip().splitlines()[-1]
    added = run_installed("--home", str(home), "--as", "admin", "region", "add", PROVINCE, "江西省", token=token)
    assert added.returncode == 0, added.stderr
    listed = run_installed("--home", str(home), "--as", "admin", "region", "list", "--json", token=token)
    assert listed.returncode == 0 and [r["code"] for r in json.loads(listed.stdout)] == ["000000000000", PROVINCE]

    refused = run_installed("--home", str(home), "--as", "admin", "region", "add", PROVINCE, "again", token=token)
    assert refused.returncode == 2 and "[region.exists]" in refused.stderr
    wrong = run_installed("--home", str(home), "--as", "admin", "--lang", "en", "region", "add", CITY, "赣州市",
                          token=token + "x")
    assert wrong.returncode == 1
    assert "refused [auth.bad_token]: authentication failed: person admin" in wrong.stderr
    usage = run_installed("--home", str(home), "region", "add", CITY)
    assert usage.returncode == 2 and "Missing argument" in usage.stderr
    with sqlite3.connect(home / "jingzhun.db") as conn:
        assert [r[0] for r in conn.execute("SELECT code FROM regions ORDER BY code")] == ["000000000000", PROVINCE]


# --- 4. authentication and read-only roles ----------------------------------------------------

@pytest.mark.parametrize("who, token, rule", [
    (None, None, "auth.no_person"),
    ("vs", "", "auth.no_token"),
    ("vs", "not-the-token", "auth.bad_token"),
    ("nobody", "not-a-token", "auth.bad_token"),
], ids=["no-as", "no-token", "wrong-token", "unknown-person"])
def test_unauthenticated_commands_are_refused_and_write_nothing(home, case, who, token, rule):
    before = home.snapshot(case)
    for args in (["evidence", "add", case, "housing_safety", "--field", "grade=A"],
                 ["step", "identification", "application", case, "--date", "2019-03-01"],
                 ["household", "add", "--village", VILLAGE, "--member", f"赵四,{id_number('36213119600101123')}",
                  "--cause", "illness"],
                 ["case", "show", case]):
        result = home(who, *args, token=token)
        assert result.code == 1, (args, result.err)
        assert f"refused [{rule}]" in result.err
        assert result.out == ""
    assert home.snapshot(case) == before


def test_an_inspector_may_read_cases(home, case):
    shown = home.ok("insp", "case", "show", case, "--json").json()
    assert shown["id"] == case and shown["stage"] == "candidate"
    assert home.ok("insp", "case", "next", case, "--json").json()["next"]["step"] == "application"
    assert [c["id"] for c in home.ok("insp", "case", "list", "--json").json()] == [case]
    assert home.ok("insp", "case", "show", case).out.startswith(f"案件 {case} 贫困户")


@pytest.mark.parametrize("args", [
    ["household", "add", "--village", VILLAGE, "--member", f"赵四,{id_number('36213119600101123')}",
     "--cause", "illness"],
    ["evidence", "add", "{case}", "housing_safety", "--field", "grade=A"],
    ["step", "identification", "application", "{case}", "--date", "2019-03-01"],
    ["household", "relative", "{case}", "ts1", "表兄"],
    ["region", "add", "360730100202", "新村"],
    ["person", "add", "new", "新人", "--role", f"village_secretary:{VILLAGE}"],
    ["person", "grant", "vs", "village_director", VILLAGE],
    ["person", "revoke", "vs", "village_secretary", VILLAGE],
    ["person", "token", "vs"],
], ids=["household-add", "evidence-add", "step", "relative", "region-add", "person-add", "person-grant",
        "person-revoke", "person-token"])
def test_an_inspector_cannot_write(home, case, args):
    before = home.snapshot(case)
    result = home("insp", *[str(a).replace("{case}", str(case)) for a in args])
    assert result.code == 1, result.err
    assert "refused [auth.read_only]" in result.err
    assert home.snapshot(case) == before


# --- 5. what is waiting for me ----------------------------------------------------------------

def test_case_list_waiting_shows_only_cases_whose_next_step_my_roles_may_do(home):
    at_application = home.register(seed=1)
    other_village = home.register(village=VILLAGE2, seed=2)
    at_review = home.register(seed=3)
    home.steps(at_review, IDENTIFICATION, until="township_review")

    def waiting(who: str) -> list[int]:
        return [c["id"] for c in home.ok(who, "case", "list", "--waiting", "--json").json()]

    assert waiting("vs") == [at_application]           # application: village secretary or director
    assert waiting("vd") == [at_application]
    assert waiting("vs2") == [other_village]           # the same step, in the other village only
    assert waiting("ts1") == [at_review]               # township review, under the township
    assert waiting("ts_other") == []                   # a township staff of the other township
    assert waiting("cd") == []                         # county approval comes later
    assert waiting("insp") == []                       # read-only: nothing to do
    everything = [c["id"] for c in home.ok("insp", "case", "list", "--json").json()]
    assert everything == sorted([at_application, other_village, at_review])
    rows = home.ok("ts1", "case", "list", "--waiting", "--json").json()
    assert (rows[0]["pending_procedure"], rows[0]["pending_step"]) == ("identification", "township_review")


# --- 6. an older database schema --------------------------------------------------------------

def test_a_database_with_an_older_schema_asks_to_run_init(home):
    with sqlite3.connect(home.db) as conn:
        conn.execute("UPDATE alembic_version SET version_num='0000'")
    before = home.count("audit_events")
    result = home("vs", "case", "list")
    assert result.code not in (0, None)
    assert "[schema.outdated]" in result.err and "jingzhun init" in result.err
    english = home("vs", "case", "list", lang="en")
    assert english.code == result.code and "run `jingzhun init`" in english.err
    assert home.count("audit_events") == before


# --- 7. configuration -------------------------------------------------------------------------

def _config_copy(tmp_path: Path, name: str = "config") -> Path:
    target = tmp_path / name
    shutil.copytree(CONFIG_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def test_config_check_accepts_the_packaged_configuration():
    result = jingzhun(["config", "check"], reload_config=True)
    assert result.code == 0, result.err
    assert "配置检查通过" in result.out and "household v1" in result.out


def test_config_check_accepts_an_unchanged_copy(tmp_path):
    result = jingzhun(["config", "check", "--dir", _config_copy(tmp_path)])
    assert result.code == 0, result.err


@pytest.mark.parametrize("old, new, key", [
    ("  appraisal_quorum: 0.5 ", "  # appraisal_quorum removed ", "defaults.appraisal_quorum"),
    ('  "36":\n', '  "3":\n', "provinces.3"),
    ("  2019: 3218\n", "  2019: -3218\n", "national_income_line.2019"),
], ids=["quorum-removed", "province-key-3", "negative-income-line"])
def test_config_check_names_the_file_and_key_of_a_wrong_policy(tmp_path, old, new, key):
    config = _config_copy(tmp_path)
    policy = config / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert old in text
    policy.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = jingzhun(["config", "check", "--dir", config])
    assert result.code == 2
    assert f"{policy}: key {key}:" in result.err
    with_dir = jingzhun(["config", "check", "--dir", config])
    assert with_dir.code == 2 and f"{policy}: key {key}:" in with_dir.err


def test_a_wrong_configuration_in_the_data_home_stops_every_command_with_exit_2(home, tmp_path):
    config = _config_copy(Path(home.path))          # as if the installed rules were damaged by hand
    roles = config / "roles.yaml"
    roles.write_text(roles.read_text(encoding="utf-8").replace("level: village,  zh: 村党支部书记",
                                                               "level: hamlet,  zh: 村党支部书记"), encoding="utf-8")
    result = jingzhun(["--home", home.path, "--as", "vs", "case", "list"], home.tokens["vs"])
    assert result.code == 2
    assert f"{roles}: key roles.village_secretary.level:" in result.err


def test_config_error_names_the_file_even_when_its_folder_name_has_brackets(tmp_path):
    # Rich console markup would read "[backup]" as a style tag and drop it from the message.
    config = _config_copy(tmp_path, "config[backup]")
    policy = config / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("  appraisal_quorum: 0.5", "  #"), encoding="utf-8")
    result = jingzhun(["config", "check", "--dir", config])
    assert result.code == 2
    assert f"{policy}: key defaults.appraisal_quorum:" in result.err


def test_only_an_administrator_installs_rules_and_later_steps_record_them(home, tmp_path):
    config = _config_copy(tmp_path)
    policy = config / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace('version: "2019.1"', 'version: "2019.2"')
                      .replace("household_identification: 7", "household_identification: 10"), encoding="utf-8")
    refused = jingzhun(["--home", home.path, "--as", "vs", "config", "install", str(config)], home.tokens["vs"])
    assert refused.code == 1 and "auth." in refused.err
    done = jingzhun(["--home", home.path, "--as", "admin", "config", "install", str(config)], home.tokens["admin"])
    assert done.code == 0, done.err
    assert "2019.2#" in done.out
    shown = jingzhun(["--home", home.path, "config", "show", "--province", "36", "--year", "2019"])
    assert json.loads(shown.out)["params"]["notice_days"]["household_identification"] == 10
    with sqlite3.connect(Path(home.path) / "jingzhun.db") as db:
        versions = [r[0] for r in db.execute("SELECT version FROM policy_versions")]
        installed = db.execute("SELECT detail FROM audit_events WHERE action = 'config_installed'").fetchall()
    assert any(v.startswith("2019.2#") for v in versions) and len(installed) == 1


# --- 8. imports are all or nothing ------------------------------------------------------------

@pytest.mark.parametrize("third_row, rule", [
    (["36073010220", "短码村"], "region.bad_code"),
    (["360730102202"], "csv.short_row"),
    (["360730109201", "无上级村"], "region.no_parent"),
    (["360730102202", ""], "region.no_name"),
], ids=["eleven-digits", "short-row", "no-parent", "no-name"])
def test_region_import_with_a_malformed_third_row_writes_no_row(home, tmp_path, third_row, rule):
    rows = [["360730102000", "黄石镇"], ["360730102201", "黄石村"], third_row, ["360730102203", "后村"]]
    path = _write_csv(tmp_path / "regions.csv", ["code", "name"], rows)
    before = home.snapshot()
    listed = home.ok("admin", "region", "list", "--json").json()
    result = home("admin", "region", "import", path)
    assert result.code == 2
    assert f"[{rule}]" in result.err
    assert home.snapshot() == before
    assert home.ok("admin", "region", "list", "--json").json() == listed


def test_region_import_without_the_name_column_is_refused(home, tmp_path):
    path = _write_csv(tmp_path / "regions.csv", ["code"], [["360730102000"]])
    before = home.snapshot()
    result = home("admin", "region", "import", path)
    assert result.code == 2 and "[csv.columns]" in result.err
    assert home.snapshot() == before


def test_person_import_with_an_unknown_role_writes_no_person_and_no_tokens_file(home, tmp_path):
    path = _write_csv(tmp_path / "people.csv", ["code", "name", "role", "region"],
                      [["p1", "甲", "village_secretary", VILLAGE], ["p2", "乙", "village_mayor", VILLAGE]])
    tokens_file = tmp_path / "new-tokens.csv"
    before = home.snapshot()
    result = home("admin", "person", "import", path, "--tokens-file", tokens_file)
    assert result.code == 2 and "[role.unknown]" in result.err
    assert home.snapshot() == before
    assert not tokens_file.exists()


def test_person_import_tokens_file_is_private_even_when_the_file_already_existed(home, tmp_path):
    path = _write_csv(tmp_path / "people.csv", ["code", "name", "role", "region"],
                      [["p1", "甲", "village_secretary", VILLAGE2]])
    tokens_file = tmp_path / "tokens.csv"
    tokens_file.write_text("old tokens\n", encoding="utf-8")
    tokens_file.chmod(0o644)
    home.ok("admin", "person", "import", path, "--tokens-file", tokens_file)
    assert tokens_file.read_text(encoding="utf-8").startswith("p1,")
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600


def test_person_import_that_cannot_write_its_tokens_file_fails_cleanly_and_creates_nobody(home, tmp_path):
    path = _write_csv(tmp_path / "people.csv", ["code", "name", "role", "region"],
                      [["p1", "甲", "village_secretary", VILLAGE2]])
    before = home.snapshot()
    result = home("admin", "person", "import", path, "--tokens-file", tmp_path / "no-such-dir" / "tokens.csv")
    assert result.code == 2, result.err
    assert home.snapshot() == before, "the people were created but nobody ever saw their tokens"


# --- 9. optimistic locking --------------------------------------------------------------------

def test_evidence_add_with_a_stale_expected_version_is_refused(home):
    case = home.register(evidence=False)
    read = home.case(case)["version"]
    home.ok("vd", "evidence", "add", case, "income_check", "--field", "year=2018", "--field", "net_income=5000")
    before = home.snapshot(case)
    assert before[0] == read + 1
    stale = home("vs", "evidence", "add", case, "application", "--field", "applicant=王大山1",
                 "--field", "applied_on=2019-02-01", "--expect-version", read)
    assert stale.code == 1
    assert f"refused [case.changed]: 案件 {case} 已被他人修改" in stale.err
    assert home.snapshot(case) == before
    home.ok("vs", "evidence", "add", case, "application", "--field", "applicant=王大山1",
            "--field", "applied_on=2019-02-01", "--expect-version", read + 1)
    assert home.case(case)["version"] == read + 2


def test_step_with_a_stale_expected_version_is_refused(home, case):
    version = home.case(case)["version"]
    home.ok("vs", "step", "identification", "application", case, "--date", "2019-03-01")
    before = home.snapshot(case)
    stale = home("vd", "step", "identification", "appraisal", case, "--date", "2019-03-01", "--attendance", "40",
                 "--for", "35", "--against", "2", "--expect-version", version)
    assert stale.code == 1 and "[case.changed]" in stale.err
    assert home.snapshot(case) == before


# --- other refusals a user meets -------------------------------------------------------------

def test_the_same_person_may_not_sign_two_steps_of_one_procedure(home, case):
    home.ok("vs", "step", "identification", "application", case, "--date", "2019-03-01")
    before = home.snapshot(case)
    again = home("vs", "step", "identification", "appraisal", case, "--date", "2019-03-01",
                 "--attendance", "40", "--for", "35", "--against", "2")
    assert again.code == 1 and "[duty.same_person]" in again.err
    assert home.snapshot(case) == before


def test_a_village_cadre_cannot_act_in_another_village(home):
    case = home.register(village=VILLAGE2)
    before = home.snapshot(case)
    result = home("vs", "step", "identification", "application", case, "--date", "2019-03-01")
    assert result.code == 1 and "[auth.jurisdiction]" in result.err
    assert home("vs", "case", "show", case).code == 1
    assert home.snapshot(case) == before


def test_a_step_dated_in_the_future_is_refused(home, case):
    before = home.snapshot(case)
    result = home("vs", "step", "identification", "application", case, "--date", "2999-01-01")
    assert result.code == 1 and "[date.future]" in result.err
    assert home.snapshot(case) == before


def test_a_refused_list_prints_no_partial_json(home):
    home.register(village=VILLAGE2)
    result = home("vs", "case", "list", "--json", "--region", VILLAGE2)
    assert result.code == 1 and json.loads(result.err)["error"] == "auth.jurisdiction"
    assert result.out == "", "stdout must not carry the start of a JSON list the command then refused"
