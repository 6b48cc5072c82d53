"""The `jingzhun` command line, continued: exit codes and refusals that write nothing, authentication
and read-only roles, what is waiting for me, configuration, all-or-nothing imports, optimistic locking.
The running helpers and the session's data home are in tests/test_cli.py."""
from __future__ import annotations

import json
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
import yaml

from config import CONFIG_DIR
from tests.test_cli import IDENTIFICATION, MINUTES, write_csv, jingzhun, run_installed
from tests.test_cli import case, home, template  # noqa: F401  (fixtures)
from tests.world import CITY, PROVINCE, VILLAGE, VILLAGE2, id_number


# --- 3. exit codes and refusals that write nothing --------------------------------------------

def test_a_refusal_exits_1_names_the_rule_and_writes_nothing(home, case):
    before = home.snapshot(case)
    refused = home("vs", "step", "identification", "appraisal", case, "--date", "2019-03-01",
                   "--attendance", "40", "--for", "35", "--against", "2", "--minutes", MINUTES)
    assert refused.code == 1
    assert refused.err.startswith(f"已拒绝 [step.order]：步骤顺序错误：案件 {case} ")
    assert refused.out == ""
    assert home.snapshot(case) == before


@pytest.mark.parametrize("args, message", [
    (["step", "identification", "application", "{case}", "--dat", "2019-03-01"], "没有选项 --dat（是不是要用 --date"),
    (["evidence", "add", "{case}"], "缺少参数 ETYPE"),
    (["step", "identification", "application"], "请给出案件编号，或用 `--region`"),
    (["step", "identification", "application", "{case}", "--date", "2019-13-01"], "[input.no_such_day]"),
    (["step", "identification", "application", "{case}", "--date", "1.3.2019"], "[input.bad_date]"),
    (["step", "assistance", "plan", "{case}", "--measure", "养牛"], "请写成「类别：内容」"),
    (["household", "add", "--village", VILLAGE, "--member", "赵四", "--cause", "illness"], "'赵四'：请写成「姓名,身份证号[,与户主关系,劳动技能"),
    (["household", "add", "--village", VILLAGE, "--cause", "illness"], "缺少必填的选项 --member"),
    (["evidence", "add", "{case}", "income_check", "--field", "year"], "请写成「字段名=值」"),
    (["evidence", "add", "{case}", "two_assurances", "--field", "food=maybe", "--field", "clothing=yes"],
     "[evidence.bad_field]"),
    (["case", "show", "notanumber"], "CASE_ID 须为数字，给出的是“notanumber”"),
    (["case", "show", "999"], "[case.unknown]"),
    # both of two flags that exclude each other: click took the last one given, silently
    (["step", "identification", "application", "{case}", "--approve", "--reject"], "--approve / --reject 只能给出其中一个"),
    (["notice", "resolve", "1", "--dismiss", "--uphold", "--reason", "x"], "--uphold / --dismiss 只能给出其中一个"),
    # an input of another step type, said by its name and the step type's (it said "（record）不接受 verifiers")
    (["step", "identification", "application", "{case}", "--verifier", "ts1"], "不接受 核实人"),
    # a rule no deadline has: refused with the rules (it listed nothing, exit 0)
    (["deadline", "list", "--rule", "nosuch"], "时限规则无法识别 'nosuch'"),
], ids=["unknown-option", "missing-etype", "missing-case", "month-13", "not-iso-date", "measure-no-colon",
        "member-without-id", "no-member", "field-without-equals", "bad-bool",
        "case-not-int", "unknown-case", "approve-and-reject", "uphold-and-dismiss", "input-of-another-step",
        "unknown-deadline-rule"])
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
    assert "error [member.bad_id]" in result.err and wrong[-4:] in result.err and wrong not in result.err
    assert home.snapshot() == before
    assert home("vs", "household", "add", "--village", VILLAGE, "--member", f"赵四,{good}",
                "--cause", "因病").code == 0


