"""record keys: a MAC on every audit event, a signature on every checkpoint, the public keys

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy): SQLite keeps the audit tables' append-only triggers.
    op.add_column("audit_events", sa.Column("key_id", sa.String(16)))
    op.add_column("audit_events", sa.Column("mac", sa.String(64)))
    op.add_column("audit_checkpoints", sa.Column("key_id", sa.String(16)))
    op.add_column("audit_checkpoints", sa.Column("signature", sa.String(128)))
    op.create_table(
        "record_keys",
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_record_keys")),
    )


def downgrade() -> None:
    op.drop_table("record_keys")
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.drop_column("signature")
        batch.drop_column("key_id")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("mac")
        batch.drop_column("key_id")
