"""The newcomer's path: --version, JSON errors, lists without a footer when piped, labels and
common date forms as input, the demo home found after `jingzhun demo`, shell completion."""
from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
from datetime import date

import pytest

from engine.domain import inputs
from engine.domain.errors import BadInput
from tests.test_cli import (ASSISTANCE, CONSOLIDATION, ENV_VARS, EXIT, IDENTIFICATION, JINGZHUN, jingzhun,
                            run_installed)
from tests.test_cli import case, home, template  # noqa: F401  (fixtures)
from tests.world import scan_file


def test_version_comes_from_the_installed_distribution():
    result = jingzhun(["--version"])
    assert result.code == 0
    assert result.out.strip() == f"jingzhun 版本 {importlib.metadata.version('jingzhun')}"
    english = jingzhun(["--lang", "en", "--version"])
    assert english.out.strip() == f"jingzhun, version {importlib.metadata.version('jingzhun')}"


def test_with_json_a_refusal_is_one_json_object_on_stderr_with_exit_1(home):
    result = home("insp", "audit", "head", "--json")       # nothing sealed yet
    assert result.code == 1 and result.out == ""
    error = json.loads(result.err)
    assert error["error"] == "audit.no_checkpoint" and error["exit"] == 1 and error["message"]


@pytest.mark.parametrize("args, code", [
    (["case", "show", "999", "--json"], "case.unknown"),
    (["case", "list", "--json", "--bogus"], "usage"),
    (["case", "next", "1", "--as-of", "2019-13-01", "--json"], "input.no_such_day"),
], ids=["unknown-case", "unknown-option", "bad-date"])
def test_with_json_bad_input_is_json_on_stderr_with_exit_2(home, args, code):
    result = home("insp", *args)
    assert result.code == 2 and result.out == ""
    assert json.loads(result.err) == {"error": code, "message": json.loads(result.err)["message"], "exit": 2}


def test_without_json_errors_stay_text(home):
    result = home("insp", "case", "show", "999")
    assert result.code == 2 and result.err.startswith("错误 [case.unknown]：")