def test_a_refused_batch_step_writes_nothing_for_any_case(home):
    first, second = home.register(seed=1), home.register(seed=2)
    home.ok("vs", "step", "identification", "application", first, "--date", "2019-03-01")
    before = home.snapshot(first), home.snapshot(second)
    batch = home("vd", "step", "identification", "application", second, first, "--date", "2019-03-01")
    assert batch.code == 1 and "[step.done]" in batch.err and "「农户申请」已由 " in batch.err   # done by vs already
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
    assert usage.returncode == 2 and "错误 [usage]：命令行有误：缺少参数 NAME" in usage.stderr
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
        assert f"已拒绝 [{rule}]" in result.err
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
    ["household", "relative", "{case}", "ts1", "表兄", "--reason", "本人申报"],
    ["region", "add", "360730100202", "新村"],
    ["person", "add", "new", "新人", "--role", f"village_secretary:{VILLAGE}"],
    ["person", "grant", "vs", "village_director", VILLAGE],
    ["person", "revoke", "vs", "village_secretary", VILLAGE],
    ["person", "enrol", "vs"],
], ids=["household-add", "evidence-add", "step", "relative", "region-add", "person-add", "person-grant",
        "person-revoke", "person-enrol"])
def test_an_inspector_cannot_write(home, case, args):
    before = home.snapshot(case)
    result = home("insp", *[str(a).replace("{case}", str(case)) for a in args])
    assert result.code == 1, result.err
    assert "已拒绝 [auth.read_only]" in result.err
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


def test_config_check_and_show_warn_of_a_provincial_income_line_the_policy_lacks(tmp_path):
    """policy.yaml gives Jiangxi's lines up to 2019 and the national table a 2020 line: `config check`
    warns, in the reader's language, that Jiangxi's 2020 line is not configured, that its 2020 checks
    are judged on the national line, and where to add it (it said nothing); `config show --province 36
    --year 2020` says the same beside the line it shows. A province giving no line of its own (陕西
    follows the national line) and a year before Jiangxi's first (2013) are not warned of; once the
    2020 line is added, nothing is."""
    config = _config_copy(tmp_path)
    checked = jingzhun(["config", "check", "--dir", config])
    assert checked.code == 0, checked.err
    assert [line for line in checked.err.splitlines() if "标准线" in line] == [
        "警告：江西（36）未配置 2020 年的省定收入标准线，而国家标准表有该年：该省 2020 年的识别、退出和返贫判定"
        "将按国家标准线 4,000 元进行。请在 `policy.yaml` 的 `provinces.36.income_line` 中补充该省公布的 2020 年标准线。"]
    english = jingzhun(["--lang", "en", "config", "check", "--dir", config])
    assert "warning: 江西 (36) has no provincial income line for 2020" in english.err, english.err
    assert "national line (4,000 yuan)" in english.err and "2013" not in english.err and "陕西" not in english.err
    shown = jingzhun(["config", "show", "--dir", config, "--province", "36", "--year", "2020"])
    assert shown.code == 0 and yaml.safe_load(shown.out)["income_line"] == 4000
    assert "江西（36）未配置 2020 年的省定收入标准线" in shown.err, shown.err
    on_its_line = jingzhun(["config", "show", "--dir", config, "--province", "36", "--year", "2019"])
    assert yaml.safe_load(on_its_line.out)["income_line"] == 3747 and "标准线" not in on_its_line.err
    policy = config / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("2019: 3747}", "2019: 3747, 2020: 4100}"),
                      encoding="utf-8")
    added = jingzhun(["config", "check", "--dir", config])
    assert added.code == 0 and "标准线" not in added.err, added.err


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
    assert f"{policy}，键 {key}：" in result.err
    with_dir = jingzhun(["config", "check", "--dir", config])
    assert with_dir.code == 2 and f"{policy}，键 {key}：" in with_dir.err


