"""A wrong inclusion's accountability (a7 finding 6): removing a household found wrongly included (错评)
names the people of the identification that included it on a problem item, as a wrong exit names its
exit chain; and its finding is struck off on a written finding, not a typed reason alone."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.case_actions import attach_evidence
from tests.test_accountability import cli
from tests.world import World, scan_file

INCLUDERS = {"vs", "vd", "tl", "fs", "ts1", "ts2", "cd", "cs"}     # world.identify's signers


def _identified(world: World) -> int:
    case = world.household()
    world.identify(case)
    return case


def _finding(world: World, case: int, tmp_path, who: str = "ts3"):
    scan = scan_file(tmp_path / f"finding-{case}.pdf", "错评核查报告 核查人签字")
    return attach_evidence(world.app, world[who], case, "removal_finding", {"reason": "家有轿车和商品房"}, scan)


def _remove(world: World, case: int) -> None:
    world.on(date(2019, 6, 3))
    world.step("ts3", "removal_wrong_inclusion", "finding", case)
    world.step("vd", "removal_wrong_inclusion", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
    world.step("fs", "removal_wrong_inclusion", "village_notice", case)
    world.on(date(2019, 6, 17))
    world.step("th", "removal_wrong_inclusion", "township_review", case, decision="approve")
    world.step("cd", "removal_wrong_inclusion", "county_approval", case, decision="approve")
    world.step("cs", "removal_wrong_inclusion", "announcement", case)


def test_a_wrong_inclusion_finding_without_its_written_finding_is_refused_saying_what_to_attach(world):
    case = _identified(world)
    world.on(date(2019, 6, 3))
    said = cli(world, "ts3", "evidence", "add", case, "removal_finding", "--field", "reason=家有轿车")
    assert said.code != 0 and "错评认定材料 必须附上文件" in said.out + said.err, said.out + said.err
    assert "核查报告" in said.out + said.err and "--file" in said.out + said.err
    english = cli(world, "ts3", "evidence", "add", case, "removal_finding", "--field", "reason=家有轿车", lang="en")
    assert english.code != 0 and "written finding" in english.out + english.err, english.out + english.err
    with world.app.engine.connect() as conn:       # nothing written
        assert conn.execute(select(t.evidence.c.id).where(t.evidence.c.case_id == case,
                                                          t.evidence.c.type == "removal_finding")).first() is None


def test_a_wrong_inclusion_removed_opens_a_problem_item_naming_who_included_the_household(world, tmp_path):
    from engine.reads.audit_verify import verify
    case = _identified(world)
    world.on(date(2019, 6, 3))
    _finding(world, case, tmp_path)
    _remove(world, case)
    with world.app.engine.connect() as conn:
        problem = conn.execute(select(t.cases).join(t.problem_links, t.problem_links.c.problem_id == t.cases.c.id)
                               .where(t.problem_links.c.case_id == case)).one()
        chain = conn.execute(select(t.problem_links.c.chain).where(t.problem_links.c.case_id == case)).scalar()
        deadlines = conn.execute(select(t.deadlines.c.rule).where(t.deadlines.c.case_id == problem.id)).scalars().all()
    assert (problem.kind, problem.stage, problem.attrs["finding"]) == ("problem", "found", "wrong_inclusion")
    assert problem.attrs["found_on"] == "2019-06-03" and problem.attrs["found_by"]["person"] == "ts3"
    assert {r["person_code"] for r in chain} >= INCLUDERS          # who proposed, checked and approved it
    assert "problem_assignment" in deadlines                       # to be assigned, as any problem item found
    shown = cli(world, "insp", "trace", problem.id)
    assert shown.code == 0 and "问题性质: 错评" in shown.out and f"错评清退：户 {case}：家有轿车和商品房" in shown.out, shown.out
    assert "在错评清退程序" in shown.out
    assert "county_office_director-cd (cd, 县扶贫办主任) — 办理「县级审批」" in shown.out, shown.out    # who approved the inclusion
    assert "village_secretary-vs (vs, 村党支部书记) — 办理「农户申请」" in shown.out, shown.out      # who proposed it
    english = cli(world, "insp", "trace", case, lang="en")
    assert f"{problem.id} wrong inclusion removed: household {case}: 家有轿车和商品房" in english.out, english.out
    assert verify(world.app, processes=1).intact


def test_a_finding_recorded_before_it_needed_its_file_is_not_enough_for_the_removal(world, tmp_path):
    """An item attached before the type needed a file (a typed reason alone, as in an older home) does not
    carry the removal: its finding step is refused, saying to record it again with its scan."""
    from engine.domain.errors import RuleViolation
    from tests.helpers.tamper import raw
    case = _identified(world)
    world.on(date(2019, 6, 3))
    item = _finding(world, case, tmp_path)
    raw(world, f"UPDATE evidence SET file_sha256 = NULL, file_name = NULL WHERE id = {item}", tables=("evidence",))
    try:
        world.step("ts3", "removal_wrong_inclusion", "finding", case)
    except RuleViolation as refused:
        said = cli(world, "ts3", "step", "removal_wrong_inclusion", "finding", str(case))
        assert refused.code == "check.evidence_on_file" and said.code != 0, said.out + said.err
        assert "错评认定材料 没有附文件" in said.out + said.err and "--replace" in said.out + said.err
    else:
        raise AssertionError("the finding step went through on a finding without its file")
