"""An installed policy from before a release made a parameter required (`exit_check_months`, stop 51):
every command, `config install` included, was refused naming the key, with nothing to say how out; the
upgrade itself (`jingzhun init`) was refused too. `init` now adds what this version requires, with the
packaged value, says so, and the home works again; the file keeps its comments and its mode."""
from __future__ import annotations

import os
import shutil

from config import CONFIG_DIR
from tests.test_cli import home, template  # noqa: F401  (fixtures)


def _installed_without(home, key: str):      # noqa: F811
    folder = home.path.parent / "config-local"
    shutil.copytree(CONFIG_DIR, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    home.ok("admin", "config", "install", str(folder))
    policy = home.path / "config" / "policy.yaml"
    lines = policy.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.lstrip().startswith(f"{key}:")]
    assert len(kept) == len(lines) - 1
    policy.write_text("".join(kept), encoding="utf-8")      # as a release before it had installed it
    os.chmod(policy, 0o600)
    return policy


def test_init_adds_a_parameter_this_version_requires_to_the_installed_policy_and_the_home_works_again(home):  # noqa: F811
    policy = _installed_without(home, "exit_check_months")
    before = policy.read_text(encoding="utf-8")
    refused = home("admin", "case", "list")
    assert refused.code != 0 and "exit_check_months" in refused.err and "jingzhun init" in refused.err, refused.err
    assert "Traceback" not in refused.err
    upgraded = home(None, "init")
    assert upgraded.code == 0, upgraded.err
    assert "exit_check_months = 6" in upgraded.out and "jingzhun config install" in upgraded.out, upgraded.out
    after = policy.read_text(encoding="utf-8")
    assert "exit_check_months: 6   # added by `jingzhun init`" in after
    assert [line for line in after.splitlines() if "added by `jingzhun init`" not in line] == before.splitlines()
    assert oct(os.stat(policy).st_mode & 0o777) == "0o600"
    home.ok("admin", "case", "list")
    assert "exit_check_months" not in home(None, "init").out          # once
