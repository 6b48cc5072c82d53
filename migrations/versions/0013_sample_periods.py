"""sample periods: the year whose exits a sample draw checks

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sample_draws") as batch:
        batch.add_column(sa.Column("period", sa.Integer()))
    conn = op.get_bind()
    for draw_id, drawn_at in conn.execute(sa.text("SELECT id, drawn_at FROM sample_draws")).all():
        year = drawn_at.year if hasattr(drawn_at, "year") else int(str(drawn_at)[:4])
        conn.execute(sa.text("UPDATE sample_draws SET period = :year WHERE id = :id"), {"year": year, "id": draw_id})


def downgrade() -> None:
    with op.batch_alter_table("sample_draws") as batch:
        batch.drop_column("period")
