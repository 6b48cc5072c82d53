"""A data home whose rules changed under it (a new version's packaged rules, or its installed files
edited): every command says to run `jingzhun init`, and that records them; it had also named
`config install`, which the same check refused before it could run."""
from __future__ import annotations

import shutil
from pathlib import Path

from tests.test_cli import jingzhun


def test_changed_rules_are_recorded_by_init_as_the_refusal_says(tmp_path):
    home = tmp_path / "home"
    assert jingzhun(["--home", home, "init"], None).code == 0
    installed = home / "config"
    shutil.copytree(Path(__file__).resolve().parents[1] / "config", installed,
                    ignore=shutil.ignore_patterns("__pycache__", "*.py", "locale"))
    policy = installed / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("household_identification: 7",
                                                                 "household_identification: 10"), encoding="utf-8")
    refused = jingzhun(["--home", home, "case", "list"], None)
    said = refused.err
    assert refused.code != 0 and "尚未记录在数据库中" in said and "jingzhun init" in said
    assert "config install" not in said and "Traceback" not in said
    again = jingzhun(["--home", home, "init"], None)
    assert again.code == 0, again.err
    after = jingzhun(["--home", home, "case", "list"], None)
    assert "尚未记录" not in after.err and "auth.no_person" in after.err      # on to the next question: who acts
