"""ID check: a member's ID number awaiting the cadre's check against the card is marked as such

A number whose county code did not exist in its holder's birth year (a code set up later, or one
abolished before) is registered all the same, for the cadre to confirm (workflows/household_codes.py:
county_code_to_confirm); only the registration's event said so. The member row now keeps it
(`id_check`: "later" or "abolished") until the cadre confirms or corrects the number, and a partial
index finds the few such rows. Existing members are marked by the same rule, read and written a
batch at a time. No event of the log changes (the members digest does not cover the mark). The
backfill applies the rule as this release has it (its table of county codes, today's date for an
impossible age): a home upgraded later is marked by the rule of the code it runs, which is the rule
its registrations use from then on.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op
from stdnum.exceptions import ValidationError

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BATCH = 5000
_members = sa.table("household_members", sa.column("id"), sa.column("id_number"), sa.column("id_check"))


def upgrade() -> None:
    op.add_column("household_members", sa.Column("id_check", sa.String(12)))
    op.create_index("ix_household_members_id_check", "household_members", ["case_id"],
                    sqlite_where=sa.text("id_check IS NOT NULL"), postgresql_where=sa.text("id_check IS NOT NULL"))
    from workflows.household_codes import county_code_to_confirm
    conn, last = op.get_bind(), 0
    while True:
        rows = conn.execute(sa.select(_members.c.id, _members.c.id_number).where(_members.c.id > last)
                            .order_by(_members.c.id).limit(BATCH)).all()
        if not rows:
            return
        marked = [{"b_id": r.id, "b_check": issue} for r in rows if (issue := _to_confirm(county_code_to_confirm,
                                                                                          r.id_number))]
        if marked:
            conn.execute(sa.update(_members).where(_members.c.id == sa.bindparam("b_id")).values(
                id_check=sa.bindparam("b_check")), marked)
        last = rows[-1].id


def _to_confirm(rule, number: str) -> str | None:
    try:
        return rule(number or "")
    except (ValidationError, ValueError, IndexError):      # a number stored before its checks: nothing to say
        return None


def downgrade() -> None:
    op.drop_index("ix_household_members_id_check", table_name="household_members")
    with op.batch_alter_table("household_members") as batch:
        batch.drop_column("id_check")
