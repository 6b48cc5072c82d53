"""audit case-action index: a case's events of one action, and a step's own event, found by index

The inspection flags (engine/reads/inspection) look up, for every signing or decision step of the
region, the audit event of that step (case, action "step", procedure, step key) and, for some kinds,
the case's events of a few actions (member_added, evidence_replaced, ...). The only index by case
was the unique (case_id, case_seq), so each lookup read every event of the case, rows wide with
their detail and hashes: on the demo county (2,000 households, 54,000 events) the flags page spent
most of its 5-15 s there. This index narrows each lookup to the one or few events wanted.

Revision ID: 0022
Revises: 0021
"""
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_events_case_action", "audit_events", ["case_id", "action", "procedure_id", "step_key"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_case_action", table_name="audit_events")
