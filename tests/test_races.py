"""Who loses a race is told what happened: a colleague's action committed between this action's reading
of the record and its writing (two cadres at once on one household, one list) makes it judged again on
the record as it now stands, as if it had come second — the ready cases of a list done, the contested one
refused as done already (by whom, when), a sheet told as imported before — never "the case changed, reload"
naming one case for all. Each race is real: the colleague's transaction, on its own connection in a thread
of its own, commits while the loser's is open between its judging and its writing; on SQLite and, with
JINGZHUN_TEST_PG_URL, on PostgreSQL."""
from __future__ import annotations

import hashlib
import threading
from datetime import date
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.domain.cases import StepInput
from engine.domain.errors import JingzhunError
from engine.reads.audit_verify import verify
from engine.services import case_actions, procedures
from engine.adapters.uow import JUDGED_AGAIN
from engine.services.case_actions import attach_evidence
from engine.services.evidence_sheet import SheetRow, attach_sheet, sheet_items
from engine.services.list_steps import perform_list_step


def meanwhile(world, monkeypatch, module: Any, name: str, colleague: Callable[[], Any], after: bool = False,
               times: int = 1) -> list:
    """The first time this thread calls `module.name` (inside its transaction, before it writes), the
    colleague's action runs to its commit in a thread of its own; `after`: once that call has read;
    `times`: the first so many times. Returns what the colleague's actions came to (results, refusals)."""
    original, seen, me = getattr(module, name), [], threading.get_ident()

    def colleague_first():
        try:
            seen.append(colleague())
        except JingzhunError as refused:
            seen.append(refused)
        finally:
            world.app.close_thread_connection()

    def hooked(*args, **kwargs):
        if len(seen) >= times or threading.get_ident() != me:
            return original(*args, **kwargs)
        result = original(*args, **kwargs) if after else None
        other = threading.Thread(target=colleague_first)
        other.start()
        other.join(60)
        assert seen and not other.is_alive(), "the colleague's action did not end"
        return result if after else original(*args, **kwargs)
    monkeypatch.setattr(module, name, hooked)
    return seen


def test_a_step_that_loses_again_and_again_says_nothing_was_written_and_what_to_do(world, monkeypatch):
    """A colleague changes the household each time the step is judged again (an item attached at the very
    instant, three times over): the step says that the case changed while it was being done, that nothing was
    written and to do it once more — in words for a command line and a page alike, not "reload"."""
    world.on(date(2019, 3, 1))
    case = world.household()
    items = iter([("two_assurances", {"food": True, "clothing": True}), ("housing_safety", {"grade": "A"}),
                  ("drinking_water", {"safe": True})][:JUDGED_AGAIN])
    seen = meanwhile(world, monkeypatch, procedures, "_post_notice", lambda: attach_evidence(
        world.app, world["vd"], case, *next(items)), times=JUDGED_AGAIN)
    with pytest.raises(JingzhunError) as lost:
        world.step("vs", "identification", "application", case)
    assert len(seen) == JUDGED_AGAIN and not any(isinstance(s, JingzhunError) for s in seen)
    assert lost.value.code == "case.changed_meanwhile_by"       # who changed it, how and when (the last time)
    said = lost.value.render(world.app.config)
    assert f"案件 {case} 在本次办理的同时被 vd 改动（添加材料，2019-03-01 " in said and "本次未写入任何内容" in said, said
    assert "重新加载" not in said
    assert "nothing was written" in lost.value.render(world.app.config, "en")
    assert _steps(world, [case], "application") == {}
    assert verify(world.app).intact


def _steps(world, cases: list[int], step: str) -> dict[int, int]:
    with world.app.engine.connect() as conn:
        return dict(conn.execute(select(t.steps.c.case_id, func.count()).where(
            t.steps.c.case_id.in_(cases), t.steps.c.step_key == step, t.steps.c.voided_at.is_(None))
            .group_by(t.steps.c.case_id)).all())


def test_a_list_done_each_while_a_colleague_does_one_of_its_cases_does_the_others(world, monkeypatch):
    """`step … --each` (the web's village list too) over ten households while the village director applies
    for the fifth alone: nine done, the fifth refused as done already by the director — not all ten
    refused, each naming the fifth."""
    world.on(date(2019, 3, 1))
    cases = [world.household(members=1) for _ in range(10)]
    contested = cases[4]
    seen = meanwhile(world, monkeypatch, procedures, "_post_notice", lambda: world.step(
        "vd", "identification", "application", contested))
    result = perform_list_step(world.app, world["vs"], "identification", "application", cases, StepInput())
    assert seen and not isinstance(seen[0], JingzhunError)
    assert sorted(result.done) == sorted(c for c in cases if c != contested)
    assert list(result.refused) == [contested]
    assert [code for code, _ in result.explained(world.app, contested)] == ["step.done"]
    said = result.reasons(world.app, contested)[0]
    assert f"案件 {contested} 的「农户申请」已由" in said and "vd" in said, said
    english = result.reasons(world.app, contested, "en")[0]
    assert "was done already" in english and "vd" in english, english
    assert _steps(world, cases, "application") == {c: 1 for c in cases}
    assert verify(world.app).intact


def _at_township_review(world, count: int) -> list[int]:
    world.on(date(2019, 3, 1))
    cases = [world.household() for _ in range(count)]
    world.up_to_first_notice(cases)
    world.on(date(2019, 3, 8))
    return cases


