"""What the village tests share: a village's life, and the household data behind it."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.case_actions import attach_evidence
from engine.domain.errors import JingzhunError, RuleViolation
from engine.reads.queries import next_for
from tests.helpers.refusals import snapshot
from tests.world import VILLAGE, World, scan_file
from workflows.village import TeamMemberInput, register_village, set_team


TEAM = (TeamMemberInput("fs", "first_secretary", "省农业农村厅"), TeamMemberInput("tl", "leader", "县财政局"),
        TeamMemberInput("tm", "member", "县林业局"))
PROFILE = {"year": 2018, "poor_persons": 40, "per_capita_income": 3000, "provincial_income": 12000,
           "provincial_incidence": 0.05, "collective_income": 0}
CHECKLIST = {"year": 2019, "collective_income": 52000, "road": True, "drinking_water": True, "electricity": 1.0,
             "clinic": True}


# --- helpers: a village's life, household data behind it -----------------------------------------

def state(world: World, *cases: int) -> dict[str, Any]:
    """Everything a refusal must leave as it was: row counts, cases, and the team's rows."""
    found = snapshot(world, cases)
    with world.app.engine.connect() as conn:
        found["team"] = conn.execute(select(t.village_team).order_by(t.village_team.c.id)).all()
        found["attrs"] = [conn.execute(select(t.cases.c.attrs).where(t.cases.c.id == c)).scalar() for c in cases]
    return found


def refused(world: World, code: str, action, *cases: int, error=RuleViolation) -> JingzhunError:
    """`action` is refused with `code`, said in Chinese and English, and nothing is written."""
    before = state(world, *cases)
    with pytest.raises(JingzhunError) as info:
        action()
    assert type(info.value) is error and info.value.code == code, f"{info.value.code} {info.value.params}"
    for lang in ("zh", "en"):
        text = info.value.render(world.app.config, lang)
        assert not text.startswith(code) and "{" not in text, text
    assert state(world, *cases) == before
    return info.value


def identified_village(world: World, population: int = 200, village: str = VILLAGE) -> int:
    """A village registered and identified (一高一低一无) in January 2019."""
    world.on(date(2019, 1, 10))
    case = register_village(world.app, world["vs"], village, population, 2018)
    attach_evidence(world.app, world["vs"], case, "village_profile", PROFILE)
    world.step("vs", "village_identification", "village_application", case)
    world.step("ts1", "village_identification", "township_review", case, decision="approve")
    world.step("ts2", "village_identification", "township_notice", case)
    world.on(date(2019, 1, 17))
    world.step("cd", "village_identification", "county_approval", case, decision="approve")
    world.step("cs", "village_identification", "announcement", case)
    return case


def assisted_village(world: World, tmp_path: Path, population: int = 200) -> int:
    """... with its resident work team (fs, tl, tm; 2019-2021) and its plan approved."""
    case = identified_village(world, population)
    world.on(date(2019, 1, 20))
    set_team(world.app, world["tsec"], case, TEAM, date(2019, 1, 20), date(2021, 1, 20), "首次选派")
    plan = scan_file(tmp_path / f"plan-{case}.pdf", "Yangtang plan 2019-2020")
    attach_evidence(world.app, world["fs"], case, "village_plan", {"drawn_up_on": "2019-01-20", "summary": "脐橙"},
                    plan)
    world.step("fs", "village_assistance", "village_plan", case)
    world.step("th", "village_assistance", "plan_approval", case, decision="approve")
    return case


def figures(world: World, case: int, lang: str = "en") -> dict[str, Any]:
    return next_for(world.app, world["insp"], case, lang)["figures"]
