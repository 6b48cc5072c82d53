"""insurance unknown: a member's basic and critical-illness insurance may be not yet recorded (NULL)

A list that does not say whether a member is insured recorded them as insured, and the exit
standard then passed its basic medical care check on a fact nobody gave. Unknown is now NULL, and
the exit standard asks for it to be recorded.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("household_members") as batch:
        batch.alter_column("insured_basic", existing_type=sa.Boolean(), nullable=True)
        batch.alter_column("insured_critical", existing_type=sa.Boolean(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE household_members SET insured_basic = false WHERE insured_basic IS NULL")  # unknown: not insured
    op.execute("UPDATE household_members SET insured_critical = false WHERE insured_critical IS NULL")
    with op.batch_alter_table("household_members") as batch:
        batch.alter_column("insured_basic", existing_type=sa.Boolean(), nullable=False)
        batch.alter_column("insured_critical", existing_type=sa.Boolean(), nullable=False)
