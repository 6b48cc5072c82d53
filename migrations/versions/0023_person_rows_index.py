"""person rows index: a person's steps and responsibilities by (person, id)

A person's trace shows their steps and their responsibilities a page at a time, newest first
(`WHERE person_id = ? AND id < ? ORDER BY id DESC LIMIT n`). The indexes on person_id alone served
that on SQLite (its index ends in the rowid) but not on PostgreSQL, which sorted all of a person's
rows for each page (151,200 steps for a county's busiest signer). Each is replaced by one on
(person_id, id), which serves every read by person the old one served.

Revision ID: 0023
Revises: 0022
"""
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_steps_person", "steps", ["person_id", "id"])
    op.drop_index("ix_steps_person_id", table_name="steps")
    op.create_index("ix_responsibilities_person", "responsibilities", ["person_id", "id"])
    op.drop_index("ix_responsibilities_person_id", table_name="responsibilities")


def downgrade() -> None:
    op.create_index("ix_responsibilities_person_id", "responsibilities", ["person_id"])
    op.drop_index("ix_responsibilities_person", table_name="responsibilities")
    op.create_index("ix_steps_person_id", "steps", ["person_id"])
    op.drop_index("ix_steps_person", table_name="steps")