def test_a_list_piped_to_a_file_has_no_footer_but_one_read_in_process_has(home, case, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env["JINGZHUN_TOKEN"] = home.tokens["insp"]
    listing = tmp_path / "cases.tsv"
    with open(listing, "w", encoding="utf-8") as fh:
        done = subprocess.run([JINGZHUN, "--home", str(home.path), "--as", "insp", "case", "list"], stdout=fh,
                              stderr=subprocess.PIPE, text=True, env=env, stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = listing.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"{case}\t")      # the header and the one case, no count
    assert home.ok("insp", "case", "list").out.splitlines()[-1] == "（共 1 件）"


def consolidated(home) -> int:
    case = home.register()
    for plan in (IDENTIFICATION, ASSISTANCE):
        home.steps(case, plan)
    for etype, fields in (("income_assessment", ["year=2019", "net_income=10000"]),
                          ("two_assurances", ["food=yes", "clothing=yes"]), ("housing_safety", ["grade=A"]),
                          ("drinking_water", ["safe=yes"])):
        home.ok("vs", "evidence", "add", case, etype, *[f"--field={f}" for f in fields])
    scan = scan_file(home.path / "confirmation.pdf", "exit confirmation")
    home.ok("pc1", "evidence", "add", case, "household_confirmation", "--field", "signed_on=2019-11-20", "--file", scan)
    for plan in (EXIT, CONSOLIDATION):
        home.steps(case, plan)
    return case


def test_case_list_takes_the_stage_by_its_label_or_the_label_before_its_bracket(home):
    case = consolidated(home)
    other = home.register(seed=2)
    ids = lambda stage: [c["id"] for c in home.ok("insp", "case", "list", "--stage", stage, "--json").json()]  # noqa: E731
    assert ids("巩固期") == ids("巩固期(过渡期)") == ids("consolidated") == [case]
    assert ids("申请中") == [other]
    text = home.ok("insp", "case", "list", "--stage", "巩固期").out
    assert f"{case}\t" in text and "巩固期(过渡期)" in text


def test_a_stage_that_is_neither_code_nor_label_is_refused_naming_the_stages(home):
    result = home("insp", "case", "list", "--stage", "巩固")
    assert result.code == 2 and "[input.unknown_code]" in result.err
    assert "consolidated (巩固期(过渡期)/" in result.err and "阶段" in result.err


@pytest.mark.parametrize("day", ["2019/3/2", "2019-3-2", "2019.3.2", "2019年3月2日"])
def test_dates_are_taken_in_the_common_forms(home, case, day):
    home.ok("vs", "step", "identification", "application", case, "--date", day)
    assert home.case(case)["procedures"][0]["steps"][0]["date"] == "2019-03-02"


def test_evidence_types_steps_and_procedures_are_taken_by_their_labels(home, case):
    home.ok("vs", "step", "贫困识别", "农户申请", case, "--date", "2019/3/1")
    steps = home.case(case)["procedures"][0]["steps"]
    assert (home.case(case)["procedures"][0]["kind"], steps[0]["step"]) == ("identification", "application")


def test_case_next_as_of_answers_as_of_that_date(home, case):
    result = home("insp", "case", "next", case, "--as-of", "2019/3/2", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["case"] == int(case)


def test_after_the_demo_the_next_command_finds_the_demo_home_and_says_so_once(template, tmp_path, monkeypatch):
    shutil.copytree(template.path, tmp_path / "jingzhun-demo")
    monkeypatch.chdir(tmp_path)
    first = jingzhun(["--as", "insp", "case", "list", "--json"], template.tokens["insp"])
    assert first.code == 0, first.err
    assert first.err.strip() == f"使用演示数据目录：{tmp_path / 'jingzhun-demo'}"
    again = jingzhun(["--as", "insp", "case", "list", "--json"], template.tokens["insp"])
    assert again.code == 0 and again.err == ""
    (tmp_path / "jingzhun-data").mkdir()     # a real home here wins over the demo's
    assert jingzhun(["--as", "insp", "case", "list"], template.tokens["insp"]).code != 0


def test_shell_completion_completes_commands_and_options(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    script = subprocess.run([JINGZHUN], env={**env, "_JINGZHUN_COMPLETE": "bash_source"}, capture_output=True,
                            text=True, timeout=60)
    assert script.returncode == 0 and "_jingzhun_completion" in script.stdout
    words = subprocess.run([JINGZHUN], env={**env, "_JINGZHUN_COMPLETE": "bash_complete",
                                            "COMP_WORDS": "jingzhun case list --st", "COMP_CWORD": "3"},
                           capture_output=True, text=True, timeout=60)
    assert "--stage" in words.stdout
    stages = subprocess.run([JINGZHUN], env={**env, "_JINGZHUN_COMPLETE": "bash_complete",
                                             "COMP_WORDS": "jingzhun case list --stage con", "COMP_CWORD": "4"},
                            capture_output=True, text=True, timeout=60)
    assert stages.stdout.split() == ["plain,consolidated"]


def test_the_installed_command_prints_its_version():
    done = run_installed("--version")
    assert done.returncode == 0 and "jingzhun 版本" in done.stdout


# --- the pure parsers (engine/domain/inputs.py) ------------------------------------------------

STAGES = {"consolidated": ["巩固期(过渡期)", "consolidated (transition period)"], "assisted": ["帮扶中", "under assistance"]}


@pytest.mark.parametrize("text", ["consolidated", "巩固期(过渡期)", "巩固期", " 巩固期 ", "CONSOLIDATED (transition period)"])
def test_parse_code_takes_the_code_the_label_or_the_label_before_its_bracket(text):
    assert inputs.parse_code(text, STAGES) == "consolidated"


def test_parse_code_refuses_an_unknown_value_naming_what_is_accepted():
    with pytest.raises(BadInput) as raised:
        inputs.parse_code("巩固", STAGES, "stage")
    assert raised.value.code == "input.unknown_code" and "consolidated (巩固期(过渡期)" in raised.value.params["known"]
    assert inputs.to_code("巩固", STAGES) == "巩固"


@pytest.mark.parametrize("text", ["2019-03-02", "2019-3-2", "2019/3/2", "2019/03/02", "2019.3.2", "2019年3月2日"])
def test_parse_date_takes_the_common_forms(text):
    assert inputs.parse_date(text) == date(2019, 3, 2)


@pytest.mark.parametrize("text, code", [("2019-13-01", "input.no_such_day"), ("1.3.2019", "input.bad_date"),
                                        ("2019/2/30", "input.no_such_day"), ("", "input.bad_date"),
                                        ("yesterday", "input.bad_date")])
def test_parse_date_refuses_what_is_not_a_date(text, code):
    """A text not in a date's form is told the forms; one in the form but no day of the calendar
    (2019/2/30) is told so, not the form it already has."""
    with pytest.raises(BadInput) as raised:
        inputs.parse_date(text)
    assert raised.value.code == code and raised.value.exit_code == 2


def test_every_error_and_text_the_cli_uses_is_in_the_catalogue_in_both_languages():
    import re
    from pathlib import Path
    from config import load_config
    labels = load_config().labels
    root = Path(__file__).resolve().parents[1]
    source = "\n".join(p.read_text(encoding="utf-8") for p in [*(root / "entrypoints" / "cli").glob("*.py"),
                                                               root / "engine" / "domain" / "inputs.py"])
    codes = set(re.findall(r'BadInput\("([a-z_]+\.[a-z_.]+)"', source)) | set(re.findall(r'"(input\.[a-z_]+)"', source))
    texts = {k for k in re.findall(r'\btext\("([a-z_.]+)"', source) if not k.endswith(".")}   # not prefixes
    assert codes and texts
    missing = sorted(f"msg.{c}" for c in codes if f"msg.{c}" not in labels)
    missing += sorted(f"cli.{k}" for k in texts if f"cli.{k}" not in labels)
    assert missing == []
    for key in [f"msg.{c}" for c in codes] + [f"cli.{k}" for k in texts]:
        assert labels[key]["zh"] and labels[key]["en"]


def test_on_the_demo_s_home_a_command_lives_in_the_demo_s_year(template, tmp_path):
    """The demo replays a year; its server runs on that year's clock, and so does every command on its
    home: a step without --date was dated today, years after the demo's last step, and every step
    after it was refused as out of order."""
    from tests.test_cli import Home
    shutil.copytree(template.path, tmp_path / "home")
    (tmp_path / "home" / "demo-clock").write_text("2019-03-20T02:00:00+00:00", encoding="utf-8")
    demo = Home(tmp_path / "home", template.tokens)
    case = demo.register()
    demo.ok("vs", "step", "identification", "application", case)
    assert demo.case(case)["procedures"][0]["steps"][0]["date"] == "2019-03-20"
