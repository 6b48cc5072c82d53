"""payee credit code: a payment to a contractor names its unified social credit code

A project's contract names its contractor's unified social credit code (统一社会信用代码, GB 32100-2015);
a payment under it keeps that code, so that what a contractor was paid is summed by the code where the
contract has one, not by a name two contractors may share or one typist may spell differently.
Payments recorded before keep no code (NULL) and are counted by the contractor's name, as before.

Revision ID: 0032
Revises: 0031
"""
import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disbursements") as batch:
        batch.add_column(sa.Column("payee_code", sa.String(18), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disbursements") as batch:
        batch.drop_column("payee_code")