def test_a_wrong_configuration_in_the_data_home_stops_every_command_with_exit_2(home, tmp_path):
    config = _config_copy(Path(home.path))          # as if the installed rules were damaged by hand
    roles = config / "roles.yaml"
    roles.write_text(roles.read_text(encoding="utf-8").replace("level: village,  zh: 村党支部书记",
                                                               "level: hamlet,  zh: 村党支部书记"), encoding="utf-8")
    result = jingzhun(["--home", home.path, "--as", "vs", "case", "list"], home.tokens["vs"])
    assert result.code == 2
    assert f"{roles}，键 roles.village_secretary.level：" in result.err


def test_config_error_names_the_file_even_when_its_folder_name_has_brackets(tmp_path):
    # Rich console markup would read "[backup]" as a style tag and drop it from the message.
    config = _config_copy(tmp_path, "config[backup]")
    policy = config / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("  appraisal_quorum: 0.5", "  #"), encoding="utf-8")
    result = jingzhun(["config", "check", "--dir", config])
    assert result.code == 2
    assert f"{policy}，键 defaults.appraisal_quorum：" in result.err


def test_only_an_administrator_installs_rules_and_later_steps_record_them(home, tmp_path):
    config = _config_copy(tmp_path)
    policy = config / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace('version: "2020.1"', 'version: "2020.2"')
                      .replace("household_identification: 7", "household_identification: 10"), encoding="utf-8")
    refused = jingzhun(["--home", home.path, "--as", "vs", "config", "install", str(config)], home.tokens["vs"])
    assert refused.code == 1 and "auth." in refused.err
    done = jingzhun(["--home", home.path, "--as", "admin", "config", "install", str(config)], home.tokens["admin"])
    assert done.code == 0, done.err
    assert "2020.2#" in done.out
    shown = jingzhun(["--home", home.path, "config", "show", "--province", "36", "--year", "2019", "--json"])
    assert json.loads(shown.out)["params"]["notice_days"]["household_identification"] == 10
    as_written = jingzhun(["--home", home.path, "config", "show", "--province", "36", "--year", "2019"])
    assert yaml.safe_load(as_written.out) == json.loads(shown.out)      # read as its files are written: YAML
    assert "household_identification: 10" in as_written.out and "{" not in as_written.out.splitlines()[0]
    alone = jingzhun(["--home", home.path, "config", "show", "--year", "2019"])       # was ignored: the whole config
    assert alone.code == 2 and "--year 须与 --province 一起给出" in alone.err and not alone.out
    with sqlite3.connect(Path(home.path) / "jingzhun.db") as db:
        versions = [r[0] for r in db.execute("SELECT version FROM policy_versions")]
        installed = db.execute("SELECT detail FROM audit_events WHERE action = 'config_installed'").fetchall()
    assert any(v.startswith("2020.2#") for v in versions) and len(installed) == 1
    import os
    import stat
    modes = {stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode) for d, dirs, files in os.walk(Path(home.path) / "config")
             for n in dirs + files} | {stat.S_IMODE(os.stat(Path(home.path) / "config").st_mode)}
    assert modes <= {0o700, 0o600}, sorted(oct(m) for m in modes)       # as the home's other folders


# --- 8. imports are all or nothing ------------------------------------------------------------

@pytest.mark.parametrize("third_row, rule", [
    (["36073010220", "短码村"], "第 4 行，区划代码：区域代码须为12位数字"),
    (["360730102202"], "[csv.short_row]"),
    (["360730109201", "无上级村"], "第 4 行，区划代码：区域 360730109201 的上级 360730109000 不存在"),
    (["360730102202", ""], "第 4 行，名称："),
], ids=["eleven-digits", "short-row", "no-parent", "no-name"])
def test_region_import_with_a_malformed_third_row_writes_no_row(home, tmp_path, third_row, rule):
    rows = [["360730102000", "黄石镇"], ["360730102201", "黄石村"], third_row, ["360730102203", "后村"]]
    path = write_csv(tmp_path / "regions.csv", ["code", "name"], rows)
    before = home.snapshot()
    listed = home.ok("admin", "region", "list", "--json").json()
    result = home("admin", "region", "import", path)
    assert result.code == 2
    assert rule in result.err
    assert home.snapshot() == before
    assert home.ok("admin", "region", "list", "--json").json() == listed


