"""What the refusal tests share: a procedure walked step by step, and the proof that a refused
action wrote nothing and said why."""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, NamedTuple

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.domain.errors import JingzhunError
from tests.world import World


# --- the walk through a procedure, step by step ------------------------------------------------

MAR1, MAR3, MAR5, MAR8, MAR15, MAR20, MAR22 = (date(2019, 3, d) for d in (1, 3, 5, 8, 15, 20, 22))
NOV20, NOV28 = date(2019, 11, 20), date(2019, 11, 28)


class Step(NamedTuple):
    who: str
    key: str
    day: date
    inputs: dict[str, Any] = {}


# The same walk as World.identify / World.exit, as data, so a test can stop before any step.
IDENTIFICATION = (
    Step("vs", "application", MAR1),
    Step("vd", "appraisal", MAR1, dict(attendance=40, votes_for=35, votes_against=2)),
    Step("tl", "village_verification", MAR1, dict(decision="approve", verifiers=("tm",))),
    Step("fs", "first_notice", MAR1),
    Step("ts1", "township_review", MAR8, dict(decision="approve")),
    Step("ts2", "second_notice", MAR8),
    Step("cd", "county_approval", MAR15, dict(decision="approve")),
    Step("cs", "announcement", MAR15),
)
EXIT = (
    Step("vd", "proposal", NOV20, dict(attendance=38, votes_for=33, votes_against=1)),
    Step("tl", "verification", NOV20, dict(decision="approve", verifiers=("ts2", "ts3", "ts4"))),
    Step("fs", "acknowledgement", NOV20),
    Step("vs", "village_notice", NOV20),
    Step("ts1", "township_review", NOV28, dict(decision="approve")),
    Step("ch", "county_approval", NOV28, dict(decision="approve")),
    Step("cs", "announcement", NOV28),
)
PROCEDURES = {"identification": IDENTIFICATION, "exit": EXIT}


def walk(world: World, procedure: str, case: int | list[int], until: str | None = None) -> dict[str, list]:
    """Do the steps of `procedure` in order up to (not including) `until`, the clock set for that step.

    Returns the outcomes of the steps done, by step key (notice steps carry their notice id).
    """
    done = {}
    for who, key, day, inputs in PROCEDURES[procedure]:
        world.on(day)
        if key == until:
            return done
        done[key] = world.step(who, procedure, key, case, **inputs)
    assert until is None, f"{until} is not a step of {procedure}"
    return done


def assisted_household(world: World, tmp_path, members: int = 2, school_age_child: str | None = None,
                       **exit_evidence: Any) -> int:
    """A household identified and under assistance (first cadre pc1), with its exit evidence attached."""
    case = world.household(members=members, school_age_child=school_age_child)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, tmp=tmp_path, **exit_evidence)
    return case


# --- nothing written, and a message that says why -----------------------------------------------

def snapshot(world: World, cases: tuple[int, ...] = ()) -> dict[str, Any]:
    """Row counts of every table, a few updated columns, and each case's version, stage and pending step."""
    with world.app.engine.connect() as conn:
        state: dict[str, Any] = {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                                 for table in t.metadata.sorted_tables}
        state["steps voided"] = conn.execute(select(func.count()).select_from(t.steps).where(
            t.steps.c.voided_at.is_not(None))).scalar_one()
        state["evidence superseded"] = conn.execute(select(func.count()).select_from(t.evidence).where(
            t.evidence.c.superseded_by.is_not(None))).scalar_one()
        state["objections resolved"] = conn.execute(select(func.count()).select_from(t.objections).where(
            t.objections.c.resolution.is_not(None))).scalar_one()
        state["procedures ended"] = conn.execute(select(func.count()).select_from(t.procedures).where(
            t.procedures.c.status != "open")).scalar_one()
        for case in cases:
            state[f"case {case}"] = tuple(conn.execute(select(
                t.cases.c.version, t.cases.c.stage, t.cases.c.open_procedure_id, t.cases.c.pending_procedure,
                t.cases.c.pending_step).where(t.cases.c.id == case)).one())
    return state


def shown_as(world: World, value: Any, lang: str) -> set[str]:
    """How a message may show `value`: as given, or by its label (step, procedure, stage, evidence, role)."""
    config, value = world.app.config, str(value)
    forms = {value}
    for prefix in ("step", "procedure", "stage", "evidence", "fail", "rule"):
        if f"{prefix}.{value}" in config.labels:
            forms.add(config.label(f"{prefix}.{value}", lang).split("：")[0].split(":")[0])
    if value in config.roles:
        forms.add(config.role_label(value, lang))
    return forms


def assert_refused(world: World, error_type: type[JingzhunError], code: str, action: Callable[[], Any], *,
                   names: tuple = (), cases: tuple[int, ...] = ()) -> JingzhunError:
    """`action` raises exactly `error_type` with `code`, both messages name `names`, nothing is written."""
    before = snapshot(world, cases)
    with pytest.raises(JingzhunError) as info:
        action()
    error = info.value
    assert type(error) is error_type, f"{type(error).__name__} {error.code} {error.params}"
    assert error.code == code, f"{error.code} {error.params}"
    texts = {lang: error.render(world.app.config, lang) for lang in ("zh", "en")}
    for lang, text in texts.items():
        assert text, lang
        assert not text.startswith(f"{code}:"), f"no msg.{code} label in {lang}: {text}"
        assert "{" not in text, f"unfilled placeholder in {lang}: {text}"
        for name in names:
            assert any(form in text for form in shown_as(world, name, lang)), \
                f"{lang} message does not name {name!r}: {text}"
    assert texts["zh"] != texts["en"]
    assert snapshot(world, cases) == before, "the refusal wrote something"
    return error
