"""The database schema (SQLAlchemy Core), gathered from its parts; migrations/ create and upgrade it.

Every module reads tables as `from engine.adapters import tables as t` and `t.cases`, `t.deadlines`, ...
"""

from engine.adapters.schema_core import (  # noqa: F401
    metadata, Id, regions, persons, role_assignments, cases, household_members, procedures, steps, evidence, notices, notice_cases, objections, pairings, measures, relatives, monitoring_visits, policy_versions, audit_events, audit_checkpoints, audit_heads, record_keys)
from engine.adapters.schema_accountability import (  # noqa: F401
    responsibilities, problem_links, discipline_referrals, accountability_outcomes)
from engine.adapters.schema_alerts import (  # noqa: F401
    deadlines, alerts, person_channels, outbox, outbox_attempts, apscheduler_jobs)
from engine.adapters.schema_projects import (  # noqa: F401
    Money, village_team, project_funds, project_beneficiaries, project_milestones, disbursements, project_assets)
from engine.adapters.schema_access import (  # noqa: F401
    passwords, enrolment_codes, web_sessions, sign_in_failures, scheduler_leases, role_proposals)
from engine.adapters.schema_assessment import (  # noqa: F401
    sample_draws, sample_findings)
