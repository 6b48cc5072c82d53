"""Villages and fund projects: work teams, funds, beneficiaries, milestones, disbursements, assets."""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Table, UniqueConstraint

from engine.adapters.schema_core import Id, cases, metadata, partial

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
Index("uq_cases_village_region", cases.c.region_code, unique=True, **partial("kind = 'village'"))

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
    Column("payee_code", String(18)),     # a contractor's unified social credit code (its contract's), else NULL
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