def test_region_import_without_the_name_column_is_refused(home, tmp_path):
    path = write_csv(tmp_path / "regions.csv", ["code"], [["360730102000"]])
    before = home.snapshot()
    result = home("admin", "region", "import", path)
    assert result.code == 2 and "[csv.columns" in result.err and "找到的表头是：code" in result.err
    assert home.snapshot() == before


def test_person_import_with_an_unknown_role_writes_no_person_and_no_codes_file(home, tmp_path):
    path = write_csv(tmp_path / "people.csv", ["code", "name", "role", "region"],
                      [["p1", "甲", "village_secretary", VILLAGE], ["p2", "乙", "village_mayor", VILLAGE]])
    tokens_file = tmp_path / "new-tokens.csv"
    before = home.snapshot()
    result = home("admin", "person", "import", path, "--codes-file", tokens_file)
    assert result.code == 2 and "第 3 行，岗位：" in result.err and "[sheets.bad_rows]" in result.err
    assert home.snapshot() == before
    assert not tokens_file.exists()


def test_a_person_or_region_list_with_only_its_header_is_refused_as_a_household_list_is(home, tmp_path):
    """It said 已导入人员 0 名 (and wrote an empty codes file), or nothing at all for regions, with exit 0."""
    people = write_csv(tmp_path / "人员.csv", ["code", "name", "role", "region"], [])
    regions = write_csv(tmp_path / "区划.csv", ["区划代码", "名称"], [])
    codes = tmp_path / "codes.csv"
    before = home.snapshot()
    result = home("admin", "person", "import", people, "--codes-file", codes)
    assert result.code == 2 and "人员.csv 中没有数据行（只有表头），没有导入任何人员" in result.err, result.err
    assert not codes.exists() and "已导入" not in result.out
    result = home("admin", "region", "import", regions, lang="en")
    assert result.code == 2 and "区划.csv has no data rows (only a header): no region was imported" in result.err
    assert home.snapshot() == before


def test_person_import_codes_file_is_private_even_when_the_file_already_existed(home, tmp_path):
    path = write_csv(tmp_path / "people.csv", ["code", "name", "role", "region"],
                      [["p1", "甲", "village_secretary", VILLAGE2]])
    tokens_file = tmp_path / "tokens.csv"
    tokens_file.write_text("old tokens\n", encoding="utf-8")
    tokens_file.chmod(0o644)
    home.ok("admin", "person", "import", path, "--codes-file", tokens_file)
    assert tokens_file.read_text(encoding="utf-8-sig").splitlines()[1].startswith("p1,甲,")
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600


def test_person_import_that_cannot_write_its_codes_file_fails_cleanly_and_creates_nobody(home, tmp_path):
    path = write_csv(tmp_path / "people.csv", ["code", "name", "role", "region"],
                      [["p1", "甲", "village_secretary", VILLAGE2]])
    before = home.snapshot()
    result = home("admin", "person", "import", path, "--codes-file", tmp_path / "no-such-dir" / "tokens.csv")
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
    assert f"已拒绝 [case.changed]：案件 {case} 已被他人修改" in stale.err
    # what to do on the command line (it said "reload")
    assert f"`jingzhun case show {case}`" in stale.err and f"`--expect-version {read + 1}`" in stale.err, stale.err
    assert "重新加载" not in stale.err
    assert home.snapshot(case) == before
    home.ok("vs", "evidence", "add", case, "application", "--field", "applicant=王大山1",
            "--field", "applied_on=2019-02-01", "--expect-version", read + 1)
    assert home.case(case)["version"] == read + 2


