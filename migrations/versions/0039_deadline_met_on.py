"""deadlines of a paper file entered after the fact: met by the date its step bears, alerted from its entry

Revision ID: 0039
Revises: 0038
"""
import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.add_column(sa.Column("met_on", sa.Date()))
        batch.add_column(sa.Column("alerts_from", sa.Date()))


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("alerts_from")
        batch.drop_column("met_on")
