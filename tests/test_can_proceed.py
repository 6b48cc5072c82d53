"""One answer to "can this step proceed?": the step's refusal and `case next --as-of` name the same rules.

For a corpus of situations (who acts, where, twice, a relative, a pairing cadre, out of order, dates,
notices, objections, evidence, a back-dated 2019 exit under the line), the rule code the step refuses
with is the first code `check_step` / `next_for` name as of the step's date, and `next_for` lists
every unmet condition.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

import pytest

from engine.domain.errors import JingzhunError
from engine.reads.queries import check_step, next_for
from engine.services.case_actions import attach_evidence, file_objection, record_relative
from tests.world import VILLAGE, World, member_ids, scan_file
from workflows.household import MemberInput, register_household

MAR1, MAR5, MAR8, MAR15, MAR20 = (date(2019, 3, d) for d in (1, 5, 8, 15, 20))
NOV20, NOV28 = date(2019, 11, 20), date(2019, 11, 28)
ENTERED_ON = date(2026, 12, 2)    # a county entering its 2019 paper files

IDENTIFICATION = (
    ("vs", "application", MAR1, {}),
    ("vd", "appraisal", MAR1, dict(attendance=40, votes_for=35, votes_against=2)),
    ("tl", "village_verification", MAR1, dict(decision="approve", verifiers=("tm",))),
    ("fs", "first_notice", MAR1, {}),
    ("ts1", "township_review", MAR8, dict(decision="approve")),
    ("ts2", "second_notice", MAR8, {}),
    ("cd", "county_approval", MAR15, dict(decision="approve")),
    ("cs", "announcement", MAR15, {}),
)
ASSISTANCE = (
    ("ts1", "pairing", MAR20, dict(first_cadre="pc1", second_cadre="pc2")),
    ("fs", "plan", MAR20, dict(measures=(("industry", "种植脐橙"),))),
    ("th", "plan_approval", MAR20, dict(decision="approve")),
)
WALKS = {"identification": IDENTIFICATION, "assistance": ASSISTANCE}


def walk(world: World, procedure: str, case: int, until: str | None = None, backdated: bool = False) -> None:
    """Do the steps of `procedure` up to (not including) `until`; back-dated: entered on ENTERED_ON."""
    for who, key, day, inputs in WALKS[procedure]:
        if key == until:
            return
        world.on(ENTERED_ON if backdated else day)
        world.step(who, procedure, key, case, date=day, **inputs)


@dataclass
class Situation:
    """A case brought to a point, and the step someone then tries on a day."""
    prepare: Callable[[World, Any], int]
    who: str
    procedure: str
    step: str
    day: date
    inputs: dict = field(default_factory=dict)
    also: tuple[str, ...] = ()          # further codes `case next` must list
    is_next: bool = True                # the step tried is the case's next step
    outside: bool = False               # the person acts outside their region


def _at(until: str, procedure: str = "identification", income: float = 4000.0, relative: str | None = None):
    def prepare(world: World, tmp_path) -> int:
        case = world.household(income_2018=income)
        if relative:
            record_relative(world.app, world["vs"], case, relative, "表兄", "村民代表会议上本人申报")
        walk(world, procedure, case, until)
        return case
    return prepare


def _objection(world: World, tmp_path) -> int:
    case = _at("township_review")(world, tmp_path)
    world.on(date(2019, 3, 3))
    from engine.reads.case_record import case_detail
    notice = case_detail(world.app, world["insp"], case)["notices"][0]["id"]
    file_objection(world.app, world["vs"], notice, case, "村民张三", "家有轿车，收入不实")
    return case


def _no_income_evidence(world: World, tmp_path) -> int:
    people = [MemberInput("成员甲", member_ids(1, 99)[0], "head")]
    case = register_household(world.app, world["vs"], VILLAGE, people, ["illness"])
    attach_evidence(world.app, world["vs"], case, "application", {"applicant": "成员甲", "applied_on": "2019-01-05"})
    return case


def _pairing_cadre(world: World, tmp_path) -> int:
    case = world.paired_staff_household(tmp_path)
    for day, who, key, inputs in World.EXIT_STEPS[:4]:
        world.on(day)
        world.step(who, "exit", key, case, **inputs)
    world.on(NOV28)
    return case


def _backdated_exit(world: World, tmp_path) -> int:
    """2019 paper files entered in 2026: identified, assisted, exit evidence with 3,746 a person (line 3,747)."""
    case = world.household(members=2)
    walk(world, "identification", case, backdated=True)
    walk(world, "assistance", case, backdated=True)
    world.exit_evidence(case, income_2019=3746 * 2, tmp=tmp_path)
    world.on(ENTERED_ON)
    return case


TOMORROW = date(2019, 3, 2)
SITUATIONS = {
    "wrong role": Situation(_at("county_approval"), "vs", "identification", "county_approval", MAR15,
                            dict(decision="approve")),
    "other village": Situation(_at("application"), "vs2", "identification", "application", MAR1,
                               outside=True),
    "other township": Situation(_at("township_review"), "ts_other", "identification", "township_review", MAR8,
                                dict(decision="approve"), outside=True),
    "same person twice": Situation(_at("appraisal"), "vs", "identification", "appraisal", MAR1,
                                   dict(attendance=40, votes_for=35, votes_against=2)),
    "relative": Situation(_at("township_review", relative="ts3"), "ts3", "identification", "township_review",
                          MAR8, dict(decision="approve")),
    "relative while the notice runs": Situation(
        _at("township_review", relative="ts3"), "ts3", "identification", "township_review", MAR5,
        dict(decision="approve"), also=("notice.running",)),
    "pairing cadre": Situation(_pairing_cadre, "pc_ts", "exit", "township_review", NOV28, dict(decision="approve")),
    "out of order": Situation(_at("appraisal"), "cd", "identification", "county_approval", MAR1,
                              dict(decision="approve"), is_next=False),
    "procedure not from the stage": Situation(_at("appraisal"), "vd", "exit", "proposal", MAR1,
                                              dict(attendance=40, votes_for=35, votes_against=2), is_next=False),
    "date before the previous step": Situation(_at("appraisal"), "vd", "identification", "appraisal",
                                               date(2019, 2, 20), dict(attendance=40, votes_for=35, votes_against=2)),
    "future date": Situation(_at("appraisal"), "vd", "identification", "appraisal", TOMORROW,
                             dict(attendance=40, votes_for=35, votes_against=2)),
    "future date and over the line": Situation(
        _at("appraisal", income=8000), "vd", "identification", "appraisal", TOMORROW,
        dict(attendance=40, votes_for=35, votes_against=2), also=("check.identification_standard",)),
    "notice running": Situation(_at("township_review"), "ts1", "identification", "township_review", MAR5,
                                dict(decision="approve")),
    "objection open": Situation(_objection, "ts1", "identification", "township_review", MAR8,
                                dict(decision="approve")),
    "evidence missing": Situation(_no_income_evidence, "vs", "identification", "application", MAR1),
    "income over the line": Situation(_at("appraisal", income=8000), "vd", "identification", "appraisal", MAR1,
                                      dict(attendance=40, votes_for=35, votes_against=2)),
    "back-dated 2019 exit under the line": Situation(
        _backdated_exit, "vd", "exit", "proposal", NOV20, dict(attendance=38, votes_for=33, votes_against=1)),
}


def _refusal(world: World, s: Situation, case: int) -> JingzhunError:
    with pytest.raises(JingzhunError) as info:
        world.step(s.who, s.procedure, s.step, case, date=s.day, **s.inputs)
    return info.value


@pytest.mark.parametrize("name", list(SITUATIONS))
def test_the_refusal_is_the_first_rule_case_next_names(world, tmp_path, name):
    s = SITUATIONS[name]
    case = s.prepare(world, tmp_path)
    if name.startswith("future"):
        world.on(MAR1)
    elif world.today() < s.day:
        world.on(s.day)
    error = _refusal(world, s, case)
    if s.outside:   # someone outside the case's region may not even read it: the same rule refuses
        with pytest.raises(JingzhunError) as info:
            check_step(world.app, world[s.who], case, s.procedure, s.step, as_of=s.day)
        assert info.value.code == error.code == "auth.jurisdiction"
        return
    dry = [v.code for v in check_step(world.app, world[s.who], case, s.procedure, s.step, as_of=s.day)]
    assert dry[0] == error.code, (error.code, dry)
    assert set(s.also) <= set(dry), dry
    if s.is_next:
        nxt = next_for(world.app, world[s.who], case, as_of=s.day)["next"]
        assert (nxt["procedure"], nxt["step"]) == (s.procedure, s.step)
        assert nxt["rules"][0] == error.code and nxt["rules"] == dry
        assert nxt["as_of"] == s.day.isoformat()


def test_case_next_lists_every_rule_the_step_would_break(world):
    """A relative of the household, during the notice, with an objection open: all three are named."""
    case = _objection(world, None)
    record_relative(world.app, world["vs"], case, "ts3", "表兄", "村民代表会议上本人申报")
    world.on(MAR5)
    nxt = next_for(world.app, world["ts3"], case, as_of=MAR5)["next"]
    assert nxt["rules"] == ["duty.relative", "notice.running", "notice.objection"]
    assert len(nxt["blockers"]) == 2 and "村民张三" in nxt["blockers"][1]      # the asker's own rule apart
    assert [v["code"] for v in nxt["violations"]] == nxt["rules"]


def test_a_back_dated_record_is_judged_as_of_its_own_dates(world, tmp_path):
    """The 2019 exit proposal is refused for its income, and `case next` (no --as-of) says so rather
    than that a 2019 figure cannot serve a 2026 decision."""
    case = _backdated_exit(world, tmp_path)
    error = _refusal(world, SITUATIONS["back-dated 2019 exit under the line"], case)
    assert error.code == "check.exit_standard" and "3,747" in error.render(world.app.config, "zh")
    nxt = next_for(world.app, world["vd"], case)["next"]
    assert nxt["as_of"] == MAR20.isoformat()
    assert nxt["rules"] == ["check.exit_standard"]
    text = "\n".join(nxt["blockers"])
    assert "3,747" in text and "2026" not in text


def test_the_default_day_is_today_for_a_record_kept_as_it_happens(world):
    case = world.household()
    walk(world, "identification", case, until="township_review")
    world.on(MAR5)
    nxt = next_for(world.app, world["ts1"], case)["next"]
    assert nxt["as_of"] == MAR5.isoformat() and nxt["rules"] == ["notice.running"]
    world.on(MAR8)
    assert next_for(world.app, world["ts1"], case)["next"]["rules"] == []


def test_the_procedures_transition_is_guarded_by_the_completing_step(world):
    """`may_<procedure>()` on the shared machine asks the completing step's violations."""
    from engine.domain.guards import Violation
    from engine.domain.lifecycle import CaseModel
    lifecycle = world.app.lifecycles["household"]
    assert lifecycle.may(CaseModel(1, "candidate"), "identification")
    blocked = CaseModel(1, "candidate", [Violation("notice.running", {"case": 1, "notice": 1, "end": MAR8})])
    assert not lifecycle.may(blocked, "identification")
    with pytest.raises(JingzhunError) as info:
        lifecycle.complete(blocked, "identification")
    assert info.value.code == "notice.running" and blocked.stage == "candidate"
    assert lifecycle.machine.models == []


