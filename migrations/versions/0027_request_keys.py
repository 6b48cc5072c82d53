"""request keys: a form sent again after its answer was lost is answered again, not done twice

A phone on a weak signal may send a form, have the work done, and never get the answer; sent again, it
carries the same `Idempotency-Key` and the server gives the first answer again (engine/services/replays.py).
This table keeps, for a day, the SHA-256 of each key with its sender's credential, method and path, and
the answer given, with the digest of the request's body. No record is changed.

Revision ID: 0027
Revises: 0026
"""
import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_keys",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("status", sa.Integer()),
        sa.Column("headers", sa.Text()),
        sa.Column("body", sa.LargeBinary()),
        sa.Column("request_sha", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_request_keys")),
    )
    op.create_index("ix_request_keys_created_at", "request_keys", ["created_at"])


def downgrade() -> None:
    op.drop_table("request_keys")
