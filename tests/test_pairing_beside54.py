"""A pairing cadre moved while the household's exit waits for their signature (a10 #1): the township
replaces them at once, beside the open exit (`beside_open`), which is left as it was; the exit's step
and deadline owned by the pairing cadre go to the new one, who signs it, the old one refused; the
record check passes. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.reads.audit_verify import verify
from engine.reads.queries import next_for


def _case(world, case: int):
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.cases).where(t.cases.c.id == case)).one()


def _waiting(world, case: int) -> list[tuple]:
    """The case's open deadlines: (rule, step waited for, owner's code)."""
    with world.app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(t.deadlines.c.rule, t.deadlines.c.step_key, t.persons.c.code)
            .outerjoin(t.persons, t.persons.c.id == t.deadlines.c.owner_id)
            .where(t.deadlines.c.case_id == case, t.deadlines.c.status == "open").order_by(t.deadlines.c.id))]


def test_a_pairing_change_runs_beside_an_open_exit_and_hands_the_signature_to_the_new_cadre(world):
    from notifications.contacts import set_channels
    set_channels(world.app, world["admin"], "pc1", [("file", "pc1-inbox", "zh")])
    set_channels(world.app, world["admin"], "pc3", [("file", "pc3-inbox", "en")])
    case = world.household()
    world.identify(case)
    world.assist(case, first="pc1", second=None)
    world.exit_evidence(case)
    world.exit(case, through="verification")                 # the exit waits for the household's acknowledgement
    before = _case(world, case)
    assert (before.pending_procedure, before.pending_step) == ("exit", "acknowledgement")
    assert ("step_waiting", "acknowledgement", "pc1") in _waiting(world, case)
    # the case page and `case next` offer the pairing change beside the open exit
    assert "pairing_change" in [o["procedure"] for o in next_for(world.app, world["ts1"], case)["others"]]
    assert next_for(world.app, world["ts1"], case, procedure="pairing_change")["next"]["step"] == "pairing"
    world.on(date(2019, 11, 22))
    done = world.step("ts1", "pairing_change", "pairing", case, first_cadre="pc3")[0]
    assert (done.procedure_status, done.to_stage) == ("completed", "assisted")
    after = _case(world, case)
    assert (after.open_procedure_id, after.pending_procedure, after.pending_step) == (
        before.open_procedure_id, "exit", "acknowledgement")                 # the exit left as it was
    assert ("step_waiting", "acknowledgement", "pc3") in _waiting(world, case)    # its deadline is the new cadre's
    assert not [w for w in _waiting(world, case) if w[2] == "pc1"]
    # each cadre is told, in their language, whom they hand over to or take over from (a10 #9)
    with world.app.engine.connect() as conn:
        told = dict(conn.execute(select(t.outbox.c.address, t.outbox.c.body).where(
            t.outbox.c.kind.in_(("pairing", "unpairing"))).order_by(t.outbox.c.id)).all())     # the last of each
    assert "接替您的帮扶责任人：pairing_cadre-pc3。" in told["pc1-inbox"]
    assert "Until now pairing_cadre-pc1 held it" in told["pc3-inbox"]
    with pytest.raises(RuleViolation):
        world.step("pc1", "exit", "acknowledgement", case)                  # the cadre who left may no longer
    world.step("pc3", "exit", "acknowledgement", case)
    assert (_case(world, case).pending_procedure, _case(world, case).pending_step) == ("exit", "village_notice")
    assert verify(world.app).intact


@pytest.mark.parametrize("procedure, old", [
    ("plan_revision", "  plan_revision:"),         # two steps
    ("consolidation", "  consolidation:"),         # a stage change
])
def test_a_procedure_of_more_steps_or_a_stage_change_may_not_run_beside(tmp_path, procedure, old):
    """The config loader refuses `beside_open` on a procedure of two steps, or one that moves the case."""
    from config import ConfigError, load_config
    from tests.helpers.rules_copy import rules_copy
    folder = rules_copy(tmp_path, {"workflows/household.yaml": (old, old + "\n    beside_open: true")})
    with pytest.raises(ConfigError) as bad:
        load_config(folder)
    assert f"procedures.{procedure}.beside_open" in str(bad.value) and "只有一个步骤" in str(bad.value)
    assert "only for a procedure of one step" in bad.value.render(lang="en")


def test_a_procedure_refused_while_another_is_open_says_what_it_waits_for_and_who_may_do_it(world):
    """a10 #2: "已有进行中的程序 调整帮扶计划，不能开始 …" said nothing of what to do: the refusal names
    the step the open procedure waits for and the posts that may do it, on the command line and in `case next`."""
    from tests.helpers.notifications import cli
    case = world.household()
    world.identify(case)
    world.assist(case)
    world.on(date(2019, 6, 1))
    world.step("fs", "plan_revision", "plan", case, measures=(("industry", "养鸡"),))
    with pytest.raises(RuleViolation) as refused:
        world.step("vd", "exit", "proposal", case, attendance=38, votes_for=33, votes_against=1)
    said = refused.value.render(world.app.config)
    assert refused.value.code == "procedure.other_open"
    assert "调整帮扶计划，正等待「帮扶计划审核」（可由 乡镇干部、乡镇长、乡镇党委书记 办理）" in said, said
    assert 'waiting for "plan approval" (done by ' in refused.value.render(world.app.config, "en")
    told = cli(world, "vd", "case", "next", str(case), "--procedure", "exit")
    assert told.code != 0 and "正等待「帮扶计划审核」" in told.err, told
