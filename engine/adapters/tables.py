"""The database schema (SQLAlchemy Core). Migrations in migrations/ create and upgrade it."""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Index,
                        Integer, MetaData, Numeric, String, Table, Text, UniqueConstraint, false, text)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

Id = BigInteger().with_variant(Integer, "sqlite")  # INTEGER PRIMARY KEY is SQLite's rowid

regions = Table(
    "regions", metadata,
    Column("code", String(12), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("level", String(10), nullable=False),
    Column("parent_code", String(12), index=True),
)

persons = Table(
    "persons", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(200)),          # scrypt; NULL: cannot log in yet
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

role_assignments = Table(
    "role_assignments", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False, index=True),
    Column("role", String(40), nullable=False),
    Column("region_code", ForeignKey("regions.code"), nullable=False),
    Column("granted_by", ForeignKey("persons.id")),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_role_assignments_role_region", "role", "region_code"),
)

cases = Table(
    "cases", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("region_code", ForeignKey("regions.code"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("workflow_version", Integer, nullable=False),
    Column("attrs", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("event_count", Integer, nullable=False, default=0),
    Column("last_event_hash", String(64)),
    # What the case waits for next, kept with every write so "waiting for me" is one query.
    Column("open_procedure_id", Id),
    Column("pending_procedure", String(40)),
    Column("pending_step", String(40)),
    Index("ix_cases_pending", "pending_procedure", "pending_step", "region_code"),
    Index("ix_cases_kind_stage_region", "kind", "stage", "region_code"),
    Index("ix_cases_region", "region_code"),
)

household_members = Table(
    "household_members", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("id_number", String(18), nullable=False),
    Column("relation", String(20), nullable=False),
    Column("labour_ability", String(20), nullable=False),
    Column("health", String(20), nullable=False),
    Column("school_enrolment", String(20), nullable=False),
    Column("insured_basic", Boolean, nullable=False),
    Column("insured_critical", Boolean, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("left_reason", String(200)),
    Column("phone", String(20)),            # contact details: kept for cadres, never shown on a notice
    Column("bank_account", String(40)),
    # A person is a current member of one household only: enforced by the database, so two
    # registrations at the same moment cannot both succeed.
    Index("uq_household_members_active_id", "id_number", unique=True,
          sqlite_where=text("active = 1"), postgresql_where=text("active")),
)

procedures = Table(
    "procedures", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("status", String(12), nullable=False),      # open, completed, rejected
    Column("from_stage", String(20), nullable=False),
    Column("to_stage", String(20)),
    Column("started_by", ForeignKey("persons.id"), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("outcome_reason", Text),
    Column("policy_version", String(40), nullable=False),
    Index("ix_procedures_case_status", "case_id", "status"),
)

steps = Table(
    "steps", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("procedure_id", ForeignKey("procedures.id"), nullable=False, index=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("step_key", String(40), nullable=False),
    Column("step_type", String(20), nullable=False),
    Column("person_id", ForeignKey("persons.id"), nullable=False, index=True),
    Column("role", String(40), nullable=False),
    Column("role_region", String(12), nullable=False),
    Column("decision", String(12), nullable=False),     # done, approved, rejected
    Column("reason", Text),
    Column("effective_date", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("data", JSON, nullable=False),
    Column("evidence_hashes", JSON, nullable=False),
    Column("notice_id", ForeignKey("notices.id")),
    Column("policy_version", String(40), nullable=False),
    Column("voided_at", DateTime(timezone=True)),
    Column("voided_reason", Text),
)

evidence = Table(
    "evidence", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("type", String(40), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("file_sha256", String(64)),
    Column("file_name", String(200)),
    Column("content_hash", String(64), nullable=False),
    Column("attached_by", ForeignKey("persons.id"), nullable=False),
    Column("attached_at", DateTime(timezone=True), nullable=False),
    Column("superseded_by", ForeignKey("evidence.id")),
    Column("supersede_reason", Text),
    Index("ix_evidence_case_type", "case_id", "type"),
)

notices = Table(
    "notices", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("scope", String(10), nullable=False),
    Column("region_code", ForeignKey("regions.code"), nullable=False),
    Column("procedure_kind", String(40), nullable=False),
    Column("step_key", String(40), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("days_required", Integer, nullable=False),
    Column("posted_by", ForeignKey("persons.id"), nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    Column("rendered", Text),                # the text as posted on the board
    Column("working_days", Boolean, nullable=False, server_default=false()),
)

notice_cases = Table(
    "notice_cases", metadata,
    Column("notice_id", ForeignKey("notices.id"), primary_key=True),
    Column("case_id", ForeignKey("cases.id"), primary_key=True, index=True),
    Column("procedure_id", ForeignKey("procedures.id"), nullable=False),
)

objections = Table(
    "objections", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("notice_id", ForeignKey("notices.id"), nullable=False, index=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("objector", String(100), nullable=False),
    Column("content", Text, nullable=False),
    Column("filed_on", Date, nullable=False),
    Column("recorded_by", ForeignKey("persons.id"), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("resolution", String(12)),                # upheld, dismissed
    Column("resolution_reason", Text),
    Column("resolved_by", ForeignKey("persons.id")),
    Column("resolved_at", DateTime(timezone=True)),
)

pairings = Table(
    "pairings", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("kind", String(8), nullable=False),        # first, second
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Column("assigned_by", ForeignKey("persons.id"), nullable=False),
    Index("ix_pairings_person_open", "person_id", "end_date"),
)

measures = Table(
    "measures", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("category", String(20), nullable=False),
    Column("description", Text, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("created_by", ForeignKey("persons.id"), nullable=False),
)

relatives = Table(
    "relatives", metadata,
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
    Column("person_id", ForeignKey("persons.id"), primary_key=True, index=True),
    Column("relation", String(40), nullable=False),
)

monitoring_visits = Table(
    "monitoring_visits", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("visit_date", Date, nullable=False),
    Column("findings", Text, nullable=False),
    Column("risk", Boolean, nullable=False),
)

policy_versions = Table(
    "policy_versions", metadata,
    Column("version", String(40), primary_key=True),
    Column("content", JSON, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

audit_events = Table(
    "audit_events", metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id")),
    Column("case_seq", Integer),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("person_id", ForeignKey("persons.id")),
    Column("person_code", String(40), nullable=False),
    Column("person_name", String(100), nullable=False),
    Column("role", String(40)),
    Column("region_code", String(12)),
    Column("action", String(40), nullable=False),
    Column("from_stage", String(20)),
    Column("to_stage", String(20)),
    Column("procedure_id", Id),
    Column("step_key", String(40)),
    Column("decision", String(12)),
    Column("reason", Text),
    Column("evidence_hashes", JSON, nullable=False),
    Column("policy_version", String(40)),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64)),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("case_id", "case_seq", name="uq_audit_events_case_seq"),
    Index("ix_audit_events_person", "person_id"),
)

# Checkpoints chain every event, in global order, into one hash that can be published (a "head").
audit_checkpoints = Table(
    "audit_checkpoints", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("upto_seq", BigInteger, nullable=False, unique=True),
    Column("events", Integer, nullable=False),
    Column("prev_hash", String(64)),
    Column("hash", String(64), nullable=False),
    Column("sealed_at", DateTime(timezone=True), nullable=False),
    Column("sealed_by", String(40), nullable=False),
)

# --- accountability -----------------------------------------------------------------------------

# Who carries which responsibility for a completed transition (DOMAIN §5), named when it completed:
# a later change of posts does not change who was responsible then.
responsibilities = Table(
    "responsibilities", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("procedure_id", ForeignKey("procedures.id"), nullable=False, index=True),
    Column("procedure_kind", String(40), nullable=False),
    Column("to_stage", String(20)),
    Column("type", String(30), nullable=False),        # main_leadership, important_leadership, subject, direct
    Column("person_id", ForeignKey("persons.id"), nullable=False, index=True),
    Column("person_code", String(40), nullable=False),
    Column("person_name", String(100), nullable=False),
    Column("role", String(40)),
    Column("region_code", String(12)),
    Column("basis", String(60), nullable=False),       # post, pairing:first, step:county_approval, verified:...
    Column("effective_date", Date, nullable=False),    # the date of the step that completed the transition
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Column("policy_version", String(40), nullable=False),
)

# The cases a problem item names; `chain` keeps who was responsible for what the finding is about.
problem_links = Table(
    "problem_links", metadata,
    Column("problem_id", ForeignKey("cases.id"), primary_key=True),
    Column("case_id", ForeignKey("cases.id"), primary_key=True, index=True),
    Column("finding", String(20)),
    Column("chain", JSON, nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
)

discipline_referrals = Table(
    "discipline_referrals", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("problem_id", ForeignKey("cases.id"), nullable=False),
    Column("reason", String(20), nullable=False),      # rejected_twice, overdue
    Column("referred_at", DateTime(timezone=True), nullable=False),
    Column("detail", JSON, nullable=False),
    UniqueConstraint("problem_id", "reason", name="uq_discipline_referrals_problem_reason"),
)

accountability_outcomes = Table(
    "accountability_outcomes", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", ForeignKey("persons.id"), index=True),
    Column("person_name", String(100)),
    Column("organisation", String(200)),
    Column("region_code", String(12), nullable=False),
    Column("outcome", String(30), nullable=False),
    Column("problem_id", ForeignKey("cases.id"), index=True),
    Column("reason", Text, nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("due_on", Date),
    Column("done_on", Date),
    Column("recorded_by", ForeignKey("persons.id"), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# --- deadlines, alerts and notifications (DOMAIN §6) ----------------------------------------------

from sqlalchemy import Float, LargeBinary  # noqa: E402  (this section's own, appended)

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
    Column("type", String(12), nullable=False),      # stage, waiting, procedure, step, measure, monthly
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
    Column("rules_version", String(40), nullable=False),
    Index("ix_deadlines_status_due", "status", "due_at"),
    Index("ix_deadlines_status_next_alert", "status", "next_alert_at"),
    Index("ix_deadlines_case_status", "case_id", "status"),
    Index("ix_deadlines_rule_due", "rule", "status", "due_on", "start_on"),   # reschedule's group UPDATEs
    Index("uq_deadlines_open", "case_id", "rule", "subject", unique=True,
          sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
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
    Column("kind", String(10), nullable=False),      # alert, digest
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("channel", String(12), nullable=False),
    Column("address", String(200), nullable=False),
    Column("lang", String(5), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("dedupe_key", String(160), nullable=False, unique=True),
    Column("status", String(10), nullable=False),    # pending, delivered, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(120)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
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

# --- villages, fund projects (issue 4) -----------------------------------------------------------
# (household_members.phone/bank_account and notices.rendered/working_days are added by migration 0006)

Money = Numeric(14, 2)

village_team = Table(
    "village_team", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("role", String(20), nullable=False),          # first_secretary, leader, member
    Column("unit", String(100), nullable=False),         # the dispatching unit (派出单位)
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),            # end of the term
    Column("left_on", Date),
    Column("assigned_by", ForeignKey("persons.id"), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
)

# One village case per village, held by the database (two registrations at the same moment).
Index("uq_cases_village_region", cases.c.region_code, unique=True,
      sqlite_where=text("kind = 'village'"), postgresql_where=text("kind = 'village'"))

project_funds = Table(
    "project_funds", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("source", String(30), nullable=False),        # central, provincial, city, county, integrated, other
    Column("amount", Money, nullable=False),
    Column("kind", String(12), nullable=False),          # budget (planned) or allocated
    Column("document", String(200)),
    Column("on_date", Date, nullable=False),
    Column("recorded_by", ForeignKey("persons.id"), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("superseded_on", Date),     # a plan change (or a new allocation) replaced it from this date
)

project_beneficiaries = Table(
    "project_beneficiaries", metadata,
    Column("project_id", ForeignKey("cases.id"), primary_key=True),
    Column("case_id", ForeignKey("cases.id"), primary_key=True, index=True),
)

project_milestones = Table(
    "project_milestones", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("done_on", Date),
    Column("recorded_by", ForeignKey("persons.id"), nullable=False),
    UniqueConstraint("case_id", "seq", name="uq_project_milestones_case_seq"),
    Index("ix_project_milestones_due", "done_on", "due_date"),
)

disbursements = Table(
    "disbursements", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("paid_on", Date, nullable=False),
    Column("amount", Money, nullable=False),
    Column("payee_kind", String(20), nullable=False),    # contractor, beneficiary, retention, other
    Column("payee", String(200), nullable=False),
    Column("reference", String(100)),
    Column("recorded_by", ForeignKey("persons.id"), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

project_assets = Table(
    "project_assets", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("asset_class", String(20), nullable=False),   # operating, public_welfare, household
    Column("name", String(200), nullable=False),
    Column("value", Money, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("owner_case_id", ForeignKey("cases.id")),
    Column("handed_over_on", Date, nullable=False),
    Column("recorded_by", ForeignKey("persons.id"), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# The head of the chain of events that belong to no case (people, posts, configuration), kept like
# a case's event_count/last_event_hash: one row, name "organisation".
audit_heads = Table(
    "audit_heads", metadata,
    Column("name", String(20), primary_key=True),
    Column("events", Integer, nullable=False),
    Column("hash", String(64)),
)