def test_step_with_a_stale_expected_version_is_refused(home, case):
    version = home.case(case)["version"]
    home.ok("vs", "step", "identification", "application", case, "--date", "2019-03-01")
    before = home.snapshot(case)
    stale = home("vd", "step", "identification", "appraisal", case, "--date", "2019-03-01", "--attendance", "40",
                 "--for", "35", "--against", "2", "--minutes", MINUTES, "--expect-version", version)
    assert stale.code == 1 and "[case.changed]" in stale.err
    assert home.snapshot(case) == before


# --- other refusals a user meets -------------------------------------------------------------

def test_the_same_person_may_not_sign_two_steps_of_one_procedure(home, case):
    home.ok("vs", "step", "identification", "application", case, "--date", "2019-03-01")
    before = home.snapshot(case)
    again = home("vs", "step", "identification", "appraisal", case, "--date", "2019-03-01",
                 "--attendance", "40", "--for", "35", "--against", "2", "--minutes", MINUTES)
    assert again.code == 1 and "[duty.same_person]" in again.err
    assert "village_secretary-vs（vs） 已在本程序中签署" in again.err      # by name, not by a bare person code
    assert home.snapshot(case) == before
    # `case next` names who may not do it by name too, as it names who may
    nxt = home("vs", "case", "next", case)
    assert "不得办理（已在本程序签署）：vs village_secretary-vs" in nxt.out, nxt.out
    import json
    why = json.loads(home("vs", "case", "next", case, "--json").out)["next"]["violations"]
    assert any("village_secretary-vs（vs） 已在本程序中签署" in v["text"] for v in why), why   # as the case page says it


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


@pytest.mark.parametrize("args, zh, en", [
    (["household", "import", "nosuch.csv"], "FILE 给出的 nosuch.csv 不存在", "nosuch.csv, given as FILE, does not exist"),
    (["household", "import", "."], "是文件夹，这里需要一个文件", "is a folder: a file is needed here"),
    (["case", "lis"], "没有命令 lis（是不是要用 list？）", "there is no command lis (did you mean list?)"),
    (["case", "list", "--limit", "many"], "--limit 须为数字", "--limit must be a number"),
    # click's parser's own English ("Got unexpected extra argument (m.csv)", "Option '--csv' requires an
    # argument.", "Option '--json' does not take a value.") was shown as it was, with `jingzhun --help`
    (["export", "members", "m.csv"], "多出了「m.csv」：这个命令不需要它（它是否该写在某个选项之后",
     "“m.csv” is more than the command takes"),
    (["export", "members", "--csv"], "选项 --csv 后面须给出一个值。运行 jingzhun export --help",
     "the option --csv needs a value after it. Run jingzhun export --help"),
    (["case", "list", "--json=yes"], "选项 --json 是开关，不带值（只写 --json）。运行 jingzhun case list --help",
     "the option --json is a switch and takes no value"),
], ids=["no-file", "folder-for-file", "no-command", "not-a-number", "extra-argument", "option-value-missing",
        "switch-given-value"])
def test_a_command_line_click_cannot_parse_is_told_in_the_readers_language(home, args, zh, en):
    for lang, said in (("zh", zh), ("en", en)):
        result = home("vs", *args, lang=lang)
        assert result.code == 2 and said in result.err, result.err
        assert ("Error:" in result.err) is False and "Usage:" not in result.err and "Got " not in result.err
        assert "Option '" not in result.err and ("--help" in result.err) and ("命令行有误" in result.err) == (lang == "zh")


def test_a_file_to_write_in_a_missing_folder_says_to_create_the_folder(home, tmp_path):
    before = home.count("audit_events")
    result = home("vs", "export", "cases", "--csv", str(tmp_path / "nowhere" / "cases.csv"))
    assert result.code == 2 and "[file.no_folder]" in result.err and "不存在，请先建立它" in result.err
    assert "No such file" not in result.err
    assert home.count("audit_events") == before        # not recorded as an export done


