"""民主评议's minutes (会议记录): the signed record of the meeting, what an inspector asks to see,
comes with the appraisal, for one household or for a village's list (one meeting, one file for all
the households it decided). Each household keeps it as evidence, which the step names with its hash:
the trace and the dossier show it, replacing it voids the appraisal, and a meeting held again in
the same procedure takes its place; another procedure's meeting (an exit's after the identification's)
is an item of its own, the earlier one not replaced. An appraisal without its minutes, or with a file that is no
photo or scan, is refused with nothing written."""
from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import select, update

from engine.adapters import tables as t
from engine.domain.errors import BadInput, RuleViolation
from engine.reads.trace import case_trace, render_html
from engine.services.case_actions import attach_evidence
from tests.helpers.refusals import assert_refused, assisted_household
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_evidence_files import NOT_SCANS
from tests.world import scan_file
from tests.helpers.schema import downgrade

VOTES = dict(attendance=40, votes_for=35, votes_against=2)


def minutes_items(world, cases: list[int]) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.evidence).where(t.evidence.c.case_id.in_(cases),
                                                     t.evidence.c.type == "appraisal_minutes")
                            .order_by(t.evidence.c.id)).all()


def step_refs(world, case: int, key: str) -> list[dict]:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.steps.c.evidence_hashes).where(
            t.steps.c.case_id == case, t.steps.c.step_key == key).order_by(t.steps.c.id.desc())).scalars().first()


def test_one_meetings_minutes_are_kept_with_each_household_of_its_list_and_named_by_its_step(world, tmp_path):
    cases = [world.household() for _ in range(3)]
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", cases)
    minutes = scan_file(tmp_path / "洋塘村评议会议记录.pdf", "2019年3月1日 村民代表会议 到会40人")
    world.step("vd", "identification", "appraisal", cases, minutes=minutes, **VOTES)
    sha = hashlib.sha256(minutes.read_bytes()).hexdigest()
    items = minutes_items(world, cases)
    assert [(i.case_id, i.file_sha256, i.file_name, i.superseded_by) for i in items] == [
        (c, sha, "洋塘村评议会议记录.pdf", None) for c in cases]
    assert world.app.evidence.path_for(sha).read_bytes() == minutes.read_bytes()     # one file in the store
    for case, item in zip(cases, items):
        assert {"id": item.id, "type": "appraisal_minutes", "hash": item.content_hash, "file": sha} in \
            step_refs(world, case, "appraisal")

    trace = case_trace(world.app, world["insp"], cases[1])
    [appraisal] = [s for p in trace["procedures"] for s in p["steps"] if s["step"] == "appraisal"]
    assert [(e["type"], e["id"], e["hash"]) for e in appraisal["evidence"]] == [
        ("appraisal_minutes", items[1].id, items[1].content_hash)]
    assert trace["integrity"]["intact"]
    dossier = render_html(world.app, trace)
    assert "评议会议记录" in dossier and "洋塘村评议会议记录.pdf" in dossier
    assert items[1].content_hash[:16] in dossier and sha in dossier


def test_an_appraisal_without_its_minutes_or_with_a_word_file_writes_nothing(world, tmp_path):
    cases = [world.household(), world.household()]
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", cases)
    error = assert_refused(world, BadInput, "appraisal.minutes_required",
                           lambda: world.step("vd", "identification", "appraisal", cases, minutes=None, **VOTES),
                           names=("appraisal",), cases=tuple(cases))
    assert "会议记录" in error.render(world.app.config) and "minutes" in error.render(world.app.config, "en")
    word = tmp_path / "会议记录.docx"
    word.write_bytes(NOT_SCANS["收入核算表.docx"])
    assert_refused(world, BadInput, "evidence.not_a_scan",
                   lambda: world.step("vd", "identification", "appraisal", cases, minutes=word, **VOTES),
                   names=("会议记录.docx",), cases=tuple(cases))
    assert minutes_items(world, cases) == []
    refused = world.app.evidence.path_for(hashlib.sha256(word.read_bytes()).hexdigest())
    assert not refused.exists() and list(world.app.evidence.strays(iter(()))) == []


