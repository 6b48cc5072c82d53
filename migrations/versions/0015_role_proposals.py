"""role proposals: four eyes on approving roles (a second administrator confirms)

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "role_proposals",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("proposed_by", Id, nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proposal_seq", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("decided_by", Id),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.String(500)),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_role_proposals_person_id_persons")),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"], name=op.f("fk_role_proposals_region_code_regions")),
        sa.ForeignKeyConstraint(["proposed_by"], ["persons.id"], name=op.f("fk_role_proposals_proposed_by_persons")),
        sa.ForeignKeyConstraint(["decided_by"], ["persons.id"], name=op.f("fk_role_proposals_decided_by_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_proposals")),
    )
    op.create_index(op.f("ix_role_proposals_person_id"), "role_proposals", ["person_id"])
    op.create_index(op.f("ix_role_proposals_status"), "role_proposals", ["status"])


def downgrade() -> None:
    op.drop_table("role_proposals")
