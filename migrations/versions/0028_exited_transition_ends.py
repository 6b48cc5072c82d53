"""exited transition ends: the transition period of a household exited through the procedure runs from its exit

A household that exited through the exit procedure was given its transition period's end
(`cases.transition_until`, migration 0021) only when it was consolidated: exited and not yet
consolidated, it was in no list of households whose period ends in a year, nor counted in the figures,
though the period runs from the exit (DOMAIN §3). The exit now writes it (workflows/household_steps.py
`record_exit`); here the households exited so are filled from their recorded exit day (`exited_on`), a
batch at a time, by the transition period's length of the rules in force (policy.yaml's
`transition_period_years` for the household's province and exit year; the packaged rules where the
upgrade is given none). Only the case row's column changes: the attributes, and so the record, do not.

Revision ID: 0028
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

BATCH = 5000
_cases = sa.table("cases", sa.column("id"), sa.column("kind"), sa.column("stage"), sa.column("region_code"),
                  sa.column("attrs", sa.JSON), sa.column("transition_until"))


def upgrade() -> None:
    from engine.domain.monitoring import from_exit, period_years
    from engine.domain.regions import province_of
    policy = op.get_context().config.attributes.get("policy") if op.get_context().config else None
    if policy is None:
        from config import load_config
        policy = load_config().policy
    _each_exited(lambda r, exited: from_exit(exited, period_years(policy, province_of(r.region_code))))


def downgrade() -> None:
    _each_exited(lambda r, exited: None, filled=True)   # before, an exit alone wrote no end


def _each_exited(end, filled: bool = False) -> None:
    """The households exited (not yet consolidated) with their exit day recorded, a batch at a time: those
    without a transition end (with one, when `filled`) given `end(row, exit day)`."""
    from datetime import date
    conn, last = op.get_bind(), 0
    while True:
        rows = conn.execute(sa.select(_cases.c.id, _cases.c.region_code, _cases.c.attrs).where(
            _cases.c.id > last, _cases.c.kind == "household", _cases.c.stage == "exited",
            _cases.c.transition_until.is_not(None) if filled else _cases.c.transition_until.is_(None))
            .order_by(_cases.c.id).limit(BATCH)).all()
        if not rows:
            return
        kept = []
        for r in rows:
            try:
                exited = date.fromisoformat(str((r.attrs or {}).get("exited_on") or ""))
            except ValueError:
                continue          # imported as exited: no exit day (migration 0024 reckons from its year)
            kept.append({"b_id": r.id, "b_until": end(r, exited)})
        if kept:
            conn.execute(sa.update(_cases).where(_cases.c.id == sa.bindparam("b_id")).values(
                transition_until=sa.bindparam("b_until")), kept)
        last = rows[-1].id
