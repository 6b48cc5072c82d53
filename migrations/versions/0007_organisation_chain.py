"""organisation events (no case: people, posts, configuration) form one hash chain of their own,
with its head kept like a case's (so a removed last event is found too)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Two organisation events can never take the same place in the chain, even written at once.
    op.execute("CREATE UNIQUE INDEX uq_audit_events_organisation_seq ON audit_events (case_seq) "
               "WHERE case_id IS NULL")
    op.create_table(
        "audit_heads",
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64)),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_audit_heads")),
    )


def downgrade() -> None:
    op.drop_table("audit_heads")
    op.execute("DROP INDEX uq_audit_events_organisation_seq")
