"""deadlines of a paper file entered after the fact: met by the date its step bears, alerted as if due later

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
    op.add_column("deadlines", sa.Column("met_on", sa.Date()))
    op.add_column("deadlines", sa.Column("alerts_from", sa.Date()))


def downgrade() -> None:
    # not a batch copy of deadlines (the alerts' foreign keys name it): SQLite drops a column in place
    op.drop_column("deadlines", "alerts_from")
    op.drop_column("deadlines", "met_on")
