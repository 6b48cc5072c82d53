"""press index: organisation events by action and region (a deadline's presses, 督办)

The overdue page shows, for its page of deadlines, how many times each was pressed and when last;
the press itself checks the presser's press of the day. Both read organisation events (no case)
of one action in the deadlines' regions through this partial index.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_events_org_action", "audit_events", ["action", "region_code"],
                    sqlite_where=sa.text("case_id IS NULL"), postgresql_where=sa.text("case_id IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_audit_events_org_action", table_name="audit_events")
