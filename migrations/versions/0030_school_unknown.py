"""school unknown: a member's school enrolment may be not recorded (NULL)

A list without a 在校生状况 column, or a blank cell in it, recorded every member as not in school
(非在校): a school-age child then failed the exit standard's compulsory-education check on a fact nobody
gave, and the cadre who recorded the child in school afterwards was flagged for changing it back. Not
given is now NULL (未登记), and the exit standard asks for it to be recorded. Rows stored before keep
their values.

Revision ID: 0030
Revises: 0029
"""
import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("household_members") as batch:
        batch.alter_column("school_enrolment", existing_type=sa.String(20), nullable=True)
    # not recorded as a downgrade kept it (below): NULL again
    op.execute("UPDATE household_members SET school_enrolment = NULL WHERE school_enrolment = ''")


def downgrade() -> None:
    # not recorded kept as empty text, not as 非在校 (a fact nobody gave): the members' digests the audit
    # chain recorded read NULL and '' alike, and an upgrade makes it NULL again
    op.execute("UPDATE household_members SET school_enrolment = '' WHERE school_enrolment IS NULL")
    with op.batch_alter_table("household_members") as batch:
        batch.alter_column("school_enrolment", existing_type=sa.String(20), nullable=False)