def _statements(world: World, action) -> int:
    from sqlalchemy import event
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):   # the reads; a new procedure's row is
            seen.append(statement)                               # inserted per case (its id is needed)
    event.listen(world.app.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(world.app.engine, "before_cursor_execute", count)
    return len(seen)


@pytest.mark.parametrize("step", ["application", "township_review"])
def test_a_list_step_reads_with_the_same_statements_for_two_or_five_households(world, step):
    """Facts are loaded with one statement per table for the whole list, never once per case."""
    counts = []
    for n in (2, 5):
        cases = [world.household() for _ in range(n)]
        walk(world, "identification", cases, until=step)
        who, _, day, inputs = next(s for s in IDENTIFICATION if s[1] == step)
        world.on(day)
        counts.append(_statements(world, lambda: world.step(who, "identification", step, cases, **inputs)))
    assert counts[0] == counts[1], counts


def test_a_village_team_that_served_2019_to_2021_is_in_post_as_of_2019(world, tmp_path):
    """A village's 2019 files entered in 2026: its team (2019-2021) is judged in post on the step's day."""
    from tests.helpers.villages import TEAM, identified_village
    from workflows.village import set_team
    village, jan20 = identified_village(world), date(2019, 1, 20)
    world.on(ENTERED_ON)
    set_team(world.app, world["tsec"], village, TEAM, jan20, date(2021, 1, 20), "首次选派")
    plan = scan_file(tmp_path / "plan.pdf", "Yangtang plan 2019-2020")
    attach_evidence(world.app, world["fs"], village, "village_plan", {"drawn_up_on": "2019-01-20", "summary": "脐橙"},
                    plan)
    world.step("fs", "village_assistance", "village_plan", village, date=jan20)
    nxt = next_for(world.app, world["th"], village)["next"]
    assert (nxt["step"], nxt["as_of"], nxt["rules"]) == ("plan_approval", "2019-01-20", [])
    later = next_for(world.app, world["th"], village, as_of=ENTERED_ON)
    assert later["next"]["rules"] == ["check.team_in_place"] and later["figures"]["team"] == []
    assert [m["person"] for m in next_for(world.app, world["th"], village, as_of=jan20)["figures"]["team"]] \
        == ["fs", "tl", "tm"]
    world.step("th", "village_assistance", "plan_approval", village, decision="approve", date=jan20)


def test_a_date_before_the_previous_step_is_named_once(world):
    """Out of order with the case and with its open procedure is one condition, not two."""
    case = world.household()
    walk(world, "identification", case, until="township_review")
    world.on(MAR8)
    nxt = next_for(world.app, world["ts1"], case, as_of=date(2019, 1, 20))["next"]
    assert nxt["rules"].count("date.order") == 1
    assert sum("2019-01-20" in b for b in nxt["blockers"]) == 1
