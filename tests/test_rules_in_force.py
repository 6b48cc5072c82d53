"""A year the rules give no income line for (ops audit ux6, item 8): the refusal names the province and
who can fix it, and `config check` / `config install` warn of it for this year and, in its last quarter,
the next, for the provinces that hold this installation's regions. `config install` and `audit
rotate-key` say that a running server takes what they did at its next request (items 2 and 12;
tests/web/test_rules_live.py shows it does)."""
from __future__ import annotations

from datetime import date

import pytest

from engine.domain.errors import RuleViolation
from engine.services.case_actions import attach_evidence
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.helpers.rules_copy import rules_copy


def test_a_step_in_a_year_without_a_line_names_the_province_and_the_install(world):
    case = world.household()
    world.on(date(2021, 12, 10))
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2021, "net_income": 5000},
                    replace=True, reason="2021年度收入核查")
    world.step("vs", "identification", "application", case)
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
    assert refused.value.code == "policy.no_income_line"
    zh, en = refused.value.render(world.app.config, "zh"), refused.value.render(world.app.config, "en")
    assert "江西（36）2021 年的收入标准线" in zh and "jingzhun config install" in zh and "policy.yaml" not in zh, zh
    assert "Jiangxi" not in en and "江西 (36)" in en and "jingzhun config install" in en and "policy.yaml" not in en, en


def _on(home, day: str) -> None:
    (home.path / "demo-clock").write_text(f"{day}T02:00:00+00:00", encoding="utf-8")


def test_config_check_warns_of_this_and_the_coming_years_missing_line_for_the_provinces_in_use(home):
    _on(home, "2021-11-10")
    checked = home("admin", "config", "check")
    assert checked.code == 0, checked.err
    assert "江西（36）在规则中没有 2021 年的收入标准线" in checked.err, checked.err
    assert "江西（36）在规则中没有 2022 年的收入标准线" in checked.err       # the last quarter: next year too
    assert "陕西" not in checked.err                                         # no region of Shaanxi here
    english = home("admin", "config", "check", lang="en")
    assert "Jiangxi" not in english.err and "江西 (36) has no income line for 2022 in the rules" in english.err
    _on(home, "2019-06-10")
    assert "收入标准线（既无" not in home("admin", "config", "check").err      # 2019 has its line


def test_config_install_says_the_server_takes_the_rules_and_warns_of_the_missing_year(home, tmp_path):
    _on(home, "2021-03-10")
    folder = rules_copy(tmp_path, {"policy.yaml": ("2019: 3747}", "2019: 3747, 2020: 3970}")})
    installed = home("admin", "config", "install", str(folder))
    assert installed.code == 0, installed.err
    assert "正在运行的服务器（`jingzhun serve`）从下一个请求起按这些规则判定，无需重启" in installed.out
    assert "江西（36）在规则中没有 2021 年的收入标准线" in installed.err
    assert "2022 年" not in installed.err                                     # March: not yet the next year


def test_rotate_key_says_a_running_server_takes_the_new_key(home):
    rotated = home("admin", "audit", "rotate-key")
    assert rotated.code == 0, rotated.err
    assert "正在运行的服务器（`jingzhun serve`）从下一个请求起用新密钥，无需重启" in rotated.out
    english = home("admin", "audit", "rotate-key", lang="en")
    assert "A running server (`jingzhun serve`) uses the new key from its next request on" in english.out
