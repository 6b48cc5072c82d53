"""accountability: responsibility assignments, problem items' links, referrals and outcomes;
audit tables lose UPDATE/DELETE privileges on PostgreSQL

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "responsibilities",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", Id, sa.ForeignKey("cases.id", name="fk_responsibilities_case_id_cases"), nullable=False),
        sa.Column("procedure_id", Id, sa.ForeignKey("procedures.id", name="fk_responsibilities_procedure_id_procedures"),
                  nullable=False),
        sa.Column("procedure_kind", sa.String(40), nullable=False),
        sa.Column("to_stage", sa.String(20)),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("person_id", Id, sa.ForeignKey("persons.id", name="fk_responsibilities_person_id_persons"),
                  nullable=False),
        sa.Column("person_code", sa.String(40), nullable=False),
        sa.Column("person_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(40)),
        sa.Column("region_code", sa.String(12)),
        sa.Column("basis", sa.String(60), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policy_version", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responsibilities")),
    )
    op.create_index("ix_responsibilities_person_id", "responsibilities", ["person_id"])
    op.create_index("ix_responsibilities_case_id", "responsibilities", ["case_id"])
    op.create_index("ix_responsibilities_procedure_id", "responsibilities", ["procedure_id"])
    op.create_table(
        "problem_links",
        sa.Column("problem_id", Id, sa.ForeignKey("cases.id", name="fk_problem_links_problem_id_cases"), nullable=False),
        sa.Column("case_id", Id, sa.ForeignKey("cases.id", name="fk_problem_links_case_id_cases"), nullable=False),
        sa.Column("finding", sa.String(20)),
        sa.Column("chain", sa.JSON(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("problem_id", "case_id", name=op.f("pk_problem_links")),
    )
    op.create_index("ix_problem_links_case_id", "problem_links", ["case_id"])
    op.create_table(
        "discipline_referrals",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("problem_id", Id, sa.ForeignKey("cases.id", name="fk_discipline_referrals_problem_id_cases"),
                  nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discipline_referrals")),
        sa.UniqueConstraint("problem_id", "reason", name="uq_discipline_referrals_problem_reason"),
    )
    op.create_table(
        "accountability_outcomes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("person_id", Id, sa.ForeignKey("persons.id", name="fk_accountability_outcomes_person_id_persons")),
        sa.Column("person_name", sa.String(100)),
        sa.Column("organisation", sa.String(200)),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("problem_id", Id, sa.ForeignKey("cases.id", name="fk_accountability_outcomes_problem_id_cases")),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date()),
        sa.Column("done_on", sa.Date()),
        sa.Column("recorded_by", Id, sa.ForeignKey("persons.id", name="fk_accountability_outcomes_recorded_by_persons"),
                  nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accountability_outcomes")),
    )
    op.create_index("ix_accountability_outcomes_person_id", "accountability_outcomes", ["person_id"])
    op.create_index("ix_accountability_outcomes_problem_id", "accountability_outcomes", ["problem_id"])
    if op.get_bind().dialect.name == "postgresql":
        # Beside the triggers: the application's own role loses the right to change the log. An
        # attacker must now both drop triggers and re-grant privileges, and `audit verify` still
        # finds what they did.
        for table in ("audit_events", "audit_checkpoints"):
            op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")
            op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM CURRENT_USER")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("audit_events", "audit_checkpoints"):
            op.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON {table} TO CURRENT_USER")
    op.drop_table("accountability_outcomes")
    op.drop_table("discipline_referrals")
    op.drop_table("problem_links")
    op.drop_table("responsibilities")
