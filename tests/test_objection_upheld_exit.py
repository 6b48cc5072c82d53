"""An exit ended on an objection upheld: the household is not proposed again on the facts the objection
contradicted. The next proposal is refused, saying the ruling's day and reason, until at least one exit
item is recorded after the ruling (a6 finding 5); case next (the village list's and case page's "needs")
says the same."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.reads.queries import next_for
from engine.services.case_actions import attach_evidence, file_objection, resolve_objection
from tests.helpers.notifications import cli
from tests.test_refusals import snapshot

PROPOSAL = dict(attendance=38, votes_for=33, votes_against=1)


def _upheld(world) -> tuple[int, int]:
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case)
    world.exit(case, through="village_notice")
    with world.app.engine.connect() as conn:        # the notice world.exit posted
        notice = conn.execute(select(t.notice_cases.c.notice_id).where(t.notice_cases.c.case_id == case)
                              .order_by(t.notice_cases.c.notice_id.desc())).scalar()
    world.on(date(2019, 11, 22))
    oid = file_objection(world.app, world["tm"], notice, case, "村民李某", "房子去年塌了一间，现在还住危房",
                         date(2019, 11, 22))
    world.on(date(2019, 11, 26))
    resolve_objection(world.app, world["ts1"], oid, True, "住房一间倒塌未修复，住房不安全", date(2019, 11, 25), ["tl"])
    return case, oid


def test_a_household_whose_exit_ended_on_an_objection_upheld_is_proposed_again_only_on_facts_checked_since(world):
    case, oid = _upheld(world)
    world.on(date(2019, 11, 27))
    needs = json.dumps(next_for(world.app, world["vd"], case), ensure_ascii=False, default=str)
    assert f"异议 {oid} 成立" in needs and "2019-11-25 处理，理由：住房一间倒塌未修复" in needs, needs
    before = snapshot(world, (case,))
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, **PROPOSAL)
    assert refused.value.code == "check.objection_answered"
    assert snapshot(world, (case,)) == before
    said = cli(world, "vd", "--lang", "en", "case", "next", case)
    assert f"objection {oid} upheld (ruled on 2019-11-25" in said.out + said.err, said.out + said.err
    # the village checks the house again: a new appraisal recorded after the ruling
    attach_evidence(world.app, world["vs"], case, "housing_safety", {"grade": "A"}, replace=True,
                    reason="倒塌的一间已修复，重新鉴定")
    world.step("vd", "exit", "proposal", case, **PROPOSAL)


def test_a_household_never_objected_to_is_proposed_as_before(world):
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case)
    world.step("vd", "exit", "proposal", case, **PROPOSAL)
