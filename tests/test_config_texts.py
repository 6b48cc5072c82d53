"""Configuration errors and notes as catalogue texts: the file, the key path and the problem, in
Chinese by default and in English on request; every problem code the checks name is in the catalogue."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import CONFIG_DIR, ConfigError, load_catalogue, load_config
from engine.domain.errors import render_stored
from tests.helpers.deadlines import config_copy
from tests.helpers.rules_copy import rules_copy

ROOT = Path(__file__).resolve().parent.parent
CHECKS = [ROOT / "config" / n for n in ("__init__.py", "base.py", "deadlines.py", "models.py")] + \
    [ROOT / "engine" / "services" / "steptypes.py"] + \
    [ROOT / "workflows" / "__init__.py"]
PROBLEM = re.compile(r'(?:ConfigError\([^,]+, [^,]+, |ConfigValueError\(|\bfail\([^,]+, )"([a-z0-9_]+)"')


def test_every_problem_the_checks_name_is_in_the_catalogue():
    catalogue = load_catalogue(CONFIG_DIR)
    codes = {code for path in CHECKS for code in PROBLEM.findall(path.read_text(encoding="utf-8"))}
    assert len(codes) > 40, "the scan found too little: is the pattern still right?"
    assert sorted(c for c in codes if f"config_problem.{c}" not in catalogue) == []
    from config import PARAM_RULES
    assert [k for k, (_, d) in PARAM_RULES.items() if f"param_rule.{d}" not in catalogue] == []


def _broken_policy(tmp_path, old: str, new: str) -> Path:
    return rules_copy(tmp_path, {"policy.yaml": (old, new)})


def test_a_wrong_parameter_reads_in_chinese_and_in_english(tmp_path):
    folder = _broken_policy(tmp_path, "  appraisal_quorum: 0.5", "  appraisal_quorum: 2")
    with pytest.raises(ConfigError) as bad:
        load_config(folder)
    policy = folder / "policy.yaml"
    assert str(bad.value) == f"配置文件 {policy}，键 defaults.appraisal_quorum：应为 0 到 1（不含 1）之间的比例，实为 2"
    assert bad.value.render(lang="en") == f"{policy}: key defaults.appraisal_quorum: must be a share from 0 to below 1, got 2"


def test_a_missing_file_and_a_validators_own_refusal(tmp_path):
    with pytest.raises(ConfigError) as missing:
        load_config(tmp_path / "nowhere")
    assert str(missing.value).endswith("roles.yaml：文件不存在")
    assert missing.value.render(lang="en").endswith("roles.yaml: file not found")
    folder = config_copy(tmp_path, edit_deadlines=lambda y: y["rules"]["assistance_plan"].update(days=5, due="09-30"))
    with pytest.raises(ConfigError) as both:
        load_config(folder)
    assert "键 rules.assistance_plan：取值无效（请在 days, due 中只给出一项）" in str(both.value)
    assert "key rules.assistance_plan: give exactly one of days, due" in both.value.render(lang="en")


def _edited_household(tmp_path, old: str, new: str) -> Path:
    """A copy of the configuration whose household.yaml has `old` (its first) replaced by `new`."""
    return rules_copy(tmp_path, {"workflows/household.yaml": (old, new)})


def test_a_wrong_reference_from_workflows_to_python(tmp_path):
    from workflows import check_references
    folder = _edited_household(tmp_path, "exit_standard", "exit_standrad")
    with pytest.raises(ConfigError) as bad:
        check_references(load_config(folder))
    assert "household.yaml" in str(bad.value) and "未知的检查 exit_standrad（已知：" in str(bad.value)
    assert "unknown check 'exit_standrad' (known: " in bad.value.render(lang="en")


def test_a_step_that_follows_a_later_step_is_refused(tmp_path):
    with pytest.raises(ConfigError) as bad:
        load_config(_edited_household(tmp_path, "follows: proposal", "follows: township_review"))
    assert "`follows` 须为本程序中排在前面的步骤（township_review 不是；可用：proposal, verification）" in str(bad.value)
    assert "(township_review is not one; earlier: proposal, verification)" in bad.value.render(lang="en")


def test_notes_are_stored_texts_config_check_renders():
    notes = load_config().notes
    for note in notes:
        assert render_stored(load_config(), note) != note
        assert render_stored(load_config(), note, "en") != render_stored(load_config(), note)
