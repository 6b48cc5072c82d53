"""visits by household and day: a household's last visit read by an index (who has not visited, /supervise/visits)

Revision ID: 0038
Revises: 0037
"""
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_monitoring_visits_case_date", "monitoring_visits", ["case_id", "visit_date"])


def downgrade() -> None:
    op.drop_index("ix_monitoring_visits_case_date", table_name="monitoring_visits")
