"""`case next` of an exit's verification says first how many verifiers it needs (a9 #6): before, it named every
township person as "不能同时选作核实人…" and never said that at least 3 are needed, which only the refusal
(verification.too_few) said after the fact. The web form says "至少 3 人"; the CLI now says it too, and says of
the pool that some of them may be chosen, not all. SQLite and PostgreSQL."""
from __future__ import annotations

from tests.helpers.notifications import cli


def _at_verification(world, tmp_path) -> int:
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, tmp=tmp_path)
    world.exit(case, through="proposal")
    return case


def test_case_next_of_an_exit_verification_says_its_minimum_of_verifiers_first(world, tmp_path):
    case = _at_verification(world, tmp_path)
    told = cli(world, "tl", "case", "next", str(case))
    assert told.code == 0, told.err
    lines = told.out.splitlines()
    least = next((i for i, line in enumerate(lines) if "核实人：至少 3 人" in line), None)
    assert least is not None, told.out
    assert "`--verifier`" in lines[least]
    assert "不能同时选作核实人" not in told.out, told.out       # read as "nobody may verify"
    kept = [i for i, line in enumerate(lines) if "不能全部选上" in line]
    assert all(i > least for i in kept), told.out
    english = cli(world, "tl", "--lang", "en", "case", "next", str(case))
    assert "verifiers: at least 3" in english.out, english.out
