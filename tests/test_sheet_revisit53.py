"""A village re-enters its year-end visit checks in one action (a9 finding 1): households waiting for their
exit proposal whose 两不愁 (housing, water) check is older than the earliest day the exit accepts get this
visit's check from the village's evidence sheet, one save for all of them, each recorded as a replacement
with its reason (重新入户核实); the list's summary then no longer names them. Before, the sheet refused every
row ("already holds this evidence: a sheet only adds") and said nothing was needed."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.list_holds import list_holds
from engine.reads.village_lists import sheet_page
from engine.services.evidence_sheet import SheetRow, attach_sheet, sheet_items
from tests.world import VILLAGE


def _waiting_with_last_years_checks(world, count: int) -> list[int]:
    cases = []
    cadres = ("pc1", "pc2", "pc3")
    for i in range(count):
        case = world.household(members=2, income_2018=4000.0)
        world.identify(case)
        world.assist(case, cadres[i % 3], cadres[(i + 1) % 3])
        world.exit_evidence(case, income_2019=12000.0, confirm=False)
        cases.append(case)
    world.on(date(2020, 10, 20))
    return cases


def _stale(world, etype: str) -> set[int]:
    holds = list_holds(world.app, world["vs"], VILLAGE, "household", "exit", "proposal")
    return {c["id"] for g in holds["groups"] if "2020-04-20" in g["text"] and g["sheet"] == etype for c in g["cases"]}


def test_a_village_s_stale_checks_are_replaced_from_the_sheet_in_one_save(world):
    cases = _waiting_with_last_years_checks(world, 3)
    assert set(cases) <= _stale(world, "two_assurances")
    shown = sheet_page(world.app, world["vs"], VILLAGE, "household", "two_assurances", needed_only=None)
    rows = {r["id"]: r for r in shown["rows"]}
    assert shown["needed_only"] and set(cases) <= set(rows)           # the sheet opens on them
    assert all(rows[c]["needed"] and rows[c]["missing"] for c in cases)
    assert rows[cases[0]]["checked_before"] == {"date": "2019-11-20", "since": "2020-04-20", "relied": None}
    assert shown["needed_missing"] >= 3
    items, problems = sheet_items(world.app, world["vs"], "two_assurances",
                                  [SheetRow(case=str(c), fields={"food": "yes", "clothing": "yes"}) for c in cases])
    assert problems == [] and all(i is not None and i.replace for i in items), problems
    ids = attach_sheet(world.app, world["vs"], items, {"file": "sheet", "sha256": "0" * 64, "type": "two_assurances",
                                                       "files": None, "mode": "add"})
    assert len(ids) == 3
    assert not set(cases) & _stale(world, "two_assurances")           # the list's summary no longer names them
    assert set(cases) <= _stale(world, "housing_safety")              # the other checks still stale
    e = t.evidence.c
    with world.app.engine.connect() as conn:
        old = conn.execute(select(e.case_id, e.supersede_reason).where(
            e.case_id.in_(cases), e.type == "two_assurances", e.superseded_by.in_(ids))).all()
        events = conn.execute(select(t.audit_events.c.action, t.audit_events.c.reason).where(
            t.audit_events.c.case_id == cases[0]).order_by(t.audit_events.c.seq.desc()).limit(1)).all()
    assert len(old) == 3 and all("sheets.revisit_reason" in r.supersede_reason for r in old), old
    assert events[0].action == "evidence_replaced", events
    after = sheet_page(world.app, world["vs"], VILLAGE, "household", "two_assurances", needed_only=None)
    assert not any(r["checked_before"] for r in after["rows"] if r["id"] in cases)
    # a current check is not replaced by the sheet: its correction stays on the household's page
    items, problems = sheet_items(world.app, world["vs"], "two_assurances",
                                  [SheetRow(case=str(cases[0]), fields={"food": "yes", "clothing": "no"})])
    assert items == [None] and problems and problems[0][2].code == "sheets.has_evidence"


def test_a_stale_check_a_step_relied_on_is_shown_and_left_to_the_household_s_page(world):
    """A household the township approved on last year-end's checks waits for the county: its stale check
    is shown with the step that relied on it, not offered as a row (the sheet voids no step)."""
    case = world.household(members=2, income_2018=4000.0)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=12000.0)
    world.exit(case, through="township_review")
    world.on(date(2020, 10, 20))
    shown = sheet_page(world.app, world["vs"], VILLAGE, "household", "two_assurances", needed_only=None)
    row = next(r for r in shown["rows"] if r["id"] == case)
    assert row["checked_before"]["since"] == "2020-04-20" and row["checked_before"]["relied"] == "proposal"
    items, problems = sheet_items(world.app, world["vs"], "two_assurances",
                                  [SheetRow(case=str(case), fields={"food": "yes", "clothing": "yes"})])
    assert items == [None] and problems[0][2].code == "sheets.relied_on", problems