@pytest.mark.parametrize("option, name, said", [
    ("--csv", "cases.xlsx", "扩展名表示另一种格式"), ("--xlsx", "cases.csv", "扩展名表示另一种格式"),
    ("--csv", "-", "--csv 需要一个要写入的文件名")])
def test_an_export_to_a_name_of_another_format_or_to_no_file_is_refused(home, tmp_path, monkeypatch, option, name, said):
    monkeypatch.chdir(tmp_path)
    result = home("vs", "export", "cases", option, name)
    assert result.code == 2 and said in result.err and not (tmp_path / name).exists(), result.err
    if option == "--xlsx":           # the assessment's files alike
        for given, path in (("--xlsx", "report.csv"), ("--html", "report.xlsx")):
            report = home("vs", "report", "--period", "2019", given, path)
            assert report.code == 2 and "扩展名表示另一种格式" in report.err and not (tmp_path / path).exists()


@pytest.mark.parametrize("region, said", [("3607", "[region.bad_code]"), ("999999999999", "[region.unknown]")])
def test_an_export_of_a_region_that_cannot_be_is_said_as_such(home, tmp_path, region, said):
    result = home("vs", "export", "cases", "--csv", str(tmp_path / "x.csv"), "--region", region)
    assert result.code == 2 and said in result.err and "越权" not in result.err
    assert not (tmp_path / "x.csv").exists()


def test_a_number_out_of_range_is_said_with_its_range(home):
    result = home("vs", "case", "show", str(10 ** 30))
    assert result.code == 2 and "超出范围" in result.err and "Traceback" not in result.err
    listed = home("vs", "case", "list", "--limit", "0")
    assert listed.code == 2 and "--limit 超出范围（须 ≥1）" in listed.err


def test_a_field_of_the_wrong_kind_is_named_in_words_not_as_a_type(home, case):
    result = home("vs", "evidence", "add", str(case), "income_check", "--field", "year=20x9", "--field", "net_income=1")
    assert result.code == 2 and "应为年份（1949 年至今年），收到 20x9" in result.err and " int" not in result.err
    english = home("vs", "evidence", "add", str(case), "income_check", "--field", "year=20x9", "--field", "net_income=1",
                   lang="en")
    assert "must be a year from 1949 to this one, got 20x9" in english.err
    count = home("vs", "evidence", "add", str(case), "income_check", "--field", "year=2019", "--field", "net_income=x")
    assert count.code == 2 and "应为数字（绝对值不超过一万亿），收到 x" in count.err



def test_person_import_whose_codes_file_a_full_disk_refused_creates_nobody_and_can_be_run_again(home, tmp_path):
    """The codes file on a full disk (a USB stick): the persons were committed before their paper codes
    were flushed, so the import said the disk was full yet everyone existed with a code nobody would ever
    see, and running it again was refused (the persons exist). The codes are written whole before anyone
    is committed: a full disk creates no one, and the same command on a disk with room works."""
    from tests.test_export_files import on_a_full_disk
    path = write_csv(tmp_path / "people.csv", ["code", "name", "role", "region"],
                     [["p1", "甲", "village_secretary", VILLAGE2], ["p2", "乙", "village_director", VILLAGE2]])
    folder = tmp_path / "U盘"
    folder.mkdir()
    before = home.snapshot()
    done, left = on_a_full_disk(home, folder, "person", "import", str(path), "--codes-file",
                                 str(folder / "codes.csv"), who="admin")
    assert done.returncode == 2 and "磁盘已满" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert left == ["filler"] and home.snapshot() == before
    codes = tmp_path / "codes.csv"
    home.ok("admin", "person", "import", path, "--codes-file", codes)
    assert [row.split(",")[0] for row in codes.read_text(encoding="utf-8-sig").splitlines()[1:]] == ["p1", "p2"]
