"""imported transition ends: the transition period of a household imported as exited, from its exit year

A household imported as exited (or consolidated) already, its registry noting the year it exited
(`exit_year`), was given no transition period's end (`cases.transition_until`, migration 0021): it
was in no list of households whose period ends in a year, nor counted in the figures. Its period is
now reckoned from that year, to the last day of the year it ends in (engine/domain/monitoring.py), and
kept on the case row as the lists read it. The households imported so are filled here, a batch at a
time, by the transition period's length of the rules in force (policy.yaml's
`transition_period_years` for the household's province and exit year; the packaged rules where the
upgrade is given none). Only the case row's column changes: the attributes, and so the record, do not.
A household imported exited with no year noted stays without one until a county office notes its year.

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BATCH = 5000
_cases = sa.table("cases", sa.column("id"), sa.column("kind"), sa.column("stage"), sa.column("region_code"),
                  sa.column("attrs", sa.JSON), sa.column("transition_until"))


def upgrade() -> None:
    from engine.domain.monitoring import period_years
    from engine.domain.regions import province_of
    policy = op.get_context().config.attributes.get("policy") if op.get_context().config else None
    if policy is None:
        from config import load_config
        policy = load_config().policy
    _each_imported(lambda r: period_years(policy, province_of(r.region_code)))


def downgrade() -> None:
    _each_imported(None)     # the ends reckoned here are taken back: before, nothing reckoned them


def _each_imported(years) -> None:
    """The exited or consolidated households whose attributes record no transition end, a batch at a
    time: their column set to the end reckoned from their imported exit year (`years`), else emptied."""
    from engine.domain.exit_years import EXITED_STAGES
    from engine.domain.monitoring import reckoned_from_year
    conn, last = op.get_bind(), 0
    while True:
        rows = conn.execute(sa.select(_cases.c.id, _cases.c.stage, _cases.c.region_code, _cases.c.attrs).where(
            _cases.c.id > last, _cases.c.kind == "household", _cases.c.stage.in_(EXITED_STAGES),
            _cases.c.transition_until.is_(None) if years is not None else _cases.c.transition_until.is_not(None))
            .order_by(_cases.c.id).limit(BATCH)).all()
        if not rows:
            return
        if years is not None:
            kept = [{"b_id": r.id, "b_until": found[0]} for r in rows
                    if (found := reckoned_from_year(r.stage, r.attrs, years(r)))]
        else:
            kept = [{"b_id": r.id, "b_until": None} for r in rows
                    if reckoned_from_year(r.stage, r.attrs, lambda year: 0)]
        if kept:
            conn.execute(sa.update(_cases).where(_cases.c.id == sa.bindparam("b_id")).values(
                transition_until=sa.bindparam("b_until")), kept)
        last = rows[-1].id
