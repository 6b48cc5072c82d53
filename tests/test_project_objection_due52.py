"""An objection to a fund project's notice blocks its procedure as a household's does, and had no deadline (h5 gave
households' objections one): it is due to be ruled on in 5 working days by the township's cadres, closed by the ruling."""
from datetime import date
from sqlalchemy import select
from engine.adapters import tables as t
from tests.helpers.projects import objected_allocation


def test_an_objection_to_a_project_s_notice_is_due_to_be_ruled_on_and_its_ruling_closes_it(world):
    from engine.services.case_actions import resolve_objection
    case, _notice, objection = objected_allocation(world)
    d = t.deadlines.c
    with world.app.engine.connect() as conn:
        [row] = conn.execute(select(d.rule, d.status, d.due_on, t.persons.c.code).join(
            t.persons, t.persons.c.id == d.owner_id).where(d.case_id == case, d.rule == "project_objection_ruling")).all()
    assert row.status == "open" and row.due_on == date(2019, 4, 25) and row.code.startswith("ts"), row
    resolve_objection(world.app, world["th"], objection, False, "核实不属实")
    with world.app.engine.connect() as conn:
        assert conn.execute(select(d.status).where(d.case_id == case, d.rule == "project_objection_ruling")).scalar() \
            == "done"


def test_the_rule_is_named_in_both_languages(world):
    labels = world.app.config.labels
    assert labels["rule.project_objection_ruling"]["zh"].startswith("项目公示异议裁定")
    assert "project notice" in labels["rule.project_objection_ruling"]["en"]
