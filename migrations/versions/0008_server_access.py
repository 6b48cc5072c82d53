"""server access: passwords, enrolment codes, browser sessions, sign-in throttle, scheduler lease

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "passwords",
        sa.Column("person_id", Id, nullable=False),
        sa.Column("hash", sa.String(200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_passwords_person_id_persons")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_passwords")),
    )
    op.create_table(
        "enrolment_codes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("issued_by", Id, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery", sa.String(20), nullable=False),
        sa.Column("spent_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_enrolment_codes_person_id_persons")),
        sa.ForeignKeyConstraint(["issued_by"], ["persons.id"], name=op.f("fk_enrolment_codes_issued_by_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_enrolment_codes_code_hash")),
    )
    op.create_index(op.f("ix_enrolment_codes_person_id"), "enrolment_codes", ["person_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_web_sessions_person_id_persons")),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_person_id"), "web_sessions", ["person_id"])
    op.create_table(
        "sign_in_failures",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_failures")),
    )
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("holder", sa.String(100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )


def downgrade() -> None:
    for name in ("scheduler_leases", "sign_in_failures", "web_sessions", "enrolment_codes", "passwords"):
        op.drop_table(name)