def test_a_vote_that_fails_keeps_its_minutes_too(world):
    case = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    [done] = world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=10, votes_against=28)
    assert done.procedure_status == "rejected"
    [item] = minutes_items(world, [case])
    assert item.id in {e["id"] for e in step_refs(world, case, "appraisal")}


def test_minutes_stored_for_a_list_refused_whole_leave_no_file_behind(world, tmp_path):
    from engine.services.list_steps import perform_list_step
    from engine.domain.cases import StepInput
    case = world.household()                     # no application yet: the appraisal is out of order
    minutes = scan_file(tmp_path / "会议记录.pdf", "a meeting nobody may record")
    result = perform_list_step(world.app, world["vd"], "identification", "appraisal", [case],
                               StepInput(minutes=minutes, **VOTES))
    assert not result.done and case in result.refused
    assert minutes_items(world, [case]) == [] and list(world.app.evidence.strays(iter(()))) == []


def test_an_exits_minutes_stand_beside_the_identifications_which_are_not_replaced(world, tmp_path):
    """Another procedure's meeting is another item: the identification's minutes stay its record, not
    shown as replaced (a user audit read 「已被 #… 取代」 under the 2019 identification minutes once the
    exit was proposed), and its sign-offs still hold what they signed."""
    case = assisted_household(world, tmp_path)
    exit_minutes = scan_file(tmp_path / "退出评议会议记录.pdf", "2019年11月20日 退出评议")
    world.on(date(2019, 11, 20))
    world.step("vd", "exit", "proposal", case, minutes=exit_minutes, attendance=38, votes_for=33, votes_against=1)
    earlier, later = minutes_items(world, [case])
    assert (earlier.superseded_by, earlier.supersede_reason, later.superseded_by) == (None, None, None)
    assert later.file_name == "退出评议会议记录.pdf"
    shown = {e["id"]: e for e in case_trace(world.app, world["insp"], case)["evidence"]}
    assert shown[earlier.id]["earlier_procedure"] and not shown[later.id]["earlier_procedure"]
    assert f"→ #{later.id}" not in render_html(world.app, case_trace(world.app, world["insp"], case), "zh")
    # the exit's proposal names its own meeting's minutes, the identification's appraisal its own;
    # no step of the identification is voided
    assert later.id in {e["id"] for e in step_refs(world, case, "proposal")}
    assert earlier.id in {e["id"] for e in step_refs(world, case, "appraisal")}
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.steps.c.id).where(t.steps.c.case_id == case,
                                                       t.steps.c.voided_at.is_not(None))).all() == []


def test_migration_0019_unmarks_minutes_marked_replaced_by_another_procedures(world, tmp_path):
    """A database where an exit's proposal had marked the identification's minutes as replaced: the
    upgrade unmarks them; minutes replaced by a meeting held again in the same procedure stay so."""
    import migrations
    case = assisted_household(world, tmp_path)
    world.on(date(2019, 11, 20))
    world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    identification, proposal = minutes_items(world, [case])
    again = attach_evidence(world.app, world["vs"], case, "appraisal_minutes", {}, scan_file(tmp_path / "补签.pdf"),
                            replace=True, reason="漏了两位代表的签字", void_signoffs=True)
    world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    downgrade(world.app.engine, "0018", then=lambda conn: conn.execute(   # the minutes as 0018 marked them
        update(t.evidence).where(t.evidence.c.id == identification.id).values(
            superseded_by=proposal.id, supersede_reason="2019-11-20「评议并提出退出」的会议记录")))
    migrations.upgrade(world.app.engine)
    marks = [(i.id, i.superseded_by) for i in minutes_items(world, [case])]
    assert marks[:3] == [(identification.id, None), (proposal.id, again), (again, marks[3][0])]


