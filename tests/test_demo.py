"""`jingzhun demo`, the README's first command, on a small county: every phase runs on the real
engine, the refusals it reports are the rules' own, and the record it leaves verifies."""
from __future__ import annotations

import io

import pytest
from rich.console import Console
from sqlalchemy import select

from config import load_config
from demo.county import run_demo
from engine.adapters import tables as t
from entrypoints.bootstrap import make_app
from engine.reads.audit_verify import verify
from engine.adapters.db import Settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo") / "home"
    console = Console(file=io.StringIO(), width=120)
    summary = run_demo(Settings.from_env(str(home)), load_config(), households=100, seed=7, console=console)
    app = make_app(Settings.from_env(str(home)))
    yield summary, app
    app.close()


def test_the_demo_takes_households_through_the_year_and_counts_the_rules_refusals(demo):
    summary, _ = demo
    stages = summary["stages"]
    assert sum(stages.values()) == 100
    assert stages.get("consolidated", 0) > 50 and stages.get("assisted", 0) > 0
    assert {"check.exit_standard", "check.identification_standard", "duty.same_person", "auth.read_only",
            "auth.jurisdiction", "stage.not_allowed"} <= set(summary["refusals"])


def test_the_demo_finds_wrong_exits_and_leaves_a_record_an_inspector_can_prove(demo):
    summary, app = demo
    problem = summary["problem"]
    with app.engine.connect() as conn:
        links = conn.execute(select(t.problem_links).where(t.problem_links.c.problem_id == problem)).all()
        reopened = conn.execute(select(t.cases.c.stage).where(
            t.cases.c.id.in_([link.case_id for link in links]))).scalars().all()
        referrals = conn.execute(select(t.discipline_referrals.c.reason)).scalars().all()
        outcomes = conn.execute(select(t.accountability_outcomes.c.outcome)).scalars().all()
    assert len(links) == 2 and all(link.chain for link in links)
    assert reopened == ["assisted", "assisted"]
    assert referrals == ["rejected_twice"]
    assert sorted(outcomes) == ["admonition", "circulated_criticism", "removal"]
    for path in summary["dossiers"]:
        assert "案件全程卷宗" in open(path, encoding="utf-8").read()
    seq, digest = summary["head"].split(":")
    report = verify(app, against=(int(seq), digest))
    assert report.intact, report.damage


def test_the_demo_speaks_chinese_outside_codes_commands_and_paths(tmp_path):
    """What the demo prints in the default language: no English word a cadre must read."""
    import re
    out = io.StringIO()
    home = tmp_path / "home"
    run_demo(Settings.from_env(str(home)), load_config(), households=30, seed=3, console=Console(file=out, width=200))
    people = {line.split(",")[0] for line in (home / "demo-tokens.csv").read_text().splitlines()}
    words = set()
    for line in out.getvalue().splitlines():
        if line.strip().startswith(("export ", "jingzhun ")):
            continue                                            # commands to paste, shown as they are typed
        line = re.sub(r"/\S+", "", line)                        # paths
        line = re.sub(r"\b[a-z][a-z0-9]*(?:[._][a-z0-9]+)+\b", "", line)   # rule and person codes
        line = re.sub(r"\b[0-9a-f]{64}\b", "", line)            # the head's hash
        line = re.sub(r"「[^」]*」", "", line)                   # literal input
        words |= set(re.findall(r"[A-Za-z]{2,}", line))
    assert words - people == set()                              # person codes are codes
