"""objection ruling: the day a ruling took effect and who verified it on the spot

A township rules on an objection after its visit: the ruling keeps the day it took effect (`resolved_on`,
not after the day it was entered, not before the objection) and the persons of the village or township
who verified it on the spot (`resolution_verifiers`, their person codes), as a verification step names
its verifiers. Rulings recorded before keep NULL: their effective day is the day they were entered.

Revision ID: 0033
Revises: 0032
"""
import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("objections") as batch:
        batch.add_column(sa.Column("resolved_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("resolution_verifiers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("objections") as batch:
        batch.drop_column("resolution_verifiers")
        batch.drop_column("resolved_on")
