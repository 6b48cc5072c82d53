"""A household's plan (一户一策) revised, and its pairing cadres changed, after assistance began: the
plan in force, one proposed and awaiting approval, and the measures a later plan replaced, all kept on
the record; a cadre replaced, the new one's load counted against the province's limit."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect, select, text

from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.reads.case_record import case_detail
from engine.reads.indicators import industry_coverage
from engine.reads.queries import next_for
from tests.world import VILLAGE
from tests.helpers.schema import downgrade

REVISED = (("employment", "公益性岗位：护林员"), ("industry", "养牛两头"))
JUN1, JUN5 = date(2019, 6, 1), date(2019, 6, 5)


def measures(world, case: int) -> list[tuple[str, str, str | None]]:
    """(description, status, end) of every measure of the case, as the record shows them."""
    return [(m["description"], m["status"], m["end"]) for m in case_detail(world.app, world["insp"], case)["measures"]]


def covered(world) -> int:
    with world.app.engine.connect() as conn:
        return next(c.covered for c in industry_coverage(conn, [VILLAGE], lambda code: (None, None))
                    if c.region == VILLAGE)


def revise(world, case: int, plan=REVISED, day: date = JUN1) -> None:
    world.on(day)
    world.step("fs", "plan_revision", "plan", case, measures=plan)


def test_a_revised_plan_approved_is_in_force_and_the_old_one_ended_on_the_approval_date(world):
    case = world.household()
    world.identify(case)
    world.assist(case)                                                  # 种植脐橙, approved 2019-03-20
    revise(world, case, (("employment", "公益性岗位：护林员"),))
    world.on(JUN5)
    done = world.step("th", "plan_revision", "plan_approval", case, decision="approve")[0]
    assert (done.procedure_status, done.to_stage) == ("completed", "assisted")      # the stage is kept
    assert measures(world, case) == [("种植脐橙", "ended", "2019-06-05"), ("公益性岗位：护林员", "in_force", None)]
    assert covered(world) == 0               # its industry measure ended: the household is no longer covered
    # The next revision ends the one adopted now, and only it; the first plan keeps its end date.
    world.on(date(2019, 9, 1))
    world.step("vs", "plan_revision", "plan", case, measures=(("industry", "养鸡"),))
    world.step("ts1", "plan_revision", "plan_approval", case, decision="approve")
    assert measures(world, case) == [("种植脐橙", "ended", "2019-06-05"), ("公益性岗位：护林员", "ended", "2019-09-01"),
                                     ("养鸡", "in_force", None)]
    assert covered(world) == 1


def test_a_revision_rejected_leaves_the_plan_in_force_and_its_measures_never_come_into_force(world):
    case = world.household()
    world.identify(case)
    world.assist(case)
    revise(world, case)
    world.on(JUN5)
    world.step("th", "plan_revision", "plan_approval", case, decision="reject", reason="养牛缺少圈舍，计划不可行")
    assert measures(world, case) == [("种植脐橙", "in_force", None), ("公益性岗位：护林员", "rejected", None),
                                     ("养牛两头", "rejected", None)]
    assert covered(world) == 1
    revise(world, case, (("industry", "养牛一头，先建圈舍"),), day=date(2019, 7, 1))   # a new one may start
    world.step("th", "plan_revision", "plan_approval", case, decision="approve")
    assert [m[:2] for m in measures(world, case)][-1] == ("养牛一头，先建圈舍", "in_force")
    assert measures(world, case)[0] == ("种植脐橙", "ended", "2019-07-01")


def test_while_a_revision_waits_the_record_shows_the_plan_in_force_and_the_one_proposed(world):
    case = world.household()
    world.identify(case)
    world.assist(case)
    from tests.helpers.notifications import cli
    told = cli(world, "insp", "case", "next", str(case)).out      # the exit next, and what else may start
    assert "下一步：脱贫退出（待启动）" in told and "也可启动：调整帮扶计划、调整帮扶责任人、错评剔除、自然销户" in told
    revise(world, case)
    # while one is open, only what runs beside it (a cadre moved is replaced whatever is under way)
    assert "也可启动：调整帮扶责任人\n" in cli(world, "insp", "case", "next", str(case)).out
    assert measures(world, case) == [("种植脐橙", "in_force", None), ("公益性岗位：护林员", "proposed", None),
                                     ("养牛两头", "proposed", None)]
    assert covered(world) == 1              # a proposed industry measure does not count before it is approved
    nxt = next_for(world.app, world["th"], case)["next"]
    assert (nxt["procedure"], nxt["step"], nxt["procedure_open"]) == ("plan_revision", "plan_approval", True)
    # The same on the command line, in both languages.
    # the measure in force that the revision does not hold is said to end on its approval (a10 #11: the
    # command line said it as in force), on the command line and the API as on the case page
    shown = cli(world, "insp", "case", "show", str(case))
    assert "帮扶措施 产业帮扶：种植脐橙（调整获批后终止）［措施 " in shown.out
    assert "帮扶措施 产业帮扶：养牛两头（待审批）" in shown.out
    english = cli(world, "insp", "--lang", "en", "case", "show", str(case)).out
    assert "养牛两头 (awaiting approval)" in english
    assert [(m["description"], m["ends_on_approval"]) for m in case_detail(world.app, world["insp"], case)["measures"]] \
        == [("种植脐橙", True), ("公益性岗位：护林员", False), ("养牛两头", False)]


def test_a_plan_revised_through_the_transition_period_and_the_commands_that_list_it(world, tmp_path):
    """Assistance goes on after exit (四个不摘): a consolidated household's plan is revised too, and
    `case next` and `workflow show` name the new procedures in words."""
    from tests.helpers.notifications import cli
    from tests.test_household_life import consolidated
    case = consolidated(world, tmp_path)
    listed = cli(world, "insp", "case", "next", str(case))
    assert "调整帮扶计划" in listed.out and "调整帮扶责任人" in listed.out, listed.out
    assert "change of pairing cadre" in cli(world, "insp", "--lang", "en", "case", "next", str(case)).out
    world.on(date(2020, 3, 2))
    step = cli(world, "fs", "step", "plan_revision", "plan", str(case), "--measure", "产业：养牛", "--date", "2020-03-02")
    assert step.code == 0, step.err
    world.step("ts1", "plan_revision", "plan_approval", case, decision="approve")
    assert [m[1] for m in measures(world, case)] == ["ended", "in_force"]
    shown = cli(world, "insp", "workflow", "show", "household").out
    assert "调整帮扶计划" in shown and "调整帮扶责任人" in shown


def open_pairings(world, case: int) -> list[tuple[str, str]]:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.persons.c.code, t.pairings.c.kind).join(
            t.pairings, t.pairings.c.person_id == t.persons.c.id).where(
            t.pairings.c.case_id == case, t.pairings.c.end_date.is_(None)).order_by(t.pairings.c.kind)).all()


def test_a_pairing_change_replaces_the_first_cadre_and_counts_the_new_ones_load(world):
    from notifications.contacts import set_channels
    set_channels(world.app, world["admin"], "pc2", [("file", "pc2-inbox", "zh")])
    set_channels(world.app, world["admin"], "pc3", [("file", "pc3-inbox", "zh")])
    first, second = world.household(), world.household()
    world.identify([first, second])
    world.assist(first, first="pc1", second="pc2")
    world.assist(second, first="pc3", second=None)
    world.on(JUN1)
    # pc3 is already the first cadre of another household, one-to-one: refused, in words.
    with pytest.raises(RuleViolation) as full:
        world.step("th", "pairing_change", "pairing", first, first_cadre="pc3", second_cadre="pc2")
    assert full.value.code == "pairing.capacity"
    assert "pc3" in full.value.render(world.app.config) and "第一帮扶责任人" in full.value.render(world.app.config)
    assert "first" in full.value.render(world.app.config, "en")
    # pc3 moves to the first household: the second's first cadre becomes pc2 (their first slot is free).
    world.step("ts1", "pairing_change", "pairing", second, first_cadre="pc2")
    assert open_pairings(world, second) == [("pc2", "first")]
    done = world.step("th", "pairing_change", "pairing", first, first_cadre="pc3", second_cadre="pc2")[0]
    assert (done.procedure_status, done.to_stage) == ("completed", "assisted")
    assert open_pairings(world, first) == [("pc3", "first"), ("pc2", "second")]
    detail = case_detail(world.app, world["insp"], first)
    assert ("pc1", "first", "2019-03-20", "2019-06-01") in [(p["person"], p["kind"], p["start"], p["end"])
                                                           for p in detail["pairings"]]
    with world.app.engine.connect() as conn:
        told = conn.execute(select(t.outbox.c.address, t.outbox.c.body).where(t.outbox.c.kind == "pairing")
                            .order_by(t.outbox.c.id)).all()
    # Each cadre hears of each household newly theirs; pc2, kept in their slot, is not told again.
    assert [a for a, _ in told] == ["pc2-inbox", "pc3-inbox", "pc2-inbox", "pc3-inbox"]
    assert "2019-06-01" in told[-1].body and "第一帮扶责任人" in told[-1].body


def test_a_database_made_at_0017_is_upgraded_and_its_measures_named_by_procedure(world):
    """Migration 0018 names each measure's procedure from the plan step that wrote it: an assistance
    awaiting its approval when the server is upgraded is approved on its own plan."""
    import migrations
    done, waiting = world.household(), world.household()
    world.identify([done, waiting])
    world.assist(done)
    world.step("ts1", "assistance", "pairing", waiting, first_cadre="pc3")
    world.step("fs", "assistance", "plan", waiting, measures=(("housing", "危房改造"),))
    downgrade(world.app.engine, "0017")
    with world.app.engine.connect() as conn:
        assert "procedure_id" not in [c["name"] for c in inspect(conn).get_columns("measures")]
    migrations.upgrade(world.app.engine)
    with world.app.engine.connect() as conn:
        named = dict(conn.execute(text("SELECT m.case_id, p.kind FROM measures m JOIN procedures p "
                                       "ON p.id = m.procedure_id")).all())
    assert named == {done: "assistance", waiting: "assistance"}
    assert measures(world, done) == [("种植脐橙", "in_force", None)]
    assert measures(world, waiting) == [("危房改造", "proposed", None)]
    world.step("th", "assistance", "plan_approval", waiting, decision="approve")
    assert measures(world, waiting) == [("危房改造", "in_force", None)]
    revise(world, done)
    world.on(JUN5)
    world.step("th", "plan_revision", "plan_approval", done, decision="approve")
    assert [m[1:] for m in measures(world, done)] == [("ended", "2019-06-05"), ("in_force", None), ("in_force", None)]


def test_a_pairing_changed_twice_in_a_day_tells_each_cadre_each_time(world):
    """A swap on the day of assistance, and a change undone the same day, had crashed on the outbox's
    key (one per case, cadre and day): each pairing step is told on its own."""
    from notifications.contacts import set_channels
    for code in ("pc1", "pc2", "pc3"):
        set_channels(world.app, world["admin"], code, [("file", f"{code}-inbox", "zh")])
    case = world.household()
    world.identify(case)
    world.assist(case, first="pc1", second="pc2")
    world.step("th", "pairing_change", "pairing", case, first_cadre="pc2", second_cadre="pc1")   # the same day
    world.on(date(2019, 6, 1))
    world.step("ts1", "pairing_change", "pairing", case, first_cadre="pc3", second_cadre="pc1")
    world.step("th", "pairing_change", "pairing", case, first_cadre="pc2", second_cadre="pc1")   # undone
    with world.app.engine.connect() as conn:
        told = conn.execute(select(t.outbox.c.address).where(t.outbox.c.kind == "pairing")).scalars().all()
        first = conn.execute(select(t.persons.c.code).join(t.pairings, t.pairings.c.person_id == t.persons.c.id)
                             .where(t.pairings.c.case_id == case, t.pairings.c.end_date.is_(None),
                                    t.pairings.c.kind == "first")).scalar_one()
    assert first == "pc2" and told.count("pc3-inbox") == 1 and told.count("pc2-inbox") >= 2


def _measure_deadlines(world, case: int) -> list[tuple]:
    with world.app.engine.connect() as conn:
        return [(r.subject, r.status, r.closed_reason) for r in conn.execute(
            select(t.deadlines).where(t.deadlines.c.case_id == case, t.deadlines.c.rule == "housing_renovation")
            .order_by(t.deadlines.c.id))]


def test_a_measures_deadline_runs_while_its_plan_holds_it(world):
    """A housing renovation's deadline started when the measure was proposed and ran on whatever became
    of the plan: a revision dropping it left it to go overdue, a revision rejected started another."""
    case = world.household()
    world.identify(case)
    world.on(date(2019, 3, 20))
    world.step("ts1", "assistance", "pairing", case, first_cadre="pc1", second_cadre="pc2")
    world.step("fs", "assistance", "plan", case, measures=(("housing", "危房改造"), ("industry", "种植脐橙")))
    assert _measure_deadlines(world, case) == []                         # proposed: nothing runs yet
    world.step("th", "assistance", "plan_approval", case, decision="approve")
    assert _measure_deadlines(world, case) == [("housing", "open", None)]
    world.on(date(2019, 6, 1))                                            # kept, rejected: it runs on as it was
    world.step("fs", "plan_revision", "plan", case, measures=(("housing", "危房改造"), ("industry", "养牛")))
    world.step("th", "plan_revision", "plan_approval", case, decision="reject", reason="不可行")
    assert _measure_deadlines(world, case) == [("housing", "open", None)]
    world.step("fs", "plan_revision", "plan", case, measures=(("housing", "危房改造"), ("industry", "养牛")))
    world.step("ts1", "plan_revision", "plan_approval", case, decision="approve")       # kept, approved
    assert _measure_deadlines(world, case) == [("housing", "open", None)]
    world.on(date(2019, 7, 1))
    world.step("fs", "plan_revision", "plan", case, measures=(("industry", "养牛"),))
    world.step("th", "plan_revision", "plan_approval", case, decision="approve")         # dropped
    assert _measure_deadlines(world, case) == [("housing", "cancelled", "plan revised")]
    # said in words where deadlines are exported (the closed reason's label)
    assert "不再含此措施" in world.app.config.label("cli.deadline.closed.plan_revised", "zh")


def test_a_measure_a_revision_keeps_keeps_the_day_it_began(world):
    """A revision adding one measure to the plan in force had shown the kept one as begun on the
    revision's day, and listed it twice while the revision waited."""
    case = world.household()
    world.identify(case)
    world.assist(case)                                                   # 产业帮扶：种植脐橙, 2019-03-20
    world.on(date(2019, 6, 1))
    world.step("fs", "plan_revision", "plan", case, measures=(("industry", "种植脐橙"), ("employment", "公益性岗位")))
    world.step("th", "plan_revision", "plan_approval", case, decision="approve")
    in_force = {(m["category"], m["description"]): m["start"] for m in case_detail(world.app, world["insp"], case)["measures"]
                if m["status"] == "in_force"}
    assert in_force == {("industry", "种植脐橙"): "2019-03-20", ("employment", "公益性岗位"): "2019-06-01"}


