"""sample checks: draws of exited households and the findings recorded against them

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sample_draws",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(40), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("drawn_by", Id, nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"], name=op.f("fk_sample_draws_region_code_regions")),
        sa.ForeignKeyConstraint(["drawn_by"], ["persons.id"], name=op.f("fk_sample_draws_drawn_by_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_draws")),
    )
    op.create_index(op.f("ix_sample_draws_region_code"), "sample_draws", ["region_code"])
    op.create_table(
        "sample_findings",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("draw_id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("finding", sa.String(20), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("file_sha256", sa.String(64)),
        sa.Column("problem_id", Id),
        sa.Column("recorded_by", Id, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["draw_id"], ["sample_draws.id"], name=op.f("fk_sample_findings_draw_id_sample_draws")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_sample_findings_case_id_cases")),
        sa.ForeignKeyConstraint(["problem_id"], ["cases.id"], name=op.f("fk_sample_findings_problem_id_cases")),
        sa.ForeignKeyConstraint(["recorded_by"], ["persons.id"], name=op.f("fk_sample_findings_recorded_by_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_findings")),
    )
    op.create_index(op.f("ix_sample_findings_draw_id"), "sample_findings", ["draw_id"])
    op.create_index(op.f("ix_sample_findings_case_id"), "sample_findings", ["case_id"])
    op.create_index(op.f("ix_sample_findings_region_code"), "sample_findings", ["region_code"])


def downgrade() -> None:
    op.drop_table("sample_findings")
    op.drop_table("sample_draws")
