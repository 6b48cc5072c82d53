"""Deadlines, alerts and notifications (DOMAIN §6)."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer, JSON, LargeBinary, String, Table, Text, UniqueConstraint

from engine.adapters.schema_core import Id, cases, metadata, partial

# --- deadlines, alerts and notifications (DOMAIN §6) ----------------------------------------------


# One row per piece of work that has a due date, written in the transaction of the step (or stage)
# that creates it and closed in the transaction of the work that ends it. `ladder` keeps the
# escalation ladder in force with the time of each level; `next_level`/`next_alert_at` say which
# level the sweep alerts next, so the sweep is one indexed range scan.
deadlines = Table(
    "deadlines", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("procedure_id", Id),                      # the procedure it belongs to, if any
    Column("step_key", String(40)),                  # the step awaited, if any
    Column("subject", String(100), nullable=False, default=""),   # e.g. a milestone's name
    Column("rule", String(40), nullable=False),
    Column("type", String(12), nullable=False),      # stage, waiting, procedure, step, measure, monthly, outcome
    Column("region_code", String(12), nullable=False),
    Column("owner_id", ForeignKey("persons.id")),
    Column("owner_role", String(40)),
    Column("owner_changes", JSON),                   # [{at, from, to, role, reason}]: owner re-found at alert time
    Column("basis", String(60), nullable=False),     # where the days came from: param:…, level:…, date, field
    Column("start_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),   # end of due_on, office time
    Column("counting", String(10), nullable=False),  # calendar | working
    Column("provisional", Boolean, nullable=False, default=False),
    Column("ladder", JSON, nullable=False),
    Column("next_level", Integer),
    Column("next_alert_at", DateTime(timezone=True)),
    Column("status", String(10), nullable=False),    # open, done, cancelled
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_reason", String(80)),
    # closed by a step entered after the fact (more than the inspection's late_entry_days after the date it
    # bears: a paper file entered afterwards): that date, by which it is judged met on time or late (0039)
    Column("met_on", Date),
    # started, past due already, by a step entered after the fact: the day it is alerted as if due on (0039)
    Column("alerts_from", Date),
    Column("rules_version", String(40), nullable=False),
    Index("ix_deadlines_status_due", "status", "due_at"),
    Index("ix_deadlines_status_next_alert", "status", "next_alert_at"),
    Index("ix_deadlines_case_status", "case_id", "status"),
    Index("ix_deadlines_region", "region_code"),
    Index("ix_deadlines_owner_status", "owner_id", "status"),   # a leaver's open deadlines, handed over at once
    Index("ix_deadlines_rule_due", "rule", "status", "due_on", "start_on"),   # reschedule's group UPDATEs
    Index("uq_deadlines_open", "case_id", "rule", "subject", unique=True, **partial("status = 'open'")),
)

# One alert per (deadline, ladder level), ever: what makes sweeps idempotent. A level is known by
# its `rung` key (who it goes to), not its position, so a ladder changed later alerts no level twice.
alerts = Table(
    "alerts", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("deadline_id", ForeignKey("deadlines.id"), nullable=False),
    Column("level", Integer, nullable=False),        # -1 due-soon reminder, 0 owner, 1.. escalation
    Column("rung", String(100), nullable=False),     # the level's key: reminder, owner, township_head+…
    Column("case_id", Id, nullable=False),
    Column("rule", String(40), nullable=False),
    Column("region_code", String(12), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("provisional", Boolean, nullable=False, default=False),
    Column("recipients", JSON, nullable=False),      # [[person id, code, name], ...]
    Column("detail", JSON, nullable=False),
    UniqueConstraint("deadline_id", "rung", name="uq_alerts_deadline_rung"),
    Index("ix_alerts_created", "created_at"),
    Index("ix_alerts_region", "region_code"),
)

# How each person is reached. No secret is stored: a robot is named here, its webhook URL (and
# DingTalk signing secret) comes from the environment; SMTP credentials likewise.
person_channels = Table(
    "person_channels", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False, index=True),
    Column("channel", String(12), nullable=False),   # email, wecom, dingtalk, file, console
    Column("address", String(200), nullable=False),
    Column("lang", String(5), nullable=False, default="zh"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Messages to deliver, written in the transaction of their cause; `dedupe_key` is unique.
outbox = Table(
    "outbox", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("alert_id", ForeignKey("alerts.id")),     # NULL for a digest
    Column("kind", String(10), nullable=False),      # alert, alerts (a summary of alerts), digest, press…
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("channel", String(12), nullable=False),
    Column("address", String(200), nullable=False),
    Column("lang", String(5), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("dedupe_key", String(160), nullable=False, unique=True),
    Column("status", String(10), nullable=False),    # pending, delivered, failed, not_needed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(120)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
    # an alert's message sent inside one summary message (a sweep's many alerts to one person, 0036)
    Column("folded_into", Id),
    Column("deadline_id", Id),                        # what an alert or a press is about (dropped once closed)
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
    Index("ix_outbox_folded_into", "folded_into"),
    Index("ix_outbox_alert", "alert_id"),
)

outbox_attempts = Table(
    "outbox_attempts", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("outbox_id", ForeignKey("outbox.id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(120), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("outcome", String(12), nullable=False),   # delivered, retry, failed, interrupted
    Column("error", Text),
)

# APScheduler 3's job store (its own layout), created here so the schema stays under Alembic.
apscheduler_jobs = Table(
    "apscheduler_jobs", metadata,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
