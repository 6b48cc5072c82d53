"""monitoring columns: a household's monitoring type and its transition period's end, kept on its case row

A household's monitoring (防返贫监测: {type, since}) and its transition period's last day (过渡期) were
kept only in the case's JSON attributes, which no index serves: supervisors could neither list the
monitored households nor count them by type without reading every case. The case row now keeps them
(`monitoring`: the type monitored now, NULL when not; `transition_until`), each with a partial index,
written from the attributes whenever a procedure completes (engine/domain/monitoring.py). Existing
households are filled from their attributes by the same rule, a batch at a time. No event changes.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

BATCH = 5000
_cases = sa.table("cases", sa.column("id"), sa.column("kind"), sa.column("stage"), sa.column("attrs", sa.JSON),
                  sa.column("monitoring"), sa.column("transition_until"))
INDEXES = (("ix_cases_monitoring", "monitoring"), ("ix_cases_transition_until", "transition_until"))


def upgrade() -> None:
    op.add_column("cases", sa.Column("monitoring", sa.String(20)))
    op.add_column("cases", sa.Column("transition_until", sa.Date))
    for name, column in INDEXES:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "cases", [column, "region_code"], sqlite_where=where, postgresql_where=where)
    from engine.domain.monitoring import columns
    conn, last = op.get_bind(), 0
    while True:
        rows = conn.execute(sa.select(_cases.c.id, _cases.c.stage, _cases.c.attrs).where(
            _cases.c.id > last, _cases.c.kind == "household").order_by(_cases.c.id).limit(BATCH)).all()
        if not rows:
            return
        kept = [{"b_id": r.id, "b_monitoring": found["monitoring"], "b_until": found["transition_until"]}
                for r in rows if any((found := columns(r.stage, r.attrs)).values())]
        if kept:
            conn.execute(sa.update(_cases).where(_cases.c.id == sa.bindparam("b_id")).values(
                monitoring=sa.bindparam("b_monitoring"), transition_until=sa.bindparam("b_until")), kept)
        last = rows[-1].id


def downgrade() -> None:
    for name, _column in reversed(INDEXES):
        op.drop_index(name, table_name="cases")
    # ALTER TABLE … DROP COLUMN, on SQLite too (3.35 and later): a batch would copy the table, which the
    # tables referring to cases do not allow
    op.drop_column("cases", "transition_until")
    op.drop_column("cases", "monitoring")
