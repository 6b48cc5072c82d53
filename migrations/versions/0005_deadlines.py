"""deadlines, alerts, person channels, outbox and delivery attempts; APScheduler's job store

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "deadlines",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("case_id", Id, _fk("deadlines", "case_id", "cases"), nullable=False),
        sa.Column("procedure_id", Id),
        sa.Column("step_key", sa.String(40)),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("type", sa.String(12), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("owner_id", Id, _fk("deadlines", "owner_id", "persons")),
        sa.Column("owner_role", sa.String(40)),
        sa.Column("owner_changes", sa.JSON()),
        sa.Column("basis", sa.String(60), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counting", sa.String(10), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("ladder", sa.JSON(), nullable=False),
        sa.Column("next_level", sa.Integer()),
        sa.Column("next_alert_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_reason", sa.String(80)),
        sa.Column("rules_version", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadlines")),
    )
    op.create_index("ix_deadlines_status_due", "deadlines", ["status", "due_at"])
    op.create_index("ix_deadlines_status_next_alert", "deadlines", ["status", "next_alert_at"])
    op.create_index("ix_deadlines_case_status", "deadlines", ["case_id", "status"])
    op.create_index("ix_deadlines_rule_due", "deadlines", ["rule", "status", "due_on", "start_on"])
    op.create_index("uq_deadlines_open", "deadlines", ["case_id", "rule", "subject"], unique=True,
                    sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
    op.create_table(
        "alerts",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("deadline_id", Id, _fk("alerts", "deadline_id", "deadlines"), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("rung", sa.String(100), nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("deadline_id", "rung", name="uq_alerts_deadline_rung"),
    )
    op.create_index("ix_alerts_created", "alerts", ["created_at"])
    op.create_table(
        "person_channels",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("person_id", Id, _fk("person_channels", "person_id", "persons"), nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("lang", sa.String(5), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_channels")),
    )
    op.create_index("ix_person_channels_person_id", "person_channels", ["person_id"])
    op.create_table(
        "outbox",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("alert_id", Id, _fk("outbox", "alert_id", "alerts")),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("person_id", Id, _fk("outbox", "person_id", "persons"), nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("lang", sa.String(5), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(160), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(120)),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_alert", "outbox", ["alert_id"])
    op.create_table(
        "outbox_attempts",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("outbox_id", Id, _fk("outbox_attempts", "outbox_id", "outbox"), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attempts")),
    )
    op.create_index("ix_outbox_attempts_outbox_id", "outbox_attempts", ["outbox_id"])
    # APScheduler 3's SQLAlchemyJobStore layout (it would create the table itself otherwise).
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), nullable=False),
        sa.Column("next_run_time", sa.Float(25)),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])


def downgrade() -> None:
    op.drop_table("apscheduler_jobs")
    op.drop_table("outbox_attempts")
    op.drop_table("outbox")
    op.drop_table("person_channels")
    op.drop_table("alerts")
    op.drop_table("deadlines")
