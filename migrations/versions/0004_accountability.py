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
    _append_only()
    if op.get_bind().dialect.name == "postgresql":
        # Beside the triggers: the application's own role loses the right to change the log. An
        # attacker must now both drop triggers and re-grant privileges, and `audit verify` still
        # finds what they did.
        for table in ("audit_events", "audit_checkpoints"):
            op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")
            op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM CURRENT_USER")


# What accountability rests on is written once: who was named responsible, what a problem item
# found, a referral. An outcome changes once, when it is carried out (done_on), and never otherwise.
APPEND_ONLY = ("responsibilities", "problem_links", "discipline_referrals")
OUTCOME_COLUMNS = ("person_id", "person_name", "organisation", "region_code", "outcome", "problem_id", "reason",
                   "decided_on", "due_on", "recorded_by", "recorded_at")


def _append_only() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END")
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in OUTCOME_COLUMNS)
        op.execute("CREATE TRIGGER accountability_outcomes_no_update BEFORE UPDATE ON accountability_outcomes "
                   f"WHEN OLD.done_on IS NOT NULL OR {changed} "
                   "BEGIN SELECT RAISE(ABORT, 'an accountability outcome changes only once, when carried out'); END")
        op.execute("CREATE TRIGGER accountability_outcomes_no_delete BEFORE DELETE ON accountability_outcomes "
                   "BEGIN SELECT RAISE(ABORT, 'accountability outcomes are never deleted'); END")
    elif dialect == "postgresql":
        op.execute("CREATE FUNCTION accountability_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$")
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION accountability_append_only()")
        op.execute("CREATE FUNCTION accountability_outcome_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF TG_OP = 'DELETE' OR OLD.done_on IS NOT NULL "
                   "OR (to_jsonb(NEW) - 'done_on') <> (to_jsonb(OLD) - 'done_on') THEN "
                   "RAISE EXCEPTION 'an accountability outcome changes only once, when carried out'; END IF; "
                   "RETURN NEW; END $$")
        op.execute("CREATE TRIGGER accountability_outcomes_once BEFORE UPDATE OR DELETE ON accountability_outcomes "
                   "FOR EACH ROW EXECUTE FUNCTION accountability_outcome_once()")
        op.execute("CREATE TRIGGER accountability_outcomes_no_truncate BEFORE TRUNCATE ON accountability_outcomes "
                   "FOR EACH STATEMENT EXECUTE FUNCTION accountability_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("audit_events", "audit_checkpoints"):
            op.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON {table} TO CURRENT_USER")
        # The tables' triggers go with them; their functions are left behind otherwise.
        op.execute("DROP TABLE accountability_outcomes, discipline_referrals, problem_links, responsibilities")
        op.execute("DROP FUNCTION accountability_append_only()")
        op.execute("DROP FUNCTION accountability_outcome_once()")
        return
    op.drop_table("accountability_outcomes")
    op.drop_table("discipline_referrals")
    op.drop_table("problem_links")
    op.drop_table("responsibilities")