def test_a_meeting_held_again_in_the_same_procedure_takes_the_place_of_the_earlier_ones(world, tmp_path):
    """Its appraisal voided (the income check it went by corrected), the identification's meeting is
    held again: those minutes take the place of the first meeting's, which stay on record."""
    case = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    world.step("vd", "identification", "appraisal", case, **VOTES)
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": 3800},
                    replace=True, reason="漏算一笔务工收入", void_signoffs=True)
    world.step("vs", "identification", "application", case)
    again = scan_file(tmp_path / "第二次评议会议记录.pdf", "held again")
    world.step("vd", "identification", "appraisal", case, minutes=again, **VOTES)
    earlier, later = minutes_items(world, [case])
    assert (earlier.superseded_by, later.superseded_by) == (later.id, None)
    shown = {e["id"]: e for e in case_trace(world.app, world["insp"], case)["evidence"]}
    assert shown[earlier.id]["supersede_reason"] == "2019-03-01「民主评议」的会议记录"
    english = {e["id"]: e for e in case_trace(world.app, world["insp"], case, "en")["evidence"]}
    assert english[earlier.id]["supersede_reason"].startswith("the minutes of ")


def test_minutes_replaced_after_the_appraisal_void_it_once_the_cadre_agrees(world, tmp_path):
    case = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    world.step("vd", "identification", "appraisal", case, **VOTES)
    world.on(date(2019, 3, 2))
    [item] = minutes_items(world, [case])
    again = scan_file(tmp_path / "会议记录（补签）.pdf", "signed again")
    replace = dict(replace=True, reason="漏了两位代表的签字")
    assert_refused(world, RuleViolation, "evidence.frozen",
                   lambda: attach_evidence(world.app, world["vs"], case, "appraisal_minutes", {}, again, **replace),
                   cases=(case,))
    attach_evidence(world.app, world["vs"], case, "appraisal_minutes", {}, again, void_signoffs=True, **replace)
    with world.app.engine.connect() as conn:
        voided = conn.execute(select(t.steps.c.step_key).where(t.steps.c.case_id == case,
                                                               t.steps.c.voided_at.is_not(None))).scalars().all()
    assert voided == ["appraisal"]


# --- on the command line ----------------------------------------------------------------------

def test_step_takes_the_minutes_file_and_refuses_a_word_file(home, tmp_path):  # noqa: F811
    case = home.register()
    home.ok("vs", "step", "identification", "application", case, "--date", "2019-03-01")
    votes = ["--date", "2019-03-01", "--attendance", "40", "--for", "35", "--against", "2"]
    before = home.snapshot(case)
    missing = home("vd", "step", "identification", "appraisal", case, *votes)
    assert missing.code == 2 and "[appraisal.minutes_required]" in missing.err and "--minutes" in missing.err
    word = tmp_path / "会议记录.docx"
    word.write_bytes(NOT_SCANS["收入核算表.docx"])
    refused = home("vd", "step", "identification", "appraisal", case, *votes, "--minutes", word)
    assert refused.code == 2 and "文件 会议记录.docx 不是照片或扫描件" in refused.err and "Traceback" not in refused.err
    assert home.snapshot(case) == before
    minutes = scan_file(tmp_path / "会议记录.pdf", "到会代表签字")
    home.ok("vd", "step", "identification", "appraisal", case, *votes, "--minutes", minutes)
    shown = home.ok("insp", "case", "show", case).out
    assert "评议会议记录：文件 会议记录.pdf，SHA-256 " in shown        # an item of a file alone: no "：，"
    assert "appraisal minutes: file 会议记录.pdf sha256 " in home("insp", "case", "show", case, lang="en").out
    [item] = [e for e in home.case(case)["evidence"] if e["type"] == "appraisal_minutes"]
    assert item["file"] == hashlib.sha256(minutes.read_bytes()).hexdigest() and item["hash"][:12] in shown
    traced = home.ok("insp", "trace", case).out
    assert item["hash"][:12] in traced