def test_a_cadre_kept_through_a_change_of_pairing_keeps_their_pairing(world):
    """A second cadre kept while the first was replaced had been shown ended and paired again that day;
    the first cadre, no longer paired, is told so (they had heard nothing)."""
    from notifications.contacts import set_channels
    for code in ("pc1", "pc2", "pc3"):
        set_channels(world.app, world["admin"], code, [("file", f"{code}-inbox", "zh")])
    case = world.household()
    world.identify(case)
    world.assist(case, first="pc1", second="pc2")                          # 2019-03-20
    world.on(date(2019, 6, 1))
    world.step("ts1", "pairing_change", "pairing", case, first_cadre="pc3", second_cadre="pc2")
    pairings = case_detail(world.app, world["insp"], case)["pairings"]
    assert sorted((p["person"], p["kind"], p["start"], p["end"]) for p in pairings) == [
        ("pc1", "first", "2019-03-20", "2019-06-01"), ("pc2", "second", "2019-03-20", None),
        ("pc3", "first", "2019-06-01", None)]
    with world.app.engine.connect() as conn:
        told = conn.execute(select(t.outbox.c.kind, t.outbox.c.address, t.outbox.c.body)
                            .where(t.outbox.c.kind.in_(("pairing", "unpairing"))).order_by(t.outbox.c.id)).all()
    changed = [(k, a) for k, a, _ in told][-2:]                # the change: the new cadre told, the first one too
    assert sorted(changed) == [("pairing", "pc3-inbox"), ("unpairing", "pc1-inbox")]
    assert "不再担任" in told[-1].body + told[-2].body and ("unpairing", "pc2-inbox") not in changed
    # the record says so too: audit verify replays the change as keeping the second cadre's pairing (it had
    # expected a new one from the change's day, and reported the pairing kept as missing: false damage)
    from engine.reads.audit_verify import verify
    report = verify(world.app)
    assert report.intact, [d for d in report.damage][:5]
