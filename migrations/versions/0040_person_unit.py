"""a person's unit (工作单位): a unit head's is the unit he heads, checked against a fund project's responsible unit

Revision ID: 0040
Revises: 0039
"""
import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("persons", sa.Column("unit", sa.String(100)))


def downgrade() -> None:
    # not a batch copy of persons (every table's foreign keys name it): SQLite drops a column in place
    op.drop_column("persons", "unit")
