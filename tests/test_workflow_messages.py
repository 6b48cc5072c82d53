"""Every refusal and unmet condition the case kinds' Python raises has its text in the catalogue.

The rules of a case kind are spread over several modules (workflows/project.py, project_base.py,
project_steps.py, project_money.py; household.py, household_steps.py; village.py; problem.py): this
reads them all, so that a code moved from one module to another stays covered.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import load_config

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r'(?:RuleViolation|BadInput|NotFound)\(\s*"([a-z_]+\.[a-z_.]+)"')
FAIL = re.compile(r'\(\("([a-z_]+)", \{')


def _codes(paths: list[Path]) -> tuple[set[str], set[str]]:
    source = "".join(p.read_text(encoding="utf-8") for p in paths)
    return set(CODE.findall(source)), set(FAIL.findall(source))


@pytest.mark.parametrize("kind", ["project", "household", "village", "problem"])
def test_every_message_code_of_a_case_kind_has_a_text(kind):
    paths = sorted((ROOT / "workflows").glob(f"{kind}*.py"))
    codes, fails = _codes(paths)
    labels = load_config().labels
    assert codes
    assert [c for c in sorted(codes) if f"msg.{c}" not in labels] == []
    assert [f for f in sorted(fails) if f"fail.{f}" not in labels] == []


def test_the_project_modules_are_all_read():
    codes, fails = _codes(sorted((ROOT / "workflows").glob("project*.py")))
    # one code from each module of the project: registration, code lists, steps, money
    assert {"project.no_performance_target", "project.bad_code", "project.milestones_out_of_order",
            "project.over_allocation"} <= codes
    assert {"no_performance_target", "cost_over_allocation"} <= fails
