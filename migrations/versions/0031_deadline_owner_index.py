"""deadline owner index: a person who leaves hands over their open deadlines at once

Deactivating a person (or ending a post of theirs) re-owns every open deadline they own in the same
transaction; finding them read every deadline row without an index on the owner.

Revision ID: 0031
Revises: 0030
"""
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deadlines_owner_status", "deadlines", ["owner_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_deadlines_owner_status", table_name="deadlines")
