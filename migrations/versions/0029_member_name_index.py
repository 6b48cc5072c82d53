"""member name index: a household found by a member's name (`case find`, the web's 查找 page)

A cadre or a supervisor asked about a villager has their name at hand, seldom a case number. Finding the
households with a member of that name read every member row of the database (a city: 3,000,000): the
index narrows it to the few so named.

Revision ID: 0029
Revises: 0028
"""
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_household_members_name", "household_members", ["name"])


def downgrade() -> None:
    op.drop_index("ix_household_members_name", table_name="household_members")
