"""reopened columns: a household reopened by a problem item is no longer listed in its transition period

A household found wrongly exited through a problem item (or a sample check's finding) was put back under
assistance with its attributes' transition period and monitoring taken off, but its case row kept the
columns the lists and figures read (`cases.transition_until`, `cases.monitoring`, migration 0021): it
stayed among the households whose transition period ends in a year, counted in the figures' columns. The
reopening now writes them (workflows/problem.py); here the households it left so are written again from
their attributes, a batch at a time (only the case row's columns: the record is not changed).

Revision ID: 0026
Revises: 0025
"""
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

BATCH = 5000
_cases = sa.table("cases", sa.column("id"), sa.column("kind"), sa.column("stage"), sa.column("attrs", sa.JSON),
                  sa.column("monitoring"), sa.column("transition_until"))


def upgrade() -> None:
    from engine.domain.monitoring import columns
    conn, last = op.get_bind(), 0
    while True:
        rows = conn.execute(sa.select(_cases.c.id, _cases.c.stage, _cases.c.attrs).where(
            _cases.c.id > last, _cases.c.kind == "household", _cases.c.stage.not_in(("exited", "consolidated")),
            sa.or_(_cases.c.transition_until.is_not(None), _cases.c.monitoring.is_not(None)))
            .order_by(_cases.c.id).limit(BATCH)).all()
        if not rows:
            return
        written = []
        for r in rows:
            now = columns(r.stage, r.attrs)
            written.append({"b_id": r.id, "b_monitoring": now["monitoring"], "b_until": now["transition_until"]})
        conn.execute(sa.update(_cases).where(_cases.c.id == sa.bindparam("b_id")).values(
            monitoring=sa.bindparam("b_monitoring"), transition_until=sa.bindparam("b_until")), written)
        last = rows[-1].id


def downgrade() -> None:
    pass     # the columns say what the attributes say, under any schema
