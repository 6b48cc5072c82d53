"""visits corrected, withdrawn, and tied to a measure: what a pairing cadre did and what it brought

A visit (走访) may name the measure of the plan in force it concerns (`measure_id`) and say what was done
and what it brought (`result`). A mistaken visit is corrected by a new one (`superseded_by` on the old,
with the reason, `supersede_reason`) or withdrawn (the reason alone); the old row is kept, never rewritten.

Revision ID: 0037
Revises: 0036
"""
import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("monitoring_visits") as batch:
        batch.add_column(sa.Column("measure_id", _ID, sa.ForeignKey(
            "measures.id", name="fk_monitoring_visits_measure_id_measures")))
        batch.add_column(sa.Column("result", sa.Text()))
        batch.add_column(sa.Column("superseded_by", _ID, sa.ForeignKey(
            "monitoring_visits.id", name="fk_monitoring_visits_superseded_by_monitoring_visits")))
        batch.add_column(sa.Column("supersede_reason", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("monitoring_visits") as batch:
        batch.drop_column("supersede_reason")
        batch.drop_column("superseded_by")
        batch.drop_column("result")
        batch.drop_column("measure_id")
