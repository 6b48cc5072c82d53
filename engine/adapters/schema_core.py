"""The core of the database schema: regions, people, cases, procedures, steps, evidence, notices, audit."""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, DateTime, Float, ForeignKey, Index,
                        Integer, LargeBinary, MetaData, Numeric, String, Table, Text, UniqueConstraint, false, text)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

Id = BigInteger().with_variant(Integer, "sqlite")  # INTEGER PRIMARY KEY is SQLite's rowid


def partial(where: str, postgresql: str | None = None) -> dict:
    """A partial index's predicate: SQLite's, and PostgreSQL's (`postgresql`, if it is written
    otherwise) kept in the index's `info` until `tables.postgresql_predicates` sets it. Naming it as
    `postgresql_where` here would load SQLAlchemy's PostgreSQL dialect into every command on SQLite
    (a twentieth of a direct CLI command's start-up). The migrations create both."""
    return {"sqlite_where": text(where), "info": {"postgresql_where": postgresql or where}}


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
    Column("token_hash", String(200)),          # SHA-256 (scrypt if issued before); NULL: cannot log in yet
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The unit the person works for (工作单位); a unit head's is the unit he heads, the one a fund
    # project naming him as its responsible unit's head must name (0040). NULL: not on record.
    Column("unit", String(100)),
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
    # The organisation event that granted it (person_added or role_granted): a row without a sound
    # event behind it grants nothing (engine.services.org.load_actor).
    Column("event_seq", BigInteger),
    Column("event_hash", String(64)),
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
    # The code another system knows the case by (a household's 户编号 in the national registry).
    Column("external_code", String(40)),
    # A household's monitoring type while it is monitored (防返贫监测), and its transition period's last
    # day (过渡期), kept from its attributes (engine/domain/monitoring.py) for the lists and figures.
    Column("monitoring", String(20)),
    Column("transition_until", Date),
    Index("ix_cases_pending", "pending_procedure", "pending_step", "region_code"),
    Index("ix_cases_kind_stage_region", "kind", "stage", "region_code"),
    Index("ix_cases_region", "region_code"),
    Index("ix_cases_kind_region", "kind", "region_code"),     # projects of a region (the funds report)
    Index("uq_cases_kind_external_code", "kind", "external_code", unique=True),
    Index("ix_cases_monitoring", "monitoring", "region_code", **partial("monitoring IS NOT NULL")),
    Index("ix_cases_transition_until", "transition_until", "region_code", **partial("transition_until IS NOT NULL")),
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
    Column("school_enrolment", String(20)),   # NULL: not recorded (the exit standard asks for it)
    Column("insured_basic", Boolean),       # NULL: not yet recorded (the exit standard asks for it)
    Column("insured_critical", Boolean),
    Column("active", Boolean, nullable=False, default=True),
    Column("left_reason", String(200)),
    Column("phone", String(20)),            # contact details: kept for cadres, never shown on a notice
    Column("bank_account", String(40)),
    # Why the ID number is for the cadre to check against the card (workflows/household_codes.py:
    # county_code_to_confirm, "later" or "abolished"); NULL: nothing to check, or checked.
    Column("id_check", String(12)),
    # A person is a current member of one household only: enforced by the database, so two
    # registrations at the same moment cannot both succeed.
    Index("uq_household_members_active_id", "id_number", unique=True, **partial("active = 1", "active")),
    # the few numbers awaiting a check: a cadre's count and list of households holding one
    Index("ix_household_members_id_check", "case_id", **partial("id_check IS NOT NULL")),
    Index("ix_household_members_name", "name"),      # a household found by a member's name (case find)
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
    Column("person_id", ForeignKey("persons.id"), nullable=False),
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
    Index("ix_steps_step_type", "step_type"),     # the inspection's flags read the steps of a type
    Index("ix_steps_person", "person_id", "id"),  # a person's steps, a page at a time newest first
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
    Column("resolved_on", Date),                     # the ruling's effective day (NULL before 0033: resolved_at's)
    Column("resolution_verifiers", JSON),            # person codes who verified it on the spot
    Column("resolution_evidence_id", ForeignKey("evidence.id")),     # the checks behind it, as a file (0034)
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
    # The procedure whose plan step proposed it (NULL: recorded before 0018, in force). It comes into
    # force when that procedure completes and stays until a later plan is adopted (`end_date`).
    Column("procedure_id", ForeignKey("procedures.id")),
    Column("end_date", Date),
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
    Column("measure_id", ForeignKey("measures.id")),     # the measure of the plan it concerns (optional)
    Column("result", Text),                              # what was done and what it brought
    # a mistaken visit is kept: corrected by a new one (superseded_by, with the reason) or withdrawn
    # (the reason alone, superseded_by NULL); in force: neither
    Column("superseded_by", ForeignKey("monitoring_visits.id")),
    Column("supersede_reason", Text),
    Index("ix_monitoring_visits_case_date", "case_id", "visit_date"),     # a household's last visit (0038)
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
    # HMAC-SHA256 of `hash` by the record's MAC key (kept outside the database), and which key.
    Column("key_id", String(16)),
    Column("mac", String(64)),
    UniqueConstraint("case_id", "case_seq", name="uq_audit_events_case_seq"),
    Index("ix_audit_events_person", "person_id"),
    # Organisation events (no case) of one kind in some regions: a deadline's presses (督办).
    Index("ix_audit_events_org_action", "action", "region_code", **partial("case_id IS NULL")),
    # A case's events of one action, and a step's own event (action "step", its procedure and key):
    # the inspection flags look them up for every step they read (engine/reads/inspection).
    Index("ix_audit_events_case_action", "case_id", "action", "procedure_id", "step_key"),
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
    # Ed25519 signature of the head (see engine.reads.audit_verify.head_message) by the record's key.
    Column("key_id", String(16)),
    Column("signature", String(128)),
)

# The record's public keys, each recorded by an organisation event when it was made (its secret
# halves are in the key file, never here).
record_keys = Table(
    "record_keys", metadata,
    Column("key_id", String(16), primary_key=True),
    Column("public_key", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("event_seq", BigInteger, nullable=False),
)


# The head of the chain of events that belong to no case (people, posts, configuration), kept like
# a case's event_count/last_event_hash: one row, name "organisation".
audit_heads = Table(
    "audit_heads", metadata,
    Column("name", String(20), primary_key=True),
    Column("events", Integer, nullable=False),
    Column("hash", String(64)),
)
