"""objection ruling's file: the registry checks behind a ruling, kept as evidence

A township rules on an objection on what it checked (a vehicle or property registry's answer, a visit's
record): the ruling may keep that paper as a file, stored and hashed as any evidence item of the case
(type `objection_ruling`), which `resolution_evidence_id` names. Rulings recorded before keep NULL.

Revision ID: 0034
Revises: 0033
"""
import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("objections") as batch:
        batch.add_column(sa.Column("resolution_evidence_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                                   nullable=True))
        batch.create_foreign_key(op.f("fk_objections_resolution_evidence_id_evidence"), "evidence",
                                 ["resolution_evidence_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("objections") as batch:
        batch.drop_constraint(op.f("fk_objections_resolution_evidence_id_evidence"), type_="foreignkey")
        batch.drop_column("resolution_evidence_id")
