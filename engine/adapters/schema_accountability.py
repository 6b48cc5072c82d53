"""Accountability tables (DOMAIN §5, §9): responsibilities, problem links, referrals, outcomes."""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, JSON, String, Table, Text, UniqueConstraint

from engine.adapters.schema_core import Id, metadata, cases

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
    Column("person_id", ForeignKey("persons.id"), nullable=False),
    Column("person_code", String(40), nullable=False),
    Column("person_name", String(100), nullable=False),
    Column("role", String(40)),
    Column("region_code", String(12)),
    Column("basis", String(60), nullable=False),       # post, pairing:first, step:county_approval, verified:...
    Column("effective_date", Date, nullable=False),    # the date of the step that completed the transition
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Column("policy_version", String(40), nullable=False),
    Index("ix_responsibilities_person", "person_id", "id"),   # a person's, a page at a time newest first
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
    Index("ix_accountability_outcomes_region", "region_code"),
)
