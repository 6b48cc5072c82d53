"""external codes: the code another system knows a case by (a household's 户编号), unique per kind

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("external_code", sa.String(40)))
    op.create_index("uq_cases_kind_external_code", "cases", ["kind", "external_code"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_cases_kind_external_code", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("external_code")