def test_two_township_signers_on_one_list_the_second_is_told_every_case_is_signed_by_whom(world, monkeypatch):
    """Two township cadres sign the same list's review at once: the one who comes second is refused with
    every case of the list as signed already, by the other, when — as a second signer after the first is."""
    cases = _at_township_review(world, 4)
    seen = meanwhile(world, monkeypatch, procedures, "_post_notice", lambda: world.step(
        "ts2", "identification", "township_review", cases, decision="approve"))
    with pytest.raises(JingzhunError) as lost:
        world.step("ts1", "identification", "township_review", cases, decision="approve")
    assert seen and not isinstance(seen[0], JingzhunError)
    assert lost.value.code == "step.done" and lost.value.params["person"] == "ts2"
    refused = getattr(lost.value, "refused_cases", {})
    assert list(refused) == cases
    assert all([v.code for v in reasons] == ["step.done"] and reasons[0].params["person"] == "ts2"
               for reasons in refused.values()), refused
    said = lost.value.render(world.app.config)
    assert "已由 ts2 于" in said and "重新加载" not in said, said
    assert _steps(world, cases, "township_review") == {c: 1 for c in cases}
    assert verify(world.app).intact


def test_a_review_that_loses_to_an_income_check_replaced_says_the_replacement_voided_the_steps(world, monkeypatch):
    """The village replaces a household's income check (voiding the sign-offs that relied on it) while the
    township reviews it: the review is refused saying that replacement — by whom, when, which steps it
    voided, that the procedure starts again from the application — not only "next step is the application"."""
    case = _at_township_review(world, 1)[0]
    seen = meanwhile(world, monkeypatch, procedures, "_post_notice", lambda: attach_evidence(
        world.app, world["vd"], case, "income_check", {"year": 2018, "net_income": 3900.0}, replace=True,
        void_signoffs=True, reason="复核更正"))
    with pytest.raises(JingzhunError) as lost:
        world.step("ts1", "identification", "township_review", case, decision="approve")
    assert seen and not isinstance(seen[0], JingzhunError)
    assert lost.value.code == "step.voided"
    assert (lost.value.params["expected"], lost.value.params["person"]) == ("application", "vd")
    said = lost.value.render(world.app.config)
    assert f"案件 {case} 下一步应为 农户申请，不是 乡镇审核" in said and "vd 于" in said, said
    assert "更换了该户的收支核查表" in said and "民主评议" in said and "作废" in said, said
    english = lost.value.render(world.app.config, "en")
    assert "replaced its" in english and "voided" in english, english
    assert _steps(world, [case], "township_review") == {}
    # what `case next` and a second try say too, now that the record stands so
    with pytest.raises(JingzhunError) as again:
        world.step("ts1", "identification", "township_review", case, decision="approve")
    assert again.value.code == "step.voided"
    assert verify(world.app).intact


SHEET = {"file": "收支核查表.xlsx", "type": "income_check", "files": None, "mode": "add"}


def _sheet(world, cases: list[int], etype: str = "income_assessment", year: int = 2019, income: float = 9000.0):
    rows = [SheetRow(case=str(c), fields={"year": str(year), "net_income": str(income)}) for c in cases]
    items, problems = sheet_items(world.app, world["vs"], etype, rows)
    assert problems == [] and all(items)
    return items


def test_the_same_sheet_sent_by_two_cadres_at_once_is_told_to_the_second_as_imported_before(world, monkeypatch):
    world.on(date(2019, 3, 1))
    cases = [world.household(members=1) for _ in range(3)]
    source = {**SHEET, "type": "income_assessment", "sha256": hashlib.sha256(b"the sheet").hexdigest(),
              "skipped_rows": 0}
    mine, theirs = _sheet(world, cases), _sheet(world, cases)
    seen = meanwhile(world, monkeypatch, case_actions, "held_evidence", lambda: attach_sheet(
        world.app, world["vd"], theirs, source), after=True)
    with pytest.raises(JingzhunError) as lost:
        attach_sheet(world.app, world["vs"], mine, source)
    assert seen and not isinstance(seen[0], JingzhunError)
    assert lost.value.code == "sheets.imported_before" and lost.value.params["person"] == "vd"
    said = lost.value.render(world.app.config)
    assert "已于" in said and "由 vd 按" in said and "重新加载" not in said, said
    assert verify(world.app).intact


def test_another_sheet_for_the_same_households_at_once_tells_the_second_the_household_holds_it_now(
        world, monkeypatch):
    world.on(date(2019, 3, 1))
    cases = [world.household(members=1) for _ in range(3)]
    mine, theirs = _sheet(world, cases, income=9000.0), _sheet(world, cases, income=9100.0)
    source = lambda text: {**SHEET, "type": "income_assessment",                      # noqa: E731
                           "sha256": hashlib.sha256(text).hexdigest(), "skipped_rows": 0}
    seen = meanwhile(world, monkeypatch, case_actions, "held_evidence", lambda: attach_sheet(
        world.app, world["vd"], theirs, source(b"theirs")), after=True)
    with pytest.raises(JingzhunError) as lost:
        attach_sheet(world.app, world["vs"], mine, source(b"mine"))
    assert seen and not isinstance(seen[0], JingzhunError)
    assert lost.value.code == "sheets.held_meanwhile"
    assert (lost.value.params["case"], lost.value.params["person"]) == (cases[0], "vd")
    said = lost.value.render(world.app.config)
    assert f"案件 {cases[0]} 的收入核算明细表" in said and "已由 vd 于" in said and "未写入任何内容" in said, said
    with world.app.engine.connect() as conn:
        held = conn.execute(select(t.evidence.c.case_id, func.count()).where(
            t.evidence.c.case_id.in_(cases), t.evidence.c.type == "income_assessment",
            t.evidence.c.superseded_by.is_(None)).group_by(t.evidence.c.case_id)).all()
    assert dict(held) == {c: 1 for c in cases}
    assert verify(world.app).intact
