"""A registry moving in starts its cases in the stages it gives (workflows/household_import.py): `audit
verify` and a case's trace must find those cases intact, in one process and in forked workers alike,
and must still find a stage changed behind the engine's back, or the stage the first event states."""
from __future__ import annotations

import pytest
from sqlalchemy import text

import engine.reads.audit_verify as av
from engine.reads.audit_verify import verify
from engine.reads.trace import case_trace
from tests.helpers.tamper import raw
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_registry_import import county, write
from tests.world import VILLAGE, VILLAGE2, member_ids
from workflows.household import MemberInput
from workflows.household_import import ListedHousehold, import_households


def _moved_in(world, stages: list[str | None]) -> list[int]:
    """One two-member household per stage given (None: no stage column), imported by the county office
    director (only a county or city office may set a stage); the new cases' ids, in that order."""
    households = []
    for i, stage in enumerate(stages):
        ids = member_ids(2, 500 + i)
        people = [(2 * i + 2, MemberInput(f"迁入{i}", ids[0], "head")), (2 * i + 3, MemberInput(f"配偶{i}", ids[1], "spouse"))]
        households.append(ListedHousehold(f"h{i}", VILLAGE if i % 2 == 0 else VILLAGE2, people, ["illness"],
                                          code=f"3607309{i:05d}", stage=stage))
    written: list[int] = []

    def refuse(line, column, error):
        raise AssertionError(f"line {line}, {column}: {error}")

    import_households(world.app, world["cd"], households, keep_good=False, source={"file": "迁入.csv", "sha256": "0" * 64},
                      on_problem=refuse, on_skipped=lambda h: None, on_written=lambda h, case: written.append(case))
    return written


def _stages(world, cases: list[int]) -> list[str]:
    with world.app.engine.connect() as conn:
        found = dict(conn.execute(text(f"SELECT id, stage FROM cases WHERE id IN ({', '.join(map(str, cases))})")).all())
    return [found[c] for c in cases]


def _forked(monkeypatch) -> None:
    """Make verify check the cases in forked worker processes, however short the log."""
    monkeypatch.setattr(av, "PARALLEL_FROM", 0)
    monkeypatch.setattr(av, "_processes", lambda: 2)


def test_cases_imported_in_their_stages_verify_intact_in_one_process_and_in_workers(world, monkeypatch):
    cases = _moved_in(world, ["已脱贫", "exited", None, "未脱贫"])
    assert _stages(world, cases) == ["exited", "exited", "candidate", "assisted"]
    alone = verify(world.app, processes=1)
    assert alone.intact, alone.damage
    _forked(monkeypatch)
    forked = verify(world.app)
    assert forked.intact, forked.damage
    assert forked.cases == alone.cases and forked.events == alone.events
    for case in cases:                          # each case's own trace re-chains it the same way
        assert case_trace(world.app, world["insp"], case)["integrity"]["intact"]


@pytest.mark.parametrize("processes", ["one", "workers"])
def test_a_stage_of_an_imported_case_changed_in_the_database_is_still_found(world, monkeypatch, processes):
    exited, assisted, candidate = _moved_in(world, ["已脱贫", "未脱贫", None])
    raw(world, f"UPDATE cases SET stage = 'assisted' WHERE id = {exited}",
        f"UPDATE cases SET stage = 'exited' WHERE id = {assisted}",
        f"UPDATE cases SET stage = 'exited' WHERE id = {candidate}")
    if processes == "workers":
        _forked(monkeypatch)
    damage = verify(world.app, processes=None if processes == "workers" else 1).damage
    found = {(d.kind, d.where, dict(d.params).get("stage"), dict(d.params).get("led_to")) for d in damage}
    assert found == {("stage_unaccounted", f"case {exited}", "assisted", "exited"),
                     ("stage_unaccounted", f"case {assisted}", "exited", "assisted"),
                     ("stage_unaccounted", f"case {candidate}", "exited", "candidate")}


def test_the_stage_the_first_event_states_cannot_be_changed_to_match_a_changed_case(world):
    exited, = _moved_in(world, ["已脱贫"])
    raw(world, f"UPDATE audit_events SET to_stage = 'assisted' WHERE case_id = {exited} AND case_seq = 1",
        f"UPDATE cases SET stage = 'assisted' WHERE id = {exited}")
    assert ("changed", f"case {exited}, event 1") in {(d.kind, d.where.split(" (")[0]) for d in verify(world.app).damage}


def test_audit_verify_after_a_registry_moving_in_exits_0(home, tmp_path):  # noqa: F811
    imported = home("cd", "household", "import", write(tmp_path / "迁入.csv", county(4, stage="已脱贫")))
    assert imported.code == 0, imported.err
    verified = home("insp", "audit", "verify")
    assert verified.code == 0, verified.err + verified.out
    assert "阶段无事件依据" not in verified.out + verified.err
