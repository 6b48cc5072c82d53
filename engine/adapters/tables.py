"""The database schema (SQLAlchemy Core), gathered from its parts (schema_*.py); migrations/ create and upgrade it.

Every module reads tables as `from engine.adapters import tables as t` and `t.cases`, `t.deadlines`, ...
The tables are built from their definitions once and read back after (engine/adapters/schema_kept.py).
"""
from __future__ import annotations

from sqlalchemy import MetaData, text

from engine.adapters.schema_kept import kept_metadata

metadata = kept_metadata()
_tables = metadata.tables

regions = _tables["regions"]
persons = _tables["persons"]
role_assignments = _tables["role_assignments"]
cases = _tables["cases"]
household_members = _tables["household_members"]
procedures = _tables["procedures"]
steps = _tables["steps"]
evidence = _tables["evidence"]
notices = _tables["notices"]
notice_cases = _tables["notice_cases"]
objections = _tables["objections"]
pairings = _tables["pairings"]
measures = _tables["measures"]
relatives = _tables["relatives"]
monitoring_visits = _tables["monitoring_visits"]
policy_versions = _tables["policy_versions"]
audit_events = _tables["audit_events"]
audit_checkpoints = _tables["audit_checkpoints"]
audit_heads = _tables["audit_heads"]
record_keys = _tables["record_keys"]
responsibilities = _tables["responsibilities"]
problem_links = _tables["problem_links"]
discipline_referrals = _tables["discipline_referrals"]
accountability_outcomes = _tables["accountability_outcomes"]
deadlines = _tables["deadlines"]
alerts = _tables["alerts"]
person_channels = _tables["person_channels"]
outbox = _tables["outbox"]
outbox_attempts = _tables["outbox_attempts"]
apscheduler_jobs = _tables["apscheduler_jobs"]
village_team = _tables["village_team"]
project_funds = _tables["project_funds"]
project_beneficiaries = _tables["project_beneficiaries"]
project_milestones = _tables["project_milestones"]
disbursements = _tables["disbursements"]
project_assets = _tables["project_assets"]
passwords = _tables["passwords"]
enrolment_codes = _tables["enrolment_codes"]
web_sessions = _tables["web_sessions"]
sign_in_failures = _tables["sign_in_failures"]
request_keys = _tables["request_keys"]
scheduler_leases = _tables["scheduler_leases"]
role_proposals = _tables["role_proposals"]
sample_draws = _tables["sample_draws"]
sample_findings = _tables["sample_findings"]


def visit_in_force(visits=monitoring_visits):
    """A visit in force: neither corrected nor withdrawn (no `supersede_reason`), as a clause on `visits`
    (the table, or an alias of it). The one test every read and rule of visits uses (a row's `in_force`:
    this clause selected with it)."""
    return visits.c.supersede_reason.is_(None)


def postgresql_predicates(metadata: MetaData) -> None:
    """Give each partial index its PostgreSQL predicate (see schema_core.partial): done when a
    PostgreSQL database is opened, so the metadata is whole wherever it may be compared with a database."""
    for table in metadata.tables.values():
        for index in table.indexes:
            where = index.info.get("postgresql_where")
            if where is not None and index.dialect_options["postgresql"]["where"] is None:
                index.dialect_options["postgresql"]["where"] = text(where)
