"""outbox folding: one summary message for many alerts to one person, and the deadline a message is about

A sweep that alerts one person of more than a few items on one channel queues one summary message
(kind `alerts`); each alert's own message stays, pointing at it (`folded_into`), and takes its outcome
when it is sent. A message about a deadline (an alert, a press) keeps that deadline (`deadline_id`), so
the dispatcher drops it, as not needed, when the deadline closed before it was sent.

Revision ID: 0036
Revises: 0035
"""
import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("outbox", sa.Column("folded_into", _ID, nullable=True))
    op.add_column("outbox", sa.Column("deadline_id", _ID, nullable=True))
    op.create_index("ix_outbox_folded_into", "outbox", ["folded_into"])
    # an alert still waiting to be sent is checked against its deadline too
    op.execute("UPDATE outbox SET deadline_id = (SELECT alerts.deadline_id FROM alerts WHERE alerts.id = outbox.alert_id)"
               " WHERE alert_id IS NOT NULL AND status IN ('pending', 'sending')")


def downgrade() -> None:
    op.drop_index("ix_outbox_folded_into", table_name="outbox")
    # ALTER TABLE … DROP COLUMN, on SQLite too (3.35 and later): a batch would copy the table, which
    # outbox_attempts, referring to it, does not allow
    op.drop_column("outbox", "deadline_id")
    op.drop_column("outbox", "folded_into")
